/**
 * The AEAD that seals records at rest (ts/store/sealing.ts): XChaCha20-Poly1305 as in
 * draft-irtf-cfrg-xchacha (HChaCha20 subkey from the key and the first 16 nonce bytes, then RFC 8439
 * ChaCha20-Poly1305 with the nonce 0x00000000 ‖ the last 8 nonce bytes). Two implementations give the same
 * bytes for every input: ./aead-noble.ts (pure JS, every runtime) and ./aead-openssl.ts (OpenSSL through
 * node:crypto, Node only). Which one a build carries is decided by package.json "imports" ('#seal-aead':
 * the OpenSSL one under the "node" condition, the noble one everywhere else), so browser bundles never see
 * node:crypto; docs/stores.md ("Sealing in Node and in browsers") says why and how. A third, a crypto
 * backend's (CryptoBackend.sealXChaCha20Poly1305, which the WASM and hybrid backends offer; ./aead-backend.ts
 * makes it a SealAead), is used where the host hands one in (openStoredAccount passes its account's
 * backend's), once `agreeingAead` has checked it against the build's own.
 */

export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 24;
export const AEAD_TAG_BYTES = 16;

export interface SealAead {
  /** Which implementation runs ('openssl', 'noble' or a crypto backend's), for diagnostics and tests. */
  readonly name: 'openssl' | 'noble' | 'backend';
  /**
   * Encrypts `plain` and writes ciphertext ‖ tag into `out`, which must be exactly plain.length + 16 bytes
   * (a view into the row being built, so the ciphertext is not copied again). `aad` is read, not kept.
   */
  encryptInto(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array, out: Uint8Array): void;
  /**
   * Verifies the tag at the end of `sealed` (ciphertext ‖ tag) and returns the plaintext, a fresh array the
   * caller owns. Throws (any Error; the caller turns it into its own typed error) when the tag does not
   * verify, and then returns no byte of plaintext.
   */
  decrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array;
}

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
