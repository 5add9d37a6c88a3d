/**
 * Standard padded base64 (RFC 4648 §4), strict in both directions: the decoder accepts exactly what the
 * encoder produces — alphabet A–Z a–z 0–9 + /, length a multiple of 4, '=' only as final padding, unused
 * bits zero — so every accepted string has one decoding and re-encodes to itself. The table code below runs
 * everywhere with typed errors; where Node's Buffer exists, its native codec does the work (7–13x faster on
 * message-sized inputs, measured in docs/performance.md) under the same contract: encoding is the same RFC 4648
 * text, and a string is decoded natively only if it is canonical (`canonical`: the same set the table decoder
 * accepts), otherwise the table decoder runs and throws its typed error.
 */
import { OtrDecodeError } from '../errors.js';

/** The part of Node's Buffer used here; undefined in browsers (looked up on globalThis so bundlers add no polyfill). */
interface NodeBufferLike {
  toString(encoding: 'base64', start?: number, end?: number): string;
  write(s: string, encoding: 'base64'): number;
  write(s: string, offset: number, length: number, encoding: 'base64'): number;
}
const NodeBuffer = (globalThis as { Buffer?: { from(b: ArrayBufferLike, off: number, len: number): NodeBufferLike } }).Buffer;
const native = typeof NodeBuffer?.from === 'function' ? NodeBuffer : undefined;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

const ALPHABET_CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const PAD = 0x3d;
// Every output byte is ASCII, where latin1 and UTF-8 agree; latin1 decodes byte-per-char without validation.
const ASCII = new TextDecoder('latin1');

export function base64Encode(bytes: Uint8Array): string {
  if (native !== undefined) return native.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
  return tableEncode(bytes);
}

/** The portable encoder (browsers; exported for the tests that hold both paths equal): a byte buffer of character codes converted once. */
export function tableEncode(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  encodeInto(bytes, out, 0);
  return ASCII.decode(out);
}

/** Writes the base64 character codes of `bytes` into `out` from `o`; returns the offset after them. */
function encodeInto(bytes: Uint8Array, out: { [i: number]: number }, o: number): number {
  const n = bytes.length;
  const A = ALPHABET_CODES;
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o] = A[v >>> 18]!;
    out[o + 1] = A[(v >>> 12) & 63]!;
    out[o + 2] = A[(v >>> 6) & 63]!;
    out[o + 3] = A[v & 63]!;
    o += 4;
  }
  if (n - i === 1) {
    const v = bytes[i]! << 16;
    out[o] = A[v >>> 18]!;
    out[o + 1] = A[(v >>> 12) & 63]!;
    out[o + 2] = PAD;
    out[o + 3] = PAD;
    o += 4;
  } else if (n - i === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out[o] = A[v >>> 18]!;
    out[o + 1] = A[(v >>> 12) & 63]!;
    out[o + 2] = A[(v >>> 6) & 63]!;
    out[o + 3] = PAD;
    o += 4;
  }
  return o;
}

/** The part of a Node Buffer `base64EncodeFramed` writes into: bytes, and a latin1 string of a range of them. */
interface NodeScratch {
  [i: number]: number;
  readonly length: number;
  toString(encoding: 'latin1', start: number, end: number): string;
}
const nativeAlloc = (globalThis as { Buffer?: { allocUnsafe?(n: number): NodeScratch } }).Buffer?.allocUnsafe;
/** Framed encodings up to this many characters are built in the reused scratch; longer ones in a one-off buffer. */
const FRAMED_SCRATCH_MAX = 65536;
let framedScratch: NodeScratch | Uint8Array | undefined;

/**
 * `prefix + base64Encode(bytes) + suffix` (prefix and suffix ASCII) as ONE flat string, for PUBLIC bytes only
 * (armoured wire messages). The concatenation builds a rope (two cons strings over the encoding) that V8 copies
 * into a flat string again the first time it is read — by the receiver's first `startsWith`, or by the
 * structured clone that posts it from a pool worker — so each message left the encoding, the rope and the copy
 * for the collector (session 11). Here the characters are written once into a reused scratch buffer and
 * converted once. The scratch holds nothing but the encoding of public bytes.
 */
export function base64EncodeFramed(prefix: string, bytes: Uint8Array, suffix: string): string {
  const total = prefix.length + Math.ceil(bytes.length / 3) * 4 + suffix.length;
  let out: NodeScratch | Uint8Array;
  if (total > FRAMED_SCRATCH_MAX) out = nativeAlloc ? nativeAlloc(total) : new Uint8Array(total);
  else {
    if (framedScratch === undefined || framedScratch.length < total) {
      const size = Math.min(FRAMED_SCRATCH_MAX, Math.max(total, 1024) * 2);
      framedScratch = nativeAlloc ? nativeAlloc(size) : new Uint8Array(size);
    }
    out = framedScratch;
  }
  let o = 0;
  for (let i = 0; i < prefix.length; i++) out[o++] = prefix.charCodeAt(i);
  o = encodeInto(bytes, out, o);
  for (let i = 0; i < suffix.length; i++) out[o++] = suffix.charCodeAt(i);
  return nativeAlloc ? (out as NodeScratch).toString('latin1', 0, o) : ASCII.decode((out as Uint8Array).subarray(0, o));
}

function sextet(s: string, i: number): number {
  const c = s.charCodeAt(i);
  const v = c < 128 ? DECODE[c]! : -1;
  if (v < 0) throw new OtrDecodeError(`invalid base64 character at ${i}`);
  return v;
}

