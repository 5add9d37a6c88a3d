import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeState, encodeState, expect as ex, withEncodedState, withWrittenState, putBytes, type StateValue } from '../ts/session/state-codec.js';
import { OtrDecodeError } from '../ts/errors.js';
import { Writer } from '../ts/codec/primitives.js';
import { seededRandom } from './helpers/rng.js';

const sample: StateValue = {
  n: 42,
  f: -1.5,
  big: 2n ** 200n + 7n,
  neg: -123n,
  zero: 0n,
  s: 'héllo ✓',
  b: new Uint8Array([0, 1, 2, 255]),
  empty: new Uint8Array(0),
  arr: [1, 'two', null, true, false, [new Uint8Array([9])]],
  nested: { a: { b: { c: 'deep' } } },
};

test('round trip preserves every value kind exactly', () => {
  const bytes = encodeState('test', sample);
  const back = decodeState('test', bytes);
  assert.equal(back, { ...sample, nested: { a: { b: { c: 'deep' } } } });
  // Deterministic: key order does not matter.
  const reordered = Object.fromEntries(Object.entries(sample as object).reverse()) as StateValue;
  assert.equal(encodeState('test', reordered), bytes);
});

test('undefined fields are omitted, the kind label is checked', () => {
  const bytes = encodeState('k', { a: 1, b: undefined });
  assert.equal(decodeState('k', bytes), { a: 1 });
  assert.throws(() => decodeState('other', bytes), (e: unknown) => e instanceof OtrDecodeError);
});

test('every truncation and every bit flip gives OtrDecodeError or a different value, never a crash', () => {
  const bytes = encodeState('test', sample);
  for (let i = 0; i < bytes.length; i++) {
    assert.throws(() => decodeState('test', bytes.subarray(0, i)), (e: unknown) => e instanceof OtrDecodeError);
  }
  for (let i = 0; i < bytes.length * 8; i++) {
    const m = bytes.slice();
    m[i >> 3]! ^= 1 << (i & 7);
    try {
      decodeState('test', m);
    } catch (e) {
      assert.ok(e instanceof OtrDecodeError, `bit ${i}: ${e}`);
    }
  }
});

test('random bytes and hostile counts are rejected without large allocations', () => {
  const rnd = seededRandom(7);
  for (let i = 0; i < 2000; i++) {
    const junk = rnd(1 + (i % 200));
    try {
      decodeState('test', junk);
    } catch (e) {
      assert.ok(e instanceof OtrDecodeError);
    }
  }
  // A valid header followed by an array claiming 2^32-1 elements.
  const head = encodeState('test', null).slice(0, -1);
  const evil = new Uint8Array([...head, 7, 0xff, 0xff, 0xff, 0xff]);
  assert.throws(() => decodeState('test', evil), (e: unknown) => e instanceof OtrDecodeError);
  // Nesting beyond the depth bound.
  const deep = new Uint8Array([...head, ...new Array(100).fill(0).flatMap(() => [7, 0, 0, 0, 1]), 0]);
  assert.throws(() => decodeState('test', deep), (e: unknown) => e instanceof OtrDecodeError);
  assert.throws(() => decodeState('test', new Uint8Array(10), 5), (e: unknown) => e instanceof OtrDecodeError);
});

test('a secret Writer (the state encoder\'s) zeroes every buffer it outgrows, and its last one on wipe', () => {
  const w = new Writer(8, true);
  const buffers = new Set<Uint8Array>();
  for (let i = 0; i < 100; i++) {
    buffers.add((w as unknown as { buf: Uint8Array }).buf);
    w.byte(0xa5);
  }
  assert.ok(buffers.size >= 4, 'the writer grew');
  const out = w.finish();
  w.wipe();
  assert.is(out.length, 100);
  assert.ok(out.every((b) => b === 0xa5), 'what finish() returned is intact');
  for (const b of buffers) assert.ok(b.every((x) => x === 0), 'no copy of the secret left in the writer');
});

test('Writer.utf8Data writes the bytes of TextEncoder, DATA-prefixed, for every kind of string', () => {
  const strings = ['', 'ascii only', 'héllo ✓', '😀 astral', 'a\ud800b lone high', 'x\udc00 lone low', '\ud83d', 'é'.repeat(300), 'a'.repeat(5000)];
  for (const s of strings) {
    const u = new TextEncoder().encode(s);
    const w = new Writer(4, true); // small: utf8Data must grow the buffer itself
    w.byte(7).utf8Data(s).byte(9);
    const want = new Writer().byte(7).data(u).byte(9).finish();
    assert.equal(w.finish(), want, JSON.stringify(s.slice(0, 20)));
  }
});

test('Writer.clear zeroes what was written and keeps the buffer; view() is not a copy', () => {
  const w = new Writer(64, true);
  w.raw(new Uint8Array(40).fill(0xa5));
  const v = w.view();
  assert.is(v.length, 40);
  assert.ok(v.every((x) => x === 0xa5));
  w.clear();
  assert.is(w.length, 0);
  assert.is(w.capacity, 64);
  assert.ok(v.every((x) => x === 0), 'the bytes written are zeroed in the kept buffer');
});

test('the encoder leaves no copy of a state behind: its reused buffer is zeroed after each use, even on a throw', () => {
  const secret = new Uint8Array(3000).fill(0x5c); // bigger than the writer's first buffer: it grows
  let seen: Uint8Array | undefined;
  const n = withEncodedState('test', { k: secret }, (encoded) => {
    seen = encoded;
    assert.ok(encoded.includes(0x5c));
    return encoded.length;
  });
  assert.ok(n > 3000);
  assert.ok(seen!.every((x) => x === 0), 'the view handed out is zeroed once used');
  // encodeState's result is its own copy, intact.
  const out = encodeState('test', { k: secret });
  assert.equal(decodeState('test', out), { k: secret });
  // A write that throws half-way: what it wrote is zeroed too.
  let partial: Uint8Array | undefined;
  assert.throws(
    () =>
      withWrittenState(
        'test',
        (w) => {
          putBytes(w, secret);
          partial = w.view();
          throw new Error('boom');
        },
        () => 0,
      ),
    /boom/,
  );
  assert.ok(partial!.length > 3000 && partial!.every((x) => x === 0), 'a failed write leaves nothing behind');
  // And the next encoding is whole (the buffer is reusable after the throw).
  assert.equal(decodeState('test', encodeState('test', { a: 'x' })), { a: 'x' });
});

test('typed readers name the field on a wrong shape', () => {
  assert.throws(() => ex.bytes(1, 'root key', 64), /root key/);
  assert.throws(() => ex.bytes(new Uint8Array(3), 'root key', 64), /64 bytes/);
  assert.throws(() => ex.uint(-1, 'counter'), /counter/);
  assert.throws(() => ex.uint(1.5, 'counter'), /counter/);
  assert.throws(() => ex.string('X', 'state', ['START']), /state/);
  assert.is(ex.uint(5, 'i'), 5);
  assert.equal(ex.record({ a: 1 }, 'r'), { a: 1 });
  assert.throws(() => ex.record([], 'r'), (e: unknown) => e instanceof OtrDecodeError);
});

test.run();
