// GF(p), p = 2^448 - 2^224 - 1: the base field of edwards448.
//
// An element is 16 little-endian limbs of 28 bits, each held in a u32, at a fixed address (64 bytes; the
// `Fe` type is that address). 28-bit limbs leave room for a product's column sums in a u64: WebAssembly has
// no 64x64->128 multiply, so each limb product must fit 64 bits with headroom for the sums.
//
// Every operation returns a *weakly reduced* element: limbs below W = 2^28 + 2^9, value congruent mod p but
// not necessarily below p. Every operation accepts weakly reduced inputs, so results chain without checks;
// only `feCanon` (and the byte encoding built on it) produces the unique representative. The exceptions are
// the uncarried results of `feAddNC` (limbs below 2W = 2^29 + 2^10) and of `feSubNC` / `feCondNegNC`
// (limbs below 2^29 + W < 3 * 2^28 + 2^9), which may only feed a product or a subtraction as the bounds
// below allow.
//
// Multiplication uses the golden-ratio shape of p. With phi = 2^224, p = phi^2 - phi - 1, so phi^2 = phi + 1
// (mod p). Splitting a = a0 + a1*phi and b = b0 + b1*phi (8 limbs each):
//   a*b = (a0*b0 + a1*b1) + ((a0+a1)*(b0+b1) - a0*b0) * phi        (mod p)
// which costs three 8x8 limb products (Karatsuba) instead of four, and whose reduction is two additions.
// Each 8x8 product is itself one level of Karatsuba on 4-limb halves (48 limb products instead of 64:
// 144 in all rather than 192; measured ~7% faster than schoolbook halves). Squares keep schoolbook halves
// (measured faster: the doubled cross terms already halve them).
//
// Bounds. All arithmetic is in u64, i.e. modulo 2^64, and every intermediate value (Karatsuba middle terms,
// half-product columns) enters the result only through sums and differences; so a result column is exact
// as soon as its true value lies in [0, 2^64), whatever the intermediates did. Expanding the fold (see
// `fold`), a result column is a sum of at most 38 limb products (plus the carry from below, < 2^37, and
// `feSqrSub2`'s 4p, < 2^30), so
// for operands with limbs <= A and <= B it stays below 2^64 while 39*A*B < 2^64, i.e. A*B < 2^58.7:
//   weakly reduced x weakly reduced        2^56.0
//   weakly reduced x any uncarried value   2^57.6 at most
//   feAddNC x feAddNC (or its square)      2^58.0
//   feAddNC x feSubNC / feCondNegNC        2^58.6
// but never two feSubNC / feCondNegNC values together (2^59.2), nor the square of one. A subtraction's
// minuend may be weakly reduced or an feAddNC sum (the column then stays far below 2^64); its subtrahends
// must be weakly reduced (2p and 4p cover them limb by limb).
//
// Nothing here branches on or indexes by element values: selection is by masks (`feCmov`), the inversion and
// square root use a fixed addition chain.
//
// The SIMD module (assembly/simd/, built with WebAssembly SIMD) compiles this same file with
// `ASC_FEATURE_SIMD` set: the product and the uncarried sums then run fe448simd.ts's vector kernels (same
// layout, same results bit for bit); the main module, built without SIMD, compiles none of those branches.

import { jacobiVar } from './jacobi';
import { VS_PQ, VS_R, feMulColumnsV, feAddNCV, feSubNCV, feCondNegNCV, feWipeScratchV } from './fe448simd';

export type Fe = usize;
export const FE_SIZE: usize = 64;

const M: u64 = 0xfffffff; // 2^28 - 1

// ---- limb-level helpers -------------------------------------------------------------------------------------

/** Propagates carries through 16 column sums (each < 2^64, see the bounds above) and stores a weakly
 *  reduced result. Two carry chains run interleaved (limbs 0..7 and 8..15) for instruction-level
 *  parallelism; the carry out of limb 15 is worth 2^448 = phi^2 = phi + 1, so it re-enters at limbs 0 and 8. */
@inline
function carryStore(o: Fe,
  c0: u64, c1: u64, c2: u64, c3: u64, c4: u64, c5: u64, c6: u64, c7: u64,
  c8: u64, c9: u64, c10: u64, c11: u64, c12: u64, c13: u64, c14: u64, c15: u64): void {
  c1 += c0 >> 28; c0 &= M; c9 += c8 >> 28; c8 &= M;
  c2 += c1 >> 28; c1 &= M; c10 += c9 >> 28; c9 &= M;
  c3 += c2 >> 28; c2 &= M; c11 += c10 >> 28; c10 &= M;
  c4 += c3 >> 28; c3 &= M; c12 += c11 >> 28; c11 &= M;
  c5 += c4 >> 28; c4 &= M; c13 += c12 >> 28; c12 &= M;
  c6 += c5 >> 28; c5 &= M; c14 += c13 >> 28; c13 &= M;
  c7 += c6 >> 28; c6 &= M; c15 += c14 >> 28; c14 &= M;
  c8 += c7 >> 28; c7 &= M; const t = c15 >> 28; c15 &= M;
  c0 += t; c8 += t;
  c1 += c0 >> 28; c0 &= M; c9 += c8 >> 28; c8 &= M;
  store<u32>(o, <u32>c0, 0); store<u32>(o, <u32>c1, 4); store<u32>(o, <u32>c2, 8); store<u32>(o, <u32>c3, 12);
  store<u32>(o, <u32>c4, 16); store<u32>(o, <u32>c5, 20); store<u32>(o, <u32>c6, 24); store<u32>(o, <u32>c7, 28);
  store<u32>(o, <u32>c8, 32); store<u32>(o, <u32>c9, 36); store<u32>(o, <u32>c10, 40); store<u32>(o, <u32>c11, 44);
  store<u32>(o, <u32>c12, 48); store<u32>(o, <u32>c13, 52); store<u32>(o, <u32>c14, 56); store<u32>(o, <u32>c15, 60);
}

// ---- constants and copies ---------------------------------------------------------------------------------------

export function feZero(o: Fe): void {
  memory.fill(o, 0, FE_SIZE);
}

export function feOne(o: Fe): void {
  memory.fill(o, 0, FE_SIZE);
  store<u32>(o, 1);
}

@inline
export function feCopy(o: Fe, a: Fe): void {
  memory.copy(o, a, FE_SIZE);
}

// ---- ring operations ----------------------------------------------------------------------------------------

