/**
 * Randomness is injected everywhere (accounts, DAKE, ratchet, SMP take a `RandomSource`), so tests and
 * known-answer transcripts are deterministic. The default draws from the platform CSPRNG.
 */
export type RandomSource = (n: number) => Uint8Array;

/** crypto.getRandomValues (Node >= 19 and every browser), in chunks of its 65,536-byte limit. */
export const systemRandom: RandomSource = (n) => {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) globalThis.crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
};
