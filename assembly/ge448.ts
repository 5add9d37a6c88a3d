// Points of edwards448 (RFC 8032: x^2 + y^2 = 1 + d*x^2*y^2, d = -39081): formulas and the RFC 8032 codec.
//
// Representations (each a fixed address, field elements of 64 bytes laid end to end):
//   extended  (X, Y, Z, T), x = X/Z, y = Y/Z, T = XY/Z          256 bytes; accumulators
//   cached    (X, Y, Z, dT)                                      256 bytes; the second operand of `geAdd`
//   niels     (x, y, d*x*y), Z = 1                               192 bytes; precomputed tables (`geAddNiels`)
// The addition law (Hisil-Wong-Carter-Dawson 2008, extended coordinates, a = 1) is complete on this curve
// because a = 1 is a square and d is not: its denominators 1 +- d*x1*x2*y1*y2 never vanish, so the identity,
// doublings and small-order points need no special case and no branch.
//
// The `withT` flags are compile-time constants at every call site: T is needed only when the next operation
// is an addition, so the doublings of a window and an addition followed by a doubling skip that product.
import {
  Fe, FE_SIZE, feAdd, feAddNC, feSubNC, feCondNegNC, feSub, feSub2, feNeg, feMul, feSqr, feSqrSub2, feMulSmall,
  feCopy, feOne, feZero, feCmov, feInv,
  feSqrtRatio, feIsZero, feEq, feParity, feToBytes, feFromBytes,
} from './fe448';

export type Ge = usize;
export const GE_SIZE: usize = 4 * FE_SIZE;
export const NIELS_SIZE: usize = 3 * FE_SIZE;

/** |d| for d = -39081. */
export const D_ABS: u32 = 39081;

@inline export function gX(p: Ge): Fe { return p; }
@inline export function gY(p: Ge): Fe { return p + FE_SIZE; }
@inline export function gZ(p: Ge): Fe { return p + 2 * FE_SIZE; }
@inline export function gT(p: Ge): Fe { return p + 3 * FE_SIZE; }

// Scratch for the formulas (one block, cleared by `geWipeScratch`).
const GS: usize = memory.data(10 * 64, 16);
const A: Fe = GS;
const B: Fe = GS + 64;
const C: Fe = GS + 128;
const D: Fe = GS + 192;
const E: Fe = GS + 256;
const F: Fe = GS + 320;
const G: Fe = GS + 384;
const H: Fe = GS + 448;
const U: Fe = GS + 512;
const V: Fe = GS + 576;

/** Zeroes the formulas' intermediate values (called by each entry point after secret work). */
export function geWipeScratch(): void {
  memory.fill(GS, 0, 10 * 64);
}

/** o = the identity (0, 1, 1, 0); in cached form too, since d*0 = 0. */
export function geIdentity(o: Ge): void {
  feZero(gX(o));
  feOne(gY(o));
  feOne(gZ(o));
  feZero(gT(o));
}

/** o = 2p ("dbl-2008-hwcd" with a = 1): 4S + 3M, plus one M for T. o may alias p.
 *  Sums and differences that only feed multiplications skip their carry pass (`feAddNC`, `feSubNC`; the
 *  pairs multiplied are within fe448's bounds: G (AddNC) x H (SubNC), E x H, E x F, F x G). */
@inline
export function geDouble(o: Ge, p: Ge, withT: bool): void {
  feSqr(A, gX(p));
  feSqr(B, gY(p));
  feSqr(C, gZ(p));
  feAddNC(E, gX(p), gY(p));
  feSqrSub2(E, E, A, B); // (X+Y)^2 - X^2 - Y^2 = 2XY
  feAddNC(G, A, B);
  feSub2(F, G, C, C); // A + B - 2Z^2
  feSubNC(H, A, B);
  feMul(gX(o), E, F);
  feMul(gY(o), G, H);
  feMul(gZ(o), F, G);
  if (withT) feMul(gT(o), E, H);
}

/** The second half of both additions, from A = X1X2, B = Y1Y2, C = d*T1*T2, D = Z1Z2, U = X1+Y1 (uncarried)
 *  and V = X2+Y2 (uncarried). F, G and H only feed products and skip their carry pass: G (AddNC) meets F and
 *  H (SubNC), which meet the carried E; two SubNC values never meet (fe448's bounds). */
