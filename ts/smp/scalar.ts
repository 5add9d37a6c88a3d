/**
 * Scalar helpers SMP needs on top of the backend: the group order, canonicality of received scalars,
 * negation, and the spec's way of turning randomness into a secret scalar. Arithmetic on secrets goes
 * through the backend's constant-time `scalarMulAdd` / `scalarReduce`, never through BigInt.
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import { SCALAR_BYTES } from '../codec/primitives.js';
import { wipe } from '../bytes.js';

const hexLE = (h: string): Uint8Array => Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));

/** q, the order of the Ed448 base point, 57 bytes little-endian. */
export const Q_LE: Uint8Array = hexLE(
  'f34458ab92c27823558fc58d72c26c219036d6ae49db4ec4e923ca7cffffffffffffffffffffffffffffffffffffffffffffffffffffff3f00',
);
/** q − 1 ≡ −1 (mod q): multiplying by it negates. */
const Q_MINUS_ONE_LE: Uint8Array = hexLE(
  'f24458ab92c27823558fc58d72c26c219036d6ae49db4ec4e923ca7cffffffffffffffffffffffffffffffffffffffffffffffffffffff3f00',
);
const ZERO = new Uint8Array(SCALAR_BYTES);

/**
 * True iff the 57-byte little-endian `s` is < q. Used on received (public) proof scalars only, so a plain
 * early-exit comparison is fine. Honest peers always send reduced values (every SMP scalar is an output of
 * a mod-q operation), so rejecting s >= q costs no interoperability and removes proof malleability.
 */
export function isCanonicalScalar(s: Uint8Array): boolean {
  if (s.length !== SCALAR_BYTES) return false;
  for (let i = SCALAR_BYTES - 1; i >= 0; i--) {
    if (s[i]! !== Q_LE[i]!) return s[i]! < Q_LE[i]!;
  }
  return false; // s == q
}

/** −x mod q (constant time: one backend multiply-add). */
export function scalarNegate(b: CryptoBackend, x: Uint8Array): Uint8Array {
  return b.scalarMulAdd(x, Q_MINUS_ONE_LE, ZERO);
}

/** r − a·c mod q: every SMP proof response d (interpretations.md §9). `a` is the secret, `c` public. */
export function proofResponse(b: CryptoBackend, r: Uint8Array, a: Uint8Array, c: Uint8Array): Uint8Array {
  const negC = scalarNegate(b, c);
  return b.scalarMulAdd(a, negC, r);
}

/** Ed448 pruning (otrv4.md §Considerations while working with elliptic curve parameters), in place. */
export function prune(h: Uint8Array): Uint8Array {
  h[0]! &= 0xfc;
  h[56] = 0;
  h[55]! |= 0x80;
  return h;
}

/**
 * A fresh secret scalar as the spec asks for every random value in Z_q used with the curve: 57 random
 * bytes, h = SHAKE-256(value, 57) (plain SHAKE-256, no "OTRv4" prefix), pruned, read little-endian.
 * The result lies in [2^447, 2^448) and is a multiple of 4; it is ≡ 0 (mod q) only if it equals 4q
 * (probability 2^-445), so multiplying a prime-order point by it gives a prime-order point.
 */
export function randomScalar(b: CryptoBackend, rng: RandomSource): Uint8Array {
  const v = rng(SCALAR_BYTES);
  const h = b.shake256([v], SCALAR_BYTES);
  wipe(v);
  return prune(h);
}
