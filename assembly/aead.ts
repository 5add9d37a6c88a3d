// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha §2: HChaCha20 subkey, then RFC 8439 §2.8 AEAD), the record
// sealing of ts/store/sealing.ts in one call: the same bytes as OpenSSL's and @noble/ciphers' (the adapter,
// ts/backend/wasm/aead.ts, checks it against them before use). The point is the per-call cost: a 2 KiB record
// sealed through node:crypto pays a cipher object, its set-up and a fresh output buffer every time.
//
// Calling convention (addresses from aead_area() and chacha20_data(); offsets below):
//   AREA[KEY..+32)      the 32-byte key (wiped by the call)
//   AREA[NONCE..+24)    the 24-byte extended nonce (public)
//   AREA[TAG..+16)      the tag: written by aead_seal, read by aead_open
//   AREA[AAD..+aadLen)  the associated data, aadLen <= AEAD_AAD_MAX (public)
//   chacha20_data() .. +len   plaintext (seal) or ciphertext (open), len <= IO_SIZE - 64, in place
//   aead_seal(aadLen, len)   data area = ciphertext, AREA[TAG] = tag.
//   aead_open(aadLen, len)   recomputes the tag over the ciphertext, compares it with AREA[TAG] in constant
//                            time; 1: data area = plaintext; 0: nothing decrypted (the ciphertext is left).
// Every key (the key, the subkey, the Poly1305 key and state) is wiped before the call returns. Branches and
// addresses depend only on the public lengths and on the (public) verdict of the tag check.
//
// Poly1305 uses five 26-bit limbs with 64-bit products (WebAssembly has no 64×64→128 multiply): the
// "donna-32" arrangement. Reduction and the final selection of h or h − p are masks, never branches.
//
// The SIMD module exports these same entry points with its four-block ChaCha20 kernel and its two-blocks-per-
// step Poly1305 (assembly/simd/poly1305x2.ts) for the ciphertext's bulk installed (useKernels, below).
import { IO, IO_SIZE, wipe, wipeSmall } from './io';
import { chacha20_block, chacha20_data, chacha20_xor } from './chacha20';

export const AEAD_KEY: i32 = 0;
export const AEAD_NONCE: i32 = 32;
export const AEAD_TAG: i32 = 64;
export const AEAD_AAD: i32 = 80;
/** The records' associated data is a label, an account id and a record key (each bounded well below this). */
export const AEAD_AAD_MAX: i32 = 4096;
export const AEAD_DATA_MAX: i32 = IO_SIZE - 64;

const AREA: usize = memory.data(AEAD_AAD + AEAD_AAD_MAX, 16);
/** A keystream block of the key derivation (HChaCha20, then the Poly1305 key block), wiped after each use. */
const STATE: usize = memory.data(64, 16);
/** The one-time Poly1305 key (r ‖ s), then the recomputed tag when opening. */
const POLYKEY: usize = memory.data(32, 16);
const EXPECTED: usize = memory.data(16, 16);
/** A zero-padded partial block of the associated data or ciphertext, or the lengths block. */
const BLOCK: usize = memory.data(16, 16);
/** Poly1305 state: r0..r4, h0..h4 (u32 each). */
export const POLY: usize = memory.data(40, 16);

/**
 * The subkey HChaCha20(AREA[KEY], nonce[0..16)) into the ChaCha20 kernel's key slot (IO[0..32)), the RFC 8439
 * nonce 0x00000000 ‖ nonce[16..24) into its nonce slot (IO[32..44)), and the Poly1305 key (the first 32
 * bytes of keystream block 0 under them) into POLYKEY. The caller's key is wiped.
 */
