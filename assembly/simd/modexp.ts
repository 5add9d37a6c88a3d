// Modular exponentiation in the RFC 3526 MODP groups on the f64x2 Montgomery arithmetic of
// modexp-mont.ts: the SIMD module's version of assembly/modexp.ts, with the same calling convention
// (modexp_bytes / modexp_setup / modexp_pow; see that file's header), so the adapter drives either module.
// The Legendre symbol stays in the main module (public input, no vector work in it).
//
// Constant time in the exponent as in the scalar version: fixed 5-bit windows, every window multiplies,
// table entries come from a masked scan of the whole table. Two things differ:
//  - the top window is loaded from the table instead of multiplying 1 by it after squaring 1 (its position
//    is public), saving WIN squarings and a multiplication;
//  - for the base 2 (the generator: key generation), multiplying by the table entry 2^v becomes multiplying
//    by 2^v exactly (v < 32, a scale of each f64 limb by a power of two) and one quotient-estimate reduction,
//    which costs O(s) instead of a Montgomery product and needs no table. The reduction is exact for moduli
//    whose top 64 bits are all ones (both RFC 3526 groups; checked at setup, others take the generic path).
//  - numbers are balanced (signed) digits (modexp-mont.ts): values in Montgomery form lie in (-2p, 2p), and
//    the result is mapped into [0, p) once at the end by a masked addition of p.
//    Whether the base is 2 is the only branch on the base, which is public in every use (a generator or a
//    peer's public value); nothing branches on the exponent.
import { IO } from '../io';
import { expWindow, limbsFromBE, limbsToBE, modDouble } from '../mont';
import { F_BITS, F_BYTES, F_MAX_LIMBS, F_REV_BYTES, fDigit, fLimbsFor, fMontMul, fMontSqr, fReverse, fWipeScratch } from './modexp-mont';

const F_MASK: u64 = (1 << F_BITS) - 1;
const SLOTS: i32 = 2;
const MAX_BYTES: i32 = 384;
const U32_BYTES: i32 = F_MAX_LIMBS * 4;

// Per slot: p as balanced f64 digits, their padded reversal, R mod p and R^2 mod p (balanced f64 digits),
// p as unsigned 23-bit u32 limbs (the final correction and mulPow2), the limb count, the byte length, and
// the base-2 flag.
const P_TAB: usize = memory.data(F_BYTES * SLOTS, 16);
const PREV_TAB: usize = memory.data(F_REV_BYTES * SLOTS, 16);
const ONE_TAB: usize = memory.data(F_BYTES * SLOTS, 16);
const RR_TAB: usize = memory.data(F_BYTES * SLOTS, 16);
const PU_TAB: usize = memory.data(U32_BYTES * SLOTS, 16);
const LIMBS_TAB: usize = memory.data(4 * SLOTS, 16);
const BYTES_TAB: usize = memory.data(4 * SLOTS, 16);
const POW2_TAB: usize = memory.data(4 * SLOTS, 16);

const WIN: i32 = 5;
const TABLE_N: i32 = 1 << WIN;
const TABLE: usize = memory.data(F_BYTES * TABLE_N, 16);
const ACC: usize = memory.data(F_BYTES, 16);
const SEL: usize = memory.data(F_BYTES, 16);
const TMP: usize = memory.data(F_BYTES, 16);
const TMPU: usize = memory.data(U32_BYTES + 8, 16);

// @ts-ignore: decorator
@inline function slotPtr(tab: usize, slot: i32, size: i32): usize {
  return tab + <usize>(slot * size);
}

/** Unsigned 23-bit u32 limbs (a value below 2^(23 s - 1)) -> balanced f64 digits. */
function toF64(r: usize, x: usize, s: i32): void {
  let c: i64 = 0;
  for (let i = 0; i < s; i++) {
    c += load<u32>(x + (<usize>i << 2)) as i64;
    const d = fDigit(c);
    store<f64>(r + (<usize>i << 3), <f64>d);
    c = (c - d) >> F_BITS;
  }
}

