/**
 * Point helpers that need no field arithmetic, on RFC 8032 encodings (57 bytes: y little-endian, bit 455 =
 * low bit of x). Negation flips the x sign bit, except for the two points with x = 0 (y = ±1), which are
 * their own negatives; a canonical encoding of those has the sign bit clear.
 */
import type { CryptoBackend } from '../backend/types.js';
import { OtrCryptoError } from '../errors.js';

const P_MINUS_ONE_LE = (() => {
  // p - 1 = 2^448 - 2^224 - 2, little-endian 56 bytes, then a zero byte.
  const b = new Uint8Array(57).fill(0xff);
  b[0] = 0xfe;
  b[28] = 0xfe;
  b[56] = 0;
  return b;
})();

function isXZero(p: Uint8Array): boolean {
  let one = p[0] === 1 ? 1 : 0;
  let minusOne = 1;
  for (let i = 1; i < 57; i++) if (p[i] !== 0) one = 0;
  for (let i = 0; i < 57; i++) if (p[i] !== P_MINUS_ONE_LE[i]) minusOne = 0;
  return one === 1 || minusOne === 1;
}

/** The encoding of -P. Throws OtrCryptoError('INVALID_POINT') if `p` does not decode. */
export function pointNegate(b: CryptoBackend, p: Uint8Array): Uint8Array {
  if (!b.pointDecodes(p)) throw new OtrCryptoError('INVALID_POINT', 'point does not decode');
  const out = Uint8Array.from(p); // a copy: Buffer.slice would alias the caller's bytes
  if (!isXZero(p)) out[56]! ^= 0x80;
  return out;
}

/** P - Q. */
export function pointSub(b: CryptoBackend, p: Uint8Array, q: Uint8Array): Uint8Array {
  return b.pointAdd(p, pointNegate(b, q));
}

/** The identity point's encoding (x = 0, y = 1). */
export const IDENTITY_POINT: Uint8Array = (() => {
  const b = new Uint8Array(57);
  b[0] = 1;
  return b;
})();

/** The RFC 8032 base point G's encoding. */
export const BASE_POINT: Uint8Array = Uint8Array.from(
  '14fa30f25b790898adc8d74e2c13bdfdc4397ce61cffd33ad7c2a0051e9c78874098a36c7373ea4b62c7c9563720768824bcb66e71463f6900'
    .match(/../g)!
    .map((h) => parseInt(h, 16)),
);

/** Canonical encoding equality (encodings are canonical, so byte equality is point equality). */
export function pointEquals(p: Uint8Array, q: Uint8Array): boolean {
  if (p.length !== q.length) return false;
  let d = 0;
  for (let i = 0; i < p.length; i++) d |= p[i]! ^ q[i]!;
  return d === 0;
}
