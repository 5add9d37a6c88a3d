// Scalars modulo q = 2^446 - 13818066809895115352007386748515426880336692474882178609894547503885, the order
// of the edwards448 prime-order subgroup.
//
// A scalar is 16 little-endian limbs of 28 bits in u32s (64 bytes at a fixed address), like a field element.
// Arithmetic is Montgomery's with R = 2^448: montMul(a, b) = a*b/R mod q. Reducing a wide integer
// x = x0 + x1*R + x2*R^2 (x0, x1 < R) is then montMul(x0, R) + montMul(x1, R^2) + montMul(x2, R^3), all
// mod q, with R^k mod q precomputed. Every loop has a fixed trip count and selection is by mask: the running
// time depends on no scalar value. Scalar work is rare (a few calls per signature), so clarity beats unrolling.

export type Sc = usize;
export const SC_SIZE: usize = 64;

const M: u64 = 0xfffffff;

// q, -q^-1 mod 2^28, and R, R^2, R^3 mod q, in 28-bit limbs (checked against BigInt in the tests through
// every reduction they feed).
const Q: usize = memory.data<u32>([
  0xb5844f3, 0x78c292a, 0x58f5523, 0xc2728dc, 0x690216c, 0x49aed63, 0x9c44edb, 0x7cca23e,
  0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0x3ffffff,
]);
const QINV: u64 = 0xe918bc5;
const R1: usize = memory.data<u32>([
  0x29eec34, 0x1cf5b55, 0x9c2ab72, 0xf635c8e, 0x5bf7a4c, 0xd944a72, 0x8eec492, 0x0cd7705,
  0x0000002, 0x0000000, 0x0000000, 0x0000000, 0x0000000, 0x0000000, 0x0000000, 0x0000000,
]);
const R2: usize = memory.data<u32>([
  0x49b9b60, 0x5392570, 0x195d9e3, 0x2c4bc1b, 0x8597af3, 0x2388ea1, 0x80d66de, 0x5ee4d83,
  0xe17cf72, 0xc47c44a, 0xcc14ba3, 0x70af1a9, 0xcb7e4d0, 0x292052b, 0x9f823b7, 0x3402a93,
]);
const R3: usize = memory.data<u32>([
  0xf9b74ed, 0xdb79e25, 0x1d63662, 0x33584f6, 0x96432d5, 0x8b5fa74, 0xa3e0d0c, 0x878dfcd,
  0x78769ed, 0x54b8421, 0x71af867, 0x736de4c, 0x7f42bab, 0xf1ed66e, 0x69d3af5, 0x0d30a4f,
]);

// 32 columns of u64 for a product and its Montgomery reduction.
const T: usize = memory.data(32 * 8, 16);

@inline
function limb(a: Sc, i: usize): u64 {
  return <u64>load<u32>(a + (i << 2));
}

/** o = a - q if a >= q, else a. Requires a < 2q with limbs < 2^28; computes both and picks by mask. */
function condSubQ(o: Sc, a: Sc): void {
  const d = CS_D;
  let borrow: i64 = 0;
  for (let i: usize = 0; i < 16; i++) {
    const x = <i64>limb(a, i) - <i64>limb(Q, i) + borrow;
    store<u32>(d + (i << 2), <u32>(x & <i64>M));
    borrow = x >> 28; // 0 or -1 (arithmetic shift)
  }
  const keep = <u32>borrow; // all-ones when a < q
  for (let i: usize = 0; i < 64; i += 4) {
    const x = load<u32>(a + i), y = load<u32>(d + i);
    store<u32>(o + i, (x & keep) | (y & ~keep));
  }
  memory.fill(d, 0, 64);
}
const CS_D: usize = memory.data(64, 16);

/** o = a*b/R mod q, fully reduced. Needs a*b < R*q (e.g. a < R and b < q); o may alias a or b. */
export function scMontMul(o: Sc, a: Sc, b: Sc): void {
  memory.fill(T, 0, 32 * 8);
  // Columns of the product: each < 16 * 2^56 = 2^60.
  for (let i: usize = 0; i < 16; i++) {
    const ai = limb(a, i);
    for (let j: usize = 0; j < 16; j++) {
      const p = T + ((i + j) << 3);
      store<u64>(p, load<u64>(p) + ai * limb(b, j));
    }
  }
  // REDC one limb at a time: add m*q*2^(28i) to clear column i, pass its carry on. Columns stay < 2^62.
  for (let i: usize = 0; i < 16; i++) {
    const ti = T + (i << 3);
    const m = ((load<u64>(ti) & M) * QINV) & M;
    for (let j: usize = 0; j < 16; j++) {
      const p = ti + (j << 3);
      store<u64>(p, load<u64>(p) + m * limb(Q, j));
    }
    store<u64>(ti + 8, load<u64>(ti + 8) + (load<u64>(ti) >> 28));
  }
  // The upper 16 columns hold a value < 2q < 2^448: carry them into 28-bit limbs.
  const r = MM_R;
  let carry: u64 = 0;
  for (let i: usize = 0; i < 16; i++) {
    const c = load<u64>(T + ((16 + i) << 3)) + carry;
    store<u32>(r + (i << 2), <u32>(c & M));
    carry = c >> 28;
  }
  condSubQ(o, r);
  memory.fill(T, 0, 32 * 8);
  memory.fill(r, 0, 64);
}
const MM_R: usize = memory.data(64, 16);

/** o = (a + b) mod q for a, b < q. */
export function scAdd(o: Sc, a: Sc, b: Sc): void {
  let carry: u64 = 0;
  for (let i: usize = 0; i < 16; i++) {
    const c = limb(a, i) + limb(b, i) + carry;
    store<u32>(o + (i << 2), <u32>(c & M));
    carry = c >> 28;
  }
  condSubQ(o, o);
}

