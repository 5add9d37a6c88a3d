/**
 * What the main thread's long blocks during bridge.pool are (session 10): runs the bench's op (bench/suites/pool.ts,
 * same sessions, same pools) with a CPU profile of the main thread (node:inspector, fine sampling) and a
 * gap detector — a 1 ms interval timer that notes every turn of the event loop longer than GAP_MS, with the main
 * thread's own CPU time and run-queue wait during it (Linux schedstat) — then prints, for the longest gaps, how
 * much of the gap was work and how much the OS not running the thread, and which functions the profile sampled
 * in it. Wall-clock gaps on a shared machine mix both; the CPU split says which one a block was.
 *
 *   node build/bench/pool-blocks.js [workers=2] [ops=4] [samplingUs=100]
 *
 * Environment as for the bench (OTR_POOL_SESSIONS, OTR_POOL_ADMIT …); OTR_POOL_HEAP_SAMPLING=1 adds a sampling heap
 * profile of the main thread (what it allocates per call, by function); OTR_POOL_WORKER_HEAP=<file prefix> one of
 * each worker's, written to <prefix>-<threadId>.heapprofile (Chrome DevTools' format).
 */
import { readFileSync } from 'node:fs';
import { Session as Inspector } from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';
import { indexProfile, topCounts, type Profile } from './cpu-profile.js';
import { listenForThreads, loaded, op, pick, prepare, workerHeapSampling } from './suites/pool.js';

const WORKERS = Number(process.argv[2] ?? 2);
const OPS = Number(process.argv[3] ?? 4);
const SAMPLING_US = Number(process.argv[4] ?? 100);
const GAP_MS = 3;

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}
const mainTask = `/proc/${process.pid}/task/${process.pid}/schedstat`;
/** [on-CPU ms, run-queue wait ms] of the main thread so far. */
function sched(): [number, number] {
  const [run, wait] = readFileSync(mainTask, 'utf8').split(' ').map(Number);
  return [run! / 1e6, wait! / 1e6];
}
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

interface Gap {
  startUs: number;
  endUs: number;
  cpu: number;
  wait: number;
}

function post<T>(s: Inspector, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => s.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r as T))));
}