@inline
function addTail(o: Ge, withT: bool): void {
  feMul(E, U, V);
  feSub2(E, E, A, B); // X1Y2 + Y1X2
  feSubNC(F, D, C);
  feAddNC(G, D, C);
  feSubNC(H, B, A);
  feMul(gX(o), E, F);
  feMul(gY(o), G, H);
  feMul(gZ(o), F, G);
  if (withT) feMul(gT(o), E, H);
}

/** o = p + q for extended p and cached q ("add-2008-hwcd"): 8M, plus one for T. o may alias p. p's
 *  coordinates are weakly reduced; q's X and dT may be `geCondNegCached`'s uncarried negations. */
@inline
export function geAdd(o: Ge, p: Ge, q: Ge, withT: bool): void {
  feMul(A, gX(p), gX(q));
  feMul(B, gY(p), gY(q));
  feMul(C, gT(p), gT(q));
  feMul(D, gZ(p), gZ(q));
  feAddNC(U, gX(p), gY(p));
  feAddNC(V, gX(q), gY(q));
  addTail(o, withT);
}

/** o = p + n for extended p and a niels point n (Z = 1): 7M, plus one for T. o may alias p. n's x and
 *  d*x*y may be `geCondNegNiels`'s uncarried negations. */
@inline
export function geAddNiels(o: Ge, p: Ge, n: usize, withT: bool): void {
  feMul(A, gX(p), n);
  feMul(B, gY(p), n + FE_SIZE);
  feMul(C, gT(p), n + 2 * FE_SIZE);
  feCopy(D, gZ(p));
  feAddNC(U, gX(p), gY(p));
  feAddNC(V, n, n + FE_SIZE);
  addTail(o, withT);
}

/** c = p in cached form (X, Y, Z, d*T). c may alias p. */
export function geToCached(c: Ge, p: Ge): void {
  if (c != p) memory.copy(c, p, 3 * FE_SIZE);
  feMulSmall(gT(c), gT(p), D_ABS);
  feNeg(gT(c), gT(c));
}

/** Negates a cached point (X -> -X, dT -> -dT) when mask is all-ones; the same work either way. The
 *  negations are uncarried (`feCondNegNC`): the point may then only be `geAdd`'s second operand. */
export function geCondNegCached(c: Ge, mask: u64): void {
  feCondNegNC(gX(c), mask);
  feCondNegNC(gT(c), mask);
}

/** Negates a niels point (x -> -x, dxy -> -dxy) when mask is all-ones, uncarried: for `geAddNiels` only. */
export function geCondNegNiels(n: usize, mask: u64): void {
  feCondNegNC(n, mask);
  feCondNegNC(n + 2 * FE_SIZE, mask);
}

/** All-ones iff p is the identity: X = 0 and Y = Z. */
export function geIsIdentity(p: Ge): u64 {
  return feIsZero(gX(p)) & feEq(gY(p), gZ(p));
}

// ---- RFC 8032 codec ------------------------------------------------------------------------------------------

/** Writes the 57-byte encoding of p: canonical y, then the parity of x in the top bit of the last byte. */
export function geEncode(dst: usize, p: Ge): void {
  feInv(U, gZ(p));
  feMul(V, gX(p), U);
  feMul(U, gY(p), U);
  feToBytes(dst, U);
  store<u8>(dst + 56, <u8>(feParity(V) << 7));
}

// Prefix products of the Z coordinates for `geEncodeBatch` (at most ENC_BATCH_MAX points).
export const ENC_BATCH_MAX: i32 = 4;
const ZP: usize = memory.data(ENC_BATCH_MAX * 64, 16);
const ZI: Fe = memory.data(64, 16);
const ZA: Fe = memory.data(64, 16);

/** Writes the 57-byte encodings of n <= ENC_BATCH_MAX extended points laid end to end at pts (GE_SIZE
 *  apart) to dst, dst + stride, ...: one inversion for all of them (Montgomery's trick: invert the product of
 *  the Z coordinates, then peel each 1/Z_i off with two multiplications). Z is never 0 for a point reached
 *  by the complete formulas, so the product is invertible. Same bytes as n calls of `geEncode`. */
