/**
 * Prekey Profiles (otrv4.md §Prekey Profile, §Prekey Profile Data Type, §Creating a Prekey Profile,
 * §Prekey Profile Expiration and Renewal, §Create/Verify a Prekey Profile Signature, §Validating a Prekey
 * Profile):
 *
 *   PREKEY-PROF = INT owner tag || PREKEY-PROF-EXP (8-byte signed BE, Unix seconds)
 *                 || ED448-SHARED-PREKEY (`11 00` || POINT D) || 114-byte Ed448 signature
 *
 * The shared-prekey type 0x0011 is written little-endian like 0x0010 and 0x0012 (interpretations.md §1), and
 * the signature is pure RFC 8032 Ed448 by the long-term identity key over every byte before it (the spec's
 * `m = owner tag || expiry || Public Shared Prekey`, the type prefix included because it is part of the
 * ED448-SHARED-PREKEY value). Decoding is structural; `validatePrekeyProfile` does the cryptography.
 *
 * The shared prekey's secret `sk_d` is generated like an identity key (57 random bytes, SHAKE-256, pruned);
 * the owner keeps it with the profile (see owner-store.ts) and it dies with the profile.
 */
import type { CryptoBackend } from '../backend/types.js';
import { abytes, equalBytes, wipe } from '../bytes.js';
import { OtrArgumentError, OtrCryptoError, OtrDecodeError, OtrError } from '../errors.js';
import { ED448_SIGNATURE_BYTES, POINT_BYTES, Writer } from '../codec/primitives.js';
import { SpanReader } from '../codec/span-reader.js';
import { ed448KeyPair, ed448Sign, ed448Verify } from '../crypto/eddsa.js';
import type { RandomSource } from '../crypto/random.js';
import { isValidSenderTag } from '../instance-tag.js';

/** ED448-SHARED-PREKEY's type, written little-endian: wire bytes `11 00`. */
export const KEY_TYPE_SHARED_PREKEY = 0x0011;
/** INT + 8-byte expiry + 2-byte type + POINT + signature. */
export const PREKEY_PROFILE_BYTES = 4 + 8 + 2 + POINT_BYTES + ED448_SIGNATURE_BYTES;
const SIGNED_BYTES = PREKEY_PROFILE_BYTES - ED448_SIGNATURE_BYTES;
/** The spec's recommended lifetime: one week. */
export const DEFAULT_PREKEY_PROFILE_LIFETIME_SECONDS = 7 * 24 * 3600;
/** The spec's recommended extra local validity after public expiry: one day. */
export const DEFAULT_PREKEY_PROFILE_GRACE_SECONDS = 24 * 3600;

export interface PrekeyProfileFields {
  readonly ownerTag: number;
  /** Unix seconds, signed 64-bit. */
  readonly expiry: bigint;
  /** D, the public shared prekey (POINT). */
  readonly sharedPrekey: Uint8Array;
}

export interface PrekeyProfile extends PrekeyProfileFields {
  readonly signature: Uint8Array;
  /** The exact encoding (what ensembles carry and the prekey server's MAC hashes). */
  readonly encoded: Uint8Array;
}

/** A freshly created profile with the secret of its shared prekey (the owner stores both). */
export interface PrekeyProfileWithSecret {
  readonly profile: PrekeyProfile;
  /** sk_d: the pruned 57-byte scalar with G·sk_d = D. Secret. */
  readonly sharedPrekeySecret: Uint8Array;
}

function writeSignedPart(w: Writer, f: PrekeyProfileFields): void {
  w.int(f.ownerTag).long(f.expiry).shortLE(KEY_TYPE_SHARED_PREKEY).point(f.sharedPrekey);
}

/** The message the signature covers: owner tag || expiry || `11 00` || D. */
export function prekeyProfileSignedBytes(f: PrekeyProfileFields): Uint8Array {
  const w = new Writer(SIGNED_BYTES);
  writeSignedPart(w, f);
  return w.finish();
}

export function encodePrekeyProfile(f: PrekeyProfileFields, signature: Uint8Array): Uint8Array {
  abytes(signature, ED448_SIGNATURE_BYTES, 'prekey profile signature');
  const w = new Writer(PREKEY_PROFILE_BYTES);
  writeSignedPart(w, f);
  w.raw(signature);
  return w.finish();
}

/** Reads one Prekey Profile from `r`, keeping its exact bytes. */
export function readPrekeyProfile(r: SpanReader): PrekeyProfile {
  const start = r.offset;
  const ownerTag = r.int();
  const expiry = r.long();
  if (r.shortLE() !== KEY_TYPE_SHARED_PREKEY) throw new OtrDecodeError('wrong shared prekey type in prekey profile');
  const sharedPrekey = r.point();
  const signature = r.raw(ED448_SIGNATURE_BYTES, 'prekey profile signature');
  return { ownerTag, expiry, sharedPrekey, signature, encoded: r.since(start) };
}

export function decodePrekeyProfile(bytes: Uint8Array): PrekeyProfile {
  if (!(bytes instanceof Uint8Array)) throw new OtrArgumentError('prekey profile must be bytes');
  const r = new SpanReader(bytes);
  const p = readPrekeyProfile(r);
  r.end('prekey profile');
  return p;
}

