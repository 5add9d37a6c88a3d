/**
 * Worker V8 limits A/B in one process (session 15): the bench's sessions (bench/suites/pool.ts, made once) loaded
 * into several pools of this build that differ only in `workers` and `resourceLimits`, their ops interleaved in
 * rotating order after four warm-up ops each, and per op each thread group's CPU time (schedstat of every thread
 * of the process): the main thread, the workers, the busiest worker, the other threads (V8's platform threads:
 * compiles, concurrent marking, parallel scavenges). `resourceLimits` is per worker, so unlike V8 flags it can be
 * compared inside one process, where the shared machine's load falls on every variant alike.
 *
 *   node build/bench/pool-limits-ab.js [rounds=6] ['{"name":[workers, resourceLimits | null], …}']
 *
 * Default variants: two workers with Node's default limits, with a 4 MB and with a 64 MB young generation.
 * Prints min / median ms per op for each variant.
 */
import { loadavg } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import { OtrPool } from '../ts/pool/index.js';
import { cpuOf, listenForThreads, op, pick, prepare } from './suites/pool.js';

const ROUNDS = Number(process.argv[2] ?? 6);
const VARIANTS = JSON.parse(process.argv[3] ?? '{"2 workers":[2,null],"young 4":[2,{"maxYoungGenerationSizeMb":4}],"young 64":[2,{"maxYoungGenerationSizeMb":64}]}') as Record<string, [number, ResourceLimits | null]>;
const ENV = new URL('./suites/pool.js', import.meta.url);

type Row = Record<'wall' | 'main' | 'workers' | 'busiest' | 'other' | 'all', number>;

async function main(): Promise<void> {
  listenForThreads();
  const backend = await pick();
  const saved = await prepare(backend);
  const ids = [...saved.keys()];
  const sessions = ids.length / 2;
  const pools = new Map<string, { pool: OtrPool; sessions: { a: ReturnType<OtrPool['conversation']>; b: ReturnType<OtrPool['conversation']> }[] }>();
  for (const [name, [workers, limits]] of Object.entries(VARIANTS)) {
    const pool = await OtrPool.start({ workers, backend, callTimeoutMs: 600_000, environment: ENV, ...(limits ? { resourceLimits: limits } : {}) });
    await Promise.all([...saved].map(([id, s]) => (s instanceof Uint8Array ? pool.loadAccount(id, s) : pool.loadAccountRecords(id, s))));
    const a = (i: number) => `alice${i}@bridge.example`;
    const b = (i: number) => `bob${i}@bridge.example`;
    pools.set(name, { pool, sessions: Array.from({ length: sessions }, (_, i) => ({ a: pool.conversation(a(i), b(i)), b: pool.conversation(b(i), a(i)) })) });
  }
  const names = [...pools.keys()];
  const rows = new Map<string, Row[]>(names.map((n) => [n, []]));
  let k = 0;
  for (let i = 0; i < 4; i++, k++) for (const n of names) await op(pools.get(n)!.pool, pools.get(n)!.sessions, k);
  for (let r = 0; r < ROUNDS; r++, k++) {
    const order = names.map((_, i) => names[(i + r) % names.length]!);
    if (r % 2 === 1) order.reverse();
    for (const n of order) {
      const p = pools.get(n)!;
      const start = performance.now();
      const cpu = await cpuOf(p.pool, () => op(p.pool, p.sessions, k));
      const wall = performance.now() - start;
      rows.get(n)!.push({ wall, ...cpu });
    }
  }
  for (const p of pools.values()) await p.pool.close();
  const fmt = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    return `${s[0]!.toFixed(0)} / ${s[s.length >> 1]!.toFixed(0)}`;
  };
  const keys: (keyof Row)[] = ['wall', 'main', 'workers', 'busiest', 'other', 'all'];
  console.log(`${ROUNDS} rounds, ${sessions} sessions, load ${loadavg()[0]!.toFixed(2)} at the end; min / median ms per op`);
  console.log(['variant', ...keys].join('\t'));
  for (const n of names) console.log([n, ...keys.map((key) => fmt(rows.get(n)!.map((x) => x[key])))].join('\t'));
}

void main();
