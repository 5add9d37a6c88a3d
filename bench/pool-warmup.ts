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
import { availableParallelism } from 'node:os';
import { cpuOf, loaded, loadedPair, op } from './suites/pool.js';

const OPS = Number(process.argv[2] ?? 10);

type Pool = Awaited<ReturnType<typeof loaded>>;

/** One op of `p`: all CPU, the main thread's, the workers', the busiest worker's, the other threads'. */
function measured(p: Pool, k: number): ReturnType<typeof cpuOf> {
  return cpuOf(p.pool, () => op(p.pool, p.sessions, k));
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
