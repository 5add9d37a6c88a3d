// The WebAssembly-SIMD kernels of fe448.ts, compiled only into the SIMD module: fe448.ts calls them under
// `ASC_FEATURE_SIMD` (a compile-time constant: the main module, built with SIMD disabled, contains none of
// this and stays as it was). Same element layout (16 limbs of 28 bits in u32), same results bit for bit.
//
// The product. fe448's scalar kernel builds a*b from nine 4x4 limb blocks: for each of the three
// golden-ratio half-products P = a0*b0, Q = a1*b1, R = (a0+a1)*(b0+b1) a low (L), high (H) and middle (M,
// Karatsuba) block of its 4-limb quarters. Here eight of them run as lanes of WebAssembly SIMD products:
// i64x2.extmul_{low,high}_i32x4_u multiplies lanes 0,1 (or 2,3) of two i32x4 vectors into two u64 products,
// so one i32x4 operand pair feeds four blocks at once:
//   group 1: lanes (P_L, Q_L, P_H, Q_H)   the four quarters of a, a 4x4 transpose of its limbs
//   group 2: lanes (P_M, Q_M, R_L, R_H)   sums of group 1's lanes, one shuffle pair and an add per limb
// and the ninth block, R_M (each limb the sum of four), runs in scalar u64 products, beside the vector unit.
// A block's 7 columns then come out as i64x2 pairs: (P_L, Q_L) and (P_H, Q_H) for group 1, (P_M, Q_M) and
// (R_L, R_H) for group 2, so the Karatsuba recombination of P and Q also runs two lanes at a time. The
// golden-ratio fold and the carries stay fe448.ts's scalar `fold` (a vector fold measured slower).
//
// Why these and not others (all measured in one process against the scalar kernel; docs/performance.md,
// session 12): V8 lowers each extmul to two shuffles and one pmuludq (there is no cheaper 32x32->64 vector
// multiply in WebAssembly), so 64 extmuls for 128 limb products only beat 144 scalar multiplies because the
// vector and scalar units work side by side. The square stays scalar: its doubled cross terms already halve
// the products, and the SIMD square (same blocks) measured 16-30% slower than the scalar one.
//
// Bounds. Vector lanes hold u32 limb sums: group 2's are sums of two operand limbs, R_M's of four, and every
// operand limb fe448's header allows is below 3 * 2^28 + 2^9, so four of them stay below 2^32. Block columns
// are exact u64 sums of products; the recombination subtracts modulo 2^64 exactly as the scalar kernel does,
// and each final column is the same true value below 2^64 (fe448's header), hence the same result.
//
// Nothing here branches on or indexes by element values.

import { columns4 } from './fe448';

// Scratch (secret products): the four groups' 7 columns as i64x2, the P/Q half-products' 15 columns (lanes
// p, q), R's 15 columns, R_M's 7. `feWipeScratchV` clears it.
const VS_SIZE: usize = 4 * 7 * 16 + 15 * 16 + 15 * 8 + 7 * 8;
// Allocated only in the SIMD module: fe448.ts imports this file in both, and the main module's static data
// (and so its binary) must not change.
const VS: usize = ASC_FEATURE_SIMD ? memory.data(<i32>VS_SIZE, 16) : 0;
const G1L: usize = VS; // (P_L, Q_L)
const G1H: usize = VS + 112; // (P_H, Q_H)
const G2L: usize = VS + 224; // (P_M, Q_M)
const G2H: usize = VS + 336; // (R_L, R_H)
/** Column k of P at VS_PQ + 16 k, of Q at VS_PQ + 16 k + 8 (k = 0..14). */
export const VS_PQ: usize = VS + 448;
/** Column k of R at VS_R + 8 k (k = 0..14). */
export const VS_R: usize = VS + 688;
const RM: usize = VS + 808;

export function feWipeScratchV(): void {
  memory.fill(VS, 0, VS_SIZE);
}

@inline
function mlo(a: v128, b: v128): v128 {
  return i64x2.extmul_low_i32x4_u(a, b);
}

@inline
function mhi(a: v128, b: v128): v128 {
  return i64x2.extmul_high_i32x4_u(a, b);
}

/** The 7 columns of four lane-wise 4x4 limb products (operand limbs a0..a3, b0..b3): lanes 0,1 to lo,
 *  lanes 2,3 to hi, one i64x2 per column. */
