/**
 * The publication proofs (otrv4-prekey-server.md §Proofs): batch Schnorr proofs of knowledge that the
 * publisher holds the secrets of every Y_i and B_i of its prekey messages and of its shared prekey D, made
 * non-interactive with the DAKE's shared secret: m = KDF_PS(0x12, SK, 64), lambda = 352 bits = 44 bytes.
 *
 *   ECDH (usage 0x13, or 0x15 for D):  A = G·r, c = KDF_PS(usage, A || Y_1 || … || Y_N || m, 64),
 *        p = KDF_PS(0x17, c, N·44) = t_1 || … || t_N,  v = r + Σ t_i·y_i mod q;  proof (c, v)
 *        verify: A = G·v − Σ t_i·Y_i, then c == KDF_PS(usage, A || Y_1 … || m, 64)
 *   DH (usage 0x14):  A = g^r mod p (r uniform mod q_dh; the spec says 80 random bytes), c = KDF_PS(0x14, MPI(A) || MPI(B_1) || … || m, 64),
 *        v = r + Σ t_i·b_i mod q_dh;  verify: A = g^v · (Π B_i^t_i)^-1 mod p
 *
 * Byte-level choices the spec leaves open (docs/offline.md §Proofs): each t_i is its 44 bytes read as a
 * little-endian integer (like every scalar of the protocol) in both proofs; points are hashed as POINTs and
 * DH values as MPIs (as t hashes them in the DAKEs). Both proofs' r is uniform (mod q, mod q_dh), so v
 * reveals nothing about the secrets: not hashed and pruned (ECDH), not 80 bytes (DH), whatever the spec's
 * text says (docs/interop.md §Random values in Z_q).
 *
 * Timing: the ECDH side runs on the backend's constant-time scalar arithmetic. The DH side's v is computed
 * with BigInt (the backend has no arithmetic mod q_dh), which is not constant time in the secrets b_i; the
 * publisher computes it once per publication on its own device, where the same secrets have already been
 * through BigInt-free modPow. Verification handles only public values.
 */
import type { CryptoBackend } from '../backend/types.js';
import { uniformScalar, type RandomSource } from '../crypto/random.js';
import { abytes, bigToBytesBE, bytesToBigBE, bytesToBigLE, equalBytes, wipe } from '../bytes.js';
import { OtrArgumentError } from '../errors.js';
import { Writer } from '../codec/primitives.js';
import { prekeyServerKdf } from '../crypto/kdf.js';
import { PrekeyServerUsage } from '../crypto/usage.js';
import { scalarNeg } from '../crypto/eddsa.js';
import { MODP3072 } from '../crypto/dh-groups.js';
import type { DhProof, EcdhProof } from './messages.js';

/** lambda = 352 bits. */
export const LAMBDA_BYTES = 44;
const C_BYTES = 64;
const ZERO_SCALAR = new Uint8Array(57);
const GENERATOR = Uint8Array.of(2);
const P_MINUS_2 = bigToBytesBE(MODP3072.p - 2n, MODP3072.bytes);
/** Bytes drawn for the DH proof's r: the group size plus 32, so r mod q_dh is within 2^-256 of uniform. */
const DH_PROOF_NONCE_DRAW_BYTES = MODP3072.bytes + 32;

/** m = KDF_PS(usage_proof_context, SK, 64). */
export function proofContext(b: CryptoBackend, sk: Uint8Array): Uint8Array {
  return prekeyServerKdf(b, PrekeyServerUsage.proofContext, [sk], 64);
}

/** t_1..t_N as 57-byte little-endian scalars (each < 2^352 < q). */
function coefficients(b: CryptoBackend, c: Uint8Array, n: number): Uint8Array[] {
  const p = prekeyServerKdf(b, PrekeyServerUsage.proofCLambda, [c], n * LAMBDA_BYTES);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const t = new Uint8Array(57);
    t.set(p.subarray(i * LAMBDA_BYTES, (i + 1) * LAMBDA_BYTES));
    out.push(t);
  }
  return out;
}

function ecdhChallenge(b: CryptoBackend, usage: number, A: Uint8Array, publics: readonly Uint8Array[], m: Uint8Array): Uint8Array {
  return prekeyServerKdf(b, usage, [A, ...publics, m], C_BYTES);
}

function checkNonEmpty(n: number): void {
  if (n === 0) throw new OtrArgumentError('a proof needs at least one value');
}