/**
 * Balanced f64 digits of x, -p < x < p -> x mod p as unsigned 23-bit u32 limbs: the digits carried into
 * limbs, then p added under a mask when x is negative (the final carry is the sign: 0 or -1).
 */
function toU32ModP(r: usize, x: usize, pu: usize, s: i32): void {
  let c: i64 = 0;
  for (let i = 0; i < s; i++) {
    c += <i64>load<f64>(x + (<usize>i << 3));
    store<u32>(r + (<usize>i << 2), <u32>(c & <i64>F_MASK));
    c >>= F_BITS; // arithmetic
  }
  const mask = <u32>c; // all ones iff x < 0
  let carry: u32 = 0;
  for (let i = 0; i < s; i++) {
    const o = <usize>i << 2;
    const v = load<u32>(r + o) + (load<u32>(pu + o) & mask) + carry;
    store<u32>(r + o, v & <u32>F_MASK);
    carry = v >> F_BITS; // the carry out of the top limb is 2^(23 s), which cancels x's negative offset
  }
}

/** Byte length of the slot's modulus, 0 if the slot was never set up (or the slot number is bad). */
export function modexp_bytes(slot: i32): i32 {
  if (slot < 0 || slot >= SLOTS) return 0;
  return load<i32>(BYTES_TAB + (<usize>slot << 2));
}

/**
 * Reads a modulus of `nbytes` (a multiple of 8, at most 384, top byte non-zero) at IO into `slot`.
 * Unlike the scalar module's, it must be -1 mod 2^46 (both RFC 3526 primes are -1 mod 2^64): the
 * Montgomery reduction relies on it (modexp-mont.ts, reduce4). Returns 0 for anything else.
 */
export function modexp_setup(slot: i32, nbytes: i32): i32 {
  if (slot < 0 || slot >= SLOTS || nbytes <= 0 || nbytes > MAX_BYTES || (nbytes & 7) != 0) return 0;
  if (load<u8>(IO) == 0) return 0;
  const s = fLimbsFor(nbytes);
  const pu = slotPtr(PU_TAB, slot, U32_BYTES);
  const p = slotPtr(P_TAB, slot, F_BYTES);
  limbsFromBE(pu, IO, nbytes, s, F_BITS);
  if ((load<u32>(pu) as u64) != F_MASK) {
    store<i32>(BYTES_TAB + (<usize>slot << 2), 0); // the slot is no longer set up
    return 0;
  }
  toF64(p, pu, s);
  if (load<f64>(p + 8) != 0) {
    // p != -1 mod 2^46: the reduction's chain (modexp-mont.ts, reduce4) would be wrong
    store<i32>(BYTES_TAB + (<usize>slot << 2), 0);
    return 0;
  }
  fReverse(slotPtr(PREV_TAB, slot, F_REV_BYTES), p, s);
  let top: u32 = 0xff;
  for (let i = 0; i < 8; i++) top &= load<u8>(IO + <usize>i);
  // mulPow2 reads its quotient's sign from the carry out of the top limb at bit 23 s - 8 nbytes < 64.
  store<i32>(POW2_TAB + (<usize>slot << 2), top == 0xff && F_BITS * s - nbytes * 8 < 64 ? 1 : 0);
  // R mod p and R^2 mod p by doubling 1 in 23-bit integer limbs (public; once per group).
  memory.fill(TMPU, 0, U32_BYTES);
  store<u32>(TMPU, 1);
  for (let k = 0; k < F_BITS * s; k++) modDouble(TMPU, pu, s, F_BITS);
  toF64(slotPtr(ONE_TAB, slot, F_BYTES), TMPU, s);
  for (let k = 0; k < F_BITS * s; k++) modDouble(TMPU, pu, s, F_BITS);
  toF64(slotPtr(RR_TAB, slot, F_BYTES), TMPU, s);
  memory.fill(TMPU, 0, U32_BYTES);
  store<i32>(LIMBS_TAB + (<usize>slot << 2), s);
  store<i32>(BYTES_TAB + (<usize>slot << 2), nbytes);
  return 1;
}

