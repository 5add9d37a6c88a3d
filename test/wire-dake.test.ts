import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeClientProfile, decodeClientProfile, type ClientProfileFields } from '../ts/profile/encoding.js';
import {
  decodeAuthI,
  decodeAuthR,
  decodeIdentity,
  encodeAuthI,
  encodeAuthR,
  encodeIdentity,
  RING_SIG_BYTES,
  type AuthRMessage,
  type IdentityMessage,
} from '../ts/wire/dake.js';
import { MessageType, peekHeader } from '../ts/wire/header.js';
import { OtrArgumentError, OtrDecodeError } from '../ts/errors.js';
import { seededRandom } from './helpers/rng.js';
import { assertBitFlipsSafe, assertRandomSafe, assertTruncationsRejected } from './helpers/mutate.js';

const rnd = seededRandom(0x35);
const dh = () => {
  const v = rnd(384);
  v[0] = 0x80 | v[0]!;
  return v;
};

function profile() {
  const fields: ClientProfileFields = {
    ownerTag: 0x1234abcd,
    identityKey: rnd(57),
    forgingKey: rnd(57),
    versions: '4',
    expiry: 1_900_000_000n,
  };
  // Structure only: the signature bytes are random (validation is the profile module's test).
  return decodeClientProfile(encodeClientProfile(fields, rnd(114)));
}

const identity: IdentityMessage = {
  senderTag: 0x1234abcd,
  receiverTag: 0,
  profile: profile(),
  y: rnd(57),
  b: dh(),
  ecdhFirst: rnd(57),
  dhFirst: dh(),
};

const authR: AuthRMessage = {
  senderTag: 0x1234abcd,
  receiverTag: 0x100,
  profile: profile(),
  x: rnd(57),
  a: dh(),
  sigma: rnd(RING_SIG_BYTES),
  ecdhFirst: rnd(57),
  dhFirst: dh(),
};

const authI = { senderTag: 0x200, receiverTag: 0x1234abcd, sigma: rnd(RING_SIG_BYTES) };

const codecs = {
  identity: { decode: decodeIdentity, encode: encodeIdentity, value: identity },
  authR: { decode: decodeAuthR, encode: encodeAuthR, value: authR },
  authI: { decode: decodeAuthI, encode: encodeAuthI, value: authI },
};

test('round trips keep every field and the profile bytes', () => {
  const id = decodeIdentity(encodeIdentity(identity));
  assert.equal(id, identity);
  assert.equal(id.profile.encoded, identity.profile.encoded);
  assert.equal(decodeAuthR(encodeAuthR(authR)), authR);
  assert.equal(decodeAuthI(encodeAuthI(authI)), authI);
});

test('layout: header, then the body in spec order', () => {
  const bytes = encodeIdentity(identity);
  assert.equal(peekHeader(bytes), { version: 4, type: MessageType.identity, senderTag: 0x1234abcd, receiverTag: 0 });
  const p = identity.profile.encoded;
  assert.equal(bytes.subarray(11, 11 + p.length), p);
  assert.equal(bytes.subarray(11 + p.length, 11 + p.length + 57), identity.y);
  assert.equal(bytes.subarray(11 + p.length + 57, 11 + p.length + 61), Uint8Array.of(0, 0, 1, 0x80));
  assert.is(bytes.length, 11 + p.length + 2 * (57 + 4 + 384));
  const ai = encodeAuthI(authI);
  assert.is(ai.length, 11 + 342);
  assert.equal(ai.subarray(0, 3), Uint8Array.of(0, 4, 0x37));
});

test('a DH value with leading zeros is written minimally and read back minimal', () => {
  const b = Uint8Array.of(0, 0, 5, 6);
  const bytes = encodeIdentity({ ...identity, b });
  assert.equal(decodeIdentity(bytes).b, Uint8Array.of(5, 6));
});

test('wrong type, version and impossible DH lengths are rejected', () => {
  const bytes = encodeIdentity(identity);
  assert.throws(() => decodeAuthR(bytes), (e: unknown) => e instanceof OtrDecodeError);
  const v3 = bytes.slice();
  v3[1] = 3;
  assert.throws(() => decodeIdentity(v3), (e: unknown) => e instanceof OtrDecodeError);
  assert.throws(() => encodeIdentity({ ...identity, b: new Uint8Array(0) }), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => encodeIdentity({ ...identity, b: new Uint8Array(385).fill(1) }), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => encodeAuthI({ ...authI, sigma: new Uint8Array(341) }), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => encodeAuthI({ ...authI, senderTag: 5 }), (e: unknown) => e instanceof OtrArgumentError);
  // An empty B on the wire: structurally impossible.
  const p = identity.profile.encoded.length;
  const emptyB = Uint8Array.from([...bytes.subarray(0, 11 + p + 57), 0, 0, 0, 0, ...bytes.subarray(11 + p + 57 + 4 + 384)]);
  assert.throws(() => decodeIdentity(emptyB), (e: unknown) => e instanceof OtrDecodeError);
  // Trailing bytes.
  assert.throws(() => decodeAuthI(Uint8Array.from([...encodeAuthI(authI), 0])), (e: unknown) => e instanceof OtrDecodeError);
});

test('oversized length fields are rejected without allocating', () => {
  const bytes = encodeIdentity(identity);
  const p = identity.profile.encoded.length;
  const big = bytes.slice();
  big.set([0x7f, 0xff, 0xff, 0xff], 11 + p + 57); // B length 2 GiB
  assert.throws(() => decodeIdentity(big), (e: unknown) => e instanceof OtrDecodeError);
  const count = bytes.slice();
  count.set([0xff, 0xff, 0xff, 0xff], 11); // profile field count
  assert.throws(() => decodeIdentity(count), (e: unknown) => e instanceof OtrDecodeError);
});

for (const [name, c] of Object.entries(codecs)) {
  const bytes = (c.encode as (v: unknown) => Uint8Array)(c.value);
  const codec = { decode: c.decode as (b: Uint8Array) => unknown, encode: c.encode as (v: unknown) => Uint8Array };
  test(`${name}: every truncation is a typed error`, () => assertTruncationsRejected(codec, bytes));
  test(`${name}: every bit flip is a typed error or a stable decode`, () => {
    assertBitFlipsSafe(codec, bytes);
  });
  test(`${name}: random bytes and random tails`, () => {
    assertRandomSafe(codec, 1, 300);
    assertRandomSafe(codec, 2, 300, bytes);
  });
}

test.run();
