/**
 * Forging toolkit, DAKEs (otrv4.md §Forging Transcripts: Forge DAKE and Session Keys, Impersonate Initiator or
 * Responder, Forge Entire Transcript). Every message is made by the same pieces the honest DAKEs use — the
 * transcripts t (ake/transcript, offline/transcript), RSig (crypto/ring-sig), the encoders (wire/dake,
 * offline/wire), the key schedule (dakeSecrets, tmpKey, nonInteractiveSecrets) and the ratchet seeding
 * (ratchet/init) — and an honest receiver accepts the result. The one difference from an honest party: the
 * ring signature may be made with the secret of ANY ring member, not only the sender's identity key.
 *
 * Naming as in the spec: the initiator (Bob) sends Identity and Auth-I, the responder (Alice) Auth-R.
 *   Auth-R is signed over the ring {F_initiator, H_responder, Y}: by the responder's identity key (honest),
 *     or by the initiator's forging key or ephemeral y — so the initiator can make a valid Auth-R himself
 *     ("impersonate the responder");
 *   Auth-I over {H_initiator, F_responder, X}: by the initiator's identity key (honest), or by the
 *     responder's forging key or ephemeral x ("impersonate the initiator");
 *   Non-Interactive-Auth over {F_receiver, H_sender, Y_prekey}: by the sender (honest), or by the receiver's
 *     forging key or one-time prekey secret — the receiver can make a message "from" anyone.
 * Whoever makes BOTH sides of an interactive DAKE holds both ephemerals, so a complete, valid transcript
 * between any two client profiles needs no long-term secret at all (forgeInteractiveDake's default).
 *
 * Outputs hold secrets (ephemeral keys, ratchets): they exist to forge, not to talk; wipe what you keep.
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import { equalBytes, utf8, wipe } from '../bytes.js';
import { OtrArgumentError, OtrCryptoError } from '../errors.js';
import { armour, dearmour } from '../codec/armour.js';
import { generateEcdh, type EcdhKeyPair } from '../crypto/ecdh.js';
import { dhKeyPair, type DhKeyPair } from '../crypto/dh.js';
import { ringSign, ringVerify, type Ring, type ValidRing } from '../crypto/ring-sig.js';
import { validDhPublic, validPoint } from '../crypto/validated.js';
import type { ClientProfile } from '../profile/client-profile.js';
import { decodeAuthI, decodeAuthR, decodeIdentity, encodeIdentity } from '../wire/dake.js';
import { authITranscript, authRTranscript, type PhiParty, type TranscriptKeys } from '../ake/transcript.js';
import { makeAuthI, makeAuthR, type AuthIParts, type AuthRParts, type DakeEstablished } from '../ake/interactive.js';
import { initRatchetAsAuthIReceiver } from '../ratchet/init.js';
import type { PrekeyEnsemble } from '../prekey/ensemble.js';
import { createPrekeyProfile, type PrekeyProfileWithSecret } from '../prekey/prekey-profile.js';
import { generatePrekeyMessages, type PrekeySecrets } from '../prekey/prekey-message.js';
import { makeNonInteractiveAuth } from '../offline/dake.js';

/** A participant as the forger knows them: public data only. */
export interface ForgeParty {
  /** Their client profile (its owner tag is their instance tag). */
  readonly profile: ClientProfile;
  /** Their account identifier as the peer knows it (bound into phi), e.g. "alice@example.org". */
  readonly accountId: string | Uint8Array;
}

/** The secret of one ring member, and that member's public key (G·secret). */
export interface RingSigner {
  readonly secret: Uint8Array;
  readonly public: Uint8Array;
}

const idBytes = (id: string | Uint8Array): Uint8Array => (typeof id === 'string' ? utf8(id) : id);

/**
 * A forging key pair for a user who keeps the forging key (otrv4.md §Forger Keys: an option, off by default):
 * pass `public` as Account.create's `forgingPublicKey` and keep `secret` apart from the account (offline) — it is
 * the `signer` with which forgeIdentity + forgeAuthI (or forgeAuthR) make DAKEs "from" any peer that this
 * account's own software accepts (docs/deniability.md §Keeping the forging key). Wipe it when done.
 */
export function generateForgingKey(b: CryptoBackend, random: RandomSource): RingSigner {
  return generateEcdh(b, random);
}

function sign(b: CryptoBackend, random: RandomSource, signer: RingSigner, ring: Ring, t: Uint8Array, what: string): Uint8Array {
  if (!ring.some((a) => equalBytes(a, signer.public)))
    throw new OtrArgumentError(`${what}: the signer's public key is not a member of the ring`);
  return ringSign(b, random, signer.secret, signer.public, ring, t);
}

