/**
 * DSA (FIPS 186) over the integers, for OTRv3 long-term keys and the OTRv4 client profile's transitional
 * signature. BigInt arithmetic: DSA only appears on the legacy path and in profile validation, never per
 * message. The signed value is an integer `m` (already reduced mod q by the caller's convention: OTRv3 signs
 * a 32-byte MAC/hash, the transitional signature signs the profile fields read as one integer mod q —
 * interpretations.md §2).
 */
import { shake256 } from '@noble/hashes/sha3.js';
import { bigToBytesBE, bytesToBigBE } from '../bytes.js';
import { modInverse, modPowBig } from '../backend/js/bigint-math.js';

export interface DsaPublicKey {
  readonly p: bigint;
  readonly q: bigint;
  readonly g: bigint;
  readonly y: bigint;
}

export interface DsaPrivateKey extends DsaPublicKey {
  readonly x: bigint;
}

export interface DsaSignature {
  readonly r: bigint;
  readonly s: bigint;
}

/** Structural checks on domain parameters and key (cheap ones; a full primality proof is not attempted). */
export function dsaPublicKeyLooksValid(k: DsaPublicKey): boolean {
  const { p, q, g, y } = k;
  if (p < 3n || q < 3n || (p & 1n) === 0n || (q & 1n) === 0n) return false;
  if ((p - 1n) % q !== 0n) return false;
  if (g <= 1n || g >= p || y <= 1n || y >= p) return false;
  return modPowBig(g, q, p) === 1n && modPowBig(y, q, p) === 1n;
}

/** Verifies (r, s) on the integer m. Never throws on bad values: returns false. */
export function dsaVerify(pub: DsaPublicKey, m: bigint, sig: DsaSignature): boolean {
  const { p, q, g, y } = pub;
  const { r, s } = sig;
  if (r <= 0n || r >= q || s <= 0n || s >= q) return false;
  if (p < 3n || q < 3n) return false;
  let w: bigint;
  try {
    w = modInverse(s, q);
  } catch {
    return false;
  }
  const u1 = ((m % q) * w) % q;
  const u2 = (r * w) % q;
  const v = ((modPowBig(g, u1, p) * modPowBig(y, u2, p)) % p) % q;
  return v === r;
}

/**
 * Signs the integer m. The nonce is hedged: k = SHAKE-256(x || m || fresh randomness) mod q, so a weak
 * random source alone cannot leak the key (the classic DSA failure), and distinct randomness keeps
 * signatures unlinkable.
 */
export function dsaSign(key: DsaPrivateKey, m: bigint, random: (n: number) => Uint8Array): DsaSignature {
  const { p, q, g, x } = key;
  const qBytes = (q.toString(16).length + 1) >> 1;
  for (let attempt = 0; ; attempt++) {
    const seed = shake256
      .create({ dkLen: qBytes + 16 })
      .update(bigToBytesBE(x, qBytes))
      .update(bigToBytesBE(m % q, qBytes))
      .update(random(32))
      .update(Uint8Array.of(attempt & 0xff))
      .digest();
    const k = bytesToBigBE(seed) % q;
    seed.fill(0);
    if (k === 0n) continue;
    const r = modPowBig(g, k, p) % q;
    if (r === 0n) continue;
    const s = (modInverse(k, q) * ((m % q) + x * r)) % q;
    if (s === 0n) continue;
    return { r, s };
  }
}
