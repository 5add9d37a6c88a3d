// Poly1305 two blocks per step with WebAssembly SIMD: the poly1305-donna SSE2 arrangement over the scalar
// state of assembly/aead.ts (POLY: r and h in five 26-bit limbs).
//
// Two interleaved accumulators, A over blocks 0, 2, 4, ... and B over blocks 1, 3, 5, ...:
//   A = h + m0, B = m1;  then per further pair  (A, B) = (A·r², B·r²) + (m2j, m2j+1);
//   and the last step multiplies by (r², r) instead, so h = A·r² + B·r = the scalar loop's result,
// since h·r^n + m0·r^n + m1·r^(n−1) + ... + m(n−1)·r regroups that way. Each limb is an i64x2 (lane 0 = A,
// lane 1 = B); the 5×5 limb products are i64x2.extmul of 32-bit lanes (pmuludq on x64), two products each.
//
// Bounds (as donna's): after each step's carry the limbs are < 2^26 (limb 1 < 2^26 + 2^11); with a message
// limb added, < 2^28, so they fit the 32-bit lanes extmul reads; the coefficients (r or r² limbs, times 5 for
// the wrapped ones) are < 2^30, so each product is < 2^58 and a sum of five < 2^61: no 64-bit lane overflows.
//
// Constant time: the same instruction sequence for every key and message; loop counts and the choice of
// coefficients depend only on the (public) length; no secret-dependent address. The coefficient tables
// and r² are secrets derived from the key: wiped before returning.
import { POLY, polyBlocks } from '../aead';

const MASK26: i64 = 0x3ffffff;
/**
 * The coefficients, two lanes interleaved: entry j (8 bytes) is the pair (lane A, lane B) of
 *   F = [x4, x3, x2, x1, x0, 5·x4, 5·x3, 5·x2, 5·x1, 0]
 * so the coefficients of (h0, h1), (h2, h3) and h4 in product row k (d_k = Σ h_i · x_(k−i), wrapping with ×5)
 * are the 16 bytes at entries 4 − k, 6 − k and 8 − k: one unaligned load each, no table per row.
 * LOOP has r² in both lanes, LAST r² in lane A and r in lane B (the last step's (r², r)).
 */
const LOOP: usize = memory.data(80, 16);
const LAST: usize = memory.data(80, 16);
/** r² in five 26-bit limbs; the clamped r as a 16-byte block (to square it with polyBlocks). */
const RSQ: usize = memory.data(20, 16);
const RBLOCK: usize = memory.data(16, 16);

/** The coefficient entries at f, lane A from the limbs at a, lane B from those at b. */
function coefficients(f: usize, a: usize, b: usize): void {
  for (let i: usize = 0; i < 5; i++) {
    const xa = load<u32>(a + (i << 2)), xb = load<u32>(b + (i << 2));
    store<u32>(f + ((4 - i) << 3), xa);
    store<u32>(f + ((4 - i) << 3), xb, 4);
    if (i > 0) {
      store<u32>(f + ((9 - i) << 3), 5 * xa);
      store<u32>(f + ((9 - i) << 3), 5 * xb, 4);
    }
  }
  store<u64>(f + 72, 0);
}

/**
 * r² into RSQ, by one scalar step h = (0 + r)·r with the 2^128 bit off; h is kept in locals around it. Small
 * copies and wipes here are plain loads and stores (see wipeSmall in ../io.ts).
 */
function square(): void {
  const h01 = load<u64>(POLY, 20), h23 = load<u64>(POLY, 28), h4 = load<u32>(POLY, 36);
  store<u64>(POLY, 0, 20);
  store<u64>(POLY, 0, 28);
  store<u32>(POLY, 0, 36);
  // r as 130 bits back to 16 bytes (the clamped r < 2^124).
  const r0 = <u64>load<u32>(POLY, 0), r1 = <u64>load<u32>(POLY, 4), r2 = <u64>load<u32>(POLY, 8);
  const r3 = <u64>load<u32>(POLY, 12), r4 = <u64>load<u32>(POLY, 16);
  store<u64>(RBLOCK, r0 | (r1 << 26) | (r2 << 52), 0);
  store<u64>(RBLOCK, (r2 >> 12) | (r3 << 14) | (r4 << 40), 8);
  polyBlocks(RBLOCK, 1, 0);
  store<u64>(RSQ, load<u64>(POLY, 20), 0);
  store<u64>(RSQ, load<u64>(POLY, 28), 8);
  store<u32>(RSQ, load<u32>(POLY, 36), 16);
  store<u64>(POLY, h01, 20);
  store<u64>(POLY, h23, 28);
  store<u32>(POLY, h4, 36);
  v128.store(RBLOCK, i64x2.splat(0));
}

/** The coefficients and r² zeroed (secrets derived from the key). */
function wipeCoefficients(): void {
  const zero = i64x2.splat(0);
  for (let i: usize = 0; i < 80; i += 16) {
    v128.store(LOOP + i, zero);
    v128.store(LAST + i, zero);
  }
  v128.store(RSQ, zero);
  store<u32>(RSQ, 0, 16);
}

