/**
 * Bench cases of two builds in one process (session 12): every synchronous case of bench/suites whose name
 * matches REGEX (and whose impl is in IMPLS), collected from each build's own suites and backends, then
 * measured in phases that alternate the builds (the order flips every phase) case by case, each batch timed by
 * this thread's CPU. A batch runs the case enough times for about BATCH_MS of CPU (counted once, on build A).
 * Prints µs per op, min and median over the phases, per build, and B's median over A's; then the two ratio
 * targets of docs/performance.md (ratchet.pingpong and dake.interactive, wasm / hybrid) per build when both
 * impls were measured: of the medians, of the mins, and the median of each phase's ratio. On a shared machine only the comparison within one run means anything.
 *
 *   node build/bench/suite-ab.js <build dir A> <build dir B> <REGEX> [phases=15] [impls=wasm,hybrid] [BATCH_MS=40]
 */
import { resolve } from 'node:path';
import { casesOfBuild } from './ab-cases.js';

const [dirA, dirB] = [process.argv[2], process.argv[3]].map((d) => resolve(d ?? '.'));
const filter = new RegExp(process.argv[4] ?? '^(ed448\\.(varmult|basemult)|rsig\\.(sign|verify)|ratchet\\.pingpong|dake\\.interactive)$');
const PHASES = Number(process.argv[5] ?? 15);
const IMPLS = new Set((process.argv[6] ?? 'wasm,hybrid').split(','));
const BATCH_MS = Number(process.argv[7] ?? 40);

// Only what one thread can time batch by batch: no self-measuring or asynchronous cases.
const casesOf = (dir: string) => casesOfBuild(dir, filter, (c) => IMPLS.has(c.impl) && !c.measure && !c.deferred);

const cpuMs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

const A = await casesOf(dirA!);
const B = await casesOf(dirB!);
const keys = [...A.keys()].filter((k) => B.has(k));
const counts = new Map<string, number>();
for (const k of keys) {
  for (const c of [A.get(k)!, B.get(k)!]) {
    await c.setup?.();
    for (let i = 0; i < 3; i++) c.fn(); // warm-up
  }
  const c = A.get(k)!;
  let n = 1;
  for (;;) {
    const t = cpuMs();
    for (let i = 0; i < n; i++) c.fn();
    const spent = cpuMs() - t;
    if (spent >= BATCH_MS / 4) {
      counts.set(k, Math.max(1, Math.round((n * BATCH_MS) / spent)));
      break;
    }
    n *= 2;
  }
}

const us = new Map<string, { A: number[]; B: number[] }>(keys.map((k) => [k, { A: [], B: [] }]));
for (let p = 0; p < PHASES; p++) {
  for (const k of keys) {
    const n = counts.get(k)!;
    for (const side of p % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
      const c = (side === 'A' ? A : B).get(k)!;
      const t = cpuMs();
      for (let i = 0; i < n; i++) c.fn();
      us.get(k)![side].push(((cpuMs() - t) * 1000) / n);
    }
  }
}
for (const k of keys) for (const c of [A.get(k)!, B.get(k)!]) await c.teardown?.();

const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
const min = (xs: number[]) => sorted(xs)[0]!;
const median = (xs: number[]) => sorted(xs)[xs.length >> 1]!;
const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
console.log(`A = ${dirA}\nB = ${dirB}\n${PHASES} phases, CPU µs per op (min / median); B/A of the medians (and of the mins)`);
for (const k of keys) {
  const r = us.get(k)!;
  console.log(`${k.padEnd(30)} A ${f(min(r.A))} / ${f(median(r.A))}\tB ${f(min(r.B))} / ${f(median(r.B))}\tB/A ${(median(r.B) / median(r.A)).toFixed(3)} (${(min(r.B) / min(r.A)).toFixed(3)})`);
}
for (const name of ['ratchet.pingpong', 'dake.interactive']) {
  const w = us.get(`${name} [wasm]`);
  const h = us.get(`${name} [hybrid]`);
  if (!w || !h) continue;
  for (const side of ['A', 'B'] as const) {
    // Also phase by phase: the two batches of one phase ran seconds apart, under the same load.
    const perPhase = w[side].map((x, i) => x / h[side][i]!);
    console.log(`${name} wasm / hybrid, ${side}: ${(median(w[side]) / median(h[side])).toFixed(3)} (medians), ${(min(w[side]) / min(h[side])).toFixed(3)} (mins), ${median(perPhase).toFixed(3)} (median of the phases' ratios)`);
  }
}