async function main(): Promise<void> {
  listenForThreads();
  const backend = await pick();
  const saved = await prepare(backend);
  const p = await loaded(WORKERS, backend, saved);
  // performance.now() (what 'gc' entries are timed in) → the monotonic µs of process.hrtime and the profile.
  const clockOffsetUs = nowUs() - performance.now() * 1000;
  const gcs: [number, number, number][] = [];
  const obs = new PerformanceObserver((l) =>
    l.getEntries().forEach((e) => gcs.push([e.startTime * 1000 + clockOffsetUs, e.duration, (e as { detail?: { kind?: number } }).detail?.kind ?? 0])),
  );
  obs.observe({ entryTypes: ['gc'] });
  // Warm-up: the workers' JIT compiles through the first ops after a load (bench/suites/pool.ts, WARMUP_OPS).
  const warmup = Number(process.env.OTR_POOL_WARMUP ?? 4);
  for (let i = 0; i < warmup; i++) await op(p.pool, p.sessions, i);
  // Results answered per turn of the event loop (the slots' onResult: batches arriving, counted until the next
  // check phase) and the wall time from the turn's first arrival to that check phase. Before session 10 every
  // arrival settled at once, so this was the settling and its continuations; with the pool's pacer
  // (result-pacer.ts) batches beyond the turn's budget settle in later turns.
  const perTurn: [number, number][] = [];
  let turn: [number, number] | undefined;
  // (Session 12: onResult takes the worker's whole answer; its `results` has one entry per call, packed or not.)
  const slotProto = Object.getPrototypeOf((p.pool as unknown as { slots: object[] }).slots[0]!) as { onResult(m: { results: unknown[] }): void };
  const onResult = slotProto.onResult;
  slotProto.onResult = function (this: unknown, m: { results: unknown[] }) {
    if (!turn) {
      const t: [number, number] = (turn = [0, performance.now()]);
      setImmediate(() => {
        perTurn.push([t[0], performance.now() - t[1]]);
        turn = undefined;
      });
    }
    turn[0] += m.results.length;
    onResult.call(this, m);
  };
  const ins = new Inspector();
  ins.connect();
  if (SAMPLING_US > 0) {
    await post(ins, 'Profiler.enable');
    await post(ins, 'Profiler.setSamplingInterval', { interval: SAMPLING_US });
    await post(ins, 'Profiler.start');
  }
  const cpuPerTick: number[] = [];
  // OTR_POOL_HEAP_SAMPLING=1: a sampling heap profile of the main thread over the ops (what it allocates, by
  // function), printed instead of the CPU profile's functions.
  const heapSampling = process.env.OTR_POOL_HEAP_SAMPLING === '1';
  if (heapSampling) {
    await post(ins, 'HeapProfiler.enable');
    await post(ins, 'HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  const gaps: Gap[] = [];
  let last = nowUs();
  let lastSched = sched();
  const timer = setInterval(() => {
    const t = nowUs();
    const s = sched();
    cpuPerTick.push(s[0] - lastSched[0]);
    if (t - last > GAP_MS * 1000 || s[0] - lastSched[0] > 1.5) gaps.push({ startUs: last, endUs: t, cpu: s[0] - lastSched[0], wait: s[1] - lastSched[1] });
    last = t;
    lastSched = s;
  }, 1);
  if (process.env.OTR_POOL_WORKER_HEAP) workerHeapSampling('start');
  const c0 = sched();
  const t0 = performance.now();
  const opTimes: [number, number][] = [];
  for (let k = 1; k <= OPS; k++) {
    const a = nowUs();
    await op(p.pool, p.sessions, warmup + k);
    opTimes.push([a, nowUs()]);
  }
  const wall = performance.now() - t0;
  const c1 = sched();
  if (process.env.OTR_POOL_WORKER_HEAP) {
    workerHeapSampling('stop', process.env.OTR_POOL_WORKER_HEAP);
    await new Promise((r) => setTimeout(r, 1000)); // the workers write their profiles
  }
  clearInterval(timer);
  const { profile } =
    SAMPLING_US > 0 ? await post<{ profile: Profile }>(ins, 'Profiler.stop') : { profile: { nodes: [], startTime: 0, endTime: 0, samples: [], timeDeltas: [] } as Profile };
  if (heapSampling) {
    const { profile: hp } = await post<{ profile: { head: HeapNode } }>(ins, 'HeapProfiler.stopSampling');
    const self = new Map<string, number>();
    const walk = (n: HeapNode, path: string[]) => {
      const f = n.callFrame;
      const here = `${f.functionName || '(anon)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
      const p2 = [...path, here];
      if (n.selfSize > 0) {
        const key = p2.slice(-3).join(' < ');
        self.set(key, (self.get(key) ?? 0) + n.selfSize);
      }
      for (const c of n.children) walk(c, p2);
    };
    walk(hp.head, []);
    const total = [...self.values()].reduce((x, y) => x + y, 0);
    console.log(`main-thread allocation sampled over ${OPS} ops: ${(total / 1e6).toFixed(1)} MB (${((total / OPS / (p.sessions.length * 2.28)) | 0)} B per call)`);
    for (const [k, v] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 30)) console.log(`  ${(v / 1e6 / OPS).toFixed(2)} MB/op  ${k}`);
  }
  ins.disconnect();
  await new Promise((r) => setTimeout(r, 10));
  obs.disconnect();
  await p.pool.close();

  const { times, tally } = indexProfile(profile);
  /** Self and inclusive sample counts of the samples in [from, to]. */
  const window = (from: number, to: number) => {
    const self = new Map<string, number>();
    const incl = new Map<string, number>();
    let n = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      if (times[i]! < from || times[i]! > to) continue;
      n++;
      tally(i, self, incl);
    }
    return { n, self: topCounts(self, 12), incl: topCounts(incl, 25) };
  };
  const sessions = p.sessions.length;
  const q = (xs: number[], f: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(f * xs.length))]!;
  const counts = perTurn.map(([n]) => n);
  const walls = perTurn.map(([, w]) => w);
  console.log(`turns in which results arrived: ${perTurn.length}; results per turn p50 ${q(counts, 0.5)} p99 ${q(counts, 0.99)} max ${q(counts, 1)}; wall of those turns p50 ${q(walls, 0.5).toFixed(2)} p99 ${q(walls, 0.99).toFixed(2)} max ${q(walls, 1).toFixed(2)} ms`);
  console.log(`longest: ${[...perTurn].sort((x, y) => y[1] - x[1]).slice(0, 8).map(([n, w]) => `${w.toFixed(2)}ms/${n}`).join(' ')}`);
  console.log(`workers ${WORKERS}, ${OPS} ops of ${sessions} sessions: wall ${wall.toFixed(0)} ms, main CPU ${(c1[0] - c0[0]).toFixed(1)} ms (${((c1[0] - c0[0]) / OPS).toFixed(1)}/op), main wait ${(c1[1] - c0[1]).toFixed(1)} ms`);
  const sorted = [...cpuPerTick].sort((x, y) => x - y);
  const pc = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
  console.log(`main CPU per timer interval (the longest turn is at most this): p50 ${pc(0.5)} p99 ${pc(0.99)} p99.9 ${pc(0.999)} max ${pc(1)} ms; intervals ${sorted.length}`);
  console.log(`gaps > ${GAP_MS} ms: ${gaps.length}; samples ${profile.samples.length}`);
  const byWall = [...gaps].sort((x, y) => y.endUs - y.startUs - (x.endUs - x.startUs)).slice(0, 4);
  const byCpu = [...gaps].sort((x, y) => y.cpu - x.cpu).slice(0, 8);
  const worst = [...new Set([...byWall, ...byCpu])];
  for (const g of worst) {
    const opIdx = opTimes.findIndex(([a, b]) => g.startUs >= a && g.startUs <= b);
    const into = opIdx >= 0 ? ((g.startUs - opTimes[opIdx]![0]) / 1000).toFixed(0) : '?';
    const inGap = gcs.filter(([s]) => s >= g.startUs - 1000 && s <= g.endUs);
    console.log(`\n=== gap ${((g.endUs - g.startUs) / 1000).toFixed(2)} ms (op ${opIdx + 1}, +${into} ms): main CPU ${g.cpu.toFixed(2)} ms, wait ${g.wait.toFixed(2)} ms; GC in it: ${inGap.map(([, d, k]) => `${d.toFixed(2)}ms(kind ${k})`).join(' ') || 'none'}`);
    const w = window(g.startUs, g.endUs);
    console.log(`  samples ${w.n}; self:\n    ${w.self.join('\n    ')}\n  inclusive:\n    ${w.incl.join('\n    ')}`);
  }
  const all = window(-Infinity, Infinity);
  console.log(`\n=== whole run, samples ${all.n}; self:\n    ${all.self.join('\n    ')}\n  inclusive:\n    ${all.incl.join('\n    ')}`);
}

void main();
