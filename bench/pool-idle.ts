/**
 * Why the workers of the two-worker bridge.pool op idle (session 13): `workerIdleMsPerOp` (~40 ms per worker and
 * op in session 12's quiet run) is most of what lies between the measured speed-up and `speedupCeiling`, which
 * assumes no core is ever idle. Runs the bench's op on a two-worker pool (bench/suites/pool.ts: same sessions,
 * four warm-up ops) and, on a 1 ms timer of the main thread, adds each worker's idle time since the last tick
 * (its event-loop utilization, read from this thread) to what the pool held for that worker at the last tick:
 *   - inFlight: batches sent and not yet settled (the worker answered and waits for this thread to read it, or
 *     the batch is on its way);
 *   - queuedOnMain: calls queued on this thread, not sent (the pipeline of maxInFlight batches is full);
 *   - settling: answers being settled (result-pacer.ts);
 *   - starvedBoundFull: nothing for that worker while the host waits in `admit()` — the pool-wide bound
 *     (maxOutstandingCalls) is held by calls for the other worker, so work that could feed this one is not taken in;
 *   - starvedNoWork: nothing for that worker and the host has nothing waiting (dependencies, the op's ends).
 * Sums of both workers, ms per op. The classes come from the main thread's view at its last tick, so a main
 * thread that is not run (a loaded machine: see the timer's own gaps, printed) blurs them.
 *
 *   node build/bench/pool-idle.js [ops=4]
 *
 * Environment as for the bench (OTR_POOL_OUTSTANDING, OTR_POOL_IN_FLIGHT …).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { listenForThreads, loaded, op, pick, prepare } from './suites/pool.js';

const OPS = Number(process.argv[2] ?? 4);
const WARMUP = Number(process.env.OTR_POOL_WARMUP ?? 4);

/** The slot internals read here (ts/pool/slot.ts): what the pool holds for one worker. */
interface SlotView {
  worker: { performance: { eventLoopUtilization(a?: EventLoopUtilization, b?: EventLoopUtilization): EventLoopUtilization } };
  queue: unknown[];
  inFlight: Map<number, unknown>;
  settling: number;
}
type State = 'inFlight' | 'queuedOnMain' | 'settling' | 'starvedBoundFull' | 'starvedNoWork';

async function main(): Promise<void> {
  listenForThreads();
  const backend = await pick();
  const saved = await prepare(backend);
  const p = await loaded(2, backend, saved);
  const internals = p.pool as unknown as { slots: SlotView[]; admitWaiters: unknown[] };
  const slots = internals.slots;
  const state = (s: SlotView): State =>
    s.inFlight.size > 0 ? 'inFlight' : s.queue.length > 0 ? 'queuedOnMain' : s.settling > 0 ? 'settling' : internals.admitWaiters.length > 0 ? 'starvedBoundFull' : 'starvedNoWork';
  let k = 0;
  for (; k < WARMUP; k++) await op(p.pool, p.sessions, k);
  for (let r = 0; r < OPS; r++, k++) {
    const idle: Record<State, number> = { inFlight: 0, queuedOnMain: 0, settling: 0, starvedBoundFull: 0, starvedNoWork: 0 };
    const last = slots.map((s) => s.worker.performance.eventLoopUtilization());
    const held = slots.map(state);
    let lastTick = performance.now();
    let longestTick = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longestTick = Math.max(longestTick, now - lastTick);
      lastTick = now;
      slots.forEach((s, i) => {
        const u = s.worker.performance.eventLoopUtilization();
        idle[held[i]!] += s.worker.performance.eventLoopUtilization(u, last[i]).idle;
        last[i] = u;
        held[i] = state(s);
      });
    }, 1);
    const t = performance.now();
    await op(p.pool, p.sessions, k);
    const wall = performance.now() - t;
    clearInterval(timer);
    const f = Object.entries(idle).map(([name, ms]) => `${name} ${ms.toFixed(1)}`);
    console.log(`op ${wall.toFixed(0)} ms; workers' idle (ms, both): ${f.join(', ')}; longest timer interval ${longestTick.toFixed(1)} ms`);
  }
  await p.pool.close();
}

void main();
