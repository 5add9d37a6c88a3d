/**
 * HMAC-SHA1 for OTRv3 data messages (ts/v3/data.ts): OpenSSL (node:crypto createHmac) for inputs of at least
 * OPENSSL_HMAC_MIN_BYTES, the WASM backend's own (assembly/sha1.ts, session 14) below that. The MAC is
 * computed over the whole message before anything else refuses a forged one, so OpenSSL's speed on large
 * inputs is what bounds a forged message of maxMessageChars (docs/security.md "Session 13: cost of hostile
 * input"; it has the CPU's SHA extensions, ~2.7× the WASM kernel on 64 KiB and up). On a chat-sized message
 * the createHmac object costs more than the whole WASM call (session 15, measured interleaved with
 * bench/hmac-sha1-crossover.ts; docs/backends.md has the figures). The key is the session's MAC key, handed to
 * OpenSSL as the ChaCha20 keys are (./chacha20.ts); OpenSSL cleanses its HMAC context when the object is
 * finalised, and the WASM module wipes what it was handed.
 */
import { createHmac } from 'node:crypto';
import type { CryptoBackend } from '../types.js';
import { abytes } from '../../bytes.js';

/**
 * Data of this many bytes or more goes to OpenSSL. The two kernels cost the same near 1.6 KiB (OTRv3's
 * 20-byte keys; WASM ~0.45 µs + 1.3 µs/KiB, OpenSSL ~1.8 µs + 0.45 µs/KiB); below it the WASM call wins, by
 * ~1 µs on a chat message. Far inside the WASM I/O region (64 KiB), so every input routed there is one call.
 */
export const OPENSSL_HMAC_MIN_BYTES = 1536;

/** HMAC-SHA1 by OpenSSL alone (no threshold): the 20-byte tag, as a plain Uint8Array (not a Buffer view of Node's pool). */
export function opensslHmacSha1(key: Uint8Array, data: Uint8Array): Uint8Array {
  const tag = createHmac('sha1', key).update(data).digest();
  return Uint8Array.from(tag);
}

/** `small` (the WASM backend) MACs data shorter than `minBytes`, OpenSSL the rest. */
export function opensslHmac(small: Required<Pick<CryptoBackend, 'hmacSha1'>>, minBytes = OPENSSL_HMAC_MIN_BYTES): Pick<CryptoBackend, 'hmacSha1'> {
  return {
    hmacSha1(key, data) {
      // A hand-built non-Uint8Array gets a typed error, not node:crypto's.
      abytes(key, undefined, 'HMAC key');
      abytes(data, undefined, 'HMAC data');
      return data.length < minBytes ? small.hmacSha1(key, data) : opensslHmacSha1(key, data);
    },
  };
}
