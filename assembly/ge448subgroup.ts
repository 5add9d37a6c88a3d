// Prime-order subgroup membership for edwards448 by two field exponentiations instead of a scalar
// multiplication by q. E(F_p) is cyclic of order 4q (the only rational torsion points are the identity,
// (0, -1) of order 2 and (±1, 0) of order 4), so P is in the subgroup of order q exactly when P ∈ 4E:
//
//   1. P ∈ 2E  ⟺  1 - d·x² is a non-zero square.
//      Through the birational Montgomery model, Y² = X(X² + A·B·X + B²) with X = 4(1 + y) / ((1 - d)(1 - y)),
//      whose only rational 2-torsion point is (0, 0): descent via that point maps P to the class of X mod
//      squares, a homomorphism onto {±1} whose kernel is the unique index-2 subgroup 2E. Since 2 is a square
//      (p ≡ 7 mod 8), P ∈ 2E ⟺ χ((1 - d)(1 - y²)) = 1 (the "y criterion"). The curve's symmetry gives
//      P + (1, 0) = (y, -x), a point outside 2E exactly when P is inside, and χ(1 - d) = χ(39082) = -1, so the
//      y criterion of P + (1, 0) reads χ(1 - x²) = 1; on the curve y²(1 - d·x²) = 1 - x², so (for y ≠ 0) this
//      is χ(1 - d·x²) = 1. For y = 0 (the points of order 4), 1 - d·x² = 1 - d is not a square: rejected.
//   2. P ∈ 4E  ⟺  P = 2Q with Q ∈ 2E. With r = √(1 - d·x²), the halves Q have x_Q² + y_Q² = σ =
//      2(1 ± r)/(d·x²) (from x_P = 2·x_Q·y_Q / (x_Q² + y_Q²) and the curve equation) and 1 - y_Q² =
//      (2 - σ)(1 - y)/2, so Q's y criterion, multiplied through by the square (d·x²)², is
//      χ((2·d·x² - 2(1 + r)) · d·x² · (1 - d) · (1 - y)) = 1. Either root r gives the same answer (the two
//      halves differ by the order-2 point, which is in 2E). x = 0 (the identity, (0, -1)) makes it 0: rejected.
//
// Cost: one exponentiation to (p - 3)/4 (about 445 squarings, for r) and one Legendre symbol by division
// steps (~2 µs, a fifth of an exponentiation; fe448.ts feIsSquareVar), against ~446 doublings and ~40
// additions for q·P. Tests
// (test/ed448-group.test.ts) compare the answer with noble's q·P check on random points of all four cosets and
// on every small-order point. Public input: the Legendre symbol is VARIABLE time (it branches on the value);
// only public points may come here (received keys and ring members), never a secret one.
import { Fe, feMul, feSqr, feSub, feAdd, feMulSmall, feOne, feNeg, feEq, fePowP34, feWipe, feIsSquareVar } from './fe448';
import { Ge, D_ABS, gX, gY } from './ge448';

const ONE: Fe = memory.data(64, 16);
const DX2: Fe = memory.data(64, 16); // d·x²
const S: Fe = memory.data(64, 16); // 1 - d·x²
const R: Fe = memory.data(64, 16); // √S
const T: Fe = memory.data(64, 16);
const W: Fe = memory.data(64, 16);

/** True iff the (decoded, on-curve, Z = 1) point p lies in the subgroup of order q. The identity is in it;
 *  callers that must refuse the identity check that separately. */
export function geIsTorsionFree(p: Ge): bool {
  feOne(ONE);
  // d·x² = -|d|·x²
  feSqr(DX2, gX(p));
  feMulSmall(DX2, DX2, D_ABS);
  feNeg(DX2, DX2);
  feSub(S, ONE, DX2);
  // r = S^((p+1)/4) = S · S^((p-3)/4); genuine iff r² = S
  fePowP34(R, S);
  feMul(R, R, S);
  feSqr(W, R);
  let ok = feEq(W, S);
  // (2·d·x² - 2(1 + r)) · d·x² · (1 - d) · (1 - y)
  feAdd(W, ONE, R);
  feSub(W, DX2, W);
  feAdd(W, W, W);
  feMul(W, W, DX2);
  feMulSmall(W, W, D_ABS + 1);
  feSub(T, ONE, gY(p));
  feMul(W, W, T);
  if (!feIsSquareVar(W)) ok = 0; // public point: variable time is fine here
  feWipe(DX2); feWipe(S); feWipe(R); feWipe(T); feWipe(W);
  return ok != 0;
}
