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
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, agreeingAead, type SealAead } from './aead.js';
import { nobleAead } from './aead-noble.js';
import { hchacha } from '@noble/ciphers/chacha.js';

const SUBKEY_BYTES = 32;

/** "expand 32-byte k" as the four little-endian words ChaCha starts from. */
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
/** Word views for noble's hchacha (ChaCha works on little-endian words; noble's ciphers assume such a host). */
const key32 = new Uint32Array(8);
const input32 = new Uint32Array(4);
const out32 = new Uint32Array(8);
/** Byte views of the same words, made once (five fresh views per seal were a measurable share of its garbage). */
const key8 = new Uint8Array(key32.buffer);
const input8 = new Uint8Array(input32.buffer);
const out8 = new Uint8Array(out32.buffer);

/**
 * HChaCha20 (draft-irtf-cfrg-xchacha §2.2) by @noble/ciphers' `hchacha`, over bytes: `out` = the subkey for
 * `key` and the first 16 bytes of the extended nonce. The word copies of the key and subkey are zeroed.
 */
export function hchacha20(key: Uint8Array, input: Uint8Array, out: Uint8Array): void {
  if (key.length < 32 || input.length < 16) throw new Error('HChaCha20: key or input too short');
  try {
    for (let i = 0; i < 32; i++) key8[i] = key[i]!;
    for (let i = 0; i < 16; i++) input8[i] = input[i]!;
    hchacha(SIGMA, key32, input32, out32);
    out.set(out8);
  } finally {
    key32.fill(0);
    out32.fill(0);
  }
}

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
  for (let i = 16; i < 24; i++) iv[i - 12] = nonce[i]!; // iv[0..4] stays zero: the RFC 8439 nonce is 0x00000000 ‖ nonce[16..24]
  try {
    hchacha20(key, nonce, subkey); // reads nonce[0..16]
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

/** The cipher options and builders, made once (not a closure and an options object per seal). */
const CIPHER_OPTIONS = { authTagLength: AEAD_TAG_BYTES } as const;
const makeCipher = (k: Uint8Array, n: Uint8Array) => createCipheriv('chacha20-poly1305', k, n, CIPHER_OPTIONS);
const makeDecipher = (k: Uint8Array, n: Uint8Array) => createDecipheriv('chacha20-poly1305', k, n, CIPHER_OPTIONS);
/** setAAD's options, one object rewritten per call (node:crypto reads it during the call only). */
const AAD_OPTIONS = { plaintextLength: 0 };

export const opensslAead: SealAead = {
  name: 'openssl',
  encryptInto(key, nonce, aad, plain, out) {
    if (out.length !== plain.length + AEAD_TAG_BYTES) throw new Error('XChaCha20-Poly1305: wrong output length');
    const c = withSubkey(key, nonce, makeCipher);
    AAD_OPTIONS.plaintextLength = plain.length;
    c.setAAD(aad, AAD_OPTIONS);
    out.set(c.update(plain));
    c.final(); // frees the OpenSSL context now (which cleanses the key schedule), not at GC
    out.set(c.getAuthTag(), plain.length);
  },
  decrypt(key, nonce, aad, sealed) {
    const n = sealed.length - AEAD_TAG_BYTES;
    if (n < 0) throw new Error('XChaCha20-Poly1305: shorter than a tag');
    const d = withSubkey(key, nonce, makeDecipher);
    AAD_OPTIONS.plaintextLength = n;
    d.setAAD(aad, AAD_OPTIONS);
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

let chosen: SealAead | undefined;

/** The AEAD this build seals with: OpenSSL once it has agreed with noble (checked on first use), else noble. */
export function sealAead(): SealAead {
  return (chosen ??= agreeingAead(opensslAead, nobleAead));
}
