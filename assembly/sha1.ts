// SHA-1 (FIPS 180-4 §6.1) and HMAC-SHA1 (RFC 2104) for OTRv3 data messages, which are MAC'd whole before
// anything can refuse a forged one: the hash's speed is what a forged message costs the receiver.
//
// Calling convention (lengths in bytes; data lives at the start of the I/O region; one hash at a time —
// calls are synchronous and the adapter never interleaves them):
//   hmac_sha1(keyLen, dataLen)  key at IO[0..keyLen), data at IO[keyLen..keyLen + dataLen), together at most
//                               IO_SIZE -> the 20-byte tag at IO[0..20). The whole MAC in one call; the key,
//                               the data and every state are wiped.
//   hmac_sha1_key(keyLen)       start a MAC under the key at IO[0..keyLen) (keyLen <= IO_SIZE), then wipe it.
//   sha1_init()                 start a plain hash.
//   sha1_update(len)            hash IO[0..len) on (the MAC's or the plain hash's data), then wipe those bytes.
//   sha1_final()                the digest at IO[0..20), the state wiped.
//   hmac_sha1_final()           the tag at IO[0..20), every state wiped.
// The adapter streams data larger than the I/O region with hmac_sha1_key / sha1_update / hmac_sha1_final,
// and hashes a key larger than the region first with the plain-hash calls (RFC 2104 does the same above 64).
//
// Constant time: SHA-1's compression is additions, rotations by fixed amounts and bitwise functions, with no
// branch on and no memory index taken from data or key; the only branches and positions in this file depend
// on lengths, which are public. Keep it that way (no table-driven tricks, no early exits on values).
import { IO, IO_SIZE, wipe, wipeSmall } from './io';

const BLOCK: i32 = 64;

/** The chaining value h0..h4 (FIPS 180-4 §6.1.2), one u32 each. */
const H: usize = memory.data(20, 8);
/** A block not yet complete: `buffered` bytes of it. */
const BUF: usize = memory.data(64, 16);
let buffered: i32 = 0;
/** Bytes hashed so far, for the length in the final block. */
let total: u64 = 0;
/** HMAC: the chaining value after the block K ^ opad, kept from the key set-up to the outer hash. */
const OUTER: usize = memory.data(20, 8);
/** HMAC: the padded key block (XORed with ipad, opad), and the inner digest on its way to the outer hash. */
const PAD: usize = memory.data(64, 16);

/**
 * The SHA-1 compression of the 64-byte block at `p` into H. All 80 rounds are written out, the message
 * schedule kept as a sliding window of 16 words in locals (w[t mod 16] replaced by W[t] from round 16 on), so
 * no schedule or key-derived word ever sits in memory. Measured in V8 (Node 20), this is 1.75x the speed of
 * a loop of five rounds over a schedule expanded to 80 words in memory (88 against 155 µs per 64 KiB).
 * Each line is one round of FIPS 180-4 §6.1.2, T = rotl5(a) + f(b, c, d) + e + K + W, e = d, d = c,
 * c = rotl30(b), b = a, a = T, done in place: the variables' roles rotate from line to line (the round's
 * "e" takes T, its "b" is rotated), so no round moves all five, and after five rounds the names are back
 * where they started. Ch is written d ^ (b & (c ^ d)), Maj (b & c) | (d & (b | c)): the same functions,
 * one operation fewer each.
 */
