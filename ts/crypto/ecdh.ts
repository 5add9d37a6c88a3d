/**
 * OTRv4's ECDH over Ed448 (otrv4.md §Generating ECDH and DH keys, §Generating Shared Secrets;
 * interpretations.md §5) and the spec's one recipe for random scalars (§Considerations while working with
 * elliptic curve parameters), kept for secret multipliers only (see randomScalar).
 */
import type { CryptoBackend } from '../backend/types.js';
import { abytes, wipe } from '../bytes.js';
import { OtrCryptoError } from '../errors.js';
import type { RandomSource } from './random.js';
import { ed448KeyPair, pruneScalar } from './eddsa.js';
import { IDENTITY_POINT, pointEquals } from './point.js';
import { notValidPoint, validPoint, type ValidPoint } from './validated.js';

export const ECDH_SECRET_BYTES = 57;
export const ECDH_PUBLIC_BYTES = 57;

export interface EcdhKeyPair {
  /** s: a 57-byte pruned little-endian scalar. Secret: the owner wipes it when the key is rotated. */
  readonly secret: Uint8Array;
  /** G·s, 57 bytes. */
  readonly public: Uint8Array;
}

/**
 * The deterministic half of generateECDH(): s = prune(SHAKE-256(r, 114)[0..57]), public = G·s — exactly
 * Ed448's key expansion with r as the seed, so it is ed448KeyPair's scalar and public key (the seed copy
 * and the nonce prefix are wiped). Exposed for known-answer tests; `r` is left to the caller (generateEcdh
 * wipes its own).
 */
export function ecdhKeyPairFromRandom(b: CryptoBackend, r: Uint8Array): EcdhKeyPair {
  abytes(r, ECDH_SECRET_BYTES, 'ECDH random value');
  const kp = ed448KeyPair(b, r);
  wipe(kp.secret, kp.prefix);
  return { secret: kp.scalar, public: kp.publicKey };
}

/** generateECDH(): 57 fresh random bytes through ecdhKeyPairFromRandom; r and h are wiped. */
export function generateEcdh(b: CryptoBackend, random: RandomSource): EcdhKeyPair {
  const r = random(ECDH_SECRET_BYTES);
  try {
    return ecdhKeyPairFromRandom(b, r);
  } finally {
    wipe(r);
  }
}

/** G·s for a 57-byte secret scalar. */
export function ecdhPublicKey(b: CryptoBackend, secret: Uint8Array): Uint8Array {
  abytes(secret, ECDH_SECRET_BYTES, 'ECDH secret');
  return b.pointMulBase(secret);
}

/**
 * K_ecdh = POINT(s·B). B must be a valid point (canonical, on the curve, not the identity, in the
 * prime-order subgroup — so no small-order or torsion component can cancel our contribution); a result
 * equal to the identity (s ≡ 0 mod q) is refused as the spec's "all-zero" contributory check. Both raise
 * OtrCryptoError('INVALID_POINT'); wrong argument types or lengths raise OtrArgumentError.
 */
export function ecdh(b: CryptoBackend, ourSecret: Uint8Array, theirPublic: Uint8Array): Uint8Array {
  abytes(ourSecret, ECDH_SECRET_BYTES, 'ECDH secret');
  abytes(theirPublic, ECDH_PUBLIC_BYTES, 'ECDH public key');
  if (!b.pointIsValid(theirPublic)) throw new OtrCryptoError('INVALID_POINT', 'ECDH public key is not a valid point');
  return ecdhValidated(b, ourSecret, theirPublic as ValidPoint);
}

/**
 * ecdh for a peer key already validated where it entered (validated.ts): the same result and the same
 * identity refusal, without a second pointIsValid.
 */
export function ecdhValidated(b: CryptoBackend, ourSecret: Uint8Array, theirPublic: ValidPoint): Uint8Array {
  abytes(ourSecret, ECDH_SECRET_BYTES, 'ECDH secret');
  abytes(theirPublic, ECDH_PUBLIC_BYTES, 'ECDH public key');
  return refuseIdentity(b.pointMul(theirPublic, ourSecret));
}

/** K, or OtrCryptoError('INVALID_POINT') with K wiped when it is the identity (s ≡ 0 mod q). */
function refuseIdentity(k: Uint8Array): Uint8Array {
  // pointEquals scans every byte, so the check leaks nothing about K beyond the (public) refusal itself.
  if (pointEquals(k, IDENTITY_POINT)) {
    wipe(k);
    throw new OtrCryptoError('INVALID_POINT', 'ECDH shared secret is the identity');
  }
  return k;
}

/**
 * A peer's ECDH key that enters here (a new ratchet's key): `validPoint(b, theirPublic, what)` then
 * `ecdhValidated`, the same result and the same errors in the same order, but in one backend call where the
 * backend fuses them (`pointMulValid`: one decoding of the point for the check and the product, instead of
 * one each — a decoding is a field exponentiation, ~6% of the multiplication). Returns K_ecdh and the key,
 * now marked valid for the state to keep.
 */
export function ecdhReceived(
  b: CryptoBackend,
  ourSecret: Uint8Array,
  theirPublic: Uint8Array,
  what: string,
): { shared: Uint8Array; theirPublic: ValidPoint } {
  // Any length the fused call would word differently takes the composed path, so errors stay identical.
  if (b.pointMulValid === undefined || ourSecret?.length !== ECDH_SECRET_BYTES || theirPublic?.length !== ECDH_PUBLIC_BYTES) {
    const valid = validPoint(b, theirPublic, what);
    return { shared: ecdhValidated(b, ourSecret, valid), theirPublic: valid };
  }
  abytes(ourSecret, ECDH_SECRET_BYTES, 'ECDH secret');
  abytes(theirPublic, ECDH_PUBLIC_BYTES, 'ECDH public key');
  const k = b.pointMulValid(theirPublic, ourSecret);
  if (k === null) throw notValidPoint(what);
  return { shared: refuseIdentity(k), theirPublic: theirPublic as ValidPoint };
}

/**
 * A random scalar per §Considerations while working with elliptic curve parameters: h = SHAKE-256(v, 57)
 * of 57 fresh random bytes v, pruned, read little-endian — then reduced mod q. v and h are wiped.
 *
 * NOT for proofs. A pruned h is a multiple of 4 in [2^447, 2^448) and q ≡ 3 (mod 4), so h mod q is h − 2q
 * or h − 3q: always ≡ 2 or 3 (mod 4). Published as a ring signature's simulated c_j / r_j it names the
 * signer; used as a nonce it leaks bits of the secret it blinds. Every published or blinding value is
 * drawn with `uniformScalar` (random.ts; docs/interop.md §Random values in Z_q). This recipe remains only
 * for callers that want the spec's literal secret-multiplier draw.
 */
export function randomScalar(b: CryptoBackend, random: RandomSource): Uint8Array {
  const v = random(ECDH_SECRET_BYTES);
  abytes(v, ECDH_SECRET_BYTES, 'random bytes');
  const h = pruneScalar(b.shake256([v], 57));
  const s = b.scalarReduce(h);
  wipe(v, h);
  return s;
}
