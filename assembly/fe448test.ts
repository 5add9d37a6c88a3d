// Test hooks for two field routines that no public entry point exposes alone: `feInv` (divsteps) with its
// reference `feInvFermat`, and `feIsSquareVar` (variable-time Jacobi). test/field448.test.ts checks them
// against BigInt. They take PUBLIC test values only: nothing here is wiped and the Jacobi hook is not
// constant time.
//
// Input: one element as 16 little-endian u32 limbs of 28 bits at IN = IO + 0 (64 bytes), so that tests can
// feed weakly reduced, non-canonical limbs (any limb below W = 2^28 + 2^9, see fe448.ts), which the 56-byte
// decoder cannot produce. Output: the canonical 56-byte little-endian encoding at OUT = IO + 128.
//
//   test_fe_inv(fermat)       -> OUT = 1/a (0 for a = 0) by divsteps, or by Fermat when fermat != 0; 1, or
//                                -1 (OUT untouched) if a limb is >= W
//   test_fe_is_square_var()   -> 1 iff a is a non-zero square mod p, 0 if not, -1 if a limb is >= W
import { IO } from './io';
import { Fe, feInv, feInvFermat, feIsSquareVar, feToBytes } from './fe448';

const IN: Fe = IO;
const OUT: usize = IO + 128;
const A: Fe = memory.data(64, 16);
const R: Fe = memory.data(64, 16);
const W: u32 = (1 << 28) + (1 << 9);

/** Copies the input limbs to A; false if one is outside the weakly reduced range the field code accepts. */
function loadLimbs(): bool {
  let ok = true;
  for (let i: usize = 0; i < 64; i += 4) {
    const l = load<u32>(IN + i);
    if (l >= W) ok = false;
    store<u32>(A + i, l);
  }
  return ok;
}

export function test_fe_inv(fermat: i32): i32 {
  if (!loadLimbs()) return -1;
  if (fermat != 0) feInvFermat(R, A);
  else feInv(R, A);
  feToBytes(OUT, R);
  return 1;
}

export function test_fe_is_square_var(): i32 {
  if (!loadLimbs()) return -1;
  return feIsSquareVar(A) ? 1 : 0;
}
