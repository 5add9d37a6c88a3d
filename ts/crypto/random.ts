/**
 * Randomness is injected everywhere (accounts, DAKE, ratchet, SMP take a `RandomSource`), so tests and
 * known-answer transcripts are deterministic. The default draws from the platform CSPRNG.
 *
 * This module also owns the one way to draw a value uniformly from Z_q (`uniformScalar`), which every random
 * value that is published or blinds a secret must use (docs/interop.md §Random values in Z_q): the
 * ring-signature nonce t and the simulated c_j, r_j; every SMP exponent and proof nonce; the prekey-server
 * proofs' r. The spec's hash-and-prune recipe (ecdh.ts `randomScalar`) is kept for what it was made for,
 * secret multipliers, and must never feed a proof: its values are always ≡ 2 or 3 (mod 4) once reduced,
 * which identifies a ring signature's signer and leaks nonce bits.
 */
import type { CryptoBackend } from '../backend/types.js';
import { abytes, wipe } from '../bytes.js';

export type RandomSource = (n: number) => Uint8Array;

/** crypto.getRandomValues (Node >= 19 and every browser), in chunks of its 65,536-byte limit. */
export const systemRandom: RandomSource = (n) => {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) globalThis.crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
};

/**
 * Bytes drawn for one uniform scalar: 114 = 2·57, so the 912-bit integer reduced mod q (q ≈ 2^446) is within
 * statistical distance q/2^912 < 2^-465 of uniform — no rejection loop, hence a fixed number of draws (the
 * known-answer transcripts rely on it) and a fixed-length, constant-time reduction on the WASM backend.
 */
export const UNIFORM_SCALAR_DRAW_BYTES = 114;

/**
 * A scalar uniform in [0, q), as 57 canonical little-endian bytes: 114 fresh random bytes reduced mod q by
 * the backend's `scalarReduce` (constant time on WASM for a fixed length). The draw is wiped.
 */
export function uniformScalar(b: CryptoBackend, random: RandomSource): Uint8Array {
  const v = abytes(random(UNIFORM_SCALAR_DRAW_BYTES), UNIFORM_SCALAR_DRAW_BYTES, 'random bytes');
  try {
    return b.scalarReduce(v);
  } finally {
    wipe(v);
  }
}
