// Modular exponentiation and the Legendre symbol in the RFC 3526 MODP groups (OTRv4 DH: 3072-bit; OTRv3: 1536).
//
// Calling convention (the JS adapter is ts/backend/wasm/modexp.ts). Every number is big-endian and
// exactly `modexp_bytes(slot)` bytes long (the adapter left-pads):
//   modexp_setup(slot, nbytes)     the modulus p at IO; precomputes the group's Montgomery constants.
//   modexp_pow(slot, expLen)       base at IO, exponent (expLen bytes, 0..nbytes) at IO + nbytes;
//                                  writes base^exp mod p at IO. Constant time in the exponent's value
//                                  (its length is public). Wipes the exponent and every scratch buffer.
//   modexp_legendre(slot)          x at IO; returns (x | p) in {-1, 0, 1}. Variable time: public x only.
import { IO } from './io';
import { NUM_BYTES, expWindow, limbsFor, limbsFromBE, limbsToBE, modDouble, montMul, montSqr, montWipeScratch, negInv, reverseLimbs } from './mont';

const SLOTS: i32 = 2;
/** Largest modulus, in bytes (3072 bits). */
const MAX_BYTES: i32 = 384;
// Per group slot: p in 28-bit limbs, reversed p, R mod p (one in Montgomery form), R^2 mod p (to enter
// Montgomery form), n0 = -p^(-1) mod 2^28, the limb count, the byte length, and p in 32-bit limbs for the
// Jacobi symbol.
const P_TAB: usize = memory.data(NUM_BYTES * SLOTS, 16);
const PREV_TAB: usize = memory.data(NUM_BYTES * SLOTS, 16);
const ONE_TAB: usize = memory.data(NUM_BYTES * SLOTS, 16);
const RR_TAB: usize = memory.data(NUM_BYTES * SLOTS, 16);
const N0_TAB: usize = memory.data(8 * SLOTS, 16);
const LIMBS_TAB: usize = memory.data(4 * SLOTS, 16);
const BYTES_TAB: usize = memory.data(4 * SLOTS, 16);
const P32_TAB: usize = memory.data(MAX_BYTES * SLOTS, 16);

/** Fixed window width: 2^5 table entries minimises multiplications for 640..3072-bit exponents. */
const WIN: i32 = 5;
const TABLE_N: i32 = 1 << WIN;
const TABLE: usize = memory.data(NUM_BYTES * TABLE_N, 16);
const ACC: usize = memory.data(NUM_BYTES, 16);
const SEL: usize = memory.data(NUM_BYTES, 16);
const TMP: usize = memory.data(NUM_BYTES, 16);

// @ts-ignore: decorator
@inline function slotPtr(tab: usize, slot: i32, size: i32): usize {
  return tab + <usize>(slot * size);
}

/** Byte length of the slot's modulus, 0 if the slot was never set up (or the slot number is bad). */
export function modexp_bytes(slot: i32): i32 {
  if (slot < 0 || slot >= SLOTS) return 0;
  return load<i32>(BYTES_TAB + (<usize>slot << 2));
}