/** Decodes `s.slice(start, end)` (defaults: the whole string). */
export function base64Decode(s: string, start = 0, end = s.length): Uint8Array {
  const len = end - start;
  if (native !== undefined && len > 0 && len % 4 === 0) {
    const pad = s.charCodeAt(end - 1) === PAD ? (s.charCodeAt(end - 2) === PAD ? 2 : 1) : 0;
    // Node's decoder skips characters outside the alphabet and ignores non-zero padding bits: only a
    // canonical string goes to it, anything else to tableDecode for its typed error.
    if (canonical(s, start, end, pad)) {
      const out = new Uint8Array((len / 4) * 3 - pad);
      const text = start === 0 && end === s.length ? s : s.slice(start, end);
      if (native.from(out.buffer, out.byteOffset, out.length).write(text, 'base64') === out.length) return out;
      out.fill(0);
    }
  }
  return tableDecode(s, start, end);
}

/** A run of base64 alphabet characters, matched from `lastIndex` (sticky: no substring, no match object). */
const ALPHABET_RUN = /[A-Za-z0-9+/]*/y;

/**
 * Whether `s[start, end)` (a multiple of 4 long, `pad` '=' at its end) is canonical base64 — what tableDecode
 * accepts — so Node's decoder, which skips characters outside the alphabet and ignores the unused bits, decodes
 * it to exactly the table decoder's bytes. Checked in place (session 11): the earlier check re-encoded the
 * decoding and compared strings, a string as long as the input per message for the collector.
 */
function canonical(s: string, start: number, end: number, pad: number): boolean {
  ALPHABET_RUN.lastIndex = start;
  if (!ALPHABET_RUN.test(s) || ALPHABET_RUN.lastIndex !== end - pad) return false;
  // The unused low bits of the last character before the padding must be zero.
  if (pad === 2) return (DECODE[s.charCodeAt(end - 3)]! & 15) === 0;
  if (pad === 1) return (DECODE[s.charCodeAt(end - 2)]! & 3) === 0;
  return true;
}

/**
 * Slab for `base64DecodeWire`: decoded wire messages are carved from it as views, so a message costs no
 * ArrayBuffer of its own (V8 backs every typed array over 64 bytes with a separately allocated, GC-tracked
 * store: ~1 µs each, measured, against ~0.1 µs for the whole native decode into a slab). A full slab is
 * replaced, never reused, so a view stays valid for as long as it is held (Node's Buffer pool does the same).
 */
const WIRE_SLAB_BYTES = 8192;
let wireSlab: Uint8Array | undefined;
let wireSlabView: NodeBufferLike | undefined;
let wireSlabUsed = 0;

/**
 * `base64Decode` for PUBLIC bytes only (armoured wire messages: they crossed the network in the clear): the
 * same strict contract and typed errors, but on Node the result is a view into a slab shared with other
 * decoded wire messages (its `.buffer` holds them), so no secret may ever be decoded here.
 */
export function base64DecodeWire(s: string, start = 0, end = s.length): Uint8Array {
  const len = end - start;
  if (native === undefined || len === 0 || len % 4 !== 0) return base64Decode(s, start, end);
  const pad = s.charCodeAt(end - 1) === PAD ? (s.charCodeAt(end - 2) === PAD ? 2 : 1) : 0;
  const n = (len / 4) * 3 - pad;
  if (n > WIRE_SLAB_BYTES / 4) return base64Decode(s, start, end);
  if (wireSlab === undefined || wireSlabView === undefined || wireSlabUsed + n > WIRE_SLAB_BYTES) {
    wireSlab = new Uint8Array(WIRE_SLAB_BYTES);
    wireSlabView = native.from(wireSlab.buffer, 0, WIRE_SLAB_BYTES);
    wireSlabUsed = 0;
  }
  // As in base64Decode: only a canonical string is decoded natively; anything else gets tableDecode's error.
  if (!canonical(s, start, end, pad)) return tableDecode(s, start, end);
  const at = wireSlabUsed;
  const text = start === 0 && end === s.length ? s : s.slice(start, end);
  if (wireSlabView.write(text, at, n, 'base64') === n) {
    wireSlabUsed = at + n;
    return wireSlab.subarray(at, at + n);
  }
  wireSlab.fill(0, at, at + n);
  return tableDecode(s, start, end);
}

export function tableDecode(s: string, start = 0, end = s.length): Uint8Array {
  const len = end - start;
  if (len % 4 !== 0) throw new OtrDecodeError('base64 length is not a multiple of 4');
  if (len === 0) return new Uint8Array(0);
  let pad = 0;
  if (s.charCodeAt(end - 1) === PAD) pad = s.charCodeAt(end - 2) === PAD ? 2 : 1;
  const out = new Uint8Array((len / 4) * 3 - pad);
  let o = 0;
  const full = end - (pad ? 4 : 0);
  for (let i = start; i < full; i += 4) {
    const v = (sextet(s, i) << 18) | (sextet(s, i + 1) << 12) | (sextet(s, i + 2) << 6) | sextet(s, i + 3);
    out[o++] = v >>> 16;
    out[o++] = (v >>> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  if (pad === 2) {
    const a = sextet(s, full);
    const b = sextet(s, full + 1);
    if (b & 15) throw new OtrDecodeError('non-canonical base64 padding bits');
    out[o] = (a << 2) | (b >>> 4);
  } else if (pad === 1) {
    const a = sextet(s, full);
    const b = sextet(s, full + 1);
    const c = sextet(s, full + 2);
    if (c & 3) throw new OtrDecodeError('non-canonical base64 padding bits');
    out[o++] = (a << 2) | (b >>> 4);
    out[o] = ((b & 15) << 4) | (c >>> 2);
  }
  return out;
}
