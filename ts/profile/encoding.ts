/**
 * The Client Profile's wire form (otrv4.md §Client Profile Data Type; interpretations.md §2):
 *
 *   INT count || fields || 114-byte Ed448 signature, each field = SHORT type || value:
 *   1 owner tag (INT) · 2 identity key (`10 00` + POINT) · 3 forging key (`12 00` + POINT) · 4 versions
 *   (DATA) · 5 expiry (8-byte signed) · 6 DSA PUBKEY (SHORT 0 + MPI p, q, g, y) · 7 transitional sig (r || s)
 *
 * Decoding is structural: lengths, types, field order. We require the fields in strictly increasing type
 * order (1..7). That rejects duplicates and unknown types in one rule, and it costs no interoperability: otr4j
 * re-serialises in canonical order before verifying, so only canonical order verifies in both otr4j and otrr
 * (interpretations.md §2). With canonical order, the Ed448-signed message is exactly the bytes between the
 * count and the signature, and the transitional-signed message is the prefix of those before field 7.
 */
import { OtrArgumentError, OtrDecodeError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { bigToBytesBE } from '../bytes.js';
import { ED448_SIGNATURE_BYTES, POINT_BYTES, Writer } from '../codec/primitives.js';
import { SpanReader } from '../codec/span-reader.js';
import { readBoundedDsaPublicKey, type DsaPublicKey } from '../crypto/dsa.js';

export const ProfileField = Object.freeze({
  ownerTag: 0x0001,
  identityKey: 0x0002,
  forgingKey: 0x0003,
  versions: 0x0004,
  expiry: 0x0005,
  dsaKey: 0x0006,
  transitionalSignature: 0x0007,
} as const);

/** Ed448 key-type prefixes, written little-endian (interpretations.md §1: wire bytes `10 00`, `12 00`). */
export const KEY_TYPE_IDENTITY = 0x0010;
export const KEY_TYPE_FORGING = 0x0012;
/** The OTRv3 PUBKEY type for DSA. */
export const PUBKEY_TYPE_DSA = 0x0000;
/** r and s of the transitional signature, each as long as a 160-bit q. */
export const DSA_SIG_HALF_BYTES = 20;
export const TRANSITIONAL_SIGNATURE_BYTES = 2 * DSA_SIG_HALF_BYTES;

const REQUIRED_FIELDS = 5;
const MAX_FIELDS = 7;

/** The signed content of a profile: everything but the Ed448 signature. */
export interface ClientProfileFields {
  readonly ownerTag: number;
  /** H, the long-term Ed448 public key (POINT). */
  readonly identityKey: Uint8Array;
  /** F, the forging key (POINT). */
  readonly forgingKey: Uint8Array;
  /** The versions string, e.g. "4" or "34" (kept byte-for-byte: one char per byte). */
  readonly versions: string;
  /** Expiry, Unix seconds, signed 64-bit. */
  readonly expiry: bigint;
  readonly dsaKey?: DsaPublicKey;
  /** r || s, 40 bytes. */
  readonly transitionalSignature?: Uint8Array;
}

export interface ClientProfile extends ClientProfileFields {
  /** The 114-byte Ed448 signature over the fields. */
  readonly signature: Uint8Array;
  /** The exact encoding (count, fields, signature): what t hashes and what we forward. */
  readonly encoded: Uint8Array;
}

function writeDsaKey(w: Writer, k: DsaPublicKey): void {
  w.short(PUBKEY_TYPE_DSA);
  for (const v of [k.p, k.q, k.g, k.y]) w.mpi(bigToBytesBE(v));
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

function versionsBytes(v: string): Uint8Array {
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c > 0x7f) throw new OtrArgumentError('versions must be ASCII');
    out[i] = c;
  }
  return out;
}

/** Number of fields present. */
export function fieldCount(f: ClientProfileFields): number {
  return REQUIRED_FIELDS + (f.dsaKey ? 1 : 0) + (f.transitionalSignature ? 1 : 0);
}

/**
 * Writes fields 1..`upTo` that are present, each with its type prefix, in canonical order. With upTo = 7
 * this is the Ed448-signed message; with upTo = 6, the transitional-signed one.
 */
export function writeProfileFields(w: Writer, f: ClientProfileFields, upTo = 7): void {
  if (f.identityKey.length !== POINT_BYTES || f.forgingKey.length !== POINT_BYTES)
    throw new OtrArgumentError('profile keys must be 57-byte points');
  w.short(ProfileField.ownerTag).int(f.ownerTag);
  w.short(ProfileField.identityKey).shortLE(KEY_TYPE_IDENTITY).point(f.identityKey);
  w.short(ProfileField.forgingKey).shortLE(KEY_TYPE_FORGING).point(f.forgingKey);
  w.short(ProfileField.versions).data(versionsBytes(f.versions));
  w.short(ProfileField.expiry).long(f.expiry);
  if (f.dsaKey && upTo >= 6) {
    w.short(ProfileField.dsaKey);
    writeDsaKey(w, f.dsaKey);
  }
  if (f.transitionalSignature && upTo >= 7) {
    if (f.transitionalSignature.length !== TRANSITIONAL_SIGNATURE_BYTES)
      throw new OtrArgumentError('transitional signature must be 40 bytes');
    w.short(ProfileField.transitionalSignature).raw(f.transitionalSignature);
  }
}

