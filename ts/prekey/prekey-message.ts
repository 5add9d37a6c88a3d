/**
 * Prekey messages (otrv4.md §Prekey Message): two one-time ephemeral public keys, published to the prekey
 * server and handed out at most once.
 *
 *   SHORT 0x0004 || BYTE 0x0F || INT prekey message id || INT owner instance tag || POINT Y || MPI B
 *
 * Unlike the other OTRv4 messages there is no receiver tag: the header is the prekey server's fixed
 * "version, type, id, owner tag" (otrv4-prekey-server.md §Prekey Server Requirements). The decoder is
 * structural (version 4, type 0x0F, a real owner tag, a DH value of possible length, no trailing bytes);
 * `verifyPrekeyMessage` adds the spec's point and group checks.
 *
 * The owner generates a batch with `generatePrekeyMessages`: the public messages go to the server, the
 * secrets (y, b) into the owner's store (owner-store.ts) until the one Non-Interactive-Auth message that
 * uses them arrives.
 */
import type { CryptoBackend } from '../backend/types.js';
import { wipe } from '../bytes.js';
import { OtrArgumentError, OtrCryptoError, OtrDecodeError } from '../errors.js';
import { POINT_BYTES, Reader, Writer } from '../codec/primitives.js';
import { generateEcdh, type EcdhKeyPair } from '../crypto/ecdh.js';
import { dhAssertValidPublic, dhKeyPair, type DhKeyPair } from '../crypto/dh.js';
import type { RandomSource } from '../crypto/random.js';
import { isValidSenderTag } from '../instance-tag.js';
import { MessageType, PROTOCOL_VERSION_4 } from '../wire/header.js';
import { DH_PUBLIC_MAX_BYTES, readDhPublic, writeDhPublic } from '../wire/dake.js';

/** The most prekey messages one publication carries (its count is a BYTE: otrv4-prekey-server.md). */
export const MAX_PREKEY_MESSAGES_PER_BATCH = 255;
/** Header (2 + 1 + 4 + 4) and Y. */
const FIXED_BYTES = 11 + POINT_BYTES;
/** The largest encoding: fixed part, MPI length, a 384-byte B. */
export const PREKEY_MESSAGE_MAX_BYTES = FIXED_BYTES + 4 + DH_PUBLIC_MAX_BYTES;

export interface PrekeyMessage {
  /** The prekey message identifier (INT), unique among the owner's unused prekeys. */
  readonly id: number;
  readonly ownerTag: number;
  /** Y, the one-time ECDH public key. */
  readonly y: Uint8Array;
  /** B, the one-time DH public key (minimal big-endian). */
  readonly b: Uint8Array;
}

/** A prekey message with its secrets, as the owner keeps it. */
export interface PrekeySecrets {
  readonly message: PrekeyMessage;
  readonly ecdh: EcdhKeyPair;
  readonly dh: DhKeyPair;
}

export function writePrekeyMessage(w: Writer, m: PrekeyMessage): void {
  if (!Number.isInteger(m.id) || m.id < 0 || m.id > 0xffffffff) throw new OtrArgumentError('prekey message id must be a 32-bit unsigned integer');
  if (!isValidSenderTag(m.ownerTag)) throw new OtrArgumentError('prekey owner tag must be >= 0x100');
  w.short(PROTOCOL_VERSION_4).byte(MessageType.prekey).int(m.id).int(m.ownerTag).point(m.y);
  writeDhPublic(w, m.b, 'B');
}

export function encodePrekeyMessage(m: PrekeyMessage): Uint8Array {
  const w = new Writer(PREKEY_MESSAGE_MAX_BYTES);
  writePrekeyMessage(w, m);
  return w.finish();
}

/** Reads one prekey message from `r` (inside an ensemble or a publication). */
export function readPrekeyMessage(r: Reader): PrekeyMessage {
  const version = r.short();
  if (version !== PROTOCOL_VERSION_4) throw new OtrDecodeError(`prekey message version ${version}, expected 4`);
  const type = r.byte();
  if (type !== MessageType.prekey) throw new OtrDecodeError(`message type 0x${type.toString(16)}, expected a prekey message`);
  const id = r.int();
  const ownerTag = r.int();
  if (!isValidSenderTag(ownerTag)) throw new OtrDecodeError('invalid prekey owner instance tag');
  const y = r.point();
  const b = readDhPublic(r, 'B');
  return { id, ownerTag, y, b };
}

export function decodePrekeyMessage(bytes: Uint8Array): PrekeyMessage {
  if (!(bytes instanceof Uint8Array)) throw new OtrArgumentError('prekey message must be bytes');
  const r = new Reader(bytes);
  const m = readPrekeyMessage(r);
  r.end('prekey message');
  return m;
}

/** otrv4.md §Prekey Message, "To verify": Y a valid point (INVALID_POINT), B in the group (INVALID_DH_VALUE). */
export function verifyPrekeyMessage(b: CryptoBackend, m: PrekeyMessage): void {
  if (!b.pointIsValid(m.y)) throw new OtrCryptoError('INVALID_POINT', 'prekey message Y is not a valid point');
  dhAssertValidPublic(b, m.b);
}

function randomId(random: RandomSource): number {
  const r = random(4);
  return ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
}

/**
 * `count` fresh prekey messages for `ownerTag`, with ids that are random (the spec asks for a "unique random
 * id") and distinct from each other and from `usedIds` (the ids still in the owner's store).
 */
export function generatePrekeyMessages(
  b: CryptoBackend,
  random: RandomSource,
  ownerTag: number,
  count: number,
  usedIds: ReadonlySet<number> = new Set(),
): PrekeySecrets[] {
  if (!isValidSenderTag(ownerTag)) throw new OtrArgumentError('owner tag must be >= 0x100');
  if (!Number.isInteger(count) || count < 0 || count > MAX_PREKEY_MESSAGES_PER_BATCH)
    throw new OtrArgumentError(`count must be 0..${MAX_PREKEY_MESSAGES_PER_BATCH}`);
  const ids = new Set(usedIds);
  const out: PrekeySecrets[] = [];
  try {
    for (let i = 0; i < count; i++) {
      let id = randomId(random);
      for (let tries = 0; ids.has(id); tries++) {
        if (tries > 64) throw new OtrArgumentError('random source keeps repeating prekey ids');
        id = randomId(random);
      }
      ids.add(id);
      const ecdh = generateEcdh(b, random);
      const dh = dhKeyPair(b, random);
      out.push({ message: { id, ownerTag, y: ecdh.public, b: dh.public }, ecdh, dh });
    }
  } catch (e) {
    for (const s of out) wipe(s.ecdh.secret, s.dh.secret);
    throw e;
  }
  return out;
}
