/**
 * The hybrid backend's Ed448 verification through OpenSSL (ts/backend/hybrid/ed448.ts, used for client-profile
 * signatures once H is validated) against the WASM path (ts/crypto/eddsa.ts ed448Verify): the same answer for
 * Wycheproof's vectors, RFC 8032-style random signatures and every single-bit tampering, cofactored
 * (torsion-shifted) nonces, S ≥ q, and the R encodings where OpenSSL's decoder is laxer than RFC 8032's
 * (x = 0 with the sign bit, y ≥ p) — which a profile owner could otherwise use to make a profile the
 * hybrid backend accepts and every other refuses.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed448 } from '@noble/curves/ed448.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { HYBRID, WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { bytesToHex, concatBytes, hexToBytes } from '../ts/bytes.js';
import { ed448Verify, SCALAR_Q_LE } from '../ts/crypto/eddsa.js';
import { createClientProfile, validateClientProfile } from '../ts/profile/client-profile.js';
import { ed448KeyPair } from '../ts/crypto/eddsa.js';
import { OtrArgumentError, OtrCryptoError } from '../ts/errors.js';

const viaOpenssl = HYBRID.ed448VerifyValidKey!;
const Point = ed448.Point;
const Q = Point.Fn.ORDER;
const DOM4 = new Uint8Array([0x53, 0x69, 0x67, 0x45, 0x64, 0x34, 0x34, 0x38, 0, 0]);
const leToBig = (b: Uint8Array) => BigInt('0x' + (bytesToHex(Uint8Array.from(b).reverse()) || '0'));
const bigToLe = (n: bigint, len = 57) => hexToBytes(n.toString(16).padStart(2 * len, '0')).reverse();
const hashMod = (...parts: Uint8Array[]) => leToBig(shake256(concatBytes(DOM4, ...parts), { dkLen: 114 })) % Q;

/** Both paths, and that they agree; returns the common answer. */
function both(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array, what: string): boolean {
  const w = ed448Verify(WASM, pub, msg, sig);
  assert.is(viaOpenssl(pub, msg, sig), w, what);
  return w;
}

/** OpenSSL alone, without the hybrid's byte checks (to show where they matter). */
function rawOpenssl(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    return nodeVerify(null, msg, createPublicKey({ key: { kty: 'OKP', crv: 'Ed448', x: Buffer.from(pub).toString('base64url') }, format: 'jwk' }), sig);
  } catch {
    return false;
  }
}

test('the hybrid backend offers it, the WASM backend does not', () => {
  assert.type(HYBRID.ed448VerifyValidKey, 'function');
  assert.is(WASM.ed448VerifyValidKey, undefined);
});

test('Wycheproof Ed448: every case with a valid public key gives the expected result on both paths', () => {
  const w = JSON.parse(readFileSync(new URL('../../vectors/wycheproof/ed448_test.json', import.meta.url), 'utf8')) as {
    testGroups: { publicKey: { pk: string }; tests: { tcId: number; msg: string; sig: string; result: string }[] }[];
  };
  let n = 0;
  for (const g of w.testGroups) {
    const pk = hexToBytes(g.publicKey.pk);
    if (!WASM.pointIsValid(pk)) continue; // the precondition: the profile's H is validated first
    for (const t of g.tests) {
      assert.is(both(pk, hexToBytes(t.msg), hexToBytes(t.sig), `tcId ${t.tcId}`), t.result === 'valid', `tcId ${t.tcId}`);
      n++;
    }
  }
  assert.ok(n >= 80, `${n} cases run`);
});

test('random keys and messages: valid signatures and every tampering agree (300 cases)', () => {
  const rnd = seededRandom(0x448);
  for (let i = 0; i < 300; i++) {
    const sk = rnd(57);
    const pub = ed448.getPublicKey(sk);
    const msg = rnd(rnd(1)[0]! * (i % 4));
    const sig = ed448.sign(msg, sk);
    assert.ok(both(pub, msg, sig, `valid ${i}`));
    const t = sig.slice();
    const bit = (rnd(1)[0]! | (rnd(1)[0]! << 8)) % (114 * 8);
    t[bit >> 3]! ^= 1 << (bit & 7);
    assert.not.ok(both(pub, msg, t, `tampered bit ${bit} in ${i}`));
    if (msg.length > 0) {
      const m = msg.slice();
      m[i % msg.length]! ^= 1;
      assert.not.ok(both(pub, m, sig, `message ${i}`));
    }
    assert.not.ok(both(pub, msg, concatBytes(sig.subarray(0, 57), bigToLe(leToBig(sig.subarray(57)) + Q)), `S + q ${i}`));
  }
});

/** The points of order dividing 4 other than the identity: (0, -1), (1, 0), (-1, 0). */
const TORSION = [hexToBytes('fe' + 'ff'.repeat(27) + 'fe' + 'ff'.repeat(27) + '00'), hexToBytes('00'.repeat(56) + '80'), hexToBytes('00'.repeat(57))].map((e) =>
  Point.fromBytes(e),
);

