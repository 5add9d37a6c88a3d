/**
 * Statistical tools for the deniability tests: is a sample of scalars in [0, q) distinguishable from uniform
 * by a simple test? Each test is a Pearson chi-square goodness-of-fit against the uniform distribution on a
 * small set of cells, with an exact p-value (the regularised upper incomplete gamma function below).
 *
 * Features (every one a "simple distinguisher" an observer of the wire could run):
 *   - residue mod 2^k for k = 1..maxK (2^k cells): hash-and-prune values are always 2 or 3 mod 4;
 *   - high bits: floor(v · cells / q) (the value's position in [0, q));
 * A test passes when p >= ALPHA. ALPHA = 1e-6 per test: a run of T tests has a family-wise false-positive
 * probability <= T · 1e-6 (Bonferroni), i.e. < 1e-3 for the few hundred tests a suite runs. The tests draw
 * from seeded generators, so a given seed either always passes or always fails; the rate above is the chance
 * that a seed picked blindly would fail on an honest sampler.
 */
import { shake256 } from '@noble/hashes/sha3.js';
import { bytesToBigLE } from '../../ts/bytes.js';
import { seededRandom } from './rng.js';

export const Q = 2n ** 446n - 13818066809895115352007386748515426880336692474882178609894547503885n;

/** The per-test significance level (see the module comment). */
export const ALPHA = 1e-6;

// ---------------------------------------------------------------------------- chi-square p-values

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: ~15 significant digits). */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Q(a, x) = Γ(a, x) / Γ(a): series for x < a + 1, Lentz's continued fraction otherwise. */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lead = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-16; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return Math.max(0, 1 - sum * Math.exp(lead));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.exp(lead) * h;
}

/** P(X >= stat) for X ~ chi-square with df degrees of freedom. */
export function chiSquareSurvival(stat: number, df: number): number {
  return gammaQ(df / 2, stat / 2);
}

export interface ChiSquare {
  readonly feature: string;
  readonly stat: number;
  readonly df: number;
  readonly p: number;
}

/** Pearson's statistic of `counts` against `expected` probabilities (uniform when omitted). */
export function chiSquare(feature: string, counts: readonly number[], expected?: readonly number[]): ChiSquare {
  const n = counts.reduce((s, x) => s + x, 0);
  let stat = 0;
  counts.forEach((o, i) => {
    const e = n * (expected ? expected[i]! : 1 / counts.length);
    stat += ((o - e) * (o - e)) / e;
  });
  const df = counts.length - 1;
  return { feature, stat, df, p: chiSquareSurvival(stat, df) };
}

// ---------------------------------------------------------------------------- scalar features

/**
 * Chi-square tests of a sample of scalars (57-byte little-endian, or bigints) against uniform on [0, q):
 * residues mod 2..2^maxK and `highCells` high-bit buckets. Cell probabilities are exact for [0, q): q is
 * odd, so residues are uniform up to 1/q; bucket k holds the integers in [k·q/cells, (k+1)·q/cells).
 * Pick maxK and highCells so that every cell expects at least 5 values.
 */
export function scalarTests(label: string, sample: readonly (Uint8Array | bigint)[], maxK = 3, highCells = 4): ChiSquare[] {
  const vs = sample.map((s) => (typeof s === 'bigint' ? s : bytesToBigLE(s)));
  const out: ChiSquare[] = [];
  for (let k = 1; k <= maxK; k++) {
    const m = 1n << BigInt(k);
    const counts = new Array<number>(Number(m)).fill(0);
    for (const v of vs) counts[Number(v % m)]!++;
    out.push(chiSquare(`${label} mod ${m}`, counts));
  }
  const counts = new Array<number>(highCells).fill(0);
  for (const v of vs) counts[Number((v * BigInt(highCells)) / Q)]!++;
  out.push(chiSquare(`${label} high bits (${highCells} cells)`, counts));
  return out;
}

/** The tests among `tests` that reject uniformity at ALPHA. */
export const rejected = (tests: readonly ChiSquare[]): ChiSquare[] => tests.filter((t) => !(t.p >= ALPHA));

/** One line per test, for failure messages and the figures in the report. */
export const describe = (tests: readonly ChiSquare[]): string =>
  tests.map((t) => `${t.feature}: chi2 = ${t.stat.toFixed(2)} (df ${t.df}), p = ${t.p.toExponential(2)}`).join('\n');

// ---------------------------------------------------------------------------- a deliberately biased source

/**
 * A RandomSource that makes `uniformScalar` behave exactly like the old hash-and-prune `randomScalar`: each
 * 114-byte request (one uniform scalar) gets prune(SHAKE-256(v, 57)) of 57 seeded bytes v, zero-extended,
 * so scalarReduce returns prune(h) mod q — always ≡ 2 or 3 (mod 4). Other requests pass through. Used to
 * prove the statistical tests have the power to see the bias they exist to catch.
 */
export function hashAndPruneSource(seed: number): (n: number) => Uint8Array {
  const rnd = seededRandom(seed);
  return (n) => {
    if (n !== 114) return rnd(n);
    const h = shake256(rnd(57), { dkLen: 57 });
    h[0]! &= 0xfc;
    h[55]! |= 0x80;
    h[56] = 0;
    const out = new Uint8Array(114);
    out.set(h);
    return out;
  };
}

/**
 * Guesses a ring signature's signer the way an observer of a hash-and-prune implementation would: the first
 * slot whose c_j or r_j is 0 or 1 (mod 4) — a value the old sampler could not have drawn — else slot 0.
 * Against uniform draws it is right 1/3 of the time; against hash-and-prune draws about 5/6.
 */
export function guessSigner(sigma: Uint8Array): number {
  for (let j = 0; j < 3; j++) {
    const c = sigma[114 * j]! & 3;
    const r = sigma[114 * j + 57]! & 3;
    if (c < 2 || r < 2) return j;
  }
  return 0;
}

/**
 * Upper bound for the number of correct guesses among n when each is right with probability 1/3 and
 * independent: mean + 5 standard deviations (one-sided normal tail < 3e-7).
 */
export function chanceBound(n: number): number {
  return n / 3 + 5 * Math.sqrt((n * 2) / 9);
}