@inline
function blocks(lo: usize, hi: usize, a0: v128, a1: v128, a2: v128, a3: v128, b0: v128, b1: v128, b2: v128, b3: v128): void {
  v128.store(lo, mlo(a0, b0), 0);
  v128.store(hi, mhi(a0, b0), 0);
  v128.store(lo, i64x2.add(mlo(a0, b1), mlo(a1, b0)), 16);
  v128.store(hi, i64x2.add(mhi(a0, b1), mhi(a1, b0)), 16);
  v128.store(lo, i64x2.add(i64x2.add(mlo(a0, b2), mlo(a1, b1)), mlo(a2, b0)), 32);
  v128.store(hi, i64x2.add(i64x2.add(mhi(a0, b2), mhi(a1, b1)), mhi(a2, b0)), 32);
  v128.store(lo, i64x2.add(i64x2.add(mlo(a0, b3), mlo(a1, b2)), i64x2.add(mlo(a2, b1), mlo(a3, b0))), 48);
  v128.store(hi, i64x2.add(i64x2.add(mhi(a0, b3), mhi(a1, b2)), i64x2.add(mhi(a2, b1), mhi(a3, b0))), 48);
  v128.store(lo, i64x2.add(i64x2.add(mlo(a1, b3), mlo(a2, b2)), mlo(a3, b1)), 64);
  v128.store(hi, i64x2.add(i64x2.add(mhi(a1, b3), mhi(a2, b2)), mhi(a3, b1)), 64);
  v128.store(lo, i64x2.add(mlo(a2, b3), mlo(a3, b2)), 80);
  v128.store(hi, i64x2.add(mhi(a2, b3), mhi(a3, b2)), 80);
  v128.store(lo, mlo(a3, b3), 96);
  v128.store(hi, mhi(a3, b3), 96);
}

/** Group 1's limb vector (P_L, Q_L, P_H, Q_H) -> group 2's (P_M, Q_M, R_L, R_H) = (a0+a2, a1+a3, a0+a1, a2+a3)
 *  of its lanes: P_M = P_L + P_H, Q_M = Q_L + Q_H, R_L = P_L + Q_L, R_H = P_H + Q_H. */
@inline
function group2(a: v128): v128 {
  return i32x4.add(i32x4.shuffle(a, a, 0, 1, 0, 2), i32x4.shuffle(a, a, 2, 3, 1, 3));
}

/** R_M's limb from group 2's vector: P_M + Q_M, the sum of all four quarters' limbs. */
@inline
function limbRM(a: v128): u64 {
  return <u64>(<u32>i32x4.extract_lane(a, 0) + <u32>i32x4.extract_lane(a, 1));
}

/** The products' columns: the half-products P and Q (lanes of VS_PQ) and R (VS_R), 15 columns each, for
 *  fe448.ts's `fold`: column k = L_k + (M - L - H)_(k-4) + H_(k-8) for each of them. */
export function feMulColumnsV(x: usize, y: usize): void {
  // Group 1 operands: the 4x4 transpose of the quarters in lane order (0, 2, 1, 3), limb i of each.
  let t0 = i32x4.shuffle(v128.load(x), v128.load(x, 32), 0, 4, 1, 5);
  let t1 = i32x4.shuffle(v128.load(x), v128.load(x, 32), 2, 6, 3, 7);
  let t2 = i32x4.shuffle(v128.load(x, 16), v128.load(x, 48), 0, 4, 1, 5);
  let t3 = i32x4.shuffle(v128.load(x, 16), v128.load(x, 48), 2, 6, 3, 7);
  let a0 = i64x2.shuffle(t0, t2, 0, 2), a1 = i64x2.shuffle(t0, t2, 1, 3);
  let a2 = i64x2.shuffle(t1, t3, 0, 2), a3 = i64x2.shuffle(t1, t3, 1, 3);
  t0 = i32x4.shuffle(v128.load(y), v128.load(y, 32), 0, 4, 1, 5);
  t1 = i32x4.shuffle(v128.load(y), v128.load(y, 32), 2, 6, 3, 7);
  t2 = i32x4.shuffle(v128.load(y, 16), v128.load(y, 48), 0, 4, 1, 5);
  t3 = i32x4.shuffle(v128.load(y, 16), v128.load(y, 48), 2, 6, 3, 7);
  let b0 = i64x2.shuffle(t0, t2, 0, 2), b1 = i64x2.shuffle(t0, t2, 1, 3);
  let b2 = i64x2.shuffle(t1, t3, 0, 2), b3 = i64x2.shuffle(t1, t3, 1, 3);
  blocks(G1L, G1H, a0, a1, a2, a3, b0, b1, b2, b3);
  a0 = group2(a0); a1 = group2(a1); a2 = group2(a2); a3 = group2(a3);
  b0 = group2(b0); b1 = group2(b1); b2 = group2(b2); b3 = group2(b3);
  blocks(G2L, G2H, a0, a1, a2, a3, b0, b1, b2, b3);
  columns4(RM, limbRM(a0), limbRM(a1), limbRM(a2), limbRM(a3), limbRM(b0), limbRM(b1), limbRM(b2), limbRM(b3));
  recombine();
}

/** Karatsuba on the quarters: P and Q two lanes at a time (L = G1L, H = G1H, M = G2L), R from G2H's lanes
 *  and RM. Written out per column: a loop measured slower. */
