/**
 * Arithmetic in the RFC 3526 1536-bit MODP group that OTRv3 uses for the AKE, data-message key rotation and
 * SMP. Exponentiations go through the CryptoBackend (`modPow('modp1536', …)`: constant time in the exponent on
 * WASM); the cheap operations (products, inverses, range checks, exponent arithmetic mod q) are BigInt on
 * public or already-blinded values.
 *
 * D-H key pairs and shared secrets are ts/crypto/dh.ts's (group 'modp1536'; its 80-byte exponents exceed the
 * v3 spec's "at least 320 bits", and its validation adds the subgroup check to the spec's range check).
 */
import type { CryptoBackend } from '../backend/types.js';
import { modInverse } from '../backend/js/bigint-math.js';
import { bigToBytesBE, bytesToBigBE } from '../bytes.js';
import { MODP1536 } from '../crypto/dh-groups.js';
import type { RandomSource } from '../crypto/random.js';
import { dhKeyPair, dhSharedSecret } from '../crypto/dh.js';
import { OtrCryptoError } from '../errors.js';

export const P = MODP1536.p;
/** (p − 1)/2: the order of the quadratic-residue subgroup; SMP exponent arithmetic is mod this q. */
export const Q = MODP1536.q;
export const G = MODP1536.g;
export const GROUP_BYTES = MODP1536.bytes;

/** The spec's check on every received group element: 2 ≤ v ≤ p − 2. */
export function isValidGroupElement(v: bigint): boolean {
  return v >= 2n && v <= P - 2n;
}

export function requireGroupElement(v: bigint, what: string): bigint {
  if (!isValidGroupElement(v)) throw new OtrCryptoError('INVALID_DH_VALUE', `${what} is outside [2, p-2]`);
  return v;
}

/** base^exp mod p through the backend. `exp` is a secret or public non-negative integer. */
export function powMod(b: CryptoBackend, base: bigint, exp: bigint): bigint {
  const e = exp === 0n ? new Uint8Array(1) : bigToBytesBE(exp);
  const out = bytesToBigBE(b.modPow('modp1536', bigToBytesBE(base, GROUP_BYTES), e));
  e.fill(0);
  return out;
}

export const mulMod = (a: bigint, c: bigint): bigint => (a * c) % P;
/** a / c mod p (c is a validated group element, hence invertible). */
export const divMod = (a: bigint, c: bigint): bigint => (a * modInverse(c, P)) % P;
/** Exponent arithmetic mod q, always returning a value in [0, q). */
export const modQ = (a: bigint): bigint => ((a % Q) + Q) % Q;

export interface DhKeyPair {
  /** The private exponent, DH_SECRET_BYTES big-endian. */
  readonly priv: Uint8Array;
  readonly pub: bigint;
}

/** A fresh key pair (dh.ts's generateDH in the 1536-bit group); the public value as an integer. */
export function dhKeyPairV3(b: CryptoBackend, random: RandomSource): DhKeyPair {
  const kp = dhKeyPair(b, random, 'modp1536');
  return { priv: kp.secret, pub: bytesToBigBE(kp.public) };
}

/** (their)^ours, minimal big-endian; OtrCryptoError('INVALID_DH_VALUE') for a value outside the group. */
export function dhSharedV3(b: CryptoBackend, ours: Uint8Array, theirs: bigint): Uint8Array {
  requireGroupElement(theirs, 'D-H public value');
  return dhSharedSecret(b, ours, bigToBytesBE(theirs), 'modp1536');
}

/** A random exponent of the given byte length as an integer (SMP uses 1536-bit exponents). */
export function randomExponent(random: RandomSource, bytes: number): bigint {
  const r = random(bytes);
  const v = bytesToBigBE(r);
  r.fill(0);
  return v;
}
