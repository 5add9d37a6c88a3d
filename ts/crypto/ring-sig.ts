/**
 * The OTRv4 ring signature (otrv4.md appendix "Ring Signature Authentication"; interpretations.md §4): a
 * Schnorr-style signature of knowledge of the secret of one of three Ed448 public keys, which the DAKEs use
 * for deniable authentication. Byte-level choices that the spec leaves open follow interpretations.md §4:
 *   c = HashToScalar(0x1A, G || q || A1 || A2 || A3 || T1 || T2 || T3 || DATA(m)),
 * with G and every A_i, T_i as POINTs, q as its raw 57 little-endian bytes, m length-prefixed (DATA); the
 * wire form is c1 || r1 || c2 || r2 || c3 || r3 (342 bytes).
 *
 * The algorithm is written once, over an injected `RingChallenge` (ringSignWith / ringVerifyWith): OTRv4's
 * RSig/RVrf (ringSign / ringVerify) use the challenge above; the prekey-server DAKE
 * (ts/prekey-server/ring-sig.ts) hashes the same values under its own KDF prefix and usage.
 *
 * Deniability also needs the signer's slot to stay hidden from timing. Signing therefore runs the spec's
 * "generalised" variant: after one constant-time selection of the slot, every T_i is computed by the same
 * sequence — T_i = G·x_i + A_i·y_i, with (x_i, y_i) = (t, 0) in the signer's slot and (r_i, c_i) in the
 * others — and every output scalar is a constant-time select. No branch or index depends on the slot.
 * Residuals: the selection masks live in JS numbers (the JIT could in principle branch on them, which no
 * engine is known to do for bitwise ops); and the JS backend's BigInt/noble arithmetic is not constant time
 * at all (its pointMul returns early for a zero multiplier), so only the WASM backend keeps the slot
 * private against a timing observer. (WASM's pointMul is a fixed signed-radix-16 window over complete
 * additions: a zero multiplier costs exactly what any other does.)
 */
import type { CryptoBackend } from '../backend/types.js';
import { abytes, equalBytes, wipe } from '../bytes.js';
import { OtrArgumentError, OtrCryptoError } from '../errors.js';
import { uniformScalar, type RandomSource } from './random.js';
import { hashToScalar } from './kdf.js';
import { Usage } from './usage.js';
import { BASE_POINT, IDENTITY_POINT, pointEquals } from './point.js';
import { SCALAR_Q_LE, scalarAdd, scalarNeg, scalarSub } from './eddsa.js';
import type { ValidPoint } from './validated.js';

export const RING_SIG_BYTES = 342;
const S = 57;

export type Ring = readonly [Uint8Array, Uint8Array, Uint8Array];
/** A ring whose members were validated where they entered (validated.ts). */
export type ValidRing = readonly [ValidPoint, ValidPoint, ValidPoint];

declare const checkedSignerMark: unique symbol;

/**
 * A signing key pair whose secret was checked against its public key once, by `checkSigningKey`: G·secret =
 * publicKey and publicKey is not the identity (so it is a valid point). An account's identity key never
 * changes, so the DAKEs sign with this and each signature saves the G·secret product that ringSign* computes
 * to check the pair (docs/performance.md §The interactive DAKE's time). The arrays are the caller's, not
 * copies: wiping the account's key wipes these; changing their bytes afterwards breaks the mark.
 */
export interface CheckedSigner {
  readonly secretScalar: Uint8Array;
  readonly publicKey: ValidPoint;
  readonly [checkedSignerMark]: true;
}

/**
 * The one check behind a CheckedSigner: OtrArgumentError (the same error ringSign raises per signature)
 * unless G·secretScalar = publicKey and publicKey is not the identity.
 */
export function checkSigningKey(b: CryptoBackend, secretScalar: Uint8Array, publicKey: Uint8Array): CheckedSigner {
  abytes(secretScalar, S, 'ring signature secret');
  abytes(publicKey, S, 'ring signature public key');
  checkPair(b, secretScalar, publicKey);
  return { secretScalar, publicKey: publicKey as ValidPoint } as CheckedSigner;
}

const ZERO = new Uint8Array(S);

/** out = mask ? a : b, byte-wise with an all-ones/all-zeros mask; no branch on `mask`. */
function ctSelect(mask: number, a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  const m = mask & 0xff;
  for (let i = 0; i < a.length; i++) out[i] = (a[i]! & m) | (b[i]! & ~m & 0xff);
  return out;
}