/** The bytes fields 1..upTo encode to (the message a signature covers). */
export function encodeProfileFields(f: ClientProfileFields, upTo = 7): Uint8Array {
  const w = new Writer(512);
  writeProfileFields(w, f, upTo);
  return w.finish();
}

/** The full encoding: count, fields, signature. */
export function encodeClientProfile(f: ClientProfileFields, signature: Uint8Array): Uint8Array {
  if (signature.length !== ED448_SIGNATURE_BYTES) throw new OtrArgumentError('profile signature must be 114 bytes');
  const w = new Writer(512);
  w.int(fieldCount(f));
  writeProfileFields(w, f);
  w.raw(signature);
  return w.finish();
}

/**
 * Reads one Client Profile from `r`, keeping its exact bytes. Structural checks only: count in 5..7, fields in
 * strictly increasing type order (so no duplicates, no unknown types), fields 1–5 present, key-type prefixes
 * right, lengths within limits. Signatures, expiry and point validity are `validateClientProfile`'s job.
 */
export function readClientProfile(r: SpanReader): ClientProfile {
  const start = r.offset;
  const count = r.int();
  if (count < REQUIRED_FIELDS || count > MAX_FIELDS)
    throw new OtrDecodeError(`client profile has ${count} fields; expected ${REQUIRED_FIELDS}..${MAX_FIELDS}`);
  let last = 0;
  let ownerTag: number | undefined;
  let identityKey: Uint8Array | undefined;
  let forgingKey: Uint8Array | undefined;
  let versions: string | undefined;
  let expiry: bigint | undefined;
  let dsaKey: DsaPublicKey | undefined;
  let transitionalSignature: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const type = r.short();
    if (type <= last || type > ProfileField.transitionalSignature)
      throw new OtrDecodeError(
        type > ProfileField.transitionalSignature || type === 0
          ? `unknown client profile field type ${type}`
          : `client profile field ${type} duplicated or out of order`,
      );
    last = type;
    switch (type) {
      case ProfileField.ownerTag:
        ownerTag = r.int();
        break;
      case ProfileField.identityKey:
        if (r.shortLE() !== KEY_TYPE_IDENTITY) throw new OtrDecodeError('wrong identity key type');
        identityKey = r.point();
        break;
      case ProfileField.forgingKey:
        if (r.shortLE() !== KEY_TYPE_FORGING) throw new OtrDecodeError('wrong forging key type');
        forgingKey = r.point();
        break;
      case ProfileField.versions:
        versions = latin1(r.data('versions', DEFAULT_LIMITS.maxProfileVersionsBytes));
        break;
      case ProfileField.expiry:
        expiry = r.long();
        break;
      case ProfileField.dsaKey:
        // The one bounded reader (crypto/dsa.ts): a megabit p is refused here, before any arithmetic.
        dsaKey = readBoundedDsaPublicKey(r);
        break;
      case ProfileField.transitionalSignature:
        transitionalSignature = r.raw(TRANSITIONAL_SIGNATURE_BYTES, 'transitional signature');
        break;
    }
  }
  if (ownerTag === undefined || !identityKey || !forgingKey || versions === undefined || expiry === undefined)
    throw new OtrDecodeError('client profile lacks a required field');
  const signature = r.raw(ED448_SIGNATURE_BYTES, 'client profile signature');
  const encoded = r.since(start);
  const profile: ClientProfile = {
    ownerTag,
    identityKey,
    forgingKey,
    versions,
    expiry,
    signature,
    encoded,
    ...(dsaKey ? { dsaKey } : {}),
    ...(transitionalSignature ? { transitionalSignature } : {}),
  };
  return profile;
}

/** Decodes a standalone profile (no trailing bytes allowed). */
export function decodeClientProfile(bytes: Uint8Array, maxField?: number): ClientProfile {
  if (!(bytes instanceof Uint8Array)) throw new OtrArgumentError('client profile must be bytes');
  const r = new SpanReader(bytes, maxField);
  const p = readClientProfile(r);
  r.end('client profile');
  return p;
}

/** The Ed448-signed message of a decoded profile: its received field bytes (a view, no copy). */
export function profileSignedBytes(p: ClientProfile): Uint8Array {
  return p.encoded.subarray(4, p.encoded.length - ED448_SIGNATURE_BYTES);
}

/** The transitional-signed message: fields 1–6 as received (field 7 is last in canonical order). */
export function profileTransitionalSignedBytes(p: ClientProfile): Uint8Array {
  const signed = profileSignedBytes(p);
  return p.transitionalSignature ? signed.subarray(0, signed.length - 2 - TRANSITIONAL_SIGNATURE_BYTES) : signed;
}
