/**
 * The OTRv4 data message (otrv4.md §Data Message Format; interpretations.md §6):
 *
 *   SHORT 0x0004 | BYTE 0x03 | INT sender | INT receiver | BYTE flags | INT pn | INT ratchet id |
 *   INT message id | POINT ECDH | MPI DH (empty = 00000000) | DATA ciphertext | MAC authenticator (64) |
 *   DATA revealed MAC keys (a multiple of 64 bytes)
 *
 * The authenticator covers "everything from the version SHORT through the ciphertext DATA". This is the
 * per-message hot path, so the sender writes the whole message once into one exactly-sized buffer
 * (`draftDataMessage`), MACs a view of its prefix and drops the authenticator into place; the receiver gets
 * the same prefix as a view of the received bytes (`DecodedDataMessage.authenticated`). Nothing is encoded
 * twice.
 */
import { OtrArgumentError, OtrDecodeError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { MAC_BYTES, POINT_BYTES, Reader } from '../codec/primitives.js';
import { DH_PUBLIC_MAX_BYTES } from './dake.js';
import { checkOutgoingTags, HEADER_BYTES, MessageType, PROTOCOL_VERSION_4, readHeader } from './header.js';

/** The only defined flag: ignore the message silently if it cannot be decrypted. */
export const FLAG_IGNORE_UNREADABLE = 0x01;

/** Every field but the ciphertext (what `draftDataMessageSized` lays out before the sender encrypts). */
export type DataMessageHeaderFields = Omit<DataMessageFields, 'ciphertext'>;

export interface DataMessageFields {
  readonly senderTag: number;
  readonly receiverTag: number;
  readonly flags: number;
  /** pn: the number of messages in the sender's previous sending chain. */
  readonly previousChainLength: number;
  /** i (as sent: max(0, i − 1), interpretations.md §6). */
  readonly ratchetId: number;
  /** j. */
  readonly messageId: number;
  /** The sender's ECDH public key (POINT). */
  readonly ecdh: Uint8Array;
  /** The sender's DH public key, big-endian minimal, or empty when this is not a DH ratchet step. */
  readonly dh: Uint8Array;
  readonly ciphertext: Uint8Array;
  /** Old MAC keys revealed, concatenated (a multiple of 64 bytes, may be empty). */
  readonly revealedMacs: Uint8Array;
}

export interface DataMessage extends DataMessageFields {
  readonly authenticator: Uint8Array;
}

/**
 * A decoded data message. `authenticated`, `ciphertext`, `authenticator`, `ecdh` and `dh` are views into the
 * input (do not modify the input while the message is in use: they are only read, MAC'd and compared; a
 * caller that keeps a key copies it, as the ratchet's new-ratchet step does for its state and skipped keys);
 * `revealedMacs` is a copy of its own, except that empty DH and revealed-MACs fields are one shared empty
 * array.
 */
export interface DecodedDataMessage extends DataMessage {
  /** The MAC'd prefix of the received bytes (a view into the input). */
  readonly authenticated: Uint8Array;
}

export interface DataMessageDraft {
  /** The bytes the authenticator covers: a view into the message buffer. */
  readonly authenticated: Uint8Array;
  /**
   * The ciphertext field's bytes: a view into the message buffer (zero from `draftDataMessageSized`, for the
   * sender to encrypt into before it MACs `authenticated`).
   */
  readonly ciphertext: Uint8Array;
  /** Writes the 64-byte authenticator into place and returns the complete message (same buffer). */
  seal(authenticator: Uint8Array): Uint8Array;
}

// Fixed part of the authenticated prefix: header, flags, pn, ratchet id, message id, ECDH point, the two
// length prefixes (DH MPI and ciphertext DATA).
const FIXED_AUTH_BYTES = HEADER_BYTES + 1 + 4 + 4 + 4 + POINT_BYTES + 4 + 4;

/**
 * The value of every zero-length DH and revealed-MACs field a decoded message carries (most messages have
 * both empty). V8 gives every zero-length typed array an ArrayBuffer of its own, as costly as a large one
 * (~0.3–0.7 µs measured, two per received message); an empty field has no bytes to own, so they share one.
 */
const NO_BYTES = new Uint8Array(0);

/** Whether the 4-byte length of the DATA/MPI field at `at` is present and zero. */
function emptyFieldAt(bytes: Uint8Array, at: number): boolean {
  return at + 4 <= bytes.length && (bytes[at]! | bytes[at + 1]! | bytes[at + 2]! | bytes[at + 3]!) === 0;
}

/** The INT at `at`, with Reader.int's error when it is cut short. */
function u32At(bytes: Uint8Array, at: number): number {
  if (bytes.length - at < 4) throw new OtrDecodeError('truncated INT');
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function u32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

function minimalStart(v: Uint8Array): number {
  let i = 0;
  while (i < v.length && v[i] === 0) i++;
  return i;
}

function checkFields(f: DataMessageHeaderFields): void {
  checkOutgoingTags(f.senderTag, f.receiverTag);
  if (!Number.isInteger(f.flags) || f.flags < 0 || f.flags > 0xff) throw new OtrArgumentError('flags must be a byte');
  if (!u32(f.previousChainLength) || !u32(f.ratchetId) || !u32(f.messageId))
    throw new OtrArgumentError('pn, ratchet id and message id must be 32-bit unsigned');
  if (!(f.ecdh instanceof Uint8Array) || f.ecdh.length !== POINT_BYTES) throw new OtrArgumentError('ECDH key must be a 57-byte point');
  if (!(f.dh instanceof Uint8Array) || f.dh.length - minimalStart(f.dh) > DH_PUBLIC_MAX_BYTES)
    throw new OtrArgumentError('DH key too long');
  if (!(f.revealedMacs instanceof Uint8Array) || f.revealedMacs.length % MAC_BYTES !== 0)
    throw new OtrArgumentError('revealed MACs must be a multiple of 64 bytes');
}

function put32(buf: Uint8Array, o: number, v: number): number {
  buf[o] = v >>> 24;
  buf[o + 1] = (v >>> 16) & 0xff;
  buf[o + 2] = (v >>> 8) & 0xff;
  buf[o + 3] = v & 0xff;
  return o + 4;
}

/** Writes the authenticated prefix into `buf` at 0 (the ciphertext bytes only when given); returns its length. */
function writeAuthenticated(buf: Uint8Array, f: DataMessageHeaderFields, dh: Uint8Array, ctLen: number, ct?: Uint8Array): number {
  buf[0] = PROTOCOL_VERSION_4 >>> 8;
  buf[1] = PROTOCOL_VERSION_4 & 0xff;
  buf[2] = MessageType.data;
  let o = put32(buf, 3, f.senderTag);
  o = put32(buf, o, f.receiverTag);
  buf[o++] = f.flags;
  o = put32(buf, o, f.previousChainLength);
  o = put32(buf, o, f.ratchetId);
  o = put32(buf, o, f.messageId);
  buf.set(f.ecdh, o);
  o += POINT_BYTES;
  o = put32(buf, o, dh.length);
  buf.set(dh, o);
  o += dh.length;
  o = put32(buf, o, ctLen);
  if (ct !== undefined) buf.set(ct, o);
  return o + ctLen;
}

/**
 * Lays out the whole message in one buffer, leaving the authenticator zero until `seal`. The sender MACs
 * `draft.authenticated` and calls `draft.seal(mac)`.
 */
export function draftDataMessage(f: DataMessageFields): DataMessageDraft {
  if (!(f.ciphertext instanceof Uint8Array)) throw new OtrArgumentError('ciphertext must be bytes');
  return layOut(f, f.ciphertext.length, f.ciphertext);
}

/**
 * The same layout with a ciphertext field of `ciphertextLength` zero bytes, for the sender to fill through
 * `draft.ciphertext` (encrypting straight into the message: no separate ciphertext array, no copy).
 *
 * `reuse`: lay the message out in one buffer that every such call reuses (when it fits), for a caller that
 * encodes the sealed message at once and keeps nothing of it (the session armours it into a string): the
 * message is then valid only until the next `reuse` draft, and no array is allocated for it. The buffer only
 * ever holds public bytes (header, keys, ciphertext, authenticator, revealed MAC keys): the sender encrypts
 * into the ciphertext field from a plaintext held elsewhere.
 */
export function draftDataMessageSized(f: DataMessageHeaderFields, ciphertextLength: number, reuse = false): DataMessageDraft {
  if (!Number.isInteger(ciphertextLength) || ciphertextLength < 0 || ciphertextLength > 0xffffffff)
    throw new OtrArgumentError('ciphertext length must be a 32-bit unsigned integer');
  return layOut(f, ciphertextLength, undefined, reuse);
}

/**
 * A fresh message up to SLAB_MESSAGE_MAX bytes is its own region of a shared 8 KiB slab instead of an array of
 * its own. V8 gives every typed array over 64 bytes a separately allocated, GC-tracked backing store: ~0.25–0.4
 * µs for a 250-byte message here, against ~0.04 µs for a view of a slab (CPU time, in a loop), i.e. ~5% of a
 * data.100 message. Safe to share because the buffer only ever holds public bytes (the header, keys, ciphertext,
 * authenticator and revealed MAC keys, as the `reuse` buffer below); unlike that one, a region is handed out
 * once and never written again, so a message stays valid for as long as its caller keeps it. The cost is
 * retention: a kept message keeps its slab (at most 8 KiB) alive, as Node's own Buffer pool does; larger
 * messages get their own array (a 64 KiB slab for 1–8 KiB measured no gain in data.4k: docs/performance.md).
 * A caller that transfers `message.buffer` to a worker must copy a view first (as ts/pool/worker.ts does).
 */
const SLAB_BYTES = 8192;
const SLAB_MESSAGE_MAX = 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

/** A zeroed array of `n` bytes for a message that holds only public bytes. */
function publicMessageBuffer(n: number): Uint8Array {
  if (n > SLAB_MESSAGE_MAX) return new Uint8Array(n);
  if (slabUsed + n > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const buf = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += (n + 7) & ~7; // each region starts 8-byte aligned, as a fresh array's bytes do
  return buf;
}

/** Messages up to this size are laid out in the reused buffer of `draftDataMessageSized(…, reuse)`. */
const REUSED_BYTES = 16384;
let reused: Uint8Array | undefined;

/** A laid-out message waiting for its authenticator (a class: no closure and no ciphertext view per message). */
class Draft implements DataMessageDraft {
  private sealed = false;
  constructor(
    private readonly buf: Uint8Array,
    private readonly authLen: number,
    private readonly ctLen: number,
    readonly authenticated: Uint8Array,
  ) {}

  get ciphertext(): Uint8Array {
    return this.buf.subarray(this.authLen - this.ctLen, this.authLen);
  }

  seal(authenticator: Uint8Array): Uint8Array {
    if (!(authenticator instanceof Uint8Array) || authenticator.length !== MAC_BYTES)
      throw new OtrArgumentError('authenticator must be 64 bytes');
    if (this.sealed) throw new OtrArgumentError('data message already sealed');
    this.sealed = true;
    this.buf.set(authenticator, this.authLen);
    return this.buf;
  }
}

function layOut(f: DataMessageHeaderFields, ctLen: number, ct?: Uint8Array, reuse = false): DataMessageDraft {
  checkFields(f);
  const dhStart = minimalStart(f.dh);
  const dh = dhStart === 0 ? f.dh : f.dh.subarray(dhStart);
  const authLen = FIXED_AUTH_BYTES + dh.length + ctLen;
  const total = authLen + MAC_BYTES + 4 + f.revealedMacs.length;
  let buf: Uint8Array;
  if (reuse && total <= REUSED_BYTES) {
    buf = (reused ??= new Uint8Array(REUSED_BYTES)).subarray(0, total);
    // As a fresh buffer would be: the ciphertext field and the authenticator zero until written.
    buf.fill(0, authLen - ctLen, authLen + MAC_BYTES);
  } else buf = publicMessageBuffer(total);
  writeAuthenticated(buf, f, dh, ctLen, ct);
  const o = put32(buf, authLen + MAC_BYTES, f.revealedMacs.length);
  buf.set(f.revealedMacs, o);
  return new Draft(buf, authLen, ctLen, buf.subarray(0, authLen));
}

/**
 * The authenticated bytes of a data message, built directly from its fields in one allocation (for callers
 * that do not hold a draft or a decoded message).
 */
export function dataMessageAuthenticatedBytes(f: DataMessageFields): Uint8Array {
  if (!(f.ciphertext instanceof Uint8Array)) throw new OtrArgumentError('ciphertext must be bytes');
  checkFields(f);
  const dh = f.dh.subarray(minimalStart(f.dh));
  const buf = new Uint8Array(FIXED_AUTH_BYTES + dh.length + f.ciphertext.length);
  writeAuthenticated(buf, f, dh, f.ciphertext.length, f.ciphertext);
  return buf;
}

export function encodeDataMessage(m: DataMessage): Uint8Array {
  return draftDataMessage(m).seal(m.authenticator);
}

/**
 * Structural decode: header (version 4, type 0x03, well-formed tags), a 57-byte ECDH key, a DH value that
 * is empty or 1..384 bytes, bounded ciphertext, a 64-byte authenticator, revealed MACs in whole 64-byte
 * keys, no trailing bytes. Flags are returned as sent (the MAC covers them; the session decides on unknown
 * bits).
 */
export function decodeDataMessage(bytes: Uint8Array, maxField: number = DEFAULT_LIMITS.maxFieldBytes): DecodedDataMessage {
  if (!(bytes instanceof Uint8Array)) throw new OtrArgumentError('message must be bytes');
  const r = new Reader(bytes, maxField);
  const { senderTag, receiverTag } = readHeader(r, MessageType.data);
  const flags = r.byte();
  const previousChainLength = r.int();
  const ratchetId = r.int();
  const messageId = r.int();
  // The ECDH key is a view as well: on a chain it is only compared; receive.ts copies it for a new ratchet.
  const ecdhAt = r.offset;
  if (bytes.length - ecdhAt < POINT_BYTES) throw new OtrDecodeError('truncated POINT');
  const ecdh = bytes.subarray(ecdhAt, ecdhAt + POINT_BYTES);
  // The DH key (384 bytes in every message of a DH ratchet, the bench's whole one-way stream) is a view too:
  // the receiver only compares it with its chain's, and receive.ts copies it where a new ratchet keeps it —
  // a copy was an array of its own (outside V8's heap at that size) per message. The same checks and errors
  // as Reader.mpi (leading zeros accepted, the minimal magnitude returned); the fields up to the ciphertext
  // are read by hand from here, the reader having no way to step over bytes without copying them.
  const dhAt = ecdhAt + POINT_BYTES;
  const dhLen = u32At(bytes, dhAt);
  if (dhLen > maxField) throw new OtrDecodeError(`DH key of ${dhLen} bytes exceeds the limit of ${maxField}`);
  const dhEnd = dhAt + 4 + dhLen;
  if (dhEnd > bytes.length) throw new OtrDecodeError('truncated DH key');
  let dhStart = dhAt + 4;
  while (dhStart < dhEnd && bytes[dhStart] === 0) dhStart++;
  const dh = dhStart === dhEnd ? NO_BYTES : bytes.subarray(dhStart, dhEnd);
  if (dh.length > DH_PUBLIC_MAX_BYTES) throw new OtrDecodeError('DH key has an impossible length');
  // The ciphertext is the one large field and is only read (MAC'd, then decrypted into a fresh array): a view
  // of the input, like `authenticated`, instead of a copy (an allocation of its size per message). The same
  // checks and errors as Reader.data; the rest of the message is read from a second reader after it.
  const ctLen = u32At(bytes, dhEnd);
  if (ctLen > maxField) throw new OtrDecodeError(`ciphertext of ${ctLen} bytes exceeds the limit of ${maxField}`);
  const ctStart = dhEnd + 4;
  if (ctLen > bytes.length - ctStart) throw new OtrDecodeError('truncated ciphertext');
  const ctEnd = ctStart + ctLen;
  const ciphertext = bytes.subarray(ctStart, ctEnd);
  const authenticated = bytes.subarray(0, ctEnd);
  // The authenticator is only compared, never kept: a view too. The same checks and errors as Reader.raw.
  if (bytes.length - ctEnd < MAC_BYTES) throw new OtrDecodeError('truncated authenticator');
  const authenticator = bytes.subarray(ctEnd, ctEnd + MAC_BYTES);
  const macsAt = ctEnd + MAC_BYTES;
  let revealedMacs: Uint8Array;
  if (emptyFieldAt(bytes, macsAt)) {
    // The usual message reveals nothing: its last four bytes are the empty DATA's length, and no reader is made.
    if (bytes.length !== macsAt + 4) throw new OtrDecodeError(`${bytes.length - macsAt - 4} trailing bytes after data message`);
    revealedMacs = NO_BYTES;
  } else {
    const t = new Reader(bytes.subarray(macsAt), maxField);
    revealedMacs = t.data('revealed MACs');
    if (revealedMacs.length % MAC_BYTES !== 0) throw new OtrDecodeError('revealed MACs are not a multiple of 64 bytes');
    t.end('data message');
  }
  return {
    senderTag,
    receiverTag,
    flags,
    previousChainLength,
    ratchetId,
    messageId,
    ecdh,
    dh,
    ciphertext,
    authenticator,
    revealedMacs,
    authenticated,
  };
}

// The ratchet id and the ECDH key sit at fixed offsets: after the header, flags, pn (and the message id).
const RATCHET_ID_AT = HEADER_BYTES + 1 + 4;
const ECDH_AT = RATCHET_ID_AT + 4 + 4;

/**
 * The ratchet id and the ECDH key (a view into `bytes`) of an encoded data message, read at their fixed
 * offsets without decoding or checking anything else; undefined when `bytes` is too short to hold them. For
 * telling queued messages apart by the peer's ratchet key before any work (session/early-keys.ts): the
 * decoder and the ratchet still check the whole message when it is read.
 */
export function peekRatchetKey(bytes: Uint8Array): { ratchetId: number; ecdh: Uint8Array } | undefined {
  if (bytes.length < ECDH_AT + POINT_BYTES) return undefined;
  return { ratchetId: u32At(bytes, RATCHET_ID_AT), ecdh: bytes.subarray(ECDH_AT, ECDH_AT + POINT_BYTES) };
}

/** Splits revealed MAC keys into 64-byte views. */
export function splitRevealedMacs(revealed: Uint8Array): Uint8Array[] {
  if (revealed.length % MAC_BYTES !== 0) throw new OtrDecodeError('revealed MACs are not a multiple of 64 bytes');
  const out: Uint8Array[] = [];
  for (let o = 0; o < revealed.length; o += MAC_BYTES) out.push(revealed.subarray(o, o + MAC_BYTES));
  return out;
}
