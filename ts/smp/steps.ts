/**
 * The SMP computations (otrv4.md §SMP Overview, §SMP Message 1–4, §The SMP State Machine), one function per
 * protocol step, with no state machine around them. Each takes the values the previous step stored and the
 * peer's decoded message, validates every received group element, checks every zero-knowledge proof, and
 * throws a typed OtrError (INVALID_POINT, BAD_SIGNATURE) on any failure; state.ts turns that into an abort.
 *
 * Notation follows the spec. Secret scalars (x, y, a2, a3, b2, b3, r2…r7) only ever meet the backend's
 * constant-time pointMulBase / pointMul / scalarMulAdd / scalarReduce. pointDoubleMulBase (variable time)
 * is used for proof verification only, where both scalars (c and d) are public values from the wire.
 * Random values are drawn in the order the spec lists them, which the known-answer transcript relies on.
 * Every one (the exponents a2, a3, b2, b3 and the proof nonces r2…r7) is uniform mod q (random.ts
 * uniformScalar), not hashed and pruned as the spec's text says: the nonces enter published D values next to
 * the secrets they blind, and a pruned value's residue mod 4 would leak bits of those secrets
 * (docs/interop.md §Random values in Z_q). The wire is unchanged.
 */
import type { CryptoBackend } from '../backend/types.js';
import { uniformScalar, type RandomSource } from '../crypto/random.js';
import { hashToScalar } from '../crypto/kdf.js';
import { SmpUsage } from '../crypto/usage.js';
import { IDENTITY_POINT, pointEquals, pointSub } from '../crypto/point.js';
import { equalBytes, wipe } from '../bytes.js';
import { OtrCryptoError } from '../errors.js';
import type { Smp1, Smp2, Smp3, Smp4 } from './messages.js';
import { scalarNeg } from '../crypto/eddsa.js';

/** What the initiator keeps after sending SMP1 (state EXPECT2). */
export interface InitiatorAfter1 {
  x: Uint8Array; // our secret, mod q
  a2: Uint8Array;
  a3: Uint8Array;
}

/** What the responder keeps after sending SMP2 (state EXPECT3). */
export interface ResponderAfter2 {
  g3a: Uint8Array;
  g2: Uint8Array;
  g3: Uint8Array;
  b3: Uint8Array;
  pb: Uint8Array;
  qb: Uint8Array;
}

/** What the initiator keeps after sending SMP3 (state EXPECT4). */
export interface InitiatorAfter3 {
  g3b: Uint8Array;
  paPb: Uint8Array; // Pa − Pb
  qaQb: Uint8Array; // Qa − Qb
  a3: Uint8Array;
}

/** Throws unless `p` is on the curve, canonical, not the identity and in the prime-order subgroup. */
function requireValid(b: CryptoBackend, p: Uint8Array, name: string): void {
  if (!b.pointIsValid(p)) throw new OtrCryptoError('INVALID_POINT', `SMP: ${name} is not a valid group element`);
}

function requireProof(c: Uint8Array, expected: Uint8Array, name: string): void {
  if (!equalBytes(c, expected)) throw new OtrCryptoError('BAD_SIGNATURE', `SMP: proof ${name} does not verify`);
}

/** d = r − secret·c mod q (interpretations.md §9): one negation of the public c, one multiply-add. */
function proofResponse(b: CryptoBackend, r: Uint8Array, secret: Uint8Array, c: Uint8Array): Uint8Array {
  return b.scalarMulAdd(secret, scalarNeg(b, c), r);
}

/** Proof of knowledge of log_G(P): c = HashToScalar(i || G·r), d = r − secret·c. Wipes nothing. */
function proveLog(b: CryptoBackend, usage: number, secret: Uint8Array, r: Uint8Array): { c: Uint8Array; d: Uint8Array } {
  const t = b.pointMulBase(r);
  const c = hashToScalar(b, usage, [t]);
  return { c, d: proofResponse(b, r, secret, c) };
}

/** Checks c == HashToScalar(i || G·d + P·c) for a public P, c, d. */
function checkLog(b: CryptoBackend, usage: number, p: Uint8Array, c: Uint8Array, d: Uint8Array, name: string): void {
  requireProof(c, hashToScalar(b, usage, [b.pointDoubleMulBase(d, p, c)]), name);
}

/** G·s + P·t, constant time in s and t (P·t with P secret-derived or t secret). */
function mulBaseAdd(b: CryptoBackend, s: Uint8Array, p: Uint8Array, t: Uint8Array): Uint8Array {
  return b.pointAdd(b.pointMulBase(s), b.pointMul(p, t));
}

// ---------------------------------------------------------------- SMP message 1 (initiator)

