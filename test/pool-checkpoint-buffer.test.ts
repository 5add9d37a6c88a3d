/**
 * The pool's per-account checkpoint holder (ts/pool/checkpoint-buffer.ts): one buffer overwritten in place.
 * It holds whole accounts (keys, ratchets), so what it no longer holds must be zero, and what leaves it must
 * be a copy a later overwrite cannot reach (Account.restore may keep views into its input).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CheckpointBuffer } from '../ts/pool/checkpoint-buffer.js';

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
/** The holder's private buffer (what would stay in memory), read for the test only. */
const inner = (b: CheckpointBuffer) => (b as unknown as { buf: Uint8Array }).buf;

test('holds what was set last, at its exact length, and takes a copy of the input', () => {
  const input = bytes(100, 7);
  const b = new CheckpointBuffer(input);
  input.fill(9);
  assert.equal(b.length, 100);
  assert.equal(b.copy(), bytes(100, 7));
  b.set(bytes(120, 3));
  assert.equal(b.copy(), bytes(120, 3));
});

test('a shorter checkpoint zeroes the tail the longer one left', () => {
  const b = new CheckpointBuffer(bytes(200, 0xaa));
  const buf = inner(b);
  b.set(bytes(50, 0x55));
  assert.equal(inner(b), buf, 'same buffer, overwritten in place');
  assert.equal(b.copy(), bytes(50, 0x55));
  assert.ok(buf.subarray(50).every((x) => x === 0), 'no byte of the longer checkpoint is left behind');
});

test('growing past the capacity moves to a new buffer and zeroes the old one', () => {
  const b = new CheckpointBuffer(bytes(10, 0xcc));
  const old = inner(b);
  b.set(bytes(old.length + 1, 0xdd));
  assert.is.not(inner(b), old);
  assert.ok(old.every((x) => x === 0));
  assert.equal(b.copy(), bytes(old.length + 1, 0xdd));
});

test('copies are independent of later overwrites; from() makes a second holder; wipe() zeroes all', () => {
  const b = new CheckpointBuffer(bytes(64, 1));
  const c = b.copy();
  const twin = CheckpointBuffer.from(b);
  b.set(bytes(64, 2));
  assert.equal(c, bytes(64, 1));
  assert.equal(twin.copy(), bytes(64, 1), 'the twin changes apart');
  b.wipe();
  assert.is(b.length, 0);
  assert.ok(inner(b).every((x) => x === 0));
  assert.equal(b.copy(), new Uint8Array(0));
});

test.run();