export function feAdd(o: Fe, a: Fe, b: Fe): void {
  carryStore(o,
    <u64>load<u32>(a, 0) + <u64>load<u32>(b, 0), <u64>load<u32>(a, 4) + <u64>load<u32>(b, 4),
    <u64>load<u32>(a, 8) + <u64>load<u32>(b, 8), <u64>load<u32>(a, 12) + <u64>load<u32>(b, 12),
    <u64>load<u32>(a, 16) + <u64>load<u32>(b, 16), <u64>load<u32>(a, 20) + <u64>load<u32>(b, 20),
    <u64>load<u32>(a, 24) + <u64>load<u32>(b, 24), <u64>load<u32>(a, 28) + <u64>load<u32>(b, 28),
    <u64>load<u32>(a, 32) + <u64>load<u32>(b, 32), <u64>load<u32>(a, 36) + <u64>load<u32>(b, 36),
    <u64>load<u32>(a, 40) + <u64>load<u32>(b, 40), <u64>load<u32>(a, 44) + <u64>load<u32>(b, 44),
    <u64>load<u32>(a, 48) + <u64>load<u32>(b, 48), <u64>load<u32>(a, 52) + <u64>load<u32>(b, 52),
    <u64>load<u32>(a, 56) + <u64>load<u32>(b, 56), <u64>load<u32>(a, 60) + <u64>load<u32>(b, 60));
}

// 2p in limbs: 2*(2^28 - 1) everywhere except limb 8, where p's limb is 2^28 - 2. Adding 2p before
// subtracting keeps every limb non-negative for any weakly reduced b (b's limbs < 2^28 + 2^9 < 2^29 - 4).
const P2: u64 = 0x1ffffffe;
const P2_8: u64 = 0x1ffffffc;

export function feSub(o: Fe, a: Fe, b: Fe): void {
  carryStore(o,
    <u64>load<u32>(a, 0) + P2 - <u64>load<u32>(b, 0), <u64>load<u32>(a, 4) + P2 - <u64>load<u32>(b, 4),
    <u64>load<u32>(a, 8) + P2 - <u64>load<u32>(b, 8), <u64>load<u32>(a, 12) + P2 - <u64>load<u32>(b, 12),
    <u64>load<u32>(a, 16) + P2 - <u64>load<u32>(b, 16), <u64>load<u32>(a, 20) + P2 - <u64>load<u32>(b, 20),
    <u64>load<u32>(a, 24) + P2 - <u64>load<u32>(b, 24), <u64>load<u32>(a, 28) + P2 - <u64>load<u32>(b, 28),
    <u64>load<u32>(a, 32) + P2_8 - <u64>load<u32>(b, 32), <u64>load<u32>(a, 36) + P2 - <u64>load<u32>(b, 36),
    <u64>load<u32>(a, 40) + P2 - <u64>load<u32>(b, 40), <u64>load<u32>(a, 44) + P2 - <u64>load<u32>(b, 44),
    <u64>load<u32>(a, 48) + P2 - <u64>load<u32>(b, 48), <u64>load<u32>(a, 52) + P2 - <u64>load<u32>(b, 52),
    <u64>load<u32>(a, 56) + P2 - <u64>load<u32>(b, 56), <u64>load<u32>(a, 60) + P2 - <u64>load<u32>(b, 60));
}

// 4p in limbs, for subtracting two weakly reduced values (or twice one) at once.
const P4: u64 = 0x3ffffffc;
const P4_8: u64 = 0x3ffffff8;

/** o = a - b - c with one carry pass (b, c weakly reduced; a weakly reduced or an `feAddNC` sum). */
export function feSub2(o: Fe, a: Fe, b: Fe, c: Fe): void {
  carryStore(o,
    <u64>load<u32>(a, 0) + P4 - <u64>load<u32>(b, 0) - <u64>load<u32>(c, 0),
    <u64>load<u32>(a, 4) + P4 - <u64>load<u32>(b, 4) - <u64>load<u32>(c, 4),
    <u64>load<u32>(a, 8) + P4 - <u64>load<u32>(b, 8) - <u64>load<u32>(c, 8),
    <u64>load<u32>(a, 12) + P4 - <u64>load<u32>(b, 12) - <u64>load<u32>(c, 12),
    <u64>load<u32>(a, 16) + P4 - <u64>load<u32>(b, 16) - <u64>load<u32>(c, 16),
    <u64>load<u32>(a, 20) + P4 - <u64>load<u32>(b, 20) - <u64>load<u32>(c, 20),
    <u64>load<u32>(a, 24) + P4 - <u64>load<u32>(b, 24) - <u64>load<u32>(c, 24),
    <u64>load<u32>(a, 28) + P4 - <u64>load<u32>(b, 28) - <u64>load<u32>(c, 28),
    <u64>load<u32>(a, 32) + P4_8 - <u64>load<u32>(b, 32) - <u64>load<u32>(c, 32),
    <u64>load<u32>(a, 36) + P4 - <u64>load<u32>(b, 36) - <u64>load<u32>(c, 36),
    <u64>load<u32>(a, 40) + P4 - <u64>load<u32>(b, 40) - <u64>load<u32>(c, 40),
    <u64>load<u32>(a, 44) + P4 - <u64>load<u32>(b, 44) - <u64>load<u32>(c, 44),
    <u64>load<u32>(a, 48) + P4 - <u64>load<u32>(b, 48) - <u64>load<u32>(c, 48),
    <u64>load<u32>(a, 52) + P4 - <u64>load<u32>(b, 52) - <u64>load<u32>(c, 52),
    <u64>load<u32>(a, 56) + P4 - <u64>load<u32>(b, 56) - <u64>load<u32>(c, 56),
    <u64>load<u32>(a, 60) + P4 - <u64>load<u32>(b, 60) - <u64>load<u32>(c, 60));
}

/** o = a + b WITHOUT carrying (a, b weakly reduced): limbs below 2^29 + 2^10. Such a sum may be an operand
 *  of `feMul` (with any other operand, see the header's table), the input of `feSqr`, or the minuend of a
 *  subtraction, and nothing else. With one of a, b a `feCondNegNC` result (limbs below 2^29) the sum's limbs
 *  are below 2^29 + W and it follows `feSubNC`'s rules instead. */
export function feAddNC(o: Fe, a: Fe, b: Fe): void {
  if (ASC_FEATURE_SIMD) {
    feAddNCV(o, a, b);
    return;
  }
  for (let i: usize = 0; i < FE_SIZE; i += 8) store<u64>(o + i, load<u64>(a + i) + load<u64>(b + i));
}

