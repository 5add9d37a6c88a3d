/**
 * HMAC-SHA1 through OpenSSL (node:crypto createHmac) for OTRv3 data messages (ts/v3/data.ts): the MAC is
 * computed over the whole message before anything else refuses a forged one, so its speed is what a forged
 * message of maxMessageChars costs (docs/security.md "Session 13: cost of hostile input": noble's HMAC-SHA1
 * took ~1.9 ms of the ~10 ms of the largest one). No size threshold: measured interleaved on this machine,
 * OpenSSL is faster at every size, from an empty message (~1.7 against ~2.9 µs: the HMAC object costs less
 * than noble's two SHA-1 contexts) to 576 kB (~0.3 against ~1.9 ms). The key is the session's receiving
 * MAC key, handed to OpenSSL as the ChaCha20 keys are (./chacha20.ts); OpenSSL cleanses its HMAC context
 * when the object is finalised.
 */
import { createHmac } from 'node:crypto';
import type { CryptoBackend } from '../types.js';
import { abytes } from '../../bytes.js';

/** HMAC-SHA1 by OpenSSL: the 20-byte tag, as a plain Uint8Array (not a Buffer view of Node's pool). */
export function opensslHmacSha1(key: Uint8Array, data: Uint8Array): Uint8Array {
  const tag = createHmac('sha1', key).update(data).digest();
  return Uint8Array.from(tag);
}

export function opensslHmac(): Pick<CryptoBackend, 'hmacSha1'> {
  return {
    hmacSha1(key, data) {
      // A hand-built non-Uint8Array gets a typed error, not node:crypto's.
      abytes(key, undefined, 'HMAC key');
      abytes(data, undefined, 'HMAC data');
      return opensslHmacSha1(key, data);
    },
  };
}
