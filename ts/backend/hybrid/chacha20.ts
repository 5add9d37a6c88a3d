/**
 * ChaCha20 through OpenSSL (node:crypto 'chacha20') for inputs of at least OPENSSL_CHACHA_MIN_BYTES, the
 * WASM kernel below that: a cipher object costs a few microseconds to set up, which only pays off on
 * larger inputs (the crossover was measured with bench/suites/chacha20.ts; docs/backends.md has the
 * figures). OpenSSL's 16-byte IV is the 32-bit little-endian block counter followed by the 96-bit nonce
 * (RFC 8439's layout), and the shared argument checks refuse any counter that would wrap, so both kernels
 * produce the same keystream for every accepted input.
 */
import { createCipheriv } from 'node:crypto';
import type { CryptoBackend } from '../types.js';
import { checkChachaArgs } from '../checks.js';

/** Inputs of this many bytes or more go to OpenSSL. */
export const OPENSSL_CHACHA_MIN_BYTES = 6144;

/** RFC 8439 ChaCha20 by OpenSSL alone (no threshold): the hybrid backend's large-input path. */
export function opensslChacha20(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number): Uint8Array {
  const iv = new Uint8Array(16);
  iv[0] = counter & 0xff;
  iv[1] = (counter >>> 8) & 0xff;
  iv[2] = (counter >>> 16) & 0xff;
  iv[3] = counter >>> 24;
  iv.set(nonce, 4);
  const c = createCipheriv('chacha20', key, iv);
  const out = c.update(data);
  c.final(); // releases the cipher context now (OpenSSL cleanses the key schedule) instead of at GC
  // A plain Uint8Array (Buffer.slice aliases, Uint8Array.slice copies: callers expect the latter), over the
  // result's own memory when it has it alone, else a copy.
  if (out.byteOffset === 0 && out.buffer.byteLength === out.length) return new Uint8Array(out.buffer, 0, out.length);
  const copy = Uint8Array.from(out);
  out.fill(0);
  return copy;
}

export function opensslChacha(small: Pick<CryptoBackend, 'chacha20'>, minBytes = OPENSSL_CHACHA_MIN_BYTES): Pick<CryptoBackend, 'chacha20'> {
  return {
    chacha20(key, nonce, data, counter = 0, out) {
      checkChachaArgs(key, nonce, data, counter, out);
      if (data.length < minBytes) return small.chacha20(key, nonce, data, counter, out);
      const r = opensslChacha20(key, nonce, data, counter);
      if (out === undefined) return r;
      out.set(r);
      r.fill(0); // the plaintext, when decrypting
      return out;
    },
  };
}
