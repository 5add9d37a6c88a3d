// Interleaved CPU-time A/B of one sealed commit through openAccountRecords on the memory store (docs/stores.md,
// "bridge.message: session 9"): the sharper probe for commit-path changes of a few hundred ns, which the whole
// message's noise hides. Each build in its own worker thread, one running at a time, batches of 5,000 commits of a
// 2,300-byte record (1,000 records rotating, the WASM backend's AEAD as openStoredAccount uses it), CPU per commit;
// `cold` walks 64 KiB of an 8 MB array between commits (as a message's other work evicts the caches).
//
//   node scripts/ab-commit.mjs BUILD_A BUILD_B [phases] [batches per phase] [warm|cold]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { resolve } from 'node:path';
if (isMainThread) {
  const dirs = [resolve(process.argv[2]), resolve(process.argv[3])]; const phases = Number(process.argv[4] ?? 5), per = Number(process.argv[5] ?? 10);
  const ws = dirs.map((dir) => new Worker(new URL(import.meta.url), { workerData: { dir, mode: process.argv[6] ?? 'warm' } }));
  const call = (w, m) => new Promise((r) => { w.once('message', r); w.postMessage(m); });
  for (const w of ws) await call(w, 'setup');
  const res = [[], []];
  for (let p = 0; p < phases; p++) { const ph = [[], []]; for (let i = 0; i < per; i++) for (const k of (i + p) % 2 ? [1, 0] : [0, 1]) ph[k].push(await call(ws[k], 'run')); res[0].push(ph[0]); res[1].push(ph[1]); }
  const f = (xs) => { const s = [...xs].sort((a, b) => a - b); return `${s[0].toFixed(2)} / ${s[s.length >> 1].toFixed(2)}`; };
  for (const k of [0, 1]) console.log(k ? 'B' : 'A', res[k].map(f).join(' | '), '|| all', f(res[k].flat()));
  for (const w of ws) await w.terminate();
} else {
  const { dir, mode } = workerData;
  const { MemoryStore } = await import(`${dir}/ts/store/memory.js`);
  const { openAccountRecords } = await import(`${dir}/ts/store/account-records.js`);
  const store = new MemoryStore();
  const { loadBackend } = await import(`${dir}/ts/backend/select.js`);
  const { backendSealAead } = await import(`${dir}/ts/store/aead-backend.js`);
  const r = await openAccountRecords(store, 'acc', { sealKey: new Uint8Array(32).fill(7), sealAead: backendSealAead(await loadBackend('wasm')) });
  const keys = Array.from({ length: 1000 }, (_, i) => `conv:peer${i}@bench.example`);
  const bytes = keys.map(() => new Uint8Array(2300).fill(1));
  let next = 0;
  const junk = new Float64Array(1 << 20); let at = 0, sink = 0; // 8 MB: walked between commits, as a message's other work would
  const thrash = mode === 'cold' ? () => { for (let j = 0; j < 8192; j += 8) sink += junk[(at + j) & (junk.length - 1)]; at = (at + 8192) & (junk.length - 1); } : () => {};
  const op = async () => { const k = keys[next]; next = (next + 1) % 1000; await r.commit([r.change(k, bytes[next])]); thrash(); };
  parentPort.on('message', async (m) => {
    if (m === 'setup') { for (let i = 0; i < 5000; i++) await op(); parentPort.postMessage(0); return; }
    const t = process.cpuUsage(); for (let i = 0; i < 5000; i++) await op(); const d = process.cpuUsage(t);
    parentPort.postMessage((d.user + d.system) / 5000);
  });
}