test('cofactored: R shifted by each point of order 2 or 4 is accepted by both, a wrong message refused by both', () => {
  const rnd = seededRandom(5);
  for (let i = 0; i < 18; i++) {
    const a = leToBig(rnd(57)) % Q;
    const r = leToBig(rnd(57)) % Q;
    const A = Point.BASE.multiply(a).toBytes();
    const R = Point.BASE.multiply(r).add(TORSION[i % 3]!).toBytes();
    const msg = rnd(i + 1);
    const k = hashMod(R, A, msg);
    const sig = concatBytes(R, bigToLe((r + k * a) % Q));
    assert.ok(both(A, msg, sig, `shift ${i}`));
    assert.not.ok(both(A, concatBytes(msg, Uint8Array.of(0)), sig, `shift ${i}, other message`));
  }
});

test('R of order dividing 4 with S = k·a: canonical encodings accepted by both (OpenSSL refuses x = 0: the WASM path answers), non-canonical refused by both', () => {
  const rnd = seededRandom(6);
  const p = (1n << 448n) - (1n << 224n) - 1n;
  const enc = (y: bigint, sign: boolean) => {
    const e = bigToLe(y, 57);
    if (sign) e[56]! |= 0x80;
    return e;
  };
  // With S = k·a, S·G − k·A is the identity: R must be a point of order dividing 4, however it is written.
  const canonicalTorsion = [enc(1n, false), enc(p - 1n, false), enc(0n, false), enc(0n, true)];
  const lax = [enc(1n, true), enc(p - 1n, true), enc(1n + p, false), enc(p, false), enc(p, true), enc(p + 1n, true)];
  let rawAccepts = 0;
  for (let i = 0; i < 4; i++) {
    const a = leToBig(rnd(57)) % Q;
    const A = Point.BASE.multiply(a).toBytes();
    const msg = rnd(9);
    for (const R of canonicalTorsion) {
      const k = hashMod(R, A, msg);
      assert.ok(both(A, msg, concatBytes(R, bigToLe((k * a) % Q)), `canonical torsion R ${bytesToHex(R)}`));
    }
    for (const R of lax) {
      const k = hashMod(R, A, msg);
      const sig = concatBytes(R, bigToLe((k * a) % Q));
      assert.not.ok(both(A, msg, sig, `lax R ${bytesToHex(R)}`));
      if (rawOpenssl(A, msg, sig)) rawAccepts++;
    }
  }
  // Informative, not the property: OpenSSL 3.0 alone happens to refuse these too (it refuses every x = 0 point);
  // the byte checks keep the answer independent of the OpenSSL version.
  void rawAccepts;
});

test('S = q, wrong lengths and a zero signature are refused by both', () => {
  const sk = seededRandom(7)(57);
  const pub = ed448.getPublicKey(sk);
  const msg = Uint8Array.of(1, 2, 3);
  const sig = ed448.sign(msg, sk);
  assert.not.ok(both(pub, msg, concatBytes(sig.subarray(0, 57), SCALAR_Q_LE), 'S = q'));
  assert.not.ok(both(pub, msg, new Uint8Array(114), 'zero'));
  for (const n of [0, 113, 115]) assert.not.ok(both(pub, msg, concatBytes(sig, new Uint8Array(2)).subarray(0, n), `length ${n}`));
});

test('validateClientProfile on the hybrid backend: the same accept / BAD_SIGNATURE as on WASM', () => {
  const rnd = seededRandom(8);
  const now = 1_700_000_000_000;
  const p = createClientProfile(WASM, { ownerTag: 0x1234, identitySecret: rnd(57), forgingKey: ed448KeyPair(WASM, rnd(57)).publicKey, versions: '4', expiry: BigInt(now / 1000 + 3600) });
  for (const b of [WASM, HYBRID]) assert.ok(validateClientProfile(b, p, { nowMs: now }));
  for (const i of [0, 56, 57, 100, 113]) {
    const sig = p.signature.slice();
    sig[i]! ^= 0x01;
    const bad = { ...p, signature: sig };
    for (const b of [WASM, HYBRID])
      assert.throws(() => validateClientProfile(b, bad, { nowMs: now }), (e: unknown) => e instanceof OtrCryptoError && e.code === 'BAD_SIGNATURE', `${b.name} byte ${i}`);
  }
});

test('validateClientProfile on the hybrid backend: a hand-built non-Uint8Array signature is the same OtrArgumentError as on WASM', () => {
  const rnd = seededRandom(9);
  const now = 1_700_000_000_000;
  const p = createClientProfile(WASM, { ownerTag: 0x1234, identitySecret: rnd(57), forgingKey: ed448KeyPair(WASM, rnd(57)).publicKey, versions: '4', expiry: BigInt(now / 1000 + 3600) });
  const bad = { ...p, signature: Array.from(p.signature) as unknown as Uint8Array };
  for (const b of [WASM, HYBRID])
    assert.throws(() => validateClientProfile(b, bad, { nowMs: now }), (e: unknown) => e instanceof OtrArgumentError && /Ed448 signature must be a Uint8Array/.test((e as Error).message), b.name);
});

test.run();
