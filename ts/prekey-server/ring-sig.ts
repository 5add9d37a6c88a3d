/**
 * The ring signature of the prekey-server DAKE (otrv4-prekey-server.md §DAKE-2/DAKE-3 Message): OTRv4's RSig
 * and RVrf (ts/crypto/ring-sig.ts, interpretations.md §4) with one change the spec names — the challenge is
 * hashed with the prekey-server KDF ("OTR-Prekey-Server" prefix) and its usage_auth 0x11:
 *
 *   c = HashToScalar_PS(0x11, G || q || A1 || A2 || A3 || T1 || T2 || T3 || DATA(m))
 *
 * ts/crypto/ring-sig.ts hard-codes the OTRv4 challenge in a private function, so the algorithm is restated
 * here over an injected challenge (the same constant-time "generalised" signing: every slot computes
 * T_i = G·x_i + A_i·y_i, the slot is chosen with masks). Once ring-sig.ts exports a challenge-parameterised
 * variant, this file shrinks to the two wrappers at the bottom.
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import { abytes, equalBytes, wipe } from '../bytes.js';
import { OtrArgumentError, OtrCryptoError } from '../errors.js';
import { prekeyServerKdf } from '../crypto/kdf.js';
import { PrekeyServerUsage } from '../crypto/usage.js';
import { BASE_POINT, pointEquals } from '../crypto/point.js';
import { SCALAR_Q_LE, scalarAdd, scalarNeg, scalarSub } from '../crypto/eddsa.js';
import { randomScalar } from '../crypto/ecdh.js';
import { RING_SIG_BYTES, type Ring } from '../crypto/ring-sig.js';

const S = 57;
const ZERO = new Uint8Array(S);

type Challenge = (b: CryptoBackend, ring: Ring, T: readonly Uint8Array[], m: Uint8Array) => Uint8Array;

function dataLength(m: Uint8Array): Uint8Array {
  const n = m.length;
  return new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/** The prekey-server challenge: like OTRv4's, with the prekey-server prefix and usage 0x11. */
export const prekeyServerChallenge: Challenge = (b, ring, T, m) => {
  const h = prekeyServerKdf(b, PrekeyServerUsage.auth, [BASE_POINT, SCALAR_Q_LE, ring[0], ring[1], ring[2], T[0]!, T[1]!, T[2]!, dataLength(m), m], 57);
  const s = b.scalarReduce(h);
  wipe(h);
  return s;
};

function ctSelect(mask: number, a: Uint8Array, c: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  const m = mask & 0xff;
  for (let i = 0; i < a.length; i++) out[i] = (a[i]! & m) | (c[i]! & ~m & 0xff);
  return out;
}

function ctEqMask(a: Uint8Array, c: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ c[i]!;
  return (d - 1) >> 31;
}

function checkRing(b: CryptoBackend, ring: Ring): void {
  if (!Array.isArray(ring) || ring.length !== 3) throw new OtrArgumentError('ring must hold exactly three public keys');
  for (const a of ring) {
    abytes(a, S, 'ring member');
    if (!b.pointIsValid(a)) throw new OtrCryptoError('INVALID_POINT', 'ring member is not a valid point');
  }
}

export function ringSignWith(
  challenge: Challenge,
  b: CryptoBackend,
  random: RandomSource,
  secretScalar: Uint8Array,
  publicKey: Uint8Array,
  ring: Ring,
  message: Uint8Array,
): Uint8Array {
  abytes(secretScalar, S, 'ring signature secret');
  abytes(publicKey, S, 'ring signature public key');
  abytes(message, undefined, 'message');
  checkRing(b, ring);
  if (!pointEquals(b.pointMulBase(secretScalar), publicKey)) throw new OtrArgumentError('ring signature secret does not match its public key');
  const eq = ring.map((a) => ctEqMask(a, publicKey));
  const sel = [eq[0]!, eq[1]! & ~eq[0]!, eq[2]! & ~eq[0]! & ~eq[1]!];
  if ((sel[0]! | sel[1]! | sel[2]!) === 0) throw new OtrArgumentError('signer public key is not a ring member');
  const t = randomScalar(b, random);
  const c = [randomScalar(b, random), randomScalar(b, random), randomScalar(b, random)];
  const r = [randomScalar(b, random), randomScalar(b, random), randomScalar(b, random)];
  const T: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    const x = ctSelect(sel[i]!, t, r[i]!);
    const y = ctSelect(sel[i]!, ZERO, c[i]!);
    const gx = b.pointMulBase(x);
    const ay = b.pointMul(ring[i]!, y);
    T.push(b.pointAdd(gx, ay));
    wipe(x, y, gx, ay);
  }
  const ch = challenge(b, ring, T, message);
  const masked = c.map((ci, i) => ctSelect(sel[i]!, ZERO, ci));
  const others = scalarAdd(b, scalarAdd(b, masked[0]!, masked[1]!), masked[2]!);
  const cs = scalarSub(b, ch, others);
  const negCs = scalarNeg(b, cs);
  const rs = b.scalarMulAdd(negCs, secretScalar, t);
  const sigma = new Uint8Array(RING_SIG_BYTES);
  for (let i = 0; i < 3; i++) {
    sigma.set(ctSelect(sel[i]!, cs, c[i]!), 2 * i * S);
    sigma.set(ctSelect(sel[i]!, rs, r[i]!), (2 * i + 1) * S);
  }
  wipe(t, ...c, ...r, ...masked, others, cs, negCs, rs, ch);
  return sigma;
}

export function ringVerifyWith(challenge: Challenge, b: CryptoBackend, ring: Ring, sigma: Uint8Array, message: Uint8Array): boolean {
  if (!Array.isArray(ring) || ring.length !== 3) throw new OtrArgumentError('ring must hold exactly three public keys');
  abytes(sigma, undefined, 'ring signature');
  abytes(message, undefined, 'message');
  if (sigma.length !== RING_SIG_BYTES) return false;
  for (const a of ring) if (!(a instanceof Uint8Array) || a.length !== S || !b.pointIsValid(a)) return false;
  try {
    const c: Uint8Array[] = [];
    const T: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      const ci = sigma.subarray(2 * i * S, (2 * i + 1) * S);
      c.push(ci);
      T.push(b.pointDoubleMulBase(sigma.subarray((2 * i + 1) * S, (2 * i + 2) * S), ring[i]!, ci));
    }
    return equalBytes(challenge(b, ring, T, message), scalarAdd(b, scalarAdd(b, c[0]!, c[1]!), c[2]!));
  } catch (e) {
    if (e instanceof OtrCryptoError) return false;
    throw e;
  }
}

/** RSig with the prekey-server challenge. */
export function psRingSign(b: CryptoBackend, random: RandomSource, secret: Uint8Array, pub: Uint8Array, ring: Ring, m: Uint8Array): Uint8Array {
  return ringSignWith(prekeyServerChallenge, b, random, secret, pub, ring, m);
}

/** RVrf with the prekey-server challenge. */
export function psRingVerify(b: CryptoBackend, ring: Ring, sigma: Uint8Array, m: Uint8Array): boolean {
  return ringVerifyWith(prekeyServerChallenge, b, ring, sigma, m);
}
