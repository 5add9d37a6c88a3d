/**
 * The interactive DAKE (otrv4.md §Interactive DAKE, §Receiving an Identity/Auth-R/Auth-I Message;
 * interpretations.md §3, §5, §11) as pure transitions over plain-data states. Bob sends Identity and Auth-I,
 * Alice sends Auth-R. No I/O: randomness and the clock come in as arguments, messages go out as bytes.
 *
 * API for the session layer (it keeps the DAKE state apart from any running encrypted session, so a DAKE
 * restarted by the peer never touches the ratchet in use until a new one completes):
 *
 *   startDake(b, random, local, peerTag?)            → { state: AwaitingAuthR, message: Identity }
 *   receiveIdentity(b, random, local, state, bytes, nowMs)
 *        → { state: AwaitingAuthI, message: Auth-R }         (START, WAITING_AUTH_I, or we lost the tie-break)
 *        | { state: AwaitingAuthR (ours, unchanged), message: our Identity again }   (we won the tie-break)
 *   receiveAuthR(b, random, local, state: AwaitingAuthR, bytes, nowMs)
 *        → { state: Idle, message: Auth-I, established }     (Bob: ratchet ready, he may send at once)
 *   receiveAuthI(b, local, state: AwaitingAuthI, bytes)
 *        → { state: Idle, established }                      (Alice: ratchet ready)
 *
 * Persist `state` after each call if DAKEs must survive restarts (it holds ephemeral secrets: Bob's y, b,
 * ecdh0, dh0; Alice's ecdh0, dh0, SSID and first root key). Any failure throws a typed OtrError and
 * leaves the given state untouched (keep using it: the spec says to ignore the bad message). A successful
 * transition consumes the given state (its secrets that are no longer needed are wiped). Call
 * `wipeDakeState` when abandoning a DAKE.
 *
 * Checks on every received message: the header (decoder), the receiver tag (ours; 0 also accepted on
 * Identity), the sender tag (Auth-R from the instance our Identity addressed, if we addressed one; Auth-I
 * from the instance we sent Auth-R to), the client profile (signature, expiry, versions, valid keys, owner
 * tag == sender tag), every point (pointIsValid), every DH value (group membership), the ring signature.
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import { ecdhValidated, generateEcdh, type EcdhKeyPair } from '../crypto/ecdh.js';
import { dhKeyPair, dhSharedSecretValidated, type DhKeyPair } from '../crypto/dh.js';
import { ringSignChecked, ringSignValidated, ringVerifyValidated, type CheckedSigner, type ValidRing } from '../crypto/ring-sig.js';
import { generatedPoint, validDhPublic, validPoint, type ValidDhPublic, type ValidPoint } from '../crypto/validated.js';
import { equalBytes, wipe } from '../bytes.js';
import { OtrArgumentError, OtrCryptoError, OtrStateError } from '../errors.js';
import { receiverTagMatches } from '../instance-tag.js';
import { validateClientProfile, type ClientProfile } from '../profile/client-profile.js';
import { decodeAuthI, decodeAuthR, decodeIdentity, encodeAuthI, encodeAuthR, encodeIdentity, type IdentityMessage } from '../wire/dake.js';
import { initRatchetAsAuthIReceiverValidated, initRatchetAsAuthISenderValidated } from '../ratchet/init.js';
import type { RatchetState } from '../ratchet/state.js';
import { authITranscript, authRTranscript, dakeSecrets, identityTieBreak, tieBreakWeWin, type PhiParty } from './transcript.js';

/** Who we are in a DAKE. The session builds this from the account and the conversation. */
export interface DakeLocal {
  /** Our instance tag; must equal our profile's owner tag (otr4j rejects anything else). */
  readonly instanceTag: number;
  /** Our signed client profile. */
  readonly profile: ClientProfile;
  /** The secret scalar of our long-term identity key H (ed448KeyPair(...).scalar: G·scalar = H). */
  readonly identityScalar: Uint8Array;
  /**
   * The same identity key pair checked once (ring-sig.ts checkSigningKey; the account keeps it): when given,
   * the ring signatures sign with it and skip re-checking G·scalar = H each time. Its public key must be our
   * profile's identity key (checkLocal).
   */
  readonly identitySigner?: CheckedSigner;
  /** Our account identifier as the peer knows it (phi DATA). */
  readonly accountId: Uint8Array;
  /** The peer's account identifier (phi DATA). */
  readonly peerAccountId: Uint8Array;
}

