/**
 * bridge.pool.1 / bridge.pool.2 — a bridge's mixed workload through otr4/pool on one and on two workers.
 *
 * One op is the same fixed batch of work over N established sessions (N = 1,000; 100 with --quick; the
 * environment variable OTR_POOL_SESSIONS overrides), every session driven at once, as a bridge would:
 *   - every session: Alice sends one message, Bob receives it (the per-message path, same chain);
 *   - every 10th session: Bob answers and Alice receives (a change of direction: ECDH ratchet steps, a
 *     3072-bit DH step every third);
 *   - every 50th session (a different 2% each op): a new interactive DAKE first (startDake, Identity, Auth-R,
 *     Auth-I: the ~40 ms of both sides' DAKE work).
 * Both sides of every session live in the pool (2N accounts, placed by the pool), so messages cross workers.
 * Checkpoints are on ('every-call', the default): each call also serializes its account, as a bridge that
 * persists before transmitting must.
 *
 * Measurement. Sessions are set up once (a two-worker pool makes the accounts and runs the first DAKEs), then
 * two pools — one worker and two — load the same account bytes, and their ops are timed interleaved
 * (1,2,2,1,1,2…) so drift on a shared machine hits both alike; the ratio pool.1 / pool.2 is the speed-up.
 * Main-thread blocking while the pools work is measured two ways: perf_hooks.monitorEventLoopDelay (1 ms
 * resolution; its maximum minus the resolution bounds the longest stretch the event loop was blocked) and
 * the pool's own stats().maxSyncMs (the longest synchronous pool call: routing, batching, results). Both are
 * in `extra`, with the 1-minute load average before the run (`uptime`: this machine is shared).
 *
 * Impl: 'hybrid' when that backend exists in this build (the OpenSSL-assisted one of issue 14), else 'wasm'.
 * Knobs for reruns: OTR_POOL_SESSIONS (N), OTR_POOL_IN_FLIGHT and OTR_POOL_BATCH (the pool's maxInFlight and
 * maxBatchCalls; defaults otherwise).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance as perf } from 'node:perf_hooks';
import type { BenchCase, BenchContext, Impl } from '../harness.js';
import type { Outcome } from '../../ts/index.js';
import type { BackendName } from '../../ts/backend/types.js';
import { loadBackend } from '../../ts/backend/select.js';
import { OtrPool, type PoolConversation } from '../../ts/pool/index.js';

const QUICK = process.argv.includes('--quick');
const SESSIONS = Number(process.env.OTR_POOL_SESSIONS ?? (QUICK ? 100 : 1000));
const ROUNDS = QUICK ? 3 : 5;
const REPLY_EVERY = 10;
const DAKE_EVERY = 50;
/** The bench issues every session's calls at once (thousands queued): calls may wait long before they run. */
const FLOOD_TIMEOUT_MS = 600_000;
const FAN_OUT = 50;
/** Pool tuning under test (OTR_POOL_IN_FLIGHT, OTR_POOL_BATCH); the pool's defaults otherwise. */
const TUNING = {
  ...(process.env.OTR_POOL_IN_FLIGHT ? { maxInFlight: Number(process.env.OTR_POOL_IN_FLIGHT) } : {}),
  ...(process.env.OTR_POOL_BATCH ? { maxBatchCalls: Number(process.env.OTR_POOL_BATCH) } : {}),
};
const TEXT = 'a bridged message of about the length people type, with a little more to make it realistic.';

interface Session {
  a: PoolConversation;
  b: PoolConversation;
}

async function pump(from: PoolConversation, to: PoolConversation, out: Outcome): Promise<number> {
  let read = 0;
  let queue = out.toSend.map((t) => [to, t] as const);
  while (queue.length) {
    const next: (readonly [PoolConversation, string])[] = [];
    for (const [dst, text] of queue) {
      const r = await dst.receive(text);
      read += r.messages.length;
      for (const t of r.toSend) next.push([dst === to ? from : to, t]);
    }
    queue = next;
  }
  return read;
}

