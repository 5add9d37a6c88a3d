/**
 * The AEAD that seals records at rest (ts/store/sealing.ts): XChaCha20-Poly1305 as in
 * draft-irtf-cfrg-xchacha (HChaCha20 subkey from the key and the first 16 nonce bytes, then RFC 8439
 * ChaCha20-Poly1305 with the nonce 0x00000000 ‖ the last 8 nonce bytes). Two implementations give the same
 * bytes for every input: ./aead-noble.ts (pure JS, every runtime) and ./aead-openssl.ts (OpenSSL through
 * node:crypto, Node only). Which one a build carries is decided by package.json "imports" ('#seal-aead':
 * the OpenSSL one under the "node" condition, the noble one everywhere else), so browser bundles never see
 * node:crypto; docs/stores.md ("Sealing in Node and in browsers") says why and how.
 */

export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 24;
export const AEAD_TAG_BYTES = 16;

export interface SealAead {
  /** Which implementation runs ('openssl' or 'noble'), for diagnostics and tests. */
  readonly name: 'openssl' | 'noble';
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
