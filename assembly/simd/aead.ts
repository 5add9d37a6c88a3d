// The SIMD module's record AEAD: assembly/aead.ts's XChaCha20-Poly1305 (calling convention there) with the
// stream on the four-block ChaCha20 kernel and the ciphertext's bulk through the two-blocks-per-step Poly1305,
// the whole seal or open in this one module (no stream handed between modules, no ciphertext copied back).
import { chacha20_data, chacha20_xor } from './chacha20x4';
import { polyPairs } from './poly1305x2';
import { AREA, AEAD_TAG, EXPECTED, checkLengths, keys, polyTestFinish, polyTestStart, tagAad, tagRest, verdict } from '../aead';

export { aead_area, aead_aad_max, aead_wipe } from '../aead';

/**
 * Below this many block pairs the scalar loop is as fast (the pair loop first squares r and fills two
 * coefficient tables): the records' associated data and short records stay scalar.
 */
const MIN_PAIRS: i32 = 4;

/** The ciphertext's leading pairs of blocks at p through the SIMD loop; the bytes it covered. */
function bulk(p: usize, len: i32): i32 {
  const pairs = len >> 5;
  if (pairs < MIN_PAIRS) return 0;
  polyPairs(p, pairs);
  return pairs << 5;
}

// These bodies repeat assembly/aead.ts's on purpose (as assembly/simd/datamsg.ts does): each module links
// its own kernels, and passing them in would make them indirect calls; the shared parts are aead.ts' halves.

function tag(aadLen: i32, len: i32, out: usize): void {
  tagAad(aadLen);
  tagRest(aadLen, len, bulk(chacha20_data(), len), out);
}

export function aead_seal(aadLen: i32, len: i32): void {
  checkLengths(aadLen, len);
  keys();
  chacha20_xor(len, 1); // wipes the subkey and nonce
  tag(aadLen, len, AREA + AEAD_TAG);
}

export function aead_open(aadLen: i32, len: i32): i32 {
  checkLengths(aadLen, len);
  keys();
  tag(aadLen, len, EXPECTED);
  if (!verdict()) return 0;
  chacha20_xor(len, 1);
  return 1;
}

/** The test hook of assembly/aead.ts with the message's leading block pairs through the SIMD loop. */
export function aead_poly1305_test(len: i32): void {
  polyTestStart(len);
  polyTestFinish(len, bulk(chacha20_data(), len));
}
