// Montgomery arithmetic modulo an odd multi-limb modulus (the RFC 3526 MODP primes), constant time.
//
// Numbers are little-endian arrays of `s` 32-bit limbs in linear memory. WebAssembly has no 64x64->128
// multiply, so limbs are 32 bits and every product is an exact u64. Multiplication is product scanning
// (Comba; Koc's "FIPS" interleaving of the Montgomery reduction): each output column is summed with the
// 64-bit products split into a low and a high accumulator, so the products of one column are independent of
// each other (no carry chain through the multiplier, which is what makes operand scanning latency-bound).
//
// Every routine here runs in time that depends only on `s`: no branch or address depends on limb values.
// Callers pass distinct buffers for inputs and outputs unless a comment says aliasing is allowed.

/** Largest modulus handled, in limbs: 3072 bits. */
export const MAX_LIMBS: i32 = 96;
/** Bytes of one full-size number. */
export const NUM_BYTES: i32 = MAX_LIMBS * 4;

const LO: u64 = 0xffffffff;

// Scratch for one product: the reduction multipliers m[0..s) and the result before the final subtraction.
const M_BUF: usize = memory.data(NUM_BYTES + 8, 16);
const T_BUF: usize = memory.data(NUM_BYTES + 8, 16);

/** Zeroes the scratch that held intermediate products of secret values. */
export function montWipeScratch(): void {
  memory.fill(M_BUF, 0, NUM_BYTES + 8);
  memory.fill(T_BUF, 0, NUM_BYTES + 8);
}

// @ts-ignore: decorator
@inline function limb(p: usize, i: i32): u64 {
  return load<u32>(p + (<usize>i << 2)) as u64;
}

// @ts-ignore: decorator
@inline function setLimb(p: usize, i: i32, v: u64): void {
  store<u32>(p + (<usize>i << 2), v as u32);
}

/**
 * r = t mod p for t = T_BUF[0..s] (s + 1 limbs, t < 2p): subtracts p when t >= p, chosen by a mask.
 * r may be any buffer (it is written only after T_BUF is fully read limb by limb).
 */
function finalSubtract(r: usize, p: usize, s: i32): void {
  // d = t - p over s limbs, keeping the borrow.
  let borrow: u64 = 0;
  for (let i = 0; i < s; i++) {
    const d = limb(T_BUF, i) - limb(p, i) - borrow;
    setLimb(M_BUF, i, d); // M_BUF is free again once the product is done
    borrow = (d >> 32) & 1;
  }
  // Subtract when the top carry limb is set or when there was no borrow.
  const top = limb(T_BUF, s);
  const useD: u64 = (top | (borrow ^ 1)) & 1;
  const mask: u64 = 0 - useD;
  for (let i = 0; i < s; i++) {
    setLimb(r, i, (limb(M_BUF, i) & mask) | (limb(T_BUF, i) & ~mask));
  }
}

/**
 * r = a * b * 2^(-32 s) mod p, fully reduced, for a * b < 2^(32 s) * p (so a < 2^(32 s), b < p will do).
 * `n0` = -p^(-1) mod 2^32. r may alias a or b.
 */
export function montMul(r: usize, a: usize, b: usize, p: usize, n0: u32, s: i32): void {
  let lo: u64 = 0;
  let hi: u64 = 0;
  // Low half: column i gets a[j] b[i-j] and m[j] p[i-j]; m[i] is chosen to clear it.
  for (let i = 0; i < s; i++) {
    for (let j = 0; j < i; j++) {
      const x = limb(a, j) * limb(b, i - j);
      const y = limb(M_BUF, j) * limb(p, i - j);
      lo += (x & LO) + (y & LO);
      hi += (x >> 32) + (y >> 32);
    }
    const x = limb(a, i) * limb(b, 0);
    lo += x & LO;
    hi += x >> 32;
    const mi = ((lo as u32) * n0) as u64;
    setLimb(M_BUF, i, mi);
    const y = mi * limb(p, 0);
    lo += y & LO;
    hi += y >> 32;
    lo = (lo >> 32) + hi; // the low 32 bits are zero by construction of m[i]
    hi = 0;
  }
  // High half: columns s..2s-1 are the result (divided by 2^(32 s)).
  for (let i = s; i < 2 * s; i++) {
    for (let j = i - s + 1; j < s; j++) {
      const x = limb(a, j) * limb(b, i - j);
      const y = limb(M_BUF, j) * limb(p, i - j);
      lo += (x & LO) + (y & LO);
      hi += (x >> 32) + (y >> 32);
    }
    setLimb(T_BUF, i - s, lo);
    lo = (lo >> 32) + hi;
    hi = 0;
  }
  setLimb(T_BUF, s, lo);
  finalSubtract(r, p, s);
}

