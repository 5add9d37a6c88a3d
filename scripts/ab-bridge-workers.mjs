// Interleaved CPU-time A/B of bridge.* bench cases between two builds (docs/stores.md, "bridge.message:
// session 9"): each build's bench suite in its own worker thread (its own V8 heap, so each build's GC is its
// own), one worker running at a time, batches of `batch` operations alternating A/B (the order flips every
// batch), process CPU time per batch (the other worker idle), phases of `perPhase` batches; min / p25 / median
// per phase, µs per operation.
//
//   node scripts/ab-bridge-workers.mjs BUILD_A BUILD_B [cases, comma-separated] [phases] [perPhase] [batch]
//   e.g. node scripts/ab-bridge-workers.mjs /tmp/main-build build bridge.message,bridge.message.calls 5 20 1000
// A case is `name` or `name@impl` (impl memory unless given).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

if (isMainThread) {
  const [a, b] = [resolve(process.argv[2]), resolve(process.argv[3])];
  const names = (process.argv[4] ?? 'bridge.message,bridge.message.calls,bridge.message.protocol').split(',');
  const phases = Number(process.argv[5] ?? 5);
  const perPhase = Number(process.argv[6] ?? 20);
  const batch = Number(process.argv[7] ?? 1000);
  const mk = (dir) => new Worker(new URL(import.meta.url), { workerData: { dir, names, batch } });
  const ws = { A: mk(a), B: mk(b) };
  for (const w of Object.values(ws)) w.setMaxListeners(0);
  const call = (w, msg) => new Promise((res, rej) => { w.once('message', res); w.once('error', rej); w.postMessage(msg); });
  // Set up one at a time (each seeds 2 × 1,000 sealed sessions per case).
  await call(ws.A, { op: 'setup' });
  await call(ws.B, { op: 'setup' });
  const res = {};
  let flip = false;
  for (let p = 0; p < phases; p++) {
    for (let i = 0; i < perPhase; i++) for (const name of names) {
      for (const k of flip ? ['B', 'A'] : ['A', 'B']) {
        const us = await call(ws[k], { op: 'run', name });
        ((res[name] ??= {})[k] ??= []).push(us);
        (res[name][`${k}${p}`] ??= []).push(us);
      }
      flip = !flip;
    }
    process.stderr.write(`phase ${p + 1} done ${new Date().toISOString().slice(11, 19)}\n`);
  }
  const q = (xs, f) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * f))]; };
  const fmt = (xs) => `${q(xs, 0).toFixed(1)} / ${q(xs, 0.25).toFixed(1)} / ${q(xs, 0.5).toFixed(1)}`;
  console.log(`A = ${a}\nB = ${b}\nµs CPU per op, min / p25 / median per phase (${perPhase} batches of ${batch})`);
  for (const name of names) {
    for (const k of ['A', 'B']) {
      const cells = [];
      for (let p = 0; p < phases; p++) cells.push(fmt(res[name][`${k}${p}`]));
      console.log(`${name.padEnd(26)} ${k} | ${cells.join(' | ')} || all ${fmt(res[name][k])}`);
    }
  }
  for (const w of Object.values(ws)) await w.terminate();
} else {
  const { dir, names, batch } = workerData;
  const suite = await import(pathToFileURL(`${dir}/bench/suites/bridge.js`).href);
  const all = await suite.cases({});
  const picked = new Map();
  for (const full of names) {
    const [name, impl = 'memory'] = full.split('@');
    const c = all.find((x) => x.name === name && x.impl === impl);
    if (!c) throw new Error(`no case ${full} in ${dir}`);
    picked.set(full, c);
  }
  parentPort.on('message', async ({ op, name }) => {
    if (op === 'setup') {
      for (const c of picked.values()) {
        await c.setup?.();
        for (let i = 0; i < 200; i++) await c.fn();
      }
      parentPort.postMessage(0);
      return;
    }
    const c = picked.get(name);
    const t = process.cpuUsage();
    if (c.deferred) for (let i = 0; i < batch; i++) await c.fn();
    else for (let i = 0; i < batch; i++) c.fn();
    const d = process.cpuUsage(t);
    parentPort.postMessage((d.user + d.system) / batch);
  });
}
