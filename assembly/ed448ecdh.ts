// ECDH with a received key in one call: the key's validation (as ed448_is_valid) and the multiplication
// (as ed448_mul) share one decoding of the point, instead of one per call (a decoding is a field
// exponentiation, ~6% of a variable-base multiplication). Same I/O slots as assembly/ed448.ts:
//
//   ed448_mul_valid()          point S0, k S1                             -> 1 and OUT = P*(k mod q) iff P
//                                                                            decodes, is not the identity and
//                                                                            q*P = O, and OUT + 64 = P's x
//                                                                            (canonical, 56 bytes); else 0
//   ed448_mul_hinted()         point S0, k S1, x S2                       -> as ed448_mul: 1 and OUT =
//                                                                            P*(k mod q), 0 if P does not decode
//
// The hint: the sender's step multiplies the key the receiver step has just checked; the WASM adapter keeps
// the x that ed448_mul_valid decoded beside that very key array (a WeakMap on the array object, never on its
// bytes) and passes it back here, where it replaces the square root once it is proven to be the decoding's x:
// canonical, on the curve with the encoding's y (x^2 (1 - d y^2) = 1 - y^2), of the sign bit's parity. Those
// determine x uniquely, so the point, the result and the refusals are exactly ed448_mul's; a hint that fails
// the proof (stale, altered) only costs the full decoding.
//
// Constant time in k; the point is public (the validation branches on it, as ed448_is_valid does). The input
// slots and every intermediate are wiped before returning; the caller zeroes OUT after reading it.
import { IO } from './io';
import { Ge, GE_SIZE, gX, geDecode, geDecodeHinted, geEncode, geIsIdentity } from './ge448';
import { feToBytes } from './fe448';
import { geMulCT, geMulWipe } from './ge448mul';
import { SC_SIZE, scReduce57, scWipe } from './sc448';
import { geIsTorsionFree } from './ge448subgroup';

const S0: usize = IO;
const S1: usize = IO + 128;
const S2: usize = IO + 256;
const OUT: usize = IO + 384;
const IN_BYTES: usize = 384;

const VP: Ge = memory.data(<i32>GE_SIZE, 16);
const VK: Ge = memory.data(<i32>GE_SIZE, 16);
const VS: usize = memory.data(<i32>SC_SIZE, 16);

export function ed448_mul_valid(): i32 {
  let ok = geDecode(VP, S0);
  if (ok) ok = geIsIdentity(VP) == 0;
  if (ok) ok = geIsTorsionFree(VP);
  if (ok) {
    scReduce57(VS, S1);
    feToBytes(OUT + 64, gX(VP)); // public: the hint for the sender's step (see above)
    geMulCT(VK, VP, VS);
    geEncode(OUT, VK);
  }
  wipeCall();
  return <i32>ok;
}

export function ed448_mul_hinted(): i32 {
  let ok: bool = geDecodeHinted(VP, S0, S2);
  if (!ok) ok = geDecode(VP, S0);
  if (ok) {
    scReduce57(VS, S1);
    geMulCT(VK, VP, VS);
    geEncode(OUT, VK);
  }
  wipeCall();
  return <i32>ok;
}

/** Wipes what either entry point leaves behind: the inputs (the scalar among them), the points, the reduced
 *  scalar and the multiplication's field and formula scratch. */
function wipeCall(): void {
  memory.fill(IO, 0, IN_BYTES);
  memory.fill(VP, 0, GE_SIZE);
  memory.fill(VK, 0, GE_SIZE);
  scWipe(VS);
  geMulWipe();
}