// ------------------------------------------------------------------------------------------ Identity

/** The initiator's side after a (forged or honest-looking) Identity message: every secret it drew. */
export interface ForgedIdentity {
  /** The armoured Identity message. */
  readonly message: string;
  readonly initiator: ForgeParty;
  readonly peerTag: number;
  readonly y: EcdhKeyPair;
  readonly b: DhKeyPair;
  readonly ecdh0: EcdhKeyPair;
  readonly dh0: DhKeyPair;
}

/** An Identity message in the initiator's name (it carries no signature: anyone can make one). */
export function forgeIdentity(b: CryptoBackend, random: RandomSource, initiator: ForgeParty, peerTag = 0): ForgedIdentity {
  const y = generateEcdh(b, random);
  const bb = dhKeyPair(b, random);
  const ecdh0 = generateEcdh(b, random);
  const dh0 = dhKeyPair(b, random);
  const bytes = encodeIdentity({
    senderTag: initiator.profile.ownerTag,
    receiverTag: peerTag,
    profile: initiator.profile,
    y: y.public,
    b: bb.public,
    ecdhFirst: ecdh0.public,
    dhFirst: dh0.public,
  });
  return { message: armour(bytes), initiator, peerTag, y, b: bb, ecdh0, dh0 };
}

/** Ring signer for Auth-R made with the initiator's ephemeral y (the initiator impersonating the responder). */
export const ephemeralSigner = (k: EcdhKeyPair): RingSigner => ({ secret: k.secret, public: k.public });

// ------------------------------------------------------------------------------------------ Auth-R

export interface ForgeAuthROptions {
  /** The Identity message it answers (wire string). */
  readonly identity: string;
  /** Whose Auth-R it claims to be. */
  readonly responder: ForgeParty;
  /** The initiator's account identifier (phi). */
  readonly initiatorAccountId: string | Uint8Array;
  /**
   * Who signs: a member of {F_initiator, H_responder, Y}. The responder's identity key is what an honest
   * responder uses; the initiator's y (from its Identity) or forging secret lets the initiator forge.
   */
  readonly signer: RingSigner;
}

export interface ForgedAuthR {
  readonly message: string;
  /** The responder's session as it would be after a valid Auth-I (Auth-I only authenticates). */
  readonly established: DakeEstablished;
  /** The responder's ephemeral x: lets the same forger sign the Auth-I too. */
  readonly x: EcdhKeyPair;
  /** t_I, the transcript an Auth-I for this Auth-R signs. */
  readonly authITranscript: Uint8Array;
}

/** Auth-R in the responder's name, answering `identity`, signed by `signer` (impersonate the responder). */
export function forgeAuthR(b: CryptoBackend, random: RandomSource, o: ForgeAuthROptions): ForgedAuthR {
  const m = decodeIdentity(dearmour(o.identity));
  const resp = o.responder.profile;
  const x = generateEcdh(b, random);
  const a = dhKeyPair(b, random);
  const ecdh0 = generateEcdh(b, random);
  const dh0 = dhKeyPair(b, random);
  let prevRoot: Uint8Array | undefined;
  try {
    // The honest responder's construction (ake/interactive.ts makeAuthR), which takes validated values.
    const Y = validPoint(b, m.y, 'Y');
    const ring: ValidRing = [validPoint(b, m.profile.forgingKey, 'initiator forging key'), validPoint(b, resp.identityKey, 'responder identity key'), Y];
    const parts: AuthRParts = {
      ourTag: resp.ownerTag,
      ourProfile: resp,
      ourAccountId: idBytes(o.responder.accountId),
      peerAccountId: idBytes(o.initiatorAccountId),
      identity: m,
      Y,
      B: validDhPublic(b, m.b),
      ours: { x, a, ecdh0, dh0 },
    };
    const r = makeAuthR(b, parts, ring, (rg, tR) => sign(b, random, o.signer, rg, tR, 'Auth-R'));
    prevRoot = r.prevRoot;
    const ratchet = initRatchetAsAuthIReceiver(b, { prevRoot, ourEcdh: ecdh0, ourDh: dh0, theirEcdh: m.ecdhFirst, theirDh: m.dhFirst });
    return {
      message: armour(r.message),
      established: { ratchet, ssid: r.ssid, ssidBoldHalf: 'first', peerProfile: m.profile, peerTag: m.senderTag },
      x,
      authITranscript: r.authITranscript,
    };
  } catch (e) {
    wipe(x.secret); // handed to the caller only on success (to sign the Auth-I)
    throw e;
  } finally {
    // The ratchet holds copies of ecdh0 / dh0; every other secret drawn or derived here ends now, also when a
    // hostile Identity or a signer outside the ring makes this throw.
    wipe(prevRoot, a.secret, ecdh0.secret, dh0.secret);
  }
}

