/**
 * Client Profiles (otrv4.md §Client Profile; interpretations.md §2): create, sign, validate, renew, and the
 * fingerprint. The wire form lives in `encoding.ts`; this module adds the cryptography.
 *
 * Signatures, as otr4j and otrr compute them:
 * - Ed448 (pure RFC 8032, empty context) over every field with its SHORT type prefix, fields 1..7 in canonical
 *   order, WITHOUT the field count;
 * - the transitional DSA signature over fields 1..6 with their prefixes, the bytes read as one big-endian
 *   integer (reduced mod q by DSA), r || s written as 20 bytes each.
 */
import type { CryptoBackend } from '../backend/types.js';
import { bigToBytesBE, bytesToBigBE, equalBytes } from '../bytes.js';
import { OtrArgumentError, OtrCryptoError, OtrDecodeError, OtrError } from '../errors.js';
import { POINT_BYTES } from '../codec/primitives.js';
import { dsaPublicKeyLooksValid, dsaSign, dsaVerify, type DsaPrivateKey, type DsaPublicKey } from '../crypto/dsa.js';
import { ed448PublicKey, ed448Sign, ed448SignExpanded, ed448Verify, type Ed448KeyPair } from '../crypto/eddsa.js';
import { kdf } from '../crypto/kdf.js';
import type { RandomSource } from '../crypto/random.js';
import { Usage } from '../crypto/usage.js';
import type { ValidPoint } from '../crypto/validated.js';
import { isValidSenderTag } from '../instance-tag.js';
import {
  DSA_SIG_HALF_BYTES,
  encodeClientProfile,
  encodeProfileFields,
  profileSignedBytes,
  profileTransitionalSignedBytes,
  TRANSITIONAL_SIGNATURE_BYTES,
  type ClientProfile,
  type ClientProfileFields,
} from './encoding.js';

export { decodeClientProfile, encodeClientProfile, type ClientProfile, type ClientProfileFields } from './encoding.js';

/** The spec's recommended lifetime: one week. */
export const DEFAULT_PROFILE_LIFETIME_SECONDS = 7 * 24 * 3600;
/** Fingerprint length (224-bit security). */
export const FINGERPRINT_BYTES = 56;
/** otrr requires a 160-bit q; the transitional signature's 20-byte halves assume it. */
const DSA_Q_BITS = 160;

export interface CreateClientProfileOptions {
  readonly ownerTag: number;
  /** sym_h, the 57-byte Ed448 secret seed of the long-term identity key H. */
  readonly identitySecret: Uint8Array;
  /** F, the forging public key (its secret may well not exist). */
  readonly forgingKey: Uint8Array;
  /** "4", or "34"/"43" together with a DSA key. */
  readonly versions: string;
  /** Unix seconds. */
  readonly expiry: bigint;
  /** The OTRv3 long-term key: when given, the DSA public key and the transitional signature are included. */
  readonly dsaKey?: DsaPrivateKey;
  /** Randomness for the hedged DSA nonce (required with `dsaKey`). */
  readonly random?: RandomSource;
  /**
   * The expanded identity key of `identitySecret`, when the caller holds it: saves re-deriving it (two of the
   * profile's four fixed-base multiplications; Account.create's cost). Its secret must be `identitySecret`.
   */
  readonly identityKeyPair?: Ed448KeyPair;
}

function checkVersionsToCreate(v: string): void {
  if (typeof v !== 'string' || !/^(4|34|43)$/.test(v))
    throw new OtrArgumentError('versions must be "4", "34" or "43" (only 3 and 4 interoperate: interpretations.md §2)');
}

function dsaPublic(k: DsaPublicKey): DsaPublicKey {
  return { p: k.p, q: k.q, g: k.g, y: k.y };
}

/** r || s as 20 bytes each. */
function encodeDsaSignature(r: bigint, s: bigint): Uint8Array {
  const out = new Uint8Array(TRANSITIONAL_SIGNATURE_BYTES);
  out.set(bigToBytesBE(r, DSA_SIG_HALF_BYTES), 0);
  out.set(bigToBytesBE(s, DSA_SIG_HALF_BYTES), DSA_SIG_HALF_BYTES);
  return out;
}

function qBits(q: bigint): number {
  return q.toString(2).length;
}

/**
 * Signs `fields` (whose identity key must be the public key of `identitySecret`) and returns the decoded-form
 * profile with its encoding. Fields 6 and 7 are taken as given: use `createClientProfile` to make the
 * transitional signature.
 */
export function signClientProfile(b: CryptoBackend, fields: ClientProfileFields, identitySecret: Uint8Array, keyPair?: Ed448KeyPair): ClientProfile {
  const pair = pairOf(keyPair, identitySecret);
  const H = pair ? pair.publicKey : ed448PublicKey(b, identitySecret);
  if (fields.identityKey.length !== POINT_BYTES || !equalBytes(H, fields.identityKey))
    throw new OtrArgumentError('identity key does not belong to the signing secret');
  const m = encodeProfileFields(fields);
  const signature = pair ? ed448SignExpanded(b, pair, m) : ed448Sign(b, identitySecret, m);
  const encoded = encodeClientProfile(fields, signature);
  return { ...fields, signature, encoded };
}

