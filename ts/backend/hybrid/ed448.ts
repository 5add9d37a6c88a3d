/**
 * Ed448 signature verification through OpenSSL (node:crypto), for keys the caller has already validated:
 * the DAKE's client-profile signatures (ts/profile/client-profile.ts validateClientProfile checks H with
 * pointIsValid first). Measured interleaved on this machine: a raw JWK key object plus crypto.verify takes
 * ~0.7× the WASM verification (236 vs 350 µs per call), and a DAKE makes two (docs/performance.md §The
 * interactive DAKE's time). DER/SPKI key import is not used: OpenSSL 3's decoder framework costs more than
 * the verification it would save.
 *
 * The answer must be the WASM path's (ts/crypto/eddsa.ts ed448Verify) for every input. For a valid
 * (prime-order) A both accept exactly the R whose point differs from S·G − k·A by a point of order
 * dividing 4 (cofactored verification: OpenSSL multiplies both points by the isogeny ratio and compares in
 * the quotient; edwards448 has no rational points of order 8, so the sets coincide), both refuse S ≥ q, and
 * both hash R and A as given. They differ only in decoding R, on encodings an honest signer never makes
 * (R is G·r, x ≠ 0): `canonicalR` refuses every R that eddsa.ts's decoder refuses on the bytes alone
 * (bits 449–455 set, y ≥ p, the sign bit on x = 0), before OpenSSL sees it; and OpenSSL refuses the two
 * points with x = 0, (0, 1) and (0, −1), which RFC 8032 accepts when S·G = k·A (a signature only the key's
 * owner can make, with S = k·a) — those go to the WASM path. The rest (no square root: off the curve) both
 * refuse. test/hybrid-ed448.test.ts checks the two paths agree on Wycheproof, torsion-shifted R, all these
 * encodings, and random and tampered signatures.
 */
import { createPublicKey, verify } from 'node:crypto';
import type { CryptoBackend } from '../types.js';
import { abytes } from '../../bytes.js';

const POINT = 57;
const SIGNATURE = 114;
/** q, the group order, little-endian (57 bytes). */
const Q_LE = Uint8Array.from(
  'f34458ab92c27823558fc58d72c26c219036d6ae49db4ec4e923ca7cffffffffffffffffffffffffffffffffffffffffffffffffffffff3f00'
    .match(/../g)!
    .map((h) => parseInt(h, 16)),
);

/** p = 2^448 − 2^224 − 1, little-endian (56 bytes). */
const P_LE = (() => {
  const p = new Uint8Array(56).fill(0xff);
  p[28] = 0xfe;
  return p;
})();

/** a < b for little-endian byte strings of the length of b (public data: variable time). */
function lessLE(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = b.length - 1; i >= 0; i--) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** y = 1 or y = p − 1 (the two points with x = 0), y given canonical. */
function xIsZero(y: Uint8Array): boolean {
  let one = y[0] === 1;
  let minusOne = y[0] === 0xfe;
  for (let i = 1; i < 56; i++) {
    if (y[i] !== 0) one = false;
    if (y[i] !== P_LE[i]) minusOne = false;
  }
  return one || minusOne;
}

/** The byte-level half of RFC 8032 point decoding, as eddsa.ts's decoder applies it. */
export function canonicalR(r: Uint8Array): boolean {
  const top = r[56]!;
  if ((top & 0x7f) !== 0) return false;
  const y = r.subarray(0, 56);
  if (!lessLE(y, P_LE)) return false;
  return !((top & 0x80) !== 0 && xIsZero(y));
}

/** R is (0, 1) or (0, −1), canonically written: OpenSSL refuses these points, RFC 8032 does not. */
function rHasXZero(r: Uint8Array): boolean {
  return r[56] === 0 && xIsZero(r.subarray(0, 56));
}

export function opensslEd448(fallback: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean): Pick<CryptoBackend, 'ed448VerifyValidKey'> {
  return {
    ed448VerifyValidKey(publicKey, message, signature) {
      // The WASM path's argument checks (eddsa.ts ed448Verify), so a hand-built non-Uint8Array gets its typed error.
      abytes(publicKey, undefined, 'Ed448 public key');
      abytes(message, undefined, 'message');
      abytes(signature, undefined, 'Ed448 signature');
      if (publicKey.length !== POINT || signature.length !== SIGNATURE) return false;
      const R = signature.subarray(0, POINT);
      if (!canonicalR(R)) return false;
      if (rHasXZero(R)) return fallback(publicKey, message, signature);
      // S < q: OpenSSL checks it too; refusing here keeps the refusal independent of OpenSSL's version.
      if (!lessLE(signature.subarray(POINT), Q_LE)) return false;
      try {
        const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed448', x: Buffer.from(publicKey.buffer, publicKey.byteOffset, POINT).toString('base64url') }, format: 'jwk' });
        return verify(null, message, key, signature);
      } catch {
        // OpenSSL refused the call (no Ed448 in its provider, e.g. FIPS; a key it will not import): the WASM
        // path decides. A false from OpenSSL is an answer, not an error, and is returned above.
        return fallback(publicKey, message, signature);
      }
    },
  };
}
