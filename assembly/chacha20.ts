// RFC 8439 ChaCha20, scalar: one 64-byte block at a time, the whole state in locals.
//
// Calling convention (offsets from the start of the I/O region; the adapter streams large data by chunks):
//   IO[0..32)  key        IO[32..44) nonce       IO[CHACHA_DATA..CHACHA_DATA + len) data, XORed in place
//   chacha20_xor(len, counter)   keystream blocks counter, counter + 1, ... (mod 2^32: the adapter refuses
//                                counters that would wrap) XORed onto the data; then the key and nonce are
//                                wiped from the I/O region, so the adapter writes them again for every chunk.
//   chacha20_data()              address of the data area; its size is IO_SIZE - 64, a whole number of blocks.
// The key only ever sits in the I/O region and in locals; a final partial block goes through a scratch block
// that is wiped. Branches depend on lengths only.
import { IO, IO_SIZE, wipe, wipeSmall } from './io';

const KEY: usize = IO;
const NONCE: usize = IO + 32;
const DATA: usize = IO + 64;
const DATA_MAX: i32 = IO_SIZE - 64;
const SCRATCH: usize = memory.data(64, 16);

/**
 * The keystream block of the 32-byte key at `key` and state words 12..15 (counter and nonce). With `full`,
 * XORed onto the 64 bytes at `p`; otherwise stored to `p` (SCRATCH for a final partial block, or the record
 * AEAD's key derivation: chacha20_block).
 */