/**
 * SEL = TABLE[idx] by reading every entry and keeping one with a mask (no secret-dependent address).
 * Two vectors of the result at a time, each accumulated over all entries in a register, the mask from a
 * vector compare of the entry number with idx: one load per vector and entry (storing and reloading SEL
 * for every entry cost ~5% of an exponentiation).
 */
function select(idx: u32, s: i32): void {
  const vecs = s >> 1; // even: s is a multiple of 4
  const want = i32x4.splat(idx);
  const one = i32x4.splat(1);
  for (let i = 0; i < vecs; i += 2) {
    const o = <usize>i << 4;
    let a0 = i32x4.splat(0);
    let a1 = i32x4.splat(0);
    let kv = i32x4.splat(0);
    let entry = TABLE + o;
    for (let k = 0; k < TABLE_N; k++) {
      const mask = i32x4.eq(kv, want); // all ones iff k == idx
      a0 = v128.or(a0, v128.and(v128.load(entry), mask));
      a1 = v128.or(a1, v128.and(v128.load(entry, 16), mask));
      kv = i32x4.add(kv, one);
      entry += <usize>F_BYTES;
    }
    v128.store(SEL + o, a0);
    v128.store(SEL + o, a1, 16);
  }
}

/**
 * x = x * 2^v mod p (|x| < 2p after) for |x| < p, v < 32; needs p's top 64 bits all ones (see the header).
 * x is balanced digits; pu is p in unsigned limbs.
 */
function mulPow2(x: usize, v: u32, s: i32, nbytes: i32, pu: usize): void {
  // x * 2^v limb by limb is exact in f64 (a power-of-two scale), then carried into unsigned 23-bit limbs
  // with a signed carry: V = sum TMPU[k] 2^(23k) + c 2^(23s).
  const scale = reinterpret<f64>((<u64>(1023 + v)) << 52);
  let c: i64 = 0;
  for (let k = 0; k < s; k++) {
    c += <i64>(load<f64>(x + (<usize>k << 3)) * scale);
    store<u32>(TMPU + (<usize>k << 2), <u32>(c & <i64>F_MASK));
    c >>= F_BITS; // arithmetic
  }
  // q = floor(V / 2^L), L = 8 nbytes: |V| < 2^(L+31), so |q| <= 2^31, and with p = 2^L - d, d < 2^(L-63),
  // W = V - q p = (V - q 2^L) + q d lies in (-2^(L-32), 2^L + 2^(L-32)): |W| < 2p.
  const L = nbytes * 8;
  const kL = L / F_BITS;
  const bL = L % F_BITS;
  let q: i64 = (load<u32>(TMPU + (<usize>kL << 2)) as i64) >> bL;
  for (let k = kL + 1; k < s; k++) {
    const sh = F_BITS * (k - kL) - bL; // public bounds, below 23 s - L < 64 (checked at setup)
    q |= (load<u32>(TMPU + (<usize>k << 2)) as i64) << sh;
  }
  q |= c << (F_BITS * s - L); // the sign (c is 0 or -1) above the unsigned bits: two's complement
  // W mod 2^(23 s) in balanced digits is W itself (|W| is far below 2^(23 s - 1)).
  let b: i64 = 0;
  for (let k = 0; k < s; k++) {
    b += (load<u32>(TMPU + (<usize>k << 2)) as i64) - q * (load<u32>(pu + (<usize>k << 2)) as i64);
    const d = fDigit(b);
    store<f64>(x + (<usize>k << 3), <f64>d);
    b = (b - d) >> F_BITS;
  }
}

