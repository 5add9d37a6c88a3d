/**
 * The non-interactive DAKE (otrv4.md §Non-Interactive DAKE Overview, §Non-Interactive-Auth Message,
 * §Sending a Data Message to an offline participant, §Receiving a Non-Interactive-Auth Message) as two pure
 * functions. Bob published an ensemble; Alice, who wants to write to him while he is offline:
 *
 *   sendNonInteractiveAuth(b, random, alice, ensemble, nowMs)
 *     → { message: Non-Interactive-Auth bytes, established }     (she may send data messages at once)
 *   receiveNonInteractiveAuth(b, bob, ownerState, bytes, nowMs)
 *     → { established, ownerState }                                (the used prekey is gone from ownerState)
 *
 * Ratchet seeding (docs/offline.md §Seeding): exactly as after the interactive DAKE (ratchet/init.ts), with
 * Alice as the Auth-I receiver — her first keys X_first/A_first against Bob's prekey keys Y/B give K0, and she
 * sends on the first chain with ratchet id 0 — and Bob as the Auth-I sender, who receives on that chain and
 * does his first sending step at once. The spec's literal seeding (root and chain straight from K, i = 1) leaves
 * the brace key of Bob's first, non-DH, step undefined, and authenticates nothing about X_first/A_first.
 *
 * Failure throws a typed OtrError and changes nothing: the owner state passed in stays valid (a forged or
 * corrupted message does not burn the prekey it names). Success consumes the prekey: persist the returned
 * owner state before showing the messages, and a replay of the same message is refused (STATE).
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import { ecdh, generateEcdh } from '../crypto/ecdh.js';
import { dhAssertValidPublic, dhKeyPair, dhSharedSecret } from '../crypto/dh.js';
import { ringSign, ringVerify, type Ring } from '../crypto/ring-sig.js';
import { equalBytes, wipe } from '../bytes.js';
import { OtrCryptoError, OtrStateError } from '../errors.js';
import { validateClientProfile, type ClientProfile } from '../profile/client-profile.js';
import { braceKeyFromDh } from '../ratchet/keys.js';
import { initRatchetAsAuthIReceiver, initRatchetAsAuthISender } from '../ratchet/init.js';
import { checkLocal, type DakeEstablished, type DakeLocal } from '../ake/interactive.js';
import type { PhiParty } from '../ake/transcript.js';
import { validateEnsemble, type OwnIdentity, type PrekeyEnsemble, type ValidateEnsembleOptions } from '../prekey/ensemble.js';
import { consumePrekey, usablePrekeyProfiles, type PrekeyOwnerState } from '../prekey/owner-store.js';
import { DEFAULT_PREKEY_PROFILE_GRACE_SECONDS } from '../prekey/prekey-profile.js';
import { decodeNonInteractiveAuth, encodeNonInteractiveAuth } from './wire.js';
import { authMac, nonInteractivePhi, nonInteractiveSecrets, nonInteractiveTranscript, tmpKey } from './transcript.js';

/**
 * Who we are: the interactive DAKE's DakeLocal (our instance tag also owns our prekeys; `profile` is our
 * current client profile), plus profiles still in their grace time.
 */
export interface OfflineLocal extends DakeLocal {
  /**
   * Bob only: earlier client profiles still within their local grace period. An offline message may have been
   * made against one of them (the spec: "multiple client profiles can coexist on local storage").
   */
  readonly previousProfiles?: readonly ClientProfile[];
}

export interface SendNonInteractiveResult {
  /** The Non-Interactive-Auth message (binary; armour it for the transport). */
  readonly message: Uint8Array;
  /** Alice's ratchet, ready to send (her messages carry ratchet id 0). */
  readonly established: DakeEstablished;
}

/**
 * What an ensemble Alice writes to must not carry (ensemble.ts OwnIdentity): her instance tag, and her long-term
 * key unless the peer is her own account (another device of hers may share the key).
 */
export function ownIdentity(local: DakeLocal): OwnIdentity {
  return equalBytes(local.accountId, local.peerAccountId) ? { instanceTag: local.instanceTag } : { instanceTag: local.instanceTag, identityKey: local.profile.identityKey };
}

/**
 * Alice: validates the ensemble (throws InvalidEnsembleError; our own ensemble too: ownIdentity) and makes the
 * Non-Interactive-Auth message. `ensembleOptions` passes e.g. `alreadyUsed` through to the validation.
 */
export function sendNonInteractiveAuth(
  b: CryptoBackend,
  random: RandomSource,
  local: OfflineLocal,
  ensemble: PrekeyEnsemble,
  nowMs: number,
  ensembleOptions: Omit<ValidateEnsembleOptions, 'nowMs'> = {},
): SendNonInteractiveResult {
  checkLocal(b, local);
  validateEnsemble(b, ensemble, { ...ensembleOptions, nowMs, own: ownIdentity(local) });
  const sender: NonInteractiveSender = { tag: local.instanceTag, profile: local.profile, accountId: local.accountId };
  return makeNonInteractiveAuth(b, random, sender, local.peerAccountId, ensemble, (ring, t) =>
    ringSign(b, random, local.identityScalar, local.profile.identityKey, ring, t),
  );
}

