/**
 * The OTRv3 authenticated key exchange (otrv3-protocol.html §Authenticated Key Exchange, §D-H Commit … §Signature
 * Message, and the authstate transitions of §The protocol state machine; otrv4.md §OTRv3 Specific Encoded
 * Messages). Plain-data state, injected randomness, no I/O.
 *
 * Every function takes the current AuthState and returns the next one with the messages to send. A message
 * that fails any check leaves the state unchanged (the spec's "ignore the message"): a forged Reveal
 * Signature or Signature cannot abort an honest AKE in progress.
 */
import type { CryptoBackend } from '../backend/types.js';
import { bigToBytesBE, bytesToBigBE, concatBytes, equalBytes, wipe } from '../bytes.js';
import { Reader, Writer, decodeAll, encode } from '../codec/primitives.js';
import {
  type DsaPrivateKey,
  type DsaPublicKey,
  dsaSign,
  dsaVerify,
  encodeDsaPublicKey,
  encodeDsaSignature,
  readDsaPublicKey,
  readDsaSignature,
} from '../crypto/dsa.js';
import type { RandomSource } from '../crypto/random.js';
import { OtrCryptoError, OtrDecodeError } from '../errors.js';
import { AKE_R_BYTES } from './constants.js';
import {
  type AkeKeys,
  aesCtr,
  deriveAkeKeys,
  hmacSha256,
  hmacSha256_160,
  secBytes,
  sha256,
  wipeAkeKeys,
} from './crypto.js';
import { type DhKeyPair, GROUP_BYTES, dhKeyPairV3, dhSharedV3, requireGroupElement } from './group.js';
import type { DhCommit, DhKey, RevealSig, Sig, V3Message } from './messages.js';
import { MessageTypeV3 } from '../wire/header.js';

/** Our D-H key in the AKE always has keyid 1 (our_keyid − 1 with our_keyid = 2, §Key Management). */
export const AKE_OUR_KEYID = 1;
const ZERO_CTR = new Uint8Array(8);

export type AuthState =
  | { kind: 'none' }
  /** We sent a D-H Commit (`commit` is kept for the retransmission the race rule asks for). */
  | { kind: 'awaitingDhKey'; r: Uint8Array; ours: DhKeyPair; hashGx: Uint8Array; commit: DhCommit }
  /** We answered a D-H Commit with `dhKey`; `encGx`/`hashGx` are the commitment we hold. */
  | { kind: 'awaitingRevealSig'; ours: DhKeyPair; encGx: Uint8Array; hashGx: Uint8Array; dhKey: DhKey }
  /** We sent `revealSig` in answer to their g^y; `keys` verify the Signature message. */
  | { kind: 'awaitingSig'; ours: DhKeyPair; theirGy: bigint; keys: AkeKeys; revealSig: RevealSig };

/** What a completed AKE hands to the data-message layer. */
export interface AkeResult {
  ours: DhKeyPair;
  theirPub: bigint;
  theirKeyid: number;
  theirLongTerm: DsaPublicKey;
  ssid: Uint8Array;
  /** True when we sent the Reveal Signature message: the first half of the ssid is ours to read out (bold). */
  ssidBoldFirst: boolean;
}

export interface AkeEnv {
  backend: CryptoBackend;
  random: RandomSource;
  dsaKey: DsaPrivateKey;
  ourTag: number;
}

export interface AkeStep {
  auth: AuthState;
  send: V3Message[];
  result?: AkeResult;
}

const mpiOf = (v: bigint): Uint8Array => bigToBytesBE(v);
const mpiEncode = (v: bigint): Uint8Array => encode((w) => w.mpi(mpiOf(v)));

/** Starts an AKE: a fresh x and r, and a D-H Commit to `theirTag` (0 when unknown). */
export function akeStart(env: AkeEnv, theirTag: number): AkeStep {
  const ours = dhKeyPairV3(env.backend, env.random);
  const r = env.random(AKE_R_BYTES);
  const gxmpi = mpiEncode(ours.pub);
  const commit: DhCommit = {
    type: MessageTypeV3.dhCommit,
    senderTag: env.ourTag,
    receiverTag: theirTag,
    encGx: aesCtr(r, ZERO_CTR, gxmpi),
    hashGx: sha256(gxmpi),
  };
  return { auth: { kind: 'awaitingDhKey', r, ours, hashGx: commit.hashGx, commit }, send: [commit] };
}

