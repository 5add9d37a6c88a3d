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
//   test_fe_is_square_var(binary) -> 1 iff a is a non-zero square mod p, 0 if not, -1 if a limb is >= W; by
//                                feIsSquareVar (division steps), or by its binary fallback when binary != 0
//   test_fe_mul(op)           four elements a, b, c, d at MUL_IN = IO + 512 + 64*i (limbs below W) ->
//                                OUT = one product built from them (below), so that the uncarried operands
//                                (feAddNC, feSubNC, feCondNegNC) reach feMul/feSqr at their extreme limbs; 1
//                                if every result limb is below W (weakly reduced), 0 if not, -1 for a limb >= W
//                                or an unknown op. ops: 0 a*b, 1 a^2, 2 (a+b)(c+d), 3 (a+b)(c-d), 4 (a+b)^2,
//                                5 a(c-d), 6 (a+b)(-c+d), 7 a(-c), 8 a*c through feCondNegNC with a zero mask,
//                                9 (a+b)^2 - c - d by feSqrSub2, 10 a^2 - c - d with the output aliasing c
import { IO } from './io';
import {
  Fe, feInv, feInvFermat, feIsSquareVar, feIsSquareVarBinary, feToBytes, feMul, feSqr, feAddNC, feSubNC, feCondNegNC, feCopy, feSqrSub2,
} from './fe448';

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

export function test_fe_is_square_var(binary: i32): i32 {
  if (!loadLimbs()) return -1;
  return (binary != 0 ? feIsSquareVarBinary(A) : feIsSquareVar(A)) ? 1 : 0;
}

const MUL_IN: usize = IO + 512;
const MA: Fe = memory.data(64, 16);
const MB: Fe = memory.data(64, 16);
const MC: Fe = memory.data(64, 16);

export function test_fe_mul(op: i32): i32 {
  for (let i: usize = 0; i < 256; i += 4) if (load<u32>(MUL_IN + i) >= W) return -1;
  const a = MUL_IN, b = MUL_IN + 64, c = MUL_IN + 128, d = MUL_IN + 192;
  if (op == 0) feMul(R, a, b);
  else if (op == 1) feSqr(R, a);
  else if (op == 2) { feAddNC(MA, a, b); feAddNC(MB, c, d); feMul(R, MA, MB); }
  else if (op == 3) { feAddNC(MA, a, b); feSubNC(MB, c, d); feMul(R, MA, MB); }
  else if (op == 4) { feAddNC(MA, a, b); feSqr(R, MA); }
  else if (op == 5) { feSubNC(MB, c, d); feMul(R, a, MB); }
  else if (op == 6) { feAddNC(MA, a, b); feCopy(MC, c); feCondNegNC(MC, <u64>-1); feAddNC(MB, MC, d); feMul(R, MA, MB); }
  else if (op == 7) { feCopy(MC, c); feCondNegNC(MC, <u64>-1); feMul(R, a, MC); }
  else if (op == 8) { feCopy(MC, c); feCondNegNC(MC, 0); feMul(R, a, MC); }
  else if (op == 9) { feAddNC(MA, a, b); feSqrSub2(R, MA, c, d); }
  else if (op == 10) { feCopy(R, c); feSqrSub2(R, a, R, d); }
  else return -1;
  let weak = 1;
  for (let i: usize = 0; i < 64; i += 4) if (load<u32>(R + i) >= W) weak = 0;
  feToBytes(OUT, R);
  return weak;
}