@inline
function block(key: usize, ctr: u32, n0: u32, n1: u32, n2: u32, p: usize, full: bool): void {
  // "expand 32-byte k", little-endian words (RFC 8439 §2.3).
  const k0 = load<u32>(key, 0), k1 = load<u32>(key, 4), k2 = load<u32>(key, 8), k3 = load<u32>(key, 12);
  const k4 = load<u32>(key, 16), k5 = load<u32>(key, 20), k6 = load<u32>(key, 24), k7 = load<u32>(key, 28);
  let x0: u32 = 0x61707865, x1: u32 = 0x3320646e, x2: u32 = 0x79622d32, x3: u32 = 0x6b206574;
  let x4 = k0, x5 = k1, x6 = k2, x7 = k3, x8 = k4, x9 = k5, x10 = k6, x11 = k7;
  let x12 = ctr, x13 = n0, x14 = n1, x15 = n2;
  for (let i = 0; i < 10; i++) {
    // columns
    x0 = x0 + x4; x12 = rotl<u32>(x12 ^ x0, 16);
    x8 = x8 + x12; x4 = rotl<u32>(x4 ^ x8, 12);
    x0 = x0 + x4; x12 = rotl<u32>(x12 ^ x0, 8);
    x8 = x8 + x12; x4 = rotl<u32>(x4 ^ x8, 7);
    x1 = x1 + x5; x13 = rotl<u32>(x13 ^ x1, 16);
    x9 = x9 + x13; x5 = rotl<u32>(x5 ^ x9, 12);
    x1 = x1 + x5; x13 = rotl<u32>(x13 ^ x1, 8);
    x9 = x9 + x13; x5 = rotl<u32>(x5 ^ x9, 7);
    x2 = x2 + x6; x14 = rotl<u32>(x14 ^ x2, 16);
    x10 = x10 + x14; x6 = rotl<u32>(x6 ^ x10, 12);
    x2 = x2 + x6; x14 = rotl<u32>(x14 ^ x2, 8);
    x10 = x10 + x14; x6 = rotl<u32>(x6 ^ x10, 7);
    x3 = x3 + x7; x15 = rotl<u32>(x15 ^ x3, 16);
    x11 = x11 + x15; x7 = rotl<u32>(x7 ^ x11, 12);
    x3 = x3 + x7; x15 = rotl<u32>(x15 ^ x3, 8);
    x11 = x11 + x15; x7 = rotl<u32>(x7 ^ x11, 7);
    // diagonals
    x0 = x0 + x5; x15 = rotl<u32>(x15 ^ x0, 16);
    x10 = x10 + x15; x5 = rotl<u32>(x5 ^ x10, 12);
    x0 = x0 + x5; x15 = rotl<u32>(x15 ^ x0, 8);
    x10 = x10 + x15; x5 = rotl<u32>(x5 ^ x10, 7);
    x1 = x1 + x6; x12 = rotl<u32>(x12 ^ x1, 16);
    x11 = x11 + x12; x6 = rotl<u32>(x6 ^ x11, 12);
    x1 = x1 + x6; x12 = rotl<u32>(x12 ^ x1, 8);
    x11 = x11 + x12; x6 = rotl<u32>(x6 ^ x11, 7);
    x2 = x2 + x7; x13 = rotl<u32>(x13 ^ x2, 16);
    x8 = x8 + x13; x7 = rotl<u32>(x7 ^ x8, 12);
    x2 = x2 + x7; x13 = rotl<u32>(x13 ^ x2, 8);
    x8 = x8 + x13; x7 = rotl<u32>(x7 ^ x8, 7);
    x3 = x3 + x4; x14 = rotl<u32>(x14 ^ x3, 16);
    x9 = x9 + x14; x4 = rotl<u32>(x4 ^ x9, 12);
    x3 = x3 + x4; x14 = rotl<u32>(x14 ^ x3, 8);
    x9 = x9 + x14; x4 = rotl<u32>(x4 ^ x9, 7);
  }
  x0 += 0x61707865; x1 += 0x3320646e; x2 += 0x79622d32; x3 += 0x6b206574;
  x4 += k0; x5 += k1; x6 += k2; x7 += k3; x8 += k4; x9 += k5; x10 += k6; x11 += k7;
  x12 += ctr; x13 += n0; x14 += n1; x15 += n2;
  if (full) {
    store<u32>(p, load<u32>(p, 0) ^ x0, 0);
    store<u32>(p, load<u32>(p, 4) ^ x1, 4);
    store<u32>(p, load<u32>(p, 8) ^ x2, 8);
    store<u32>(p, load<u32>(p, 12) ^ x3, 12);
    store<u32>(p, load<u32>(p, 16) ^ x4, 16);
    store<u32>(p, load<u32>(p, 20) ^ x5, 20);
    store<u32>(p, load<u32>(p, 24) ^ x6, 24);
    store<u32>(p, load<u32>(p, 28) ^ x7, 28);
    store<u32>(p, load<u32>(p, 32) ^ x8, 32);
    store<u32>(p, load<u32>(p, 36) ^ x9, 36);
    store<u32>(p, load<u32>(p, 40) ^ x10, 40);
    store<u32>(p, load<u32>(p, 44) ^ x11, 44);
    store<u32>(p, load<u32>(p, 48) ^ x12, 48);
    store<u32>(p, load<u32>(p, 52) ^ x13, 52);
    store<u32>(p, load<u32>(p, 56) ^ x14, 56);
    store<u32>(p, load<u32>(p, 60) ^ x15, 60);
  } else {
    store<u32>(p, x0, 0);
    store<u32>(p, x1, 4);
    store<u32>(p, x2, 8);
    store<u32>(p, x3, 12);
    store<u32>(p, x4, 16);
    store<u32>(p, x5, 20);
    store<u32>(p, x6, 24);
    store<u32>(p, x7, 28);
    store<u32>(p, x8, 32);
    store<u32>(p, x9, 36);
    store<u32>(p, x10, 40);
    store<u32>(p, x11, 44);
    store<u32>(p, x12, 48);
    store<u32>(p, x13, 52);
    store<u32>(p, x14, 56);
    store<u32>(p, x15, 60);
  }
}

/**
 * One keystream block (RFC 8439 §2.3, with the feed-forward) of the key at `key` and state words 12..15 into
 * the 64 bytes at `out`: the record AEAD's HChaCha20 and Poly1305 key block (assembly/aead.ts) without a
 * quarter round through memory. The caller wipes `out`.
 */
export function chacha20_block(key: usize, w12: u32, w13: u32, w14: u32, w15: u32, out: usize): void {
  block(key, w12, w13, w14, w15, out, false);
}

export function chacha20_data(): usize {
  return DATA;
}

export function chacha20_xor(len: i32, counter: u32): void {
  if (<u32>len > <u32>DATA_MAX) unreachable();
  const n0 = load<u32>(NONCE, 0), n1 = load<u32>(NONCE, 4), n2 = load<u32>(NONCE, 8);
  let p = DATA;
  let ctr = counter;
  for (; len >= 64; len -= 64) {
    block(KEY, ctr, n0, n1, n2, p, true);
    p += 64;
    ctr++;
  }
  if (len > 0) {
    block(KEY, ctr, n0, n1, n2, SCRATCH, false);
    for (let i = 0; i < len; i++) store<u8>(p + i, load<u8>(p + i) ^ load<u8>(SCRATCH + i));
    wipe(SCRATCH, 64);
  }
  wipeSmall(KEY, 44);
}
