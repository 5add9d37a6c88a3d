// Montgomery arithmetic modulo an odd multi-limb modulus (the RFC 3526 MODP primes), constant time.
//
// WebAssembly has no 64x64->128 multiply, so the products must be exact u64 values. Limbs are 28 bits
// (in u32 slots): a product is below 2^56, so a whole output column -- up to 2s + 1 = 221 products of a
// Montgomery product, for s = 110 limbs -- sums in ONE u64 without carry handling (221 * 2^56 < 2^64).
// Measured against 32-bit limbs with split low/high accumulators this costs 15% more products but half the
// instructions per product: 1.77x faster, measured side by side (then 1.4x more from pairing columns).
//
// Multiplication is product scanning (Comba) with Koc's "FIPS" interleaving of the Montgomery reduction:
// column i sums a[j] b[i-j] + m[j] p[i-j], then m[i] is chosen to clear its low 28 bits. The products of a
// column are independent of each other (no carry chain through the multiplier, which is what makes
// operand scanning latency-bound). The multiplier and p are kept with their limbs reversed so both vectors
// of a column's dot product run upwards, which lets the unrolled loop use immediate load offsets.
//
// Every routine here runs in time that depends only on `s`: no branch or address depends on limb values.

export const LIMB_BITS: i32 = 28;
const MASK: u64 = (1 << LIMB_BITS) - 1;

/** Largest number of limbs: 3072 bits in 28-bit limbs, rounded up to even (110 * 28 = 3080). */
export const MAX_LIMBS: i32 = 110;
/** Bytes of one full-size number's limb array. */
export const NUM_BYTES: i32 = MAX_LIMBS * 4;

/** Limbs for a modulus of `nbytes` bytes: ceil(8 nbytes / 28), rounded up to even (see select()). */
export function limbsFor(nbytes: i32): i32 {
  const s = (nbytes * 8 + LIMB_BITS - 1) / LIMB_BITS;
  return (s + 1) & ~1;
}

/**
 * Most limbs the setup helpers below (modDouble, limbsFromBE, limbsToBE) handle: the SIMD module
 * (assembly/simd/modexp.ts) uses them with 22-bit limbs, 140 for 3072 bits.
 */
export const SETUP_MAX_LIMBS: i32 = 140;
const SCRATCH_BYTES: i32 = SETUP_MAX_LIMBS * 4 + 8;

// Scratch for one product: the reduction multipliers m[0..s), the reversed multiplier, and the result
// before the final subtraction.
const M_BUF: usize = memory.data(SCRATCH_BYTES, 16);
const T_BUF: usize = memory.data(SCRATCH_BYTES, 16);
const BREV: usize = memory.data(NUM_BYTES + 8, 16);

/** Zeroes the scratch that held intermediate products of secret values. */
export function montWipeScratch(): void {
  memory.fill(M_BUF, 0, SCRATCH_BYTES);
  memory.fill(T_BUF, 0, SCRATCH_BYTES);
  memory.fill(BREV, 0, NUM_BYTES + 8);
  PAIR_LO = 0; // the last column sum of a secret product
}

// @ts-ignore: decorator
@inline function limb(p: usize, i: i32): u64 {
  return load<u32>(p + (<usize>i << 2)) as u64;
}

// @ts-ignore: decorator
@inline function setLimb(p: usize, i: i32, v: u64): void {
  store<u32>(p + (<usize>i << 2), v as u32);
}

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** r[k] = x[s-1-k]. */
export function reverseLimbs(r: usize, x: usize, s: i32): void {
  for (let k = 0; k < s; k++) store<u32>(r + (<usize>k << 2), load<u32>(x + (<usize>(s - 1 - k) << 2)));
}

/** sum x[j] y[j], j < n (products < 2^56; the caller bounds n). */
function dot(x: usize, y: usize, n: i32): u64 {
  let acc: u64 = 0;
  let k = n;
  while (k >= 4) {
    acc +=
      (load<u32>(x) as u64) * (load<u32>(y) as u64) +
      (load<u32>(x, 4) as u64) * (load<u32>(y, 4) as u64) +
      (load<u32>(x, 8) as u64) * (load<u32>(y, 8) as u64) +
      (load<u32>(x, 12) as u64) * (load<u32>(y, 12) as u64);
    x += 16;
    y += 16;
    k -= 4;
  }
  while (k > 0) {
    acc += (load<u32>(x) as u64) * (load<u32>(y) as u64);
    x += 4;
    y += 4;
    k--;
  }
  return acc;
}