/** o = a + 2p - b WITHOUT carrying (a, b weakly reduced): limbs below 2^29 + W. Such a difference may be one
 *  operand of `feMul` (the other weakly reduced or an `feAddNC` sum) and nothing else (see the header). */
export function feSubNC(o: Fe, a: Fe, b: Fe): void {
  if (ASC_FEATURE_SIMD) {
    feSubNCV(o, a, b, <u32>P2, <u32>P2_8);
    return;
  }
  for (let i: usize = 0; i < FE_SIZE; i += 4) {
    store<u32>(o + i, load<u32>(a + i) + <u32>(i == 32 ? P2_8 : P2) - load<u32>(b + i));
  }
}

/** o = 2p - o WITHOUT carrying when mask is all-ones (o weakly reduced), o unchanged when it is zero; the same
 *  work either way. The result obeys `feSubNC`'s rules. */
export function feCondNegNC(o: Fe, mask: u64): void {
  if (ASC_FEATURE_SIMD) {
    feCondNegNCV(o, <u32>mask, <u32>P2, <u32>P2_8);
    return;
  }
  const m = <u32>mask;
  for (let i: usize = 0; i < FE_SIZE; i += 4) {
    const x = load<u32>(o + i);
    store<u32>(o + i, x ^ ((x ^ (<u32>(i == 32 ? P2_8 : P2) - x)) & m));
  }
}

export function feNeg(o: Fe, a: Fe): void {
  carryStore(o,
    P2 - <u64>load<u32>(a, 0), P2 - <u64>load<u32>(a, 4), P2 - <u64>load<u32>(a, 8), P2 - <u64>load<u32>(a, 12),
    P2 - <u64>load<u32>(a, 16), P2 - <u64>load<u32>(a, 20), P2 - <u64>load<u32>(a, 24), P2 - <u64>load<u32>(a, 28),
    P2_8 - <u64>load<u32>(a, 32), P2 - <u64>load<u32>(a, 36), P2 - <u64>load<u32>(a, 40), P2 - <u64>load<u32>(a, 44),
    P2 - <u64>load<u32>(a, 48), P2 - <u64>load<u32>(a, 52), P2 - <u64>load<u32>(a, 56), P2 - <u64>load<u32>(a, 60));
}

/** o = a * k for a small constant k < 2^16 (the curve constant |d| = 39081). */
export function feMulSmall(o: Fe, a: Fe, k: u32): void {
  const m = <u64>k;
  carryStore(o,
    <u64>load<u32>(a, 0) * m, <u64>load<u32>(a, 4) * m, <u64>load<u32>(a, 8) * m, <u64>load<u32>(a, 12) * m,
    <u64>load<u32>(a, 16) * m, <u64>load<u32>(a, 20) * m, <u64>load<u32>(a, 24) * m, <u64>load<u32>(a, 28) * m,
    <u64>load<u32>(a, 32) * m, <u64>load<u32>(a, 36) * m, <u64>load<u32>(a, 40) * m, <u64>load<u32>(a, 44) * m,
    <u64>load<u32>(a, 48) * m, <u64>load<u32>(a, 52) * m, <u64>load<u32>(a, 56) * m, <u64>load<u32>(a, 60) * m);
}

// ---- multiplication and squaring ----------------------------------------------------------------------------
//
// The products run in three phases through a scratch block (MS) of linear memory instead of one body with
// every limb and column live at once: V8 has ~13 general registers, and the one-body form spilled ~700
// values to its stack per product. Here each 4x4 block loads its own 8 operands (8 registers), its 7 columns
// and the half-products' 15 columns go to MS, and the final fold reads them back while carrying, storing
// each limb as soon as it is known. Measured A/B in one process: feMul 17% and feSqr 15% faster.
// MS holds products of secret values: `feWipeScratch` clears it with the rest.
const MS: usize = memory.data(2 * 56 + 3 * 120, 16);
const MS_L: usize = MS; // the 4x4 blocks of one half's low and high quarters
const MS_H: usize = MS + 56;
const MS_P: usize = MS + 112; // the half-products, 15 u64 columns each: a0*b0,
const MS_Q: usize = MS + 232; // a1*b1,
const MS_R: usize = MS + 352; // (a0+a1)*(b0+b1)
const MS_SIZE: usize = 472;

/** Limb i (byte offset `off`) of an operand of a half-product: a's own limb, or with `gold` the golden-ratio
 *  sum a_i + a_(i+8); with `mid`, also the limb 4 above (the Karatsuba sum of the two quarters). */
@inline
function limb(x: usize, off: usize, gold: bool, mid: bool): u64 {
  let v = <u64>load<u32>(x + off);
  if (mid) v += <u64>load<u32>(x + off + 16);
  if (gold) {
    v += <u64>load<u32>(x + off + 32);
    if (mid) v += <u64>load<u32>(x + off + 48);
  }
  return v;
}

/** The 7 columns of a 4x4 limb product (quarters at byte offset `off` of x and y, see `limb`) into dst. */
@inline
function block4(dst: usize, x: usize, y: usize, off: usize, gold: bool, mid: bool): void {
  const a0 = limb(x, off, gold, mid), a1 = limb(x, off + 4, gold, mid);
  const a2 = limb(x, off + 8, gold, mid), a3 = limb(x, off + 12, gold, mid);
  const b0 = limb(y, off, gold, mid), b1 = limb(y, off + 4, gold, mid);
  const b2 = limb(y, off + 8, gold, mid), b3 = limb(y, off + 12, gold, mid);
  columns4(dst, a0, a1, a2, a3, b0, b1, b2, b3);
}

/** The 7 u64 columns of the product of limbs a0..a3 and b0..b3 into dst (also fe448simd.ts's scalar block). */
@inline
export function columns4(dst: usize, a0: u64, a1: u64, a2: u64, a3: u64, b0: u64, b1: u64, b2: u64, b3: u64): void {
  store<u64>(dst, a0 * b0, 0);
  store<u64>(dst, a0 * b1 + a1 * b0, 8);
  store<u64>(dst, a0 * b2 + a1 * b1 + a2 * b0, 16);
  store<u64>(dst, a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0, 24);
  store<u64>(dst, a1 * b3 + a2 * b2 + a3 * b1, 32);
  store<u64>(dst, a2 * b3 + a3 * b2, 40);
  store<u64>(dst, a3 * b3, 48);
}

