/**
 * Known-answer self-test run by `init()` on the backend it is about to activate. A WASM module that was
 * miscompiled, truncated or tampered with fails here and the library falls back to JS instead of computing
 * wrong keys. Each answer is an external vector (RFC 8032, FIPS 202, RFC 8439, RFC 3526 arithmetic, RFC 2202)
 * or, for the SIMD module's multi-block ChaCha20 and the optional fused ops (the record AEAD and the
 * data-message call, which run on the WASM backend's SIMD module where it has one), computed outside this
 * code with noble (see CHACHA_LONG_DIGEST, SEALED_TAG).
 */
import type { CryptoBackend } from './types.js';
import { bytesToHex, equalBytes, hexToBytes } from '../bytes.js';

// RFC 8032 §7.4, "blank" test: secret key -> public key.
const ED448_SK = '6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b';
const ED448_PK = '5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180';
// SHAKE-256("") first 32 bytes (FIPS 202).
const SHAKE_EMPTY = '46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f';
// RFC 8439 §2.4.2 key/nonce, first 16 bytes of "Ladies and Gentlemen..." with counter 1.
const CHACHA_KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const CHACHA_NONCE = '000000000000004a00000000';
const CHACHA_PT = '4c616469657320616e642047656e746c';
const CHACHA_CT = '6e2e359a2568f98041ba0728dd0d6981';
// RFC 2202 §3 HMAC-SHA1 test case 2: key "Jefe", data "what do ya want for nothing?" (OTRv3's data MAC).
const HMAC_KEY = 'Jefe';
const HMAC_DATA = 'what do ya want for nothing?';
const HMAC_TAG = 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79';

// The fused ops' inputs: byte i = (i * mul + add) mod 256. 200-byte records: four ChaCha20 blocks, so the
// SIMD module's four-block vector step runs (two blocks or fewer go to its scalar kernel), and Poly1305's
// two-blocks-per-step path too.
// A plain loop: Uint8Array.from with a map function costs ~10 µs per 200 bytes in V8, the loop well under 1.
function pattern(n: number, mul: number, add: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * mul + add) & 0xff;
  return out;
}
const RECORD_BYTES = 200;
// ChaCha20 over 600 bytes (ten blocks, counter 1): the SIMD module gives the two leading blocks to its scalar
// kernel, then runs one whole four-block vector step and one final step of 216 bytes through its scratch
// area; the 16-byte RFC 8439 check above runs the scalar kernel alone. Compared by SHAKE-256 (checked first)
// of the ciphertext, made once with @noble/ciphers 2.x and @noble/hashes 2.x (and OpenSSL agrees):
//   shake256(chacha20(pattern(32,9,0x33), pattern(12,5,0x70), pattern(600,19,0x0b), counter 1), 32 bytes).
const CHACHA_LONG_BYTES = 600;
const CHACHA_LONG_DIGEST = '1f1718b432e2c81d14804aa3ce82998c634e7273de9acc694246c8a0d3c747ff';
// Expected values made once with @noble/ciphers 2.x and @noble/hashes 2.x (independent of the WASM code):
//   xchacha20poly1305(pattern(32,1,0), pattern(24,3,0x40), pattern(13,5,0x11)).encrypt(pattern(200,13,5)),
//   its 16-byte tag; and for the data message, with KDF(u, x, n) = shake256('OTRv4' || u || x, n) and
//   ck = pattern(64,7,0x80): MKenc = KDF(0x15, ck, 64), MKmac = KDF(0x16, MKenc, 64), next = KDF(0x14, ck,
//   64), ct = chacha20(MKenc[0..32], 12 zero bytes, pattern(200,17,0x29), counter 0), authenticator =
//   KDF(0x18, MKmac || pattern(13,11,3) || ct, 64). The tag and the authenticator cover the ciphertext, so
//   a wrong keystream shows in them; opening what was sealed checks the copy out and the other direction.
const SEALED_TAG = '90b91f284c5369a778d915209152fa7f';
const DATA_NEXT = 'd0024c9672e3c49c39d791603a584f51b8b1771352979f8a22a27a51cb305e6b7904457f4e7ee003872273a6100422302863bec8a1696cb4da30e0adf8bcf7b5';
const DATA_MKMAC = '7190f0a4f0e1570bf07712a8977f17855f7a7ea932df31f03cd24653e73d60170adfdd520fbe7d8cafca505d7c1aac0bef6722f6f313d99a00ff7060e068f344';
const DATA_AUTH = '6a580a243b8afba8b2f6c71b86ad9ad3a4178823755adee539767ac669ad085196bb0a7a5c1cdf44002f15b383be6c2dc3efb24e8e3d00489452568992cbd91b';

