import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { ed448 } from '@noble/curves/ed448.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { assertBitFlipsSafe, assertRandomSafe, assertTruncationsRejected } from './helpers/mutate.js';
import { bytesToHex, hexToBytes, bytesToBigBE, concatBytes } from '../ts/bytes.js';
import { OtrArgumentError, OtrCryptoError, OtrDecodeError, OtrError } from '../ts/errors.js';
import { dsaSign, type DsaPrivateKey } from '../ts/crypto/dsa.js';
import { BASE_POINT } from '../ts/crypto/point.js';
import {
  createClientProfile,
  decodeClientProfile,
  encodeClientProfile,
  expiryFromNow,
  fingerprint,
  isExpired,
  needsRenewal,
  profileFingerprint,
  renewClientProfile,
  signClientProfile,
  validateClientProfile,
  verifyTransitionalSignature,
  type ClientProfile,
} from '../ts/profile/client-profile.js';
import { encodeProfileFields, profileSignedBytes, profileTransitionalSignedBytes } from '../ts/profile/encoding.js';

const VECTOR = hexToBytes(
  readFileSync(new URL('../../vectors/otr4j/client-profile-v34-dsa.hex', import.meta.url), 'utf8').trim(),
);
// Expiry of the vector is 0x787e9120 (2034); validate "now" well before it.
const NOW_MS = 1_700_000_000_000;

test('otr4j vector: decodes to the documented fields', () => {
  assert.is(VECTOR.length, 730);
  const p = decodeClientProfile(VECTOR);
  assert.is(p.ownerTag, 0xd7ba32d8);
  assert.is(p.versions, '34');
  assert.is(p.expiry, 0x787e9120n);
  assert.ok(p.dsaKey);
  assert.is(p.dsaKey!.q.toString(2).length, 160);
  assert.is(p.transitionalSignature!.length, 40);
  assert.equal(p.encoded, VECTOR);
});

test('otr4j vector: re-encodes byte for byte', () => {
  const p = decodeClientProfile(VECTOR);
  assert.is(bytesToHex(encodeClientProfile(p, p.signature)), bytesToHex(VECTOR));
  assert.is(bytesToHex(encodeProfileFields(p)), bytesToHex(profileSignedBytes(p)));
});

test('otr4j vector: Ed448 signature (fields without the count) verifies with @noble/curves too', () => {
  const p = decodeClientProfile(VECTOR);
  assert.ok(ed448.verify(p.signature, profileSignedBytes(p), p.identityKey));
  // ...and the count-prefixed message does not (interpretations.md §2).
  assert.not.ok(ed448.verify(p.signature, VECTOR.subarray(0, VECTOR.length - 114), p.identityKey));
});

test('otr4j vector: transitional DSA signature over fields 1–6 read as an integer verifies', () => {
  const p = decodeClientProfile(VECTOR);
  assert.ok(verifyTransitionalSignature(p));
  const tampered = { ...p, transitionalSignature: p.transitionalSignature!.map((x, i) => (i === 39 ? x ^ 1 : x)) };
  assert.not.ok(verifyTransitionalSignature(tampered));
});

for (const b of BACKENDS) {
  test(`[${b.name}] otr4j vector validates (both signatures), with the sender tag check`, () => {
    const p = decodeClientProfile(VECTOR);
    validateClientProfile(b, p, { nowMs: NOW_MS, expectedOwnerTag: 0xd7ba32d8 });
    assert.throws(
      () => validateClientProfile(b, p, { nowMs: NOW_MS, expectedOwnerTag: 0xd7ba32d9 }),
      (e: unknown) => e instanceof OtrDecodeError,
    );
    assert.throws(
      () => validateClientProfile(b, p, { nowMs: Number(0x787e9120n) * 1000 }),
      (e: unknown) => e instanceof OtrError && e.code === 'EXPIRED',
    );
    validateClientProfile(b, p, { nowMs: Number(0x787e9120n) * 1000 - 1000 });
    validateClientProfile(b, p, { nowMs: Number(0x787e9120n) * 1000, graceSeconds: 86400 });
  });
}

// ---- our own profiles ----

const rnd = seededRandom(0xc11e);
const identitySecret = rnd(57);
const forgingKey = ed448.getPublicKey(rnd(57));

/** A small DSA key from the vector's domain parameters (p, q, g are public; x is ours). */
function dsaKey(): DsaPrivateKey {
  const { p, q, g } = decodeClientProfile(VECTOR).dsaKey!;
  const x = bytesToBigBE(rnd(20)) % q;
  let y = 1n;
  let base = g % p;
  for (let e = x; e > 0n; e >>= 1n) {
    if (e & 1n) y = (y * base) % p;
    base = (base * base) % p;
  }
  return { p, q, g, x, y };
}