/** The 15 columns of an 8x8 half-product into dst, by Karatsuba on the 4-limb quarters: column k =
 *  l_k + (m - l - h)_(k-4) + h_(k-8). Every m column dominates l + h term by term, so nothing wraps. The
 *  l and h blocks go through memory and are read where used; m stays in registers. */
@inline
function half8(dst: usize, x: usize, y: usize, gold: bool): void {
  block4(MS_L, x, y, 0, gold, false);
  block4(MS_H, x, y, 16, gold, false);
  const a0 = limb(x, 0, gold, true), a1 = limb(x, 4, gold, true), a2 = limb(x, 8, gold, true), a3 = limb(x, 12, gold, true);
  const b0 = limb(y, 0, gold, true), b1 = limb(y, 4, gold, true), b2 = limb(y, 8, gold, true), b3 = limb(y, 12, gold, true);
  store<u64>(dst, load<u64>(MS_L, 0), 0);
  store<u64>(dst, load<u64>(MS_L, 8), 8);
  store<u64>(dst, load<u64>(MS_L, 16), 16);
  store<u64>(dst, load<u64>(MS_L, 24), 24);
  store<u64>(dst, load<u64>(MS_L, 32) + a0 * b0 - load<u64>(MS_L, 0) - load<u64>(MS_H, 0), 32);
  store<u64>(dst, load<u64>(MS_L, 40) + (a0 * b1 + a1 * b0) - load<u64>(MS_L, 8) - load<u64>(MS_H, 8), 40);
  store<u64>(dst, load<u64>(MS_L, 48) + (a0 * b2 + a1 * b1 + a2 * b0) - load<u64>(MS_L, 16) - load<u64>(MS_H, 16), 48);
  store<u64>(dst, (a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0) - load<u64>(MS_L, 24) - load<u64>(MS_H, 24), 56);
  store<u64>(dst, (a1 * b3 + a2 * b2 + a3 * b1) + load<u64>(MS_H, 0) - load<u64>(MS_L, 32) - load<u64>(MS_H, 32), 64);
  store<u64>(dst, (a2 * b3 + a3 * b2) + load<u64>(MS_H, 8) - load<u64>(MS_L, 40) - load<u64>(MS_H, 40), 72);
  store<u64>(dst, a3 * b3 + load<u64>(MS_H, 16) - load<u64>(MS_L, 48) - load<u64>(MS_H, 48), 80);
  store<u64>(dst, load<u64>(MS_H, 24), 88);
  store<u64>(dst, load<u64>(MS_H, 32), 96);
  store<u64>(dst, load<u64>(MS_H, 40), 104);
  store<u64>(dst, load<u64>(MS_H, 48), 112);
}

/** The 15 columns of the square of an 8-limb half into dst (schoolbook: the doubled cross terms already
 *  halve the products, measured faster than a Karatsuba level here). */
@inline
function sqr8(dst: usize, x: usize, gold: bool): void {
  const a0 = limb(x, 0, gold, false), a1 = limb(x, 4, gold, false), a2 = limb(x, 8, gold, false);
  const a3 = limb(x, 12, gold, false), a4 = limb(x, 16, gold, false), a5 = limb(x, 20, gold, false);
  const a6 = limb(x, 24, gold, false), a7 = limb(x, 28, gold, false);
  store<u64>(dst, a0 * a0, 0);
  store<u64>(dst, (a0 * a1) << 1, 8);
  store<u64>(dst, ((a0 * a2) << 1) + a1 * a1, 16);
  store<u64>(dst, (a0 * a3 + a1 * a2) << 1, 24);
  store<u64>(dst, ((a0 * a4 + a1 * a3) << 1) + a2 * a2, 32);
  store<u64>(dst, (a0 * a5 + a1 * a4 + a2 * a3) << 1, 40);
  store<u64>(dst, ((a0 * a6 + a1 * a5 + a2 * a4) << 1) + a3 * a3, 48);
  store<u64>(dst, (a0 * a7 + a1 * a6 + a2 * a5 + a3 * a4) << 1, 56);
  store<u64>(dst, ((a1 * a7 + a2 * a6 + a3 * a5) << 1) + a4 * a4, 64);
  store<u64>(dst, (a2 * a7 + a3 * a6 + a4 * a5) << 1, 72);
  store<u64>(dst, ((a3 * a7 + a4 * a6) << 1) + a5 * a5, 80);
  store<u64>(dst, (a4 * a7 + a5 * a6) << 1, 88);
  store<u64>(dst, ((a5 * a7) << 1) + a6 * a6, 96);
  store<u64>(dst, (a6 * a7) << 1, 104);
  store<u64>(dst, a7 * a7, 112);
}

/** Folds the half-products p, q, r into o and carries: 15 u64 columns each, column k of p at p + k * ps, of q
 *  at q + k * ps, of r at r + 8 k (MS_P, MS_Q, MS_R here; in the SIMD module's product, fe448simd.ts's P/Q
 *  columns interleaved, ps = 16). With L = p + q and H = r - p
 *  (both 15 columns, column k >= 8 weighing phi * 2^(28(k-8))), a*b = L + H*phi = (L_lo + H_hi) +
 *  (L_hi + H_lo + H_hi)*phi: column k < 8 is p_k + q_k + r_(k+8) - p_(k+8), column 8 + k is
 *  q_(k+8) + r_(k+8) + r_k - p_k (every r column dominates the matching p column term by term). The two
 *  carry chains (limbs 0..7 and 8..15) run side by side, each limb stored when known; the carry out of limb 7
 *  enters limb 8, and the one out of limb 15 (2^448 = phi^2 = phi + 1) limbs 0 and 8, followed by one more
 *  carry step there: the same limbs as `carryStore`. With `sub`, column k also gets (4p - s1 - s2)_k (s1, s2
 *  weakly reduced; 4p keeps it non-negative). o may alias an operand: the products no longer read them, and
 *  s1, s2 are read at each limb before it is written. */