/** One op: the fixed batch described above. `k` rotates which sessions redo their DAKE. */
async function op(sessions: readonly Session[], k: number): Promise<void> {
  const one = async (s: Session, i: number) => {
    let read = 0;
    if ((i + k) % DAKE_EVERY === 0) {
      await pump(s.a, s.b, await s.a.startDake());
    }
    read += await pump(s.a, s.b, await s.a.send(TEXT));
    if (i % REPLY_EVERY === 0) read += await pump(s.b, s.a, await s.b.send(TEXT));
    return read;
  };
  // Sessions start in groups of FAN_OUT with a turn of the event loop between groups, as traffic from sockets
  // arrives in separate events: one loop starting all 1,000 at once would itself block the main thread for
  // milliseconds and be measured as the pool's blocking.
  // The sessions that redo their DAKE (six round trips in a row) start first, the longest jobs of a fixed batch
  // first: started last, they would wait behind the whole batch at every round trip and finish alone, one
  // worker at a time, measuring the batch's tail rather than the pool's throughput.
  const order = sessions.map((_, i) => i).sort((x, y) => Number((y + k) % DAKE_EVERY === 0) - Number((x + k) % DAKE_EVERY === 0));
  const tasks: Promise<number>[] = [];
  for (let n = 0; n < order.length; n++) {
    if (n > 0 && n % FAN_OUT === 0) await new Promise((r) => setImmediate(r));
    const i = order[n]!;
    tasks.push(one(sessions[i]!, i));
  }
  const reads = await Promise.all(tasks);
  const total = reads.reduce((x, y) => x + y, 0);
  const want = sessions.length + Math.ceil(sessions.length / REPLY_EVERY);
  if (total !== want) throw new Error(`bridge.pool: ${total} messages read, ${want} expected`);
}

const idA = (i: number) => `alice${i}@bridge.example`;
const idB = (i: number) => `bob${i}@bridge.example`;

/** Makes 2N accounts and N encrypted sessions once; returns every account's bytes. */
async function prepare(backend: BackendName): Promise<Map<string, Uint8Array>> {
  const pool = await OtrPool.start({ workers: 2, backend, callTimeoutMs: FLOOD_TIMEOUT_MS });
  try {
    const ids = Array.from({ length: SESSIONS }, (_, i) => [idA(i), idB(i)]).flat();
    await Promise.all(ids.map((id) => pool.createAccount({ accountId: id, dsaKey: null })));
    await Promise.all(
      Array.from({ length: SESSIONS }, async (_, i) => {
        const a = pool.conversation(idA(i), idB(i));
        await pump(a, pool.conversation(idB(i), idA(i)), await a.start());
      }),
    );
    const out = new Map<string, Uint8Array>();
    for (const id of ids) out.set(id, pool.lastCheckpoint(id)!);
    return out;
  } finally {
    await pool.close();
  }
}

async function loaded(workers: number, backend: BackendName, bytes: Map<string, Uint8Array>): Promise<{ pool: OtrPool; sessions: Session[] }> {
  const pool = await OtrPool.start({ workers, backend, callTimeoutMs: FLOOD_TIMEOUT_MS, ...TUNING });
  await Promise.all([...bytes].map(([id, b]) => pool.loadAccount(id, b)));
  const sessions = Array.from({ length: SESSIONS }, (_, i) => ({ a: pool.conversation(idA(i), idB(i)), b: pool.conversation(idB(i), idA(i)) }));
  return { pool, sessions };
}

interface Measured {
  usPerOp: number;
  rme: number;
  samples: number;
  extra: Record<string, number>;
}

function summarize(times: number[], extra: Record<string, number>): Measured {
  const mean = times.reduce((x, y) => x + y, 0) / times.length;
  const sd = Math.sqrt(times.reduce((x, y) => x + (y - mean) ** 2, 0) / Math.max(1, times.length - 1));
  return { usPerOp: mean * 1000, rme: ((1.96 * sd) / Math.sqrt(times.length) / mean) * 100, samples: times.length, extra };
}

let comparison: Promise<{ one: Measured; two: Measured }> | undefined;

