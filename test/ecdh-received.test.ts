/**
 * ecdhReceived (ts/crypto/ecdh.ts) and the fused pointMulValid it uses where the backend has one (WASM, hybrid:
 * assembly/ed448ecdh.ts): a new ratchet's ECDH key is validated and multiplied with one decoding of the point.
 * It must be the composition it replaces — validPoint then ecdhValidated — for every input: the same bytes
 * for valid keys (and the same as the JS backend and noble), the same typed error for every invalid one
 * (undecodable, the identity, small order, a torsion component, wrong lengths), in the same order.
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

test.run();
