// Interleaved CPU-time A/B of two builds for the ratio targets' operations (docs/performance.md, "Outside the
// exponentiation: session 11"): each build in its own worker thread, one running at a time, batches
// alternating with the order swapped each time, CPU per batch (process.cpuUsage: other processes' load is not
// charged to us). Prints per phase and overall min / median µs per op and B/A.
//
//   node scripts/ab-ratchet.mjs BUILD_A BUILD_B [phases] [batches per phase] [op,op,...]
//
// ops: pp.hybrid pp.wasm dake.hybrid dake.wasm (the bench cases ratchet.pingpong, dake.interactive), basemult
// varmult (ed448.basemult / ed448.varmult, wasm), stepA.IMPL / stepB.IMPL (a ping-pong's sending step —
// encryptDataMessage on a new ratchet — and receiving step — decryptDataMessage — timed apart; IMPL hybrid or wasm).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { resolve } from 'node:path';
import { loadavg } from 'node:os';
if (isMainThread) {
  const dirs = [resolve(process.argv[2]), resolve(process.argv[3])];
  const phases = Number(process.argv[4] ?? 5), per = Number(process.argv[5] ?? 4);
  const ops = (process.argv[6] ?? 'pp.hybrid,pp.wasm').split(',');
  const ws = dirs.map((dir) => new Worker(new URL(import.meta.url), { workerData: { dir } }));
  const call = (w, m) => new Promise((r) => { w.once('message', r); w.postMessage(m); });
  for (const w of ws) await call(w, { setup: ops });
  const res = Object.fromEntries(ops.map((o) => [o, [[], []]]));
  console.log('load', loadavg().map((x) => x.toFixed(1)).join(' '));
  for (let p = 0; p < phases; p++) {
    const ph = Object.fromEntries(ops.map((o) => [o, [[], []]]));
    for (let i = 0; i < per; i++) for (const o of ops) for (const k of (i + p) % 2 ? [1, 0] : [0, 1]) ph[o][k].push(await call(ws[k], { run: o }));
    for (const o of ops) { res[o][0].push(ph[o][0]); res[o][1].push(ph[o][1]); }
    const f = (xs) => { const s = [...xs].sort((a, b) => a - b); return `${s[0].toFixed(1)}/${s[s.length >> 1].toFixed(1)}`; };
    console.log(`phase ${p + 1} (load ${loadavg()[0].toFixed(1)}):`, ops.map((o) => `${o} A ${f(ph[o][0])} B ${f(ph[o][1])} B/A ${(med(ph[o][1]) / med(ph[o][0])).toFixed(3)}`).join(' | '));
  }
  function med(xs) { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; }
  console.log('ALL (min / median µs CPU per op; B/A of medians; per-phase B/A of medians)');
  for (const o of ops) { const a = res[o][0].flat(), b = res[o][1].flat(); const mn = (x) => Math.min(...x);
    console.log(`${o.padEnd(14)} A ${mn(a).toFixed(1)} / ${med(a).toFixed(1)}   B ${mn(b).toFixed(1)} / ${med(b).toFixed(1)}   B/A min ${(mn(b) / mn(a)).toFixed(3)} med ${(med(b) / med(a)).toFixed(3)}   phases ${res[o][0].map((x, i) => (med(res[o][1][i]) / med(x)).toFixed(3)).join(' ')}`); }
  for (const w of ws) await w.terminate();
} else {
  const { dir } = workerData;
  const imp = (p) => import(`${dir}/${p}`);
  const { loadBackend } = await imp('ts/backend/select.js');
  const proto = await imp('bench/suites/protocol.js');
  const group = await imp('bench/suites/ed448-group.js');
  const { systemRandom } = await imp('ts/crypto/random.js');
  const { ed448KeyPair } = await imp('ts/crypto/eddsa.js');
  const { createClientProfile } = await imp('ts/profile/client-profile.js');
  const { checkSigningKey } = await imp('ts/crypto/ring-sig.js');
  const { decodeDataMessage } = await imp('ts/wire/data.js');
  const { DAKE_IDLE, receiveAuthI, receiveAuthR, receiveIdentity, startDake } = await imp('ts/ake/index.js');
  const { decryptDataMessage, encryptDataMessage } = await imp('ts/ratchet/index.js');
  const ctx = { wasm: await loadBackend('wasm'), js: await loadBackend('js'), hybrid: await loadBackend('hybrid') };
  const cases = [...(await proto.cases(ctx)), ...(await group.cases(ctx))];
  const find = (n, i) => cases.find((c) => c.name === n && c.impl === i).fn;
  const NOW = Date.now();
  // Ratchet steps measured apart: a pingpong where each message's encrypt (sender step: A) and decrypt
  // (receiver step: B) are timed separately.
  function steps(b) {
    const local = (tag, acct, peer) => { const identitySecret = systemRandom(57); const forgingKey = ed448KeyPair(b, systemRandom(57)).publicKey;
      const profile = createClientProfile(b, { ownerTag: tag, identitySecret, forgingKey, versions: '4', expiry: BigInt(Math.floor(NOW / 1000) + 86400) });
      const enc = new TextEncoder(); const id = ed448KeyPair(b, identitySecret);
      return { instanceTag: tag, profile, identityScalar: id.scalar, identitySigner: checkSigningKey(b, id.scalar, id.publicKey), accountId: enc.encode(acct), peerAccountId: enc.encode(peer) }; };
    const bob = local(0x0b0b, 'bob@x', 'alice@x'), alice = local(0x0a0a, 'alice@x', 'bob@x');
    const s1 = startDake(b, systemRandom, bob); const s2 = receiveIdentity(b, systemRandom, alice, DAKE_IDLE, s1.message, NOW);
    const s3 = receiveAuthR(b, systemRandom, bob, s1.state, s2.message, NOW); const s4 = receiveAuthI(b, alice, s2.state, s3.message);
    const st = { alice: s4.established.ratchet, bob: s3.established.ratchet }; const tags = { alice: 0x0a0a, bob: 0x0b0b };
    const p100 = new Uint8Array(100).fill(0x61); let turn = 0; let ta = 0, tb = 0;
    const one = () => { const from = turn++ % 2 === 0 ? 'bob' : 'alice'; const to = from === 'alice' ? 'bob' : 'alice';
      let t = process.cpuUsage(); const s = encryptDataMessage(b, systemRandom, st[from], p100, { senderTag: tags[from], receiverTag: tags[to] }); st[from] = s.state;
      let d = process.cpuUsage(t); ta += d.user + d.system; const m = decodeDataMessage(s.message);
      t = process.cpuUsage(); const r = decryptDataMessage(b, st[to], m, { now: NOW }); st[to] = r.state; d = process.cpuUsage(t); tb += d.user + d.system; };
    for (let i = 0; i < 6; i++) one();
    return { run(n) { ta = 0; tb = 0; for (let i = 0; i < n; i++) one(); return [ta / n, tb / n]; } };
  }
  const stepper = { hybrid: null, wasm: null };
  const getSteps = (impl) => (stepper[impl] ??= steps(ctx[impl]));
  const fns = { 'pp.hybrid': find('ratchet.pingpong', 'hybrid'), 'pp.wasm': find('ratchet.pingpong', 'wasm'), 'dake.hybrid': find('dake.interactive', 'hybrid'), 'dake.wasm': find('dake.interactive', 'wasm'), basemult: find('ed448.basemult', 'wasm'), varmult: find('ed448.varmult', 'wasm') };
  const N = { 'pp.hybrid': 60, 'pp.wasm': 40, 'dake.hybrid': 8, 'dake.wasm': 5, basemult: 2000, varmult: 600, step: 60 };
  parentPort.on('message', (m) => {
    if (m.setup) { for (const o of m.setup) { if (o.startsWith('step')) getSteps(o.split('.')[1]).run(10); else for (let i = 0; i < 5; i++) fns[o](); } parentPort.postMessage(0); return; }
    const o = m.run;
    if (o.startsWith('step')) { const [ab, impl] = o.split('.'); const r = getSteps(impl).run(N.step); parentPort.postMessage(ab === 'stepA' ? r[0] : r[1]); return; }
    const n = N[o]; const t = process.cpuUsage(); for (let i = 0; i < n; i++) fns[o](); const d = process.cpuUsage(t);
    parentPort.postMessage((d.user + d.system) / n);
  });
}
