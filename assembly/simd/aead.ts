// The SIMD module's record AEAD: assembly/aead.ts's XChaCha20-Poly1305 entry points (calling convention
// there) with this module's kernels installed at start: the stream on the four-block ChaCha20 kernel and the
// ciphertext's bulk through the two-blocks-per-step Poly1305, the whole seal or open in this one module (no
// stream handed between modules, no ciphertext copied back).
import { chacha20_xor } from './chacha20x4';
import { polyPairs } from './poly1305x2';
import { useKernels } from '../aead';

export { aead_area, aead_aad_max, aead_seal, aead_open, aead_wipe, aead_poly1305_test } from '../aead';

/**
 * Below this many block pairs the scalar loop is as fast (the pair loop first squares r and lays out two sets
 * of coefficients): the records' associated data and short records stay scalar.
 */
const MIN_PAIRS: i32 = 4;

/** The leading pairs of 16-byte blocks at p through the SIMD loop; the bytes it covered. */
function bulk(p: usize, len: i32): i32 {
  const pairs = len >> 5;
  if (pairs < MIN_PAIRS) return 0;
  polyPairs(p, pairs);
  return pairs << 5;
}

useKernels(chacha20_xor, bulk);