@inline
function fold(o: Fe, sub: bool, s1: Fe, s2: Fe, p: usize, q: usize, ps: usize, r: usize): void {
  let cl: u64 = 0, ch: u64 = 0;
  cl += load<u64>(p + 0 * ps) + load<u64>(q + 0 * ps) + load<u64>(r, 64) - load<u64>(p + 8 * ps) + (sub ? P4 - <u64>load<u32>(s1, 0) - <u64>load<u32>(s2, 0) : 0);
  ch += load<u64>(q + 8 * ps) + load<u64>(r, 64) + load<u64>(r, 0) - load<u64>(p + 0 * ps) + (sub ? P4_8 - <u64>load<u32>(s1, 32) - <u64>load<u32>(s2, 32) : 0);
  store<u32>(o, <u32>(cl & M), 0); cl >>= 28;
  store<u32>(o, <u32>(ch & M), 32); ch >>= 28;
  cl += load<u64>(p + 1 * ps) + load<u64>(q + 1 * ps) + load<u64>(r, 72) - load<u64>(p + 9 * ps) + (sub ? P4 - <u64>load<u32>(s1, 4) - <u64>load<u32>(s2, 4) : 0);
  ch += load<u64>(q + 9 * ps) + load<u64>(r, 72) + load<u64>(r, 8) - load<u64>(p + 1 * ps) + (sub ? P4 - <u64>load<u32>(s1, 36) - <u64>load<u32>(s2, 36) : 0);
  store<u32>(o, <u32>(cl & M), 4); cl >>= 28;
  store<u32>(o, <u32>(ch & M), 36); ch >>= 28;
  cl += load<u64>(p + 2 * ps) + load<u64>(q + 2 * ps) + load<u64>(r, 80) - load<u64>(p + 10 * ps) + (sub ? P4 - <u64>load<u32>(s1, 8) - <u64>load<u32>(s2, 8) : 0);
  ch += load<u64>(q + 10 * ps) + load<u64>(r, 80) + load<u64>(r, 16) - load<u64>(p + 2 * ps) + (sub ? P4 - <u64>load<u32>(s1, 40) - <u64>load<u32>(s2, 40) : 0);
  store<u32>(o, <u32>(cl & M), 8); cl >>= 28;
  store<u32>(o, <u32>(ch & M), 40); ch >>= 28;
  cl += load<u64>(p + 3 * ps) + load<u64>(q + 3 * ps) + load<u64>(r, 88) - load<u64>(p + 11 * ps) + (sub ? P4 - <u64>load<u32>(s1, 12) - <u64>load<u32>(s2, 12) : 0);
  ch += load<u64>(q + 11 * ps) + load<u64>(r, 88) + load<u64>(r, 24) - load<u64>(p + 3 * ps) + (sub ? P4 - <u64>load<u32>(s1, 44) - <u64>load<u32>(s2, 44) : 0);
  store<u32>(o, <u32>(cl & M), 12); cl >>= 28;
  store<u32>(o, <u32>(ch & M), 44); ch >>= 28;
  cl += load<u64>(p + 4 * ps) + load<u64>(q + 4 * ps) + load<u64>(r, 96) - load<u64>(p + 12 * ps) + (sub ? P4 - <u64>load<u32>(s1, 16) - <u64>load<u32>(s2, 16) : 0);
  ch += load<u64>(q + 12 * ps) + load<u64>(r, 96) + load<u64>(r, 32) - load<u64>(p + 4 * ps) + (sub ? P4 - <u64>load<u32>(s1, 48) - <u64>load<u32>(s2, 48) : 0);
  store<u32>(o, <u32>(cl & M), 16); cl >>= 28;
  store<u32>(o, <u32>(ch & M), 48); ch >>= 28;
  cl += load<u64>(p + 5 * ps) + load<u64>(q + 5 * ps) + load<u64>(r, 104) - load<u64>(p + 13 * ps) + (sub ? P4 - <u64>load<u32>(s1, 20) - <u64>load<u32>(s2, 20) : 0);
  ch += load<u64>(q + 13 * ps) + load<u64>(r, 104) + load<u64>(r, 40) - load<u64>(p + 5 * ps) + (sub ? P4 - <u64>load<u32>(s1, 52) - <u64>load<u32>(s2, 52) : 0);
  store<u32>(o, <u32>(cl & M), 20); cl >>= 28;
  store<u32>(o, <u32>(ch & M), 52); ch >>= 28;
  cl += load<u64>(p + 6 * ps) + load<u64>(q + 6 * ps) + load<u64>(r, 112) - load<u64>(p + 14 * ps) + (sub ? P4 - <u64>load<u32>(s1, 24) - <u64>load<u32>(s2, 24) : 0);
  ch += load<u64>(q + 14 * ps) + load<u64>(r, 112) + load<u64>(r, 48) - load<u64>(p + 6 * ps) + (sub ? P4 - <u64>load<u32>(s1, 56) - <u64>load<u32>(s2, 56) : 0);
  store<u32>(o, <u32>(cl & M), 24); cl >>= 28;
  store<u32>(o, <u32>(ch & M), 56); ch >>= 28;
  cl += load<u64>(p + 7 * ps) + load<u64>(q + 7 * ps) + (sub ? P4 - <u64>load<u32>(s1, 28) - <u64>load<u32>(s2, 28) : 0);
  ch += load<u64>(r, 56) - load<u64>(p + 7 * ps) + (sub ? P4 - <u64>load<u32>(s1, 60) - <u64>load<u32>(s2, 60) : 0);
  store<u32>(o, <u32>(cl & M), 28); cl >>= 28;
  store<u32>(o, <u32>(ch & M), 60); ch >>= 28;
  const c0 = <u64>load<u32>(o, 0) + ch, c8 = <u64>load<u32>(o, 32) + cl + ch;
  store<u32>(o, <u32>(c0 & M), 0);
  store<u32>(o, load<u32>(o, 4) + <u32>(c0 >> 28), 4);
  store<u32>(o, <u32>(c8 & M), 32);
  store<u32>(o, load<u32>(o, 36) + <u32>(c8 >> 28), 36);
}

/** o = a * b. Karatsuba on the golden-ratio split, and again inside each half (see the header); o may
 *  alias a or b. */
export function feMul(o: Fe, x: Fe, y: Fe): void {
  if (ASC_FEATURE_SIMD) {
    feMulColumnsV(x, y);
    fold(o, false, 0, 0, VS_PQ, VS_PQ + 8, 16, VS_R);
    return;
  }
  half8(MS_P, x, y, false);
  half8(MS_Q, x + 32, y + 32, false);
  half8(MS_R, x, y, true);
  fold(o, false, 0, 0, MS_P, MS_Q, 8, MS_R);
}

/** o = a^2: the same golden-ratio shape with each half squared. */
export function feSqr(o: Fe, x: Fe): void {
  sqr8(MS_P, x, false);
  sqr8(MS_Q, x + 32, false);
  sqr8(MS_R, x, true);
  fold(o, false, 0, 0, MS_P, MS_Q, 8, MS_R);
}

