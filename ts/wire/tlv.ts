/**
 * TLV records and the data-message plaintext (otrv4.md §TLV Record Types, §Data Message; interpretations.md
 * §8). A TLV is SHORT type || SHORT length || value. The decrypted plaintext is `message [0x00 TLV*]`.
 *
 * Malformed TLVs. The spec says to stop processing a corrupted TLV but process the rest of the message and
 * "any other TLVs"; otrr rejects the whole message. After a corrupted record the following bytes cannot be
 * framed, so "the other TLVs" can only mean the ones before it. Our rule: the human-readable part and every
 * well-formed TLV *before* the first corrupted one are delivered; parsing stops there, and `malformed` is set
 * so the session can warn. A record of an unknown type is not corrupted: it is returned and the consumer
 * ignores it. More than `maxTlvs` records is treated like a corrupted one (parsing stops at the limit), so
 * a plaintext can never make us build an unbounded list.
 */
import { OtrArgumentError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { indexOfNul } from '../codec/nul.js';
import { copyBytes, utf8, wipe } from '../bytes.js';

export const TlvType = Object.freeze({
  padding: 0,
  disconnected: 1,
  smp1: 2,
  smp2: 3,
  smp3: 4,
  smp4: 5,
  smpAbort: 6,
  extraSymmetricKey: 7,
} as const);

export const TLV_HEADER_BYTES = 4;
export const TLV_MAX_VALUE_BYTES = 0xffff;

export interface Tlv {
  readonly type: number;
  readonly value: Uint8Array;
  /**
   * Set by the decoder: the record's 0-based position among ALL records of the message, padding included
   * (padding is dropped from decoded lists, but the extra-symmetric-key derivation indexes by position).
   */
  readonly position?: number;
}

export interface Plaintext {
  /** The human-readable part (UTF-8 bytes, no NUL). */
  readonly message: Uint8Array;
  /** The well-formed TLVs, padding (type 0) removed. */
  readonly tlvs: Tlv[];
  /** True when a corrupted record (or one beyond maxTlvs) stopped TLV parsing. */
  readonly malformed: boolean;
}

function checkTlv(t: Tlv): void {
  if (!Number.isInteger(t.type) || t.type < 0 || t.type > 0xffff) throw new OtrArgumentError('TLV type must be a SHORT');
  if (!(t.value instanceof Uint8Array) || t.value.length > TLV_MAX_VALUE_BYTES)
    throw new OtrArgumentError('TLV value must be at most 65535 bytes');
}

/** TLV records back to back. */
export function encodeTlvs(tlvs: readonly Tlv[]): Uint8Array {
  let n = 0;
  for (const t of tlvs) {
    checkTlv(t);
    n += TLV_HEADER_BYTES + t.value.length;
  }
  const out = new Uint8Array(n);
  writeTlvs(out, 0, tlvs);
  return out;
}

// The framing rule every TLV reader shares: the value length of the record at offset `o` (the `seen`-th,
// padding counted), or -1 when it is corrupted or beyond `maxTlvs` (parsing stops there).
function valueLength(bytes: Uint8Array, o: number, seen: number, maxTlvs: number): number {
  if (seen >= maxTlvs || bytes.length - o < TLV_HEADER_BYTES) return -1;
  const len = (bytes[o + 2]! << 8) | bytes[o + 3]!;
  return bytes.length - o - TLV_HEADER_BYTES < len ? -1 : len;
}

/**
 * Parses TLV records from `bytes` (the part after the NUL). Returns the records up to the first corrupted
 * one (see the module comment); padding records are dropped but count toward `maxTlvs`.
 */
export function decodeTlvs(bytes: Uint8Array, maxTlvs: number = DEFAULT_LIMITS.maxTlvs): { tlvs: Tlv[]; malformed: boolean } {
  const tlvs: Tlv[] = [];
  let seen = 0;
  for (let o = 0; o < bytes.length; seen++) {
    const len = valueLength(bytes, o, seen, maxTlvs);
    if (len < 0) return { tlvs, malformed: true };
    const type = (bytes[o]! << 8) | bytes[o + 1]!;
    if (type !== TlvType.padding) tlvs.push({ type, value: bytes.slice(o + 4, o + 4 + len), position: seen });
    o += TLV_HEADER_BYTES + len;
  }
  return { tlvs, malformed: false };
}

/**
 * Whether `message [0x00 TLV*]` has a well-formed record of `type` among the ones decodeTlvs would return
 * (same limit, same stop at the first corrupted record). Reads headers only: the ratchet asks this of every
 * plaintext, and decoding would copy every value a second time (the session decodes the plaintext anyway).
 */
export function plaintextHasTlv(plaintext: Uint8Array, type: number, maxTlvs: number = DEFAULT_LIMITS.maxTlvs): boolean {
  const start = indexOfNul(plaintext) + 1;
  if (start === 0) return false;
  const bytes = plaintext.subarray(start);
  for (let o = 0, seen = 0; o < bytes.length; seen++) {
    const len = valueLength(bytes, o, seen, maxTlvs);
    if (len < 0) return false;
    if (((bytes[o]! << 8) | bytes[o + 1]!) === type) return true;
    o += TLV_HEADER_BYTES + len;
  }
  return false;
}

/**
 * Splits a decrypted plaintext at its first NUL into the message and its TLVs. A plaintext without a NUL is
 * all message and no TLVs (otrr omits the NUL when there are no TLVs; otr4j always writes it).
 */
export function splitPlaintext(plaintext: Uint8Array, maxTlvs: number = DEFAULT_LIMITS.maxTlvs): Plaintext {
  const split = splitPlaintextView(plaintext, maxTlvs);
  return { message: split.message.slice(), tlvs: split.tlvs, malformed: split.malformed };
}

/**
 * `splitPlaintext` without the message copy: `message` is a view into `plaintext` (the TLV values are still
 * copies). For a caller that reads the message at once and then wipes `plaintext` (the session decodes the
 * text before wiping): one array fewer per received message, and no unwiped copy of the decrypted text.
 */
export function splitPlaintextView(plaintext: Uint8Array, maxTlvs: number = DEFAULT_LIMITS.maxTlvs): Plaintext {
  if (!(plaintext instanceof Uint8Array)) throw new OtrArgumentError('plaintext must be bytes');
  const nul = indexOfNul(plaintext);
  if (nul < 0) return { message: plaintext, tlvs: [], malformed: false };
  const { tlvs, malformed } = decodeTlvs(plaintext.subarray(nul + 1), maxTlvs);
  return { message: plaintext.subarray(0, nul), tlvs, malformed };
}

/**
 * Builds `message [0x00 TLV*]`. The NUL is written only when there are TLVs: both otrr and otr4j read either
 * form, and a plain message then has no trailing byte. A message containing NUL would be mis-split by the
 * receiver, so it is refused.
 */
export function joinPlaintext(message: Uint8Array, tlvs: readonly Tlv[] = []): Uint8Array {
  if (!(message instanceof Uint8Array)) throw new OtrArgumentError('message must be bytes');
  if (indexOfNul(message) >= 0) throw new OtrArgumentError('message text must not contain NUL');
  if (tlvs.length === 0) return copyBytes(message);
  const t = encodeTlvs(tlvs);
  const out = new Uint8Array(message.length + 1 + t.length);
  out.set(message, 0);
  out.set(t, message.length + 1);
  return out;
}

/** Plaintexts up to this many bytes are assembled in the shared buffer (larger ones get an array of their own). */
const OUTGOING_SCRATCH_BYTES = 8192;
let outgoing: Uint8Array | undefined;
const encoder = new TextEncoder();

function writeTlvs(buf: Uint8Array, o: number, tlvs: readonly Tlv[]): number {
  for (const t of tlvs) {
    buf[o] = t.type >>> 8;
    buf[o + 1] = t.type & 0xff;
    buf[o + 2] = t.value.length >>> 8;
    buf[o + 3] = t.value.length & 0xff;
    buf.set(t.value, o + 4);
    o += TLV_HEADER_BYTES + t.value.length;
  }
  return o;
}

/** What `joinTextPlaintext` assembled: the plaintext (a view of the shared buffer, or its own array) and the padding TLV it appended. */
export interface OutgoingPlaintext {
  readonly plaintext: Uint8Array;
  readonly padding: Tlv | undefined;
}

/**
 * `joinPlaintext(utf8(text), [...tlvs, padding])` for the sender, where `padding` is `paddingTlv`'s record for
 * `padBlock` (appended last, so the other records keep their positions). The text is UTF-8-encoded straight
 * into one buffer that every call reuses, the TLVs after it: nothing is allocated for a plaintext that fits,
 * and no copy of the text is left behind unwiped (`utf8(text)` was one such copy per message).
 *
 * The returned `plaintext` is valid until the next call. It holds a secret in a shared buffer, so the caller
 * encrypts it at once and wipes it (`wipe(plaintext)`, in a `finally`), which leaves the buffer zero again;
 * sending is synchronous, so two plaintexts are never in the buffer together. A plaintext that might not fit
 * (its bound: 3 bytes per UTF-16 unit) is built in an array of its own, which the caller wipes the same way.
 * Same checks and errors as `joinPlaintext`.
 */
export function joinTextPlaintext(text: string, tlvs: readonly Tlv[], padBlock: number, shared = true): OutgoingPlaintext {
  if (typeof text !== 'string') throw new OtrArgumentError('message must be a string');
  // UTF-8 has a zero byte only for U+0000, so this is joinPlaintext's NUL check on the encoded bytes.
  if (text.includes('\0')) throw new OtrArgumentError('message text must not contain NUL');
  // paddingTlv's own check, made before the text is encoded into the shared buffer: refused there, after the
  // encoding, the text would stay in the buffer (and NaN would even pass the size bound below).
  if (!Number.isInteger(padBlock) || padBlock < 0 || padBlock > TLV_MAX_VALUE_BYTES) throw new OtrArgumentError('bad padding block');
  let tlvBytes = 0;
  for (const t of tlvs) {
    checkTlv(t);
    tlvBytes += TLV_HEADER_BYTES + t.value.length;
  }
  const hasTlvs = tlvs.length > 0;
  // `shared` false: a send made while another is under way (from a host callback) must not touch its buffer.
  if (!shared || text.length * 3 + 1 + tlvBytes + TLV_HEADER_BYTES + padBlock > OUTGOING_SCRATCH_BYTES) {
    const message = utf8(text);
    try {
      const padding = paddingTlv(message.length + (hasTlvs ? 1 : 0) + tlvBytes, padBlock, hasTlvs);
      return { plaintext: joinPlaintext(message, padding ? [...tlvs, padding] : tlvs), padding };
    } finally {
      wipe(message);
    }
  }
  const buf = (outgoing ??= new Uint8Array(OUTGOING_SCRATCH_BYTES));
  let o = text.length === 0 ? 0 : encoder.encodeInto(text, buf).written;
  const padding = paddingTlv(o + (hasTlvs ? 1 : 0) + tlvBytes, padBlock, hasTlvs);
  if (hasTlvs || padding) {
    buf[o++] = 0;
    o = writeTlvs(buf, o, tlvs);
    if (padding) o = writeTlvs(buf, o, [padding]);
  }
  return { plaintext: buf.subarray(0, o), padding };
}

/**
 * Padding policy: the type-0 TLV (if any) that brings a plaintext of `plaintextLength` bytes up to a multiple
 * of `block` bytes, so the ciphertext length reveals only the block count. `hasTlvs` says whether the
 * plaintext already carries the NUL separator (if not, the caller's join adds one byte, accounted here).
 * Returns undefined when `block` is 0 (no policy). The value is zeros: it is encrypted, and
 * the receiver drops it unread.
 */
export function paddingTlv(plaintextLength: number, block: number, hasTlvs: boolean): Tlv | undefined {
  if (!Number.isInteger(plaintextLength) || plaintextLength < 0) throw new OtrArgumentError('bad plaintext length');
  if (!Number.isInteger(block) || block < 0 || block > TLV_MAX_VALUE_BYTES) throw new OtrArgumentError('bad padding block');
  if (block === 0) return undefined;
  const base = plaintextLength + (hasTlvs ? 0 : 1) + TLV_HEADER_BYTES;
  const pad = (block - (base % block)) % block;
  return { type: TlvType.padding, value: new Uint8Array(pad) };
}