/** Proves knowledge of y_i with Y_i = G·y_i for all i (usage: proofMessageEcdh, or proofSharedEcdh for D). */
export function proveEcdh(
  b: CryptoBackend,
  random: RandomSource,
  usage: number,
  pairs: readonly { readonly secret: Uint8Array; readonly public: Uint8Array }[],
  m: Uint8Array,
): EcdhProof {
  checkNonEmpty(pairs.length);
  const r = uniformScalar(b, random);
  try {
    const A = b.pointMulBase(r);
    const c = ecdhChallenge(b, usage, A, pairs.map((p) => p.public), m);
    const ts = coefficients(b, c, pairs.length);
    let v = r;
    for (let i = 0; i < pairs.length; i++) {
      const next = b.scalarMulAdd(ts[i]!, abytes(pairs[i]!.secret, 57, 'ECDH secret'), v);
      if (v !== r) wipe(v);
      v = next;
    }
    return { c, v };
  } finally {
    wipe(r);
  }
}

/** Verifies an ECDH batch proof for the points `publics` (already validated as points by the caller). */
export function verifyEcdhProof(b: CryptoBackend, usage: number, publics: readonly Uint8Array[], m: Uint8Array, proof: EcdhProof): boolean {
  if (publics.length === 0 || proof.c.length !== C_BYTES || proof.v.length !== 57) return false;
  const ts = coefficients(b, proof.c, publics.length);
  // A = G·v + Σ Y_i·(−t_i); public values only, so the variable-time double multiplication is fine.
  let A = b.pointDoubleMulBase(proof.v, publics[0]!, scalarNeg(b, ts[0]!));
  for (let i = 1; i < publics.length; i++) A = b.pointAdd(A, b.pointDoubleMulBase(ZERO_SCALAR, publics[i]!, scalarNeg(b, ts[i]!)));
  return equalBytes(ecdhChallenge(b, usage, A, publics, m), proof.c);
}

function mpi(v: Uint8Array): Uint8Array {
  return new Writer(v.length + 4).mpi(v).finish();
}

function dhChallenge(b: CryptoBackend, A: Uint8Array, publics: readonly Uint8Array[], m: Uint8Array): Uint8Array {
  return prekeyServerKdf(b, PrekeyServerUsage.proofMessageDh, [mpi(A), ...publics.map(mpi), m], C_BYTES);
}

/** Proves knowledge of b_i with B_i = g^b_i mod p for all i. */
export function proveDh(b: CryptoBackend, random: RandomSource, pairs: readonly { readonly secret: Uint8Array; readonly public: Uint8Array }[], m: Uint8Array): DhProof {
  checkNonEmpty(pairs.length);
  // r uniform mod q_dh, not the spec's 80 random bytes: with r < 2^640 and Σ t_i·b_i ≈ 2^992 there is no
  // wrap mod q_dh, so v = r + Σ t_i·b_i would publish the top ~350 bits of Σ t_i·b_i (for N = 1, of the
  // prekey secret b_1 itself). A uniform r makes v uniform. The wire is unchanged (docs/interop.md).
  const draw = abytes(random(DH_PROOF_NONCE_DRAW_BYTES), DH_PROOF_NONCE_DRAW_BYTES, 'random bytes');
  const r = bigToBytesBE(bytesToBigBE(draw) % MODP3072.q, MODP3072.bytes);
  wipe(draw);
  try {
    const A = b.modPow('modp3072', GENERATOR, r);
    const c = dhChallenge(b, A, pairs.map((p) => p.public), m);
    const ts = coefficients(b, c, pairs.length);
    let v = bytesToBigBE(r);
    for (let i = 0; i < pairs.length; i++) v += bytesToBigLE(ts[i]!) * bytesToBigBE(pairs[i]!.secret);
    v %= MODP3072.q;
    return { c, v: bigToBytesBE(v) };
  } finally {
    wipe(r);
  }
}

function modMul(x: bigint, y: bigint): bigint {
  return (x * y) % MODP3072.p;
}

/** Verifies a DH batch proof for `publics` (already validated as group members by the caller). */
export function verifyDhProof(b: CryptoBackend, publics: readonly Uint8Array[], m: Uint8Array, proof: DhProof): boolean {
  if (publics.length === 0 || proof.c.length !== C_BYTES || proof.v.length > MODP3072.bytes) return false;
  const ts = coefficients(b, proof.c, publics.length);
  let prod = 1n;
  for (let i = 0; i < publics.length; i++) {
    const tBe = Uint8Array.from(ts[i]!.subarray(0, LAMBDA_BYTES)).reverse();
    prod = modMul(prod, bytesToBigBE(b.modPow('modp3072', publics[i]!, tBe)));
  }
  // (Π B_i^t_i)^-1 = (Π B_i^t_i)^(p-2) (Fermat), on the backend's modPow.
  const inv = bytesToBigBE(b.modPow('modp3072', bigToBytesBE(prod, MODP3072.bytes), P_MINUS_2));
  const gv = bytesToBigBE(b.modPow('modp3072', GENERATOR, proof.v.length ? proof.v : Uint8Array.of(0)));
  const A = bigToBytesBE(modMul(gv, inv));
  return equalBytes(dhChallenge(b, A, publics, m), proof.c);
}