/** o = a^2 - c - d (c, d weakly reduced): 4p - c - d is added limb by limb in the fold, so the doubling's
 *  2XY = (X+Y)^2 - X^2 - Y^2 takes one carry pass instead of two (doubling ~4% faster). o may alias any
 *  operand. The same fused form for products (the addition's E) measured slower inside the scalar
 *  multiplication, though faster alone: a fourth large function body in the loop. */
export function feSqrSub2(o: Fe, x: Fe, c: Fe, d: Fe): void {
  sqr8(MS_P, x, false);
  sqr8(MS_Q, x + 32, false);
  sqr8(MS_R, x, true);
  fold(o, true, c, d, MS_P, MS_Q, 8, MS_R);
}

/** o = a^(2^n), n >= 1. */
export function feSqrN(o: Fe, a: Fe, n: i32): void {
  feSqr(o, a);
  for (let i = 1; i < n; i++) feSqr(o, o);
}

// ---- exponentiation: inversion and square roots ------------------------------------------------------------

// Scratch for the functions below, one block so that `feWipeScratch` clears every intermediate at once.
const FS: usize = memory.data(13 * 64, 16);
const E1: Fe = FS + 0;
const E3: Fe = FS + 64;
const E6: Fe = FS + 128;
const E24: Fe = FS + 192;
const E30: Fe = FS + 256;
const EX: Fe = FS + 320;
const EY: Fe = FS + 384;
const INV_T: Fe = FS + 448;
const SR_T: Fe = FS + 512;
const SR_W: Fe = FS + 576;
const CANON_W: Fe = FS + 640;
const IZ_C: Fe = FS + 704;
const EQ_D: Fe = FS + 768;

/** Zeroes every intermediate value the field code keeps between calls (called by each entry point). */
export function feWipeScratch(): void {
  memory.fill(FS, 0, 13 * 64);
  memory.fill(MS, 0, MS_SIZE);
  if (ASC_FEATURE_SIMD) feWipeScratchV();
}



/** o = a^((p-3)/4) = a^(2^446 - 2^222 - 1), by a fixed chain of 444 squarings and 12 multiplications.
 *  Writing e(n) = a^(2^n - 1): e(m+n) = e(m)^(2^n) * e(n), and the exponent is e(223)^(2^223) * e(222). */
export function fePowP34(o: Fe, a: Fe): void {
  feCopy(E1, a);
  feSqr(EX, E1); feMul(EX, EX, E1); // e2
  feSqr(E3, EX); feMul(E3, E3, E1); // e3
  feSqrN(E6, E3, 3); feMul(E6, E6, E3); // e6
  feSqrN(EX, E6, 6); feMul(EX, EX, E6); // e12
  feSqrN(E24, EX, 12); feMul(E24, E24, EX); // e24
  feSqrN(E30, E24, 6); feMul(E30, E30, E6); // e30
  feSqrN(EX, E24, 24); feMul(EX, EX, E24); // e48
  feSqrN(EY, EX, 48); feMul(EY, EY, EX); // e96
  feSqrN(EX, EY, 96); feMul(EX, EX, EY); // e192
  feSqrN(EY, EX, 30); feMul(EY, EY, E30); // e222
  feSqr(EX, EY); feMul(EX, EX, E1); // e223
  feSqrN(EX, EX, 223); feMul(o, EX, EY);
  feWipe(E1); feWipe(E3); feWipe(E6); feWipe(E24); feWipe(E30); feWipe(EX); feWipe(EY);
}

/** o = 1/a (0 for a = 0), as a^(p-2) = (a^((p-3)/4))^4 * a. Constant time. The reference for `feInv`,
 *  which computes the same value by divsteps in about a third of the time. */
export function feInvFermat(o: Fe, a: Fe): void {
  const t = INV_T;
  fePowP34(t, a);
  feSqrN(t, t, 2);
  feMul(o, t, a);
  feWipe(t);
}

// ---- inversion by divsteps (Bernstein-Yang "safegcd"), constant time ------------------------------------------
//
// f = p and g = a run through divsteps: (delta, f, g) -> (1 - delta, g, (g - f)/2) when delta > 0 and g is odd,
// else (1 + delta, f, (g + (g mod 2)*f)/2). From 0 <= g < p, g reaches 0 and f = ±1 within
// floor((49*448 + 57)/17) = 1294 divsteps (Bernstein and Yang 2019, theorem 11.2); we always run
// 47 batches of 28 = 1316, whatever a is. Each batch runs its 28 divsteps on the low bits of f and g alone,
// collecting them in a matrix [u v; q r] (entries below 2^28 in magnitude) that then updates the full f, g
// and the cofactors d, e (d*a = f, e*a = g mod p, from d = 0, e = 1), dividing by 2^28: exactly for f, g; mod p
// for d, e by first adding m*p with m = the low 28 bits (p = -1 mod 2^28, so that makes them divisible).
// At the end 1/a = ±d. No branch or index depends on a: selections are masks.
//
// Multi-limb values here are signed: 17 i64 limbs of 28 bits, limbs 0..15 in [0, 2^28), limb 16 signed.
// |f|, |g| <= p, and |d|, |e| grow by less than p per batch (|u| + |v| <= 2^28), so stay below 48p < 2^454.

const DS_N: i32 = 28;
const DS_BATCHES: i32 = 47;
const DS_LIMBS: usize = 17;
const DS: usize = memory.data(4 * 17 * 8, 16); // f, g, d, e
const DS_F: usize = DS;
const DS_G: usize = DS + 136;
const DS_D: usize = DS + 272;
const DS_E: usize = DS + 408;
const DS_T: Fe = memory.data(64, 16);
const M28: i64 = 0xfffffff;