/** sum x1[j] y1[j] + x2[j] y2[j], j < n. */
function dot2(x1: usize, y1: usize, x2: usize, y2: usize, n: i32): u64 {
  let acc: u64 = 0;
  let k = n;
  while (k >= 2) {
    acc +=
      (load<u32>(x1) as u64) * (load<u32>(y1) as u64) +
      (load<u32>(x1, 4) as u64) * (load<u32>(y1, 4) as u64) +
      (load<u32>(x2) as u64) * (load<u32>(y2) as u64) +
      (load<u32>(x2, 4) as u64) * (load<u32>(y2, 4) as u64);
    x1 += 8;
    y1 += 8;
    x2 += 8;
    y2 += 8;
    k -= 2;
  }
  if (k > 0) acc += (load<u32>(x1) as u64) * (load<u32>(y1) as u64) + (load<u32>(x2) as u64) * (load<u32>(y2) as u64);
  return acc;
}

// Second result of dotPair2 (a global: returning two u64 without allocating).
let PAIR_LO: u64 = 0;

/**
 * Two adjacent columns at once: returns sum x1[k] y1[k+1] + x2[k] y2[k+1] and leaves
 * sum x1[k] y1[k] + x2[k] y2[k] in PAIR_LO, k < n. Each y limb is loaded once and used by both columns,
 * so a product costs one load instead of two.
 */
function dotPair2(x1: usize, y1: usize, x2: usize, y2: usize, n: i32): u64 {
  let hi: u64 = 0;
  let lo: u64 = 0;
  let ya = load<u32>(y1) as u64;
  let yb = load<u32>(y2) as u64;
  let k = n;
  while (k >= 2) {
    const xa0 = load<u32>(x1) as u64;
    const xa1 = load<u32>(x1, 4) as u64;
    const ya1 = load<u32>(y1, 4) as u64;
    const ya2 = load<u32>(y1, 8) as u64;
    const xb0 = load<u32>(x2) as u64;
    const xb1 = load<u32>(x2, 4) as u64;
    const yb1 = load<u32>(y2, 4) as u64;
    const yb2 = load<u32>(y2, 8) as u64;
    hi += xa0 * ya1 + xa1 * ya2 + xb0 * yb1 + xb1 * yb2;
    lo += xa0 * ya + xa1 * ya1 + xb0 * yb + xb1 * yb1;
    ya = ya2;
    yb = yb2;
    x1 += 8;
    y1 += 8;
    x2 += 8;
    y2 += 8;
    k -= 2;
  }
  if (k > 0) {
    const xa0 = load<u32>(x1) as u64;
    const xb0 = load<u32>(x2) as u64;
    hi += xa0 * (load<u32>(y1, 4) as u64) + xb0 * (load<u32>(y2, 4) as u64);
    lo += xa0 * ya + xb0 * yb;
  }
  PAIR_LO = lo;
  return hi;
}

/** dotPair2 for one vector pair: returns sum x[k] y[k+1], leaves sum x[k] y[k] in PAIR_LO, k < n. */
function dotPair(x: usize, y: usize, n: i32): u64 {
  let hi: u64 = 0;
  let lo: u64 = 0;
  let y0 = load<u32>(y) as u64;
  let k = n;
  while (k >= 2) {
    const x0 = load<u32>(x) as u64;
    const x1 = load<u32>(x, 4) as u64;
    const y1 = load<u32>(y, 4) as u64;
    const y2 = load<u32>(y, 8) as u64;
    hi += x0 * y1 + x1 * y2;
    lo += x0 * y0 + x1 * y1;
    y0 = y2;
    x += 8;
    y += 8;
    k -= 2;
  }
  while (k > 0) {
    const x0 = load<u32>(x) as u64;
    const y1 = load<u32>(y, 4) as u64;
    hi += x0 * y1;
    lo += x0 * y0;
    y0 = y1;
    x += 4;
    y += 4;
    k--;
  }
  PAIR_LO = lo;
  return hi;
}

/**
 * r = t mod p for t = T_BUF[0..s] (s limbs and a carry limb, t < 2p): subtracts p when t >= p, chosen
 * by a mask. r may be any buffer. `bits` is the limb width (the SIMD module's setup uses 22).
 */
