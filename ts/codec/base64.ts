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
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  const A = ALPHABET_CODES;
  let o = 0;
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
  } else if (n - i === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out[o] = A[v >>> 18]!;
    out[o + 1] = A[(v >>> 12) & 63]!;
    out[o + 2] = A[(v >>> 6) & 63]!;
    out[o + 3] = PAD;
  }
  return ASCII.decode(out);
}

/** The part of Node's Buffer `base64EncodeFramed` uses: a latin1 string of a range of its bytes. */
interface NodeLatin1 {
  toString(encoding: 'latin1', start: number, end: number): string;
}
const nativeOver = (globalThis as { Buffer?: { from(b: ArrayBuffer): NodeLatin1 } }).Buffer?.from;

/**
 * Two base64 characters per 12 bits, as the two bytes of one 16-bit store (laid out byte by byte, so the table
 * is right whatever the platform's byte order): the framed encoder writes half as many times as a byte loop.
 */
const PAIRS = new Uint16Array(4096);
{
  const bytes = new Uint8Array(PAIRS.buffer);
  for (let v = 0; v < 4096; v++) {
    bytes[2 * v] = ALPHABET_CODES[v >>> 6]!;
    bytes[2 * v + 1] = ALPHABET_CODES[v & 63]!;
  }
}

/** Framed encodings up to this many bytes are built in the reused scratch; longer ones in a buffer of their own. */
const FRAMED_SCRATCH_MAX = 65536;
interface Scratch {
  bytes: Uint8Array;
  pairs: Uint16Array;
  text: NodeLatin1 | undefined;
}
let framedScratch: Scratch | undefined;
function scratchOf(size: number): Scratch {
  const buf = new ArrayBuffer((size + 1) & ~1); // whole 16-bit units
  return { bytes: new Uint8Array(buf), pairs: new Uint16Array(buf), text: nativeOver?.(buf) };
}

/**
 * `prefix + base64Encode(bytes) + suffix` (prefix and suffix ASCII) as ONE flat string, for PUBLIC bytes only
 * (armoured wire messages). The concatenation builds a rope (two cons strings over the encoding) that V8 copies
 * into a flat string again the first time it is read — by the receiver's first `startsWith`, or by the
 * structured clone that posts it from a pool worker — and reading a rope costs more garbage on the way (session
 * 11, bench/alloc.js: 1–2 KB less per message sent and received). Here the characters are written once into a
 * reused scratch, two per store (PAIRS), and converted once. The scratch holds nothing but the encoding of
 * public bytes.
 */
export function base64EncodeFramed(prefix: string, bytes: Uint8Array, suffix: string): string {
  const n = bytes.length;
  // The encoding starts at an even offset (16-bit stores): the prefix ends there.
  const begin = prefix.length & 1;
  const size = begin + prefix.length + Math.ceil(n / 3) * 4 + suffix.length;
  let sc: Scratch;
  if (size > FRAMED_SCRATCH_MAX) sc = scratchOf(size);
  else {
    if (framedScratch === undefined || framedScratch.bytes.length < size) framedScratch = scratchOf(Math.min(FRAMED_SCRATCH_MAX, Math.max(size, 1024) * 2));
    sc = framedScratch;
  }
  const out = sc.bytes;
  let o = begin;
  for (let i = 0; i < prefix.length; i++) out[o++] = prefix.charCodeAt(i);
  const pairs = sc.pairs;
  let h = o >>> 1;
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    pairs[h] = PAIRS[v >>> 12]!;
    pairs[h + 1] = PAIRS[v & 4095]!;
    h += 2;
  }
  o = h << 1;
  if (n - i === 1) {
    pairs[h] = PAIRS[bytes[i]! << 4]!;
    out[o + 2] = PAD;
    out[o + 3] = PAD;
    o += 4;
  } else if (n - i === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    pairs[h] = PAIRS[v >>> 12]!;
    out[o + 2] = ALPHABET_CODES[(v >>> 6) & 63]!;
    out[o + 3] = PAD;
    o += 4;
  }
  for (let j = 0; j < suffix.length; j++) out[o++] = suffix.charCodeAt(j);
  return sc.text ? sc.text.toString('latin1', begin, o) : ASCII.decode(out.subarray(begin, o));
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

/**
 * 1 for the 64 alphabet characters, 0 for every other UTF-16 code unit: `alphabetOnly` ANDs one entry per
 * character, without a branch. Session 13: the sticky regex it replaces (one character class, matched from
 * lastIndex) compiles that class to a chain of range branches, which the random text of a ciphertext
 * mispredicts — 3.5 ms against 0.95 ms for the 786,000 characters of the largest OTRv3 data message, most
 * of what a forged one cost (docs/security.md "Session 13: cost of hostile input").
 */
const IN_ALPHABET = new Uint8Array(65536);
for (let i = 0; i < 64; i++) IN_ALPHABET[ALPHABET.charCodeAt(i)] = 1;

/** Whether every character of `s[start, end)` is in the alphabet (no '=', no other character). */
function alphabetOnly(s: string, start: number, end: number): boolean {
  let ok = 1;
  for (let i = start; i < end; i++) ok &= IN_ALPHABET[s.charCodeAt(i)]!;
  return ok === 1;
}

/**
 * Whether `s[start, end)` (a multiple of 4 long, `pad` '=' at its end) is canonical base64 — what tableDecode
 * accepts — so Node's decoder, which skips characters outside the alphabet and ignores the unused bits, decodes
 * it to exactly the table decoder's bytes. Checked in place (session 11): the earlier check re-encoded the
 * decoding and compared strings, a string as long as the input per message for the collector.
 */
function canonical(s: string, start: number, end: number, pad: number): boolean {
  if (!alphabetOnly(s, start, end - pad)) return false;
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