export interface DakeIdle {
  readonly kind: 'idle';
}

/** Bob, after sending Identity. */
export interface DakeAwaitingAuthR {
  readonly kind: 'awaiting-auth-r';
  /** The receiver tag our Identity carried (0: any instance may answer). */
  readonly peerTag: number;
  readonly y: EcdhKeyPair;
  readonly b: DhKeyPair;
  readonly ecdh0: EcdhKeyPair;
  readonly dh0: DhKeyPair;
  /** Our Identity message, resent if we win a simultaneous-start tie-break. */
  readonly identityMessage: Uint8Array;
}

/** Alice, after sending Auth-R: K is already derived; only Bob's Auth-I signature is outstanding. */
export interface DakeAwaitingAuthI {
  readonly kind: 'awaiting-auth-i';
  readonly peerTag: number;
  readonly peerProfile: ClientProfile;
  /** The peer's identity key H (peerProfile.identityKey), validated: by validateClientProfile, or on restore. */
  readonly peerIdentityKey: ValidPoint;
  /** X, the last ring member of Auth-I's ring {H_b, F_a, X}. */
  readonly x: Uint8Array;
  /** t_I, precomputed when Auth-R was made (every input was known then). */
  readonly authITranscript: Uint8Array;
  readonly ssid: Uint8Array;
  readonly prevRoot: Uint8Array;
  readonly ecdh0: EcdhKeyPair;
  readonly dh0: DhKeyPair;
  /**
   * The peer's first ratchet keys, validated where they entered (the Identity message) — or, for a state
   * restored from storage, by the restore (session/persist.ts dakeFromValue), which checks before it marks.
   */
  readonly theirEcdh0: ValidPoint;
  readonly theirDh0: ValidDhPublic;
}

export type DakeState = DakeIdle | DakeAwaitingAuthR | DakeAwaitingAuthI;

export const DAKE_IDLE: DakeIdle = Object.freeze({ kind: 'idle' });

/** A completed DAKE. */
export interface DakeEstablished {
  /** The double ratchet, ready to send and receive. */
  readonly ratchet: RatchetState;
  /** The secure session id (8 bytes). */
  readonly ssid: Uint8Array;
  /** Which half of the SSID to show in bold (otrv4.md §Secure Session ID). */
  readonly ssidBoldHalf: 'first' | 'second';
  readonly peerProfile: ClientProfile;
  readonly peerTag: number;
}

export interface DakeStep<S extends DakeState> {
  readonly state: S;
  readonly message?: Uint8Array;
  readonly established?: DakeEstablished;
}

/** OtrArgumentError unless `local` is usable: tag equals the profile's owner, byte ids, a 57-byte identity scalar. */
export function checkLocal(b: CryptoBackend, local: DakeLocal): void {
  if (local.profile.ownerTag !== local.instanceTag)
    throw new OtrArgumentError('our instance tag must equal our client profile owner tag');
  if (!(local.accountId instanceof Uint8Array) || !(local.peerAccountId instanceof Uint8Array))
    throw new OtrArgumentError('account identifiers must be bytes');
  if (!(local.identityScalar instanceof Uint8Array) || local.identityScalar.length !== 57)
    throw new OtrArgumentError('identity scalar must be 57 bytes');
  if (local.identitySigner !== undefined && !equalBytes(local.identitySigner.publicKey, local.profile.identityKey))
    throw new OtrArgumentError('identity signer is not our client profile identity key');
  void b;
}