/** The sender of a Non-Interactive-Auth message, as bound into phi and the header. */
export interface NonInteractiveSender {
  /** Sender instance tag (the profile's owner tag). */
  readonly tag: number;
  readonly profile: ClientProfile;
  readonly accountId: Uint8Array;
}

/**
 * The Non-Interactive-Auth message and the sender's ratchet, for an ensemble the caller has validated, with
 * the ring signature over {F_receiver, H_sender, Y_prekey} made by `sign`. sendNonInteractiveAuth signs with
 * the sender's identity key; the forging toolkit (forge/dake.ts) with the secret of any ring member — one
 * construction, so what the toolkit makes is exactly what an honest sender makes. Random draws: x, a,
 * X_first, A_first, then whatever `sign` draws.
 */
export function makeNonInteractiveAuth(
  b: CryptoBackend,
  random: RandomSource,
  sender: NonInteractiveSender,
  receiverAccountId: Uint8Array,
  ensemble: PrekeyEnsemble,
  sign: (ring: Ring, t: Uint8Array) => Uint8Array,
): SendNonInteractiveResult {
  const bob = ensemble.clientProfile;
  const pm = ensemble.prekeyMessage;
  const D = ensemble.prekeyProfile.sharedPrekey;

  const x = generateEcdh(b, random);
  const a = dhKeyPair(b, random);
  const xFirst = generateEcdh(b, random);
  const aFirst = dhKeyPair(b, random);
  const temps: (Uint8Array | undefined)[] = [];
  try {
    const kEcdh = ecdh(b, x.secret, pm.y);
    temps.push(kEcdh);
    const kDh = dhSharedSecret(b, a.secret, pm.b);
    temps.push(kDh);
    const brace = braceKeyFromDh(b, kDh);
    temps.push(brace);
    const eD = ecdh(b, x.secret, D);
    temps.push(eD);
    const eH = ecdh(b, x.secret, bob.identityKey);
    temps.push(eH);
    const tmpK = tmpKey(b, kEcdh, eD, eH, brace);
    temps.push(tmpK);

    const alice: PhiParty = { tag: sender.tag, ecdh0: xFirst.public, dh0: aFirst.public, accountId: sender.accountId };
    const bobParty: PhiParty = { tag: pm.ownerTag, ecdh0: pm.y, dh0: pm.b, accountId: receiverAccountId };
    const t = nonInteractiveTranscript(
      b,
      { bobProfile: bob.encoded, aliceProfile: sender.profile.encoded, y: pm.y, x: x.public, b: pm.b, a: a.public, sharedPrekey: D },
      nonInteractivePhi(alice, bobParty),
    );
    const sigma = sign([bob.forgingKey, sender.profile.identityKey, pm.y], t);
    const mac = authMac(b, tmpK, t);
    const { ssid, prevRoot } = nonInteractiveSecrets(b, tmpK);
    temps.push(prevRoot);
    const message = encodeNonInteractiveAuth({
      senderTag: sender.tag,
      receiverTag: pm.ownerTag,
      profile: sender.profile,
      x: x.public,
      a: a.public,
      sigma,
      prekeyId: pm.id,
      authMac: mac,
      ecdhFirst: xFirst.public,
      dhFirst: aFirst.public,
    });
    const ratchet = initRatchetAsAuthIReceiver(b, { prevRoot, ourEcdh: xFirst, ourDh: aFirst, theirEcdh: pm.y, theirDh: pm.b });
    return { message, established: { ratchet, ssid, ssidBoldHalf: 'first', peerProfile: bob, peerTag: pm.ownerTag } };
  } finally {
    wipe(x.secret, a.secret, xFirst.secret, aFirst.secret, ...temps);
  }
}

export interface ReceiveNonInteractiveOptions {
  /** Extra local validity of our own expired prekey profiles, in seconds (default one day, as the spec suggests). */
  readonly prekeyProfileGraceSeconds?: number;
  /** Extra validity of the sender's client profile, in seconds (default 0: the spec validates it strictly). */
  readonly peerProfileGraceSeconds?: number;
}

export interface ReceiveNonInteractiveResult {
  /** Bob's ratchet: he can read Alice's messages and has already stepped to send his own. */
  readonly established: DakeEstablished;
  /** The owner state without the used prekey: persist it, and use it from now on. */
  readonly ownerState: PrekeyOwnerState;
}

/**
 * Bob: verifies a Non-Interactive-Auth message against the prekey it names and his stored profiles. Refuses
 * (typed OtrError) a message for another instance (STATE), invalid keys (INVALID_POINT, INVALID_DH_VALUE), a
 * bad client profile, an unknown or already used prekey (STATE), a wrong Auth MAC (BAD_MAC) and a wrong ring
 * signature (BAD_SIGNATURE). The Auth MAC is checked before the ring signature because it is cheap, it
 * also picks which of our stored profiles the sender used, and both must pass either way.
 */
