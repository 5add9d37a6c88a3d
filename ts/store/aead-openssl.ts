/**
 * XChaCha20-Poly1305 through OpenSSL (node:crypto), what '#seal-aead' resolves to under the "node"
 * condition of package.json "imports". OpenSSL has no XChaCha, so the extended nonce is done here as
 * draft-irtf-cfrg-xchacha §2.3 says: subkey = HChaCha20(key, nonce[0..16]), then RFC 8439
 * ChaCha20-Poly1305 under the subkey with the 12-byte nonce 0x00000000 ‖ nonce[16..24]. The bytes are
 * those of ./aead-noble.ts for every input (test/store-aead.test.ts checks it both ways); a cipher object
 * costs a few microseconds, against tens for the pure-JS AEAD on a 2 KiB record (docs/stores.md).
 *
 * `sealAead()` checks OpenSSL against noble once, on first use, and seals with noble if they disagree or
 * OpenSSL lacks the cipher (a runtime that resolves the "node" condition with a partial node:crypto).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, type SealAead } from './aead.js';
import { nobleAead } from './aead-noble.js';

const SUBKEY_BYTES = 32;

function le32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
  b[i + 2] = (v >>> 16) & 0xff;
  b[i + 3] = v >>> 24;
}

/**
 * HChaCha20 (draft-irtf-cfrg-xchacha §2.2): the ChaCha20 state of ("expand 32-byte k", key, the 16 bytes
 * `input`) through 20 rounds with no final addition; words 0..3 and 12..15, little-endian, are the output.
 * Writes 32 bytes into `out`. Only 32-bit additions, XORs and rotations: no secret-dependent branch or index.
 */
export function hchacha20(key: Uint8Array, input: Uint8Array, out: Uint8Array): void {
  let x0 = 0x61707865, x1 = 0x3320646e, x2 = 0x79622d32, x3 = 0x6b206574;
  let x4 = le32(key, 0), x5 = le32(key, 4), x6 = le32(key, 8), x7 = le32(key, 12);
  let x8 = le32(key, 16), x9 = le32(key, 20), x10 = le32(key, 24), x11 = le32(key, 28);
  let x12 = le32(input, 0), x13 = le32(input, 4), x14 = le32(input, 8), x15 = le32(input, 12);
  const rotl = (v: number, n: number) => (v << n) | (v >>> (32 - n));
  for (let r = 0; r < 10; r++) {
    // Column round.
    x0 = (x0 + x4) | 0; x12 = rotl(x12 ^ x0, 16); x8 = (x8 + x12) | 0; x4 = rotl(x4 ^ x8, 12);
    x0 = (x0 + x4) | 0; x12 = rotl(x12 ^ x0, 8); x8 = (x8 + x12) | 0; x4 = rotl(x4 ^ x8, 7);
    x1 = (x1 + x5) | 0; x13 = rotl(x13 ^ x1, 16); x9 = (x9 + x13) | 0; x5 = rotl(x5 ^ x9, 12);
    x1 = (x1 + x5) | 0; x13 = rotl(x13 ^ x1, 8); x9 = (x9 + x13) | 0; x5 = rotl(x5 ^ x9, 7);
    x2 = (x2 + x6) | 0; x14 = rotl(x14 ^ x2, 16); x10 = (x10 + x14) | 0; x6 = rotl(x6 ^ x10, 12);
    x2 = (x2 + x6) | 0; x14 = rotl(x14 ^ x2, 8); x10 = (x10 + x14) | 0; x6 = rotl(x6 ^ x10, 7);
    x3 = (x3 + x7) | 0; x15 = rotl(x15 ^ x3, 16); x11 = (x11 + x15) | 0; x7 = rotl(x7 ^ x11, 12);
    x3 = (x3 + x7) | 0; x15 = rotl(x15 ^ x3, 8); x11 = (x11 + x15) | 0; x7 = rotl(x7 ^ x11, 7);
    // Diagonal round.
    x0 = (x0 + x5) | 0; x15 = rotl(x15 ^ x0, 16); x10 = (x10 + x15) | 0; x5 = rotl(x5 ^ x10, 12);
    x0 = (x0 + x5) | 0; x15 = rotl(x15 ^ x0, 8); x10 = (x10 + x15) | 0; x5 = rotl(x5 ^ x10, 7);
    x1 = (x1 + x6) | 0; x12 = rotl(x12 ^ x1, 16); x11 = (x11 + x12) | 0; x6 = rotl(x6 ^ x11, 12);
    x1 = (x1 + x6) | 0; x12 = rotl(x12 ^ x1, 8); x11 = (x11 + x12) | 0; x6 = rotl(x6 ^ x11, 7);
    x2 = (x2 + x7) | 0; x13 = rotl(x13 ^ x2, 16); x8 = (x8 + x13) | 0; x7 = rotl(x7 ^ x8, 12);
    x2 = (x2 + x7) | 0; x13 = rotl(x13 ^ x2, 8); x8 = (x8 + x13) | 0; x7 = rotl(x7 ^ x8, 7);
    x3 = (x3 + x4) | 0; x14 = rotl(x14 ^ x3, 16); x9 = (x9 + x14) | 0; x4 = rotl(x4 ^ x9, 12);
    x3 = (x3 + x4) | 0; x14 = rotl(x14 ^ x3, 8); x9 = (x9 + x14) | 0; x4 = rotl(x4 ^ x9, 7);
  }
  put32(out, 0, x0); put32(out, 4, x1); put32(out, 8, x2); put32(out, 12, x3);
  put32(out, 16, x12); put32(out, 20, x13); put32(out, 24, x14); put32(out, 28, x15);
}