function finalSubtract(r: usize, p: usize, s: i32, bits: i32 = LIMB_BITS): void {
  const lmask: u64 = (<u64>1 << bits) - 1;
  let borrow: u64 = 0;
  for (let i = 0; i < s; i++) {
    const d = limb(T_BUF, i) - limb(p, i) - borrow;
    setLimb(M_BUF, i, d & lmask); // M_BUF is free once the product is done
    borrow = d >> 63;
  }
  // t >= p iff the carry limb is set or the subtraction did not borrow.
  const useD: u64 = (limb(T_BUF, s) | (borrow ^ 1)) & 1;
  const mask: u64 = 0 - useD;
  for (let i = 0; i < s; i++) setLimb(r, i, (limb(M_BUF, i) & mask) | (limb(T_BUF, i) & ~mask));
}

/**
 * r = a * b * 2^(-28 s) mod p, fully reduced, for a < 2^(28 s) and b < p (limbs below 2^28).
 * `prev` is p with its limbs reversed; `n0` = -p^(-1) mod 2^28. r may alias a or b.
 */
export function montMul(r: usize, a: usize, b: usize, p: usize, prev: usize, n0: u64, s: i32): void {
  reverseLimbs(BREV, b, s);
  // b[i-j] = BREV[s-1-i+j] and p[i-j] = prev[s-1-i+j]. Columns go in pairs (i, i+1); s is even.
  const b0 = limb(b, 0);
  const b1 = limb(b, 1);
  const p0 = limb(p, 0);
  const p1 = limb(p, 1);
  let c: u64 = 0;
  for (let i = 0; i < s; i += 2) {
    const o = s - 2 - i;
    // j < i for both columns; column i+1 also gets the terms with j = i, i+1, including m[i] p[1].
    const ci = dotPair2(a, at(BREV, o), M_BUF, at(prev, o), i);
    const ci1 = PAIR_LO;
    c += ci + limb(a, i) * b0;
    const mi = ((c & MASK) * n0) & MASK;
    setLimb(M_BUF, i, mi);
    c = (c + mi * p0) >> LIMB_BITS; // exact: the low 28 bits are zero by the choice of m[i]
    c += ci1 + limb(a, i) * b1 + limb(a, i + 1) * b0 + mi * p1;
    const mi1 = ((c & MASK) * n0) & MASK;
    setLimb(M_BUF, i + 1, mi1);
    c = (c + mi1 * p0) >> LIMB_BITS;
  }
  for (let i = s; i < 2 * s; i += 2) {
    // Column i: j = j0 .. s-1 at BREV[j - j0]; column i+1: j = j0+1 .. s-1 at BREV[j - j0 - 1].
    const j0 = i - s + 1;
    const n = 2 * s - 2 - i;
    const ci = dotPair2(at(a, j0 + 1), BREV, at(M_BUF, j0 + 1), prev, n);
    const ci1 = PAIR_LO;
    c += ci + limb(a, j0) * limb(BREV, 0) + limb(M_BUF, j0) * limb(prev, 0);
    setLimb(T_BUF, i - s, c & MASK);
    c = (c >> LIMB_BITS) + ci1;
    setLimb(T_BUF, i + 1 - s, c & MASK);
    c >>= LIMB_BITS;
  }
  setLimb(T_BUF, s, c);
  finalSubtract(r, p, s);
}

/** r = a^2 * 2^(-28 s) mod p for a < p: montMul(r, a, a) with the symmetric products counted once. */
export function montSqr(r: usize, a: usize, p: usize, prev: usize, n0: u64, s: i32): void {
  reverseLimbs(BREV, a, s);
  // Column i: the off-diagonal a[j] a[i-j] (j < i-j) doubled, a[i/2]^2 for even i, and m[j] p[i-j].
  // Columns go in pairs (i, i+1) with i even, as in montMul.
  const p0 = limb(p, 0);
  const p1 = limb(p, 1);
  let c: u64 = 0;
  for (let i = 0; i < s; i += 2) {
    const o = s - 2 - i;
    const h = i >> 1;
    const di = dotPair(a, at(BREV, o), h); // j < i/2 for both columns
    const di1 = PAIR_LO + limb(a, h) * limb(a, h + 1); // column i+1 also has j = i/2
    const mpi = dotPair(M_BUF, at(prev, o), i);
    const mpi1 = PAIR_LO;
    c += (di << 1) + limb(a, h) * limb(a, h) + mpi;
    const mi = ((c & MASK) * n0) & MASK;
    setLimb(M_BUF, i, mi);
    c = (c + mi * p0) >> LIMB_BITS;
    c += (di1 << 1) + mpi1 + mi * p1;
    const mi1 = ((c & MASK) * n0) & MASK;
    setLimb(M_BUF, i + 1, mi1);
    c = (c + mi1 * p0) >> LIMB_BITS;
  }
  for (let i = s; i < 2 * s; i += 2) {
    const j0 = i - s + 1;
    const h = i >> 1;
    // Off-diagonal: column i has j = j0 .. h-1 at BREV[j - j0], column i+1 has j = j0+1 .. h at BREV[j - j0 - 1].
    const n = h - j0 - 1; // public: -1 only for the last pair, which has no off-diagonal terms
    let di: u64 = 0;
    let di1: u64 = 0;
    if (n >= 0) {
      di = dotPair(at(a, j0 + 1), BREV, n) + limb(a, j0) * limb(BREV, 0);
      di1 = PAIR_LO + limb(a, h) * limb(a, h + 1);
    }
    const mpi = dotPair(at(M_BUF, j0 + 1), prev, 2 * s - 2 - i) + limb(M_BUF, j0) * limb(prev, 0);
    const mpi1 = PAIR_LO;
    c += (di << 1) + limb(a, h) * limb(a, h) + mpi;
    setLimb(T_BUF, i - s, c & MASK);
    c = (c >> LIMB_BITS) + (di1 << 1) + mpi1;
    setLimb(T_BUF, i + 1 - s, c & MASK);
    c >>= LIMB_BITS;
  }
  setLimb(T_BUF, s, c);
  finalSubtract(r, p, s);
}

