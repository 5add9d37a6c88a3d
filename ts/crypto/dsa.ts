/**
 * DSA (FIPS 186) over the integers, for OTRv3 long-term keys and the OTRv4 client profile's transitional
 * signature. BigInt arithmetic: DSA only appears on the legacy path and in profile validation, never per
 * message. The signed value is an integer `m` (already reduced mod q by the caller's convention: OTRv3 signs
 * a 32-byte MAC/hash, the transitional signature signs the profile fields read as one integer mod q —
 * interpretations.md §2).
 */
import { shake256 } from '@noble/hashes/sha3.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { bigToBytesBE, bytesToBigBE, wipe } from '../bytes.js';
import { modInverse, modPowBig } from '../backend/js/bigint-math.js';
import { OtrArgumentError, OtrCryptoError, OtrDecodeError } from '../errors.js';
import { Reader, decodeAll, encode } from '../codec/primitives.js';

/** PUBKEY type for DSA. */
export const DSA_PUBKEY_TYPE = 0x0000;
/** OTR signatures are r‖s with each half as long as q; every deployed implementation uses 160-bit q. */
export const DSA_Q_BYTES = 20;
export const DSA_Q_BITS = DSA_Q_BYTES * 8;
/** Smallest p accepted (FIPS 186's smallest size; libotr makes 1024). */
export const DSA_MIN_P_BITS = 1024;
/** Largest p accepted: bounds the verification cost an attacker can impose (FIPS 186-4's largest size). */
export const DSA_MAX_P_BITS = 3072;
/** With valid parameters a nonce is rejected with probability ~2^-160; this many rejections means a broken key. */
const DSA_SIGN_MAX_ATTEMPTS = 64;

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

/**
 * The size bounds every DSA public key must meet before any arithmetic is done with it: p of
 * DSA_MIN_P_BITS..DSA_MAX_P_BITS bits, q of exactly DSA_Q_BITS bits, 1 < g < p, 1 < y < p. These are what
 * keep one hostile key from costing seconds of modular exponentiation (a 1-megabit p took 13.5 s) and what
 * keep p = 0 or g = 0 from reaching a division by zero or a signing loop that never ends.
 */
export function dsaPublicKeyInBounds(k: DsaPublicKey): boolean {
  const { p, q, g, y } = k;
  if (typeof p !== 'bigint' || typeof q !== 'bigint' || typeof g !== 'bigint' || typeof y !== 'bigint') return false;
  if (p <= 0n || q <= 0n) return false;
  const pBits = p.toString(2).length;
  if (pBits < DSA_MIN_P_BITS || pBits > DSA_MAX_P_BITS) return false;
  if (q.toString(2).length !== DSA_Q_BITS) return false;
  return g > 1n && g < p && y > 1n && y < p;
}

/**
 * Structural checks on domain parameters and key: the size bounds first, then p and q odd, q | p − 1, and
 * g and y of order q (a full primality proof is not attempted). With the bounds met this costs two 160-bit
 * exponentiations mod a p of at most 3072 bits.
 */
export function dsaPublicKeyLooksValid(k: DsaPublicKey): boolean {
  if (!dsaPublicKeyInBounds(k)) return false;
  const { p, q, g, y } = k;
  if ((p & 1n) === 0n || (q & 1n) === 0n) return false;
  if ((p - 1n) % q !== 0n) return false;
  return modPowBig(g, q, p) === 1n && modPowBig(y, q, p) === 1n;
}

/**
 * A private key is usable only if its public part is valid, 0 < x < q and y = g^x mod p (restore checks this:
 * a stored key whose halves disagree would sign with one key while peers verify with another).
 */
export function dsaPrivateKeyIsConsistent(k: DsaPrivateKey): boolean {
  if (typeof k.x !== 'bigint' || !dsaPublicKeyLooksValid(k)) return false;
  if (k.x <= 0n || k.x >= k.q) return false;
  return modPowBig(k.g, k.x, k.p) === k.y;
}