/** Our signature for a DAKE message: with the checked identity key pair when we have it (DakeLocal). */
function signAsUs(b: CryptoBackend, random: RandomSource, local: DakeLocal, ownH: ValidPoint): (ring: ValidRing, t: Uint8Array) => Uint8Array {
  const signer = local.identitySigner;
  return signer
    ? (ring, t) => ringSignChecked(b, random, signer, ring, t)
    : (ring, t) => ringSignValidated(b, random, local.identityScalar, ownH, ring, t);
}

/**
 * Validation happens once per value and call, where the value enters (docs/performance.md §Validation in the
 * DAKE): the peer's profile keys in validateClientProfile, its ephemeral points and DH values right after
 * decoding; everything later takes the marked values (crypto/validated.ts) and checks nothing again.
 * Our own keys are not re-checked: our profile's forging key was validated when the profile was created
 * (createClientProfile) or restored (the account loader), our identity key is checked against its secret by
 * the ring signature, our ephemeral keys are G·s and g^r computed here. Peer values kept in an
 * awaiting-auth-i state stay marked: Auth-I uses them without a second check, and a state restored from
 * storage is checked by the restore (session/persist.ts dakeFromValue) before it is marked.
 */
function ownKey(p: Uint8Array): ValidPoint {
  return generatedPoint(p);
}

/** Wipes the ephemeral secrets a DAKE state holds. */
export function wipeDakeState(s: DakeState): void {
  if (s.kind === 'awaiting-auth-r') wipe(s.y.secret, s.b.secret, s.ecdh0.secret, s.dh0.secret);
  else if (s.kind === 'awaiting-auth-i') wipe(s.ssid, s.prevRoot, s.ecdh0.secret, s.dh0.secret);
}

/** Bob starts: a fresh Identity message (to `peerTag`, 0 when the peer's instance is unknown). */
export function startDake(b: CryptoBackend, random: RandomSource, local: DakeLocal, peerTag = 0): DakeStep<DakeAwaitingAuthR> {
  checkLocal(b, local);
  const y = generateEcdh(b, random);
  const bb = dhKeyPair(b, random);
  const ecdh0 = generateEcdh(b, random);
  const dh0 = dhKeyPair(b, random);
  const identityMessage = encodeIdentity({
    senderTag: local.instanceTag,
    receiverTag: peerTag,
    profile: local.profile,
    y: y.public,
    b: bb.public,
    ecdhFirst: ecdh0.public,
    dhFirst: dh0.public,
  });
  return { state: { kind: 'awaiting-auth-r', peerTag, y, b: bb, ecdh0, dh0, identityMessage }, message: identityMessage };
}

/**
 * An Identity message, in any DAKE state. In WAITING_AUTH_R both sides started: the higher tie-break value
 * keeps its DAKE (we resend our Identity); the lower answers the peer's with a fresh Auth-R. In
 * WAITING_AUTH_I the new Identity replaces the old one (fresh keys, full Auth-R: interpretations.md §11).
 */
