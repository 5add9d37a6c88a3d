/**
 * ecdhReceived (ts/crypto/ecdh.ts) and the fused pointMulValid it uses where the backend has one (WASM, hybrid:
 * assembly/ed448ecdh.ts): a new ratchet's ECDH key is validated and multiplied with one decoding of the point.
 * It must be the composition it replaces — validPoint then ecdhValidated — for every input: the same bytes
 * for valid keys (and the same as the JS backend and noble), the same typed error for every invalid one
 * (undecodable, the identity, small order, a torsion component, wrong lengths), in the same order. The x that
 * pointMulValid decoded, kept for the same key array's next pointMul (the sender's step), must never change a
 * result: not when the array is altered afterwards, not for a hint that is not the decoding's x.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ed448 } from '@noble/curves/ed448.js';
import { BACKENDS, HYBRID, JS, WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { bytesToHex, hexToBytes } from '../ts/bytes.js';
import { OtrError } from '../ts/errors.js';
import { ecdhKeyPairFromRandom, ecdhReceived, ecdhValidated } from '../ts/crypto/ecdh.js';
import { validPoint } from '../ts/crypto/validated.js';
import { IDENTITY_POINT } from '../ts/crypto/point.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import type { WasmBackend } from '../ts/backend/wasm/index.js';

const ALL: readonly CryptoBackend[] = [...BACKENDS, HYBRID];
const leToBig = (b: Uint8Array) => BigInt('0x' + (bytesToHex(Uint8Array.from(b).reverse()) || '0'));

/** The points of order dividing 4: identity, (0, -1), (1, 0), (-1, 0). */
const SMALL_ORDER = [
  IDENTITY_POINT,
  hexToBytes('fe' + 'ff'.repeat(27) + 'fe' + 'ff'.repeat(27) + '00'),
  hexToBytes('00'.repeat(56) + '80'),
  hexToBytes('00'.repeat(57)),
];

/** The composition ecdhReceived replaces, as a result or the thrown error's class, code and message. */
function composed(b: CryptoBackend, s: Uint8Array, p: Uint8Array): string {
  try {
    const v = validPoint(b, p, 'ECDH public key');
    return bytesToHex(ecdhValidated(b, s, v));
  } catch (e) {
    return describe(e);
  }
}

function fused(b: CryptoBackend, s: Uint8Array, p: Uint8Array): string {
  try {
    const r = ecdhReceived(b, s, p, 'ECDH public key');
    assert.is(r.theirPublic, p, 'the key is returned (marked), not a copy');
    return bytesToHex(r.shared);
  } catch (e) {
    return describe(e);
  }
}

function describe(e: unknown): string {
  if (!(e instanceof OtrError)) throw e;
  return `${e.constructor.name}/${e.code}/${e.message}`;
}

test('WASM and hybrid offer the fused call; JS composes', () => {
  assert.type(WASM.pointMulValid, 'function');
  assert.type(HYBRID.pointMulValid, 'function');
  assert.is(JS.pointMulValid, undefined);
});

test('valid keys: the same K as the composition, on every backend, and as noble', () => {
  const rnd = seededRandom(41);
  for (let i = 0; i < 24; i++) {
    const ours = ecdhKeyPairFromRandom(WASM, rnd(57));
    const theirs = ecdhKeyPairFromRandom(WASM, rnd(57)).public;
    const want = ed448.Point.fromBytes(theirs).multiply(leToBig(ours.secret) % ed448.Point.Fn.ORDER).toBytes();
    for (const b of ALL) {
      assert.is(fused(b, ours.secret, theirs), bytesToHex(want), `${b.name} #${i}`);
      assert.is(composed(b, ours.secret, theirs), bytesToHex(want), `${b.name} #${i} (composed)`);
    }
  }
});

test('pointMulValid: null exactly when pointIsValid is false, else pointMul', () => {
  const rnd = seededRandom(42);
  const s = ecdhKeyPairFromRandom(WASM, rnd(57)).secret;
  const valid = ecdhKeyPairFromRandom(WASM, rnd(57)).public;
  const inputs: Uint8Array[] = [valid, ...SMALL_ORDER];
  // A torsion component on a valid point (each small-order point added), a flipped sign bit, y >= p,
  // bits 448..454 set, random bytes (mostly not on the curve).
  for (const t of SMALL_ORDER.slice(1)) inputs.push(WASM.pointAdd(valid, t));
  const flipped = valid.slice();
  flipped[56]! ^= 0x80;
  inputs.push(flipped, Uint8Array.from({ length: 57 }, (_, i) => (i < 56 ? 0xff : 0)));
  const high = valid.slice();
  high[56]! |= 0x01;
  inputs.push(high);
  for (let i = 0; i < 16; i++) inputs.push(rnd(57));
  let nulls = 0;
  for (const b of [WASM, HYBRID]) {
    for (const p of inputs) {
      const got = b.pointMulValid!(p, s);
      if (b.pointIsValid(p)) assert.equal(got, b.pointMul(p, s), bytesToHex(p));
      else {
        assert.is(got, null, bytesToHex(p));
        nulls++;
      }
    }
  }
  assert.ok(nulls >= 2 * (SMALL_ORDER.length + 3 + 3), `the invalid inputs were covered (${nulls})`);
});