/** Reads an odd modulus of `nbytes` (a multiple of 8, at most 384, top byte non-zero) at IO into `slot`. */
export function modexp_setup(slot: i32, nbytes: i32): i32 {
  if (slot < 0 || slot >= SLOTS || nbytes <= 0 || nbytes > MAX_BYTES || (nbytes & 7) != 0) return 0;
  if ((load<u8>(IO + <usize>(nbytes - 1)) & 1) == 0 || load<u8>(IO) == 0) return 0;
  const s = limbsFor(nbytes);
  const p = slotPtr(P_TAB, slot, NUM_BYTES);
  limbsFromBE(p, IO, nbytes, s);
  be32(slotPtr(P32_TAB, slot, MAX_BYTES), IO, nbytes);
  store<u64>(N0_TAB + (<usize>slot << 3), negInv(load<u32>(p) as u64));
  reverseLimbs(slotPtr(PREV_TAB, slot, NUM_BYTES), p, s);
  // R mod p and R^2 mod p by doubling 1 (the modulus is public; this runs once per group).
  const one = slotPtr(ONE_TAB, slot, NUM_BYTES);
  const rr = slotPtr(RR_TAB, slot, NUM_BYTES);
  memory.fill(one, 0, NUM_BYTES);
  store<u32>(one, 1);
  for (let k = 0; k < 28 * s; k++) modDouble(one, p, s);
  memory.copy(rr, one, NUM_BYTES);
  for (let k = 0; k < 28 * s; k++) modDouble(rr, p, s);
  store<i32>(LIMBS_TAB + (<usize>slot << 2), s);
  store<i32>(BYTES_TAB + (<usize>slot << 2), nbytes);
  return 1;
}

/** SEL = TABLE[idx] by reading every entry and keeping one with a mask (no secret-dependent address). */
function select(idx: u32, s: i32): void {
  const words = s >> 1; // s is even (limbsFor rounds up)
  memory.fill(SEL, 0, <usize>(s << 2));
  for (let k: u32 = 0; k < <u32>TABLE_N; k++) {
    const d = (k ^ idx) as u64;
    const mask: u64 = 0 - ((d - 1) >> 63); // all ones iff k == idx
    const entry = TABLE + <usize>(k * <u32>NUM_BYTES);
    for (let i = 0; i < words; i++) {
      const o = <usize>i << 3;
      store<u64>(SEL + o, load<u64>(SEL + o) | (load<u64>(entry + o) & mask));
    }
  }
}

/** base^exp mod p; see the header for the layout. Returns 1, or 0 when the slot is not set up. */
export function modexp_pow(slot: i32, expLen: i32): i32 {
  const nbytes = modexp_bytes(slot);
  if (nbytes == 0 || expLen < 0 || expLen > nbytes) return 0;
  const s = load<i32>(LIMBS_TAB + (<usize>slot << 2));
  const p = slotPtr(P_TAB, slot, NUM_BYTES);
  const prev = slotPtr(PREV_TAB, slot, NUM_BYTES);
  const n0 = load<u64>(N0_TAB + (<usize>slot << 3));
  const e = IO + <usize>nbytes;

  // TABLE[i] = base^i in Montgomery form. montMul(base, R^2) also reduces a base >= p (base < 2^(32 s)).
  limbsFromBE(TMP, IO, nbytes, s);
  memory.copy(TABLE, slotPtr(ONE_TAB, slot, NUM_BYTES), <usize>NUM_BYTES);
  montMul(TABLE + <usize>NUM_BYTES, TMP, slotPtr(RR_TAB, slot, NUM_BYTES), p, prev, n0, s);
  for (let i = 2; i < TABLE_N; i++) {
    const t = TABLE + <usize>(i * NUM_BYTES);
    montMul(t, t - <usize>NUM_BYTES, TABLE + <usize>NUM_BYTES, p, prev, n0, s);
  }

  // Left to right, WIN bits at a time: WIN squarings, then always one multiplication by a scanned entry.
  const bits = expLen << 3;
  const nwin = (bits + WIN - 1) / WIN;
  memory.copy(ACC, slotPtr(ONE_TAB, slot, NUM_BYTES), <usize>NUM_BYTES);
  for (let wi = nwin - 1; wi >= 0; wi--) {
    const pos = wi * WIN;
    const w = bits - pos < WIN ? bits - pos : WIN; // public: the top window may be narrower
    for (let k = 0; k < w; k++) montSqr(ACC, ACC, p, prev, n0, s);
    select(expWindow(e, expLen, pos, w), s);
    montMul(ACC, ACC, SEL, p, prev, n0, s);
  }

  // Leave Montgomery form: multiply by plain 1.
  memory.fill(TMP, 0, <usize>NUM_BYTES);
  store<u32>(TMP, 1);
  montMul(ACC, ACC, TMP, p, prev, n0, s);
  limbsToBE(IO, ACC, nbytes, s);

  memory.fill(e, 0, <usize>expLen);
  memory.fill(TABLE, 0, <usize>(NUM_BYTES * TABLE_N));
  memory.fill(ACC, 0, <usize>NUM_BYTES);
  memory.fill(SEL, 0, <usize>NUM_BYTES);
  memory.fill(TMP, 0, <usize>NUM_BYTES);
  montWipeScratch();
  return 1;
}

