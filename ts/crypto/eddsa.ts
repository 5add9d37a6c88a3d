/**
 * Ed448 (RFC 8032 §5.2), pure EdDSA with an empty context: the long-term identity and forging keys of
 * OTRv4 sign client and prekey profiles with it. Written once over the `CryptoBackend` primitives
 * (SHAKE-256, fixed-base and double-base multiplication, scalar arithmetic mod q), so both backends share
 * exactly this code.
 *
 * Verification is the cofactored equation [4]·S·G == [4]·R + [4]·k·A (RFC 8032 §5.2.7 allows either; we
 * take cofactored because OpenSSL — whose decoder maps points through a 4-isogeny — and @noble/curves both
 * accept exactly that set, and a verifier that disagrees with them on mixed-order inputs is an interop
 * hazard). S >= q and non-canonical encodings of R and A are rejected (Wycheproof's malleability cases).
 */
import type { CryptoBackend } from '../backend/types.js';
import { abytes, equalBytes, hexToBytes, wipe } from '../bytes.js';
import { OtrCryptoError } from '../errors.js';
import { pointSub } from './point.js';

export const ED448_SECRET_BYTES = 57;
export const ED448_PUBLIC_BYTES = 57;
export const ED448_SIGNATURE_BYTES = 114;

/** dom4(phflag = 0, context = "") = "SigEd448" || 0x00 || 0x00 (RFC 8032 §5.2). */
const DOM4_EMPTY = new Uint8Array([0x53, 0x69, 0x67, 0x45, 0x64, 0x34, 0x34, 0x38, 0x00, 0x00]);

// ---- scalars mod q: the few operations the backend's a·b + c does not name directly ----

/** q, the order of the prime subgroup, as 57 little-endian bytes. */
export const SCALAR_Q_LE: Uint8Array = hexToBytes(
  'f34458ab92c27823558fc58d72c26c219036d6ae49db4ec4e923ca7cffffffffffffffffffffffffffffffffffffffffffffffffffffff3f00',
);
const Q_MINUS_ONE: Uint8Array = hexToBytes(
  'f24458ab92c27823558fc58d72c26c219036d6ae49db4ec4e923ca7cffffffffffffffffffffffffffffffffffffffffffffffffffffff3f00',
);
const SCALAR_ZERO = new Uint8Array(57);
const SCALAR_ONE = (() => {
  const one = new Uint8Array(57);
  one[0] = 1;
  return one;
})();

/** x + y mod q (both 57-byte little-endian). */
export function scalarAdd(b: CryptoBackend, x: Uint8Array, y: Uint8Array): Uint8Array {
  return b.scalarMulAdd(SCALAR_ONE, x, y);
}

/** x - y mod q, as (q - 1)·y + x: one constant-time backend call. */
export function scalarSub(b: CryptoBackend, x: Uint8Array, y: Uint8Array): Uint8Array {
  return b.scalarMulAdd(Q_MINUS_ONE, y, x);
}

/** -x mod q. */
export function scalarNeg(b: CryptoBackend, x: Uint8Array): Uint8Array {
  return b.scalarMulAdd(Q_MINUS_ONE, x, SCALAR_ZERO);
}

/** True iff the 57-byte little-endian `s` is < q. Variable time: only for public values (signature S). */
export function scalarIsCanonical(s: Uint8Array): boolean {
  if (s.length !== 57) return false;
  for (let i = 56; i >= 0; i--) {
    if (s[i]! !== SCALAR_Q_LE[i]!) return s[i]! < SCALAR_Q_LE[i]!;
  }
  return false; // s == q
}

/**
 * RFC 8032 §5.2.5 pruning of a 57-byte buffer, in place: clear the two low bits of the first byte and all
 * of the last byte, set the top bit of the second-to-last. otrv4.md prunes its random scalars the same way
 * (§Considerations while working with elliptic curve parameters).
 */
export function pruneScalar(h: Uint8Array): Uint8Array {
  h[0]! &= 0xfc;
  h[55]! |= 0x80;
  h[56] = 0;
  return h;
}

// ---- keys ----

export interface Ed448KeyPair {
  /** The 57-byte secret seed (a copy of the caller's). */
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
  /** s: the pruned low half of SHAKE-256(secret, 114), 57 bytes little-endian. */
  readonly scalar: Uint8Array;
  /** The high half of SHAKE-256(secret, 114): the nonce-derivation key. */
  readonly prefix: Uint8Array;
}

