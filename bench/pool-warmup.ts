/**
 * How bridge.pool's figures settle after the pools load (session 11): the bench's sessions in a one- and a
 * two-worker pool in one process, ops interleaved (one-worker op k, then two-worker op k) from the first op after
 * the load, and per op index every thread's CPU (Linux schedstat of /proc/self/task/*): the workers', the
 * busiest worker's, and the other threads' (V8's platform threads: TurboFan's concurrent compiles, GC helpers),
 * with `speedupCeiling` computed per pair of ops as the bench computes it over its rounds. Shows how many warm-up
 * ops the bench needs (bench/suites/pool.ts, WARMUP_OPS).
 *
 *   node build/bench/pool-warmup.js [ops=10]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { loaded, loadedPair, op, schedAll } from './suites/pool.js';

const OPS = Number(process.argv[2] ?? 10);
const MAIN = String(process.pid);

/** Every thread's on-CPU ms so far. */
function threads(): Map<string, number> {
  const t = new Map<string, number>();
  for (const id of readdirSync('/proc/self/task')) {
    try {
      t.set(id, Number(readFileSync(`/proc/self/task/${id}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
    } catch {
      // the thread ended
    }
  }
  return t;
}

type Pool = Awaited<ReturnType<typeof loaded>>;

/** One op of `p`: all CPU, the main thread's, the workers', the busiest worker's, the other threads'. */
async function measured(p: Pool, k: number): Promise<{ all: number; main: number; workers: number; busiest: number; other: number }> {
  const t0 = threads();
  const w0 = schedAll(p.pool).workers.map(([cpu]) => cpu);
  await op(p.pool, p.sessions, k);
  const t1 = threads();
  const w = schedAll(p.pool).workers.map(([cpu], i) => cpu - w0[i]!);
  let all = 0;
  for (const [id, cpu] of t1) all += cpu - (t0.get(id) ?? 0);
  const main = (t1.get(MAIN) ?? 0) - (t0.get(MAIN) ?? 0);
  const workers = w.reduce((x, y) => x + y, 0);
  return { all, main, workers, busiest: Math.max(...w), other: all - main - workers };
}

async function main(): Promise<void> {
  const { p1, p2 } = await loadedPair();
  const cores = availableParallelism();
  const f = (x: number) => x.toFixed(0);
  // The main thread's CPU last (session 15), so the first four columns read as before.
  console.log('op\t1 worker: workers other\t2 workers: workers busiest other\tspeedupCeiling\tmain thread: 1 worker, 2 workers (ms of CPU)');
  for (let k = 0; k < OPS; k++) {
    const a = await measured(p1, k);
    const b = await measured(p2, k);
    const ceiling = Math.max(a.workers, a.all / cores) / Math.max(b.busiest, b.all / cores);
    console.log(`${k}\t${f(a.workers)} ${f(a.other)}\t${f(b.workers)} ${f(b.busiest)} ${f(b.other)}\t${ceiling.toFixed(2)}\t${f(a.main)} ${f(b.main)}`);
  }
  await p1.pool.close();
  await p2.pool.close();
}

await main();
