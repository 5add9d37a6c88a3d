// The Jacobi symbol (x | n) for the DH groups' validity check, by batches of 30 "posdivsteps" (the
// Bernstein–Yang division steps in the variant that keeps both values positive, with the symbol tracked from
// their low bits, as libsecp256k1's jacobi32_maybe_var does; the algorithm is public, this is our code).
// Each batch decides 30 steps from the low 32 bits of f and g alone, collects them in a 2x2 matrix with
// entries below 2^30 and applies it to the full numbers once: ~250 passes over 30-bit limbs for 3072 bits
// instead of the ~4,000 full-length subtract-and-shift passes of the binary algorithm (modexp_legendre).
//
//   jacobi_var(nbytes)   x at IO, an odd modulus n (n > 2^(8 nbytes - 1), as every MODP prime) at IO + nbytes,
//                        both big-endian, nbytes <= 384: returns (x | n) in {-1, 1}, 0 for x ≡ 0 (mod n), or 2
//                        when the steps have not converged within the cap (never seen; the caller then asks the
//                        binary algorithm, which decides every case).
//   jacobiVar(src, nbytes) the same on x at src and n at src + nbytes (fe448.ts feIsSquareVar, for p).
//
// Why it is exact: adding a multiple of f to g leaves (g | f) unchanged, halving g multiplies it by (2 | f) =
// -1 iff f ≡ 3, 5 (mod 8), and swapping two positive odd values multiplies it by -1 iff both are ≡ 3 (mod 4)
// (reciprocity); every such decision reads only the low bits, which the batch knows exactly (32 known bits
// for 30 steps: each halving costs one, the symbol needs two). The values stay positive and at most n, and
// converge to f = g = gcd(x, n) = 1 for x ≢ 0 mod a prime n: (g | 1) = 1, so the symbol is the sign tracked.
// VARIABLE time: branches on x (public: a received DH value).
import { IO } from './io';

const MAX_BYTES: i32 = 384;
const L_MAX: i32 = (MAX_BYTES * 8) / 30 + 2; // 30-bit limbs, with room for the top carry
const M30: u64 = 0x3fffffff;
/** Batches before giving up: ~2.3 n bits of steps are typical; 4 n bits is far beyond any input seen. */
const CAP_FACTOR: i32 = 4;

const F: usize = memory.data(L_MAX * 4, 16);
const G: usize = memory.data(L_MAX * 4, 16);

@inline function limb(a: usize, i: i32): u64 {
  return <u64>load<u32>(a + (<usize>i << 2));
}
@inline function setLimb(a: usize, i: i32, v: u64): void {
  store<u32>(a + (<usize>i << 2), <u32>v);
}

/** Reads nbytes big-endian at src into 30-bit little-endian limbs at dst (len limbs, zero-filled). */
function fromBE(dst: usize, src: usize, nbytes: i32, len: i32): void {
  memory.fill(dst, 0, <usize>(len << 2));
  let acc: u64 = 0;
  let bits: i32 = 0;
  let k: i32 = 0;
  for (let i = nbytes - 1; i >= 0; i--) {
    acc |= <u64>load<u8>(src + <usize>i) << <u64>bits;
    bits += 8;
    if (bits >= 30) {
      setLimb(dst, k++, acc & M30);
      acc >>= 30;
      bits -= 30;
    }
  }
  if (bits > 0) setLimb(dst, k, acc);
}

// The batch's matrix and state, returned through globals (AssemblyScript has no tuples).
let tu: u32 = 0;
let tv: u32 = 0;
let tq: u32 = 0;
let tr: u32 = 0;
let jac: u32 = 0;

