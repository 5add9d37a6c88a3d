// RFC 8439 ChaCha20 with WebAssembly SIMD: four consecutive blocks per step, one block per v128 lane.
//
// The same calling convention as assembly/chacha20.ts (the adapter drives both alike):
//   IO[0..32) key, IO[32..44) nonce, chacha20_data() .. + len data XORed in place;
//   chacha20_xor(len, counter), after which the key and nonce are wiped from the I/O region.
// Word i of the state is one v128 holding word i of blocks counter .. counter + 3, so the rounds are the
// scalar rounds on vectors; a 4x4 transpose per group of four words turns the lanes back into block bytes.
// A final run of fewer than 256 bytes goes through a scratch area that is wiped. Only lengths branch.
//
// One or two blocks cost less in the scalar kernel than a four-block step (measured in V8: one block 0.09 us
// scalar vs 0.22 us as a 4-block step; two 0.18 vs 0.22; three 0.26 vs 0.22), so when the block count is 1 or 2
// modulo 4 those leading whole blocks go to the scalar kernel of assembly/chacha20.ts, called last because
// it is also what wipes the key.
import { IO, IO_SIZE, wipe } from '../io';
import { chacha20_data, chacha20_xor as scalarXor } from '../chacha20';

export { chacha20_data };

const KEY: usize = IO;
const NONCE: usize = IO + 32;
const DATA_MAX: i32 = IO_SIZE - 64;
const SCRATCH: usize = memory.data(256, 16);

