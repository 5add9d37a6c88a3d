/**
 * The hybrid backend (Node: WASM + OpenSSL): that it is what init() picks in Node, that it is the WASM
 * backend for everything but modPow and large ChaCha20 inputs, that OpenSSL's refusals (results 0, 1,
 * p - 1) come back from WASM with the same answer, and random differential cases against WASM and JS
 * (modexp.test, chacha20.test and dh.test also run it; `npm run differential` scales all of these up).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HYBRID, JS, WASM } from './helpers/backends.js';
import { CASES, seededRandom } from './helpers/rng.js';
import { init, activeBackend, loadBackend } from '../ts/index.js';
import { DH_GROUPS } from '../ts/crypto/dh-groups.js';
import { dhKeyPair, dhSharedSecret } from '../ts/crypto/dh.js';
import { bigToBytesBE, bytesToHex } from '../ts/bytes.js';
import { OPENSSL_CHACHA_MIN_BYTES, opensslChacha, opensslChacha20 } from '../ts/backend/hybrid/chacha20.js';
import { opensslHmacSha1 } from '../ts/backend/hybrid/hmac.js';
import { hybridSelfTest } from '../ts/backend/hybrid/selftest.js';
import { OtrError } from '../ts/errors.js';
import type { DhGroupName } from '../ts/backend/types.js';

const GROUPS: readonly DhGroupName[] = ['modp3072', 'modp1536'];
const hex = bytesToHex;
const pad = (n: bigint, g: DhGroupName) => bigToBytesBE(n, DH_GROUPS[g].bytes);

test('init() picks the hybrid backend in Node; every backend stays selectable by name', async () => {
  assert.is((await init()).backend, 'hybrid');
  assert.is(activeBackend(), 'hybrid');
  for (const name of ['wasm', 'js', 'hybrid'] as const) assert.is((await init({ backend: name })).backend, name);
  assert.is(await loadBackend('hybrid'), HYBRID, 'one instance per process');
});

// The fused data-message calls are WASM's, limited to ciphertexts below OpenSSL's ChaCha20 threshold
// (test/ratchet-fused.test.ts checks the limit and the bytes). OTRv3's HMAC-SHA1 is OpenSSL's from
// OPENSSL_HMAC_MIN_BYTES, the WASM one below (session 15: test/hybrid-hmac.test.ts).
const OWN = new Set(['name', 'modPow', 'chacha20', 'sealDataMessage', 'openDataMessage', 'hmacSha1']);

test('the hybrid backend is the WASM one except for modPow, chacha20, HMAC-SHA1 and the fused data-message calls', () => {
  for (const k of Object.keys(WASM) as (keyof typeof WASM)[]) {
    if (OWN.has(k)) continue;
    assert.is((HYBRID as unknown as Record<string, unknown>)[k], (WASM as unknown as Record<string, unknown>)[k], k);
  }
  assert.is.not(HYBRID.modPow, WASM.modPow);
  assert.is.not(HYBRID.chacha20, WASM.chacha20);
  assert.is.not(HYBRID.hmacSha1, WASM.hmacSha1);
});

const OPENSSL = { chacha20: opensslChacha20, hmacSha1: opensslHmacSha1 };

test('the hybrid self-test fails loudly on a wrong answer', () => {
  const wrong = { ...HYBRID, modPow: () => new Uint8Array(384) };
  assert.throws(() => hybridSelfTest(wrong, OPENSSL), (e: unknown) => e instanceof OtrError && e.code === 'BACKEND');
  const badChacha = () => new Uint8Array(16);
  assert.throws(() => hybridSelfTest(HYBRID, { ...OPENSSL, chacha20: badChacha }), (e: unknown) => e instanceof OtrError && /chacha20/.test(e.message));
});

test('results OpenSSL refuses (0, 1, p - 1) are computed by WASM, identically', () => {
  for (const g of GROUPS) {
    const { p, q } = DH_GROUPS[g];
    const cases: [bigint, bigint][] = [
      [0n, 5n], [1n, 9n], [p - 1n, 1n], [p - 1n, 2n], [p - 1n, 3n], [p, 3n], [p + 1n, 7n],
      [4n, q], [3n, q], [3n, 0n], [5n, p - 1n], [2n, 0n], [2n, q], [2n, p - 1n],
    ];
    for (const [base, exp] of cases) {
      const b = pad(base, g);
      const e = exp === 0n ? new Uint8Array(0) : bigToBytesBE(exp);
      const want = hex(JS.modPow(g, b, e));
      assert.is(hex(HYBRID.modPow(g, b, e)), want, `${g} ${base}^${exp}`);
      assert.is(hex(WASM.modPow(g, b, e)), want, `${g} wasm ${base}^${exp}`);
    }
  }
});

test('exponents and bases at the edges of what OpenSSL takes: full-width, above p, all zeros, padded; same answer or the same typed error', () => {
  for (const g of GROUPS) {
    const { p, bytes } = DH_GROUPS[g];
    const ff = new Uint8Array(bytes).fill(0xff); // an exponent above p, at the length cap
    const bases = [Uint8Array.of(2), Uint8Array.of(0, 0, 2), Uint8Array.of(3), pad(p - 1n, g), pad(p, g), ff, new Uint8Array(0), new Uint8Array(bytes)];
    const exps = [ff, new Uint8Array(80), new Uint8Array(0), Uint8Array.of(0, 0, 1), bigToBytesBE(p), bigToBytesBE(p - 1n)];
    for (const base of bases)
      for (const exp of exps) {
        const what = `${g} base ${hex(base).slice(0, 8)}…(${base.length}) exp ${hex(exp).slice(0, 8)}…(${exp.length})`;
        assert.is(hex(HYBRID.modPow(g, base, exp)), hex(WASM.modPow(g, base, exp)), what);
      }
    // Past the length cap: the shared argument check refuses it before OpenSSL sees it, on every backend.
    const long = new Uint8Array(bytes + 1).fill(1);
    for (const [base, exp] of [[long, Uint8Array.of(3)], [Uint8Array.of(2), long], [Uint8Array.of(3), long]] as const)
      for (const be of [HYBRID, WASM, JS]) assert.throws(() => be.modPow(g, base, exp), (e: unknown) => e instanceof OtrError && e.code === 'INVALID_ARGUMENT', `${be.name} ${g}`);
  }
});

test(`modPow differential: hybrid = wasm = js on ${Math.ceil(CASES / 10)} random cases per group (random lengths, bases near p)`, () => {
  const rnd = seededRandom(0x4b1d);
  for (const g of GROUPS) {
    const { p, bytes } = DH_GROUPS[g];
    for (let i = 0; i < Math.ceil(CASES / 10); i++) {
      const r = rnd(2);
      const exp = rnd(i % 5 === 0 ? r[0]! % (bytes + 1) : 80);
      let base: Uint8Array;
      if (i % 7 === 0) base = pad(p - BigInt(r[1]!), g); // p - k, including p itself
      else if (i % 7 === 1) base = Uint8Array.of(2);
      else base = rnd(1 + (r[1]! % bytes));
      const want = hex(WASM.modPow(g, base, exp));
      assert.is(hex(HYBRID.modPow(g, base, exp)), want, `${g} case ${i}`);
      if (i % 10 === 0) assert.is(hex(JS.modPow(g, base, exp)), want, `${g} js case ${i}`);
    }
  }
});

test('modPow leaves the inputs unchanged and returns fresh, plain Uint8Arrays padded to the group size', () => {
  const rnd = seededRandom(17);
  for (const g of GROUPS) {
    for (const base of [Uint8Array.of(2), rnd(100)]) {
      const exp = rnd(80);
      const copies = [base.slice(), exp.slice()];
      const out = HYBRID.modPow(g, base, exp);
      assert.equal([base, exp], copies);
      assert.is(out.length, DH_GROUPS[g].bytes);
      assert.is(Object.getPrototypeOf(out), Uint8Array.prototype, 'not a Buffer (whose slice aliases)');
    }
  }
});

test('OTRv4 DH through the hybrid backend interoperates with the WASM and JS backends', () => {
  const rnd = seededRandom(0xd4);
  for (let i = 0; i < 8; i++) {
    const a = dhKeyPair(HYBRID, rnd);
    const b = dhKeyPair(i % 2 ? WASM : JS, rnd);
    assert.is(hex(dhSharedSecret(HYBRID, a.secret, b.public)), hex(dhSharedSecret(WASM, b.secret, a.public)), `case ${i}`);
    assert.is(hex(a.public), hex(dhKeyPair(WASM, () => a.secret).public));
  }
});

test(`chacha20: the threshold (${OPENSSL_CHACHA_MIN_BYTES} bytes) splits WASM and OpenSSL, with identical output around it`, () => {
  const rnd = seededRandom(0xc0de);
  const key = rnd(32);
  const nonce = rnd(12);
  const data = rnd(OPENSSL_CHACHA_MIN_BYTES * 3 + 7);
  const openssl = opensslChacha(WASM, 0);
  for (const n of [OPENSSL_CHACHA_MIN_BYTES - 1, OPENSSL_CHACHA_MIN_BYTES, OPENSSL_CHACHA_MIN_BYTES + 1, data.length]) {
    const d = data.subarray(0, n);
    const want = hex(WASM.chacha20(key, nonce, d, 3));
    assert.is(hex(HYBRID.chacha20(key, nonce, d, 3)), want, `hybrid ${n}`);
    assert.is(hex(openssl.chacha20(key, nonce, d, 3)), want, `openssl ${n}`);
    const out = HYBRID.chacha20(key, nonce, d, 3);
    assert.is(Object.getPrototypeOf(out), Uint8Array.prototype, 'not a Buffer');
    assert.is(out.byteOffset, 0);
  }
});

test(`chacha20 differential: OpenSSL = WASM on ${CASES} random lengths (0..20000) and counters`, () => {
  const rnd = seededRandom(0xc4a);
  const openssl = opensslChacha(WASM, 0);
  for (let i = 0; i < CASES; i++) {
    const r = rnd(8);
    const v = new DataView(r.buffer);
    const len = v.getUint16(0, true) % 20000;
    const counter = i % 3 === 0 ? 0 : v.getUint32(4, true) % (0xffffffff - Math.ceil(len / 64));
    const key = rnd(32);
    const nonce = rnd(12);
    const d = rnd(len);
    const want = WASM.chacha20(key, nonce, d, counter);
    const got = openssl.chacha20(key, nonce, d, counter);
    if (!Buffer.from(got).equals(want)) assert.unreachable(`case ${i}: len ${len} counter ${counter}`);
    if (i % 50 === 0 && hex(HYBRID.chacha20(key, nonce, d, counter)) !== hex(want)) assert.unreachable(`hybrid case ${i}`);
  }
});

test('a forced hybrid outside Node-capable builds is a typed error (the browser stub)', async () => {
  const stub = await import('../ts/backend/hybrid/unavailable.js');
  assert.is(stub.HYBRID_AVAILABLE, false);
  try {
    await stub.createHybridBackend(WASM as never);
    assert.unreachable('the stub created a backend');
  } catch (e) {
    assert.instance(e, OtrError);
    assert.is((e as OtrError).code, 'BACKEND');
  }
});

test.run();