/** Alice: SMP message 1 and what to keep. `x` is the (pruned) secret from secret.ts; it is reduced here. */
export function createSmp1(
  b: CryptoBackend,
  rng: RandomSource,
  x: Uint8Array,
  question: Uint8Array,
): { message: Smp1; keep: InitiatorAfter1 } {
  const a2 = uniformScalar(b, rng);
  const a3 = uniformScalar(b, rng);
  const r2 = uniformScalar(b, rng);
  const r3 = uniformScalar(b, rng);
  const g2a = b.pointMulBase(a2);
  const g3a = b.pointMulBase(a3);
  const p2 = proveLog(b, SmpUsage.g2a, a2, r2);
  const p3 = proveLog(b, SmpUsage.g3a, a3, r3);
  wipe(r2, r3);
  return {
    message: { question, g2a, c2: p2.c, d2: p2.d, g3a, c3: p3.c, d3: p3.d },
    keep: { x: b.scalarReduce(x), a2, a3 },
  };
}

/** Bob: validates SMP message 1 (both points, both proofs) before the user is asked for the answer. */
export function verifySmp1(b: CryptoBackend, m: Smp1): void {
  requireValid(b, m.g2a, 'G2a');
  requireValid(b, m.g3a, 'G3a');
  checkLog(b, SmpUsage.g2a, m.g2a, m.c2, m.d2, 'c2/d2');
  checkLog(b, SmpUsage.g3a, m.g3a, m.c3, m.d3, 'c3/d3');
}

// ---------------------------------------------------------------- SMP message 2 (responder)

/** Bob: SMP message 2 from Alice's verified G2a, G3a and his secret `y` (pruned, from secret.ts). */
export function createSmp2(
  b: CryptoBackend,
  rng: RandomSource,
  g2a: Uint8Array,
  g3a: Uint8Array,
  y: Uint8Array,
): { message: Smp2; keep: ResponderAfter2 } {
  const b2 = uniformScalar(b, rng);
  const b3 = uniformScalar(b, rng);
  const r2 = uniformScalar(b, rng);
  const r3 = uniformScalar(b, rng);
  const r4 = uniformScalar(b, rng);
  const r5 = uniformScalar(b, rng);
  const r6 = uniformScalar(b, rng);
  const g2b = b.pointMulBase(b2);
  const g3b = b.pointMulBase(b3);
  const p2 = proveLog(b, SmpUsage.g2b, b2, r2);
  const p3 = proveLog(b, SmpUsage.g3b, b3, r3);
  // G2a, G3a are valid (verifySmp1) and b2, b3 are non-zero mod q (a uniform draw is 0 with probability
  // 1/q ≈ 2^-446), so G2 and G3 are valid; the spec's re-check of them, and of Pb and Qb built from them,
  // cannot fail and is not repeated.
  const g2 = b.pointMul(g2a, b2);
  const g3 = b.pointMul(g3a, b3);
  const yq = b.scalarReduce(y);
  const pb = b.pointMul(g3, r4);
  const qb = mulBaseAdd(b, r4, g2, yq);
  const cp = hashToScalar(b, SmpUsage.pbQb, [b.pointMul(g3, r5), mulBaseAdd(b, r5, g2, r6)]);
  const d5 = proofResponse(b, r5, r4, cp);
  const d6 = proofResponse(b, r6, yq, cp);
  wipe(b2, r2, r3, r4, r5, r6, yq);
  return {
    message: { g2b, c2: p2.c, d2: p2.d, g3b, c3: p3.c, d3: p3.d, pb, qb, cp, d5, d6 },
    keep: { g3a: g3a.slice(), g2, g3, b3, pb, qb },
  };
}

// ---------------------------------------------------------------- SMP message 3 (initiator)

/** Alice: verifies SMP message 2 and answers with SMP message 3. */
export function processSmp2(
  b: CryptoBackend,
  rng: RandomSource,
  st: InitiatorAfter1,
  m: Smp2,
): { message: Smp3; keep: InitiatorAfter3 } {
  requireValid(b, m.g2b, 'G2b');
  requireValid(b, m.g3b, 'G3b');
  requireValid(b, m.pb, 'Pb');
  requireValid(b, m.qb, 'Qb');
  checkLog(b, SmpUsage.g2b, m.g2b, m.c2, m.d2, 'c2/d2');
  checkLog(b, SmpUsage.g3b, m.g3b, m.c3, m.d3, 'c3/d3');
  const g2 = b.pointMul(m.g2b, st.a2);
  const g3 = b.pointMul(m.g3b, st.a3);
  try {
    return answerSmp2(b, rng, st, m, g2, g3);
  } finally {
    wipe(g2, g3); // also when the peer's proof fails: G2 and G3 are secret-derived
  }
}

