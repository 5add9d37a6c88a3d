// ECDH with a received key in one call: the key's validation (as ed448_is_valid) and the multiplication
// (as ed448_mul) share one decoding of the point, instead of one per call (a decoding is a field
// exponentiation, ~6% of a variable-base multiplication). Same I/O slots as assembly/ed448.ts:
//
//   ed448_mul_valid()          point S0, k S1                             -> 1 and OUT = P*(k mod q) iff P
//                                                                            decodes, is not the identity and
//                                                                            q*P = O; else 0 (OUT untouched)
//
// Constant time in k; the point is public (the validation branches on it, as ed448_is_valid does). The input
// slots and every intermediate are wiped before returning; the caller zeroes OUT after reading it.
import { IO } from './io';
import { Ge, GE_SIZE, geDecode, geEncode, geIsIdentity } from './ge448';
import { geMulCT, geMulWipe } from './ge448mul';
import { SC_SIZE, scReduce57, scWipe } from './sc448';
import { geIsTorsionFree } from './ge448subgroup';

const S0: usize = IO;
const S1: usize = IO + 128;
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
    geMulCT(VK, VP, VS);
    geEncode(OUT, VK);
  }
  memory.fill(IO, 0, IN_BYTES);
  memory.fill(VP, 0, GE_SIZE);
  memory.fill(VK, 0, GE_SIZE);
  scWipe(VS);
  geMulWipe(); // also the field and formula scratch
  return <i32>ok;
}
