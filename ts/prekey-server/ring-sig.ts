/**
 * The ring signature of the prekey-server DAKE (otrv4-prekey-server.md §DAKE-2/DAKE-3 Message): OTRv4's RSig
 * and RVrf (ts/crypto/ring-sig.ts, interpretations.md §4) with the one change the spec names — the challenge
 * is hashed with the prekey-server KDF ("OTR-Prekey-Server" prefix) and its usage_auth 0x11:
 *
 *   c = HashToScalar_PS(0x11, G || q || A1 || A2 || A3 || T1 || T2 || T3 || DATA(m))
 *
 * Only the challenge lives here; the (constant-time) algorithm is ts/crypto/ring-sig.ts's.
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import { prekeyServerHashToScalar } from '../crypto/kdf.js';
import { PrekeyServerUsage } from '../crypto/usage.js';
import { ringChallengeInput, ringSignWith, ringVerifyWith, type Ring, type RingChallenge } from '../crypto/ring-sig.js';

/** The prekey-server challenge: OTRv4's input, with the prekey-server prefix and usage 0x11, read mod q. */
export const prekeyServerChallenge: RingChallenge = (b, ring, T, m) =>
  prekeyServerHashToScalar(b, PrekeyServerUsage.auth, ringChallengeInput(ring, T, m));

/** RSig with the prekey-server challenge. */
export function psRingSign(b: CryptoBackend, random: RandomSource, secret: Uint8Array, pub: Uint8Array, ring: Ring, m: Uint8Array): Uint8Array {
  return ringSignWith(prekeyServerChallenge, b, random, secret, pub, ring, m);
}

/** RVrf with the prekey-server challenge. */
export function psRingVerify(b: CryptoBackend, ring: Ring, sigma: Uint8Array, m: Uint8Array): boolean {
  return ringVerifyWith(prekeyServerChallenge, b, ring, sigma, m);
}