/** 0xff..ff if a == b (equal lengths), else 0; scans every byte. */
function ctEqMask(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  // d in [0, 255]: d - 1 is negative exactly when d == 0; its sign bit spread over all 32 bits is the mask.
  return (d - 1) >> 31;
}

/** DATA(m): 4-byte big-endian length, then m (interpretations.md §4: the spec's m is DATA-encoded). */
function dataLength(m: Uint8Array): Uint8Array {
  const n = m.length;
  if (n > 0xffffffff) throw new OtrArgumentError('message too long for a DATA field');
  return new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/**
 * A ring signature's challenge c = HashToScalar(G || q || A1 || A2 || A3 || T1 || T2 || T3 || DATA(m)) under
 * some KDF and usage: must return a 57-byte scalar already reduced mod q. Build its input with
 * `ringChallengeInput`, so every protocol hashes the same values in the same order.
 */
export type RingChallenge = (b: CryptoBackend, ring: Ring, T: readonly Uint8Array[], m: Uint8Array) => Uint8Array;

/** The values every ring-signature challenge hashes, in order: G, q, A1..A3, T1..T3, DATA(m). */
export function ringChallengeInput(ring: Ring, T: readonly Uint8Array[], m: Uint8Array): Uint8Array[] {
  return [BASE_POINT, SCALAR_Q_LE, ring[0], ring[1], ring[2], T[0]!, T[1]!, T[2]!, dataLength(m), m];
}

/** OTRv4's challenge: HashToScalar under the "OTRv4" KDF with usage_auth 0x1A. */
export const otrv4RingChallenge: RingChallenge = (b, ring, T, m) => hashToScalar(b, Usage.auth, ringChallengeInput(ring, T, m));

function checkRingShape(ring: unknown): asserts ring is Ring {
  if (!Array.isArray(ring) || ring.length !== 3) throw new OtrArgumentError('ring must hold exactly three public keys');
  for (const a of ring) abytes(a, undefined, 'ring member');
}

/** The signing entry points' argument checks, in the order both apply them (ring members follow). */
function checkSignArgs(secretScalar: Uint8Array, publicKey: Uint8Array, ring: unknown, message: Uint8Array): asserts ring is Ring {
  abytes(secretScalar, S, 'ring signature secret');
  abytes(publicKey, S, 'ring signature public key');
  abytes(message, undefined, 'message');
  checkRingShape(ring);
}

/** The verifying entry points' argument checks: throws for non-bytes, false for a sigma of the wrong length. */
function verifyArgsOk(ring: unknown, sigma: Uint8Array, message: Uint8Array): boolean {
  checkRingShape(ring);
  abytes(sigma, undefined, 'ring signature');
  abytes(message, undefined, 'message');
  return sigma.length === RING_SIG_BYTES;
}

/**
 * RSig(A_i, a_i, {A1, A2, A3}, m) over `challenge`: a 342-byte ring signature on `message` by the holder of
 * `secretScalar` (57-byte little-endian, the a with publicKey = G·a — for an Ed448 identity key that is
 * `ed448KeyPair(b, seed).scalar`, for an ECDH key its `secret`), whose public key must be one of the ring
 * members.
 * Ring members must be valid points (OtrCryptoError('INVALID_POINT') otherwise); a secret that does not
 * match `publicKey`, or a key that is not in the ring, is a caller error (OtrArgumentError).
 */
export function ringSignWith(
  challenge: RingChallenge,
  b: CryptoBackend,
  random: RandomSource,
  secretScalar: Uint8Array,
  publicKey: Uint8Array,
  ring: Ring,
  message: Uint8Array,
): Uint8Array {
  checkSignArgs(secretScalar, publicKey, ring, message);
  for (const a of ring) abytes(a, S, 'ring member');
  // A backend with the fused commitments validates each member as it decodes it (once, not twice).
  if (b.ringSignCommitments) return signOverValidRing(challenge, b, random, secretScalar, publicKey, ring as ValidRing, message, true);
  for (const a of ring) if (!b.pointIsValid(a)) throw invalidMember();
  return signOverValidRing(challenge, b, random, secretScalar, publicKey, ring as ValidRing, message, false);
}

function invalidMember(): OtrCryptoError {
  return new OtrCryptoError('INVALID_POINT', 'ring member is not a valid point');
}

/** ringSignWith for a ring validated where its members entered: no pointIsValid here. */
export function ringSignValidatedWith(
  challenge: RingChallenge,
  b: CryptoBackend,
  random: RandomSource,
  secretScalar: Uint8Array,
  publicKey: Uint8Array,
  ring: ValidRing,
  message: Uint8Array,
): Uint8Array {
  checkSignArgs(secretScalar, publicKey, ring, message);
  for (const a of ring) abytes(a, S, 'ring member');
  return signOverValidRing(challenge, b, random, secretScalar, publicKey, ring, message, false);
}

/**
 * ringSignValidatedWith for a key pair checked once (checkSigningKey): the same draws, bytes and errors for
 * the same inputs, without re-checking G·secret = publicKey (one fixed-base multiplication fewer).
 */
export function ringSignCheckedWith(
  challenge: RingChallenge,
  b: CryptoBackend,
  random: RandomSource,
  signer: CheckedSigner,
  ring: ValidRing,
  message: Uint8Array,
): Uint8Array {
  checkSignArgs(signer.secretScalar, signer.publicKey, ring, message);
  for (const a of ring) abytes(a, S, 'ring member');
  return signOverValidRing(challenge, b, random, signer.secretScalar, signer.publicKey, ring, message, false, true);
}

/**
 * Signs; with `validate`, the fused backend call checks the members first (only set when the backend has it).
 * One flow for both ways of computing the commitments T_i (fusedCommitments, separateCommitments): the same
 * draws, the same T_i, the same bytes, and the errors in the same order (invalid member, secret mismatch, key
 * outside the ring); the fused call reports its errors after the draws.
 */
function signOverValidRing(
  challenge: RingChallenge,
  b: CryptoBackend,
  random: RandomSource,
  secretScalar: Uint8Array,
  publicKey: Uint8Array,
  ring: ValidRing,
  message: Uint8Array,
  validate: boolean,
  checked = false,
): Uint8Array {
  const fused = b.ringSignCommitments !== undefined;
  // Constant-time slot selection; the first matching slot signs if the key appears more than once (any
  // other copy is simulated like a foreign key, which is sound for any public key).
  const sel = signerMasks(ring, publicKey);
  // A checked pair (checkSigningKey) skips the G·secret product: `false` is its known answer.
  if (!fused) checkSigner(b, secretScalar, publicKey, checked ? false : undefined, sel);

  // The same seven draws whichever slot signs: t, then (c_i, r_i) for every slot. All uniform mod q: the
  // simulated c_j, r_j go on the wire as drawn and must look exactly like the signer's computed (uniform)
  // ones, and t blinds the secret in r_signer (docs/interop.md §Random values in Z_q).
  const { t, c, r } = drawNonces(b, random);
  const temps: Uint8Array[] = [t, ...c, ...r];
  try {
    const T = fused
      ? fusedCommitments(b, ring, validate, checked, sel, secretScalar, publicKey, t, c, r)
      : separateCommitments(b, ring, sel, t, c, r, temps);
    const ch = challenge(b, ring, T, message);
    temps.push(ch);
    return finishSignature(b, sel, secretScalar, t, c, r, ch, temps);
  } finally {
    // The nonce t, and everything that mixes it with the secret, also when the challenge or a backend call
    // throws part-way.
    wipe(...temps);
  }
}

/**
 * The secret must be the one behind publicKey: a mismatch would yield a signature nobody can verify. A key
 * equal to G·secret is in the prime-order subgroup; the identity (secret ≡ 0 mod q) is refused too, so the
 * signer's own ring member is valid whether or not the caller validated it. `fusedMismatch`: the fused call's
 * answer to G·secret ≠ publicKey (undefined: computed here). Whether the key is in the ring at all is the
 * caller's own (public) fact, so that branch leaks nothing.
 */
function checkSigner(b: CryptoBackend, secretScalar: Uint8Array, publicKey: Uint8Array, fusedMismatch: boolean | undefined, sel: readonly number[]): void {
  checkPair(b, secretScalar, publicKey, fusedMismatch);
  if ((sel[0]! | sel[1]! | sel[2]!) === 0) throw new OtrArgumentError('signer public key is not a ring member');
}

/** G·secret = publicKey (`mismatch`: the answer already known, else computed here), publicKey not the identity. */
function checkPair(b: CryptoBackend, secretScalar: Uint8Array, publicKey: Uint8Array, mismatch?: boolean): void {
  const bad = mismatch ?? !pointEquals(b.pointMulBase(secretScalar), publicKey);
  if (bad || pointEquals(publicKey, IDENTITY_POINT)) throw new OtrArgumentError('ring signature secret does not match its public key');
}

/** T_i = G·x + A_i·y with (x, y) = (t, 0) in the signer's slot and (r_i, c_i) elsewhere, chosen by mask. */
function separateCommitments(
  b: CryptoBackend,
  ring: ValidRing,
  sel: readonly number[],
  t: Uint8Array,
  c: readonly Uint8Array[],
  r: readonly Uint8Array[],
  temps: Uint8Array[],
): Uint8Array[] {
  const T: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    const x = ctSelect(sel[i]!, t, r[i]!);
    const y = ctSelect(sel[i]!, ZERO, c[i]!);
    temps.push(x, y);
    T.push(b.pointDoubleMulBaseCT(x, ring[i]!, y)); // one constant-time call
  }
  return T;
}

