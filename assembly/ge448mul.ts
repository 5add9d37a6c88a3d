// Scalar multiplication on edwards448:
//   geMulCT          P*k, constant time: signed radix-16 window, 8-entry table scanned in full per digit
//   geMulBaseCT      G*k, constant time: one precomputed table per radix-16 position, additions only
//   geDoubleMulVar   G*a + P*b, VARIABLE time (public inputs only): interleaved wNAF (Straus)
// Scalars come as 16 limbs of 28 bits (sc448's layout) and must be below 2^446 (every reduced scalar and q).
import { Fe, FE_SIZE, feMul, feMulSmall, feNeg, feInv, feCopy, feWipeScratch } from './fe448';
import {
  Ge, GE_SIZE, NIELS_SIZE, D_ABS, gX, gY, gZ, gT, geIdentity, geDouble, geAdd, geAddNiels, geToCached,
  geCondNegCached, geCondNegNiels, geDecode, geWipeScratch,
} from './ge448';
import { Sc } from './sc448';

const DIGITS: i32 = 112; // radix-16 digits of a scalar < 2^446 (448 bits, no carry out)

// ---- constant-time helpers ----------------------------------------------------------------------------------

/** All-ones iff a == b, computed arithmetically (0 <= a, b < 2^31). */
@inline
function eqMask(a: i32, b: i32): u64 {
  return <u64>((<i64>(a ^ b) - 1) >> 63);
}

// Secret scratch: digits, window table, accumulator, selected entry. Wiped by `geMulWipe`.
const DIG: usize = memory.data(DIGITS, 16);
const VT: usize = memory.data(8 * <i32>GE_SIZE, 16); // cached P, 2P, ..., 8P
const ACC: Ge = memory.data(<i32>GE_SIZE, 16);
const SEL: Ge = memory.data(<i32>GE_SIZE, 16);

/** Clears every secret intermediate of scalar multiplication, including the field and formula scratch. */
export function geMulWipe(): void {
  memory.fill(DIG, 0, DIGITS);
  memory.fill(VT, 0, 8 * GE_SIZE);
  memory.fill(ACC, 0, GE_SIZE);
  memory.fill(SEL, 0, GE_SIZE);
  geWipeScratch();
  feWipeScratch();
}

/** Recodes k < 2^446 as 112 signed digits d_i in [-8, 8), k = sum d_i * 16^i, branch-free. The top digit is
 *  at most 4, so no carry leaves the last position. */
function recode16(k: Sc): void {
  let carry: i32 = 0;
  for (let i: i32 = 0; i < DIGITS; i++) {
    const limb = load<u32>(k + (<usize>(i / 7) << 2));
    const v = <i32>((limb >> (<u32>(i % 7) << 2)) & 15) + carry;
    carry = (v + 8) >> 4;
    store<i8>(DIG + i, <i8>(v - (carry << 4)));
  }
}

/** o = table[|d| - 1] (or the identity for d = 0), then negated if d < 0, for a digit d in [-8, 8]. Every
 *  word of all 8 entries is read and masked whatever d is; `size` bytes per entry (a multiple of 16). The
 *  identity is not read from a ninth entry: its only non-zero words are y = 1 (byte 64) and, in cached form
 *  (`cachedId`), Z = 1 (byte 128), which are ORed in under the d = 0 mask. */
