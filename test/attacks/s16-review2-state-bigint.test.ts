/**
 * Attack (session 16 review; a hostile or corrupt record — any kind: account, conversation, the OTRv3 state inside
 * one). The state codec read a bigint's magnitude a byte at a time, `n = (n << 8n) | BigInt(b)`: each step copies
 * the growing number, so the decode was quadratic in the magnitude's length, which only the record's bytes bound
 * (limits.maxStateBytes, 4 MiB). Measured before the fix: a 64 KiB bigint 0.33 s, 256 KiB 35 s of CPU; a record of
 * a few MiB held the restore (and the thread) for hours before any field was checked. Every legitimate bigint of
 * the library is at most 3,072 bits (a DSA key's p). Now the magnitude becomes a bigint in one linear step.
 *
 * Counted, not timed: the conversions to bigint a decode makes (each of the old loop's steps made one).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeState, encodeState, type StateValue } from '../../ts/session/state-codec.js';
import { seededRandom } from '../helpers/rng.js';

/** Runs `body` counting the calls of the global BigInt (the codec converts through it). */
function countingBigIntCalls<T>(body: () => T): { value: T; calls: number } {
  const real = globalThis.BigInt;
  let calls = 0;
  const counting = new Proxy(real, {
    apply(target, self, args: [string | number | bigint | boolean]) {
      calls++;
      return Reflect.apply(target, self, args);
    },
  });
  globalThis.BigInt = counting;
  try {
    return { value: body(), calls };
  } finally {
    globalThis.BigInt = real;
  }
}

test('a large bigint in a record is read in one step, not byte by byte', () => {
  const rnd = seededRandom(16_2210);
  const n = BigInt('0x' + Buffer.from(rnd(16 * 1024)).toString('hex'));
  const bytes = encodeState('otrv3', { x: n, y: -n });
  const { value, calls } = countingBigIntCalls(() => decodeState('otrv3', bytes));
  assert.equal(value, { x: n, y: -n });
  assert.ok(calls <= 4, `${calls} conversions to bigint for two 16 KiB magnitudes (the old loop: one per byte)`);
});

test('what held: bigints of every size the library writes, zero and negatives, round-trip', () => {
  const rnd = seededRandom(16_2211);
  const values: bigint[] = [0n, 1n, -1n, 255n, 256n, -65_536n, (1n << 3072n) - 1n];
  for (const size of [1, 20, 32, 192, 384]) values.push(BigInt('0x' + Buffer.from(rnd(size)).toString('hex')));
  const state: StateValue = { list: values };
  assert.equal(decodeState('x', encodeState('x', state)), state);
});

test('what held: a magnitude written with leading zero bytes (not by this codec) reads as its value', () => {
  const bytes = encodeState('x', { v: 0x1234n });
  // The DATA of the magnitude: INT length 2, then 0x12 0x34 — rewritten as length 4 with two zero bytes ahead.
  const at = bytes.findIndex((_, i) => bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 0 && bytes[i + 3] === 2 && bytes[i + 4] === 0x12);
  assert.ok(at > 0);
  const padded = new Uint8Array(bytes.length + 2);
  padded.set(bytes.subarray(0, at));
  padded.set([0, 0, 0, 4, 0, 0, 0x12, 0x34], at);
  padded.set(bytes.subarray(at + 6), at + 8);
  assert.equal(decodeState('x', padded), { v: 0x1234n });
});

test.run();