function compress(p: usize): void {
  let w0 = bswap<u32>(load<u32>(p, 0));
  let w1 = bswap<u32>(load<u32>(p, 4));
  let w2 = bswap<u32>(load<u32>(p, 8));
  let w3 = bswap<u32>(load<u32>(p, 12));
  let w4 = bswap<u32>(load<u32>(p, 16));
  let w5 = bswap<u32>(load<u32>(p, 20));
  let w6 = bswap<u32>(load<u32>(p, 24));
  let w7 = bswap<u32>(load<u32>(p, 28));
  let w8 = bswap<u32>(load<u32>(p, 32));
  let w9 = bswap<u32>(load<u32>(p, 36));
  let w10 = bswap<u32>(load<u32>(p, 40));
  let w11 = bswap<u32>(load<u32>(p, 44));
  let w12 = bswap<u32>(load<u32>(p, 48));
  let w13 = bswap<u32>(load<u32>(p, 52));
  let w14 = bswap<u32>(load<u32>(p, 56));
  let w15 = bswap<u32>(load<u32>(p, 60));
  let a = load<u32>(H, 0), b = load<u32>(H, 4), c = load<u32>(H, 8), d = load<u32>(H, 12), e = load<u32>(H, 16);
  e += rotl<u32>(a, 5) + (d ^ (b & (c ^ d))) + 0x5a827999 + w0; b = rotl<u32>(b, 30);
  d += rotl<u32>(e, 5) + (c ^ (a & (b ^ c))) + 0x5a827999 + w1; a = rotl<u32>(a, 30);
  c += rotl<u32>(d, 5) + (b ^ (e & (a ^ b))) + 0x5a827999 + w2; e = rotl<u32>(e, 30);
  b += rotl<u32>(c, 5) + (a ^ (d & (e ^ a))) + 0x5a827999 + w3; d = rotl<u32>(d, 30);
  a += rotl<u32>(b, 5) + (e ^ (c & (d ^ e))) + 0x5a827999 + w4; c = rotl<u32>(c, 30);
  e += rotl<u32>(a, 5) + (d ^ (b & (c ^ d))) + 0x5a827999 + w5; b = rotl<u32>(b, 30);
  d += rotl<u32>(e, 5) + (c ^ (a & (b ^ c))) + 0x5a827999 + w6; a = rotl<u32>(a, 30);
  c += rotl<u32>(d, 5) + (b ^ (e & (a ^ b))) + 0x5a827999 + w7; e = rotl<u32>(e, 30);
  b += rotl<u32>(c, 5) + (a ^ (d & (e ^ a))) + 0x5a827999 + w8; d = rotl<u32>(d, 30);
  a += rotl<u32>(b, 5) + (e ^ (c & (d ^ e))) + 0x5a827999 + w9; c = rotl<u32>(c, 30);
  e += rotl<u32>(a, 5) + (d ^ (b & (c ^ d))) + 0x5a827999 + w10; b = rotl<u32>(b, 30);
  d += rotl<u32>(e, 5) + (c ^ (a & (b ^ c))) + 0x5a827999 + w11; a = rotl<u32>(a, 30);
  c += rotl<u32>(d, 5) + (b ^ (e & (a ^ b))) + 0x5a827999 + w12; e = rotl<u32>(e, 30);
  b += rotl<u32>(c, 5) + (a ^ (d & (e ^ a))) + 0x5a827999 + w13; d = rotl<u32>(d, 30);
  a += rotl<u32>(b, 5) + (e ^ (c & (d ^ e))) + 0x5a827999 + w14; c = rotl<u32>(c, 30);
  e += rotl<u32>(a, 5) + (d ^ (b & (c ^ d))) + 0x5a827999 + w15; b = rotl<u32>(b, 30);
  w0 = rotl<u32>(w13 ^ w8 ^ w2 ^ w0, 1);
  d += rotl<u32>(e, 5) + (c ^ (a & (b ^ c))) + 0x5a827999 + w0; a = rotl<u32>(a, 30);
  w1 = rotl<u32>(w14 ^ w9 ^ w3 ^ w1, 1);
  c += rotl<u32>(d, 5) + (b ^ (e & (a ^ b))) + 0x5a827999 + w1; e = rotl<u32>(e, 30);
  w2 = rotl<u32>(w15 ^ w10 ^ w4 ^ w2, 1);
  b += rotl<u32>(c, 5) + (a ^ (d & (e ^ a))) + 0x5a827999 + w2; d = rotl<u32>(d, 30);
  w3 = rotl<u32>(w0 ^ w11 ^ w5 ^ w3, 1);
  a += rotl<u32>(b, 5) + (e ^ (c & (d ^ e))) + 0x5a827999 + w3; c = rotl<u32>(c, 30);
  w4 = rotl<u32>(w1 ^ w12 ^ w6 ^ w4, 1);
  e += rotl<u32>(a, 5) + (b ^ c ^ d) + 0x6ed9eba1 + w4; b = rotl<u32>(b, 30);
  w5 = rotl<u32>(w2 ^ w13 ^ w7 ^ w5, 1);
  d += rotl<u32>(e, 5) + (a ^ b ^ c) + 0x6ed9eba1 + w5; a = rotl<u32>(a, 30);
  w6 = rotl<u32>(w3 ^ w14 ^ w8 ^ w6, 1);
  c += rotl<u32>(d, 5) + (e ^ a ^ b) + 0x6ed9eba1 + w6; e = rotl<u32>(e, 30);
  w7 = rotl<u32>(w4 ^ w15 ^ w9 ^ w7, 1);
  b += rotl<u32>(c, 5) + (d ^ e ^ a) + 0x6ed9eba1 + w7; d = rotl<u32>(d, 30);
  w8 = rotl<u32>(w5 ^ w0 ^ w10 ^ w8, 1);
  a += rotl<u32>(b, 5) + (c ^ d ^ e) + 0x6ed9eba1 + w8; c = rotl<u32>(c, 30);
  w9 = rotl<u32>(w6 ^ w1 ^ w11 ^ w9, 1);
  e += rotl<u32>(a, 5) + (b ^ c ^ d) + 0x6ed9eba1 + w9; b = rotl<u32>(b, 30);
  w10 = rotl<u32>(w7 ^ w2 ^ w12 ^ w10, 1);
  d += rotl<u32>(e, 5) + (a ^ b ^ c) + 0x6ed9eba1 + w10; a = rotl<u32>(a, 30);
  w11 = rotl<u32>(w8 ^ w3 ^ w13 ^ w11, 1);
  c += rotl<u32>(d, 5) + (e ^ a ^ b) + 0x6ed9eba1 + w11; e = rotl<u32>(e, 30);
  w12 = rotl<u32>(w9 ^ w4 ^ w14 ^ w12, 1);
  b += rotl<u32>(c, 5) + (d ^ e ^ a) + 0x6ed9eba1 + w12; d = rotl<u32>(d, 30);
  w13 = rotl<u32>(w10 ^ w5 ^ w15 ^ w13, 1);
  a += rotl<u32>(b, 5) + (c ^ d ^ e) + 0x6ed9eba1 + w13; c = rotl<u32>(c, 30);
  w14 = rotl<u32>(w11 ^ w6 ^ w0 ^ w14, 1);
  e += rotl<u32>(a, 5) + (b ^ c ^ d) + 0x6ed9eba1 + w14; b = rotl<u32>(b, 30);
  w15 = rotl<u32>(w12 ^ w7 ^ w1 ^ w15, 1);
  d += rotl<u32>(e, 5) + (a ^ b ^ c) + 0x6ed9eba1 + w15; a = rotl<u32>(a, 30);
  w0 = rotl<u32>(w13 ^ w8 ^ w2 ^ w0, 1);
  c += rotl<u32>(d, 5) + (e ^ a ^ b) + 0x6ed9eba1 + w0; e = rotl<u32>(e, 30);
  w1 = rotl<u32>(w14 ^ w9 ^ w3 ^ w1, 1);
  b += rotl<u32>(c, 5) + (d ^ e ^ a) + 0x6ed9eba1 + w1; d = rotl<u32>(d, 30);
  w2 = rotl<u32>(w15 ^ w10 ^ w4 ^ w2, 1);
  a += rotl<u32>(b, 5) + (c ^ d ^ e) + 0x6ed9eba1 + w2; c = rotl<u32>(c, 30);
  w3 = rotl<u32>(w0 ^ w11 ^ w5 ^ w3, 1);
  e += rotl<u32>(a, 5) + (b ^ c ^ d) + 0x6ed9eba1 + w3; b = rotl<u32>(b, 30);
  w4 = rotl<u32>(w1 ^ w12 ^ w6 ^ w4, 1);
  d += rotl<u32>(e, 5) + (a ^ b ^ c) + 0x6ed9eba1 + w4; a = rotl<u32>(a, 30);
  w5 = rotl<u32>(w2 ^ w13 ^ w7 ^ w5, 1);
  c += rotl<u32>(d, 5) + (e ^ a ^ b) + 0x6ed9eba1 + w5; e = rotl<u32>(e, 30);
  w6 = rotl<u32>(w3 ^ w14 ^ w8 ^ w6, 1);
  b += rotl<u32>(c, 5) + (d ^ e ^ a) + 0x6ed9eba1 + w6; d = rotl<u32>(d, 30);
  w7 = rotl<u32>(w4 ^ w15 ^ w9 ^ w7, 1);
  a += rotl<u32>(b, 5) + (c ^ d ^ e) + 0x6ed9eba1 + w7; c = rotl<u32>(c, 30);
  w8 = rotl<u32>(w5 ^ w0 ^ w10 ^ w8, 1);
  e += rotl<u32>(a, 5) + ((b & c) | (d & (b | c))) + 0x8f1bbcdc + w8; b = rotl<u32>(b, 30);
  w9 = rotl<u32>(w6 ^ w1 ^ w11 ^ w9, 1);
  d += rotl<u32>(e, 5) + ((a & b) | (c & (a | b))) + 0x8f1bbcdc + w9; a = rotl<u32>(a, 30);
  w10 = rotl<u32>(w7 ^ w2 ^ w12 ^ w10, 1);
  c += rotl<u32>(d, 5) + ((e & a) | (b & (e | a))) + 0x8f1bbcdc + w10; e = rotl<u32>(e, 30);
  w11 = rotl<u32>(w8 ^ w3 ^ w13 ^ w11, 1);
  b += rotl<u32>(c, 5) + ((d & e) | (a & (d | e))) + 0x8f1bbcdc + w11; d = rotl<u32>(d, 30);
  w12 = rotl<u32>(w9 ^ w4 ^ w14 ^ w12, 1);
  a += rotl<u32>(b, 5) + ((c & d) | (e & (c | d))) + 0x8f1bbcdc + w12; c = rotl<u32>(c, 30);
  w13 = rotl<u32>(w10 ^ w5 ^ w15 ^ w13, 1);
  e += rotl<u32>(a, 5) + ((b & c) | (d & (b | c))) + 0x8f1bbcdc + w13; b = rotl<u32>(b, 30);
  w14 = rotl<u32>(w11 ^ w6 ^ w0 ^ w14, 1);
  d += rotl<u32>(e, 5) + ((a & b) | (c & (a | b))) + 0x8f1bbcdc + w14; a = rotl<u32>(a, 30);
  w15 = rotl<u32>(w12 ^ w7 ^ w1 ^ w15, 1);
  c += rotl<u32>(d, 5) + ((e & a) | (b & (e | a))) + 0x8f1bbcdc + w15; e = rotl<u32>(e, 30);
  w0 = rotl<u32>(w13 ^ w8 ^ w2 ^ w0, 1);
  b += rotl<u32>(c, 5) + ((d & e) | (a & (d | e))) + 0x8f1bbcdc + w0; d = rotl<u32>(d, 30);
  w1 = rotl<u32>(w14 ^ w9 ^ w3 ^ w1, 1);
  a += rotl<u32>(b, 5) + ((c & d) | (e & (c | d))) + 0x8f1bbcdc + w1; c = rotl<u32>(c, 30);
  w2 = rotl<u32>(w15 ^ w10 ^ w4 ^ w2, 1);
  e += rotl<u32>(a, 5) + ((b & c) | (d & (b | c))) + 0x8f1bbcdc + w2; b = rotl<u32>(b, 30);
  w3 = rotl<u32>(w0 ^ w11 ^ w5 ^ w3, 1);
  d += rotl<u32>(e, 5) + ((a & b) | (c & (a | b))) + 0x8f1bbcdc + w3; a = rotl<u32>(a, 30);
  w4 = rotl<u32>(w1 ^ w12 ^ w6 ^ w4, 1);
  c += rotl<u32>(d, 5) + ((e & a) | (b & (e | a))) + 0x8f1bbcdc + w4; e = rotl<u32>(e, 30);
  w5 = rotl<u32>(w2 ^ w13 ^ w7 ^ w5, 1);
  b += rotl<u32>(c, 5) + ((d & e) | (a & (d | e))) + 0x8f1bbcdc + w5; d = rotl<u32>(d, 30);
  w6 = rotl<u32>(w3 ^ w14 ^ w8 ^ w6, 1);
  a += rotl<u32>(b, 5) + ((c & d) | (e & (c | d))) + 0x8f1bbcdc + w6; c = rotl<u32>(c, 30);
  w7 = rotl<u32>(w4 ^ w15 ^ w9 ^ w7, 1);
  e += rotl<u32>(a, 5) + ((b & c) | (d & (b | c))) + 0x8f1bbcdc + w7; b = rotl<u32>(b, 30);
  w8 = rotl<u32>(w5 ^ w0 ^ w10 ^ w8, 1);
  d += rotl<u32>(e, 5) + ((a & b) | (c & (a | b))) + 0x8f1bbcdc + w8; a = rotl<u32>(a, 30);
  w9 = rotl<u32>(w6 ^ w1 ^ w11 ^ w9, 1);
  c += rotl<u32>(d, 5) + ((e & a) | (b & (e | a))) + 0x8f1bbcdc + w9; e = rotl<u32>(e, 30);
  w10 = rotl<u32>(w7 ^ w2 ^ w12 ^ w10, 1);
  b += rotl<u32>(c, 5) + ((d & e) | (a & (d | e))) + 0x8f1bbcdc + w10; d = rotl<u32>(d, 30);
  w11 = rotl<u32>(w8 ^ w3 ^ w13 ^ w11, 1);
  a += rotl<u32>(b, 5) + ((c & d) | (e & (c | d))) + 0x8f1bbcdc + w11; c = rotl<u32>(c, 30);
  w12 = rotl<u32>(w9 ^ w4 ^ w14 ^ w12, 1);
  e += rotl<u32>(a, 5) + (b ^ c ^ d) + 0xca62c1d6 + w12; b = rotl<u32>(b, 30);
  w13 = rotl<u32>(w10 ^ w5 ^ w15 ^ w13, 1);
  d += rotl<u32>(e, 5) + (a ^ b ^ c) + 0xca62c1d6 + w13; a = rotl<u32>(a, 30);
  w14 = rotl<u32>(w11 ^ w6 ^ w0 ^ w14, 1);
  c += rotl<u32>(d, 5) + (e ^ a ^ b) + 0xca62c1d6 + w14; e = rotl<u32>(e, 30);
  w15 = rotl<u32>(w12 ^ w7 ^ w1 ^ w15, 1);
  b += rotl<u32>(c, 5) + (d ^ e ^ a) + 0xca62c1d6 + w15; d = rotl<u32>(d, 30);
  w0 = rotl<u32>(w13 ^ w8 ^ w2 ^ w0, 1);
  a += rotl<u32>(b, 5) + (c ^ d ^ e) + 0xca62c1d6 + w0; c = rotl<u32>(c, 30);
  w1 = rotl<u32>(w14 ^ w9 ^ w3 ^ w1, 1);
  e += rotl<u32>(a, 5) + (b ^ c ^ d) + 0xca62c1d6 + w1; b = rotl<u32>(b, 30);
  w2 = rotl<u32>(w15 ^ w10 ^ w4 ^ w2, 1);
  d += rotl<u32>(e, 5) + (a ^ b ^ c) + 0xca62c1d6 + w2; a = rotl<u32>(a, 30);
  w3 = rotl<u32>(w0 ^ w11 ^ w5 ^ w3, 1);
  c += rotl<u32>(d, 5) + (e ^ a ^ b) + 0xca62c1d6 + w3; e = rotl<u32>(e, 30);
  w4 = rotl<u32>(w1 ^ w12 ^ w6 ^ w4, 1);
  b += rotl<u32>(c, 5) + (d ^ e ^ a) + 0xca62c1d6 + w4; d = rotl<u32>(d, 30);
  w5 = rotl<u32>(w2 ^ w13 ^ w7 ^ w5, 1);
  a += rotl<u32>(b, 5) + (c ^ d ^ e) + 0xca62c1d6 + w5; c = rotl<u32>(c, 30);
  w6 = rotl<u32>(w3 ^ w14 ^ w8 ^ w6, 1);
  e += rotl<u32>(a, 5) + (b ^ c ^ d) + 0xca62c1d6 + w6; b = rotl<u32>(b, 30);
  w7 = rotl<u32>(w4 ^ w15 ^ w9 ^ w7, 1);
  d += rotl<u32>(e, 5) + (a ^ b ^ c) + 0xca62c1d6 + w7; a = rotl<u32>(a, 30);
  w8 = rotl<u32>(w5 ^ w0 ^ w10 ^ w8, 1);
  c += rotl<u32>(d, 5) + (e ^ a ^ b) + 0xca62c1d6 + w8; e = rotl<u32>(e, 30);
  w9 = rotl<u32>(w6 ^ w1 ^ w11 ^ w9, 1);
  b += rotl<u32>(c, 5) + (d ^ e ^ a) + 0xca62c1d6 + w9; d = rotl<u32>(d, 30);
  w10 = rotl<u32>(w7 ^ w2 ^ w12 ^ w10, 1);
  a += rotl<u32>(b, 5) + (c ^ d ^ e) + 0xca62c1d6 + w10; c = rotl<u32>(c, 30);
  w11 = rotl<u32>(w8 ^ w3 ^ w13 ^ w11, 1);
  e += rotl<u32>(a, 5) + (b ^ c ^ d) + 0xca62c1d6 + w11; b = rotl<u32>(b, 30);
  w12 = rotl<u32>(w9 ^ w4 ^ w14 ^ w12, 1);
  d += rotl<u32>(e, 5) + (a ^ b ^ c) + 0xca62c1d6 + w12; a = rotl<u32>(a, 30);
  w13 = rotl<u32>(w10 ^ w5 ^ w15 ^ w13, 1);
  c += rotl<u32>(d, 5) + (e ^ a ^ b) + 0xca62c1d6 + w13; e = rotl<u32>(e, 30);
  w14 = rotl<u32>(w11 ^ w6 ^ w0 ^ w14, 1);
  b += rotl<u32>(c, 5) + (d ^ e ^ a) + 0xca62c1d6 + w14; d = rotl<u32>(d, 30);
  w15 = rotl<u32>(w12 ^ w7 ^ w1 ^ w15, 1);
  a += rotl<u32>(b, 5) + (c ^ d ^ e) + 0xca62c1d6 + w15; c = rotl<u32>(c, 30);
  store<u32>(H, load<u32>(H, 0) + a, 0);
  store<u32>(H, load<u32>(H, 4) + b, 4);
  store<u32>(H, load<u32>(H, 8) + c, 8);
  store<u32>(H, load<u32>(H, 12) + d, 12);
  store<u32>(H, load<u32>(H, 16) + e, 16);
}

