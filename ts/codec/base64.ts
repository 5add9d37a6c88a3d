/**
 * Standard padded base64 (RFC 4648 §4), strict in both directions: the decoder accepts exactly what the
 * encoder produces — alphabet A–Z a–z 0–9 + /, length a multiple of 4, '=' only as final padding, unused
 * bits zero — so every accepted string has one decoding and re-encodes to itself. Written here rather than
 * taken from Buffer/atob so the same code runs in browsers and Node with typed errors.
 */
import { OtrDecodeError } from '../errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function base64Encode(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk += ALPHABET[v >>> 18]! + ALPHABET[(v >>> 12) & 63]! + ALPHABET[(v >>> 6) & 63]! + ALPHABET[v & 63]!;
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  if (n - i === 1) {
    const v = bytes[i]! << 16;
    chunk += ALPHABET[v >>> 18]! + ALPHABET[(v >>> 12) & 63]! + '==';
  } else if (n - i === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    chunk += ALPHABET[v >>> 18]! + ALPHABET[(v >>> 12) & 63]! + ALPHABET[(v >>> 6) & 63]! + '=';
  }
  parts.push(chunk);
  return parts.join('');
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
  if (len % 4 !== 0) throw new OtrDecodeError('base64 length is not a multiple of 4');
  if (len === 0) return new Uint8Array(0);
  let pad = 0;
  if (s.charCodeAt(end - 1) === 0x3d) pad = s.charCodeAt(end - 2) === 0x3d ? 2 : 1;
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