/** Creates and signs a profile (otrv4.md §Creating a Client Profile, §Create a Client Profile Signature). */
export function createClientProfile(b: CryptoBackend, o: CreateClientProfileOptions): ClientProfile {
  if (!isValidSenderTag(o.ownerTag)) throw new OtrArgumentError('owner instance tag must be >= 0x100');
  checkVersionsToCreate(o.versions);
  if (typeof o.expiry !== 'bigint') throw new OtrArgumentError('expiry must be a bigint (Unix seconds)');
  if (!(o.forgingKey instanceof Uint8Array) || o.forgingKey.length !== POINT_BYTES || !b.pointIsValid(o.forgingKey))
    throw new OtrArgumentError('forging key must be a valid point');
  const hasV3 = o.versions.includes('3');
  if (hasV3 !== !!o.dsaKey)
    throw new OtrArgumentError('a DSA key is required with version 3 and only then (otrr rejects "3" without a transitional signature)');
  const base: ClientProfileFields = {
    ownerTag: o.ownerTag,
    identityKey: pairOf(o.identityKeyPair, o.identitySecret)?.publicKey.slice() ?? ed448PublicKey(b, o.identitySecret),
    forgingKey: o.forgingKey.slice(),
    versions: o.versions,
    expiry: o.expiry,
  };
  let fields = base;
  if (o.dsaKey) {
    if (!o.random) throw new OtrArgumentError('randomness is required to make the transitional signature');
    if (qBits(o.dsaKey.q) !== DSA_Q_BITS) throw new OtrArgumentError('DSA q must be 160 bits');
    const withKey: ClientProfileFields = { ...base, dsaKey: dsaPublic(o.dsaKey) };
    const m = bytesToBigBE(encodeProfileFields(withKey, 6));
    const { r, s } = dsaSign(o.dsaKey, m, o.random);
    fields = { ...withKey, transitionalSignature: encodeDsaSignature(r, s) };
  }
  return signClientProfile(b, fields, o.identitySecret, o.identityKeyPair);
}

/** `keyPair` when it is the expansion of `identitySecret` (compared in constant time), else undefined. */
function pairOf(keyPair: Ed448KeyPair | undefined, identitySecret: Uint8Array): Ed448KeyPair | undefined {
  return keyPair && equalBytes(keyPair.secret, identitySecret) ? keyPair : undefined;
}

export interface ValidateClientProfileOptions {
  /** Current time, milliseconds since the Unix epoch (injected: Date.now() in production). */
  readonly nowMs: number;
  /**
   * The sender instance tag of the DAKE message carrying the profile; the owner tag must equal it. Omit only
   * for a profile that did not arrive in a message (e.g. our own, or one from storage).
   */
  readonly expectedOwnerTag?: number;
  /** Extra validity after expiry, in seconds (the spec suggests up to a day for offline use). Default 0. */
  readonly graceSeconds?: number;
  /** Whether to verify the transitional DSA signature when present (the spec makes it optional). Default true. */
  readonly verifyTransitional?: boolean;
}

/**
 * Validates a received profile (otrv4.md §Validating a Client Profile; the otr4j rules of interpretations.md
 * §2). Throws a typed error naming the first failure:
 *   owner tag >= 0x100 and == the sender tag (MALFORMED) · not expired (EXPIRED) · versions contain '4' and
 *   neither '1' nor '2' (MALFORMED) · DSA key and transitional signature both or neither (MALFORMED) ·
 *   H and F valid prime-order points (INVALID_POINT) · the Ed448 signature (BAD_SIGNATURE) · the DSA key's
 *   structure and the transitional signature (BAD_SIGNATURE).
 * The spec lists the signature first; we run the cheap checks first. Which inputs are accepted is the same.
 */