test('invalid keys and bad lengths: the same typed error as the composition, on every backend', () => {
  const rnd = seededRandom(43);
  const s = ecdhKeyPairFromRandom(WASM, rnd(57)).secret;
  const valid = ecdhKeyPairFromRandom(WASM, rnd(57)).public;
  const cases: [Uint8Array, Uint8Array][] = [];
  for (const p of SMALL_ORDER) cases.push([s, p]);
  for (const t of SMALL_ORDER.slice(1)) cases.push([s, WASM.pointAdd(valid, t)]);
  cases.push([s, valid.subarray(0, 56)], [s, new Uint8Array(58)], [s.subarray(0, 56), valid], [new Uint8Array(57), valid]);
  for (let i = 0; i < 8; i++) cases.push([s, rnd(57)]);
  for (const b of ALL) {
    for (const [k, p] of cases) {
      const want = composed(b, k, p);
      assert.is(fused(b, k, p), want, `${b.name}: ${bytesToHex(p)}`);
      assert.ok(!/^[0-9a-f]+$/.test(want) || p === valid, 'an invalid case was accepted');
    }
  }
  // The zero scalar against a valid key: the identity refusal, after the point check passed.
  for (const b of ALL) assert.match(fused(b, new Uint8Array(57), valid), /identity/);
});

test('a key checked by pointMulValid multiplies to the same bytes later (the decoded-x hint), even if altered', () => {
  const rnd = seededRandom(44);
  for (const b of [WASM, HYBRID]) {
    for (let i = 0; i < 12; i++) {
      const key = ecdhKeyPairFromRandom(WASM, rnd(57)).public;
      const held = key.slice();
      const s1 = ecdhKeyPairFromRandom(WASM, rnd(57)).secret;
      const s2 = ecdhKeyPairFromRandom(WASM, rnd(57)).secret;
      assert.ok(b.pointMulValid!(held, s1) !== null);
      assert.equal(b.pointMul(held, s2), b.pointMul(key.slice(), s2), `${b.name} #${i}`);
    }
    // The same array altered after its check: another valid key, the sign bit flipped, an undecodable value,
    // a torsion component. Each must give exactly what a fresh array with those bytes gives.
    const key = ecdhKeyPairFromRandom(WASM, rnd(57)).public;
    const s = ecdhKeyPairFromRandom(WASM, rnd(57)).secret;
    const other = ecdhKeyPairFromRandom(WASM, rnd(57)).public;
    const alterations: ((a: Uint8Array) => void)[] = [
      (a) => a.set(other),
      (a) => (a[56]! ^= 0x80),
      (a) => a.fill(0xff, 0, 56),
      (a) => a.set(WASM.pointAdd(key, SMALL_ORDER[2]!)),
    ];
    for (const alter of alterations) {
      const held = key.slice();
      assert.ok(b.pointMulValid!(held, s) !== null);
      alter(held);
      const fresh = held.slice();
      let want: string;
      try {
        want = bytesToHex(b.pointMul(fresh, s));
      } catch (e) {
        want = describe(e);
      }
      let got: string;
      try {
        got = bytesToHex(b.pointMul(held, s));
      } catch (e) {
        got = describe(e);
      }
      assert.is(got, want, `${b.name}: altered to ${bytesToHex(held)}`);
    }
  }
});

// Both modules export it: the SIMD one (the WASM backend's in Node) and the main one (runtimes without SIMD).
for (const ctx of [(WASM as WasmBackend).ed448Context, (WASM as WasmBackend).context]) test(`ed448_mul_hinted (${ctx === (WASM as WasmBackend).context ? 'main' : 'simd'} module): a hint that is not the decoding's x (negated, off the curve, unreduced, another point's) changes nothing`, () => {
  const rnd = seededRandom(45);
  const P = 2n ** 448n - 2n ** 224n - 1n;
  const le = (n: bigint, len: number) => Uint8Array.from({ length: len }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
  for (let i = 0; i < 8; i++) {
    const key = ecdhKeyPairFromRandom(WASM, rnd(57)).public;
    const s = ecdhKeyPairFromRandom(WASM, rnd(57)).secret;
    const want = bytesToHex(WASM.pointMul(key.slice(), s));
    const x = ed448.Point.fromBytes(key).toAffine().x;
    const hints = [x, P - x, x + 1n, x + P, leToBig(rnd(56)), ed448.Point.fromBytes(ecdhKeyPairFromRandom(WASM, rnd(57)).public).toAffine().x];
    for (const [j, h] of hints.entries()) {
      if (h >= 2n ** 448n) continue;
      ctx.mem.set(key, ctx.io);
      ctx.mem.set(s, ctx.io + 128);
      ctx.mem.set(le(h, 56), ctx.io + 256);
      assert.is(ctx.exports.ed448_mul_hinted(), 1, `hint ${j}`);
      assert.is(bytesToHex(ctx.mem.slice(ctx.io + 384, ctx.io + 441)), want, `key ${i} hint ${j}`);
      assert.ok(ctx.mem.subarray(ctx.io, ctx.io + 384).every((v) => v === 0), 'inputs wiped');
      ctx.mem.fill(0, ctx.io + 384, ctx.io + 441);
    }
  }
  // An undecodable key with a plausible hint is still refused.
  ctx.mem.set(new Uint8Array(57).fill(0xff, 0, 56), ctx.io);
  ctx.mem.set(new Uint8Array(57).fill(7, 0, 56), ctx.io + 128);
  assert.is(ctx.exports.ed448_mul_hinted(), 0);
});

test.run();