function replyDhKey(env: AkeEnv, m: DhCommit): AkeStep {
  const ours = dhKeyPairV3(env.backend, env.random);
  const dhKey: DhKey = { type: MessageTypeV3.dhKey, senderTag: env.ourTag, receiverTag: m.senderTag, gy: ours.pub };
  return {
    auth: { kind: 'awaitingRevealSig', ours, encGx: m.encGx, hashGx: m.hashGx, dhKey },
    send: [dhKey],
  };
}

/** Receiving a D-H Commit, in every authstate (including the race where both sides sent one). */
export function akeOnCommit(env: AkeEnv, auth: AuthState, m: DhCommit): AkeStep {
  switch (auth.kind) {
    case 'none':
    case 'awaitingSig':
      return replyDhKey(env, m);
    case 'awaitingDhKey': {
      // Both sides committed: the higher hashed g^x (32-byte big-endian) keeps its commitment.
      if (bytesToBigBE(auth.hashGx) > bytesToBigBE(m.hashGx)) {
        return { auth, send: [{ ...auth.commit, receiverTag: m.senderTag }] };
      }
      return replyDhKey(env, m);
    }
    case 'awaitingRevealSig': {
      // Retransmit the same D-H Key, but adopt the new commitment.
      const dhKey = { ...auth.dhKey, receiverTag: m.senderTag };
      return { auth: { ...auth, encGx: m.encGx, hashGx: m.hashGx, dhKey }, send: [dhKey] };
    }
  }
}

/** XB / XA: PUBKEY ‖ keyid ‖ SIG(M), where M = HMAC-SHA256(m1, g^a ‖ g^b ‖ PUBKEY ‖ keyid). */
function buildSignedPart(env: AkeEnv, macKey: Uint8Array, ourPub: bigint, theirPub: bigint): Uint8Array {
  const pub = encodeDsaPublicKey(env.dsaKey);
  const m = hmacSha256(
    macKey,
    concatBytes(mpiEncode(ourPub), mpiEncode(theirPub), pub, encode((w) => w.int(AKE_OUR_KEYID))),
  );
  const sig = dsaSign(env.dsaKey, bytesToBigBE(m), env.random);
  return new Writer(pub.length + 48).raw(pub).int(AKE_OUR_KEYID).raw(encodeDsaSignature(sig)).finish();
}

/** Encrypts the signed part and MACs DATA(encrypted). */
function sealSignature(part: Uint8Array, aesKey: Uint8Array, macKey: Uint8Array): { encSig: Uint8Array; mac: Uint8Array } {
  const encSig = aesCtr(aesKey, ZERO_CTR, part);
  return { encSig, mac: hmacSha256_160(macKey, encode((w) => w.data(encSig))) };
}

/** Verifies MAC, decrypts and checks the peer's signed part; returns their long-term key and keyid. */
function openSignature(
  encSig: Uint8Array,
  mac: Uint8Array,
  aesKey: Uint8Array,
  m1: Uint8Array,
  m2: Uint8Array,
  theirPub: bigint,
  ourPub: bigint,
): { longTerm: DsaPublicKey; keyid: number } {
  const expect = hmacSha256_160(m2, encode((w) => w.data(encSig)));
  if (!equalBytes(expect, mac)) throw new OtrCryptoError('BAD_MAC', 'AKE signature MAC does not verify');
  const x = aesCtr(aesKey, ZERO_CTR, encSig);
  const { longTerm, keyid, sig, pubBytes } = decodeAll(
    x,
    (r: Reader) => {
      const start = r.offset;
      const longTerm = readDsaPublicKey(r);
      const pubBytes = x.slice(start, r.offset);
      const keyid = r.int();
      return { longTerm, keyid, sig: readDsaSignature(r), pubBytes };
    },
    'encrypted signature',
  );
  wipe(x);
  if (keyid === 0) throw new OtrDecodeError('AKE keyid must be greater than 0');
  const m = hmacSha256(m1, concatBytes(mpiEncode(theirPub), mpiEncode(ourPub), pubBytes, encode((w) => w.int(keyid))));
  if (!dsaVerify(longTerm, bytesToBigBE(m), sig)) throw new OtrCryptoError('BAD_SIGNATURE', 'AKE DSA signature does not verify');
  return { longTerm, keyid };
}

