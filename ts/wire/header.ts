/**
 * The header every binary OTR message starts with (otrv4.md §Identity Message et al.; interpretations.md §3):
 * SHORT protocol version, BYTE message type, INT sender instance tag, INT receiver instance tag. OTRv3
 * messages share the shape (with version 0x0003), so `peekHeader` routes both without decoding the body.
 */
import { OtrArgumentError, OtrDecodeError } from '../errors.js';
import { isValidReceiverTag, isValidSenderTag } from '../instance-tag.js';
import type { Reader, Writer } from '../codec/primitives.js';

export const PROTOCOL_VERSION_4 = 0x0004;
export const PROTOCOL_VERSION_3 = 0x0003;

/** OTRv4 message types. */
export const MessageType = Object.freeze({
  data: 0x03,
  nonInteractiveAuth: 0x0d,
  prekey: 0x0f,
  identity: 0x35,
  authR: 0x36,
  authI: 0x37,
} as const);
export type MessageTypeId = (typeof MessageType)[keyof typeof MessageType];

/** OTRv3 message types (otrv3-protocol.html), so the router can hand them to the v3 code. */
export const MessageTypeV3 = Object.freeze({
  dhCommit: 0x02,
  data: 0x03,
  dhKey: 0x0a,
  revealSignature: 0x11,
  signature: 0x12,
} as const);

/** SHORT + BYTE + INT + INT. */
export const HEADER_BYTES = 11;

export interface MessageHeader {
  readonly version: number;
  readonly type: number;
  readonly senderTag: number;
  readonly receiverTag: number;
}

/**
 * Reads the 11 header bytes without decoding or copying anything else: cheap enough to route every
 * incoming message by version, type and instance tag before the real decoder runs. Tags are returned
 * as sent; validate them with the instance-tag rules.
 */
export function peekHeader(bytes: Uint8Array): MessageHeader {
  if (!(bytes instanceof Uint8Array)) throw new OtrArgumentError('message must be bytes');
  if (bytes.length < HEADER_BYTES) throw new OtrDecodeError('truncated message header');
  const b = bytes;
  return {
    version: (b[0]! << 8) | b[1]!,
    type: b[2]!,
    senderTag: ((b[3]! << 24) | (b[4]! << 16) | (b[5]! << 8) | b[6]!) >>> 0,
    receiverTag: ((b[7]! << 24) | (b[8]! << 16) | (b[9]! << 8) | b[10]!) >>> 0,
  };
}

export function writeHeader(w: Writer, type: number, senderTag: number, receiverTag: number): void {
  w.short(PROTOCOL_VERSION_4).byte(type).int(senderTag).int(receiverTag);
}

/**
 * Reads a v4 header and checks what is structural: the version, the expected type, and that both tags are
 * well-formed (sender >= 0x100; receiver 0 or >= 0x100: otrv4.md §Instance Tags says to discard anything
 * else, so no decoded message ever carries such a tag). Whether the receiver tag is *ours* is the session's
 * check (see `instance-tag.ts`).
 */
export function readHeader(r: Reader, expectedType: number): { senderTag: number; receiverTag: number } {
  const version = r.short();
  if (version !== PROTOCOL_VERSION_4) throw new OtrDecodeError(`protocol version ${version}, expected 4`);
  const type = r.byte();
  if (type !== expectedType)
    throw new OtrDecodeError(`message type 0x${type.toString(16)}, expected 0x${expectedType.toString(16)}`);
  const senderTag = r.int();
  const receiverTag = r.int();
  if (!isValidSenderTag(senderTag)) throw new OtrDecodeError('invalid sender instance tag');
  if (!isValidReceiverTag(receiverTag)) throw new OtrDecodeError('invalid receiver instance tag');
  return { senderTag, receiverTag };
}

/** Encoder-side argument check, so we never put a tag on the wire that the peer must discard. */
export function checkOutgoingTags(senderTag: number, receiverTag: number): void {
  if (!isValidSenderTag(senderTag)) throw new OtrArgumentError('invalid sender instance tag');
  if (!isValidReceiverTag(receiverTag)) throw new OtrArgumentError('invalid receiver instance tag');
}