@inline
function select8(o: usize, table: usize, size: usize, cachedId: bool, d: i32): u64 {
  const s = d >> 31;
  const a = (d ^ s) - s;
  const m0 = eqMask(a, 0), m1 = eqMask(a, 1), m2 = eqMask(a, 2), m3 = eqMask(a, 3), m4 = eqMask(a, 4);
  const m5 = eqMask(a, 5), m6 = eqMask(a, 6), m7 = eqMask(a, 7), m8 = eqMask(a, 8);
  if (ASC_FEATURE_SIMD) {
    // The SIMD module: the same masked scan 16 bytes per operation (and 16-byte stores, from which the
    // products' 16-byte loads of the entry forward).
    const v1 = i64x2.splat(m1), v2 = i64x2.splat(m2), v3 = i64x2.splat(m3), v4 = i64x2.splat(m4);
    const v5 = i64x2.splat(m5), v6 = i64x2.splat(m6), v7 = i64x2.splat(m7), v8 = i64x2.splat(m8);
    for (let w: usize = 0; w < size; w += 16) {
      const e = table + w;
      v128.store(o + w, v128.or(
        v128.or(v128.or(v128.and(v128.load(e), v1), v128.and(v128.load(e + size), v2)),
          v128.or(v128.and(v128.load(e + 2 * size), v3), v128.and(v128.load(e + 3 * size), v4))),
        v128.or(v128.or(v128.and(v128.load(e + 4 * size), v5), v128.and(v128.load(e + 5 * size), v6)),
          v128.or(v128.and(v128.load(e + 6 * size), v7), v128.and(v128.load(e + 7 * size), v8)))));
    }
    const one = i64x2(<i64>(m0 & 1), 0);
    v128.store(o + 64, v128.or(v128.load(o + 64), one));
    if (cachedId) v128.store(o + 128, v128.or(v128.load(o + 128), one));
    return <u64>(<i64>s);
  }
  for (let w: usize = 0; w < size; w += 16) {
    const e = table + w;
    store<u64>(o + w,
      (load<u64>(e) & m1) | (load<u64>(e + size) & m2) | (load<u64>(e + 2 * size) & m3) |
      (load<u64>(e + 3 * size) & m4) | (load<u64>(e + 4 * size) & m5) | (load<u64>(e + 5 * size) & m6) |
      (load<u64>(e + 6 * size) & m7) | (load<u64>(e + 7 * size) & m8));
    store<u64>(o + w + 8,
      (load<u64>(e + 8) & m1) | (load<u64>(e + size + 8) & m2) | (load<u64>(e + 2 * size + 8) & m3) |
      (load<u64>(e + 3 * size + 8) & m4) | (load<u64>(e + 4 * size + 8) & m5) | (load<u64>(e + 5 * size + 8) & m6) |
      (load<u64>(e + 6 * size + 8) & m7) | (load<u64>(e + 7 * size + 8) & m8));
  }
  const one = m0 & 1;
  store<u64>(o + 64, load<u64>(o + 64) | one);
  if (cachedId) store<u64>(o + 128, load<u64>(o + 128) | one);
  return <u64>(<i64>s);
}

/** o = d * P (cached form) for a digit d in [-8, 8], in constant time. */
function selectCached(o: Ge, d: i32): void {
  geCondNegCached(o, select8(o, VT, GE_SIZE, true, d));
}

/** o = P*k (extended, T set), constant time in k. P is an extended point with T set. */
export function geMulCT(o: Ge, p: Ge, k: Sc): void {
  // jP for j = 1..8 with 4 doublings and 3 additions (a doubling costs 4S + 4M, an addition 9M).
  const w = ACC, s = SEL;
  geToCached(VT, p);
  geDouble(w, p, true); geToCached(VT + 1 * GE_SIZE, w); // 2P
  geAdd(s, w, VT, true); geToCached(VT + 2 * GE_SIZE, s); // 3P
  geDouble(s, s, true); geToCached(VT + 5 * GE_SIZE, s); // 6P
  geAdd(s, s, VT, true); geToCached(VT + 6 * GE_SIZE, s); // 7P
  geDouble(w, w, true); geToCached(VT + 3 * GE_SIZE, w); // 4P
  geAdd(s, w, VT, true); geToCached(VT + 4 * GE_SIZE, s); // 5P
  geDouble(w, w, true); geToCached(VT + 7 * GE_SIZE, w); // 8P
  recode16(k);
  // The accumulator starts as the top digit's multiple: identity plus that entry, in extended form.
  selectCached(SEL, load<i8>(DIG + DIGITS - 1));
  geIdentity(ACC);
  geAdd(ACC, ACC, SEL, true);
  for (let i: i32 = DIGITS - 2; i >= 0; i--) {
    // A loop rather than three inlined copies: the loop body stays small enough for the instruction cache.
    for (let r = 0; r < 3; r++) geDouble(ACC, ACC, false);
    geDouble(ACC, ACC, true);
    selectCached(SEL, load<i8>(DIG + i));
    // T is needed only by the caller after the last addition; the next doubling does not read it.
    if (i == 0) geAdd(ACC, ACC, SEL, true);
    else geAdd(ACC, ACC, SEL, false);
  }
  memory.copy(o, ACC, GE_SIZE);
}

// ---- fixed base ----------------------------------------------------------------------------------------------

// RFC 8032's base point, encoded.
const G_ENC: usize = memory.data<u8>([
  0x14, 0xfa, 0x30, 0xf2, 0x5b, 0x79, 0x08, 0x98, 0xad, 0xc8, 0xd7, 0x4e, 0x2c, 0x13, 0xbd, 0xfd, 0xc4, 0x39,
  0x7c, 0xe6, 0x1c, 0xff, 0xd3, 0x3a, 0xd7, 0xc2, 0xa0, 0x05, 0x1e, 0x9c, 0x78, 0x87, 0x40, 0x98, 0xa3, 0x6c,
  0x73, 0x73, 0xea, 0x4b, 0x62, 0xc7, 0xc9, 0x56, 0x37, 0x20, 0x76, 0x88, 0x24, 0xbc, 0xb6, 0x6e, 0x71, 0x46,
  0x3f, 0x69, 0x00,
]);

