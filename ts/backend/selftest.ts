/**
 * Known-answer self-test run by `init()` on the backend it is about to activate. A WASM module that was
 * miscompiled, truncated or tampered with fails here and the library falls back to JS instead of computing
 * wrong keys. Each answer is an external vector (RFC 8032, FIPS 202, RFC 8439, RFC 3526 arithmetic).
 */
import type { CryptoBackend } from './types.js';
import { bytesToHex, hexToBytes } from '../bytes.js';

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

/** Returns the name of the first failing check, or undefined if every check passes. */
export function selfTest(b: CryptoBackend): string | undefined {
  try {
    if (bytesToHex(b.shake256([], 32)) !== SHAKE_EMPTY) return 'shake256';
    const ct = b.chacha20(hexToBytes(CHACHA_KEY), hexToBytes(CHACHA_NONCE), hexToBytes(CHACHA_PT), 1);
    if (bytesToHex(ct) !== CHACHA_CT) return 'chacha20';
    // Public key = G * prune(SHAKE-256(sk, 114)[0..57]).
    const h = b.shake256([hexToBytes(ED448_SK)], 114).subarray(0, 57);
    h[0]! &= 0xfc;
    h[56] = 0;
    h[55]! |= 0x80;
    if (bytesToHex(b.pointMulBase(h)) !== ED448_PK) return 'ed448';
    const eight = b.modPow('modp3072', new Uint8Array([2]), new Uint8Array([3]));
    if (eight.length !== 384 || eight[383] !== 8 || eight.subarray(0, 383).some((x) => x !== 0)) return 'modpow';
    if (b.legendre('modp3072', new Uint8Array([4])) !== 1) return 'legendre';
    return undefined;
  } catch {
    return 'exception';
  }
}
