/**
 * Seeding the double ratchet after an interactive DAKE (otrv4.md §Interactive DAKE Overview; interpretations.md
 * §5). Both sides start from prev_root = KDF(0x0B, K, 64) and K0, a DH-step mixed secret over each side's own
 * first ECDH/DH keys (ecdh0/dh0, exchanged in Identity and Auth-R) and the peer's:
 *
 *   root, chain = KDF(0x12, prev_root || K0, 64), KDF(0x13, prev_root || K0, 64)
 *
 * - Alice (who received Auth-I) sends on `chain` at once, with i = 0: her messages carry ratchet id 0.
 * - Bob (who sent Auth-I) receives on `chain` (the chain of Alice's ratchet id 0). His first sending step,
 *   a DH step (i = 0: new ECDH and DH keys against Alice's ecdh0/dh0 give K1, his sending chain is
 *   KDF(0x13, root || K1), the root becomes KDF(0x12, root || K1), and i = 1), is left DUE: the spec computes
 *   it at initialisation, but nothing before Bob's first data message depends on it — Alice cannot answer
 *   his new keys before she sees them, and his receiving chain does not change meanwhile — so
 *   encryptDataMessage makes it when he first sends, with the same derivation and the same i, ratchet id
 *   and keys the spec's order gives. A Bob who never sends never pays its two 3072-bit exponentiations
 *   (a keygen and a shared secret, ~20% of an interactive DAKE on the hybrid backend), and the DAKE step
 *   that answers Auth-R blocks for that much less. The state it leaves is the only one with i = 0 and a
 *   sending step due (state.ts firstSendingStepDue); our ecdh0/dh0 secrets are deleted at once, as the step
 *   would have replaced them.
 *
 * Either side may then send first. The functions copy what they keep: the caller still owns (and wipes) the
 * seed's secrets and `prevRoot`.
 */
import type { CryptoBackend } from '../backend/types.js';
import { ecdhValidated } from '../crypto/ecdh.js';
import { dhSharedSecretValidated } from '../crypto/dh.js';
import { validDhPublic, validPoint, type ValidDhPublic, type ValidPoint } from '../crypto/validated.js';
import { wipe } from '../bytes.js';
import { braceKeyFromDh, deriveRatchetKeys, mixedSecret } from './keys.js';
import type { RatchetKeyPair, RatchetState } from './state.js';
import { NO_MAC_KEYS } from './mac-queue.js';

export interface RatchetSeed {
  /** KDF(0x0B, K, 64) from the DAKE. */
  readonly prevRoot: Uint8Array;
  /** Our ecdh0 and dh0 (secrets included). */
  readonly ourEcdh: { readonly secret: Uint8Array; readonly public: Uint8Array };
  readonly ourDh: { readonly secret: Uint8Array; readonly public: Uint8Array };
  /** The peer's ecdh0 and dh0, already validated by the DAKE. */
  readonly theirEcdh: Uint8Array;
  readonly theirDh: Uint8Array;
}

/** A seed whose peer keys were validated where they entered (the interactive DAKE's decoders). */
export interface ValidatedRatchetSeed extends RatchetSeed {
  readonly theirEcdh: ValidPoint;
  readonly theirDh: ValidDhPublic;
}

/** Validates the peer's first keys (one pointIsValid, one Legendre symbol) and marks the seed. */
function validateSeed(b: CryptoBackend, seed: RatchetSeed): ValidatedRatchetSeed {
  return { ...seed, theirEcdh: validPoint(b, seed.theirEcdh, 'ECDH public key'), theirDh: validDhPublic(b, seed.theirDh) };
}

/** K0 and its brace key from the first keys. Returns fresh arrays. */
function firstMixedSecret(b: CryptoBackend, seed: ValidatedRatchetSeed): { k: Uint8Array; braceKey: Uint8Array } {
  const kEcdh = ecdhValidated(b, seed.ourEcdh.secret, seed.theirEcdh);
  const kDh = dhSharedSecretValidated(b, seed.ourDh.secret, seed.theirDh);
  try {
    const braceKey = braceKeyFromDh(b, kDh);
    return { k: mixedSecret(b, kEcdh, braceKey), braceKey };
  } finally {
    wipe(kEcdh, kDh);
  }
}

/**
 * The state both roles start from. `keepOurSecrets`: Alice sends on the first chain with our first keys;
 * Bob's first sending step (due) makes new ones, so his copies of the first secrets are not taken at all.
 */
function baseState(seed: ValidatedRatchetSeed, root: Uint8Array, braceKey: Uint8Array, keepOurSecrets: boolean): RatchetState {
  const ourEcdh: RatchetKeyPair = { secret: keepOurSecrets ? seed.ourEcdh.secret.slice() : null, public: seed.ourEcdh.public.slice() };
  const ourDh: RatchetKeyPair = { secret: keepOurSecrets ? seed.ourDh.secret.slice() : null, public: seed.ourDh.public.slice() };
  return {
    i: 0,
    j: 0,
    k: 0,
    pn: 0,
    rootKey: root,
    sendChain: null,
    recvChain: null,
    recvRatchetId: -1,
    sendingStepDue: false,
    ourEcdh,
    ourDh,
    // Copies of validated values stay validated.
    theirEcdh: seed.theirEcdh.slice() as ValidPoint,
    theirDh: seed.theirDh.slice() as ValidDhPublic,
    braceKey,
    macKeysToReveal: NO_MAC_KEYS,
    skipped: [],
  };
}

/** Alice, who received and verified Auth-I: sends on the first chain with i = 0. Validates the peer's keys. */
export function initRatchetAsAuthIReceiver(b: CryptoBackend, seed: RatchetSeed): RatchetState {
  return initRatchetAsAuthIReceiverValidated(b, validateSeed(b, seed));
}

/** initRatchetAsAuthIReceiver for peer keys validated on receipt (no second check). */
export function initRatchetAsAuthIReceiverValidated(b: CryptoBackend, seed: ValidatedRatchetSeed): RatchetState {
  const { k, braceKey } = firstMixedSecret(b, seed);
  const { root, chain } = deriveRatchetKeys(b, seed.prevRoot, k);
  wipe(k);
  return { ...baseState(seed, root, braceKey, true), sendChain: chain };
}

/** Bob, who sent Auth-I: receives on the first chain (ratchet id 0); his first sending step is due (above). */
export function initRatchetAsAuthISender(b: CryptoBackend, seed: RatchetSeed): RatchetState {
  return initRatchetAsAuthISenderValidated(b, validateSeed(b, seed));
}

/**
 * initRatchetAsAuthISender for peer keys validated on receipt (no second check, in the first step or later).
 * Draws no randomness: the first sending step draws its keys when Bob first sends.
 */
export function initRatchetAsAuthISenderValidated(b: CryptoBackend, seed: ValidatedRatchetSeed): RatchetState {
  const { k, braceKey } = firstMixedSecret(b, seed);
  const { root, chain } = deriveRatchetKeys(b, seed.prevRoot, k);
  wipe(k);
  // Our first keys' secrets are not used again (i = 0 is a DH step: the due step makes new ECDH and DH keys).
  return { ...baseState(seed, root, braceKey, false), recvChain: chain, recvRatchetId: 0, sendingStepDue: true };
}