/** Row k of the product, d_k = Σ h_i · c(k, i), both lanes, from the packed limbs and the entries at f. */
@inline
function row(p01: v128, p23: v128, p4: v128, f: usize, k: usize): v128 {
  const c01 = v128.load(f + ((4 - k) << 3)), c23 = v128.load(f + ((6 - k) << 3)), c4 = v128.load(f + ((8 - k) << 3));
  return i64x2.add(
    i64x2.add(i64x2.extmul_low_i32x4_u(p01, c01), i64x2.extmul_high_i32x4_u(p01, c01)),
    i64x2.add(i64x2.add(i64x2.extmul_low_i32x4_u(p23, c23), i64x2.extmul_high_i32x4_u(p23, c23)), i64x2.extmul_low_i32x4_u(p4, c4)),
  );
}

/**
 * h = the Poly1305 accumulation of the 2·pairs full 16-byte blocks at m (each with the 2^128 bit), pairs ≥ 1:
 * what polyBlocks(m, 2·pairs) computes, in the same limb form.
 */
export function polyPairs(m: usize, pairs: i32): void {
  square();
  coefficients(LOOP, RSQ, RSQ);
  coefficients(LAST, RSQ, POLY);
  const mask = i64x2.splat(MASK26);
  const hibit = i64x2.splat(1 << 24);
  let h0 = i64x2.replace_lane(i64x2.splat(0), 0, <i64>load<u32>(POLY, 20));
  let h1 = i64x2.replace_lane(i64x2.splat(0), 0, <i64>load<u32>(POLY, 24));
  let h2 = i64x2.replace_lane(i64x2.splat(0), 0, <i64>load<u32>(POLY, 28));
  let h3 = i64x2.replace_lane(i64x2.splat(0), 0, <i64>load<u32>(POLY, 32));
  let h4 = i64x2.replace_lane(i64x2.splat(0), 0, <i64>load<u32>(POLY, 36));
  for (let j = 0; j < pairs; j++) {
    // The two blocks' 128-bit values as [A.lo, B.lo] and [A.hi, B.hi], cut into 26-bit limbs and added.
    const a = v128.load(m), b = v128.load(m, 16);
    const lo = i64x2.shuffle(a, b, 0, 2), hi = i64x2.shuffle(a, b, 1, 3);
    h0 = i64x2.add(h0, v128.and(lo, mask));
    h1 = i64x2.add(h1, v128.and(i64x2.shr_u(lo, 26), mask));
    h2 = i64x2.add(h2, v128.and(v128.or(i64x2.shr_u(lo, 52), i64x2.shl(hi, 12)), mask));
    h3 = i64x2.add(h3, v128.and(i64x2.shr_u(hi, 14), mask));
    h4 = i64x2.add(h4, v128.or(i64x2.shr_u(hi, 40), hibit));
    // Each limb's low 32 bits of both lanes, two limbs per vector, for extmul.
    const p01 = i32x4.shuffle(h0, h1, 0, 2, 4, 6);
    const p23 = i32x4.shuffle(h2, h3, 0, 2, 4, 6);
    const p4 = i32x4.shuffle(h4, h4, 0, 2, 0, 2);
    const t = j + 1 < pairs ? LOOP : LAST; // public: only the last step takes (r², r)
    const d0 = row(p01, p23, p4, t, 0);
    let d1 = row(p01, p23, p4, t, 1);
    let d2 = row(p01, p23, p4, t, 2);
    let d3 = row(p01, p23, p4, t, 3);
    let d4 = row(p01, p23, p4, t, 4);
    // The carry of the scalar loop, on both lanes.
    h0 = v128.and(d0, mask);
    d1 = i64x2.add(d1, i64x2.shr_u(d0, 26));
    h1 = v128.and(d1, mask);
    d2 = i64x2.add(d2, i64x2.shr_u(d1, 26));
    h2 = v128.and(d2, mask);
    d3 = i64x2.add(d3, i64x2.shr_u(d2, 26));
    h3 = v128.and(d3, mask);
    d4 = i64x2.add(d4, i64x2.shr_u(d3, 26));
    h4 = v128.and(d4, mask);
    const c = i64x2.shr_u(d4, 26);
    h0 = i64x2.add(h0, i64x2.add(c, i64x2.shl(c, 2)));
    h1 = i64x2.add(h1, i64x2.shr_u(h0, 26));
    h0 = v128.and(h0, mask);
    m += 32;
  }
  // h = A + B, carried into the form the scalar loop leaves.
  let g0 = <u64>i64x2.extract_lane(h0, 0) + <u64>i64x2.extract_lane(h0, 1);
  let g1 = <u64>i64x2.extract_lane(h1, 0) + <u64>i64x2.extract_lane(h1, 1);
  let g2 = <u64>i64x2.extract_lane(h2, 0) + <u64>i64x2.extract_lane(h2, 1);
  let g3 = <u64>i64x2.extract_lane(h3, 0) + <u64>i64x2.extract_lane(h3, 1);
  let g4 = <u64>i64x2.extract_lane(h4, 0) + <u64>i64x2.extract_lane(h4, 1);
  g1 += g0 >> 26; g0 &= MASK26;
  g2 += g1 >> 26; g1 &= MASK26;
  g3 += g2 >> 26; g2 &= MASK26;
  g4 += g3 >> 26; g3 &= MASK26;
  g0 += (g4 >> 26) * 5; g4 &= MASK26;
  g1 += g0 >> 26; g0 &= MASK26;
  store<u32>(POLY, <u32>g0, 20);
  store<u32>(POLY, <u32>g1, 24);
  store<u32>(POLY, <u32>g2, 28);
  store<u32>(POLY, <u32>g3, 32);
  store<u32>(POLY, <u32>g4, 36);
  wipeCoefficients();
}
