// Interleaved CPU-time A/B of the symmetric backend calls between two builds (docs/performance.md, "The
// symmetric kernels"): each build's WASM backend in its own worker thread, one worker running at a time,
// alternating batches of 2,000 calls, CPU time per batch (process.cpuUsage), min / median per call.
//
//   node scripts/ab-symmetric.mjs BUILD_A BUILD_B [ops, comma-separated] [phases]
//   e.g. node scripts/ab-symmetric.mjs /tmp/main-build build seal2300,seal3700,chacha4k 9
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
if (isMainThread) {
  const [a, b] = [resolve(process.argv[2]), resolve(process.argv[3])];
  const ops = (process.argv[4] ?? 'seal2300,seal3700,chacha4k,dm4k').split(',');
  const phases = Number(process.argv[5] ?? 7);
  const mk = (dir) => new Worker(new URL(import.meta.url), { workerData: { dir } });
  const ws = [mk(a), mk(b)];
  const call = (w, msg) => new Promise((res) => { w.once('message', res); w.postMessage(msg); });
  for (const w of ws) await call(w, { op: 'init' });
  const res = { A: {}, B: {} };
  for (let p = 0; p < phases; p++) for (const op of ops) for (const [k, w] of (p % 2 ? [['B', ws[1]], ['A', ws[0]]] : [['A', ws[0]], ['B', ws[1]]])) {
    const r = await call(w, { op });
    (res[k][op] ??= []).push(r);
  }
  const st = (xs) => { const s = [...xs].sort((x, y) => x - y); return `min ${s[0].toFixed(3)} med ${s[s.length >> 1].toFixed(3)}`; };
  for (const op of ops) console.log(op.padEnd(10), 'A', st(res.A[op]), '| B', st(res.B[op]), '| B/A med', (res.B[op].sort((x,y)=>x-y)[phases>>1] / res.A[op].sort((x,y)=>x-y)[phases>>1]).toFixed(3));
  for (const w of ws) await w.terminate();
} else {
  const { createWasmBackend } = await import(workerData.dir + '/ts/backend/wasm/index.js');
  const be = await createWasmBackend();
  const key = randomBytes(32), nonce = randomBytes(24), aad = randomBytes(60), ck = randomBytes(64);
  const bufs = {}; for (const n of [0, 2300, 3700, 4096, 4200]) bufs[n] = randomBytes(n);
  const outs = { 0: new Uint8Array(16), 2300: new Uint8Array(2316), 3700: new Uint8Array(3716) };
  const hdr = randomBytes(80);
  const fns = {
    seal2300: () => be.sealXChaCha20Poly1305(key, nonce, aad, bufs[2300], outs[2300]),
    seal3700: () => be.sealXChaCha20Poly1305(key, nonce, aad, bufs[3700], outs[3700]),
    open3700: () => { be.sealXChaCha20Poly1305(key, nonce, aad, bufs[3700], outs[3700]); be.openXChaCha20Poly1305(key, nonce, aad, outs[3700]); },
    seal0: () => be.sealXChaCha20Poly1305(key, nonce, aad, bufs[0], outs[0]),
    shake4k: () => be.shake256([bufs[4200]], 64),
    chacha4k: () => be.chacha20(key, nonce.subarray(0, 12), bufs[4096], 0),
    dm4k: () => { const auth = new Uint8Array(80 + 4096); auth.set(hdr); const s = be.sealDataMessage(ck, auth, bufs[4096]); be.openDataMessage(ck, auth, 4096, s.authenticator); },
  };
  const N = 2000;
  parentPort.on('message', ({ op }) => {
    if (op === 'init') { for (const f of Object.values(fns)) for (let i = 0; i < 3000; i++) f(); parentPort.postMessage(0); return; }
    const f = fns[op];
    const t = process.cpuUsage();
    for (let i = 0; i < N; i++) f();
    const d = process.cpuUsage(t);
    parentPort.postMessage((d.user + d.system) / N);
  });
}
