/**
 * The Non-Interactive-Auth message (otrv4.md §Non-Interactive-Auth Message):
 *
 *   header (0x0D) || CLIENT-PROF || X (POINT) || A (MPI) || sigma (RING-SIG) || prekey message id (INT)
 *   || Auth MAC (64 bytes) || our_ecdh_first (POINT) || our_dh_first (MPI)
 *
 * Structural decoding only (header, lengths, a possible DH length, no trailing bytes); the profile is kept as
 * its exact received bytes because t hashes them. Points, DH values, the profile, the MAC and the ring
 * signature are the DAKE's checks (dake.ts).
 */
import { OtrArgumentError } from '../errors.js';
import { MAC_BYTES, Writer } from '../codec/primitives.js';
import { SpanReader } from '../codec/span-reader.js';
import { readClientProfile } from '../profile/encoding.js';
import { checkOutgoingTags, MessageType, readHeader, writeHeader } from '../wire/header.js';
import { readDhPublic, RING_SIG_BYTES, writeDhPublic, writeSigma, type AuthRMessage } from '../wire/dake.js';

/** Auth-R's fields (tags, profile, X, A, sigma, first keys), plus the prekey id and the Auth MAC. */
export interface NonInteractiveAuthMessage extends AuthRMessage {
  /** The id of the prekey message the sender used. */
  readonly prekeyId: number;
  /** Auth MAC, 64 bytes. */
  readonly authMac: Uint8Array;
}

export function encodeNonInteractiveAuth(m: NonInteractiveAuthMessage): Uint8Array {
  checkOutgoingTags(m.senderTag, m.receiverTag);
  if (!Number.isInteger(m.prekeyId) || m.prekeyId < 0 || m.prekeyId > 0xffffffff) throw new OtrArgumentError('prekey id must be a 32-bit unsigned integer');
  if (!(m.authMac instanceof Uint8Array) || m.authMac.length !== MAC_BYTES) throw new OtrArgumentError(`Auth MAC must be ${MAC_BYTES} bytes`);
  const w = new Writer(m.profile.encoded.length + 1500);
  writeHeader(w, MessageType.nonInteractiveAuth, m.senderTag, m.receiverTag);
  w.raw(m.profile.encoded).point(m.x);
  writeDhPublic(w, m.a, 'A');
  writeSigma(w, m.sigma);
  w.int(m.prekeyId).raw(m.authMac).point(m.ecdhFirst);
  writeDhPublic(w, m.dhFirst, 'first DH key');
  return w.finish();
}

export function decodeNonInteractiveAuth(bytes: Uint8Array, maxField?: number): NonInteractiveAuthMessage {
  if (!(bytes instanceof Uint8Array)) throw new OtrArgumentError('message must be bytes');
  const r = new SpanReader(bytes, maxField);
  const { senderTag, receiverTag } = readHeader(r, MessageType.nonInteractiveAuth);
  const profile = readClientProfile(r);
  const x = r.point();
  const a = readDhPublic(r, 'A');
  const sigma = r.raw(RING_SIG_BYTES, 'sigma');
  const prekeyId = r.int();
  const authMac = r.raw(MAC_BYTES, 'Auth MAC');
  const ecdhFirst = r.point();
  const dhFirst = readDhPublic(r, 'first DH key');
  r.end('Non-Interactive-Auth message');
  return { senderTag, receiverTag, profile, x, a, sigma, prekeyId, authMac, ecdhFirst, dhFirst };
}