export function receiveNonInteractiveAuth(
  b: CryptoBackend,
  local: OfflineLocal,
  owner: PrekeyOwnerState,
  bytes: Uint8Array,
  nowMs: number,
  o: ReceiveNonInteractiveOptions = {},
): ReceiveNonInteractiveResult {
  checkLocal(b, local);
  const m = decodeNonInteractiveAuth(bytes);
  if (m.receiverTag !== local.instanceTag) throw new OtrStateError('Non-Interactive-Auth message is for another instance');
  if (!b.pointIsValid(m.x)) throw new OtrCryptoError('INVALID_POINT', 'X is not a valid point');
  dhAssertValidPublic(b, m.a);
  if (!b.pointIsValid(m.ecdhFirst)) throw new OtrCryptoError('INVALID_POINT', 'first ECDH key is not a valid point');
  dhAssertValidPublic(b, m.dhFirst);
  validateClientProfile(b, m.profile, { nowMs, expectedOwnerTag: m.senderTag, graceSeconds: o.peerProfileGraceSeconds ?? 0 });

  const taken = consumePrekey(owner, m.prekeyId);
  if (!taken || taken.prekey.ownerTag !== local.instanceTag)
    throw new OtrStateError('the prekey message this names is unknown or was already used');
  const prekey = taken.prekey;
  const grace = o.prekeyProfileGraceSeconds ?? DEFAULT_PREKEY_PROFILE_GRACE_SECONDS;
  const prekeyProfiles = usablePrekeyProfiles(owner, nowMs, grace).filter((p) => p.profile.ownerTag === local.instanceTag);
  if (prekeyProfiles.length === 0) throw new OtrStateError('no usable prekey profile in local storage');
  const ourProfiles = [local.profile, ...(local.previousProfiles ?? [])].filter((p) => p.ownerTag === local.instanceTag);

  const temps: (Uint8Array | undefined)[] = [];
  try {
    const kEcdh = ecdh(b, prekey.ecdh.secret, m.x);
    temps.push(kEcdh);
    const kDh = dhSharedSecret(b, prekey.dh.secret, m.a);
    temps.push(kDh);
    const brace = braceKeyFromDh(b, kDh);
    temps.push(brace);
    const eH = ecdh(b, local.identityScalar, m.x);
    temps.push(eH);
    const alice: PhiParty = { tag: m.senderTag, ecdh0: m.ecdhFirst, dh0: m.dhFirst, accountId: local.peerAccountId };
    const bobParty: PhiParty = { tag: local.instanceTag, ecdh0: prekey.ecdh.public, dh0: prekey.dh.public, accountId: local.accountId };
    const phi = nonInteractivePhi(alice, bobParty);

    let match: { tmpK: Uint8Array; t: Uint8Array; profile: ClientProfile } | undefined;
    for (const pp of prekeyProfiles) {
      const eD = ecdh(b, pp.sharedPrekeySecret, m.x);
      const tmpK = tmpKey(b, kEcdh, eD, eH, brace);
      wipe(eD);
      for (const ours of ourProfiles) {
        const t = nonInteractiveTranscript(
          b,
          { bobProfile: ours.encoded, aliceProfile: m.profile.encoded, y: prekey.ecdh.public, x: m.x, b: prekey.dh.public, a: m.a, sharedPrekey: pp.profile.sharedPrekey },
          phi,
        );
        if (equalBytes(authMac(b, tmpK, t), m.authMac)) {
          match = { tmpK, t, profile: ours };
          break;
        }
      }
      if (match) break;
      wipe(tmpK);
    }
    if (!match) throw new OtrCryptoError('BAD_MAC', 'Non-Interactive-Auth MAC does not verify');
    temps.push(match.tmpK);
    if (!ringVerify(b, [match.profile.forgingKey, m.profile.identityKey, prekey.ecdh.public], m.sigma, match.t))
      throw new OtrCryptoError('BAD_SIGNATURE', 'Non-Interactive-Auth ring signature does not verify');

    const { ssid, prevRoot } = nonInteractiveSecrets(b, match.tmpK);
    temps.push(prevRoot);
    const ratchet = initRatchetAsAuthISender(b, {
      prevRoot,
      ourEcdh: prekey.ecdh,
      ourDh: prekey.dh,
      theirEcdh: m.ecdhFirst,
      theirDh: m.dhFirst,
    });
    // The prekey is used: its secrets die here (the ratchet worked on copies, which it deleted: its first
    // sending step, due, makes new keys when Bob first sends).
    wipe(prekey.ecdh.secret, prekey.dh.secret);
    return {
      established: { ratchet, ssid, ssidBoldHalf: 'second', peerProfile: m.profile, peerTag: m.senderTag },
      ownerState: taken.state,
    };
  } finally {
    wipe(...temps);
  }
}
