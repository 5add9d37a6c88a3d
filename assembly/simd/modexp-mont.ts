// Montgomery arithmetic on f64x2 lanes (WebAssembly SIMD), constant time: the SIMD module's version of
// assembly/mont.ts, for the RFC 3526 MODP primes.
//
// Why floating point: WebAssembly SIMD has no cheap 32x32->64 integer multiply (V8 lowers
// i64x2.extmul_*_i32x4_u to two shuffles and a pmuludq, and i64x2.mul to eight instructions), but
// f64x2.mul is one instruction for two products, and a double holds every integer below 2^53 exactly.
// Measured in V8 on a full 3072-bit product: 0.085 ns per product here, 0.24 ns for the scalar 28-bit
// code's u64 products.
//
// Limbs are SIGNED ("balanced") digits of radix 2^23, each in [-2^22, 2^22]: a product is at most 2^44 in
// magnitude, so a whole Montgomery column -- at most 2 s = 272 products for s = 136 -- and every partial
// sum of it stays below 2^53 in magnitude and is exact. Unsigned 22-bit limbs had the same product bound
// but need s = 140 for 3072 bits: balanced digits buy one bit per limb, (136/140)^2 = 0.94 of the products
// (measured ~6% off a 3072-bit exponentiation). Numbers in this form may be negative: every routine keeps
// |x| < 2p, and modexp.ts maps the final value into [0, p) once.
//
// Structure: product scanning with the Montgomery reduction interleaved (as in assembly/mont.ts), four
// output columns per step. The four columns share each load of the multiplicand and reuse the reversed
// multiplier's vectors (columns i..i+3 read it at four consecutive offsets): 1.4x faster than two columns
// per step. Measured and dropped: eight accumulators (V8 spills registers: 2.2x slower), unrolling to
// eight j per iteration (spills: ~25% slower), 16-byte stores of m so they forward to the next step's
// loads (no change). The kernel runs at ~80% of the f64 multiply/add throughput; what remains is the
// serial per-step part (reduce4), kept short by the moduli's shape (see there).
// The columns of a step depend only on reduction multipliers m[j] for j below the step, so the serial part
// (deriving m[i..i+3] from the column sums) runs once per four columns, in integers.
//
// Lazy reduction (Walter): with balanced digits the reduction multiplier m is at most ~R/2 in magnitude,
// and R = 2^(23 s) > 2^55 p, so for |a|, |b| < 2p the result (a b + m p) / R has |r| < 4p^2/R + p/2 < p:
// no final subtraction is needed until the result leaves Montgomery form (modexp.ts does it once).
//
// Layout: a number is s f64 limbs (s a multiple of 4). Reversed operands live in buffers with PAD zero
// limbs on both sides, so the vector loops can run over whole groups of four and read zeros past the ends
// instead of needing scalar edge code. Every loop bound depends only on s; no branch or address depends
// on limb values.

export const F_BITS: i32 = 23;
const F_MASK: i64 = (1 << F_BITS) - 1;
const F_HALF: i64 = 1 << (F_BITS - 1);
/** Largest limb count: 136 * 23 = 3128 bits for the 3072-bit group, a multiple of 4. */
export const F_MAX_LIMBS: i32 = 136;
/** Bytes of one full-size number. */
export const F_BYTES: i32 = F_MAX_LIMBS * 8;
/** Zero limbs on each side of a reversed operand. */
export const F_PAD: i32 = 4;
/** Bytes of a padded reversed operand. */
export const F_REV_BYTES: i32 = (F_MAX_LIMBS + 2 * F_PAD) * 8;

/** Limbs for a modulus of `nbytes` bytes: the least multiple of 4 with 23 s >= 8 nbytes + 2. */
export function fLimbsFor(nbytes: i32): i32 {
  const s = (nbytes * 8 + 2 + F_BITS - 1) / F_BITS;
  return (s + 3) & ~3;
}

