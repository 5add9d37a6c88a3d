/**
 * OTRv4's one hash construction (otrv4.md §Key Derivation Function): KDF, HWC and HCMAC are all
 * SHAKE-256("OTRv4" || usage_ID || values, size). The prekey-server protocol uses the same shape with the
 * prefix "OTR-Prekey-Server". HashToScalar reads 57 bytes little-endian mod q (interpretations.md §4).
 */
import type { CryptoBackend } from '../backend/types.js';
import { OTRV4_PREFIX, PREKEY_SERVER_PREFIX } from './usage.js';

const USAGE_BYTES: Uint8Array[] = Array.from({ length: 256 }, (_, i) => Uint8Array.of(i));

/** SHAKE-256("OTRv4" || usage || values..., size). KDF, HWC and HCMAC are this function. */
export function kdf(b: CryptoBackend, usage: number, values: readonly Uint8Array[], size: number): Uint8Array {
  return b.shake256([OTRV4_PREFIX, USAGE_BYTES[usage & 0xff]!, ...values], size);
}

/** The same construction with the prekey-server prefix. */
export function prekeyServerKdf(b: CryptoBackend, usage: number, values: readonly Uint8Array[], size: number): Uint8Array {
  return b.shake256([PREKEY_SERVER_PREFIX, USAGE_BYTES[usage & 0xff]!, ...values], size);
}

/** HashToScalar(usage || d) = HWC(usage || d, 57) read little-endian, mod q (no pruning). */
export function hashToScalar(b: CryptoBackend, usage: number, values: readonly Uint8Array[]): Uint8Array {
  return reduceAndWipe(b, kdf(b, usage, values, 57));
}

/** HashToScalar with the prekey-server prefix (the prekey-server DAKE's ring-signature challenge). */
export function prekeyServerHashToScalar(b: CryptoBackend, usage: number, values: readonly Uint8Array[]): Uint8Array {
  return reduceAndWipe(b, prekeyServerKdf(b, usage, values, 57));
}

/** h mod q; the intermediate hash is wiped. */
function reduceAndWipe(b: CryptoBackend, h: Uint8Array): Uint8Array {
  try {
    return b.scalarReduce(h);
  } finally {
    h.fill(0);
  }
}