/** Updates (x, y) <- ([a b; c d] (x, y)) / 2^28 in place: exactly (f, g), or mod p when `modp` (d, e). */
@inline
function dsUpdate(x: usize, y: usize, a: i64, b: i64, c: i64, d: i64, modp: bool): void {
  const x0 = load<i64>(x), y0 = load<i64>(y);
  let cx = a * x0 + b * y0;
  let cy = c * x0 + d * y0;
  // x + m*p = x + m*2^448 - m*2^224 - m with m = x mod 2^28 clears the low limb (mod p only).
  const mx: i64 = modp ? cx & M28 : 0;
  const my: i64 = modp ? cy & M28 : 0;
  cx = (cx - mx) >> 28;
  cy = (cy - my) >> 28;
  for (let i: usize = 1; i < DS_LIMBS; i++) {
    const xi = load<i64>(x + (i << 3)), yi = load<i64>(y + (i << 3));
    cx += a * xi + b * yi;
    cy += c * xi + d * yi;
    if (modp && i == 8) { cx -= mx; cy -= my; }
    if (modp && i == 16) { cx += mx; cy += my; }
    store<i64>(x + ((i - 1) << 3), cx & M28);
    store<i64>(y + ((i - 1) << 3), cy & M28);
    cx >>= 28;
    cy >>= 28;
  }
  store<i64>(x + 128, cx);
  store<i64>(y + 128, cy);
}

/** o = 1/a (0 for a = 0) by divsteps; see above. Constant time. */
export function feInv(o: Fe, a: Fe): void {
  // f = p, g = canonical a, d = 0, e = 1.
  for (let i: usize = 0; i < DS_LIMBS; i++) {
    store<i64>(DS_F + (i << 3), i == 16 ? 0 : i == 8 ? M28 - 1 : M28);
    store<i64>(DS_D + (i << 3), 0);
    store<i64>(DS_E + (i << 3), <i64>(i == 0));
  }
  feCanon(DS_T, a);
  for (let i: usize = 0; i < 16; i++) store<i64>(DS_G + (i << 3), <i64>load<u32>(DS_T + (i << 2)));
  store<i64>(DS_G + 128, 0);
  let zeta: i64 = -1; // -delta, delta = 1
  for (let batch: i32 = 0; batch < DS_BATCHES; batch++) {
    // The low 56 bits of f and g decide the next 28 divsteps.
    let f = load<i64>(DS_F) | (load<i64>(DS_F + 8) << 28);
    let g = load<i64>(DS_G) | (load<i64>(DS_G + 8) << 28);
    let u: i64 = 1, v: i64 = 0, q: i64 = 0, r: i64 = 1;
    for (let j: i32 = 0; j < DS_N; j++) {
      // With zeta = -delta: when g is odd, g -= f if delta > 0 (else g += f), and the rows follow; when also
      // delta > 0, f += (the new g), which makes f the old g: the swap without a swap.
      const pos = zeta >> 63; // all-ones iff delta > 0
      const odd = <i64>0 - (g & 1);
      g += ((f ^ pos) - pos) & odd;
      q += ((u ^ pos) - pos) & odd;
      r += ((v ^ pos) - pos) & odd;
      const s = pos & odd;
      zeta = (zeta ^ s) - 1 - s; // delta' = 1 - delta (swap) or 1 + delta
      f += g & s;
      u += q & s;
      v += r & s;
      g >>= 1; u <<= 1; v <<= 1;
    }
    dsUpdate(DS_F, DS_G, u, v, q, r, false);
    dsUpdate(DS_D, DS_E, u, v, q, r, true);
  }
  // f = ±1: 1/a = sign(f) * d. Make d positive by adding 64p = 2^454 - 2^230 - 64, normalize, fold
  // 2^448 = 2^224 + 1, then negate by mask.
  const neg = <u64>(load<i64>(DS_F + 128) >> 63);
  let c: i64 = -64;
  for (let i: usize = 0; i < 16; i++) {
    c += load<i64>(DS_D + (i << 3)) - (i == 8 ? <i64>64 : 0);
    store<u32>(DS_T + (i << 2), <u32>(c & M28));
    c >>= 28;
  }
  c += load<i64>(DS_D + 128) + 64; // in [0, 2^7)
  store<u32>(DS_T, load<u32>(DS_T) + <u32>c);
  store<u32>(DS_T + 32, load<u32>(DS_T + 32) + <u32>c);
  feNeg(o, DS_T);
  feCmov(o, DS_T, ~neg);
  memory.fill(DS, 0, 4 * 17 * 8);
  memory.fill(DS_T, 0, 64);
}

/** o = a candidate square root of u/v: u * (u*v)^((p-3)/4), whose square is u/v exactly when u/v is a
 *  square (and -u/v otherwise). Returns an all-ones mask iff v * o^2 == u, i.e. the root is genuine. */
export function feSqrtRatio(o: Fe, u: Fe, v: Fe): u64 {
  const t = SR_T, w = SR_W;
  feMul(t, u, v);
  fePowP34(t, t);
  feMul(t, t, u);
  feSqr(w, t);
  feMul(w, w, v);
  const ok = feEq(w, u);
  feCopy(o, t);
  feWipe(t); feWipe(w);
  return ok;
}

// ---- selection, comparison, encoding --------------------------------------------------------------------------

/** o = mask ? a : o, for mask all-ones or zero; reads and writes every limb either way. */
@inline
export function feCmov(o: Fe, a: Fe, mask: u64): void {
  for (let i: usize = 0; i < FE_SIZE; i += 8) {
    const x = load<u64>(o + i);
    store<u64>(o + i, x ^ ((x ^ load<u64>(a + i)) & mask));
  }
}

export function feWipe(a: Fe): void {
  memory.fill(a, 0, FE_SIZE);
}

/** o = the canonical representative of a, in [0, p), limbs < 2^28. Let v be a with carries propagated
 *  (top bit kept apart, so v < 2p); v >= p exactly when v + 2^224 + 1 reaches 2^448, and then that sum
 *  modulo 2^448 is v - p. Both candidates are always computed and one is chosen by mask. */
export function feCanon(o: Fe, a: Fe): void {
  let top: u64 = 0;
  for (let i: usize = 0; i < 64; i += 4) {
    const c = <u64>load<u32>(a + i) + top;
    store<u32>(o + i, <u32>(c & M));
    top = c >> 28;
  }
  let carry: u64 = 0;
  const w = CANON_W;
  for (let i: usize = 0; i < 64; i += 4) {
    const c = <u64>load<u32>(o + i) + carry + <u64>(i == 0 || i == 32);
    store<u32>(w + i, <u32>(c & M));
    carry = c >> 28;
  }
  const mask = <u64>0 - (top | carry);
  feCmov(o, w, mask);
}

/** All-ones if a == 0 (mod p), else zero. */
export function feIsZero(a: Fe): u64 {
  const c = IZ_C;
  feCanon(c, a);
  let acc: u64 = 0;
  for (let i: usize = 0; i < 64; i += 8) acc |= load<u64>(c + i);
  return ((acc | (<u64>0 - acc)) >> 63) - 1;
}