/** processSmp2 after the points and both log proofs check out; G2, G3 are the caller's to wipe. */
function answerSmp2(
  b: CryptoBackend,
  rng: RandomSource,
  st: InitiatorAfter1,
  m: Smp2,
  g2: Uint8Array,
  g3: Uint8Array,
): { message: Smp3; keep: InitiatorAfter3 } {
  // cp == HashToScalar(5 || G3·d5 + Pb·cp || G·d5 + G2·d6 + Qb·cp): public scalars, secret-derived G2, G3.
  const t1 = b.pointAdd(b.pointMul(g3, m.d5), b.pointMul(m.pb, m.cp));
  const t2 = b.pointAdd(b.pointDoubleMulBase(m.d5, g2, m.d6), b.pointMul(m.qb, m.cp));
  requireProof(m.cp, hashToScalar(b, SmpUsage.pbQb, [t1, t2]), 'cp/d5/d6');

  const r4 = uniformScalar(b, rng);
  const r5 = uniformScalar(b, rng);
  const r6 = uniformScalar(b, rng);
  const r7 = uniformScalar(b, rng);
  const pa = b.pointMul(g3, r4);
  const qa = mulBaseAdd(b, r4, g2, st.x);
  const cp = hashToScalar(b, SmpUsage.paQa, [b.pointMul(g3, r5), mulBaseAdd(b, r5, g2, r6)]);
  const d5 = proofResponse(b, r5, r4, cp);
  const d6 = proofResponse(b, r6, st.x, cp);
  const paPb = pointSub(b, pa, m.pb);
  const qaQb = pointSub(b, qa, m.qb);
  // Qa − Qb = I would make Ra the identity; it means Qb was built from our own fresh Qa: impossible for an
  // honest peer, so treat it as cheating rather than send a degenerate Ra.
  if (pointEquals(qaQb, IDENTITY_POINT)) throw new OtrCryptoError('INVALID_POINT', 'SMP: Qa − Qb is the identity');
  const ra = b.pointMul(qaQb, st.a3);
  const cr = hashToScalar(b, SmpUsage.ra, [b.pointMulBase(r7), b.pointMul(qaQb, r7)]);
  const d7 = proofResponse(b, r7, st.a3, cr);
  wipe(r4, r5, r6, r7);
  return {
    message: { pa, qa, cp, d5, d6, ra, cr, d7 },
    keep: { g3b: m.g3b.slice(), paPb, qaQb, a3: st.a3.slice() },
  };
}

// ---------------------------------------------------------------- SMP message 4 (responder)

/** Bob: verifies SMP message 3, answers with SMP message 4, and learns whether the secrets matched. */
export function processSmp3(
  b: CryptoBackend,
  rng: RandomSource,
  st: ResponderAfter2,
  m: Smp3,
): { message: Smp4; match: boolean } {
  requireValid(b, m.pa, 'Pa');
  requireValid(b, m.qa, 'Qa');
  requireValid(b, m.ra, 'Ra');
  const t1 = b.pointAdd(b.pointMul(st.g3, m.d5), b.pointMul(m.pa, m.cp));
  const t2 = b.pointAdd(b.pointDoubleMulBase(m.d5, st.g2, m.d6), b.pointMul(m.qa, m.cp));
  requireProof(m.cp, hashToScalar(b, SmpUsage.paQa, [t1, t2]), 'cp/d5/d6');
  const qaQb = pointSub(b, m.qa, st.qb);
  if (pointEquals(qaQb, IDENTITY_POINT)) throw new OtrCryptoError('INVALID_POINT', 'SMP: Qa − Qb is the identity');
  // cr == HashToScalar(7 || G·d7 + G3a·cr || (Qa − Qb)·d7 + Ra·cr)
  const u1 = b.pointDoubleMulBase(m.d7, st.g3a, m.cr);
  const u2 = b.pointAdd(b.pointMul(qaQb, m.d7), b.pointMul(m.ra, m.cr));
  requireProof(m.cr, hashToScalar(b, SmpUsage.ra, [u1, u2]), 'cr/d7');

  const r7 = uniformScalar(b, rng);
  const rb = b.pointMul(qaQb, st.b3);
  const cr = hashToScalar(b, SmpUsage.rb, [b.pointMulBase(r7), b.pointMul(qaQb, r7)]);
  const d7 = proofResponse(b, r7, st.b3, cr);
  const rab = b.pointMul(m.ra, st.b3);
  const match = pointEquals(rab, pointSub(b, m.pa, st.pb));
  wipe(r7, rab);
  return { message: { rb, cr, d7 }, match };
}

// ---------------------------------------------------------------- result (initiator)

/** Alice: verifies SMP message 4 and learns whether the secrets matched. */
export function processSmp4(b: CryptoBackend, st: InitiatorAfter3, m: Smp4): boolean {
  requireValid(b, m.rb, 'Rb');
  // cr == HashToScalar(8 || G·d7 + G3b·cr || (Qa − Qb)·d7 + Rb·cr)
  const u1 = b.pointDoubleMulBase(m.d7, st.g3b, m.cr);
  const u2 = b.pointAdd(b.pointMul(st.qaQb, m.d7), b.pointMul(m.rb, m.cr));
  requireProof(m.cr, hashToScalar(b, SmpUsage.rb, [u1, u2]), 'cr/d7');
  const rab = b.pointMul(m.rb, st.a3);
  const match = pointEquals(rab, st.paPb);
  wipe(rab);
  return match;
}