for (const b of BACKENDS) {
  test(`[${b.name}] create "4": signature by our Ed448 matches @noble/curves, validates, round-trips`, () => {
    const p = createClientProfile(b, { ownerTag: 0x1000, identitySecret, forgingKey, versions: '4', expiry: expiryFromNow(NOW_MS) });
    assert.equal(p.identityKey, ed448.getPublicKey(identitySecret));
    assert.equal(p.signature, ed448.sign(encodeProfileFields(p), identitySecret));
    assert.is(p.encoded.length, 4 + 2 + 4 + 2 * (2 + 2 + 57) + 2 + 4 + 1 + 2 + 8 + 114);
    assert.equal(p.encoded.subarray(0, 4), Uint8Array.of(0, 0, 0, 5));
    validateClientProfile(b, p, { nowMs: NOW_MS, expectedOwnerTag: 0x1000 });
    const d = decodeClientProfile(p.encoded);
    assert.equal(d, p);
    assert.is(p.dsaKey, undefined);
  });

  test(`[${b.name}] create "34" with a DSA key: transitional signature made and verified`, () => {
    const key = dsaKey();
    const p = createClientProfile(b, {
      ownerTag: 0xabcdef01,
      identitySecret,
      forgingKey,
      versions: '34',
      expiry: expiryFromNow(NOW_MS),
      dsaKey: key,
      random: seededRandom(5),
    });
    assert.is(p.encoded.subarray(0, 4)[3], 7);
    assert.ok(verifyTransitionalSignature(p));
    validateClientProfile(b, p, { nowMs: NOW_MS, expectedOwnerTag: 0xabcdef01 });
    // The transitional message is fields 1–6: the signed bytes minus field 7.
    assert.equal(profileTransitionalSignedBytes(p), encodeProfileFields(p, 6));
    // Swapping in a signature over different bytes fails with BAD_SIGNATURE.
    const other = dsaSign(key, bytesToBigBE(encodeProfileFields({ ...p, ownerTag: 0x100 }, 6)), seededRandom(1));
    const forged = signClientProfile(
      b,
      { ...p, transitionalSignature: concatBytes(hexToBytes(other.r.toString(16).padStart(40, '0')), hexToBytes(other.s.toString(16).padStart(40, '0'))) },
      identitySecret,
    );
    assert.throws(
      () => validateClientProfile(b, forged, { nowMs: NOW_MS }),
      (e: unknown) => e instanceof OtrCryptoError && e.code === 'BAD_SIGNATURE',
    );
  });

  test(`[${b.name}] validation rejects each broken rule with its typed error`, () => {
    const good = createClientProfile(b, { ownerTag: 0x1000, identitySecret, forgingKey, versions: '4', expiry: expiryFromNow(NOW_MS) });
    const resign = (f: Partial<ClientProfile>) => signClientProfile(b, { ...good, ...f }, identitySecret);
    const cases: [string, ClientProfile, string][] = [
      ['no 4', resign({ versions: '3' }), 'MALFORMED'],
      ['version 2', resign({ versions: '24' }), 'MALFORMED'],
      ['owner tag < 0x100', resign({ ownerTag: 0xff }), 'MALFORMED'],
      ['expired', resign({ expiry: BigInt(NOW_MS / 1000) }), 'EXPIRED'],
      ['identity point not on curve', { ...good, identityKey: new Uint8Array(57).fill(0xff) }, 'INVALID_POINT'],
      ['forging key identity', resign({ forgingKey: hexToBytes('01' + '00'.repeat(56)) }), 'INVALID_POINT'],
      ['bad signature', { ...good, signature: good.signature.map((x, i) => (i === 60 ? x ^ 4 : x)) }, 'BAD_SIGNATURE'],
      ['field changed after signing', { ...good, encoded: tamperExpiry(good.encoded) } as ClientProfile, 'BAD_SIGNATURE'],
      ['DSA key without transitional signature', resign({ dsaKey: dsaKey() }), 'MALFORMED'],
      ['transitional signature without DSA key', resign({ transitionalSignature: new Uint8Array(40).fill(1) }), 'MALFORMED'],
    ];
    for (const [name, p, code] of cases) {
      assert.throws(
        () => validateClientProfile(b, p, { nowMs: NOW_MS }),
        (e: unknown) => e instanceof OtrError && e.code === code,
        name,
      );
    }
  });

  test(`[${b.name}] renewal: needsRenewal window and a fresh signature`, () => {
    const p = createClientProfile(b, { ownerTag: 0x1000, identitySecret, forgingKey, versions: '4', expiry: expiryFromNow(NOW_MS, 3600) });
    assert.not.ok(needsRenewal(p, NOW_MS, 600));
    assert.ok(needsRenewal(p, NOW_MS + 3000_000, 600));
    assert.not.ok(isExpired(p, NOW_MS + 3599_000));
    assert.ok(isExpired(p, NOW_MS + 3600_000));
    const r = renewClientProfile(b, p, { identitySecret }, expiryFromNow(NOW_MS + 3000_000));
    assert.is(r.expiry, p.expiry + 3000n + BigInt(7 * 24 * 3600 - 3600));
    validateClientProfile(b, r, { nowMs: NOW_MS + 3600_000 });
  });

  test(`[${b.name}] fingerprint is SHAKE-256("OTRv4" 0x00 H F, 56)`, () => {
    const p = decodeClientProfile(VECTOR);
    const expected = shake256(concatBytes(new TextEncoder().encode('OTRv4'), Uint8Array.of(0), p.identityKey, p.forgingKey), { dkLen: 56 });
    assert.equal(profileFingerprint(b, p), expected);
    assert.equal(fingerprint(b, p.identityKey, p.forgingKey), expected);
  });
}