export function receiveIdentity(
  b: CryptoBackend,
  random: RandomSource,
  local: DakeLocal,
  state: DakeState,
  bytes: Uint8Array,
  nowMs: number,
): DakeStep<DakeAwaitingAuthR | DakeAwaitingAuthI> {
  checkLocal(b, local);
  const m = decodeIdentity(bytes);
  // An Identity may not know our tag yet (otrr sends 0); a non-zero receiver tag must be ours.
  if (!receiverTagMatches(m.receiverTag, local.instanceTag, true)) throw new OtrStateError('Identity message is for another instance');
  const peer = validateClientProfile(b, m.profile, { nowMs, expectedOwnerTag: m.senderTag });
  const Y = validPoint(b, m.y, 'Y');
  const theirEcdh0 = validPoint(b, m.ecdhFirst, 'first ECDH key');
  const B = validDhPublic(b, m.b);
  const theirDh0 = validDhPublic(b, m.dhFirst);

  if (state.kind === 'awaiting-auth-r' && tieBreakWeWin(identityTieBreak(b, state.b.public), identityTieBreak(b, m.b)))
    return { state, message: state.identityMessage };

  // Alice: make Auth-R with all-new keys.
  const x = generateEcdh(b, random);
  const a = dhKeyPair(b, random);
  const ecdh0 = generateEcdh(b, random);
  const dh0 = dhKeyPair(b, random);
  try {
    const ownH = ownKey(local.profile.identityKey);
    const r = makeAuthR(
      b,
      { ourTag: local.instanceTag, ourProfile: local.profile, ourAccountId: local.accountId, peerAccountId: local.peerAccountId, identity: m, Y, B, ours: { x, a, ecdh0, dh0 } },
      [peer.forgingKey, ownH, Y],
      signAsUs(b, random, local, ownH),
    );
    wipeDakeState(state); // the old DAKE (ours, or the previous Identity's) is abandoned
    const next: DakeAwaitingAuthI = {
      kind: 'awaiting-auth-i',
      peerTag: m.senderTag,
      peerProfile: m.profile,
      peerIdentityKey: peer.identityKey,
      x: x.public,
      authITranscript: r.authITranscript,
      ssid: r.ssid,
      prevRoot: r.prevRoot,
      ecdh0,
      dh0,
      theirEcdh0,
      theirDh0,
    };
    return { state: next, message: r.message };
  } catch (e) {
    wipe(ecdh0.secret, dh0.secret);
    throw e;
  } finally {
    wipe(x.secret, a.secret);
  }
}

/** Everything Alice's Auth-R is made from: the Identity it answers (Y and B validated) and her fresh keys. */
export interface AuthRParts {
  readonly ourTag: number;
  readonly ourProfile: ClientProfile;
  readonly ourAccountId: Uint8Array;
  readonly peerAccountId: Uint8Array;
  readonly identity: IdentityMessage;
  readonly Y: ValidPoint;
  readonly B: ValidDhPublic;
  /** Freshly drawn x, a (this DAKE) and ecdh0, dh0 (the first ratchet keys). The caller owns their wiping. */
  readonly ours: { readonly x: EcdhKeyPair; readonly a: DhKeyPair; readonly ecdh0: EcdhKeyPair; readonly dh0: DhKeyPair };
}

/**
 * Auth-R answering an Identity: t_R signed by `sign` over `ring` = {F_initiator, H_responder, Y}, t_I (what
 * the Auth-I must sign), and the SSID and first root key from K. receiveIdentity signs with our identity
 * key; the forging toolkit (forge/dake.ts) with any ring member's secret — one construction for both.
 * Random draws: `sign`'s only. K_ecdh and K_dh are wiped; the SSID and root key too if this throws.
 */
export function makeAuthR(
  b: CryptoBackend,
  parts: AuthRParts,
  ring: ValidRing,
  sign: (ring: ValidRing, t: Uint8Array) => Uint8Array,
): { message: Uint8Array; authITranscript: Uint8Array; ssid: Uint8Array; prevRoot: Uint8Array } {
  const m = parts.identity;
  const { x, a, ecdh0, dh0 } = parts.ours;
  let kEcdh: Uint8Array | undefined;
  let kDh: Uint8Array | undefined;
  let secrets: { ssid: Uint8Array; prevRoot: Uint8Array } | undefined;
  try {
    const alice: PhiParty = { tag: parts.ourTag, ecdh0: ecdh0.public, dh0: dh0.public, accountId: parts.ourAccountId };
    const bob: PhiParty = { tag: m.senderTag, ecdh0: m.ecdhFirst, dh0: m.dhFirst, accountId: parts.peerAccountId };
    const keys = { bobProfile: m.profile.encoded, aliceProfile: parts.ourProfile.encoded, y: m.y, x: x.public, b: m.b, a: a.public };
    const sigma = sign(ring, authRTranscript(b, keys, alice, bob));
    const tI = authITranscript(b, keys, alice, bob);
    kEcdh = ecdhValidated(b, x.secret, parts.Y);
    kDh = dhSharedSecretValidated(b, a.secret, parts.B);
    secrets = dakeSecrets(b, kEcdh, kDh);
    const message = encodeAuthR({
      senderTag: parts.ourTag,
      receiverTag: m.senderTag,
      profile: parts.ourProfile,
      x: x.public,
      a: a.public,
      sigma,
      ecdhFirst: ecdh0.public,
      dhFirst: dh0.public,
    });
    return { message, authITranscript: tI, ssid: secrets.ssid, prevRoot: secrets.prevRoot };
  } catch (e) {
    wipe(secrets?.ssid, secrets?.prevRoot);
    throw e;
  } finally {
    wipe(kEcdh, kDh);
  }
}

