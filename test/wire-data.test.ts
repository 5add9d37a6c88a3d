import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  dataMessageAuthenticatedBytes,
  decodeDataMessage,
  draftDataMessage,
  draftDataMessageSized,
  encodeDataMessage,
  FLAG_IGNORE_UNREADABLE,
  splitRevealedMacs,
  type DataMessage,
} from '../ts/wire/data.js';
import { OtrArgumentError, OtrDecodeError } from '../ts/errors.js';
import { bytesToHex, concatBytes } from '../ts/bytes.js';
import { seededRandom } from './helpers/rng.js';
import { Reader } from '../ts/codec/primitives.js';
import { assertBitFlipsSafe, assertRandomSafe, assertTruncationsRejected } from './helpers/mutate.js';

const rnd = seededRandom(3);
const dhValue = rnd(384);
dhValue[0] = 0xc3;

const withDh: DataMessage = {
  senderTag: 0x101,
  receiverTag: 0x202,
  flags: 0,
  previousChainLength: 7,
  ratchetId: 3,
  messageId: 0,
  ecdh: rnd(57),
  dh: dhValue,
  ciphertext: rnd(33),
  authenticator: rnd(64),
  revealedMacs: rnd(128),
};
const noDh: DataMessage = { ...withDh, flags: FLAG_IGNORE_UNREADABLE, ratchetId: 4, messageId: 2, dh: new Uint8Array(0), revealedMacs: new Uint8Array(0) };

test('layout matches interpretations.md §6 byte for byte', () => {
  const m = noDh;
  const expected = concatBytes(
    Uint8Array.of(0, 4, 3, 0, 0, 1, 1, 0, 0, 2, 2, 1),
    Uint8Array.of(0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 2),
    m.ecdh,
    Uint8Array.of(0, 0, 0, 0), // empty DH MPI
    Uint8Array.of(0, 0, 0, 33),
    m.ciphertext,
    m.authenticator,
    Uint8Array.of(0, 0, 0, 0),
  );
  assert.is(bytesToHex(encodeDataMessage(m)), bytesToHex(expected));
});

test('round trips, with and without a DH key and reveals', () => {
  for (const m of [withDh, noDh]) {
    const d = decodeDataMessage(encodeDataMessage(m));
    const { authenticated, ...rest } = d;
    assert.equal(rest, m);
    assert.ok(authenticated.length > 0);
  }
});

test('authenticated bytes: everything from the version through the ciphertext DATA, same on both sides', () => {
  for (const m of [withDh, noDh]) {
    const wire = encodeDataMessage(m);
    const { authenticator, ...fields } = m;
    const auth = dataMessageAuthenticatedBytes(fields);
    const n = wire.length - 64 - 4 - m.revealedMacs.length;
    assert.equal(auth, wire.subarray(0, n));
    assert.equal(decodeDataMessage(wire).authenticated, auth);
    const draft = draftDataMessage(fields);
    assert.equal(draft.authenticated, auth);
    const sealed = draft.seal(authenticator);
    assert.equal(sealed, wire);
    // The draft's view is the sealed buffer's prefix (no second encoding).
    assert.is(draft.authenticated.buffer, sealed.buffer);
    assert.throws(() => draft.seal(authenticator), (e: unknown) => e instanceof OtrArgumentError);
  }
});

test('a sized draft filled through its ciphertext view is the same message, in one buffer', () => {
  for (const m of [withDh, noDh]) {
    const { authenticator, ciphertext, ...header } = m;
    const draft = draftDataMessageSized(header, ciphertext.length);
    assert.is(draft.ciphertext.length, ciphertext.length);
    assert.ok(draft.ciphertext.every((x) => x === 0), 'ciphertext field starts zero');
    assert.is(draft.ciphertext.buffer, draft.authenticated.buffer);
    draft.ciphertext.set(ciphertext);
    assert.equal(draft.authenticated, dataMessageAuthenticatedBytes({ ...header, ciphertext }));
    assert.equal(draft.seal(authenticator), encodeDataMessage(m));
    // The plain draft exposes the same view.
    assert.equal(draftDataMessage({ ...header, ciphertext }).ciphertext, ciphertext);
  }
  const { ciphertext: _c, ...header } = noDh;
  for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) {
    assert.throws(() => draftDataMessageSized(header, bad), (e: unknown) => e instanceof OtrArgumentError);
  }
});