/** Scratch reused by every call (all synchronous): the subkey is wiped as soon as OpenSSL has copied it. */
const subkey = new Uint8Array(SUBKEY_BYTES);
const iv = new Uint8Array(12);

function checkArgs(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== AEAD_KEY_BYTES || nonce.length !== AEAD_NONCE_BYTES) throw new Error('XChaCha20-Poly1305: wrong key or nonce length');
}

/**
 * Runs `make` (which builds the OpenSSL cipher or decipher, copying the subkey into it) with
 * HChaCha20(key, nonce[0..16]) and the RFC 8439 nonce; the subkey is wiped when `make` returns or throws.
 */
export function withSubkey<T>(key: Uint8Array, nonce: Uint8Array, make: (subkey: Uint8Array, iv: Uint8Array) => T): T {
  checkArgs(key, nonce);
  iv.set(nonce.subarray(16, 24), 4); // iv[0..4] stays zero: the RFC 8439 nonce is 0x00000000 ‖ nonce[16..24]
  try {
    hchacha20(key, nonce.subarray(0, 16), subkey);
    return make(subkey, iv);
  } finally {
    subkey.fill(0);
  }
}

/** A plain Uint8Array over a Buffer's own memory when it has it alone, else a copy (the Buffer wiped). */
function own(b: Buffer): Uint8Array {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.length) return new Uint8Array(b.buffer, 0, b.length);
  const copy = Uint8Array.from(b);
  b.fill(0);
  return copy;
}

export const opensslAead: SealAead = {
  name: 'openssl',
  encryptInto(key, nonce, aad, plain, out) {
    if (out.length !== plain.length + AEAD_TAG_BYTES) throw new Error('XChaCha20-Poly1305: wrong output length');
    const c = withSubkey(key, nonce, (k, n) => createCipheriv('chacha20-poly1305', k, n, { authTagLength: AEAD_TAG_BYTES }));
    c.setAAD(aad, { plaintextLength: plain.length });
    out.set(c.update(plain));
    c.final(); // frees the OpenSSL context now (which cleanses the key schedule), not at GC
    out.set(c.getAuthTag(), plain.length);
  },
  decrypt(key, nonce, aad, sealed) {
    const n = sealed.length - AEAD_TAG_BYTES;
    if (n < 0) throw new Error('XChaCha20-Poly1305: shorter than a tag');
    const d = withSubkey(key, nonce, (k, v) => createDecipheriv('chacha20-poly1305', k, v, { authTagLength: AEAD_TAG_BYTES }));
    d.setAAD(aad, { plaintextLength: n });
    d.setAuthTag(sealed.subarray(n));
    const plain = d.update(sealed.subarray(0, n));
    try {
      d.final(); // checks the tag (constant time, in OpenSSL); throws when it does not match
    } catch {
      plain.fill(0); // decrypted before the check: never handed out
      throw new Error('XChaCha20-Poly1305: invalid tag');
    }
    return own(plain);
  },
};

/**
 * `candidate` when it gives `reference`'s bytes on a fixed input spanning several ChaCha blocks, opens what
 * the reference sealed, and refuses a flipped tag; otherwise `reference`. Never throws.
 */
export function agreeingAead(candidate: SealAead, reference: SealAead): SealAead {
  try {
    const key = Uint8Array.from({ length: AEAD_KEY_BYTES }, (_, i) => 0x80 + i);
    const nonce = Uint8Array.from({ length: AEAD_NONCE_BYTES }, (_, i) => 0x40 + i);
    const aad = Uint8Array.from({ length: 21 }, (_, i) => 0x50 + i);
    const plain = Uint8Array.from({ length: 150 }, (_, i) => (i * 7) & 0xff);
    const a = new Uint8Array(plain.length + AEAD_TAG_BYTES);
    const b = new Uint8Array(plain.length + AEAD_TAG_BYTES);
    candidate.encryptInto(key, nonce, aad, plain, a);
    reference.encryptInto(key, nonce, aad, plain, b);
    if (!a.every((x, i) => x === b[i])) return reference;
    const back = candidate.decrypt(key, nonce, aad, b);
    if (back.length !== plain.length || !back.every((x, i) => x === plain[i])) return reference;
    b[b.length - 1]! ^= 1;
    try {
      candidate.decrypt(key, nonce, aad, b);
      return reference; // accepted a forged tag
    } catch {
      return candidate;
    }
  } catch {
    return reference;
  }
}

let chosen: SealAead | undefined;

/** The AEAD this build seals with: OpenSSL once it has agreed with noble (checked on first use), else noble. */
export function sealAead(): SealAead {
  return (chosen ??= agreeingAead(opensslAead, nobleAead));
}