/**
 * The encoded client profile our pending Identity message carried (read back from it: the state already keeps
 * the message, and a persisted state from before this change keeps it too). Only the identity and forging
 * keys and the owner tag are used from the current profile, and a renewal or the OTRv3 key changes none of them.
 */
function sentProfile(state: DakeAwaitingAuthR): Uint8Array {
  return decodeIdentity(state.identityMessage).profile.encoded;
}

/** Bob receives Auth-R: verify it, answer with Auth-I, and start the ratchet (he may send at once). */
export function receiveAuthR(
  b: CryptoBackend,
  random: RandomSource,
  local: DakeLocal,
  state: DakeState,
  bytes: Uint8Array,
  nowMs: number,
): DakeStep<DakeIdle> {
  checkLocal(b, local);
  if (state.kind !== 'awaiting-auth-r') throw new OtrStateError('Auth-R received without a pending Identity');
  const m = decodeAuthR(bytes);
  if (!receiverTagMatches(m.receiverTag, local.instanceTag, false)) throw new OtrStateError('Auth-R message is for another instance');
  if (state.peerTag !== 0 && m.senderTag !== state.peerTag) throw new OtrStateError('Auth-R from an instance our Identity was not sent to');
  const peer = validateClientProfile(b, m.profile, { nowMs, expectedOwnerTag: m.senderTag });
  const X = validPoint(b, m.x, 'X');
  const theirEcdh = validPoint(b, m.ecdhFirst, 'first ECDH key');
  const A = validDhPublic(b, m.a);
  const theirDh = validDhPublic(b, m.dhFirst);

  const alice: PhiParty = { tag: m.senderTag, ecdh0: m.ecdhFirst, dh0: m.dhFirst, accountId: local.peerAccountId };
  const bob: PhiParty = { tag: local.instanceTag, ecdh0: state.ecdh0.public, dh0: state.dh0.public, accountId: local.accountId };
  // The peer signed over the profile our Identity carried, which may no longer be our current one (renewed,
  // or re-issued when the OTRv3 key was made meanwhile): this DAKE goes on with the profile it started with.
  const keys = { bobProfile: sentProfile(state), aliceProfile: m.profile.encoded, y: state.y.public, x: m.x, b: state.b.public, a: m.a };
  const tR = authRTranscript(b, keys, alice, bob);
  if (!ringVerifyValidated(b, [ownKey(local.profile.forgingKey), peer.identityKey, ownKey(state.y.public)], m.sigma, tR))
    throw new OtrCryptoError('BAD_SIGNATURE', 'Auth-R ring signature does not verify');

  const ownH = ownKey(local.profile.identityKey);
  const done = makeAuthI(
    b,
    random,
    { ourTag: local.instanceTag, peerTag: m.senderTag, peerProfile: m.profile, ours: state, X, A, theirEcdh, theirDh },
    [ownH, peer.forgingKey, X],
    authITranscript(b, keys, alice, bob),
    signAsUs(b, random, local, ownH),
  );
  wipeDakeState(state);
  return { state: DAKE_IDLE, ...done };
}

