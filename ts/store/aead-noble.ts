/**
 * XChaCha20-Poly1305 by @noble/ciphers (pure JS): what '#seal-aead' resolves to outside Node (package.json
 * "imports", "default" condition), and the reference the OpenSSL path is checked against in Node.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import type { SealAead } from './aead.js';

export const nobleAead: SealAead = {
  name: 'noble',
  encryptInto(key, nonce, aad, plain, out) {
    // noble writes into `out` (no intermediate copy) and reads `aad` only during this call.
    xchacha20poly1305(key, nonce, aad).encrypt(plain, out);
  },
  decrypt(key, nonce, aad, sealed) {
    return xchacha20poly1305(key, nonce, aad).decrypt(sealed);
  },
};

/** The AEAD this build seals with: noble (no node:crypto outside Node). */
export function sealAead(): SealAead {
  return nobleAead;
}
