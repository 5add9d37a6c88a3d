/**
 * Hostile-input checks shared by the codec/wire suites: every truncation, every single-bit flip, random
 * bytes. A decoder must either throw an OtrError or return a value that re-encodes and decodes to itself
 * (a flip may land on a byte the decoder legitimately normalises, such as an MPI's leading zero).
 */
import * as assert from 'uvu/assert';
import { OtrError } from '../../ts/errors.js';
import { seededRandom } from './rng.js';

export interface Codec<T> {
  decode(bytes: Uint8Array): T;
  /** When given, successful decodes must be stable: decode(encode(v)) deep-equals v. */
  encode?(value: T): Uint8Array;
}

function attempt<T>(codec: Codec<T>, bytes: Uint8Array, what: string): 'ok' | 'rejected' {
  let v: T;
  try {
    v = codec.decode(bytes);
  } catch (e) {
    if (!(e instanceof OtrError)) throw new Error(`${what}: untyped ${(e as Error)?.name}: ${(e as Error)?.message}`);
    return 'rejected';
  }
  if (codec.encode) {
    const again = codec.decode(codec.encode(v));
    assert.equal(again, v, `${what}: decode is not stable under re-encoding`);
  }
  return 'ok';
}

/** Every prefix shorter than `bytes` must be rejected with an OtrError. */
export function assertTruncationsRejected<T>(codec: Codec<T>, bytes: Uint8Array): void {
  for (let n = 0; n < bytes.length; n++) {
    assert.is(attempt(codec, bytes.subarray(0, n), `truncated to ${n}`), 'rejected', `truncation to ${n} bytes accepted`);
  }
}

/** Flips every bit of `bytes` in turn (a stride > 1 samples positions); returns how many flips decoded. */
export function assertBitFlipsSafe<T>(codec: Codec<T>, bytes: Uint8Array, stride = 1): number {
  let ok = 0;
  const m = bytes.slice();
  for (let i = 0; i < m.length; i += stride) {
    for (let bit = 0; bit < 8; bit++) {
      m[i]! ^= 1 << bit;
      if (attempt(codec, m, `flip byte ${i} bit ${bit}`) === 'ok') ok++;
      m[i]! ^= 1 << bit;
    }
  }
  return ok;
}

/** Random byte strings of random lengths, and random bytes behind a valid prefix. */
export function assertRandomSafe<T>(codec: Codec<T>, seed: number, cases: number, validPrefix?: Uint8Array): void {
  const rnd = seededRandom(seed);
  for (let i = 0; i < cases; i++) {
    const len = rnd(2)[0]! | ((rnd(1)[0]! & 3) << 8);
    const body = rnd(len);
    const bytes = validPrefix ? Uint8Array.from([...validPrefix.subarray(0, (i * 7) % (validPrefix.length + 1)), ...body]) : body;
    attempt(codec, bytes, `random case ${i}`);
  }
}