function keys(): void {
  const nonce = AREA + AEAD_NONCE;
  // HChaCha20 is the permuted state's words 0..3 and 12..15 without the feed-forward: the keystream block's
  // words minus the input words (the constants, and the nonce's first 16 bytes).
  chacha20_block(AREA + AEAD_KEY, load<u32>(nonce, 0), load<u32>(nonce, 4), load<u32>(nonce, 8), load<u32>(nonce, 12), STATE);
  store<u32>(IO, load<u32>(STATE, 0) - 0x61707865, 0);
  store<u32>(IO, load<u32>(STATE, 4) - 0x3320646e, 4);
  store<u32>(IO, load<u32>(STATE, 8) - 0x79622d32, 8);
  store<u32>(IO, load<u32>(STATE, 12) - 0x6b206574, 12);
  for (let i: usize = 0; i < 16; i += 4) store<u32>(IO + 16 + i, load<u32>(STATE + 48 + i) - load<u32>(nonce + i));
  wipeSmall(AREA + AEAD_KEY, 32);
  store<u32>(IO + 32, 0);
  store<u64>(IO + 36, load<u64>(nonce, 16));
  // Block 0 (counter 0) under the subkey: its first 32 bytes are the Poly1305 key.
  chacha20_block(IO, 0, 0, load<u32>(nonce, 16), load<u32>(nonce, 20), STATE);
  for (let i: usize = 0; i < 32; i += 8) store<u64>(POLYKEY + i, load<u64>(STATE + i));
  wipeSmall(STATE, 64);
}

/** r (clamped, in 26-bit limbs) from POLYKEY[0..16); h = 0. */
function polyInit(): void {
  const k = POLYKEY;
  store<u32>(POLY, load<u32>(k, 0) & 0x3ffffff, 0);
  store<u32>(POLY, (load<u32>(k, 3) >> 2) & 0x3ffff03, 4);
  store<u32>(POLY, (load<u32>(k, 6) >> 4) & 0x3ffc0ff, 8);
  store<u32>(POLY, (load<u32>(k, 9) >> 6) & 0x3f03fff, 12);
  store<u32>(POLY, (load<u32>(k, 12) >> 8) & 0x00fffff, 16);
  wipeSmall(POLY + 20, 20);
}

/**
 * h = (h + m) · r mod 2^130 − 5 for `n` 16-byte blocks at `m`, each with `hibit` (2^128 in limb 4's terms:
 * 1 << 24) added; only the test hook's final partial block passes 0.
 */
export function polyBlocks(m: usize, n: i32, hibit: u32 = 1 << 24): void {
  const r0 = <u64>load<u32>(POLY, 0), r1 = <u64>load<u32>(POLY, 4), r2 = <u64>load<u32>(POLY, 8);
  const r3 = <u64>load<u32>(POLY, 12), r4 = <u64>load<u32>(POLY, 16);
  const s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
  let h0 = load<u32>(POLY, 20), h1 = load<u32>(POLY, 24), h2 = load<u32>(POLY, 28), h3 = load<u32>(POLY, 32), h4 = load<u32>(POLY, 36);
  for (let i = 0; i < n; i++) {
    h0 += load<u32>(m, 0) & 0x3ffffff;
    h1 += (load<u32>(m, 3) >> 2) & 0x3ffffff;
    h2 += (load<u32>(m, 6) >> 4) & 0x3ffffff;
    h3 += (load<u32>(m, 9) >> 6) & 0x3ffffff;
    h4 += (load<u32>(m, 12) >> 8) | hibit;
    const g0 = <u64>h0, g1 = <u64>h1, g2 = <u64>h2, g3 = <u64>h3, g4 = <u64>h4;
    const d0 = g0 * r0 + g1 * s4 + g2 * s3 + g3 * s2 + g4 * s1;
    let d1 = g0 * r1 + g1 * r0 + g2 * s4 + g3 * s3 + g4 * s2;
    let d2 = g0 * r2 + g1 * r1 + g2 * r0 + g3 * s4 + g4 * s3;
    let d3 = g0 * r3 + g1 * r2 + g2 * r1 + g3 * r0 + g4 * s4;
    let d4 = g0 * r4 + g1 * r3 + g2 * r2 + g3 * r1 + g4 * r0;
    h0 = <u32>d0 & 0x3ffffff;
    d1 += d0 >> 26;
    h1 = <u32>d1 & 0x3ffffff;
    d2 += d1 >> 26;
    h2 = <u32>d2 & 0x3ffffff;
    d3 += d2 >> 26;
    h3 = <u32>d3 & 0x3ffffff;
    d4 += d3 >> 26;
    h4 = <u32>d4 & 0x3ffffff;
    h0 += <u32>(d4 >> 26) * 5;
    h1 += h0 >> 26;
    h0 &= 0x3ffffff;
    m += 16;
  }
  store<u32>(POLY, h0, 20);
  store<u32>(POLY, h1, 24);
  store<u32>(POLY, h2, 28);
  store<u32>(POLY, h3, 32);
  store<u32>(POLY, h4, 36);
}