// ---------------------------------------------------------------------------------------------------------
// Legendre symbol by the binary Jacobi algorithm on 64-bit limbs (public input: variable time is fine).

const JA: usize = memory.data(MAX_BYTES + 8, 16);
const JN: usize = memory.data(MAX_BYTES + 8, 16);

/** `nbytes` big-endian bytes (a multiple of 4) -> little-endian 32-bit limbs. */
function be32(r: usize, bytes: usize, nbytes: i32): void {
  const s = nbytes >> 2;
  for (let i = 0; i < s; i++) {
    const o = bytes + <usize>(nbytes - 4 - (i << 2));
    const v = (load<u8>(o) as u32) << 24 | (load<u8>(o + 1) as u32) << 16 | (load<u8>(o + 2) as u32) << 8 | (load<u8>(o + 3) as u32);
    store<u32>(r + (<usize>i << 2), v);
  }
}

// @ts-ignore: decorator
@inline function w64(p: usize, i: i32): u64 {
  return load<u64>(p + (<usize>i << 3));
}

/** Compares a and b of `len` 64-bit words: -1, 0 or 1. */
function cmpWords(a: usize, b: usize, len: i32): i32 {
  for (let i = len - 1; i >= 0; i--) {
    const x = w64(a, i);
    const y = w64(b, i);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

/** a -= b over `len` words (a >= b). */
function subWords(a: usize, b: usize, len: i32): void {
  let borrow: u64 = 0;
  for (let i = 0; i < len; i++) {
    const x = w64(a, i);
    const y = w64(b, i);
    const d = x - y - borrow;
    borrow = <u64>(x < y) | (<u64>(x == y) & borrow); // short chain: one and, one or
    store<u64>(a + (<usize>i << 3), d);
  }
}

/** a >>= sh (0 < sh < 64) over `len` words. */
function shrWords(a: usize, len: i32, sh: u64): void {
  for (let i = 0; i < len - 1; i++) {
    store<u64>(a + (<usize>i << 3), (w64(a, i) >> sh) | (w64(a, i + 1) << (64 - sh)));
  }
  store<u64>(a + (<usize>(len - 1) << 3), w64(a, len - 1) >> sh);
}

// Bits shifted out by the last stripTwos / subShift (a global: returning two values without allocating).
let SHIFTED: i32 = 0;

/**
 * Divides a (`la` significant words, non-zero) by its largest power of two; leaves the number of bits
 * removed in SHIFTED and returns the new length.
 */
function stripTwos(a: usize, la: i32): i32 {
  let zeroWords = 0;
  while (w64(a, zeroWords) == 0) zeroWords++;
  if (zeroWords > 0) {
    memory.copy(a, a + (<usize>zeroWords << 3), <usize>((la - zeroWords) << 3));
    la -= zeroWords;
    memory.fill(a + (<usize>la << 3), 0, <usize>(zeroWords << 3));
  }
  const tz = <i32>ctz<u64>(w64(a, 0));
  if (tz > 0) shrWords(a, la, tz);
  SHIFTED = (zeroWords << 6) + tz;
  return sigWords(a, la);
}

/**
 * a = (a - b) / 2^k with 2^k the largest power of two dividing a - b, for odd a > b (so a - b is even and
 * non-zero; b's words past its length are zero). One pass: each difference word is shifted into place as
 * soon as the next one is known. Leaves k in SHIFTED; returns a's new length.
 */
function subShift(a: usize, b: usize, la: i32): i32 {
  const x0 = w64(a, 0);
  const y0 = w64(b, 0);
  let prev = x0 - y0;
  if (prev == 0) {
    // The low word cancels (rare): subtract, then strip whole words.
    subWords(a, b, la);
    return stripTwos(a, sigWords(a, la));
  }
  let borrow: u64 = <u64>(x0 < y0);
  const tz = ctz<u64>(prev); // 1..63: a - b is even
  const back = 64 - tz;
  for (let i = 1; i < la; i++) {
    const x = w64(a, i);
    const y = w64(b, i);
    const d = x - y - borrow;
    borrow = <u64>(x < y) | (<u64>(x == y) & borrow); // short chain: one and, one or
    store<u64>(a + (<usize>(i - 1) << 3), (prev >> tz) | (d << back));
    prev = d;
  }
  store<u64>(a + (<usize>(la - 1) << 3), prev >> tz);
  SHIFTED = <i32>tz;
  return sigWords(a, la);
}

/** Number of significant words of a (0 for zero). */
function sigWords(a: usize, len: i32): i32 {
  while (len > 0 && w64(a, len - 1) == 0) len--;
  return len;
}

/**
 * (x | p) for x at IO (nbytes big-endian, any value below 2^(8 nbytes)), by the binary Jacobi algorithm:
 * with a odd and b odd, replace the larger by (larger - smaller) / 2^k, applying reciprocity when they swap
 * roles and (2 | b) for each factor of two. The roles swap by exchanging pointers, and the subtraction and
 * the shift are one pass (subShift): ~2.5x faster than separate passes and a copy per swap.
 */
export function modexp_legendre(slot: i32): i32 {
  const nbytes = modexp_bytes(slot);
  if (nbytes == 0) return -2;
  const words = nbytes >> 3;
  // 32-bit little-endian limbs laid out consecutively are the 64-bit little-endian words.
  be32(JA, IO, nbytes);
  memory.copy(JN, slotPtr(P32_TAB, slot, MAX_BYTES), <usize>nbytes);
  let a = JA;
  let b = JN;
  let la = sigWords(a, words);
  let lb = words;
  // x < 2^(32 s) < 2p: one subtraction reduces it mod p.
  if (cmpWords(a, b, words) >= 0) {
    subWords(a, b, words);
    la = sigWords(a, words);
  }
  let t: i32 = 1;
  if (la > 0) {
    la = stripTwos(a, la);
    const b8 = w64(b, 0) & 7; // (2 | b) = -1 iff b = 3, 5 (mod 8)
    if ((SHIFTED & 1) != 0 && (b8 == 3 || b8 == 5)) t = -t;
  }
  // Invariant: a, b odd (or a = 0), and the symbol sought is t (a | b).
  while (la > 0) {
    const c = la != lb ? (la < lb ? -1 : 1) : cmpWords(a, b, la);
    if (c == 0) {
      la = 0; // a = b: gcd(a, b) = b
      break;
    }
    if (c < 0) {
      const p = a;
      a = b;
      b = p;
      const l = la;
      la = lb;
      lb = l;
      if ((w64(a, 0) & 3) == 3 && (w64(b, 0) & 3) == 3) t = -t;
    }
    la = subShift(a, b, la);
    const b8 = w64(b, 0) & 7;
    if ((SHIFTED & 1) != 0 && (b8 == 3 || b8 == 5)) t = -t;
  }
  // a = 0: the symbol is t when b = 1 (gcd 1), else 0.
  const isOne = lb == 1 && w64(b, 0) == 1;
  memory.fill(JA, 0, <usize>(MAX_BYTES + 8));
  memory.fill(JN, 0, <usize>(MAX_BYTES + 8));
  return isOne ? t : 0;
}
