/**
 * Bounds on an OTRv3 peer's DSA public key, checked before any arithmetic on it (issue 10: a 1-megabit p cost
 * seconds of modPow). Every deployed OTRv3 key is 1024-bit p / 160-bit q (libotr makes only those); we accept
 * p from 1024 to 3072 bits (FIPS 186's sizes), q exactly 160 bits (OTRv3 signatures are two 20-byte halves),
 * 1 < g < p and 1 < y < p; then the structural checks of dsaPublicKeyLooksValid (q | p − 1, g and y of order
 * q: two exponentiations with a 160-bit exponent, cheap once p is bounded).
 *
 * Local until the shared bounded DSA reader lands in ts/crypto/dsa.ts; then this module goes.
 */
import { type DsaPublicKey, dsaPublicKeyLooksValid } from '../crypto/dsa.js';
import { OtrCryptoError, OtrDecodeError } from '../errors.js';

export const V3_DSA_MIN_P_BITS = 1024;
export const V3_DSA_MAX_P_BITS = 3072;
export const V3_DSA_Q_BITS = 160;

const bitLength = (v: bigint): number => (v <= 0n ? 0 : v.toString(2).length);

/** Throws OtrDecodeError (sizes, ranges) or OtrCryptoError (structure) unless `k` is an acceptable key. */
export function requireBoundedDsaKey(k: DsaPublicKey): DsaPublicKey {
  const pBits = bitLength(k.p);
  if (pBits < V3_DSA_MIN_P_BITS || pBits > V3_DSA_MAX_P_BITS) throw new OtrDecodeError(`DSA p must have ${V3_DSA_MIN_P_BITS}–${V3_DSA_MAX_P_BITS} bits`);
  if (bitLength(k.q) !== V3_DSA_Q_BITS) throw new OtrDecodeError('DSA q must be 160 bits');
  if (k.g <= 1n || k.g >= k.p || k.y <= 1n || k.y >= k.p) throw new OtrDecodeError('DSA g and y must lie in (1, p)');
  if (!dsaPublicKeyLooksValid(k)) throw new OtrCryptoError('MALFORMED', 'DSA public key fails validation');
  return k;
}