// ------------------------------------------------------------------------------------------ Auth-I

export interface ForgeAuthIOptions {
  /** The initiator's state from forgeIdentity (the forger sent that Identity). */
  readonly identity: ForgedIdentity;
  /** The Auth-R it answers (wire string). */
  readonly authR: string;
  /** The responder's account identifier (phi). */
  readonly responderAccountId: string | Uint8Array;
  /**
   * Who signs: a member of {H_initiator, F_responder, X}. The initiator's identity key is the honest case;
   * the responder's forging secret (or x) lets the responder forge.
   */
  readonly signer: RingSigner;
  /** Also check Auth-R's own signature first (default true): a forger who wants a valid transcript does. */
  readonly verifyAuthR?: boolean;
}

export interface ForgedAuthI {
  readonly message: string;
  /** The initiator's session (ready to send). */
  readonly established: DakeEstablished;
}

/** Auth-I in the initiator's name, answering `authR`, signed by `signer` (impersonate the initiator). */
export function forgeAuthI(b: CryptoBackend, random: RandomSource, o: ForgeAuthIOptions): ForgedAuthI {
  const id = o.identity;
  const m = decodeAuthR(dearmour(o.authR));
  const init = id.initiator.profile;
  const alice: PhiParty = { tag: m.senderTag, ecdh0: m.ecdhFirst, dh0: m.dhFirst, accountId: idBytes(o.responderAccountId) };
  const bob: PhiParty = { tag: init.ownerTag, ecdh0: id.ecdh0.public, dh0: id.dh0.public, accountId: idBytes(id.initiator.accountId) };
  const keys: TranscriptKeys = { bobProfile: init.encoded, aliceProfile: m.profile.encoded, y: id.y.public, x: m.x, b: id.b.public, a: m.a };
  if (o.verifyAuthR !== false && !ringVerify(b, [init.forgingKey, m.profile.identityKey, id.y.public], m.sigma, authRTranscript(b, keys, alice, bob)))
    throw new OtrCryptoError('BAD_SIGNATURE', 'Auth-R ring signature does not verify for this Identity');
  // The honest initiator's construction (ake/interactive.ts makeAuthI), which takes validated values.
  const ring: ValidRing = [validPoint(b, init.identityKey, 'initiator identity key'), validPoint(b, m.profile.forgingKey, 'responder forging key'), validPoint(b, m.x, 'X')];
  const parts: AuthIParts = {
    ourTag: init.ownerTag,
    peerTag: m.senderTag,
    peerProfile: m.profile,
    ours: id,
    X: ring[2],
    A: validDhPublic(b, m.a),
    theirEcdh: validPoint(b, m.ecdhFirst, 'first ECDH key'),
    theirDh: validDhPublic(b, m.dhFirst),
  };
  const r = makeAuthI(b, random, parts, ring, authITranscript(b, keys, alice, bob), (rg, tI) => sign(b, random, o.signer, rg, tI, 'Auth-I'));
  return { message: armour(r.message), established: r.established };
}

// ------------------------------------------------------------------------------------------ whole DAKE

export interface ForgeDakeOptions {
  /** Bob: sends Identity and Auth-I. */
  readonly initiator: ForgeParty;
  /** Alice: sends Auth-R. */
  readonly responder: ForgeParty;
  /** Signs Auth-R; default the initiator's ephemeral y (no long-term secret needed). */
  readonly authRSigner?: RingSigner;
  /** Signs Auth-I; default the responder's ephemeral x (no long-term secret needed). */
  readonly authISigner?: RingSigner;
}

export interface ForgedDake {
  /** Identity, Auth-R, Auth-I, as they would go over the wire. */
  readonly transcript: readonly [string, string, string];
  readonly ssid: Uint8Array;
  /** Both sessions, ready for data messages (the initiator sends first, as after a real DAKE). */
  readonly initiator: DakeEstablished;
  readonly responder: DakeEstablished;
}

/**
 * Forge DAKE and Session Keys (interactive): a complete Identity / Auth-R / Auth-I transcript between two
 * client profiles, with both sides' session keys. Signers default to the ephemerals the forger drew itself,
 * so no secret key is needed; pass a participant's identity key (`{ secret: ed448KeyPair(...).scalar,
 * public: profile.identityKey }`) to sign their message the honest way — the ring signature does not show
 * which member signed (test/deniability.test.ts).
 */
