/**
 * Bytes allocated per call by bridge.pool's op, in each worker and on the main thread (session 11): the bench's
 * sessions in a pool of `workers`, warmed up (the workers' JIT: bench/suites/pool.ts, WARMUP_OPS), then a
 * sampling heap profile (every 4 KiB, collected objects kept) of every thread over `ops` ops. Sampled, so an
 * estimate good to a few per cent at these volumes; compare builds by running it on each.
 *
 *   OTR_POOL_WORKER_HEAP=<file prefix> node build/bench/pool-alloc.js [build dir=.] [workers=2] [ops=3] [warm-up=4]
 *
 * (OTR_POOL_WORKER_HEAP must be set: each worker starts its sampler from it, and writes its profile to
 * <prefix>-<threadId>.heapprofile.) Prints bytes per call: each worker's, the workers' sum, the main thread's.
 */
import { readFileSync } from 'node:fs';
import { Session as Inspector } from 'node:inspector';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type PoolModule = typeof import('./suites/pool.js');
const dir = resolve(process.argv[2] ?? '.');
const WORKERS = Number(process.argv[3] ?? 2);
const OPS = Number(process.argv[4] ?? 3);
const WARMUP = Number(process.argv[5] ?? 4);
const PREFIX = process.env.OTR_POOL_WORKER_HEAP;

interface HeapNode {
  selfSize: number;
  children: HeapNode[];
}
const total = (n: HeapNode): number => n.children.reduce((x, c) => x + total(c), n.selfSize);

async function main(): Promise<void> {
  if (!PREFIX) throw new Error('pool-alloc: set OTR_POOL_WORKER_HEAP to a file prefix');
  const m = (await import(pathToFileURL(join(dir, 'build/bench/suites/pool.js')).href)) as PoolModule;
  m.listenForThreads();
  const backend = await m.pick();
  const saved = await m.prepare(backend);
  const p = await m.loaded(WORKERS, backend, saved);
  let k = 0;
  for (; k < WARMUP; k++) await m.op(p.pool, p.sessions, k);
  const ins = new Inspector();
  ins.connect();
  const post = (method: string, params: object = {}) => new Promise<unknown>((res, rej) => ins.post(method, params, (e, r) => (e ? rej(e) : res(r))));
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  m.workerHeapSampling('start');
  await new Promise((r) => setTimeout(r, 200)); // the workers' samplers start asynchronously
  const calls = p.sessions.length * 2 + Math.ceil(p.sessions.length / 10) * 2 + Math.ceil(p.sessions.length / 50) * 4;
  for (let i = 0; i < OPS; i++, k++) await m.op(p.pool, p.sessions, k);
  const main = total(((await post('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } }).profile.head);
  m.workerHeapSampling('stop', PREFIX);
  await new Promise((r) => setTimeout(r, 1000)); // the workers write their profiles
  const ids = p.pool.stats().workers.map((w) => w.threadId);
  const workers = ids.map((id) => total((JSON.parse(readFileSync(`${PREFIX}-${id}.heapprofile`, 'utf8')) as { head: HeapNode }).head));
  await p.pool.close();
  const per = (b: number) => (b / (OPS * calls)).toFixed(0);
  console.log(`${dir}: ${WORKERS} worker(s), ${OPS} ops of ${calls} calls after ${WARMUP} warm-up; bytes per call (sampled)`);
  console.log(`workers ${workers.map(per).join(' + ')} = ${per(workers.reduce((x, y) => x + y, 0))}; main thread ${per(main)}`);
}

await main();