test('a reused draft (the session\'s transient messages) holds the same bytes; large messages get their own buffer', () => {
  const { authenticator, ciphertext, ...header } = withDh;
  const fresh = draftDataMessageSized(header, ciphertext.length);
  fresh.ciphertext.set(ciphertext);
  const want = bytesToHex(fresh.seal(authenticator));
  const first = draftDataMessageSized(header, ciphertext.length, true);
  assert.ok(first.ciphertext.every((x) => x === 0), 'ciphertext field starts zero');
  first.ciphertext.set(ciphertext);
  const sent = first.seal(authenticator);
  assert.equal(bytesToHex(sent), want);
  // The next reused draft writes over the same buffer, with its ciphertext field and authenticator zero again.
  const second = draftDataMessageSized({ ...header, messageId: 9 }, ciphertext.length, true);
  assert.is(second.authenticated.buffer, sent.buffer);
  assert.ok(second.ciphertext.every((x) => x === 0));
  assert.ok(sent.subarray(second.authenticated.length, second.authenticated.length + 64).every((x) => x === 0), 'authenticator slot zero');
  assert.throws(() => first.seal(authenticator), (e: unknown) => e instanceof OtrArgumentError);
  const big = draftDataMessageSized({ ...header, revealedMacs: new Uint8Array(64 * 300) }, ciphertext.length, true);
  assert.is.not(big.authenticated.buffer, sent.buffer);
});

test('fresh messages share slabs but never each other\'s bytes: kept messages stay intact across later ones', () => {
  const { authenticator: _a, ciphertext: _c, ...header } = noDh;
  const kept: { msg: Uint8Array; hex: string }[] = [];
  // Enough messages of mixed small sizes to fill several 8 KiB slabs; every field written with non-zero bytes.
  for (let i = 0; i < 300; i++) {
    const ctLen = (i * 37) % 400;
    const draft = draftDataMessageSized({ ...header, messageId: i }, ctLen);
    assert.ok(draft.ciphertext.every((x) => x === 0), `message ${i}: ciphertext field starts zero`);
    draft.ciphertext.fill(0xa5 ^ (i & 0xff));
    const msg = draft.seal(new Uint8Array(64).fill(0xff));
    assert.is(msg.length, draft.authenticated.length + 64 + 4);
    kept.push({ msg, hex: bytesToHex(msg) });
  }
  for (const [i, k] of kept.entries()) {
    assert.is(bytesToHex(k.msg), k.hex, `message ${i} unchanged by the later ones`);
    assert.is(decodeDataMessage(k.msg).messageId, i);
  }
  assert.ok(kept.some((k, i) => i > 0 && k.msg.buffer === kept[i - 1]!.msg.buffer), 'small messages share a slab');
  // A large message (over 1 KiB) is an array of its own, as is the output of the plain draft at that size.
  const big = draftDataMessageSized(header, 5000).seal(new Uint8Array(64));
  assert.is(big.byteOffset, 0);
  assert.is(big.buffer.byteLength, big.length);
});

test('argument checks on encode', () => {
  const { authenticator: _a, ...f } = withDh;
  assert.throws(() => draftDataMessage({ ...f, revealedMacs: new Uint8Array(65) }), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => draftDataMessage({ ...f, ecdh: new Uint8Array(56) }), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => draftDataMessage({ ...f, flags: 256 }), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => draftDataMessage({ ...f, messageId: -1 }), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => draftDataMessage({ ...f, dh: new Uint8Array(385).fill(1) }), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => draftDataMessage(f).seal(new Uint8Array(63)), (e: unknown) => e instanceof OtrArgumentError);
});

test('structurally impossible data messages are rejected', () => {
  const wire = encodeDataMessage(noDh);
  // revealed MACs of 10 bytes
  const bad = concatBytes(wire.subarray(0, wire.length - 4), Uint8Array.of(0, 0, 0, 10), new Uint8Array(10));
  assert.throws(() => decodeDataMessage(bad), (e: unknown) => e instanceof OtrDecodeError);
  // ciphertext length beyond the field limit
  const big = wire.slice();
  big.set([0xff, 0xff, 0xff, 0xf0], 11 + 13 + 57 + 4);
  assert.throws(() => decodeDataMessage(big), (e: unknown) => e instanceof OtrDecodeError);
  // and a small configured limit
  assert.throws(() => decodeDataMessage(wire, 16), (e: unknown) => e instanceof OtrDecodeError);
  // trailing bytes after an empty revealed-MACs field (the decoder's reader-free path) and after a full one
  for (const m of [noDh, withDh]) {
    const w = encodeDataMessage(m);
    assert.throws(() => decodeDataMessage(concatBytes(w, Uint8Array.of(0))), (e: unknown) => e instanceof OtrDecodeError && /trailing bytes/.test((e as Error).message));
  }
});

