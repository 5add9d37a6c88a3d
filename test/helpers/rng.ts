/** Deterministic randomness for reproducible tests: a xorshift-based byte stream seeded per test. */
export function seededRandom(seed: number): (n: number) => Uint8Array {
  let s = (seed >>> 0) || 0x9e3779b9;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      out[i] = s & 0xff;
    }
    return out;
  };
}

/** How many random cases a differential test runs: 1,000 normally, more with OTR_CASES set. */
export const CASES: number = Number(process.env.OTR_CASES ?? 1000);