function tamperExpiry(encoded: Uint8Array): Uint8Array {
  // Field 5 of a "4" profile starts at 4 + 6 + 61 + 61 + 7 = 139: type(2) then 8 bytes; flip the last byte.
  const c = encoded.slice();
  c[139 + 2 + 7]! ^= 1;
  return decodeClientProfile(c).encoded;
}

test('creation refuses what peers would reject', () => {
  const b = BACKENDS[0]!;
  const base = { ownerTag: 0x1000, identitySecret, forgingKey, versions: '4', expiry: 2_000_000_000n };
  const bad: [string, object][] = [
    ['tag', { ownerTag: 5 }],
    ['versions 3 only', { versions: '3' }],
    ['versions with x', { versions: '4x' }],
    ['34 without DSA', { versions: '34' }],
    ['DSA without 3', { dsaKey: dsaKey(), random: rnd }],
    ['34 with DSA but no randomness', { versions: '34', dsaKey: dsaKey() }],
    ['forging key not a point', { forgingKey: new Uint8Array(57).fill(0xff) }],
    ['forging key the identity', { forgingKey: hexToBytes('01' + '00'.repeat(56)) }],
  ];
  for (const [name, o] of bad)
    assert.throws(() => createClientProfile(b, { ...base, ...o }), (e: unknown) => e instanceof OtrArgumentError, name);
  assert.throws(() => signClientProfile(b, { ...base, identityKey: BASE_POINT, forgingKey }, identitySecret), (e: unknown) => e instanceof OtrArgumentError);
});

test('decoding: structural rules (count, order, duplicates, unknown types, key-type prefixes)', () => {
  const p = decodeClientProfile(VECTOR);
  const mutate = (f: (c: Uint8Array) => void) => {
    const c = VECTOR.slice();
    f(c);
    return c;
  };
  const bad: [string, Uint8Array][] = [
    ['count 8', mutate((c) => (c[3] = 8))],
    ['count 4', mutate((c) => (c[3] = 4))],
    ['identity key type 11 00', mutate((c) => (c[12] = 0x11))],
    ['field 2 where 1 was', mutate((c) => (c[5] = 2))],
    ['unknown field 9', mutate((c) => (c[5] = 9))],
    ['trailing byte', Uint8Array.from([...VECTOR, 0])],
    ['oversized versions DATA', mutate((c) => c.set([0x7f, 0, 0, 0], 4 + 6 + 61 + 61 + 2))],
  ];
  for (const [name, bytes] of bad) assert.throws(() => decodeClientProfile(bytes), (e: unknown) => e instanceof OtrDecodeError, name);
  assert.ok(p);
  // Duplicate field: repeat the owner-tag field.
  const dup = concatBytes(Uint8Array.of(0, 0, 0, 8), VECTOR.subarray(4, 10), VECTOR.subarray(4));
  assert.throws(() => decodeClientProfile(dup), (e: unknown) => e instanceof OtrDecodeError);
});

const codec = { decode: (x: Uint8Array) => decodeClientProfile(x), encode: (p: ClientProfile) => p.encoded };
test('vector: every truncation is a typed error', () => assertTruncationsRejected(codec, VECTOR));
test('vector: every bit flip is a typed error or a stable decode', () => {
  assertBitFlipsSafe(codec, VECTOR);
});
test('random bytes and random tails', () => {
  assertRandomSafe(codec, 9, 500);
  assertRandomSafe(codec, 10, 500, VECTOR);
});

test.run();