@inline
function recombine(): void {
  v128.store(VS_PQ, v128.load(G1L, 0), 0);
  v128.store(VS_PQ, v128.load(G1L, 16), 16);
  v128.store(VS_PQ, v128.load(G1L, 32), 32);
  v128.store(VS_PQ, v128.load(G1L, 48), 48);
  v128.store(VS_PQ, i64x2.add(v128.load(G1L, 64), mid(0)), 64);
  v128.store(VS_PQ, i64x2.add(v128.load(G1L, 80), mid(16)), 80);
  v128.store(VS_PQ, i64x2.add(v128.load(G1L, 96), mid(32)), 96);
  v128.store(VS_PQ, mid(48), 112);
  v128.store(VS_PQ, i64x2.add(mid(64), v128.load(G1H, 0)), 128);
  v128.store(VS_PQ, i64x2.add(mid(80), v128.load(G1H, 16)), 144);
  v128.store(VS_PQ, i64x2.add(mid(96), v128.load(G1H, 32)), 160);
  v128.store(VS_PQ, v128.load(G1H, 48), 176);
  v128.store(VS_PQ, v128.load(G1H, 64), 192);
  v128.store(VS_PQ, v128.load(G1H, 80), 208);
  v128.store(VS_PQ, v128.load(G1H, 96), 224);
  store<u64>(VS_R, load<u64>(G2H, 0), 0);
  store<u64>(VS_R, load<u64>(G2H, 16), 8);
  store<u64>(VS_R, load<u64>(G2H, 32), 16);
  store<u64>(VS_R, load<u64>(G2H, 48), 24);
  store<u64>(VS_R, load<u64>(G2H, 64) + midR(0), 32);
  store<u64>(VS_R, load<u64>(G2H, 80) + midR(1), 40);
  store<u64>(VS_R, load<u64>(G2H, 96) + midR(2), 48);
  store<u64>(VS_R, midR(3), 56);
  store<u64>(VS_R, midR(4) + load<u64>(G2H, 8), 64);
  store<u64>(VS_R, midR(5) + load<u64>(G2H, 24), 72);
  store<u64>(VS_R, midR(6) + load<u64>(G2H, 40), 80);
  store<u64>(VS_R, load<u64>(G2H, 56), 88);
  store<u64>(VS_R, load<u64>(G2H, 72), 96);
  store<u64>(VS_R, load<u64>(G2H, 88), 104);
  store<u64>(VS_R, load<u64>(G2H, 104), 112);
}

/** (M - L - H) of P and Q at one column (byte offset off in the group arrays). */
@inline
function mid(off: usize): v128 {
  return i64x2.sub(v128.load(G2L + off), i64x2.add(v128.load(G1L + off), v128.load(G1H + off)));
}

/** (M - L - H) of R at column c. */
@inline
function midR(c: usize): u64 {
  return load<u64>(RM + 8 * c) - load<u64>(G2H + 16 * c) - load<u64>(G2H + 16 * c + 8);
}

// ---- uncarried sums, four limbs per operation ----------------------------------------------------------------
// Besides doing four limbs per operation, their 16-byte stores let the next product's 16-byte loads forward
// from them instead of stalling on 4-byte stores: measured 4-10% off a variable-base multiplication on top of
// the vector product alone (the 16-byte table scan in ge448mul.ts another ~3%, ~10% off the fixed-base one).

/** fe448 `feAddNC`. */
export function feAddNCV(o: usize, a: usize, b: usize): void {
  v128.store(o, i32x4.add(v128.load(a), v128.load(b)));
  v128.store(o, i32x4.add(v128.load(a, 16), v128.load(b, 16)), 16);
  v128.store(o, i32x4.add(v128.load(a, 32), v128.load(b, 32)), 32);
  v128.store(o, i32x4.add(v128.load(a, 48), v128.load(b, 48)), 48);
}

/** fe448 `feSubNC`: o = a + 2p - b; p2 is 2p's limb (all but limb 8), p2l8 limb 8's. */
export function feSubNCV(o: usize, a: usize, b: usize, p2: u32, p2l8: u32): void {
  const k = i32x4.splat(<i32>p2), k8 = i32x4.replace_lane(k, 0, <i32>p2l8);
  v128.store(o, i32x4.sub(i32x4.add(v128.load(a), k), v128.load(b)));
  v128.store(o, i32x4.sub(i32x4.add(v128.load(a, 16), k), v128.load(b, 16)), 16);
  v128.store(o, i32x4.sub(i32x4.add(v128.load(a, 32), k8), v128.load(b, 32)), 32);
  v128.store(o, i32x4.sub(i32x4.add(v128.load(a, 48), k), v128.load(b, 48)), 48);
}

/** fe448 `feCondNegNC`: o = 2p - o under an all-ones mask, o under zero, the same work either way. */
export function feCondNegNCV(o: usize, mask: u32, p2: u32, p2l8: u32): void {
  const m = i32x4.splat(<i32>mask), k = i32x4.splat(<i32>p2), k8 = i32x4.replace_lane(k, 0, <i32>p2l8);
  let x = v128.load(o);
  v128.store(o, v128.xor(x, v128.and(v128.xor(x, i32x4.sub(k, x)), m)));
  x = v128.load(o, 16);
  v128.store(o, v128.xor(x, v128.and(v128.xor(x, i32x4.sub(k, x)), m)), 16);
  x = v128.load(o, 32);
  v128.store(o, v128.xor(x, v128.and(v128.xor(x, i32x4.sub(k8, x)), m)), 32);
  x = v128.load(o, 48);
  v128.store(o, v128.xor(x, v128.and(v128.xor(x, i32x4.sub(k, x)), m)), 48);
}