// Niels tables, built once at start-up (about a millisecond) rather than shipped: 172 KiB of data would
// triple the embedded module. BASE_T: for each radix-16 position i, j * 16^i * G for j = 1..8 (G*k is then
// 112 additions and no doubling). ODD_G: G, 3G, ..., 127G for the width-8 wNAF of geDoubleMulVar.
const BASE_ENTRIES: i32 = DIGITS * 8;
const ODD_G_ENTRIES: i32 = 64;
const NT: usize = memory.data((BASE_ENTRIES + ODD_G_ENTRIES) * 192, 16);
const BASE_T: usize = NT;
const ODD_G: usize = NT + <usize>BASE_ENTRIES * NIELS_SIZE;

const NS: usize = memory.data(<i32>NIELS_SIZE, 16); // the selected niels entry

/** o = d * 16^pos * G (niels form) for a digit d in [-8, 8], in constant time. */
function selectNiels(o: usize, pos: i32, d: i32): void {
  geCondNegNiels(o, select8(o, BASE_T + <usize>pos * 8 * NIELS_SIZE, NIELS_SIZE, false, d));
}

/** o = G*k (extended, T set), constant time in k. */
export function geMulBaseCT(o: Ge, k: Sc): void {
  recode16(k);
  geIdentity(ACC);
  for (let i: i32 = 0; i < DIGITS; i++) {
    selectNiels(NS, i, load<i8>(DIG + i));
    geAddNiels(ACC, ACC, NS, true);
  }
  memory.copy(o, ACC, GE_SIZE);
  memory.fill(NS, 0, NIELS_SIZE);
}

// ---- start-up: building the tables ---------------------------------------------------------------------------

const W: Ge = memory.data(<i32>GE_SIZE, 16);
const BP: Ge = memory.data(<i32>GE_SIZE, 16);
const BC: Ge = memory.data(<i32>GE_SIZE, 16);
const PRE: usize = memory.data((BASE_ENTRIES + ODD_G_ENTRIES) * 64, 16);
const ZI: Fe = memory.data(64, 16);
const INV: Fe = memory.data(64, 16);

/** Stores projective X, Y, Z of p into a niels slot; `normalize` later turns it into (x, y, d*x*y). */
@inline
function stashProjective(slot: usize, p: Ge): void {
  memory.copy(slot, p, 3 * FE_SIZE);
}

/** Converts n stashed (X, Y, Z) slots to niels form with one inversion (Montgomery's batch trick). */
function normalize(base: usize, n: i32): void {
  feCopy(PRE, base + 2 * FE_SIZE);
  for (let i: i32 = 1; i < n; i++) {
    const slot = base + <usize>i * NIELS_SIZE;
    feMul(PRE + <usize>i * 64, PRE + <usize>(i - 1) * 64, slot + 2 * FE_SIZE);
  }
  feInv(INV, PRE + <usize>(n - 1) * 64);
  for (let i: i32 = n - 1; i >= 0; i--) {
    const slot = base + <usize>i * NIELS_SIZE;
    if (i > 0) {
      feMul(ZI, INV, PRE + <usize>(i - 1) * 64); // 1/Z_i
      feMul(INV, INV, slot + 2 * FE_SIZE); // 1/(Z_0 ... Z_{i-1})
    } else feCopy(ZI, INV);
    feMul(slot, slot, ZI);
    feMul(slot + FE_SIZE, slot + FE_SIZE, ZI);
    feMul(slot + 2 * FE_SIZE, slot, slot + FE_SIZE);
    feMulSmall(slot + 2 * FE_SIZE, slot + 2 * FE_SIZE, D_ABS);
    feNeg(slot + 2 * FE_SIZE, slot + 2 * FE_SIZE);
  }
}

