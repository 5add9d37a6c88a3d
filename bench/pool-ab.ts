/**
 * bridge.pool A/B of two builds in one process (session 10): the same sessions (made once, by build B) loaded
 * into a one- and a two-worker pool of each build, their ops interleaved (the order rotates every round), and
 * per op the figures that do not depend on what the shared machine gave: each thread's CPU time (schedstat),
 * the main thread's garbage-collection pauses (PerformanceObserver 'gc': their sum and longest), and beside them
 * the wall-clock figures (op time, the event loop's longest delay) for what they are worth on a loaded machine.
 *
 *   node build/bench/pool-ab.js <build dir A> <build dir B> [rounds=6]
 *
 * (a build dir holds build/bench/suites/pool.js). Prints per build and pool: min and median over the rounds.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay, performance as perf, PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';

type PoolModule = typeof import('./suites/pool.js');
const [dirA, dirB] = [process.argv[2], process.argv[3]].map((d) => resolve(d ?? '.'));
const ROUNDS = Number(process.argv[4] ?? 6);

const gcs: [number, number, number][] = [];
new PerformanceObserver((l) =>
  l.getEntries().forEach((e) => gcs.push([e.startTime, e.duration, (e as { detail?: { kind?: number } }).detail?.kind ?? 0])),
).observe({ entryTypes: ['gc'] });

function processCpu(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}
function mainSched(): [number, number] {
  const [run, wait] = readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
  return [run! / 1e6, wait! / 1e6];
}

interface Row {
  wall: number;
  mainCpu: number;
  mainWait: number;
  workerCpu: number;
  workerMax: number;
  otherCpu: number;
  gcSum: number;
  gcMax: number;
  majors: number;
  eldMax: number;
  eldP99: number;
  /** Both workers' idle time (1 − event-loop utilization, summed; session 13). */
  workerIdle: number;
}

async function main(): Promise<void> {
  const mods: Record<'A' | 'B', PoolModule> = {
    A: (await import(pathToFileURL(join(dirA!, 'build/bench/suites/pool.js')).href)) as PoolModule,
    B: (await import(pathToFileURL(join(dirB!, 'build/bench/suites/pool.js')).href)) as PoolModule,
  };
  mods.A.listenForThreads();
  mods.B.listenForThreads();
  const backend = await mods.B.pick();
  const saved = await mods.B.prepare(backend);
  const names = ['A1', 'A2', 'B1', 'B2'] as const;
  type Name = (typeof names)[number];
  const pools = {} as Record<Name, Awaited<ReturnType<PoolModule['loaded']>>>;
  for (const n of names) pools[n] = await mods[n[0] as 'A' | 'B'].loaded(Number(n[1]), backend, saved);
  const rows: Record<Name, Row[]> = { A1: [], A2: [], B1: [], B2: [] };
  const load = loadavg()[0]!;
  let k = 0;
  // Warm-up, not counted: the workers' JIT keeps compiling for several ops after a pool starts (bench/suites/pool.ts,
  // WARMUP_OPS); OTR_POOL_WARMUP ops per pool (default 4), interleaved.
  for (let i = 0; i < Number(process.env.OTR_POOL_WARMUP ?? 4); i++, k++)
    for (const n of names) await mods[n[0] as 'A' | 'B'].op(pools[n].pool, pools[n].sessions, k);
  for (let r = 0; r < ROUNDS; r++, k++) {
    const order = names.map((_, i) => names[(i + r) % names.length]!);
    if (r % 2 === 1) order.reverse();
    for (const n of order) {
      const m = mods[n[0] as 'A' | 'B'];
      const { pool, sessions } = pools[n];
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const s0 = m.schedAll(pool);
      const c0 = processCpu();
      const m0 = mainSched();
      const u0 = pool.workerUtilization();
      const t0 = performance.now();
      await m.op(pool, sessions, k);
      const t1 = performance.now();
      const u1 = pool.workerUtilization();
      const m1 = mainSched();
      const c1 = processCpu();
      const s1 = m.schedAll(pool);
      h.disable();
      await new Promise((res) => setTimeout(res, 5)); // the 'gc' observer reports asynchronously
      const inside = gcs.filter(([t]) => t >= t0 && t <= t1);
      const workers = s1.workers.map(([cpu], i) => cpu - s0.workers[i]![0]);
      const workerCpu = workers.reduce((x, y) => x + y, 0);
      rows[n].push({
        wall: t1 - t0,
        mainCpu: m1[0] - m0[0],
        mainWait: m1[1] - m0[1],
        workerCpu,
        workerMax: Math.max(...workers),
        otherCpu: c1 - c0 - (m1[0] - m0[0]) - workerCpu,
        gcSum: inside.reduce((x, [, d]) => x + d, 0),
        gcMax: Math.max(0, ...inside.map(([, d]) => d)),
        majors: inside.filter(([, , kind]) => kind === 4).length,
        eldMax: h.max / 1e6 - 1,
        eldP99: h.percentile(99) / 1e6 - 1,
        workerIdle: u1.reduce((x, u, i) => x + (u && u0[i] ? perf.eventLoopUtilization(u, u0[i]).idle : 0), 0),
      });
    }
  }
  for (const n of names) await pools[n].pool.close();
  const fmt = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    return `${s[0]!.toFixed(1)} / ${s[s.length >> 1]!.toFixed(1)}`;
  };
  console.log(`A = ${dirA}\nB = ${dirB}\n${ROUNDS} rounds, ${pools.A1.sessions.length} sessions, load ${load.toFixed(2)} at start; min / median per op (ms)`);
  const keys = Object.keys(rows.A1[0]!) as (keyof Row)[];
  console.log(['pool', ...keys].join('\t'));
  for (const n of names) console.log([n, ...keys.map((key) => fmt(rows[n].map((x) => x[key])))].join('\t'));
  // speedupCeiling as the bench computes it (bench/suites/pool.ts), from each build's medians.
  const cores = availableParallelism();
  const med = (n: Name, f: (x: Row) => number) => {
    const s = rows[n].map(f).sort((x, y) => x - y);
    return s[s.length >> 1]!;
  };
  for (const b of ['A', 'B'] as const) {
    const all = (x: Row) => x.mainCpu + x.workerCpu + x.otherCpu;
    const t1 = Math.max(med(`${b}1`, (x) => x.workerCpu), med(`${b}1`, all) / cores);
    const t2 = Math.max(med(`${b}2`, (x) => x.workerMax), med(`${b}2`, all) / cores);
    console.log(`${b}: speedupCeiling ${(t1 / t2).toFixed(2)}, speed-up (median wall) ${(med(`${b}1`, (x) => x.wall) / med(`${b}2`, (x) => x.wall)).toFixed(2)}`);
  }
}

void main();
