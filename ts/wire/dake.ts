/**
 * The interactive DAKE messages (otrv4.md §Identity/Auth-R/Auth-I Message; interpretations.md §3):
 *
 *   Identity 0x35: header || CLIENT-PROF || Y (POINT) || B (MPI) || ecdh0 (POINT) || dh0 (MPI)
 *   Auth-R   0x36: header || CLIENT-PROF || X (POINT) || A (MPI) || sigma (RING-SIG) || ecdh0 || dh0
 *   Auth-I   0x37: header || sigma
 *
 * Decoders check structure only: header, lengths, a DH value that could be in the group (1..384 bytes),
 * no trailing bytes. Points, DH group membership, the profile's signatures and the ring signature are the
 * DAKE's checks. The profile is kept as its exact received bytes (`profile.encoded`), because t hashes them.
 */
import { OtrArgumentError, OtrDecodeError } from '../errors.js';
import { Reader, Writer } from '../codec/primitives.js';
import { SpanReader } from '../codec/span-reader.js';
import { MODP3072 } from '../crypto/dh-groups.js';
import { RING_SIG_BYTES } from '../crypto/ring-sig.js';
import { readClientProfile, type ClientProfile } from '../profile/encoding.js';
import { checkOutgoingTags, MessageType, readHeader, writeHeader } from './header.js';

/** RING-SIG: c1, r1, c2, r2, c3, r3 (six SCALARs), kept as raw bytes for the ring-signature code. */
export { RING_SIG_BYTES };
/** Largest minimal DH value: a 3072-bit integer. */
export const DH_PUBLIC_MAX_BYTES = MODP3072.bytes;

export interface IdentityMessage {
  readonly senderTag: number;
  readonly receiverTag: number;
  readonly profile: ClientProfile;
  /** Y (POINT). */
  readonly y: Uint8Array;
  /** B, big-endian minimal magnitude. */
  readonly b: Uint8Array;
  readonly ecdhFirst: Uint8Array;
  readonly dhFirst: Uint8Array;
}

export interface AuthRMessage {
  readonly senderTag: number;
  readonly receiverTag: number;
  readonly profile: ClientProfile;
  /** X (POINT). */
  readonly x: Uint8Array;
  /** A, big-endian minimal magnitude. */
  readonly a: Uint8Array;
  /** RING-SIG, 342 bytes. */
  readonly sigma: Uint8Array;
  readonly ecdhFirst: Uint8Array;
  readonly dhFirst: Uint8Array;
}

export interface AuthIMessage {
  readonly senderTag: number;
  readonly receiverTag: number;
  /** RING-SIG, 342 bytes. */
  readonly sigma: Uint8Array;
}

/**
 * A DH public value on the wire (B, A, dh0 here; B of a prekey message; A and our_dh_first of the
 * Non-Interactive-Auth message): non-empty (0 and 1 are never in the group) and at most 384 bytes once its
 * leading zeros are stripped (readers accept them: interpretations.md §1). Group membership is the verifier's check.
 */
export function readDhPublic(r: Reader, what: string): Uint8Array {
  const v = r.mpi(what);
  if (v.length === 0 || v.length > DH_PUBLIC_MAX_BYTES) throw new OtrDecodeError(`${what} has an impossible length`);
  return v;
}

/** Writes a DH public value minimally; OtrArgumentError unless it is 1..384 bytes. */
export function writeDhPublic(w: Writer, v: Uint8Array, what: string): void {
  if (!(v instanceof Uint8Array) || v.length === 0 || v.length > DH_PUBLIC_MAX_BYTES)
    throw new OtrArgumentError(`${what} must be 1..${DH_PUBLIC_MAX_BYTES} bytes`);
  w.mpi(v);
}

/** Writes a RING-SIG; OtrArgumentError unless it is exactly RING_SIG_BYTES. */
export function writeSigma(w: Writer, sigma: Uint8Array): void {
  if (!(sigma instanceof Uint8Array) || sigma.length !== RING_SIG_BYTES)
    throw new OtrArgumentError(`sigma must be ${RING_SIG_BYTES} bytes`);
  w.raw(sigma);
}

function bytesArg(bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new OtrArgumentError('message must be bytes');
  return bytes;
}

export function encodeIdentity(m: IdentityMessage): Uint8Array {
  checkOutgoingTags(m.senderTag, m.receiverTag);
  const w = new Writer(m.profile.encoded.length + 1024);
  writeHeader(w, MessageType.identity, m.senderTag, m.receiverTag);
  w.raw(m.profile.encoded).point(m.y);
  writeDhPublic(w, m.b, 'B');
  w.point(m.ecdhFirst);
  writeDhPublic(w, m.dhFirst, 'dh0');
  return w.finish();
}

export function decodeIdentity(bytes: Uint8Array, maxField?: number): IdentityMessage {
  const r = new SpanReader(bytesArg(bytes), maxField);
  const { senderTag, receiverTag } = readHeader(r, MessageType.identity);
  const profile = readClientProfile(r);
  const y = r.point();
  const b = readDhPublic(r, 'B');
  const ecdhFirst = r.point();
  const dhFirst = readDhPublic(r, 'dh0');
  r.end('Identity message');
  return { senderTag, receiverTag, profile, y, b, ecdhFirst, dhFirst };
}

export function encodeAuthR(m: AuthRMessage): Uint8Array {
  checkOutgoingTags(m.senderTag, m.receiverTag);
  const w = new Writer(m.profile.encoded.length + 1400);
  writeHeader(w, MessageType.authR, m.senderTag, m.receiverTag);
  w.raw(m.profile.encoded).point(m.x);
  writeDhPublic(w, m.a, 'A');
  writeSigma(w, m.sigma);
  w.point(m.ecdhFirst);
  writeDhPublic(w, m.dhFirst, 'dh0');
  return w.finish();
}

export function decodeAuthR(bytes: Uint8Array, maxField?: number): AuthRMessage {
  const r = new SpanReader(bytesArg(bytes), maxField);
  const { senderTag, receiverTag } = readHeader(r, MessageType.authR);
  const profile = readClientProfile(r);
  const x = r.point();
  const a = readDhPublic(r, 'A');
  const sigma = r.raw(RING_SIG_BYTES, 'sigma');
  const ecdhFirst = r.point();
  const dhFirst = readDhPublic(r, 'dh0');
  r.end('Auth-R message');
  return { senderTag, receiverTag, profile, x, a, sigma, ecdhFirst, dhFirst };
}

export function encodeAuthI(m: AuthIMessage): Uint8Array {
  checkOutgoingTags(m.senderTag, m.receiverTag);
  const w = new Writer(11 + RING_SIG_BYTES);
  writeHeader(w, MessageType.authI, m.senderTag, m.receiverTag);
  writeSigma(w, m.sigma);
  return w.finish();
}

export function decodeAuthI(bytes: Uint8Array): AuthIMessage {
  const r = new Reader(bytesArg(bytes));
  const { senderTag, receiverTag } = readHeader(r, MessageType.authI);
  const sigma = r.raw(RING_SIG_BYTES, 'sigma');
  r.end('Auth-I message');
  return { senderTag, receiverTag, sigma };
}