// Scratch: the reversed multiplier (padded) and the reduction multipliers m[0..s).
const REV: usize = memory.data(F_REV_BYTES, 16);
const M: usize = memory.data(F_BYTES, 16);

/** Zeroes the scratch that held intermediate values of secret numbers. */
export function fWipeScratch(): void {
  memory.fill(REV, 0, F_REV_BYTES);
  memory.fill(M, 0, F_BYTES);
}

// @ts-ignore: decorator
@inline function fl(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline function setFl(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

// Conversions between limbs/column sums and integers go through i64 (every value is below 2^53 in
// magnitude): V8 compiles them to single instructions.
// @ts-ignore: decorator
@inline function u(p: usize, i: i32): i64 {
  return <i64>load<f64>(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline function f(v: i64): f64 {
  return <f64>v;
}

/** The balanced digit of c: c mod 2^23 in [-2^22, 2^22) (the caller then divides c - digit by 2^23 exactly). */
// @ts-ignore: decorator
@inline export function fDigit(c: i64): i64 {
  return ((c + F_HALF) & F_MASK) - F_HALF;
}

/** The padded reversed copy of x (s limbs) into `rev`: rev[PAD + k] = x[s-1-k], PAD zeros after. */
export function fReverse(rev: usize, x: usize, s: i32): void {
  const base = rev + (<usize>F_PAD << 3);
  for (let k = 0; k < s; k++) store<f64>(base + (<usize>k << 3), fl(x, s - 1 - k));
  memory.fill(base + (<usize>s << 3), 0, <usize>(F_PAD << 3));
}

/**
 * Four column sums, handed to reduce4 (low half) or carry4 (high half) with the carry, which is returned:
 * column t = sum_j xA[j] yA[3-t+j] (j < nA) + xB[j] yB[3-t+j] (j < nB),
 * with the first range's sum doubled when `double1` (squaring's off-diagonal terms). nA, nB are even. yA/yB point at the reversed operand's limb for column i+3 at j = 0; column i+t reads it at offset
 * 3-t. Exact: every partial sum is an integer below 2^53.
 */
// @ts-ignore: decorator
@inline function columns4(
  xA: usize, yA: usize, nA: i32, xB: usize, yB: usize, nB: i32, sqrRev: usize, s: i32, h: i32,
  carry: i64, high: bool, col: i32, p: usize, r: usize,
): i64 {
  const double1 = sqrRev != 0;
  let c0 = f64x2.splat(0);
  let c1 = f64x2.splat(0);
  let c2 = f64x2.splat(0);
  let c3 = f64x2.splat(0);
  let x = xA;
  let y = yA;
  let k = nA;
  for (let pass = 0; pass < 2; pass++) {
    let y3 = v128.load(y); // offset 0: column i+3 at j, j+1
    let y2 = v128.load(y, 8); // column i+2
    while (k >= 4) {
      const xa = v128.load(x); // x[j], x[j+1]
      const xb = v128.load(x, 16); // x[j+2], x[j+3]
      const y1v = v128.load(y, 16); // column i+1 at j (column i+3 at j+2)
      const y0v = v128.load(y, 24); // column i at j (column i+2 at j+2)
      const y3n = v128.load(y, 32); // column i+1 at j+2
      const y2n = v128.load(y, 40); // column i at j+2
      c3 = f64x2.add(c3, f64x2.add(f64x2.mul(xa, y3), f64x2.mul(xb, y1v)));
      c2 = f64x2.add(c2, f64x2.add(f64x2.mul(xa, y2), f64x2.mul(xb, y0v)));
      c1 = f64x2.add(c1, f64x2.add(f64x2.mul(xa, y1v), f64x2.mul(xb, y3n)));
      c0 = f64x2.add(c0, f64x2.add(f64x2.mul(xa, y0v), f64x2.mul(xb, y2n)));
      y3 = y3n;
      y2 = y2n;
      x += 32;
      y += 32;
      k -= 4;
    }
    if (k != 0) {
      // A last pair of j (squaring's ranges end on a multiple of 2).
      const xa = v128.load(x);
      c3 = f64x2.add(c3, f64x2.mul(xa, y3));
      c2 = f64x2.add(c2, f64x2.mul(xa, y2));
      c1 = f64x2.add(c1, f64x2.mul(xa, v128.load(y, 16)));
      c0 = f64x2.add(c0, f64x2.mul(xa, v128.load(y, 24)));
    }
    if (pass == 0) {
      if (double1) {
        c0 = f64x2.add(c0, c0);
        c1 = f64x2.add(c1, c1);
        c2 = f64x2.add(c2, c2);
        c3 = f64x2.add(c3, c3);
      }
      x = xB;
      y = yB;
      k = nB;
    }
  }
  // Horizontal sums, two columns per vector: [c0.0 + c0.1, c1.0 + c1.1], [c2..., c3...].
  let s01 = f64x2.add(v128.shuffle<f64>(c0, c1, 0, 2), v128.shuffle<f64>(c0, c1, 1, 3));
  let s23 = f64x2.add(v128.shuffle<f64>(c2, c3, 0, 2), v128.shuffle<f64>(c2, c3, 1, 3));
  if (double1) {
    // Squaring's terms with j >= h = i/2: a[h]^2, 2 a[h] a[h+1], 2 a[h] a[h+2] + a[h+1]^2,
    // 2 (a[h] a[h+3] + a[h+1] a[h+2]), read from the padded reversal so that limbs past a's end are zeros.
    const r0 = sqrRev + (<usize>(s - 1 - h) << 3); // a[h + d] = rev[s-1-h-d]
    const a0 = load<f64>(r0);
    const a1 = load<f64>(r0 - 8);
    const a2 = load<f64>(r0 - 16);
    const a3 = load<f64>(r0 - 24);
    s01 = f64x2.add(s01, f64x2(a0 * a0, 2 * a0 * a1));
    s23 = f64x2.add(s23, f64x2(2 * a0 * a2 + a1 * a1, 2 * (a0 * a3 + a1 * a2)));
  }
  // The sums go to the serial part in registers (a round trip through memory cost ~2%).
  const v0 = <i64>f64x2.extract_lane(s01, 0);
  const v1 = <i64>f64x2.extract_lane(s01, 1);
  const v2 = <i64>f64x2.extract_lane(s23, 0);
  const v3 = <i64>f64x2.extract_lane(s23, 1);
  return high ? carry4(carry, v0, v1, v2, v3, r, col) : reduce4(carry, v0, v1, v2, v3, col, p);
}

/**
 * The low half's serial part for columns i..i+3: adds the column sums (c0..c3, all terms but those with
 * m[i..i+3]) to the carry, derives m[i..i+3] (each clears its column's low 23 bits; a balanced digit) and
 * stores them. Returns the carry into column i+4. This chain is serial through the whole product, so it
 * uses the moduli's shape: p = -1 mod 2^46 (true of the RFC 3526 primes, which are -1 mod 2^64;
 * modexp_setup refuses others), so p's two lowest balanced digits are -1 and 0: -p^(-1) = 1 mod 2^23,
 * m = c mod 2^23, (c + m p0) / 2^23 = (c - m) / 2^23, and m[k] adds nothing to column k+1. With
 * t = c + 2^22 the digit is (t & mask) - 2^22 and (c - m) / 2^23 is t >> 23, so the chain from one column
 * to the next is one shift and one add (measured ~5% off an exponentiation against the chain through m).
 */
// @ts-ignore: decorator
@inline function reduce4(c: i64, c0: i64, c1: i64, c2: i64, c3: i64, i: i32, p: usize): i64 {
  const p2 = u(p, 2);
  const p3 = u(p, 3);
  let t = c + (c0 + F_HALF);
  const m0 = (t & F_MASK) - F_HALF;
  t = (t >> F_BITS) + (c1 + F_HALF);
  const m1 = (t & F_MASK) - F_HALF;
  t = (t >> F_BITS) + (c2 + F_HALF + m0 * p2);
  const m2 = (t & F_MASK) - F_HALF;
  t = (t >> F_BITS) + (c3 + F_HALF + m0 * p3 + m1 * p2);
  const m3 = (t & F_MASK) - F_HALF;
  setFl(M, i, f(m0));
  setFl(M, i + 1, f(m1));
  setFl(M, i + 2, f(m2));
  setFl(M, i + 3, f(m3));
  return t >> F_BITS;
}

/** The high half's serial part: columns s+k..s+k+3 give result digits k..k+3 (stored to r). */
// @ts-ignore: decorator
@inline function carry4(c: i64, c0: i64, c1: i64, c2: i64, c3: i64, r: usize, k: i32): i64 {
  let t = c + (c0 + F_HALF);
  setFl(r, k, f((t & F_MASK) - F_HALF));
  t = (t >> F_BITS) + (c1 + F_HALF);
  setFl(r, k + 1, f((t & F_MASK) - F_HALF));
  t = (t >> F_BITS) + (c2 + F_HALF);
  setFl(r, k + 2, f((t & F_MASK) - F_HALF));
  t = (t >> F_BITS) + (c3 + F_HALF);
  setFl(r, k + 3, f((t & F_MASK) - F_HALF));
  return t >> F_BITS;
}

/**
 * r = a * b / R mod p (|r| < p) for |a|, |b| < 2p, or 0 <= a < 2^(23 s - 8) and |b| < p. `p` holds the
 * modulus's balanced digits (p = -1 mod 2^46, see reduce4), `prev` their padded reversal (fReverse).
 * r may alias a or b.
 */
export function fMontMul(r: usize, a: usize, b: usize, p: usize, prev: usize, s: i32): void {
  fReverse(REV, b, s);
  const rev = REV + (<usize>F_PAD << 3);
  const pr = prev + (<usize>F_PAD << 3);
  let c: i64 = 0;
  for (let i = 0; i < s; i += 4) {
    // a[j] b[i+t-j] for j <= i+3 (zeros past the reversed b's end), m[j] p[i+t-j] for j < i.
    const o = rev + (<usize>(s - 4 - i) << 3);
    c = columns4(a, o, i + 4, M, pr + (<usize>(s - 4 - i) << 3), i, 0, s, 0, c, false, i, p, 0);
  }
  for (let i = s; i < 2 * s; i += 4) {
    // j from i - s (terms below i+t-s+1 read the zero padding) to s - 1.
    const j0 = i - s;
    const n = 2 * s - i;
    // r[j0..j0+3]: a[j] for j < j0 + 4 is no longer read, so r may alias a
    c = columns4(a + (<usize>j0 << 3), rev - 32, n, M + (<usize>j0 << 3), pr - 32, n, 0, s, 0, c, true, j0, p, r);
  }
}

/** r = a^2 / R mod p (|r| < p) for |a| < 2p: fMontMul with the symmetric products counted once. */
export function fMontSqr(r: usize, a: usize, p: usize, prev: usize, s: i32): void {
  fReverse(REV, a, s);
  const rev = REV + (<usize>F_PAD << 3);
  const pr = prev + (<usize>F_PAD << 3);
  let c: i64 = 0;
  for (let i = 0; i < s; i += 4) {
    // Off-diagonal j < i/2 in the vector loop (doubled), then the terms with j >= i/2.
    const o = <usize>(s - 4 - i) << 3;
    c = columns4(a, rev + o, i >> 1, M, pr + o, i, rev, s, i >> 1, c, false, i, p, 0);
  }
  for (let i = s; i < 2 * s; i += 4) {
    // j from i - s (terms below i+t-s+1 read the zero padding) to i/2 - 1; i/2 >= i - s as i < 2s.
    const j0 = i - s;
    c = columns4(a + (<usize>j0 << 3), rev - 32, (i >> 1) - j0, M + (<usize>j0 << 3), pr - 32, 2 * s - i, rev, s, i >> 1, c, true, j0, p, r);
  }
}