/** base^exp mod p; see assembly/modexp.ts for the layout. Returns 1, or 0 when the slot is not set up. */
export function modexp_pow(slot: i32, expLen: i32): i32 {
  const nbytes = modexp_bytes(slot);
  if (nbytes == 0 || expLen < 0 || expLen > nbytes) return 0;
  const s = load<i32>(LIMBS_TAB + (<usize>slot << 2));
  const p = slotPtr(P_TAB, slot, F_BYTES);
  const prev = slotPtr(PREV_TAB, slot, F_REV_BYTES);
  const pu = slotPtr(PU_TAB, slot, U32_BYTES);
  const one = slotPtr(ONE_TAB, slot, F_BYTES);
  const e = IO + <usize>nbytes;
  const bits = expLen << 3;
  const nwin = (bits + WIN - 1) / WIN;

  // Is the base exactly 2? (Public: see the header.)
  let high: u32 = 0;
  for (let i = 0; i < nbytes - 1; i++) high |= load<u8>(IO + <usize>i);
  const pow2 = load<i32>(POW2_TAB + (<usize>slot << 2)) != 0 && high == 0 && load<u8>(IO + <usize>(nbytes - 1)) == 2;

  if (pow2) {
    memory.copy(ACC, one, <usize>(s << 3));
    for (let wi = nwin - 1; wi >= 0; wi--) {
      const pos = wi * WIN;
      const w = bits - pos < WIN ? bits - pos : WIN; // public: the top window may be narrower
      if (wi < nwin - 1) for (let k = 0; k < w; k++) fMontSqr(ACC, ACC, p, prev, s);
      mulPow2(ACC, expWindow(e, expLen, pos, w), s, nbytes, pu);
    }
  } else {
    // TABLE[i] = base^i in Montgomery form. fMontMul(base, R^2) also reduces a base >= p (below 2^(8 nbytes)).
    limbsFromBE(TMPU, IO, nbytes, s, F_BITS);
    toF64(TMP, TMPU, s);
    const t1 = TABLE + <usize>F_BYTES;
    memory.copy(TABLE, one, <usize>(s << 3));
    fMontMul(t1, TMP, slotPtr(RR_TAB, slot, F_BYTES), p, prev, s);
    for (let i = 2; i < TABLE_N; i++) {
      const t = TABLE + <usize>(i * F_BYTES);
      if ((i & 1) == 0) fMontSqr(t, TABLE + <usize>((i >> 1) * F_BYTES), p, prev, s);
      else fMontMul(t, t - <usize>F_BYTES, t1, p, prev, s);
    }
    // Left to right, WIN bits at a time: WIN squarings, then always one multiplication by a scanned entry.
    if (nwin == 0) memory.copy(ACC, one, <usize>(s << 3));
    for (let wi = nwin - 1; wi >= 0; wi--) {
      const pos = wi * WIN;
      const w = bits - pos < WIN ? bits - pos : WIN;
      select(expWindow(e, expLen, pos, w), s);
      if (wi == nwin - 1) {
        memory.copy(ACC, SEL, <usize>(s << 3));
      } else {
        for (let k = 0; k < w; k++) fMontSqr(ACC, ACC, p, prev, s);
        fMontMul(ACC, ACC, SEL, p, prev, s);
      }
    }
  }

  // Leave Montgomery form (multiply by plain 1: -p < result < p), then add p if it is negative.
  memory.fill(TMP, 0, <usize>(s << 3));
  store<f64>(TMP, 1.0);
  fMontMul(ACC, ACC, TMP, p, prev, s);
  toU32ModP(TMPU, ACC, pu, s);
  limbsToBE(IO, TMPU, nbytes, s, F_BITS);

  memory.fill(e, 0, <usize>expLen);
  memory.fill(TABLE, 0, <usize>(F_BYTES * TABLE_N));
  memory.fill(ACC, 0, <usize>F_BYTES);
  memory.fill(SEL, 0, <usize>F_BYTES);
  memory.fill(TMP, 0, <usize>F_BYTES);
  memory.fill(TMPU, 0, <usize>(U32_BYTES + 8));
  fWipeScratch();
  return 1;
}