/** Everything Bob's Auth-I is made from once an Auth-R is accepted. */
export interface AuthIParts {
  readonly ourTag: number;
  /** The responder: the Auth-R's sender tag and client profile. */
  readonly peerTag: number;
  readonly peerProfile: ClientProfile;
  /** Our ephemerals from the Identity (y, b) and our first ratchet keys (ecdh0, dh0). */
  readonly ours: { readonly y: EcdhKeyPair; readonly b: DhKeyPair; readonly ecdh0: EcdhKeyPair; readonly dh0: DhKeyPair };
  /** The Auth-R's X, A and first ratchet keys, validated. */
  readonly X: ValidPoint;
  readonly A: ValidDhPublic;
  readonly theirEcdh: ValidPoint;
  readonly theirDh: ValidDhPublic;
}

/**
 * Auth-I and Bob's ratchet from an accepted Auth-R: the signature over `ring` = {H_initiator, F_responder, X}
 * and `tI` by `sign`, then K, the SSID and the first sending step. receiveAuthR signs with our identity key;
 * the forging toolkit (forge/dake.ts) with any ring member's secret — one construction for both. Random
 * draws: `sign`'s, then the ratchet's first step. Wipes what it derives; the caller owns `parts.ours`.
 */
export function makeAuthI(
  b: CryptoBackend,
  random: RandomSource,
  parts: AuthIParts,
  ring: ValidRing,
  tI: Uint8Array,
  sign: (ring: ValidRing, t: Uint8Array) => Uint8Array,
): { message: Uint8Array; established: DakeEstablished } {
  const sigma = sign(ring, tI);
  const kEcdh = ecdhValidated(b, parts.ours.y.secret, parts.X);
  let kDh: Uint8Array | undefined;
  let secrets: { ssid: Uint8Array; prevRoot: Uint8Array } | undefined;
  try {
    kDh = dhSharedSecretValidated(b, parts.ours.b.secret, parts.A);
    secrets = dakeSecrets(b, kEcdh, kDh);
    const message = encodeAuthI({ senderTag: parts.ourTag, receiverTag: parts.peerTag, sigma });
    const ratchet = initRatchetAsAuthISenderValidated(b, {
      prevRoot: secrets.prevRoot,
      ourEcdh: parts.ours.ecdh0,
      ourDh: parts.ours.dh0,
      theirEcdh: parts.theirEcdh,
      theirDh: parts.theirDh,
    });
    return {
      message,
      established: { ratchet, ssid: secrets.ssid, ssidBoldHalf: 'second', peerProfile: parts.peerProfile, peerTag: parts.peerTag },
    };
  } catch (e) {
    wipe(secrets?.ssid);
    throw e;
  } finally {
    wipe(kEcdh, kDh, secrets?.prevRoot);
  }
}

/** Alice receives Auth-I: verify it and start the ratchet (she sends on the first chain). */
export function receiveAuthI(b: CryptoBackend, local: DakeLocal, state: DakeState, bytes: Uint8Array): DakeStep<DakeIdle> {
  checkLocal(b, local);
  if (state.kind !== 'awaiting-auth-i') throw new OtrStateError('Auth-I received without a pending Auth-R');
  const m = decodeAuthI(bytes);
  if (!receiverTagMatches(m.receiverTag, local.instanceTag, false)) throw new OtrStateError('Auth-I message is for another instance');
  if (m.senderTag !== state.peerTag) throw new OtrStateError('Auth-I from an instance we did not send Auth-R to');
  // The peer's values were validated when they entered this state (receiveIdentity, or the restore).
  if (!ringVerifyValidated(b, [state.peerIdentityKey, ownKey(local.profile.forgingKey), ownKey(state.x)], m.sigma, state.authITranscript))
    throw new OtrCryptoError('BAD_SIGNATURE', 'Auth-I ring signature does not verify');
  const ratchet = initRatchetAsAuthIReceiverValidated(b, {
    prevRoot: state.prevRoot,
    ourEcdh: state.ecdh0,
    ourDh: state.dh0,
    theirEcdh: state.theirEcdh0,
    theirDh: state.theirDh0,
  });
  const ssid = state.ssid.slice();
  wipeDakeState(state);
  return {
    state: DAKE_IDLE,
    established: { ratchet, ssid, ssidBoldHalf: 'first', peerProfile: state.peerProfile, peerTag: state.peerTag },
  };
}