/** `len` bytes at `p` as Poly1305 blocks, the last one zero-padded to 16 (RFC 8439 §2.8's pad16). */
function polyPadded(p: usize, len: i32): void {
  const whole = len >> 4;
  polyBlocks(p, whole);
  const rest = len & 15;
  if (rest > 0) {
    wipeSmall(BLOCK, 16);
    memory.copy(BLOCK, p + (<usize>whole << 4), rest);
    polyBlocks(BLOCK, 1);
  }
}

/** The tag (h + s mod 2^128, little-endian) into `out`; the Poly1305 key and state are wiped. */
function polyFinish(out: usize): void {
  let h0 = load<u32>(POLY, 20), h1 = load<u32>(POLY, 24), h2 = load<u32>(POLY, 28), h3 = load<u32>(POLY, 32), h4 = load<u32>(POLY, 36);
  // Fully carry h.
  let c = h1 >> 26; h1 &= 0x3ffffff;
  h2 += c; c = h2 >> 26; h2 &= 0x3ffffff;
  h3 += c; c = h3 >> 26; h3 &= 0x3ffffff;
  h4 += c; c = h4 >> 26; h4 &= 0x3ffffff;
  h0 += c * 5; c = h0 >> 26; h0 &= 0x3ffffff;
  h1 += c;
  // g = h + 5 − 2^130; if that did not go negative, h ≥ p and the result is g.
  let g0 = h0 + 5; c = g0 >> 26; g0 &= 0x3ffffff;
  let g1 = h1 + c; c = g1 >> 26; g1 &= 0x3ffffff;
  let g2 = h2 + c; c = g2 >> 26; g2 &= 0x3ffffff;
  let g3 = h3 + c; c = g3 >> 26; g3 &= 0x3ffffff;
  let g4 = h4 + c - (1 << 26);
  let mask = (g4 >> 31) - 1; // all ones when g4 ≥ 0 (take g), zero when negative (keep h)
  g0 &= mask; g1 &= mask; g2 &= mask; g3 &= mask; g4 &= mask;
  mask = ~mask;
  h0 = (h0 & mask) | g0;
  h1 = (h1 & mask) | g1;
  h2 = (h2 & mask) | g2;
  h3 = (h3 & mask) | g3;
  h4 = (h4 & mask) | g4;
  // h mod 2^128 in 32-bit words, plus s.
  const w0 = h0 | (h1 << 26);
  const w1 = (h1 >> 6) | (h2 << 20);
  const w2 = (h2 >> 12) | (h3 << 14);
  const w3 = (h3 >> 18) | (h4 << 8);
  let f: u64 = <u64>w0 + <u64>load<u32>(POLYKEY, 16);
  store<u32>(out, <u32>f, 0);
  f = <u64>w1 + <u64>load<u32>(POLYKEY, 20) + (f >> 32);
  store<u32>(out, <u32>f, 4);
  f = <u64>w2 + <u64>load<u32>(POLYKEY, 24) + (f >> 32);
  store<u32>(out, <u32>f, 8);
  f = <u64>w3 + <u64>load<u32>(POLYKEY, 28) + (f >> 32);
  store<u32>(out, <u32>f, 12);
  wipeSmall(POLY, 40);
  wipeSmall(POLYKEY, 32);
}

/**
 * The RFC 8439 §2.8 tag over the associated data and the ciphertext in the data area, into `out`; the
 * ciphertext's leading blocks through the installed bulk Poly1305 (none here: the SIMD module's pair loop).
 */
function tag(aadLen: i32, len: i32, out: usize): void {
  polyInit();
  polyPadded(AREA + AEAD_AAD, aadLen);
  const from = bulkPoly(chacha20_data(), len);
  polyPadded(chacha20_data() + <usize>from, len - from);
  store<u64>(BLOCK, <u64>aadLen, 0);
  store<u64>(BLOCK, <u64>len, 8);
  polyBlocks(BLOCK, 1);
  wipeSmall(BLOCK, 16);
  polyFinish(out);
}