/** Signs the fields with the long-term identity seed sym_h (whose public key the client profile carries). */
export function signPrekeyProfile(b: CryptoBackend, f: PrekeyProfileFields, identitySecret: Uint8Array): PrekeyProfile {
  if (!isValidSenderTag(f.ownerTag)) throw new OtrArgumentError('owner instance tag must be >= 0x100');
  if (typeof f.expiry !== 'bigint') throw new OtrArgumentError('expiry must be a bigint (Unix seconds)');
  abytes(f.sharedPrekey, POINT_BYTES, 'shared prekey');
  const fields: PrekeyProfileFields = { ownerTag: f.ownerTag, expiry: f.expiry, sharedPrekey: f.sharedPrekey.slice() };
  const signature = ed448Sign(b, identitySecret, prekeyProfileSignedBytes(fields));
  return { ...fields, signature, encoded: encodePrekeyProfile(fields, signature) };
}

export interface CreatePrekeyProfileOptions {
  /** The same owner tag as the client profile's (and our instance tag). */
  readonly ownerTag: number;
  /** sym_h, the 57-byte seed of the long-term identity key. */
  readonly identitySecret: Uint8Array;
  /** Unix seconds. */
  readonly expiry: bigint;
}

/**
 * Creates a profile with a fresh shared prekey (otrv4.md §Creating a Prekey Profile): sym_d = 57 random
 * bytes, expanded and pruned as RFC 8032 does for a public key; sym_d and the expansion's other half are
 * wiped, only sk_d is kept (it is all the non-interactive DAKE needs: ECDH(sk_d, X)).
 */
export function createPrekeyProfile(b: CryptoBackend, random: RandomSource, o: CreatePrekeyProfileOptions): PrekeyProfileWithSecret {
  const symD = abytes(random(57), 57, 'random bytes');
  const kp = ed448KeyPair(b, symD);
  wipe(symD, kp.secret, kp.prefix);
  try {
    const profile = signPrekeyProfile(b, { ownerTag: o.ownerTag, expiry: o.expiry, sharedPrekey: kp.publicKey }, o.identitySecret);
    return { profile, sharedPrekeySecret: kp.scalar };
  } catch (e) {
    wipe(kp.scalar);
    throw e;
  }
}

/**
 * Renewal (otrv4.md §Prekey Profile Expiration and Renewal): a new profile with a new expiry. The shared
 * prekey "must expire when the Prekey Profile expires", so renewal makes a new one too; the old secret stays
 * with the old profile in the owner's store until its grace period ends.
 */
export function renewPrekeyProfile(
  b: CryptoBackend,
  random: RandomSource,
  old: PrekeyProfileFields,
  identitySecret: Uint8Array,
  expiry: bigint,
): PrekeyProfileWithSecret {
  return createPrekeyProfile(b, random, { ownerTag: old.ownerTag, identitySecret, expiry });
}

export interface ValidatePrekeyProfileOptions {
  /** Current time, ms since the Unix epoch (injected). */
  readonly nowMs: number;
  /** The long-term public key H of the client profile it came with. */
  readonly identityKey: Uint8Array;
  /** The instance tag it must belong to (the ensemble's / the DAKE message's sender tag). */
  readonly expectedOwnerTag?: number;
  /** Extra validity after expiry in seconds (our own profile, used locally: the spec suggests one day). */
  readonly graceSeconds?: number;
}

/** Expired at `nowMs` (plus grace): valid while now < expiry + grace. */
export function isPrekeyProfileExpired(p: PrekeyProfileFields, nowMs: number, graceSeconds = 0): boolean {
  return BigInt(Math.floor(nowMs / 1000)) >= p.expiry + BigInt(Math.floor(graceSeconds));
}

/** Whether our profile expires within `renewBeforeSeconds` of `nowMs` and should be replaced now. */
export function prekeyProfileNeedsRenewal(p: PrekeyProfileFields, nowMs: number, renewBeforeSeconds: number): boolean {
  return isPrekeyProfileExpired(p, nowMs + renewBeforeSeconds * 1000);
}

/**
 * otrv4.md §Validating a Prekey Profile, in the spec's order: the signature under H (BAD_SIGNATURE), the
 * owner tag (a real tag, equal to the expected one: MALFORMED), not expired (EXPIRED), D a valid
 * prime-order point (INVALID_POINT). The spec's two owner-tag steps are one check here.
 */
export function validatePrekeyProfile(b: CryptoBackend, p: PrekeyProfile, o: ValidatePrekeyProfileOptions): void {
  if (!Number.isFinite(o.nowMs)) throw new OtrArgumentError('nowMs must be a number');
  abytes(o.identityKey, undefined, 'identity key');
  if (!ed448Verify(b, o.identityKey, prekeyProfileSignedBytes(p), p.signature))
    throw new OtrCryptoError('BAD_SIGNATURE', 'prekey profile signature does not verify');
  if (!isValidSenderTag(p.ownerTag)) throw new OtrDecodeError('prekey profile owner tag is not a valid instance tag');
  if (o.expectedOwnerTag !== undefined && p.ownerTag !== o.expectedOwnerTag)
    throw new OtrDecodeError('prekey profile owner tag differs from the sender instance tag');
  if (isPrekeyProfileExpired(p, o.nowMs, o.graceSeconds ?? 0)) throw new OtrError('EXPIRED', 'prekey profile has expired');
  if (!b.pointIsValid(p.sharedPrekey)) throw new OtrCryptoError('INVALID_POINT', 'shared prekey is not a valid point');
}

/** G·sk_d, to check a stored secret against its profile. */
export function sharedPrekeyMatches(b: CryptoBackend, p: PrekeyProfileFields, secret: Uint8Array): boolean {
  return equalBytes(b.pointMulBase(secret), p.sharedPrekey);
}