export function validateClientProfile(b: CryptoBackend, p: ClientProfile, o: ValidateClientProfileOptions): ValidatedClientProfile {
  if (!Number.isFinite(o.nowMs)) throw new OtrArgumentError('nowMs must be a number');
  if (!isValidSenderTag(p.ownerTag)) throw new OtrDecodeError('client profile owner tag is not a valid instance tag');
  if (o.expectedOwnerTag !== undefined && p.ownerTag !== o.expectedOwnerTag)
    throw new OtrDecodeError('client profile owner tag differs from the sender instance tag');
  if (isExpired(p, o.nowMs, o.graceSeconds ?? 0)) throw new OtrError('EXPIRED', 'client profile has expired');
  if (!p.versions.includes('4')) throw new OtrDecodeError('client profile does not offer version 4');
  if (/[12]/.test(p.versions)) throw new OtrDecodeError('client profile offers version 1 or 2');
  if (!!p.dsaKey !== !!p.transitionalSignature)
    throw new OtrDecodeError('client profile has a DSA key without a transitional signature, or the reverse');
  if (!b.pointIsValid(p.identityKey)) throw new OtrCryptoError('INVALID_POINT', 'client profile identity key is invalid');
  if (!b.pointIsValid(p.forgingKey)) throw new OtrCryptoError('INVALID_POINT', 'client profile forging key is invalid');
  // Checked just above: the marks let the DAKE use H and F without checking them again.
  const identityKey = p.identityKey as ValidPoint;
  const forgingKey = p.forgingKey as ValidPoint;
  // H was validated just above, so a backend's verification for validated keys (OpenSSL on hybrid) applies.
  const signed = profileSignedBytes(p);
  const verified = b.ed448VerifyValidKey ? b.ed448VerifyValidKey(identityKey, signed, p.signature) : ed448Verify(b, identityKey, signed, p.signature);
  if (!verified) throw new OtrCryptoError('BAD_SIGNATURE', 'client profile signature does not verify');
  if (p.dsaKey && p.transitionalSignature && o.verifyTransitional !== false) {
    if (!verifyTransitionalSignature(p)) throw new OtrCryptoError('BAD_SIGNATURE', 'transitional signature does not verify');
  }
  return { profile: p, identityKey, forgingKey };
}

/** What validateClientProfile vouches for: the profile, and its two keys marked valid (crypto/validated.ts). */
export interface ValidatedClientProfile {
  readonly profile: ClientProfile;
  readonly identityKey: ValidPoint;
  readonly forgingKey: ValidPoint;
}

/** The transitional DSA signature (false also for a malformed DSA key or a q that is not 160 bits). */
export function verifyTransitionalSignature(p: ClientProfile): boolean {
  const k = p.dsaKey;
  const sig = p.transitionalSignature;
  if (!k || !sig || sig.length !== TRANSITIONAL_SIGNATURE_BYTES) return false;
  if (qBits(k.q) !== DSA_Q_BITS || !dsaPublicKeyLooksValid(k)) return false;
  const m = bytesToBigBE(profileTransitionalSignedBytes(p));
  const r = bytesToBigBE(sig.subarray(0, DSA_SIG_HALF_BYTES));
  const s = bytesToBigBE(sig.subarray(DSA_SIG_HALF_BYTES));
  return dsaVerify(k, m, { r, s });
}

/** Expired at `nowMs` (plus a grace period): valid while now < expiry + grace. */
export function isExpired(p: ClientProfileFields, nowMs: number, graceSeconds = 0): boolean {
  const nowSeconds = BigInt(Math.floor(nowMs / 1000));
  return nowSeconds >= p.expiry + BigInt(Math.floor(graceSeconds));
}

/** Whether our profile should be renewed: it expires within `renewBeforeSeconds` of `nowMs`. */
export function needsRenewal(p: ClientProfileFields, nowMs: number, renewBeforeSeconds: number): boolean {
  return isExpired(p, nowMs + renewBeforeSeconds * 1000);
}

/** The same profile with a new expiry (new signatures). `dsaKey` is needed again if the profile has one. */
export function renewClientProfile(
  b: CryptoBackend,
  p: ClientProfileFields,
  secrets: { identitySecret: Uint8Array; dsaKey?: DsaPrivateKey; random?: RandomSource },
  expiry: bigint,
): ClientProfile {
  return createClientProfile(b, {
    ownerTag: p.ownerTag,
    identitySecret: secrets.identitySecret,
    forgingKey: p.forgingKey,
    versions: p.versions,
    expiry,
    ...(secrets.dsaKey ? { dsaKey: secrets.dsaKey } : {}),
    ...(secrets.random ? { random: secrets.random } : {}),
  });
}

/** Expiry `lifetimeSeconds` after `nowMs`, as the profile's Unix-seconds bigint. */
export function expiryFromNow(nowMs: number, lifetimeSeconds: number = DEFAULT_PROFILE_LIFETIME_SECONDS): bigint {
  return BigInt(Math.floor(nowMs / 1000) + Math.floor(lifetimeSeconds));
}

/** The OTRv4 fingerprint H(0x00, POINT(H) || POINT(F), 56): no key-type prefixes (interpretations.md §1). */
export function fingerprint(b: CryptoBackend, identityKey: Uint8Array, forgingKey: Uint8Array): Uint8Array {
  if (identityKey.length !== POINT_BYTES || forgingKey.length !== POINT_BYTES)
    throw new OtrArgumentError('fingerprint keys must be 57-byte points');
  return kdf(b, Usage.fingerprint, [identityKey, forgingKey], FINGERPRINT_BYTES);
}

export function profileFingerprint(b: CryptoBackend, p: ClientProfileFields): Uint8Array {
  return fingerprint(b, p.identityKey, p.forgingKey);
}