/** A fresh hash: the initial value of FIPS 180-4 §5.3.1. */
function init(): void {
  store<u32>(H, 0x67452301, 0);
  store<u32>(H, 0xefcdab89, 4);
  store<u32>(H, 0x98badcfe, 8);
  store<u32>(H, 0x10325476, 12);
  store<u32>(H, 0xc3d2e1f0, 16);
  buffered = 0;
  total = 0;
}

/** Hash `len` bytes at `src` on: whole blocks straight from `src`, the rest kept in BUF. */
function update(src: usize, len: i32): void {
  total += <u64>len;
  if (buffered > 0) {
    let take = BLOCK - buffered;
    if (take > len) take = len;
    memory.copy(BUF + buffered, src, take);
    buffered += take;
    src += take;
    len -= take;
    if (buffered < BLOCK) return;
    compress(BUF);
    buffered = 0;
  }
  for (; len >= BLOCK; len -= BLOCK, src += BLOCK) compress(src);
  if (len > 0) {
    memory.copy(BUF, src, len);
    buffered = len;
  }
}

/** Pad (0x80, zeros, the length in bits big-endian: FIPS 180-4 §5.1.1) and write the digest to `out`. */
function finish(out: usize): void {
  store<u8>(BUF + buffered, 0x80);
  memory.fill(BUF + buffered + 1, 0, BLOCK - buffered - 1);
  if (buffered >= BLOCK - 8) {
    compress(BUF);
    memory.fill(BUF, 0, BLOCK - 8);
  }
  store<u64>(BUF + BLOCK - 8, bswap<u64>(total << 3));
  compress(BUF);
  for (let i: usize = 0; i < 20; i += 4) store<u32>(out + i, bswap<u32>(load<u32>(H + i)));
}

