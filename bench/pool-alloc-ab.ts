/**
 * Bytes the main thread allocates per call during bridge.pool's op, two builds A/B in one process (session 12):
 * a two-worker pool of each build holding the same sessions (made once, by build B), warmed up, then their ops
 * alternate, each under a sampling heap profile of the main thread (every 4 KiB, collected objects kept).
 * One process, because what a build allocates depends on how far V8 has optimized its code (escape analysis
 * removes allocations), and that depends on the machine's load: separate runs of one build read 3.6–4.2 KB per
 * call at different loads, more than the builds differ.
 *
 *   node build/bench/pool-alloc-ab.js <build dir A> <build dir B> [rounds=6]
 *
 * Prints per build: min / median bytes per call over the rounds.
 */
import { Session as Inspector } from 'node:inspector';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type PoolModule = typeof import('./suites/pool.js');
const [dirA, dirB] = [process.argv[2], process.argv[3]].map((d) => resolve(d ?? '.'));
const ROUNDS = Number(process.argv[4] ?? 6);

interface HeapNode {
  selfSize: number;
  children: HeapNode[];
}
const total = (n: HeapNode): number => n.children.reduce((x, c) => x + total(c), n.selfSize);

async function main(): Promise<void> {
  const mods = {
    A: (await import(pathToFileURL(join(dirA!, 'build/bench/suites/pool.js')).href)) as PoolModule,
    B: (await import(pathToFileURL(join(dirB!, 'build/bench/suites/pool.js')).href)) as PoolModule,
  };
  const backend = await mods.B.pick();
  const saved = await mods.B.prepare(backend);
  const pools = { A: await mods.A.loaded(2, backend, saved), B: await mods.B.loaded(2, backend, saved) };
  const ins = new Inspector();
  ins.connect();
  const post = (method: string, params: object = {}) => new Promise<unknown>((res, rej) => ins.post(method, params, (e, r) => (e ? rej(e) : res(r))));
  await post('HeapProfiler.enable');
  const n = pools.A.sessions.length;
  const calls = n * 2 + Math.ceil(n / 10) * 2 + Math.ceil(n / 50) * 4;
  let k = 0;
  for (let i = 0; i < Number(process.env.OTR_POOL_WARMUP ?? 4); i++, k++) for (const b of ['A', 'B'] as const) await mods[b].op(pools[b].pool, pools[b].sessions, k);
  const rows: Record<'A' | 'B', number[]> = { A: [], B: [] };
  for (let r = 0; r < ROUNDS; r++, k++)
    for (const b of r % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
      await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      await mods[b].op(pools[b].pool, pools[b].sessions, k);
      const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } };
      rows[b].push(total(profile.head) / calls);
    }
  ins.disconnect();
  await pools.A.pool.close();
  await pools.B.pool.close();
  const fmt = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    return `${s[0]!.toFixed(0)} / ${s[s.length >> 1]!.toFixed(0)}`;
  };
  console.log(`A = ${dirA}\nB = ${dirB}\n${ROUNDS} rounds, ${calls} calls per op; main thread, bytes per call (sampled), min / median`);
  console.log(`A\t${fmt(rows.A)}\nB\t${fmt(rows.B)}`);
}

await main();