function akeKeysFor(env: AkeEnv, ours: DhKeyPair, theirs: bigint): AkeKeys {
  const s = dhSharedV3(env.backend, ours.priv, theirs);
  const sb = secBytes(s);
  const keys = deriveAkeKeys(sb);
  wipe(s, sb);
  return keys;
}

/** Receiving a D-H Key message. */
export function akeOnDhKey(env: AkeEnv, auth: AuthState, m: DhKey): AkeStep {
  if (auth.kind === 'awaitingSig') {
    // Retransmit only for the very same g^y; anything else is ignored.
    return auth.theirGy === m.gy ? { auth, send: [auth.revealSig] } : { auth, send: [] };
  }
  if (auth.kind !== 'awaitingDhKey') return { auth, send: [] };
  requireGroupElement(m.gy, 'g^y');
  const keys = akeKeysFor(env, auth.ours, m.gy);
  const part = buildSignedPart(env, keys.m1, auth.ours.pub, m.gy);
  const { encSig, mac } = sealSignature(part, keys.c, keys.m2);
  wipe(part);
  const revealSig: RevealSig = {
    type: MessageTypeV3.revealSignature,
    senderTag: env.ourTag,
    receiverTag: m.senderTag,
    r: auth.r,
    encSig,
    mac,
  };
  return { auth: { kind: 'awaitingSig', ours: auth.ours, theirGy: m.gy, keys, revealSig }, send: [revealSig] };
}

/** Receiving a Reveal Signature message: on success we reply with the Signature message and are done. */
export function akeOnRevealSig(env: AkeEnv, auth: AuthState, m: RevealSig): AkeStep {
  if (auth.kind !== 'awaitingRevealSig') return { auth, send: [] };
  // Open the commitment: decrypt g^x with r and check its hash.
  const gxmpi = aesCtr(m.r, ZERO_CTR, auth.encGx);
  if (!equalBytes(sha256(gxmpi), auth.hashGx)) throw new OtrCryptoError('BAD_MAC', 'revealed g^x does not match its hash');
  const gx = bytesToBigBE(decodeAll(gxmpi, (r) => r.mpi('g^x', GROUP_BYTES), 'g^x MPI'));
  requireGroupElement(gx, 'g^x');
  const keys = akeKeysFor(env, auth.ours, gx);
  try {
    const their = openSignature(m.encSig, m.mac, keys.c, keys.m1, keys.m2, gx, auth.ours.pub);
    const part = buildSignedPart(env, keys.m1Prime, auth.ours.pub, gx);
    const { encSig, mac } = sealSignature(part, keys.cPrime, keys.m2Prime);
    wipe(part);
    const sig: Sig = { type: MessageTypeV3.signature, senderTag: env.ourTag, receiverTag: m.senderTag, encSig, mac };
    return {
      auth: { kind: 'none' },
      send: [sig],
      result: {
        ours: auth.ours,
        theirPub: gx,
        theirKeyid: their.keyid,
        theirLongTerm: their.longTerm,
        ssid: keys.ssid.slice(),
        ssidBoldFirst: false,
      },
    };
  } finally {
    wipeAkeKeys(keys);
  }
}

/** Receiving a Signature message: on success the AKE is complete. */
export function akeOnSig(env: AkeEnv, auth: AuthState, m: Sig): AkeStep {
  if (auth.kind !== 'awaitingSig') return { auth, send: [] };
  const k = auth.keys;
  const their = openSignature(m.encSig, m.mac, k.cPrime, k.m1Prime, k.m2Prime, auth.theirGy, auth.ours.pub);
  return {
    auth: { kind: 'none' },
    send: [],
    result: {
      ours: auth.ours,
      theirPub: auth.theirGy,
      theirKeyid: their.keyid,
      theirLongTerm: their.longTerm,
      ssid: k.ssid.slice(),
      ssidBoldFirst: true,
    },
  };
}