/**
 * The same T_i from the backend's fused call (the WASM backends): each member decoded once (and validated,
 * with `validate`), only the two simulated members multiplied (the signer's slot is G·t alone), all T_i
 * encoded with one inversion, G·secret = publicKey checked on the way; then the signer checks, in order.
 */
function fusedCommitments(
  b: CryptoBackend,
  ring: ValidRing,
  validate: boolean,
  checked: boolean,
  sel: readonly number[],
  secretScalar: Uint8Array,
  publicKey: Uint8Array,
  t: Uint8Array,
  c: readonly Uint8Array[],
  r: readonly Uint8Array[],
): readonly Uint8Array[] {
  const res = b.ringSignCommitments!({ ring, validate, signer: sel, secret: secretScalar, publicKey, t, c, r, secretChecked: checked });
  if (res.invalidMember !== undefined) throw invalidMember();
  checkSigner(b, secretScalar, publicKey, res.secretMismatch === true, sel);
  return res.T!;
}

/** The signer-slot masks: -1 for the first slot holding publicKey, 0 elsewhere; compares every byte. */
function signerMasks(ring: ValidRing, publicKey: Uint8Array): number[] {
  const eq = ring.map((a) => ctEqMask(a, publicKey));
  return [eq[0]!, eq[1]! & ~eq[0]!, eq[2]! & ~eq[0]! & ~eq[1]!];
}