/** All-ones if a == b (mod p), else zero. */
export function feEq(a: Fe, b: Fe): u64 {
  const d = EQ_D;
  feSub(d, a, b);
  return feIsZero(d);
}

/** The low bit of the canonical representative ("negative" in RFC 8032's sign convention), as 0 or 1. */
export function feParity(a: Fe): u32 {
  const c = IZ_C;
  feCanon(c, a);
  return load<u32>(c) & 1;
}

/** Writes the canonical 56-byte little-endian encoding of a. */
export function feToBytes(dst: usize, a: Fe): void {
  const c = IZ_C;
  feCanon(c, a);
  for (let j: usize = 0; j < 8; j++) {
    // Two 28-bit limbs make exactly 7 bytes.
    const v = <u64>load<u32>(c + 8 * j) | (<u64>load<u32>(c + 8 * j + 4) << 28);
    for (let k: usize = 0; k < 7; k++) store<u8>(dst + 7 * j + k, <u8>(v >> (8 * k)));
  }
}

/** Reads a 56-byte little-endian integer into o. Returns all-ones iff it is below p (a canonical encoding):
 *  it is >= p exactly when adding 2^224 + 1 carries out of 2^448. */
export function feFromBytes(o: Fe, src: usize): u64 {
  for (let j: usize = 0; j < 8; j++) {
    let v: u64 = 0;
    for (let k: usize = 0; k < 7; k++) v |= <u64>load<u8>(src + 7 * j + k) << (8 * k);
    store<u32>(o + 8 * j, <u32>(v & M));
    store<u32>(o + 8 * j + 4, <u32>(v >> 28));
  }
  let carry: u64 = 0;
  for (let i: usize = 0; i < 64; i += 4) carry = (<u64>load<u32>(o + i) + carry + <u64>(i == 0 || i == 32)) >> 28;
  return carry - 1;
}

// ---- Legendre symbol, VARIABLE time (public values only) -------------------------------------------------------

const JA: usize = memory.data(64, 16); // a and n as 7 little-endian u64 words (+ one spare)
const JN: usize = memory.data(64, 16);
const P_BYTES: usize = memory.data<u8>([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
]);

// a then p, both big-endian, as jacobi.ts reads them.
const JBE: usize = memory.data(112, 16);

/** True iff a is a non-zero square mod p (the Legendre symbol (a|p) = 1), by the division steps of
 *  jacobi.ts (batches of 30 steps decided on the low bits, one 2x2 matrix applied per batch: ~2 µs against
 *  ~5-7 for the binary algorithm below, measured on canonical random elements), falling back to the binary
 *  algorithm in the never-seen case that the steps do not converge within their cap. VARIABLE time:
 *  public values only (the subgroup check on received points). Equal to a^((p-1)/2) == 1 (tested against it,
 *  both paths). */
export function feIsSquareVar(a: Fe): bool {
  feToBytes(JA, a);
  for (let i: usize = 0; i < 56; i++) {
    store<u8>(JBE + i, load<u8>(JA + 55 - i));
    store<u8>(JBE + 56 + i, load<u8>(P_BYTES + 55 - i));
  }
  const j = jacobiVar(JBE, 56);
  if (j != 2) return j == 1;
  return feIsSquareVarBinary(a);
}

/** The binary Jacobi algorithm on seven 64-bit words: strip factors of 2 from a (each flips the sign when
 *  n = 3, 5 mod 8), swap when a < n (quadratic reciprocity flips it when both are 3 mod 4), subtract. About
 *  450 rounds of word operations instead of a 446-squaring exponentiation. VARIABLE time: branches on a.
 *  feIsSquareVar's fallback, and the reference the tests hold the division steps against. */
export function feIsSquareVarBinary(a: Fe): bool {
  feToBytes(JA, a);
  memory.copy(JN, P_BYTES, 56);
  store<u64>(JA + 56, 0);
  store<u64>(JN + 56, 0);
  let t: i32 = 1;
  while (true) {
    // a == 0?
    let top: i32 = 6;
    while (top >= 0 && load<u64>(JA + (<usize>top << 3)) == 0) top--;
    if (top < 0) break;
    // Strip the factors of 2: whole words, then the rest.
    let zw: i32 = 0;
    while (load<u64>(JA + (<usize>zw << 3)) == 0) zw++;
    const zb = <i32>ctz(load<u64>(JA + (<usize>zw << 3)));
    if (zw > 0) {
      for (let i: i32 = 0; i < 7; i++) store<u64>(JA + (<usize>i << 3), i + zw < 7 ? load<u64>(JA + (<usize>(i + zw) << 3)) : 0);
    }
    if (zb > 0) {
      const s = <u64>zb;
      for (let i: usize = 0; i < 7; i++) {
        const hi = load<u64>(JA + ((i + 1) << 3)); // word 7 is the zero spare
        store<u64>(JA + (i << 3), (load<u64>(JA + (i << 3)) >> s) | (hi << (64 - s)));
      }
    }
    const n0 = load<u64>(JN);
    if ((((zw << 6) + zb) & 1) != 0 && ((n0 & 7) == 3 || (n0 & 7) == 5)) t = -t;
    // a < n: swap, with reciprocity.
    let less = false;
    for (let i: i32 = 6; i >= 0; i--) {
      const x = load<u64>(JA + (<usize>i << 3)), y = load<u64>(JN + (<usize>i << 3));
      if (x != y) {
        less = x < y;
        break;
      }
    }
    if (less) {
      for (let i: usize = 0; i < 56; i += 8) {
        const x = load<u64>(JA + i);
        store<u64>(JA + i, load<u64>(JN + i));
        store<u64>(JN + i, x);
      }
      if ((load<u64>(JA) & 3) == 3 && (load<u64>(JN) & 3) == 3) t = -t;
    }
    // a -= n (both odd, a >= n: the difference is even).
    let borrow: u64 = 0;
    for (let i: usize = 0; i < 56; i += 8) {
      const x = load<u64>(JA + i), y = load<u64>(JN + i);
      const d = x - y - borrow;
      borrow = <u64>(x < y || (x == y && borrow != 0));
      store<u64>(JA + i, d);
    }
  }
  // n = gcd(a, p): 1 unless a = 0 mod p.
  let one = load<u64>(JN) == 1;
  for (let i: usize = 8; i < 56; i += 8) one = one && load<u64>(JN + i) == 0;
  return one && t == 1;
}