/** r = a^2 * 2^(-32 s) mod p for a < p: montMul(r, a, a) with the symmetric products counted once. */
export function montSqr(r: usize, a: usize, p: usize, n0: u32, s: i32): void {
  let lo: u64 = 0;
  let hi: u64 = 0;
  for (let i = 0; i < s; i++) {
    // Off-diagonal products a[j] a[i-j], j < i-j, each counted twice.
    let slo: u64 = 0;
    let shi: u64 = 0;
    for (let j = 0; 2 * j < i; j++) {
      const x = limb(a, j) * limb(a, i - j);
      slo += x & LO;
      shi += x >> 32;
    }
    lo += slo << 1;
    hi += shi << 1;
    if ((i & 1) == 0) {
      // public condition: depends on the column index only
      const x = limb(a, i >> 1) * limb(a, i >> 1);
      lo += x & LO;
      hi += x >> 32;
    }
    for (let j = 0; j < i; j++) {
      const y = limb(M_BUF, j) * limb(p, i - j);
      lo += y & LO;
      hi += y >> 32;
    }
    const mi = ((lo as u32) * n0) as u64;
    setLimb(M_BUF, i, mi);
    const y = mi * limb(p, 0);
    lo += y & LO;
    hi += y >> 32;
    lo = (lo >> 32) + hi;
    hi = 0;
  }
  for (let i = s; i < 2 * s; i++) {
    let slo: u64 = 0;
    let shi: u64 = 0;
    for (let j = i - s + 1; 2 * j < i; j++) {
      const x = limb(a, j) * limb(a, i - j);
      slo += x & LO;
      shi += x >> 32;
    }
    lo += slo << 1;
    hi += shi << 1;
    if ((i & 1) == 0) {
      const x = limb(a, i >> 1) * limb(a, i >> 1);
      lo += x & LO;
      hi += x >> 32;
    }
    for (let j = i - s + 1; j < s; j++) {
      const y = limb(M_BUF, j) * limb(p, i - j);
      lo += y & LO;
      hi += y >> 32;
    }
    setLimb(T_BUF, i - s, lo);
    lo = (lo >> 32) + hi;
    hi = 0;
  }
  setLimb(T_BUF, s, lo);
  finalSubtract(r, p, s);
}

/** -p^(-1) mod 2^32 for odd p0 (Newton iteration doubles the correct bits each step: 1 -> 2 -> ... -> 32). */
export function negInv32(p0: u32): u32 {
  let x: u32 = p0; // correct to 3 bits for odd p0 (p0 * p0 = 1 mod 8)
  for (let k = 0; k < 4; k++) x = x * (2 - p0 * x);
  return 0 - x;
}

/** x = 2 x mod p in place, for x < p (setup only; p public). */
export function modDouble(x: usize, p: usize, s: i32): void {
  let carry: u64 = 0;
  for (let i = 0; i < s; i++) {
    const v = (limb(x, i) << 1) | carry;
    setLimb(T_BUF, i, v);
    carry = v >> 32;
  }
  setLimb(T_BUF, s, carry);
  finalSubtract(x, p, s);
}

/** Big-endian bytes (exactly 4 s of them) -> s little-endian limbs. */
export function limbsFromBE(r: usize, bytes: usize, s: i32): void {
  const n = s << 2;
  for (let i = 0; i < s; i++) {
    const o = bytes + <usize>(n - 4 - (i << 2));
    const v = (load<u8>(o) as u32) << 24 | (load<u8>(o + 1) as u32) << 16 | (load<u8>(o + 2) as u32) << 8 | (load<u8>(o + 3) as u32);
    store<u32>(r + (<usize>i << 2), v);
  }
}

/** s little-endian limbs -> 4 s big-endian bytes. */
export function limbsToBE(bytes: usize, x: usize, s: i32): void {
  const n = s << 2;
  for (let i = 0; i < s; i++) {
    const o = bytes + <usize>(n - 4 - (i << 2));
    const v = load<u32>(x + (<usize>i << 2));
    store<u8>(o, (v >> 24) as u8);
    store<u8>(o + 1, (v >> 16) as u8);
    store<u8>(o + 2, (v >> 8) as u8);
    store<u8>(o + 3, v as u8);
  }
}