export function forgeInteractiveDake(b: CryptoBackend, random: RandomSource, o: ForgeDakeOptions): ForgedDake {
  const id = forgeIdentity(b, random, o.initiator, o.responder.profile.ownerTag);
  try {
    const r = forgeAuthR(b, random, {
      identity: id.message,
      responder: o.responder,
      initiatorAccountId: o.initiator.accountId,
      signer: o.authRSigner ?? ephemeralSigner(id.y),
    });
    try {
      const i = forgeAuthI(b, random, { identity: id, authR: r.message, responderAccountId: o.responder.accountId, signer: o.authISigner ?? ephemeralSigner(r.x) });
      return { transcript: [id.message, r.message, i.message], ssid: i.established.ssid, initiator: i.established, responder: r.established };
    } finally {
      wipe(r.x.secret);
    }
  } finally {
    wipe(id.y.secret, id.b.secret, id.ecdh0.secret, id.dh0.secret);
  }
}

// ------------------------------------------------------------------------------------------ non-interactive

export interface ForgeNonInteractiveOptions {
  /** Whose message it claims to be (Alice, writing to an offline Bob). */
  readonly sender: ForgeParty;
  /** The receiver's published ensemble the message is made against. */
  readonly ensemble: PrekeyEnsemble;
  /** The receiver's account identifier (phi). */
  readonly receiverAccountId: string | Uint8Array;
  /**
   * Who signs: a member of {F_receiver, H_sender, Y_prekey}: the sender's identity key (honest), or the
   * receiver's forging secret or one-time prekey secret y (the receiver impersonating the sender).
   */
  readonly signer: RingSigner;
}

export interface ForgedNonInteractive {
  readonly message: string;
  /** The sender's session (ready to send). */
  readonly established: DakeEstablished;
}

/**
 * Forge a Non-Interactive-Auth message (Forge DAKE and Session Keys / Impersonate Initiator, non-interactive).
 * The Auth MAC needs no secret of the receiver's (the sender's side computes it from the receiver's public
 * keys), so with the receiver's own prekey secret as signer the receiver alone can make a message from
 * anyone that his honest software accepts.
 */
export function forgeNonInteractiveAuth(b: CryptoBackend, random: RandomSource, o: ForgeNonInteractiveOptions): ForgedNonInteractive {
  const alice = o.sender.profile;
  const sender = { tag: alice.ownerTag, profile: alice, accountId: idBytes(o.sender.accountId) };
  const r = makeNonInteractiveAuth(b, random, sender, idBytes(o.receiverAccountId), o.ensemble, (ring, t) =>
    sign(b, random, o.signer, ring, t, 'Non-Interactive-Auth'),
  );
  return { message: armour(r.message), established: r.established };
}

/** Decodes an armoured Auth-I (for tests and the CLI: the sigma to inspect). */
export function authISigma(wire: string): Uint8Array {
  return decodeAuthI(dearmour(wire)).sigma;
}

// ------------------------------------------------------------------------------------------ false ensemble

export interface FalseEnsembleOptions {
  /** The owner's current client profile (its owner tag is the ensemble's). */
  readonly clientProfile: ClientProfile;
  /** sym_h, the 57-byte seed of the owner's long-term identity key (it signs the prekey profile). */
  readonly identitySecret: Uint8Array;
  /** Expiry of the prekey profile, Unix seconds. */
  readonly expiry: bigint;
}

export interface FalseEnsemble {
  readonly ensemble: PrekeyEnsemble;
  /** The one-time prekey's secrets: the `signer` for forgeNonInteractiveAuth, and what the owner store keeps. */
  readonly prekey: PrekeySecrets;
  /** The prekey profile with its shared-prekey secret (for an owner store). */
  readonly prekeyProfile: PrekeyProfileWithSecret;
}

/**
 * False Prekey Ensemble: an ensemble for the owner that was never published — made with the honest
 * createPrekeyProfile / generatePrekeyMessages — so that the owner can show a non-interactive DAKE (and, with
 * forgeNonInteractiveAuth, messages from anyone) against prekeys no server ever saw.
 */
export function falsePrekeyEnsemble(b: CryptoBackend, random: RandomSource, o: FalseEnsembleOptions): FalseEnsemble {
  const tag = o.clientProfile.ownerTag;
  const prekeyProfile = createPrekeyProfile(b, random, { ownerTag: tag, identitySecret: o.identitySecret, expiry: o.expiry });
  const prekey = generatePrekeyMessages(b, random, tag, 1)[0]!;
  return { ensemble: { clientProfile: o.clientProfile, prekeyProfile: prekeyProfile.profile, prekeyMessage: prekey.message }, prekey, prekeyProfile };
}