/** Reads n <= 56 little-endian bytes at src into limbs (missing bytes are zero). */
function fromBytes(o: Sc, src: usize, n: usize): void {
  memory.fill(o, 0, 64);
  for (let k: usize = 0; k < n; k++) {
    const bit = k << 3;
    const i = bit / 28, sh = bit % 28;
    const v = <u64>load<u8>(src + k) << sh;
    store<u32>(o + (i << 2), load<u32>(o + (i << 2)) | <u32>(v & M));
    if (sh > 20) store<u32>(o + ((i + 1) << 2), load<u32>(o + ((i + 1) << 2)) | <u32>(v >> 28));
  }
}

/** o = (little-endian integer of 114 bytes at src) mod q. */
export function scReduceWide(o: Sc, src: usize): void {
  const x = RW_X, acc = RW_ACC;
  fromBytes(x, src, 56);
  scMontMul(acc, x, R1);
  fromBytes(x, src + 56, 56);
  scMontMul(x, x, R2);
  scAdd(acc, acc, x);
  fromBytes(x, src + 112, 2);
  scMontMul(x, x, R3);
  scAdd(o, acc, x);
  memory.fill(x, 0, 64);
  memory.fill(acc, 0, 64);
}
const RW_X: usize = memory.data(64, 16);
const RW_ACC: usize = memory.data(64, 16);

// 4q and 2q in 28-bit limbs, for the subtraction cascade of `scReduce57`.
const Q4: usize = memory.data<u32>([
  0xd6113cc, 0xe30a4aa, 0x63d548d, 0x09ca371, 0xa4085b3, 0x26bb58d, 0x7113b6d, 0xf3288fa,
  0xffffffd, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0,
]);
const Q2: usize = memory.data<u32>([
  0x6b089e6, 0xf185255, 0xb1eaa46, 0x84e51b8, 0xd2042d9, 0x935dac6, 0x3889db6, 0xf99447d,
  0xffffffe, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0x7ffffff, 0,
]);
const Q1: usize = memory.data<u32>([
  0xb5844f3, 0x78c292a, 0x58f5523, 0xc2728dc, 0x690216c, 0x49aed63, 0x9c44edb, 0x7cca23e,
  0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0xfffffff, 0x3ffffff, 0,
]);
const R57_X: usize = memory.data(17 * 8, 16);
const R57_D: usize = memory.data(17 * 8, 16);

/** R57_X = R57_X - kq if that is >= 0, else unchanged (17 limbs; both computed, one kept by mask). */
function condSubMultiple(kq: usize): void {
  let borrow: i64 = 0;
  for (let i: usize = 0; i < 17; i++) {
    const x = load<i64>(R57_X + (i << 3)) - <i64>load<u32>(kq + (i << 2)) + borrow;
    store<i64>(R57_D + (i << 3), x & <i64>M);
    borrow = x >> 28; // 0 or -1
  }
  const keep = borrow; // all-ones when the difference is negative
  for (let i: usize = 0; i < 136; i += 8) {
    const x = load<i64>(R57_X + i);
    store<i64>(R57_X + i, x ^ ((x ^ load<i64>(R57_D + i)) & ~keep));
  }
}

/** o = (little-endian integer of 57 bytes at src) mod q, the width of every scalar and point argument, with no
 *  multiplication (scReduceWide makes three). With q = 2^446 - delta, 2^448 = 4*delta (mod q) = R1, so the
 *  value is lo + hi*R1 with lo < 2^448 (bytes 0..55) and hi < 2^8 (byte 56): below 2^448 + 2^234 < 8q, so
 *  subtracting 4q, 2q and q where they fit leaves it below q. Constant time. */
export function scReduce57(o: Sc, src: usize): void {
  fromBytes(o, src, 56);
  const hi = <i64>load<u8>(src + 56);
  let carry: i64 = 0;
  for (let i: usize = 0; i < 16; i++) {
    carry += <i64>limb(o, i) + hi * <i64>limb(R1, i);
    store<i64>(R57_X + (i << 3), carry & <i64>M);
    carry >>= 28;
  }
  store<i64>(R57_X + 128, carry);
  condSubMultiple(Q4);
  condSubMultiple(Q2);
  condSubMultiple(Q1);
  for (let i: usize = 0; i < 16; i++) store<u32>(o + (i << 2), <u32>load<i64>(R57_X + (i << 3)));
  memory.fill(R57_X, 0, 136);
  memory.fill(R57_D, 0, 136);
}

/** o = a*b + c mod q for a, b, c < q. */
export function scMulAdd(o: Sc, a: Sc, b: Sc, c: Sc): void {
  const t = MA_T;
  scMontMul(t, a, b); // ab/R
  scMontMul(t, t, R2); // ab
  scAdd(o, t, c);
  memory.fill(t, 0, 64);
}
const MA_T: usize = memory.data(64, 16);

/** Writes the canonical 57-byte little-endian encoding of a reduced scalar (the top byte is always 0). */
export function scToBytes(dst: usize, a: Sc): void {
  for (let j: usize = 0; j < 8; j++) {
    const v = limb(a, 2 * j) | (limb(a, 2 * j + 1) << 28);
    for (let k: usize = 0; k < 7; k++) store<u8>(dst + 7 * j + k, <u8>(v >> (8 * k)));
  }
  store<u8>(dst + 56, 0);
}

export function scWipe(a: Sc): void {
  memory.fill(a, 0, SC_SIZE);
}
