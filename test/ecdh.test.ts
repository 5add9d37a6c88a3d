import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ed448 } from '@noble/curves/ed448.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { bytesToHex, hexToBytes } from '../ts/bytes.js';
import { OtrArgumentError, OtrCryptoError } from '../ts/errors.js';
import { ecdh, ecdhKeyPairFromRandom, ecdhPublicKey, generateEcdh, randomScalar } from '../ts/crypto/ecdh.js';
import { SCALAR_Q_LE, scalarIsCanonical } from '../ts/crypto/eddsa.js';
import { IDENTITY_POINT } from '../ts/crypto/point.js';

const Point = ed448.Point;
const Q = Point.Fn.ORDER;
const leToBig = (b: Uint8Array) => BigInt('0x' + (bytesToHex(Uint8Array.from(b).reverse()) || '0'));
const bigToLe = (n: bigint) => hexToBytes(n.toString(16).padStart(114, '0')).reverse();

/** The points of order dividing 4: identity, (0, -1), (1, 0), (-1, 0). */
const SMALL_ORDER = [
  IDENTITY_POINT,
  hexToBytes('fe' + 'ff'.repeat(27) + 'fe' + 'ff'.repeat(27) + '00'),
  hexToBytes('00'.repeat(56) + '80'),
  hexToBytes('00'.repeat(57)),
];

const isInvalidPoint = (e: unknown) => e instanceof OtrCryptoError && e.code === 'INVALID_POINT';
const isArgError = (e: unknown) => e instanceof OtrArgumentError && e.code === 'INVALID_ARGUMENT';

test('generateEcdh: s = prune(SHAKE-256(r, 114)[0..57]), public = G·s; r and h wiped', () => {
  for (const b of BACKENDS) {
    const rnd = seededRandom(7);
    for (let i = 0; i < 16; i++) {
      let drawn: Uint8Array | undefined;
      let expected: Uint8Array | undefined;
      const kp = generateEcdh(b, (n) => {
        drawn = rnd(n);
        expected = drawn.slice();
        return drawn;
      });
      assert.is(drawn!.length, 57);
      assert.ok(drawn!.every((x) => x === 0), `${b.name}: r wiped`);
      const h = shake256(expected!, { dkLen: 114 }).subarray(0, 57);
      h[0]! &= 0xfc;
      h[55]! |= 0x80;
      h[56] = 0;
      assert.is(bytesToHex(kp.secret), bytesToHex(h));
      assert.is(bytesToHex(kp.public), bytesToHex(Point.BASE.multiply(leToBig(h) % Q).toBytes()));
      assert.is(bytesToHex(ecdhPublicKey(b, kp.secret)), bytesToHex(kp.public));
      assert.ok(b.pointIsValid(kp.public));
    }
  }
});

test('ecdhKeyPairFromRandom is the Ed448 key derivation: RFC 8032 §7.4 "blank" secret gives its public key', () => {
  const r = hexToBytes('6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b');
  for (const b of BACKENDS)
    assert.is(
      bytesToHex(ecdhKeyPairFromRandom(b, r).public),
      '5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180',
    );
});

test('ecdh: symmetric, equal to noble s·B, identical on every backend', () => {
  const rnd = seededRandom(0xecd);
  for (let i = 0; i < 24; i++) {
    const results = BACKENDS.map((b) => {
      const alice = generateEcdh(b, rnd);
      const bob = generateEcdh(b, rnd);
      const k1 = ecdh(b, alice.secret, bob.public);
      const k2 = ecdh(b, bob.secret, alice.public);
      assert.is(bytesToHex(k1), bytesToHex(k2), `${b.name} symmetric`);
      const want = Point.fromBytes(bob.public).multiply(leToBig(alice.secret) % Q).toBytes();
      assert.is(bytesToHex(k1), bytesToHex(want), `${b.name} = noble`);
      return { alice, bob, k1 };
    });
    // Keys from one backend, shared secret on the other.
    for (const b of BACKENDS)
      for (const r of results) assert.is(bytesToHex(ecdh(b, r.alice.secret, r.bob.public)), bytesToHex(r.k1), `${b.name} cross`);
  }
});

test('ecdh rejects the identity and the other points of order 2 and 4 with INVALID_POINT, on every backend', () => {
  const s = generateEcdh(BACKENDS[0]!, seededRandom(1)).secret;
  for (const b of BACKENDS)
    for (const p of SMALL_ORDER) assert.throws(() => ecdh(b, s, p), isInvalidPoint, `${b.name} ${bytesToHex(p)}`);
});