/** The same seven draws whichever slot signs: t, then c_1..c_3, then r_1..r_3 (see signOverValidRing). */
function drawNonces(b: CryptoBackend, random: RandomSource): { t: Uint8Array; c: Uint8Array[]; r: Uint8Array[] } {
  const t = uniformScalar(b, random);
  const c = [uniformScalar(b, random), uniformScalar(b, random), uniformScalar(b, random)];
  const r = [uniformScalar(b, random), uniformScalar(b, random), uniformScalar(b, random)];
  return { t, c, r };
}

/** c_signer = c - (sum of the other slots' c_j), r_signer = t - c_signer·a, and the wire form; every scalar
 *  chosen by mask. Pushes every intermediate onto `temps` for the caller to wipe. */
function finishSignature(
  b: CryptoBackend,
  sel: readonly number[],
  secretScalar: Uint8Array,
  t: Uint8Array,
  c: readonly Uint8Array[],
  r: readonly Uint8Array[],
  ch: Uint8Array,
  temps: Uint8Array[],
): Uint8Array {
  const masked = c.map((ci, i) => ctSelect(sel[i]!, ZERO, ci));
  temps.push(...masked);
  const others = scalarAdd(b, scalarAdd(b, masked[0]!, masked[1]!), masked[2]!);
  temps.push(others);
  const cs = scalarSub(b, ch, others);
  temps.push(cs);
  const negCs = scalarNeg(b, cs);
  temps.push(negCs);
  const rs = b.scalarMulAdd(negCs, secretScalar, t);
  temps.push(rs);
  const sigma = new Uint8Array(RING_SIG_BYTES);
  for (let i = 0; i < 3; i++) {
    sigma.set(ctSelect(sel[i]!, cs, c[i]!), 2 * i * S);
    sigma.set(ctSelect(sel[i]!, rs, r[i]!), (2 * i + 1) * S);
  }
  return sigma;
}

/**
 * RVrf({A1, A2, A3}, sigma, m) over `challenge`. False for a sigma of the wrong length and for ring members
 * that are not valid points (wrong length, non-canonical, off-curve, identity, torsion); never throws on
 * contents. Scalars are read mod q (interpretations.md §1: readers reduce SCALARs). Throws OtrArgumentError
 * only for arguments that are not Uint8Arrays / a three-element array.
 */