/** -p^(-1) mod 2^bits for odd p0 (Newton iteration doubles the correct bits: 3 -> 6 -> 12 -> 24 -> 48). */
export function negInv(p0: u64, bits: i32 = LIMB_BITS): u64 {
  let x: u64 = p0; // correct to 3 bits for odd p0 (p0 * p0 = 1 mod 8)
  for (let k = 0; k < 4; k++) x = x * (2 - p0 * x);
  return (0 - x) & ((<u64>1 << bits) - 1);
}

/** x = 2 x mod p in place, for x < p, in `bits`-bit limbs (setup only). */
export function modDouble(x: usize, p: usize, s: i32, bits: i32 = LIMB_BITS): void {
  const lmask: u64 = (<u64>1 << bits) - 1;
  let carry: u64 = 0;
  for (let i = 0; i < s; i++) {
    const v = (limb(x, i) << 1) | carry;
    setLimb(T_BUF, i, v & lmask);
    carry = v >> bits;
  }
  setLimb(T_BUF, s, carry);
  finalSubtract(x, p, s, bits);
}

/** `nbytes` big-endian bytes -> s little-endian `bits`-bit limbs (zero-extended; bits s >= 8 nbytes). */
export function limbsFromBE(r: usize, bytes: usize, nbytes: i32, s: i32, bits: i32 = LIMB_BITS): void {
  const lmask: u64 = (<u64>1 << bits) - 1;
  let acc: u64 = 0;
  let have: i32 = 0;
  let k = 0;
  for (let i = nbytes - 1; i >= 0; i--) {
    acc |= (load<u8>(bytes + <usize>i) as u64) << have;
    have += 8;
    if (have >= bits) {
      setLimb(r, k++, acc & lmask);
      acc >>= bits;
      have -= bits;
    }
  }
  while (k < s) {
    setLimb(r, k++, acc);
    acc = 0;
  }
}

/** s little-endian `bits`-bit limbs -> `nbytes` big-endian bytes (the value must fit). */
export function limbsToBE(bytes: usize, x: usize, nbytes: i32, s: i32, bits: i32 = LIMB_BITS): void {
  let acc: u64 = 0;
  let have: i32 = 0;
  let k = 0;
  for (let i = nbytes - 1; i >= 0; i--) {
    if (have < 8) {
      acc |= (k < s ? limb(x, k) : 0) << have;
      k++;
      have += bits;
    }
    store<u8>(bytes + <usize>i, acc as u8);
    acc >>= 8;
    have -= 8;
  }
}

/** `w` bits of the big-endian exponent at `e` (length `len`) starting at bit `pos` (bit 0 = least significant). */
// The address depends on `pos` only (public); the value is secret and only feeds the masked table scan.
export function expWindow(e: usize, len: i32, pos: i32, w: i32): u32 {
  const byteIdx = len - 1 - (pos >> 3);
  let v: u32 = load<u8>(e + <usize>byteIdx);
  if (byteIdx >= 1) v |= (load<u8>(e + <usize>(byteIdx - 1)) as u32) << 8;
  return (v >> (pos & 7)) & ((1 << w) - 1);
}