/** 30 posdivsteps on the low 32 bits f0, g0; returns the new eta, sets the matrix and updates jac. */
function posdivsteps30(eta: i32, f0: u32, g0: u32): i32 {
  let u: u32 = 1, v: u32 = 0, q: u32 = 0, r: u32 = 1;
  let f = f0, g = g0;
  let i: i32 = 30;
  let j = jac;
  for (;;) {
    // Count zeros only up to i (a sentinel bit), and do that many halvings of g at once.
    const zeros = <i32>ctz<u32>(g | (<u32>0xffffffff << <u32>i));
    g >>= <u32>zeros;
    u <<= <u32>zeros;
    v <<= <u32>zeros;
    eta -= zeros;
    i -= zeros;
    // Halving by an odd power of 2 flips the symbol when f ≡ 3, 5 (mod 8).
    j ^= <u32>zeros & ((f >> 1) ^ (f >> 2));
    if (i == 0) break;
    let w: u32;
    if (eta < 0) {
      eta = -eta;
      let t = f; f = g; g = t;
      t = u; u = q; q = t;
      t = v; v = r; r = t;
      // Reciprocity: the swap flips the symbol when both are ≡ 3 (mod 4).
      j ^= (f & g) >> 1;
      const limit = eta + 1 > i ? i : eta + 1;
      const m = (<u32>0xffffffff >> <u32>(32 - limit)) & 63;
      // w = -g / f (mod 64): f * (f^2 - 2) is -1/f modulo 64 for odd f.
      w = (f * g * (f * f - 2)) & m;
    } else {
      const limit = eta + 1 > i ? i : eta + 1;
      const m = (<u32>0xffffffff >> <u32>(32 - limit)) & 15;
      w = f + (((f + 1) & 4) << 1); // 1/f (mod 16)
      w = (<u32>0 - w * g) & m;
    }
    g += f * w;
    q += u * w;
    r += v * w;
  }
  tu = u; tv = v; tq = q; tr = r;
  jac = j;
  return eta;
}

/** (f, g) := (u f + v g, q f + r g) / 2^30 over len limbs (exact: the low 30 bits cancel). */
function updateFG(len: i32): void {
  const u = <u64>tu, v = <u64>tv, q = <u64>tq, r = <u64>tr;
  let f = limb(F, 0), g = limb(G, 0);
  let cf = (u * f + v * g) >> 30;
  let cg = (q * f + r * g) >> 30;
  for (let i = 1; i < len; i++) {
    f = limb(F, i);
    g = limb(G, i);
    cf += u * f + v * g;
    cg += q * f + r * g;
    setLimb(F, i - 1, cf & M30);
    setLimb(G, i - 1, cg & M30);
    cf >>= 30;
    cg >>= 30;
  }
  setLimb(F, len - 1, cf);
  setLimb(G, len - 1, cg);
}

export function jacobi_var(nbytes: i32): i32 {
  return jacobiVar(IO, nbytes);
}

/** jacobi_var's work on x at src and n at src + nbytes (the same layout anywhere in memory): also the field's
 *  Legendre symbol for the Ed448 subgroup check (fe448.ts feIsSquareVar, 56 bytes). */
export function jacobiVar(src: usize, nbytes: i32): i32 {
  if (nbytes <= 0 || nbytes > MAX_BYTES) return 2;
  let len = (nbytes * 8) / 30 + 1;
  fromBE(G, src, nbytes, len);
  fromBE(F, src + <usize>nbytes, nbytes, len);
  // x < 2^(8 nbytes) < 2n: one conditional subtraction reduces it mod n.
  let borrow: i64 = 0;
  for (let i = len - 1; i >= 0 && borrow == 0; i--) {
    const d = <i64>limb(G, i) - <i64>limb(F, i);
    if (d != 0) borrow = d < 0 ? -1 : 1;
  }
  if (borrow >= 0) {
    let c: i64 = 0;
    for (let i = 0; i < len; i++) {
      c += <i64>limb(G, i) - <i64>limb(F, i);
      setLimb(G, i, <u64>(c & <i64>M30));
      c >>= 30;
    }
  }
  let zero: u64 = 0;
  for (let i = 0; i < len; i++) zero |= limb(G, i);
  let result: i32 = 2;
  if (zero == 0) result = 0;
  else {
    let eta: i32 = -1;
    jac = 0;
    const cap = CAP_FACTOR * nbytes * 8 / 30 + 8;
    for (let count = 0; count < cap; count++) {
      eta = posdivsteps30(eta, <u32>(limb(F, 0) | (limb(F, 1) << 30)), <u32>(limb(G, 0) | (limb(G, 1) << 30)));
      updateFG(len);
      if (limb(F, 0) == 1) {
        let rest: u64 = 0;
        for (let i = 1; i < len; i++) rest |= limb(F, i);
        if (rest == 0) {
          result = (jac & 1) != 0 ? -1 : 1;
          break;
        }
      }
      if (len > 2 && (limb(F, len - 1) | limb(G, len - 1)) == 0) len--;
    }
  }
  memory.fill(F, 0, <usize>(L_MAX << 2));
  memory.fill(G, 0, <usize>(L_MAX << 2));
  return result;
}
