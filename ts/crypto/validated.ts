/**
 * Compile-time marks for peer values that have passed their group check, so each value from the peer is
 * validated exactly once, where it enters (decoding a DAKE message, validating a client profile), and the
 * functions that use it later (ecdh, dhSharedSecret, ring signatures, the first ratchet step) can skip a
 * second check by their parameter type instead of by a cache keyed on values (which would hide the cost in
 * benches and tie correctness to cache state).
 *
 * The marks exist only in the type system: at run time a ValidPoint is the same Uint8Array. The only ways to
 * get one are the checking functions below, and `generatedPoint` for points we computed ourselves as G·s
 * (in the group by construction). Values restored from storage are not marked: the
 * plain `ecdh`/`dhSharedSecret`/`ringSign`/`ringVerify` keep validating their inputs.
 */
import type { CryptoBackend, DhGroupName } from '../backend/types.js';
import { OtrCryptoError } from '../errors.js';
import { dhIsValidPublic } from './dh.js';

declare const validPointMark: unique symbol;
declare const validDhMark: unique symbol;

/** An Ed448 point encoding that decodes canonically, is not the identity and lies in the prime-order subgroup. */
export type ValidPoint = Uint8Array & { readonly [validPointMark]: true };
/** A DH public value with 2 <= x <= p - 2 that is a quadratic residue mod p (in the prime-order subgroup). */
export type ValidDhPublic = Uint8Array & { readonly [validDhMark]: true };

/** `p` marked valid, or OtrCryptoError('INVALID_POINT') naming `what`. One backend pointIsValid call. */
export function validPoint(b: CryptoBackend, p: Uint8Array, what: string): ValidPoint {
  if (!b.pointIsValid(p)) throw notValidPoint(what);
  return p as ValidPoint;
}

/** The error of a received point that fails its check (validPoint, ecdh.ts ecdhReceived). */
export function notValidPoint(what: string): OtrCryptoError {
  return new OtrCryptoError('INVALID_POINT', `${what} is not a valid point`);
}

/** `x` marked valid, or OtrCryptoError('INVALID_DH_VALUE'). One backend legendre call (after the range check). */
export function validDhPublic(b: CryptoBackend, x: Uint8Array, group: DhGroupName = 'modp3072'): ValidDhPublic {
  if (!dhIsValidPublic(b, x, group)) throw new OtrCryptoError('INVALID_DH_VALUE', 'DH public value is not in the group');
  return x as ValidDhPublic;
}

/**
 * Our own G·s, computed by us from a secret scalar: in the prime-order subgroup by construction (the caller
 * guarantees s is not 0 mod q: a pruned scalar or a key checked against its secret).
 */
export function generatedPoint(p: Uint8Array): ValidPoint {
  return p as ValidPoint;
}