export function ringVerifyWith(challenge: RingChallenge, b: CryptoBackend, ring: Ring, sigma: Uint8Array, message: Uint8Array): boolean {
  if (!verifyArgsOk(ring, sigma, message)) return false;
  for (const a of ring) if (a.length !== S) return false;
  // A backend with the fused commitments validates each member as it decodes it (once, not twice).
  if (b.ringVerifyCommitments) return verifyOverValidRing(challenge, b, ring as ValidRing, sigma, message, true);
  for (const a of ring) if (!b.pointIsValid(a)) return false;
  return verifyOverValidRing(challenge, b, ring as ValidRing, sigma, message, false);
}

/** ringVerifyWith for a ring validated where its members entered: no pointIsValid here. */
export function ringVerifyValidatedWith(
  challenge: RingChallenge,
  b: CryptoBackend,
  ring: ValidRing,
  sigma: Uint8Array,
  message: Uint8Array,
): boolean {
  if (!verifyArgsOk(ring, sigma, message)) return false;
  for (const a of ring) if (a.length !== S) return false;
  return verifyOverValidRing(challenge, b, ring, sigma, message, false);
}

/** Verifies; with `validate` (only set when the backend has the fused commitments) the members are checked too. */
function verifyOverValidRing(
  challenge: RingChallenge,
  b: CryptoBackend,
  ring: ValidRing,
  sigma: Uint8Array,
  message: Uint8Array,
  validate: boolean,
): boolean {
  if (b.ringVerifyCommitments) {
    const c = [0, 1, 2].map((i) => sigma.subarray(2 * i * S, (2 * i + 1) * S));
    const r = [0, 1, 2].map((i) => sigma.subarray((2 * i + 1) * S, (2 * i + 2) * S));
    const res = b.ringVerifyCommitments(ring, c, r, validate);
    if (!res.T) return false; // a member that does not decode (or, validating, is not valid)
    const ch = challenge(b, ring, res.T, message);
    return equalBytes(ch, scalarAdd(b, scalarAdd(b, c[0]!, c[1]!), c[2]!));
  }
  try {
    const c: Uint8Array[] = [];
    const T: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      const ci = sigma.subarray(2 * i * S, (2 * i + 1) * S);
      const ri = sigma.subarray((2 * i + 1) * S, (2 * i + 2) * S);
      c.push(ci);
      T.push(b.pointDoubleMulBase(ri, ring[i]!, ci));
    }
    const ch = challenge(b, ring, T, message);
    return equalBytes(ch, scalarAdd(b, scalarAdd(b, c[0]!, c[1]!), c[2]!));
  } catch (e) {
    if (e instanceof OtrCryptoError) return false;
    throw e;
  }
}

/** OTRv4's RSig (the DAKEs' authentication): ringSignWith with the OTRv4 challenge. */
export function ringSign(
  b: CryptoBackend,
  random: RandomSource,
  secretScalar: Uint8Array,
  publicKey: Uint8Array,
  ring: Ring,
  message: Uint8Array,
): Uint8Array {
  return ringSignWith(otrv4RingChallenge, b, random, secretScalar, publicKey, ring, message);
}

/** OTRv4's RVrf: ringVerifyWith with the OTRv4 challenge. */
export function ringVerify(b: CryptoBackend, ring: Ring, sigma: Uint8Array, message: Uint8Array): boolean {
  return ringVerifyWith(otrv4RingChallenge, b, ring, sigma, message);
}

/** ringSign over a ring validated where its members entered (the DAKEs). */
export function ringSignValidated(
  b: CryptoBackend,
  random: RandomSource,
  secretScalar: Uint8Array,
  publicKey: Uint8Array,
  ring: ValidRing,
  message: Uint8Array,
): Uint8Array {
  return ringSignValidatedWith(otrv4RingChallenge, b, random, secretScalar, publicKey, ring, message);
}

/** ringSignValidated with a key pair checked once (checkSigningKey): the interactive DAKE's signatures. */
export function ringSignChecked(b: CryptoBackend, random: RandomSource, signer: CheckedSigner, ring: ValidRing, message: Uint8Array): Uint8Array {
  return ringSignCheckedWith(otrv4RingChallenge, b, random, signer, ring, message);
}

/** ringVerify over a ring validated where its members entered (the DAKEs). */
export function ringVerifyValidated(b: CryptoBackend, ring: ValidRing, sigma: Uint8Array, message: Uint8Array): boolean {
  return ringVerifyValidatedWith(otrv4RingChallenge, b, ring, sigma, message);
}