/** Zero every state of this file: nothing of a key, a message or a digest is left behind. */
function wipeAll(): void {
  wipeSmall(H, 20);
  wipeSmall(OUTER, 20);
  wipe(BUF, 64);
  wipe(PAD, 64);
  buffered = 0;
  total = 0;
}

/**
 * The MAC's key set-up (RFC 2104): K' = K, or SHA-1(K) when longer than a block, zero-padded to 64 bytes;
 * OUTER = the chaining value after K' ^ opad; H = after K' ^ ipad, with the data to follow. Wipes the key.
 */
function macKey(key: usize, keyLen: i32): void {
  if (keyLen > BLOCK) {
    init();
    update(key, keyLen);
    finish(PAD);
    memory.fill(PAD + 20, 0, BLOCK - 20);
    wipe(BUF, 64); // the key's last block
  } else {
    memory.copy(PAD, key, keyLen);
    memory.fill(PAD + keyLen, 0, BLOCK - keyLen);
  }
  wipe(key, keyLen);
  for (let i: usize = 0; i < 64; i += 4) store<u32>(PAD + i, load<u32>(PAD + i) ^ 0x5c5c5c5c);
  init();
  compress(PAD);
  memory.copy(OUTER, H, 20);
  // From K' ^ opad to K' ^ ipad: 0x5c ^ 0x6a = 0x36.
  for (let i: usize = 0; i < 64; i += 4) store<u32>(PAD + i, load<u32>(PAD + i) ^ 0x6a6a6a6a);
  init();
  compress(PAD);
  total = BLOCK;
  wipe(PAD, 64);
}

/** The outer hash: H(K' ^ opad || inner digest), the tag to `out`; then every state is wiped. */
function macFinish(out: usize): void {
  finish(PAD);
  memory.copy(H, OUTER, 20);
  buffered = 0;
  total = BLOCK;
  update(PAD, 20);
  finish(out);
  wipeAll();
}

export function hmac_sha1(keyLen: i32, dataLen: i32): void {
  if (<u32>keyLen > <u32>IO_SIZE || <u32>dataLen > <u32>(IO_SIZE - keyLen)) unreachable();
  macKey(IO, keyLen);
  const data = IO + <usize>keyLen;
  update(data, dataLen);
  wipe(data, dataLen);
  macFinish(IO);
}

export function hmac_sha1_key(keyLen: i32): void {
  if (<u32>keyLen > <u32>IO_SIZE) unreachable();
  macKey(IO, keyLen);
}

export function hmac_sha1_final(): void {
  macFinish(IO);
}

export function sha1_init(): void {
  init();
}

export function sha1_update(len: i32): void {
  if (<u32>len > <u32>IO_SIZE) unreachable();
  update(IO, len);
  wipe(IO, len);
}

export function sha1_final(): void {
  finish(IO);
  wipeAll();
}
