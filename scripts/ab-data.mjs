// Interleaved CPU-time A/B of the per-message bench cases between two builds (docs/performance.md, "data.100 /
// data.4k: session 9"): both builds' WASM backends and the bench suites' own case functions loaded into this
// one process, batches alternating between the builds (five alternations per phase, the order swapped each
// time), CPU time per batch (process.cpuUsage); overall and per-phase min / median per call.
//
//   node scripts/ab-data.mjs BUILD_A BUILD_B [phases] [case regex]
//   e.g. node scripts/ab-data.mjs /tmp/main-build build 9 '^data\.(100|4k)$|^(shake256|chacha20)\.4k$'
// A build copied outside the repository resolves its packages from a node_modules beside it (or above it).
import { pathToFileURL } from 'node:url';
const [baseDir, newDir, phasesArg, caseRe] = process.argv.slice(2);
const phases = Number(phasesArg ?? 9);
const re = new RegExp(caseRe ?? '^data\\.(100|4k)$');
async function load(dir) {
  const { loadBackend } = await import(pathToFileURL(dir + '/ts/backend/select.js').href);
  const ctx = { wasm: await loadBackend('wasm'), js: await loadBackend('js'), hybrid: undefined };
  const out = [];
  for (const s of ['protocol', 'shake256', 'chacha20']) {
    const mod = await import(pathToFileURL(`${dir}/bench/suites/${s}.js`).href);
    for (const c of await mod.cases(ctx)) if (re.test(c.name) && c.impl === 'wasm') out.push(c);
  }
  return out;
}
const A = await load(baseDir), B = await load(newDir);
const ops = { 'data.100': 4000, 'data.4k': 1000, 'shake256.4k': 2000, 'chacha20.4k': 4000 };
function batch(fn, n) { const t = process.cpuUsage(); for (let i = 0; i < n; i++) fn(); const d = process.cpuUsage(t); return (d.user + d.system) / n; }
for (const c of [...A, ...B]) for (let i = 0; i < 2000; i++) c.fn();
const res = {}; const perPhase = {};
for (let p = 0; p < phases; p++) {
  for (let i = 0; i < A.length; i++) {
    const n = ops[A[i].name] ?? 1000;
    const k = A[i].name;
    res[k] ??= { a: [], b: [] };
    const a0 = res[k].a.length;
    for (let r = 0; r < 5; r++) {
      const order = (p + r) % 2 === 0;
      if (order) { res[k].a.push(batch(A[i].fn, n)); res[k].b.push(batch(B[i].fn, n)); }
      else { res[k].b.push(batch(B[i].fn, n)); res[k].a.push(batch(A[i].fn, n)); }
    }
    (perPhase[k] ??= []).push([res[k].a.slice(a0), res[k].b.slice(a0)]);
  }
}
const st = (x) => { const s = [...x].sort((a, b) => a - b); return `${s[0].toFixed(2)} / ${s[s.length >> 1].toFixed(2)}`; };
for (const [k, v] of Object.entries(res)) console.log(`${k.padEnd(12)} base min/med ${st(v.a)}   new min/med ${st(v.b)}   med ratio ${( [...v.a].sort((a,b)=>a-b)[v.a.length>>1] / [...v.b].sort((a,b)=>a-b)[v.b.length>>1]).toFixed(3)}`);

const mm = (x) => { const s = [...x].sort((a, b) => a - b); return [s[0], s[s.length >> 1]]; };
for (const [k, ph] of Object.entries(perPhase)) {
  console.log(k, 'per phase (base min/med -> new min/med):');
  console.log('  ' + ph.map(([a, b]) => { const [am, ad] = mm(a), [bm, bd] = mm(b); return `${am.toFixed(2)}/${ad.toFixed(2)} -> ${bm.toFixed(2)}/${bd.toFixed(2)}`; }).join('; '));
}
