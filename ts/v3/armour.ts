/**
 * "?OTR:" + base64 + "." armour for v3 binary messages (otrv3-protocol.html §Encoded messages).
 * TODO(codec): switch to ts/codec's armour once the v4 codec lands; this copy exists only so the v3 path works
 * on its own meanwhile. Decoding is strict (standard alphabet, '=' padding only at the end) and bounded by the
 * caller's maxMessageChars.
 */
import { OtrDecodeError } from '../errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[ALPHABET.charCodeAt(i)] = i;
  return t;
})();

export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + ALPHABET[v & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i]! << 16;
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + '=';
  }
  return out;
}

export function base64Decode(s: string): Uint8Array {
  if (s.length % 4 !== 0) throw new OtrDecodeError('base64 length is not a multiple of 4');
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let v = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      let d: number;
      if (c === 61 /* '=' */ && i + 4 === s.length && j >= 4 - pad) d = 0;
      else {
        d = c < 128 ? LOOKUP[c]! : -1;
        if (d < 0) throw new OtrDecodeError('invalid base64 character');
      }
      v = (v << 6) | d;
    }
    if (o < out.length) out[o++] = (v >> 16) & 0xff;
    if (o < out.length) out[o++] = (v >> 8) & 0xff;
    if (o < out.length) out[o++] = v & 0xff;
  }
  return out;
}

export const ARMOUR_PREFIX = '?OTR:';

export function armour(bytes: Uint8Array): string {
  return ARMOUR_PREFIX + base64Encode(bytes) + '.';
}

/**
 * Extracts and decodes the first "?OTR:…." in `text`. libotr tolerates text around the armour (some
 * networks prepend nicknames), so do we; the base64 must be terminated by '.'.
 */
export function dearmour(text: string): Uint8Array {
  const start = text.indexOf(ARMOUR_PREFIX);
  if (start < 0) throw new OtrDecodeError('no ?OTR: armour');
  const end = text.indexOf('.', start + ARMOUR_PREFIX.length);
  if (end < 0) throw new OtrDecodeError('unterminated ?OTR: armour');
  return base64Decode(text.slice(start + ARMOUR_PREFIX.length, end));
}
