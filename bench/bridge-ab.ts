/**
 * Deferred bench cases (a commit per op: bridge.message, bridge.save…) of two builds in one process (session 16):
 * suite-ab.ts leaves them out, as one batch of them waits on the store (an fsync, a PostgreSQL round trip) rather
 * than spends this thread's CPU. Each build's cases come from its own suites (its own SQLite files, its own
 * PostgreSQL server); every case is set up in both builds, then measured in phases that alternate the builds (the
 * order flips every phase), OPS awaited ops per batch. Prints, per build, µs per op of wall time and of this
 * process's CPU time, min and median over the phases, and B's medians over A's.
 *
 *   node build/bench/bridge-ab.js <build dir A> <build dir B> <REGEX> [phases=10] [ops per batch=200] [impls=memory,sqlite,postgres]
 */
import { resolve } from 'node:path';
import type { BenchCase } from './harness.js';
import { casesOfBuild } from './ab-cases.js';

const [dirA, dirB] = [process.argv[2], process.argv[3]].map((d) => resolve(d ?? '.'));
const filter = new RegExp(process.argv[4] ?? '^bridge\\.message$');
const PHASES = Number(process.argv[5] ?? 10);
const OPS = Number(process.argv[6] ?? 200);
const IMPLS = new Set((process.argv[7] ?? 'memory,sqlite,postgres').split(','));

const casesOf = (dir: string) => casesOfBuild(dir, filter, (c) => c.deferred === true && !c.measure && IMPLS.has(c.impl));

const cpuUs = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

async function batch(c: BenchCase): Promise<{ wall: number; cpu: number }> {
  const w = performance.now();
  const t = cpuUs();
  for (let i = 0; i < OPS; i++) await c.fn();
  return { wall: ((performance.now() - w) * 1000) / OPS, cpu: (cpuUs() - t) / OPS };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return { min: s[0]!, median: s[s.length >> 1]! };
};
const f = (x: number) => x.toFixed(0).padStart(7);

const builds = { A: await casesOf(dirA!), B: await casesOf(dirB!) };
console.log(`A = ${dirA}\nB = ${dirB}\n${PHASES} phases of ${OPS} ops per build; µs per op, min / median (wall, this process's CPU)`);
for (const [name, a] of builds.A) {
  const b = builds.B.get(name);
  if (!b) continue;
  const runs = { A: a, B: b } as const;
  for (const c of Object.values(runs)) await c.setup?.();
  for (const c of Object.values(runs)) await batch(c); // warm-up: JIT, caches, the store's first pages
  const wall: Record<'A' | 'B', number[]> = { A: [], B: [] };
  const cpu: Record<'A' | 'B', number[]> = { A: [], B: [] };
  for (let p = 0; p < PHASES; p++) {
    for (const n of p % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
      const r = await batch(runs[n]);
      wall[n].push(r.wall);
      cpu[n].push(r.cpu);
    }
  }
  for (const c of Object.values(runs)) await c.teardown?.();
  console.log(name);
  for (const n of ['A', 'B'] as const) {
    const w = stats(wall[n]);
    const u = stats(cpu[n]);
    console.log(`  ${n}  wall ${f(w.min)} / ${f(w.median)}   cpu ${f(u.min)} / ${f(u.median)}`);
  }
  console.log(`  B/A medians: wall ${(stats(wall.B).median / stats(wall.A).median).toFixed(3)}, cpu ${(stats(cpu.B).median / stats(cpu.A).median).toFixed(3)}`);
}
process.exit(0);