/** Both pools, measured interleaved in one run (memoized: the two cases share it). */
function compare(backend: BackendName): Promise<{ one: Measured; two: Measured }> {
  comparison ??= (async () => {
    const load1 = loadavg()[0]!;
    const bytes = await prepare(backend);
    const p1 = await loaded(1, backend, bytes);
    const p2 = await loaded(2, backend, bytes);
    try {
      let k = 0;
      // Warm-up: one op each (JIT in the workers), not counted.
      await op(p1.sessions, k);
      await op(p2.sessions, k++);
      const times: Record<1 | 2, number[]> = { 1: [], 2: [] };
      const zero = () => ({ eldMax: 0, eldP99: 0, sync: 0, syncP99: 0, syncTotal: 0, busy: [] as number[], cpu: 0, mainCpu: 0 });
      const block = { 1: zero(), 2: zero() };
      for (let r = 0; r < ROUNDS; r++, k++) {
        for (const w of r % 2 === 0 ? ([1, 2] as const) : ([2, 1] as const)) {
          const p = w === 1 ? p1 : p2;
          p.pool.resetSyncStats();
          const h = monitorEventLoopDelay({ resolution: 1 });
          h.enable();
          const u0 = p.pool.workerUtilization();
          const c0 = process.cpuUsage();
          const m0 = mainThreadCpuMs();
          const t = performance.now();
          await op(p.sessions, k);
          times[w].push(performance.now() - t);
          const c1 = process.cpuUsage(c0);
          block[w].cpu += (c1.user + c1.system) / 1000;
          block[w].mainCpu += mainThreadCpuMs() - m0;
          h.disable();
          p.pool.workerUtilization().forEach((u1, i) => {
            const before = u0[i];
            if (u1 && before) block[w].busy.push(perf.eventLoopUtilization(u1, before).utilization);
          });
          const b = block[w];
          b.eldMax = Math.max(b.eldMax, h.max / 1e6 - 1);
          b.eldP99 = Math.max(b.eldP99, h.percentile(99) / 1e6 - 1);
          const st = p.pool.stats();
          b.sync = Math.max(b.sync, st.maxSyncMs);
          b.syncP99 = Math.max(b.syncP99, st.p99SyncMs);
          b.syncTotal += st.totalSyncMs;
        }
      }
      const calls = (s: number) => s * 2 + Math.ceil(s / REPLY_EVERY) * 2 + Math.ceil(s / DAKE_EVERY) * 4;
      const extra = (w: 1 | 2) => ({
        sessions: SESSIONS,
        callsPerOp: calls(SESSIONS),
        mainMaxBlockMs: round(block[w].eldMax),
        mainP99BlockMs: round(block[w].eldP99),
        poolMaxSyncMs: round(block[w].sync),
        // CPU time per op (all threads of the process; and the main thread alone, Linux /proc, 10 ms ticks):
        // independent of how much CPU a shared machine gave, so comparable across runs. Two workers doing the
        // same work should cost about the same CPU as one; the main thread's share is what competes with them.
        cpuMsPerOp: round(block[w].cpu / ROUNDS),
        mainCpuMsPerOp: round(block[w].mainCpu / ROUNDS),
        // Mean event-loop utilization of the workers during the ops: near 1 = the pool kept them fed, so any
        // shortfall of the speed-up is CPU the machine did not give (shared cores), not the pool waiting.
        workerBusy: round(block[w].busy.reduce((x, y) => x + y, 0) / Math.max(1, block[w].busy.length)),
        poolP99SyncMs: round(block[w].syncP99),
        // The pool's own main-thread cost per call (µs): what a third thread competes with the workers for.
        poolSyncUsPerCall: round((block[w].syncTotal * 1000) / (ROUNDS * calls(SESSIONS))),
        loadAvg1: round(load1),
      });
      const one = summarize(times[1], extra(1));
      const two = summarize(times[2], extra(2));
      two.extra.speedupVsOne = round(one.usPerOp / two.usPerOp);
      return { one, two };
    } finally {
      await p1.pool.close();
      await p2.pool.close();
    }
  })();
  return comparison;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** The main thread's user+system CPU time in ms (Linux: /proc/self/task/<pid>/stat, in clock ticks), or NaN. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 3 (state) is index 0, so utime (14) and stime (15) are indices 11 and 12.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

/** 'hybrid' if this build has that backend (issue 14), else 'wasm'. */
async function pick(): Promise<BackendName> {
  try {
    const b = await loadBackend('hybrid' as BackendName);
    if (b.name === ('hybrid' as BackendName)) return b.name;
  } catch {
    // no hybrid backend here
  }
  return 'wasm';
}

export async function cases(_ctx: BenchContext): Promise<BenchCase[]> {
  const backend = await pick();
  const impl = backend as Impl;
  const idle = () => undefined;
  return [
    { name: 'bridge.pool.1', impl, fn: idle, measure: async () => (await compare(backend)).one },
    { name: 'bridge.pool.2', impl, fn: idle, measure: async () => (await compare(backend)).two },
  ];
}