/** Builds BASE_T and ODD_G from the encoded base point. Public data: runs once, at module start. */
export function geInitTables(): void {
  geDecode(BP, G_ENC);
  for (let pos: i32 = 0; pos < DIGITS; pos++) {
    const row = BASE_T + <usize>pos * 8 * NIELS_SIZE;
    memory.copy(W, BP, GE_SIZE);
    geToCached(BC, BP);
    for (let j: i32 = 0; j < 8; j++) {
      stashProjective(row + <usize>j * NIELS_SIZE, W);
      if (j < 7) geAdd(W, W, BC, true);
    }
    for (let r = 0; r < 4; r++) geDouble(BP, BP, true);
  }
  geDecode(BP, G_ENC);
  geDouble(W, BP, true);
  geToCached(BC, W); // 2G
  memory.copy(W, BP, GE_SIZE);
  for (let j: i32 = 0; j < ODD_G_ENTRIES; j++) {
    stashProjective(ODD_G + <usize>j * NIELS_SIZE, W);
    geAdd(W, W, BC, true);
  }
  normalize(NT, BASE_ENTRIES + ODD_G_ENTRIES);
  memory.fill(PRE, 0, (BASE_ENTRIES + ODD_G_ENTRIES) * 64);
}

// ---- variable time: G*a + P*b ----------------------------------------------------------------------------------

const NAF_LEN: i32 = 450; // 448 bits plus room for the final carry
const NAF_A: usize = memory.data(NAF_LEN, 16);
const NAF_B: usize = memory.data(NAF_LEN, 16);
const PT: usize = memory.data(8 * <i32>GE_SIZE, 16); // cached P, 3P, ..., 15P

/** Width-w NAF of k < 2^447 into naf[0..NAF_LEN): odd digits |d| < 2^(w-1), each followed by at least w-1
 *  zeros. Starting from the bits, each set bit absorbs the next w-1 bits, borrowing from above when the sum
 *  would exceed the digit range. VARIABLE time. */
function wnaf(naf: usize, k: Sc, w: i32): void {
  for (let j: i32 = 0; j < NAF_LEN; j++) {
    const bit = j < 448 ? (load<u32>(k + (<usize>(j / 28) << 2)) >> <u32>(j % 28)) & 1 : 0;
    store<i8>(naf + j, <i8>bit);
  }
  const max: i32 = (1 << (w - 1)) - 1;
  for (let i: i32 = 0; i < NAF_LEN; i++) {
    let di = <i32>load<i8>(naf + i);
    if (di == 0) continue;
    for (let b: i32 = 1; b < w && i + b < NAF_LEN; b++) {
      const nb = <i32>load<i8>(naf + i + b);
      if (nb == 0) continue;
      const v = nb << b;
      if (di + v <= max) {
        di += v;
        store<i8>(naf + i + b, 0);
      } else if (di - v >= -max) {
        di -= v;
        let j = i + b; // add 2^(i+b): ripple the carry through the run of ones above
        while (load<i8>(naf + j) != 0) {
          store<i8>(naf + j, 0);
          j++;
        }
        store<i8>(naf + j, 1);
      } else break;
    }
    store<i8>(naf + i, <i8>di);
  }
}

/** o = G*a + P*b (X, Y, Z set; T is not). VARIABLE time: public scalars and points only. */
export function geDoubleMulVar(o: Ge, a: Sc, p: Ge, b: Sc): void {
  wnaf(NAF_A, a, 8);
  wnaf(NAF_B, b, 5);
  geDouble(W, p, true);
  geToCached(BC, W); // 2P
  memory.copy(W, p, GE_SIZE);
  for (let j: usize = 0; j < 8; j++) {
    geToCached(PT + j * GE_SIZE, W);
    if (j < 7) geAdd(W, W, BC, true);
  }
  let top: i32 = NAF_LEN - 1;
  while (top >= 0 && load<i8>(NAF_A + top) == 0 && load<i8>(NAF_B + top) == 0) top--;
  geIdentity(ACC);
  for (let i: i32 = top; i >= 0; i--) {
    const da = <i32>load<i8>(NAF_A + i), db = <i32>load<i8>(NAF_B + i);
    if (i < top) {
      if (da | db) geDouble(ACC, ACC, true);
      else geDouble(ACC, ACC, false);
    }
    if (db != 0) {
      memory.copy(SEL, PT + <usize>((db < 0 ? -db : db) >> 1) * GE_SIZE, GE_SIZE);
      if (db < 0) geCondNegCached(SEL, <u64>-1);
      if (da != 0) geAdd(ACC, ACC, SEL, true);
      else geAdd(ACC, ACC, SEL, false);
    }
    if (da != 0) {
      memory.copy(NS, ODD_G + <usize>((da < 0 ? -da : da) >> 1) * NIELS_SIZE, NIELS_SIZE);
      if (da < 0) geCondNegNiels(NS, <u64>-1);
      geAddNiels(ACC, ACC, NS, false);
    }
  }
  memory.copy(o, ACC, GE_SIZE);
}
