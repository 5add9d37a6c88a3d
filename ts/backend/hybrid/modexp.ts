/**
 * MODP exponentiation through OpenSSL (node:crypto DiffieHellman objects on the RFC 3526 primes), with the
 * WASM kernel behind it for the inputs OpenSSL refuses. docs/backends.md records which OpenSSL code runs;
 * in short, for OpenSSL 3.x (Node 18+), every base (2 for public keys included) takes one path:
 *   setPrivateKey(exp) + computeSecret(base) -> DH_compute_key -> ossl_dh_compute_key, which sets
 *   BN_FLG_CONSTTIME on the private exponent (BN_mod_exp_mont runs BN_mod_exp_mont_consttime), reduces the
 *   base mod p, and then REFUSES results z <= 1 or z = p - 1 (SP 800-56A step 2). Those inputs (a base of
 *   order 1 or 2, a zero base, an exponent that is a multiple of the base's order, e.g. 0) are recomputed by
 *   the WASM kernel, so the answer is the same on every backend.
 * Base 2 used to go through setPrivateKey + generateKeys, which leaves 2^exp in the object as its public key;
 * replacing that needed a second generateKeys (exponent 1), which OpenSSL 3 charges ~0.15-0.2 ms for: about
 * an eighth of a keygen, five times per interactive DAKE. computeSecret leaves no result in the object.
 * The exponent is secret; the base is public (as on the other backends). The branch to WASM reveals only
 * that the result is 0, 1 or p - 1, which for a valid peer value (or base 2, of order q) and a random
 * exponent does not happen.
 * Validation of peer values (range, Legendre symbol) stays in ts/crypto/dh.ts, before any of this runs.
 */
import { createDiffieHellman, type DiffieHellman } from 'node:crypto';
import type { CryptoBackend, DhGroupName } from '../types.js';
import { checkModPowArgs, dhGroup } from '../../crypto/dh-groups.js';
import { bigToBytesBE } from '../../bytes.js';

/** The exponent left in an OpenSSL object between calls: 1 (public), replacing the caller's secret. */
const PLACEHOLDER = new Uint8Array([1]);

/** Copies an OpenSSL result (minimal or padded big-endian) right-aligned into `n` bytes, then wipes it. */
function padded(r: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(r, n - r.length);
  r.fill(0);
  return out;
}

export function opensslModexp(fallback: Pick<CryptoBackend, 'modPow'>): Pick<CryptoBackend, 'modPow'> {
  // One object per group: OpenSSL caches the Montgomery context of p in it (DH_FLAG_CACHE_MONT_P).
  const objects = new Map<DhGroupName, DiffieHellman>();
  const objectFor = (group: DhGroupName): DiffieHellman => {
    let d = objects.get(group);
    if (!d) {
      const g = dhGroup(group);
      d = createDiffieHellman(bigToBytesBE(g.p, g.bytes), Uint8Array.of(2));
      objects.set(group, d);
    }
    return d;
  };

  return {
    modPow(group, base, exp) {
      const g = checkModPowArgs(group, base, exp);
      const d = objectFor(group);
      d.setPrivateKey(exp); // copied into a BIGNUM; the caller's array is left as it was
      try {
        let z: Uint8Array;
        try {
          z = d.computeSecret(base);
        } catch {
          return fallback.modPow(group, base, exp); // z in {0, 1, p - 1}: refused by OpenSSL, see above
        }
        return padded(z, g.bytes);
      } finally {
        d.setPrivateKey(PLACEHOLDER); // DH_set0_key frees the secret BIGNUM with BN_clear_free
      }
    },
  };
}