/** Verifies (r, s) on the integer m. Never throws on bad values: returns false. */
export function dsaVerify(pub: DsaPublicKey, m: bigint, sig: DsaSignature): boolean {
  const { p, q, g, y } = pub;
  const { r, s } = sig;
  if (typeof r !== 'bigint' || typeof s !== 'bigint' || r <= 0n || r >= q || s <= 0n || s >= q) return false;
  // Out-of-bounds parameters (p = 0, a megabit p) would throw or cost seconds: such a key verifies nothing.
  if (!dsaPublicKeyInBounds(pub)) return false;
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
  // g <= 1 (or an absurd p) would make r = 0 on every attempt: refuse instead of looping forever.
  if (!dsaPublicKeyInBounds(key)) throw new OtrArgumentError('DSA key parameters out of bounds');
  const qBytes = (q.toString(16).length + 1) >> 1;
  for (let attempt = 0; ; attempt++) {
    if (attempt >= DSA_SIGN_MAX_ATTEMPTS) throw new OtrCryptoError('MALFORMED', 'DSA key does not produce signatures');
    // The key bytes and the fresh randomness are nonce material: wiped once hashed (k itself is a BigInt).
    const xb = bigToBytesBE(x, qBytes);
    const fresh = random(32);
    const seed = shake256
      .create({ dkLen: qBytes + 16 })
      .update(xb)
      .update(bigToBytesBE(m % q, qBytes))
      .update(fresh)
      .update(Uint8Array.of(attempt & 0xff))
      .digest();
    const k = bytesToBigBE(seed) % q;
    wipe(seed, xb, fresh);
    if (k === 0n) continue;
    const r = modPowBig(g, k, p) % q;
    if (r === 0n) continue;
    const s = (modInverse(k, q) * ((m % q) + x * r)) % q;
    if (s === 0n) continue;
    return { r, s };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Key generation (FIPS 186-2 style domain parameters: 160-bit q, 1024-bit p by default, as libotr makes them)
// ---------------------------------------------------------------------------------------------------------

/** Small primes for trial division: most random candidates die here, long before a Miller–Rabin round. */
const SMALL_PRIMES: readonly bigint[] = (() => {
  const out: bigint[] = [];
  const sieve = new Uint8Array(2000);
  for (let i = 2; i < sieve.length; i++) {
    if (sieve[i]) continue;
    out.push(BigInt(i));
    for (let j = i * i; j < sieve.length; j += i) sieve[j] = 1;
  }
  return out;
})();

/** A uniformly random integer in [lo, hi] (inclusive), by rejection sampling on the injected source. */
function randomBetween(lo: bigint, hi: bigint, random: (n: number) => Uint8Array): bigint {
  const range = hi - lo + 1n;
  const bits = range.toString(2).length;
  const bytes = (bits + 7) >> 3;
  const mask = (1n << BigInt(bits)) - 1n;
  for (;;) {
    const v = bytesToBigBE(random(bytes)) & mask;
    if (v < range) return lo + v;
  }
}

/**
 * Miller–Rabin with `rounds` random bases from `random` (FIPS 186-4 Table C.1 asks 40 rounds for 1024/160
 * parameters without a Lucas test). Public inputs only: variable time.
 */
export function isProbablePrime(n: bigint, rounds: number, random: (n: number) => Uint8Array): boolean {
  if (n < 2n) return false;
  for (const p of SMALL_PRIMES) {
    if (n === p) return true;
    if (n % p === 0n) return false;
  }
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  outer: for (let i = 0; i < rounds; i++) {
    const a = randomBetween(2n, n - 2n, random);
    let x = modPowBig(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let j = 1; j < s; j++) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
      if (x === 1n) return false;
    }
    return false;
  }
  return true;
}

export interface DsaKeyGenOptions {
  /** Bits of p (default 1024, the only size libotr generates). */
  pBits?: number;
  /** Bits of q (default 160: OTRv3 signatures are two 20-byte halves). */
  qBits?: number;
  /** Miller–Rabin rounds for p and q (default 40). */
  rounds?: number;
}

/**
 * Generates DSA domain parameters and a key pair: q a random qBits prime, p = k·q + 1 a pBits prime found by
 * FIPS 186's "X − (X mod 2q) + 1" construction on random X, g = h^((p−1)/q) for the first h ≥ 2 giving g > 1,
 * x uniform in [1, q−1]. Takes a fraction of a second in BigInt; keys are long-term, so this is rare.
 */
export function dsaGenerateKey(random: (n: number) => Uint8Array, opts: DsaKeyGenOptions = {}): DsaPrivateKey {
  const pBits = opts.pBits ?? 1024;
  const qBits = opts.qBits ?? 160;
  const rounds = opts.rounds ?? 40;
  if (!Number.isInteger(pBits) || !Number.isInteger(qBits) || qBits < 16 || pBits < qBits + 16 || pBits > 4096)
    throw new OtrArgumentError('unsupported DSA parameter sizes');
  const topQ = 1n << BigInt(qBits - 1);
  let q: bigint;
  do {
    q = randomBetween(topQ, (topQ << 1n) - 1n, random) | 1n;
  } while (!isProbablePrime(q, rounds, random));
  const topP = 1n << BigInt(pBits - 1);
  const twoQ = 2n * q;
  let p: bigint;
  for (;;) {
    const X = randomBetween(topP, (topP << 1n) - 1n, random);
    p = X - (X % twoQ) + 1n;
    if (p < topP) continue;
    if (isProbablePrime(p, rounds, random)) break;
  }
  const e = (p - 1n) / q;
  let g = 1n;
  for (let h = 2n; g === 1n; h++) g = modPowBig(h, e, p);
  const x = randomBetween(1n, q - 1n, random);
  const y = modPowBig(g, x, p);
  return { p, q, g, y, x };
}

// ---------------------------------------------------------------------------------------------------------
// OTR encodings: PUBKEY (otrv3 "OTR public authentication DSA key"; also the OTRv4 client profile's DSA key
// field, interpretations.md §1), SIG, and the SHA-1 fingerprint.
// ---------------------------------------------------------------------------------------------------------


function mpiBytes(n: bigint): Uint8Array {
  return n === 0n ? new Uint8Array(0) : bigToBytesBE(n);
}

/** PUBKEY: SHORT type 0x0000, then p, q, g, y as minimal MPIs. */
export function encodeDsaPublicKey(k: DsaPublicKey): Uint8Array {
  return encode((w) => {
    w.short(DSA_PUBKEY_TYPE).mpi(mpiBytes(k.p)).mpi(mpiBytes(k.q)).mpi(mpiBytes(k.g)).mpi(mpiBytes(k.y));
  });
}

/** Bits of a minimal big-endian magnitude, from its bytes (no BigInt: usable before any arithmetic). */
function magnitudeBits(b: Uint8Array): number {
  if (b.length === 0) return 0;
  return (b.length - 1) * 8 + (32 - Math.clz32(b[0]!));
}

/**
 * THE bounded DSA public-key reader: every DSA key that comes from outside (an OTRv3 AKE, the transitional
 * key of an OTRv4 client profile) is read here, once. Reads SHORT type 0x0000 then p, q, g, y as MPIs and
 * enforces the bounds of dsaPublicKeyInBounds WHILE decoding: each MPI's length is refused before its bytes
 * are read (p, g and y at most 384 bytes, q at most 20), p's and q's bit lengths are
 * checked from their bytes, and 1 < g < p, 1 < y < p are plain comparisons. No exponentiation happens here:
 * the subgroup checks are dsaPublicKeyLooksValid's (readDsaPublicKey runs them).
 */
export function readBoundedDsaPublicKey(r: Reader): DsaPublicKey {
  const type = r.short();
  if (type !== DSA_PUBKEY_TYPE) throw new OtrDecodeError(`unsupported public key type ${type}`);
  const maxP = DSA_MAX_P_BITS / 8;
  const pBytes = r.mpi('DSA p', maxP);
  const pBits = magnitudeBits(pBytes);
  if (pBits < DSA_MIN_P_BITS || pBits > DSA_MAX_P_BITS)
    throw new OtrDecodeError(`DSA p of ${pBits} bits; expected ${DSA_MIN_P_BITS}..${DSA_MAX_P_BITS}`);
  const qBytes = r.mpi('DSA q', DSA_Q_BYTES);
  if (magnitudeBits(qBytes) !== DSA_Q_BITS) throw new OtrDecodeError(`DSA q must be ${DSA_Q_BITS} bits`);
  // g and y may carry leading zeros (interpretations.md §1): bounded by p's size limit, then compared to p.
  const gBytes = r.mpi('DSA g', maxP);
  const yBytes = r.mpi('DSA y', maxP);
  const p = bytesToBigBE(pBytes);
  const g = bytesToBigBE(gBytes);
  const y = bytesToBigBE(yBytes);
  if (g <= 1n || g >= p) throw new OtrDecodeError('DSA g must satisfy 1 < g < p');
  if (y <= 1n || y >= p) throw new OtrDecodeError('DSA y must satisfy 1 < y < p');
  return { p, q: bytesToBigBE(qBytes), g, y };
}

/**
 * Reads a PUBKEY from `r` with readBoundedDsaPublicKey, then runs the structural checks of
 * dsaPublicKeyLooksValid (q | p − 1, g and y of order q): for keys that must be usable at once (OTRv3 AKE).
 */
export function readDsaPublicKey(r: Reader): DsaPublicKey {
  const key = readBoundedDsaPublicKey(r);
  if (!dsaPublicKeyLooksValid(key)) throw new OtrCryptoError('MALFORMED', 'DSA public key fails validation');
  return key;
}

/** Decodes a whole PUBKEY (no trailing bytes). */
export function decodeDsaPublicKey(bytes: Uint8Array): DsaPublicKey {
  return decodeAll(bytes, readDsaPublicKey, 'PUBKEY');
}

/** libotr's fingerprint: SHA-1 of the PUBKEY encoding without its 2-byte type (the v3 spec's exception). */
export function dsaFingerprint(k: DsaPublicKey): Uint8Array {
  return sha1(encodeDsaPublicKey(k).subarray(2));
}

/** SIG: r then s, each exactly DSA_Q_BYTES big-endian. */
export function encodeDsaSignature(sig: DsaSignature): Uint8Array {
  const out = new Uint8Array(2 * DSA_Q_BYTES);
  out.set(bigToBytesBE(sig.r, DSA_Q_BYTES), 0);
  out.set(bigToBytesBE(sig.s, DSA_Q_BYTES), DSA_Q_BYTES);
  return out;
}

export function readDsaSignature(r: Reader): DsaSignature {
  return { r: bytesToBigBE(r.raw(DSA_Q_BYTES, 'SIG r')), s: bytesToBigBE(r.raw(DSA_Q_BYTES, 'SIG s')) };
}
