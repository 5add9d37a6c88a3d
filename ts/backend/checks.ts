/**
 * Argument checks shared by both backends, so the JS and WASM implementations reject the same input with
 * the same error, in the same order, from one piece of code (the DH checks live in ts/crypto/dh-groups.ts).
 */
import { abytes } from '../bytes.js';
import { OtrArgumentError } from '../errors.js';

const MAX_COUNTER = 0xffffffff;

/** SHAKE-256's output length: any non-negative integer. */
export function checkOutLen(outLen: number): void {
  if (!Number.isInteger(outLen) || outLen < 0) throw new OtrArgumentError('outLen must be a non-negative integer');
}

/**
 * ChaCha20's key (32 B), nonce (12 B), data and initial block counter. The counter policy is @noble/ciphers':
 * no block may use counter 2^32 - 1 or wrap past it, so `counter + ceil(len / 64) > 2^32 - 1` is refused
 * (zero-length data uses no block).
 */
export function checkChachaArgs(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number, out?: Uint8Array): void {
  abytes(key, 32, 'key');
  abytes(nonce, 12, 'nonce');
  abytes(data, undefined, 'data');
  if (out !== undefined) abytes(out, data.length, 'output');
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER)
    throw new OtrArgumentError('counter must be a 32-bit unsigned integer');
  if (data.length > 0 && counter + Math.ceil(data.length / 64) > MAX_COUNTER)
    throw new OtrArgumentError('chacha20 block counter would reach 2^32 - 1');
}