test('ecdh rejects points with a torsion component (P + T, T of order 2 or 4)', () => {
  const rnd = seededRandom(2);
  for (const b of BACKENDS) {
    const s = generateEcdh(b, rnd).secret;
    for (let i = 0; i < 6; i++) {
      const P = Point.fromBytes(generateEcdh(b, rnd).public);
      for (const t of SMALL_ORDER.slice(1)) {
        const mixed = P.add(Point.fromBytes(t)).toBytes();
        assert.ok(b.pointDecodes(mixed), 'a real curve point');
        assert.throws(() => ecdh(b, s, mixed), isInvalidPoint, `${b.name} torsion`);
      }
    }
  }
});

test('ecdh rejects non-canonical and off-curve encodings with INVALID_POINT', () => {
  const b0 = BACKENDS[0]!;
  const kp = generateEcdh(b0, seededRandom(3));
  const valid = generateEcdh(b0, seededRandom(4)).public;
  const bad = [
    hexToBytes('ff'.repeat(28) + 'fe' + 'ff'.repeat(27) + '00'), // y = p
    hexToBytes('00'.repeat(28) + 'ff'.repeat(28) + '00'), // y = p + 1 ≡ 1
    hexToBytes('ff'.repeat(56) + '00'), // y = 2^448 - 1 > p
    hexToBytes('01' + '00'.repeat(55) + '80'), // y = 1 with x's sign bit set: x = 0 has no negative
    hexToBytes('02' + '00'.repeat(56)), // y = 2: not on the curve
    ...[0x01, 0x02, 0x40, 0x7f].map((bit) => valid.map((x, i) => (i === 56 ? x | bit : x))), // bits 448..454
  ];
  for (const b of BACKENDS) for (const p of bad) assert.throws(() => ecdh(b, kp.secret, p), isInvalidPoint, `${b.name} ${bytesToHex(p)}`);
});

test('ecdh refuses an identity result (secret ≡ 0 mod q, e.g. 0 or the pruned-shaped 4q)', () => {
  const pub = generateEcdh(BACKENDS[0]!, seededRandom(5)).public;
  const fourQ = bigToLe(4n * Q);
  assert.is(fourQ[0]! & 3, 0);
  assert.is(fourQ[56], 0);
  assert.ok(fourQ[55]! & 0x80, '4q has the pruned shape');
  for (const b of BACKENDS) {
    assert.throws(() => ecdh(b, new Uint8Array(57), pub), isInvalidPoint, `${b.name} zero`);
    assert.throws(() => ecdh(b, fourQ, pub), isInvalidPoint, `${b.name} 4q`);
    assert.throws(() => ecdh(b, SCALAR_Q_LE, pub), isInvalidPoint, `${b.name} q`);
  }
});

test('ecdh: wrong lengths or types are OtrArgumentError (same type on every backend)', () => {
  const kp = generateEcdh(BACKENDS[0]!, seededRandom(6));
  for (const b of BACKENDS) {
    for (const n of [0, 56, 58]) {
      assert.throws(() => ecdh(b, kp.secret, new Uint8Array(n)), isArgError);
      assert.throws(() => ecdh(b, new Uint8Array(n), kp.public), isArgError);
    }
    assert.throws(() => ecdh(b, kp.secret, 'x' as never), isArgError);
    assert.throws(() => ecdh(b, null as never, kp.public), isArgError);
    assert.throws(() => generateEcdh(b, () => new Uint8Array(10)), isArgError);
  }
});

test('randomScalar: SHAKE-256(v, 57), pruned, reduced mod q; v wiped; identical on every backend', () => {
  const outs = BACKENDS.map((b) => {
    const rnd = seededRandom(9);
    const got: string[] = [];
    for (let i = 0; i < 32; i++) {
      let v: Uint8Array | undefined;
      let copy: Uint8Array | undefined;
      const s = randomScalar(b, (n) => {
        v = rnd(n);
        copy = v.slice();
        return v;
      });
      assert.ok(v!.every((x) => x === 0), 'v wiped');
      const h = shake256(copy!, { dkLen: 57 });
      h[0]! &= 0xfc;
      h[55]! |= 0x80;
      h[56] = 0;
      assert.ok(scalarIsCanonical(s));
      assert.is(bytesToHex(s), bytesToHex(bigToLe(leToBig(h) % Q)));
      got.push(bytesToHex(s));
    }
    return got.join();
  });
  for (const o of outs) assert.is(o, outs[0]);
});

test.run();