/** The record AEAD, where the backend has one: seal to the known tag, open it back, refuse a flipped tag. */
function aeadAnswers(b: CryptoBackend): boolean {
  if (b.sealXChaCha20Poly1305 === undefined || b.openXChaCha20Poly1305 === undefined) return true;
  const key = pattern(32, 1, 0);
  const nonce = pattern(24, 3, 0x40);
  const aad = pattern(13, 5, 0x11);
  const plain = pattern(RECORD_BYTES, 13, 5);
  const sealed = new Uint8Array(RECORD_BYTES + 16);
  if (b.sealXChaCha20Poly1305(key, nonce, aad, plain, sealed) !== true) return false;
  if (bytesToHex(sealed.subarray(RECORD_BYTES)) !== SEALED_TAG) return false;
  const opened = b.openXChaCha20Poly1305(key, nonce, aad, sealed);
  if (!opened || !equalBytes(opened, plain)) return false;
  sealed[RECORD_BYTES]! ^= 1;
  return b.openXChaCha20Poly1305(key, nonce, aad, sealed) === null;
}

/** The fused data-message call, where the backend has it: seal to the known keys, open it back. */
function dataMessageAnswers(b: CryptoBackend): boolean {
  if (b.sealDataMessage === undefined || b.openDataMessage === undefined) return true;
  const chainKey = pattern(64, 7, 0x80);
  const header = pattern(13, 11, 3);
  const plain = pattern(RECORD_BYTES, 17, 0x29);
  const authenticated = new Uint8Array(header.length + RECORD_BYTES);
  authenticated.set(header);
  const sealed = b.sealDataMessage(chainKey, authenticated, plain);
  if (!sealed || bytesToHex(sealed.next) !== DATA_NEXT || bytesToHex(sealed.authenticator) !== DATA_AUTH) return false;
  const opened = b.openDataMessage(chainKey, authenticated, RECORD_BYTES, sealed.authenticator);
  return !!opened && bytesToHex(opened.next) === DATA_NEXT && bytesToHex(opened.mkMac) === DATA_MKMAC && equalBytes(opened.plaintext, plain);
}

/** ChaCha20 over several four-block steps (a fault in the SIMD module's vector path alone shows here). */
function chachaLongAnswers(b: CryptoBackend): boolean {
  const ct = b.chacha20(pattern(32, 9, 0x33), pattern(12, 5, 0x70), pattern(CHACHA_LONG_BYTES, 19, 0x0b), 1);
  return bytesToHex(b.shake256([ct], 32)) === CHACHA_LONG_DIGEST;
}

/** OTRv3's HMAC-SHA1, where the backend has its own (also the hybrid self-test's check of OpenSSL's). */
export function hmacAnswers(b: Pick<CryptoBackend, 'hmacSha1'>): boolean {
  if (b.hmacSha1 === undefined) return true;
  const enc = (s: string) => new TextEncoder().encode(s);
  return bytesToHex(b.hmacSha1(enc(HMAC_KEY), enc(HMAC_DATA))) === HMAC_TAG;
}

/** Returns the name of the first failing check, or undefined if every check passes. */
export function selfTest(b: CryptoBackend): string | undefined {
  try {
    if (bytesToHex(b.shake256([], 32)) !== SHAKE_EMPTY) return 'shake256';
    const ct = b.chacha20(hexToBytes(CHACHA_KEY), hexToBytes(CHACHA_NONCE), hexToBytes(CHACHA_PT), 1);
    if (bytesToHex(ct) !== CHACHA_CT || !chachaLongAnswers(b)) return 'chacha20';
    // Public key = G * prune(SHAKE-256(sk, 114)[0..57]).
    const h = b.shake256([hexToBytes(ED448_SK)], 114).subarray(0, 57);
    h[0]! &= 0xfc;
    h[56] = 0;
    h[55]! |= 0x80;
    if (bytesToHex(b.pointMulBase(h)) !== ED448_PK) return 'ed448';
    const eight = b.modPow('modp3072', new Uint8Array([2]), new Uint8Array([3]));
    if (eight.length !== 384 || eight[383] !== 8 || eight.subarray(0, 383).some((x) => x !== 0)) return 'modpow';
    if (b.legendre('modp3072', new Uint8Array([4])) !== 1) return 'legendre';
    if (!aeadAnswers(b)) return 'aead';
    if (!dataMessageAnswers(b)) return 'datamsg';
    if (!hmacAnswers(b)) return 'hmac-sha1';
    return undefined;
  } catch {
    return 'exception';
  }
}