// Rotations by whole bytes are one byte shuffle; 12 and 7 need two shifts and an OR.
@inline function rot16(v: v128): v128 {
  return i8x16.swizzle(v, i8x16(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
}
@inline function rot8(v: v128): v128 {
  return i8x16.swizzle(v, i8x16(3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14));
}
@inline function rot12(v: v128): v128 {
  return v128.or(i32x4.shl(v, 12), i32x4.shr_u(v, 20));
}
@inline function rot7(v: v128): v128 {
  return v128.or(i32x4.shl(v, 7), i32x4.shr_u(v, 25));
}

/**
 * Words (a, b, c, d) of four blocks -> 16 bytes of each block: lane j of the four vectors is block j, so a
 * 4x4 transpose gives block j's bytes, which go to p + 64j (XORed onto the data, or stored to SCRATCH).
 */
@inline
function transposeXor(a: v128, b: v128, c: v128, d: v128, p: usize, full: bool): void {
  const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(c, d, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  const r0 = i64x2.shuffle(t0, t2, 0, 2);
  const r1 = i64x2.shuffle(t0, t2, 1, 3);
  const r2 = i64x2.shuffle(t1, t3, 0, 2);
  const r3 = i64x2.shuffle(t1, t3, 1, 3);
  if (full) {
    v128.store(p, v128.xor(v128.load(p), r0));
    v128.store(p, v128.xor(v128.load(p, 64), r1), 64);
    v128.store(p, v128.xor(v128.load(p, 128), r2), 128);
    v128.store(p, v128.xor(v128.load(p, 192), r3), 192);
  } else {
    v128.store(p, r0);
    v128.store(p, r1, 64);
    v128.store(p, r2, 128);
    v128.store(p, r3, 192);
  }
}

/** Keystream blocks ctr .. ctr + 3, XORed onto the 256 bytes at p (full) or stored to SCRATCH. */
@inline
function block4(ctr: u32, p: usize, full: bool): void {
  const s0 = i32x4.splat(0x61707865), s1 = i32x4.splat(0x3320646e);
  const s2 = i32x4.splat(0x79622d32), s3 = i32x4.splat(0x6b206574);
  const k0 = i32x4.splat(load<u32>(KEY, 0)), k1 = i32x4.splat(load<u32>(KEY, 4));
  const k2 = i32x4.splat(load<u32>(KEY, 8)), k3 = i32x4.splat(load<u32>(KEY, 12));
  const k4 = i32x4.splat(load<u32>(KEY, 16)), k5 = i32x4.splat(load<u32>(KEY, 20));
  const k6 = i32x4.splat(load<u32>(KEY, 24)), k7 = i32x4.splat(load<u32>(KEY, 28));
  const c = i32x4.add(i32x4.splat(ctr), i32x4(0, 1, 2, 3));
  const n0 = i32x4.splat(load<u32>(NONCE, 0)), n1 = i32x4.splat(load<u32>(NONCE, 4));
  const n2 = i32x4.splat(load<u32>(NONCE, 8));
  let x0 = s0, x1 = s1, x2 = s2, x3 = s3, x4 = k0, x5 = k1, x6 = k2, x7 = k3;
  let x8 = k4, x9 = k5, x10 = k6, x11 = k7, x12 = c, x13 = n0, x14 = n1, x15 = n2;
  for (let i = 0; i < 10; i++) {
    // columns
    x0 = i32x4.add(x0, x4); x12 = rot16(v128.xor(x12, x0));
    x8 = i32x4.add(x8, x12); x4 = rot12(v128.xor(x4, x8));
    x0 = i32x4.add(x0, x4); x12 = rot8(v128.xor(x12, x0));
    x8 = i32x4.add(x8, x12); x4 = rot7(v128.xor(x4, x8));
    x1 = i32x4.add(x1, x5); x13 = rot16(v128.xor(x13, x1));
    x9 = i32x4.add(x9, x13); x5 = rot12(v128.xor(x5, x9));
    x1 = i32x4.add(x1, x5); x13 = rot8(v128.xor(x13, x1));
    x9 = i32x4.add(x9, x13); x5 = rot7(v128.xor(x5, x9));
    x2 = i32x4.add(x2, x6); x14 = rot16(v128.xor(x14, x2));
    x10 = i32x4.add(x10, x14); x6 = rot12(v128.xor(x6, x10));
    x2 = i32x4.add(x2, x6); x14 = rot8(v128.xor(x14, x2));
    x10 = i32x4.add(x10, x14); x6 = rot7(v128.xor(x6, x10));
    x3 = i32x4.add(x3, x7); x15 = rot16(v128.xor(x15, x3));
    x11 = i32x4.add(x11, x15); x7 = rot12(v128.xor(x7, x11));
    x3 = i32x4.add(x3, x7); x15 = rot8(v128.xor(x15, x3));
    x11 = i32x4.add(x11, x15); x7 = rot7(v128.xor(x7, x11));
    // diagonals
    x0 = i32x4.add(x0, x5); x15 = rot16(v128.xor(x15, x0));
    x10 = i32x4.add(x10, x15); x5 = rot12(v128.xor(x5, x10));
    x0 = i32x4.add(x0, x5); x15 = rot8(v128.xor(x15, x0));
    x10 = i32x4.add(x10, x15); x5 = rot7(v128.xor(x5, x10));
    x1 = i32x4.add(x1, x6); x12 = rot16(v128.xor(x12, x1));
    x11 = i32x4.add(x11, x12); x6 = rot12(v128.xor(x6, x11));
    x1 = i32x4.add(x1, x6); x12 = rot8(v128.xor(x12, x1));
    x11 = i32x4.add(x11, x12); x6 = rot7(v128.xor(x6, x11));
    x2 = i32x4.add(x2, x7); x13 = rot16(v128.xor(x13, x2));
    x8 = i32x4.add(x8, x13); x7 = rot12(v128.xor(x7, x8));
    x2 = i32x4.add(x2, x7); x13 = rot8(v128.xor(x13, x2));
    x8 = i32x4.add(x8, x13); x7 = rot7(v128.xor(x7, x8));
    x3 = i32x4.add(x3, x4); x14 = rot16(v128.xor(x14, x3));
    x9 = i32x4.add(x9, x14); x4 = rot12(v128.xor(x4, x9));
    x3 = i32x4.add(x3, x4); x14 = rot8(v128.xor(x14, x3));
    x9 = i32x4.add(x9, x14); x4 = rot7(v128.xor(x4, x9));
  }
  x0 = i32x4.add(x0, s0); x1 = i32x4.add(x1, s1); x2 = i32x4.add(x2, s2); x3 = i32x4.add(x3, s3);
  x4 = i32x4.add(x4, k0); x5 = i32x4.add(x5, k1); x6 = i32x4.add(x6, k2); x7 = i32x4.add(x7, k3);
  x8 = i32x4.add(x8, k4); x9 = i32x4.add(x9, k5); x10 = i32x4.add(x10, k6); x11 = i32x4.add(x11, k7);
  x12 = i32x4.add(x12, c); x13 = i32x4.add(x13, n0); x14 = i32x4.add(x14, n1); x15 = i32x4.add(x15, n2);
  transposeXor(x0, x1, x2, x3, p + 0, full);
  transposeXor(x4, x5, x6, x7, p + 16, full);
  transposeXor(x8, x9, x10, x11, p + 32, full);
  transposeXor(x12, x13, x14, x15, p + 48, full);
}

/** XOR keystream blocks ctr, ctr + 1, ... onto `len` bytes at `p`, four blocks per step. Leaves the key. */
function xor4(p: usize, len: i32, ctr: u32): void {
  for (; len >= 256; len -= 256) {
    block4(ctr, p, true);
    p += 256;
    ctr += 4;
  }
  if (len > 0) {
    block4(ctr, SCRATCH, false);
    let i = 0;
    for (; i + 16 <= len; i += 16) v128.store(p + i, v128.xor(v128.load(p + i), v128.load(SCRATCH + i)));
    for (; i < len; i++) store<u8>(p + i, load<u8>(p + i) ^ load<u8>(SCRATCH + i));
    wipe(SCRATCH, 256);
  }
}

export function chacha20_xor(len: i32, counter: u32): void {
  if (<u32>len > <u32>DATA_MAX) unreachable();
  const blocks = (len + 63) >> 6;
  // Bytes for the scalar kernel: everything when there are at most two blocks, else the leading one or two
  // whole blocks that would otherwise make the last four-block step mostly wasted.
  let scalarLen = len;
  if (blocks > 2) {
    const lead = blocks & 3;
    scalarLen = lead == 3 ? 0 : lead << 6;
    xor4(chacha20_data() + scalarLen, len - scalarLen, counter + (<u32>scalarLen >> 6));
  }
  scalarXor(scalarLen, counter); // wipes the key and nonce, also when scalarLen is 0
}