export function geEncodeBatch(dst: usize, stride: usize, pts: usize, n: i32): void {
  feCopy(ZP, gZ(pts));
  for (let i: i32 = 1; i < n; i++) feMul(ZP + <usize>i * 64, ZP + <usize>(i - 1) * 64, gZ(pts + <usize>i * GE_SIZE));
  feInv(ZA, ZP + <usize>(n - 1) * 64); // 1/(Z_0 ... Z_{n-1})
  for (let i: i32 = n - 1; i >= 0; i--) {
    const p = pts + <usize>i * GE_SIZE;
    if (i > 0) {
      feMul(ZI, ZA, ZP + <usize>(i - 1) * 64); // 1/Z_i
      feMul(ZA, ZA, gZ(p)); // 1/(Z_0 ... Z_{i-1})
    } else feCopy(ZI, ZA);
    feMul(V, gX(p), ZI);
    feMul(U, gY(p), ZI);
    const d = dst + <usize>i * stride;
    feToBytes(d, U);
    store<u8>(d + 56, <u8>(feParity(V) << 7));
  }
  memory.fill(ZP, 0, ENC_BATCH_MAX * 64);
  memory.fill(ZI, 0, 64);
  memory.fill(ZA, 0, 64);
}

/** Decodes 57 bytes at src into the extended point o (RFC 8032 section 5.2.3). Returns true iff the
 *  encoding is canonical and on the curve: y < p, bits 448..454 zero, x recoverable, and not x = 0 with the
 *  sign bit set. o holds garbage when it returns false. Points are public, but the work is uniform anyway. */
export function geDecode(o: Ge, src: usize): bool {
  const last = <u32>load<u8>(src + 56);
  let ok = feFromBytes(gY(o), src) & (<u64>0 - <u64>((last & 0x7f) == 0));
  // x^2 = (y^2 - 1) / (d*y^2 - 1); with d = -|d| the denominator is -(|d|*y^2 + 1).
  feSqr(U, gY(o));
  feOne(gZ(o));
  feMulSmall(V, U, D_ABS);
  feAdd(V, V, gZ(o));
  feNeg(V, V);
  feSub(U, U, gZ(o));
  ok &= feSqrtRatio(gX(o), U, V);
  const sign = <u64>(last >> 7);
  ok &= ~(feIsZero(gX(o)) & (<u64>0 - sign));
  // Choose the root whose parity is the sign bit.
  feNeg(U, gX(o));
  feCmov(gX(o), U, <u64>0 - (<u64>feParity(gX(o)) ^ sign));
  feMul(gT(o), gX(o), gY(o));
  return ok != 0;
}

// Scratch of `geDecodeHinted` (public values only).
const HY2: Fe = memory.data(64, 16);
const HL: Fe = memory.data(64, 16);
const HR: Fe = memory.data(64, 16);

/** Sets o = (x, y) (extended, Z = 1, T set) from the encoding at src and a hint x (56 bytes, little-endian)
 *  at hint when the hint is the decoding's x; returns false, o holding garbage, otherwise. The hint is the x
 *  an earlier call decoded for the same public point (assembly/ed448ecdh.ts, ed448.ts, ed448ring.ts): canonical, on the curve with the encoding's y (x^2 (1 - d y^2) = 1 - y^2) and of the sign
 *  bit's parity — three facts that fix x uniquely, so a hint that passes gives exactly geDecode's point, and
 *  the caller falls back to geDecode when it does not. A few products instead of a square root. Public
 *  values only: VARIABLE time. */
export function geDecodeHinted(o: Ge, src: usize, hint: usize): bool {
  const last = <u32>load<u8>(src + 56);
  if ((last & 0x7f) != 0) return false;
  if (feFromBytes(gY(o), src) == 0) return false; // y >= p
  if (feFromBytes(gX(o), hint) == 0) return false; // x >= p (the hint is 56 bytes)
  if (feParity(gX(o)) != (last >> 7)) return false;
  // x^2 (1 + |d| y^2) = 1 - y^2, i.e. x^2 (1 - d y^2) = 1 - y^2 with d = -|d|
  feOne(gZ(o));
  feSqr(HY2, gY(o));
  feMulSmall(HL, HY2, D_ABS);
  feAdd(HL, HL, gZ(o));
  feSqr(HR, gX(o));
  feMul(HL, HL, HR);
  feSub(HR, gZ(o), HY2);
  const ok = feEq(HL, HR) != 0;
  memory.fill(HY2, 0, 64); memory.fill(HL, 0, 64); memory.fill(HR, 0, 64);
  if (ok) feMul(gT(o), gX(o), gY(o));
  return ok;
}
