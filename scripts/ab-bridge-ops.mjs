// Interleaved A/B of bridge.* bench cases between two builds in ONE process, timing every operation on its own
// (docs/stores.md, "session 12: the save's cold path"). As scripts/ab-bridge.mjs (each build's bench/suites/bridge.js,
// every selected case set up once, batches alternating A, B, B, A, ... per phase), but instead of the CPU time of a
// batch it keeps the wall time of each operation and reports low percentiles (p5 / p10 / p25 / p50) per case and
// build: on a host shared with other processes, a batch's CPU time also carries every preemption and every cache
// another process emptied, while the low percentiles of single operations are those that ran undisturbed — what
// two builds' code costs. With both save cases selected it prints their ratio (bridge.save.1000conv / .1conv).
//
//   node scripts/ab-bridge-ops.mjs BUILD_A BUILD_B 'name regex' [phases] [ops per batch] [impl]
//   e.g. node scripts/ab-bridge-ops.mjs /tmp/base/build build '^bridge\.(message|save\.1conv|save\.1000conv)$' 20 1000 memory
import { resolve } from 'node:path';

const [dirA, dirB] = [resolve(process.argv[2]), resolve(process.argv[3])];
const filter = new RegExp(process.argv[4] ?? '^bridge\\.(message|save\\.1conv|save\\.1000conv)$');
const phases = Number(process.argv[5] ?? 20);
const ops = Number(process.argv[6] ?? 1000);
const impl = process.argv[7] ?? 'memory';
if (impl === 'postgres') throw new Error('PostgreSQL cases are not run here');

async function casesOf(dir) {
  const { cases } = await import(`${dir}/bench/suites/bridge.js`);
  return cases().filter((c) => filter.test(c.name) && c.impl === impl && !c.measure);
}

const builds = { A: await casesOf(dirA), B: await casesOf(dirB) };
for (const k of ['A', 'B']) for (const c of builds[k]) await c.setup?.();
const now = process.hrtime.bigint;
const times = {};
for (let p = 0; p < phases; p++)
  for (let i = 0; i < builds.A.length; i++)
    for (const k of p % 2 ? ['B', 'A'] : ['A', 'B']) {
      const c = builds[k][i];
      for (let j = 0; j < 20; j++) await c.fn(); // warm the case after the other build ran
      const out = ((times[c.name] ??= { A: [], B: [] })[k]);
      for (let j = 0; j < ops; j++) {
        const t = now();
        await c.fn();
        out.push(Number(now() - t));
      }
    }

const LEVELS = [0.05, 0.1, 0.25, 0.5];
const levels = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return LEVELS.map((f) => s[Math.floor(f * (s.length - 1))] / 1000);
};
const fmt = (v) => v.map((x) => x.toFixed(2)).join(' / ');
console.log(`A = ${dirA}\nB = ${dirB}\n${phases} phases x ${ops} ops, ${impl}; wall µs per op, p5 / p10 / p25 / p50`);
const got = {};
for (const [name, t] of Object.entries(times)) {
  got[name] = { A: levels(t.A), B: levels(t.B) };
  console.log(`${name.padEnd(24)} A ${fmt(got[name].A)}   B ${fmt(got[name].B)}`);
}
const one = got['bridge.save.1conv'];
const many = got['bridge.save.1000conv'];
if (one && many) for (const k of ['A', 'B']) console.log(`save.1000conv / save.1conv ${k}: ${many[k].map((x, i) => (x / one[k][i]).toFixed(3)).join(' / ')}`);
for (const k of ['A', 'B']) for (const c of builds[k]) await c.teardown?.();
process.exit(0);