/** Expands a 57-byte secret seed (RFC 8032 §5.2.5). The caller owns (and should wipe) the result. */
export function ed448KeyPair(b: CryptoBackend, secret: Uint8Array): Ed448KeyPair {
  abytes(secret, ED448_SECRET_BYTES, 'Ed448 secret');
  const h = b.shake256([secret], 114);
  const scalar = pruneScalar(Uint8Array.from(h.subarray(0, 57)));
  const prefix = Uint8Array.from(h.subarray(57, 114));
  wipe(h);
  // Uint8Array.from, not slice(): a Node Buffer's slice() is a view, and the copy is wiped later.
  return { secret: Uint8Array.from(secret), publicKey: b.pointMulBase(scalar), scalar, prefix };
}

export function ed448PublicKey(b: CryptoBackend, secret: Uint8Array): Uint8Array {
  const kp = ed448KeyPair(b, secret);
  wipe(kp.secret, kp.scalar, kp.prefix);
  return kp.publicKey;
}

// ---- signing ----

/** SHAKE-256(dom4 || parts, 114) mod q. */
function hashScalar(b: CryptoBackend, parts: Uint8Array[]): Uint8Array {
  const h = b.shake256([DOM4_EMPTY, ...parts], 114);
  const s = b.scalarReduce(h);
  wipe(h);
  return s;
}

/** Signs with an already expanded key (saves the SHAKE-256 and the G·s of re-deriving it). */
export function ed448SignExpanded(b: CryptoBackend, key: Ed448KeyPair, message: Uint8Array): Uint8Array {
  abytes(key.scalar, 57, 'Ed448 scalar');
  abytes(key.prefix, 57, 'Ed448 prefix');
  abytes(key.publicKey, ED448_PUBLIC_BYTES, 'Ed448 public key');
  abytes(message, undefined, 'message');
  const r = hashScalar(b, [key.prefix, message]);
  const R = b.pointMulBase(r);
  const k = hashScalar(b, [R, key.publicKey, message]);
  const S = b.scalarMulAdd(k, key.scalar, r);
  wipe(r);
  const sig = new Uint8Array(ED448_SIGNATURE_BYTES);
  sig.set(R, 0);
  sig.set(S, 57);
  return sig;
}

/** RFC 8032 Ed448 signature (114 bytes: R || S) of `message` under the 57-byte secret seed. Deterministic. */
export function ed448Sign(b: CryptoBackend, secret: Uint8Array, message: Uint8Array): Uint8Array {
  abytes(message, undefined, 'message');
  const kp = ed448KeyPair(b, secret);
  try {
    return ed448SignExpanded(b, kp, message);
  } finally {
    wipe(kp.secret, kp.scalar, kp.prefix);
  }
}

// ---- verification ----

/**
 * The four points T with 4·T = I — the rational 4-torsion of edwards448 — as canonical encodings:
 * (0, 1), (0, -1), (1, 0) (x odd: sign bit set) and (-1, 0). Two points agree under the cofactored
 * equation iff their difference is one of these.
 */
const TORSION_4: readonly Uint8Array[] = [
  hexToBytes('01' + '00'.repeat(56)),
  hexToBytes('fe' + 'ff'.repeat(27) + 'fe' + 'ff'.repeat(27) + '00'),
  hexToBytes('00'.repeat(56) + '80'),
  hexToBytes('00'.repeat(57)),
];

/**
 * Verifies an Ed448 signature. Returns false — never throws — for a signature or key of the wrong length,
 * a non-canonical or off-curve R or A, S >= q, or a failed equation. Throws OtrArgumentError only when an
 * argument is not a Uint8Array at all (a programming error, not hostile input).
 */
export function ed448Verify(b: CryptoBackend, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  abytes(publicKey, undefined, 'Ed448 public key');
  abytes(message, undefined, 'message');
  abytes(signature, undefined, 'Ed448 signature');
  if (publicKey.length !== ED448_PUBLIC_BYTES || signature.length !== ED448_SIGNATURE_BYTES) return false;
  const R = signature.subarray(0, 57);
  const S = signature.subarray(57, 114);
  if (!scalarIsCanonical(S)) return false;
  try {
    const k = hashScalar(b, [R, publicKey, message]);
    // X = S·G - k·A, computed as S·G + (q - k)·A. For a mixed-order A the two differ by a 4-torsion point,
    // which the cofactored comparison below ignores. A non-canonical A throws INVALID_POINT here.
    const X = b.pointDoubleMulBase(S, publicKey, scalarNeg(b, k));
    // Fast path, every honest signature: X's canonical encoding equals R byte for byte (which also proves
    // R canonical). Otherwise X - R must be 4-torsion; pointSub throws INVALID_POINT if R does not decode.
    if (equalBytes(X, R)) return true;
    // A copy of R: point.ts negates via slice(), which on a Node Buffer would be a view of the caller's bytes.
    const D = pointSub(b, X, Uint8Array.from(R));
    return TORSION_4.some((t) => equalBytes(D, t));
  } catch (e) {
    if (e instanceof OtrCryptoError) return false;
    throw e;
  }
}
