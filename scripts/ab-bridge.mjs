// Interleaved A/B of bridge.* bench cases between two builds in ONE process (docs/stores.md, "SQLite commit
// cost: session 9"): each build's bench/suites/bridge.js is loaded (its own store code, its own temp files),
// every selected case is set up once, then batches of `ops` operations alternate A, B, B, A, ... per phase;
// per batch the CPU time of the process (every thread: the checkpoint worker included) and the wall time,
// per operation. Prints min / median per case and build. PostgreSQL cases are never selected here.
//
//   node scripts/ab-bridge.mjs BUILD_A BUILD_B 'name regex' [phases] [ops per batch] [impls, comma-separated] [grow]
// `grow`: operations run on each case of both builds (alternating chunks) before the phases, so the bench's
// one-way stream has grown Bob's MAC-key queue (grow / 1,000 keys per session) — the CLI's later rounds.
//   e.g. node scripts/ab-bridge.mjs /tmp/base/build build '^bridge\.message(\.syncnormal)?$' 9 300 memory,sqlite
import { resolve } from 'node:path';

const [dirA, dirB] = [resolve(process.argv[2]), resolve(process.argv[3])];
const filter = new RegExp(process.argv[4] ?? '^bridge\\.message(\\.syncnormal)?$');
const phases = Number(process.argv[5] ?? 9);
const ops = Number(process.argv[6] ?? 300);
const impls = (process.argv[7] ?? 'memory,sqlite').split(',');
const grow = Number(process.argv[8] ?? 0);

async function casesOf(dir) {
  const { cases } = await import(`${dir}/bench/suites/bridge.js`);
  return cases().filter((c) => filter.test(c.name) && impls.includes(c.impl) && c.impl !== 'postgres' && !c.measure);
}

const builds = { A: await casesOf(dirA), B: await casesOf(dirB) };
for (const k of ['A', 'B']) for (const c of builds[k]) await c.setup?.();
const key = (c) => `${c.name} [${c.impl}]`;
for (let i = 0; i < builds.A.length; i++)
  for (let done = 0; done < grow; done += 5000) for (const k of ['A', 'B']) for (let j = 0; j < 5000; j++) await builds[k][i].fn();

async function batch(c) {
  for (let i = 0; i < 20; i++) await c.fn(); // warm the case after the other build ran
  const t = process.cpuUsage();
  const w = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await c.fn();
  const wall = Number(process.hrtime.bigint() - w) / 1000 / ops;
  const d = process.cpuUsage(t);
  return { cpu: (d.user + d.system) / ops, wall };
}

const res = {};
for (let p = 0; p < phases; p++) {
  for (let i = 0; i < builds.A.length; i++) {
    const order = p % 2 ? ['B', 'A'] : ['A', 'B'];
    for (const k of order) {
      const c = builds[k][i];
      const r = await batch(c);
      ((res[key(c)] ??= { A: [], B: [] })[k]).push(r);
    }
  }
}
const st = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return `${s[0].toFixed(1)} / ${s[s.length >> 1].toFixed(1)}`;
};
console.log(`A = ${dirA}\nB = ${dirB}\n${phases} phases x ${ops} ops${grow ? `, after ${grow} ops per case` : ''}; µs per op, min / median`);
for (const [name, r] of Object.entries(res)) {
  const med = (xs, f) => [...xs.map(f)].sort((x, y) => x - y)[xs.length >> 1];
  console.log(`${name.padEnd(40)} CPU A ${st(r.A.map((x) => x.cpu))}  B ${st(r.B.map((x) => x.cpu))}  (B/A med ${(med(r.B, (x) => x.cpu) / med(r.A, (x) => x.cpu)).toFixed(3)})` +
    ` | wall A ${st(r.A.map((x) => x.wall))}  B ${st(r.B.map((x) => x.wall))}`);
}
for (const k of ['A', 'B']) for (const c of builds[k]) await c.teardown?.();
process.exit(0);