/**
 * Whether the tag recomputed at EXPECTED equals the received one at AREA[TAG], compared in constant time;
 * EXPECTED is wiped, and on a mismatch so are the subkey and nonce (nothing is decrypted).
 */
function verdict(): bool {
  let diff: u32 = 0;
  for (let i: usize = 0; i < 16; i++) diff |= load<u8>(EXPECTED + i) ^ load<u8>(AREA + AEAD_TAG + i);
  wipeSmall(EXPECTED, 16);
  if (diff != 0) {
    wipeSmall(IO, 44); // the subkey: nothing is decrypted
    return false;
  }
  return true;
}

function checkLengths(aadLen: i32, len: i32): void {
  if (<u32>aadLen > <u32>AEAD_AAD_MAX || <u32>len > <u32>AEAD_DATA_MAX) unreachable();
}

export function aead_area(): usize {
  return AREA;
}

export function aead_aad_max(): i32 {
  return AEAD_AAD_MAX;
}

/** Clears every key a call may have left (the adapter calls it when a copy throws after the key went in). */
export function aead_wipe(): void {
  wipeSmall(IO, 44);
  wipeSmall(POLYKEY, 32);
  wipeSmall(POLY, 40);
  wipeSmall(AREA + AEAD_KEY, 32);
}

/** A ChaCha20 stream kernel (chacha20_xor's convention). */
export type StreamXor = (len: i32, counter: u32) => void;
/** A bulk Poly1305: the leading blocks of the `len` bytes at p hashed into POLY; returns the bytes it covered. */
export type BulkPoly = (p: usize, len: i32) => i32;

function noBulk(p: usize, len: i32): i32 {
  return 0;
}

/**
 * The kernels the entry points run: this module's scalar ones, unless the SIMD module installs its four-block
 * ChaCha20 and two-blocks-per-step Poly1305 at start (assembly/simd/aead.ts, useKernels). One indirect call
 * each per seal or open, nothing measurable against a record's microseconds; the entry points themselves are
 * then the same code in both modules.
 */
let streamXor: StreamXor = chacha20_xor;
let bulkPoly: BulkPoly = noBulk;

export function useKernels(xor: StreamXor, bulk: BulkPoly): void {
  streamXor = xor;
  bulkPoly = bulk;
}

export function aead_seal(aadLen: i32, len: i32): void {
  checkLengths(aadLen, len);
  keys();
  streamXor(len, 1); // blocks 1.. onto the plaintext; wipes the subkey and nonce from IO
  tag(aadLen, len, AREA + AEAD_TAG);
}

export function aead_open(aadLen: i32, len: i32): i32 {
  checkLengths(aadLen, len);
  keys();
  tag(aadLen, len, EXPECTED);
  if (!verdict()) return 0;
  streamXor(len, 1);
  return 1;
}

/**
 * Test hook (RFC 8439 §2.5 / A.3 vectors): the Poly1305 tag of the `len` bytes in the data area under the
 * one-time key at AREA[KEY..+32), into AREA[TAG] (the leading blocks through the installed bulk Poly1305, as
 * a seal's); the key and the data area's `len` bytes are wiped.
 */
export function aead_poly1305_test(len: i32): void {
  checkLengths(0, len);
  memory.copy(POLYKEY, AREA + AEAD_KEY, 32);
  wipeSmall(AREA + AEAD_KEY, 32);
  polyInit();
  const from = bulkPoly(chacha20_data(), len);
  const whole = len >> 4;
  polyBlocks(chacha20_data() + <usize>from, whole - (from >> 4));
  const rest = len & 15;
  if (rest > 0) {
    // A final partial block: the message bytes, then 0x01, then zeros (no 2^128 bit): the pad16 path's
    // full block does not apply, so this one is done by hand here.
    wipeSmall(BLOCK, 16);
    memory.copy(BLOCK, chacha20_data() + (<usize>whole << 4), rest);
    store<u8>(BLOCK + rest, 1);
    polyBlocks(BLOCK, 1, 0);
  }
  wipeSmall(BLOCK, 16);
  polyFinish(AREA + AEAD_TAG);
  wipe(chacha20_data(), len);
}