test('decoded authenticator, ciphertext, authenticated bytes and both keys are views of the input; revealed MACs a copy', () => {
  const wire = encodeDataMessage(withDh);
  const m = decodeDataMessage(wire);
  assert.equal(m.authenticator, withDh.authenticator);
  assert.is(m.authenticator.buffer, wire.buffer);
  assert.is(m.ciphertext.buffer, wire.buffer);
  assert.is(m.dh.buffer, wire.buffer);
  assert.equal(m.dh, withDh.dh);
  assert.is(m.ecdh.buffer, wire.buffer);
  assert.equal(m.ecdh, withDh.ecdh);
  assert.is.not(m.revealedMacs.buffer, wire.buffer);
  // Cut inside the point: Reader.point's error.
  assert.throws(() => decodeDataMessage(wire.subarray(0, 3 + 8 + 1 + 12 + 56)), (e: unknown) => e instanceof OtrDecodeError && e.message === 'truncated POINT');
});

test('the DH key field decodes as Reader.mpi would: leading zeros dropped, the same errors for every bad length', () => {
  const at = 3 + 8 + 1 + 12 + 57; // the DH MPI's length prefix
  const withField = (len: number, body: Uint8Array) => {
    const head = encodeDataMessage(noDh).subarray(0, at);
    const tail = encodeDataMessage(noDh).subarray(at + 4); // the ciphertext DATA onwards
    return concatBytes(head, Uint8Array.of(len >>> 24, (len >>> 16) & 255, (len >>> 8) & 255, len & 255), body, tail);
  };
  const expected = (field: Uint8Array) => new Reader(field).mpi('DH key');
  for (const zeros of [0, 1, 2, 5]) {
    for (const v of [Uint8Array.of(7), dhValue.subarray(0, 383 - zeros), new Uint8Array(0)]) {
      const body = concatBytes(new Uint8Array(zeros), v);
      const m = decodeDataMessage(withField(body.length, body));
      assert.equal(m.dh, expected(concatBytes(Uint8Array.of(0, 0, body.length >>> 8, body.length & 255), body)));
      assert.equal(m.ciphertext, noDh.ciphertext, 'the fields after it are read from the right place');
      assert.equal(m.authenticator, noDh.authenticator);
    }
  }
  const err = (bytes: Uint8Array, max?: number) => {
    try {
      decodeDataMessage(bytes, max);
    } catch (e) {
      return e instanceof OtrDecodeError ? e.message : `not a decode error: ${String(e)}`;
    }
    return 'accepted';
  };
  // Longer than the message, longer than the field limit, longer than a 3072-bit value (even with zeros in
  // front it is refused only when its magnitude is too long), and cut inside the length prefix itself.
  assert.is(err(withField(1000, dhValue.subarray(0, 100))), 'truncated DH key');
  assert.is(err(withField(600, new Uint8Array(600)), 500), 'DH key of 600 bytes exceeds the limit of 500');
  assert.is(err(withField(385, concatBytes(Uint8Array.of(1), dhValue))), 'DH key has an impossible length');
  assert.is(err(withField(386, concatBytes(Uint8Array.of(0), dhValue, Uint8Array.of(0)))), 'DH key has an impossible length');
  assert.is(decodeDataMessage(withField(385, concatBytes(Uint8Array.of(0), dhValue))).dh.length, 384);
  assert.is(err(encodeDataMessage(noDh).subarray(0, at + 2)), 'truncated INT');
  assert.is(err(withField(2, Uint8Array.of(0, 9)).subarray(0, at + 4 + 2 + 3)), 'truncated INT');
});

test('splitRevealedMacs gives 64-byte views', () => {
  const parts = splitRevealedMacs(withDh.revealedMacs);
  assert.is(parts.length, 2);
  assert.equal(concatBytes(...parts), withDh.revealedMacs);
  assert.throws(() => splitRevealedMacs(new Uint8Array(3)), (e: unknown) => e instanceof OtrDecodeError);
});

const codec = {
  decode: (b: Uint8Array) => {
    const { authenticated: _x, ...m } = decodeDataMessage(b);
    return m;
  },
  encode: (m: DataMessage) => encodeDataMessage(m),
};
for (const [name, m] of Object.entries({ withDh, noDh })) {
  const bytes = encodeDataMessage(m);
  test(`${name}: every truncation is a typed error`, () => assertTruncationsRejected(codec, bytes));
  test(`${name}: every bit flip is a typed error or a stable decode`, () => {
    assertBitFlipsSafe(codec, bytes);
  });
  test(`${name}: random bytes`, () => {
    assertRandomSafe(codec, 5, 300);
    assertRandomSafe(codec, 6, 300, bytes);
  });
}

test.run();
