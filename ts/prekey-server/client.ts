/**
 * The client side of the prekey-server protocol (otrv4-prekey-server.md §Key Exchange, §Publishing Prekey
 * Values, §Query the Prekey Server for its Storage Status, §Retrieving Prekey Ensembles) as pure functions
 * over plain-data state; bytes in, bytes out (wrap them with toServerText for a transport).
 *
 *   startServerDake(b, random, local)                     → { state, message: DAKE-1 }
 *   receiveDake2(b, random, local, server, state, bytes, request)
 *                                                         → { state, message: DAKE-3 with the request attached }
 *   receiveServerResult(b, state, bytes)                  → success | failure | storage status (MAC checked)
 *   ensembleQuery(...) / receiveEnsembles(...)            → retrieval (no DAKE: ensembles are public)
 *
 * Publishing needs the secrets of what it publishes: the proofs show the server we hold y_i, b_i and sk_d.
 * The server's identity and long-term key must be known in advance (e.g. its fingerprint from discovery);
 * a DAKE-2 from any other composite identity is refused.
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import { equalBytes, wipe } from '../bytes.js';
import { OtrArgumentError, OtrCryptoError, OtrStateError } from '../errors.js';
import { ecdh, generateEcdh, type EcdhKeyPair } from '../crypto/ecdh.js';
import { PrekeyServerUsage } from '../crypto/usage.js';
import type { ClientProfile } from '../profile/encoding.js';
import { MAX_PREKEY_MESSAGES_PER_BATCH, type PrekeySecrets } from '../prekey/prekey-message.js';
import type { PrekeyProfileWithSecret } from '../prekey/prekey-profile.js';
import type { PrekeyEnsemble } from '../prekey/ensemble.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { psRingSign, psRingVerify } from './ring-sig.js';
import {
  decodePsMessageOf,
  encodeCompositeIdentity,
  encodeDake1,
  encodeDake3,
  encodeEnsembleQuery,
  encodePrekeyMessagesBlock,
  encodeProofsBlock,
  encodePublication,
  encodeStorageInfoRequest,
  PsType,
  type DecodeLimits,
  type PublicationBody,
} from './messages.js';
import { dake2Transcript, dake3Transcript, outcomeMac, prekeyMacKey, publicationBodyMac, serverPhi, serverSharedSecret, storageInfoMac, storageStatusMac } from './auth.js';
import { proofContext, proveDh, proveEcdh } from './proofs.js';

/** The publisher. */
export interface PsClientLocal {
  /** Our network identity (e.g. the bare JID "alice@example.org"): phi, and where the server files our values. */
  readonly identity: string;
  readonly instanceTag: number;
  readonly profile: ClientProfile;
  /** The secret scalar of our long-term identity key. */
  readonly identityScalar: Uint8Array;
}

/** The server as we know it before talking to it. */
export interface PsServerInfo {
  readonly identity: string;
  /** H_s (POINT). */
  readonly publicKey: Uint8Array;
}

export interface PsClientInDake {
  readonly kind: 'in-dake';
  readonly i: EcdhKeyPair;
}

export interface PsClientAwaitingResult {
  readonly kind: 'awaiting-result';
  readonly macKey: Uint8Array;
  readonly expect: 'outcome' | 'storage-status';
}

export type PsRequest =
  | {
      readonly kind: 'publish';
      readonly prekeys?: readonly PrekeySecrets[];
      readonly clientProfile?: ClientProfile;
      readonly prekeyProfile?: PrekeyProfileWithSecret;
    }
  | { readonly kind: 'storage-status' };

/**
 * The server's answer. A storage status is `low` when its count is at most the threshold passed to
 * receiveServerResult (default limits.ts prekeysLowThreshold): the wire carries only the count, so the
 * `prekeys-low` signal is this reading of it (docs/prekey-server.md).
 */
export type PsResult = { readonly kind: 'success' } | { readonly kind: 'failure' } | { readonly kind: 'storage-status'; readonly count: number; readonly low: boolean };

export function startServerDake(b: CryptoBackend, random: RandomSource, local: PsClientLocal): { state: PsClientInDake; message: Uint8Array } {
  if (local.profile.ownerTag !== local.instanceTag) throw new OtrArgumentError('our instance tag must equal our client profile owner tag');
  const i = generateEcdh(b, random);
  return { state: { kind: 'in-dake', i }, message: encodeDake1({ senderTag: local.instanceTag, profile: local.profile, i: i.public }) };
}

function buildPublication(b: CryptoBackend, random: RandomSource, local: PsClientLocal, r: Extract<PsRequest, { kind: 'publish' }>, sk: Uint8Array, macKey: Uint8Array): Uint8Array {
  const prekeys = r.prekeys ?? [];
  if (prekeys.length > MAX_PREKEY_MESSAGES_PER_BATCH) throw new OtrArgumentError(`at most ${MAX_PREKEY_MESSAGES_PER_BATCH} prekey messages per publication`);
  for (const p of prekeys) if (p.message.ownerTag !== local.instanceTag) throw new OtrArgumentError('prekey messages must carry our instance tag');
  if (r.clientProfile && r.clientProfile.ownerTag !== local.instanceTag) throw new OtrArgumentError('client profile of another instance');
  if (r.prekeyProfile && r.prekeyProfile.profile.ownerTag !== local.instanceTag) throw new OtrArgumentError('prekey profile of another instance');
  const m = proofContext(b, sk);
  try {
    const body: PublicationBody = {
      prekeyMessages: prekeys.map((p) => p.message),
      ...(r.clientProfile ? { clientProfile: r.clientProfile } : {}),
      ...(r.prekeyProfile ? { prekeyProfile: r.prekeyProfile.profile } : {}),
      ...(prekeys.length
        ? {
            ecdhProof: proveEcdh(b, random, PrekeyServerUsage.proofMessageEcdh, prekeys.map((p) => p.ecdh), m),
            dhProof: proveDh(b, random, prekeys.map((p) => p.dh), m),
          }
        : {}),
      ...(r.prekeyProfile
        ? {
            sharedPrekeyProof: proveEcdh(b, random, PrekeyServerUsage.proofSharedEcdh, [{ secret: r.prekeyProfile.sharedPrekeySecret, public: r.prekeyProfile.profile.sharedPrekey }], m),
          }
        : {}),
    };
    const mac = publicationBodyMac(b, macKey, body, encodePrekeyMessagesBlock(body.prekeyMessages), encodeProofsBlock(body));
    return encodePublication(body, mac);
  } finally {
    wipe(m);
  }
}

/**
 * DAKE-2 from the server: check it is for us and from the server we expect, verify its ring signature, and
 * answer with DAKE-3 carrying `request`. Throws a typed OtrError (state unchanged) on any failure.
 */
export function receiveDake2(
  b: CryptoBackend,
  random: RandomSource,
  local: PsClientLocal,
  server: PsServerInfo,
  state: PsClientInDake,
  bytes: Uint8Array,
  request: PsRequest,
): { state: PsClientAwaitingResult; message: Uint8Array } {
  if (state.kind !== 'in-dake') throw new OtrStateError('DAKE-2 received outside a DAKE');
  const m = decodePsMessageOf(bytes, [PsType.dake2]);
  if (m.receiverTag !== local.instanceTag) throw new OtrStateError('DAKE-2 is for another instance');
  if (m.serverIdentity !== server.identity || !equalBytes(m.serverKey, server.publicKey))
    throw new OtrCryptoError('BAD_SIGNATURE', 'DAKE-2 comes from an unexpected prekey server identity or key');
  if (!b.pointIsValid(m.s)) throw new OtrCryptoError('INVALID_POINT', 'S is not a valid point');
  const parts = {
    clientProfile: local.profile.encoded,
    compositeIdentity: encodeCompositeIdentity(server.identity, server.publicKey),
    i: state.i.public,
    s: m.s,
    phi: serverPhi(local.identity, server.identity),
  };
  if (!psRingVerify(b, [local.profile.identityKey, server.publicKey, state.i.public], m.sigma, dake2Transcript(b, parts)))
    throw new OtrCryptoError('BAD_SIGNATURE', 'DAKE-2 ring signature does not verify');
  const sigma = psRingSign(b, random, local.identityScalar, local.profile.identityKey, [local.profile.identityKey, server.publicKey, m.s], dake3Transcript(b, parts));
  const skEcdh = ecdh(b, state.i.secret, m.s);
  const sk = serverSharedSecret(b, skEcdh);
  const macKey = prekeyMacKey(b, sk);
  try {
    const attached = request.kind === 'publish' ? buildPublication(b, random, local, request, sk, macKey) : encodeStorageInfoRequest(storageInfoMac(b, macKey));
    wipe(state.i.secret);
    return {
      state: { kind: 'awaiting-result', macKey, expect: request.kind === 'publish' ? 'outcome' : 'storage-status' },
      message: encodeDake3({ senderTag: local.instanceTag, sigma, message: attached }),
    };
  } catch (e) {
    wipe(macKey);
    throw e;
  } finally {
    wipe(skEcdh, sk);
  }
}

/**
 * The server's answer to DAKE-3. A wrong MAC is OtrCryptoError('BAD_MAC') (the spec: ignore the message);
 * a message of the wrong kind for our request is OtrStateError. On success the MAC key is wiped.
 */
export function receiveServerResult(
  b: CryptoBackend,
  local: PsClientLocal,
  state: PsClientAwaitingResult,
  bytes: Uint8Array,
  lowThreshold: number = DEFAULT_LIMITS.prekeysLowThreshold,
): PsResult {
  if (state.kind !== 'awaiting-result') throw new OtrStateError('no request in flight');
  const m = decodePsMessageOf(bytes, [PsType.success, PsType.failure, PsType.storageStatus]);
  if (m.receiverTag !== local.instanceTag) throw new OtrStateError('prekey-server answer for another instance');
  let result: PsResult;
  if (m.type === PsType.storageStatus) {
    if (state.expect !== 'storage-status') throw new OtrStateError('storage status received for a publication');
    if (!equalBytes(storageStatusMac(b, state.macKey, m.receiverTag, m.count), m.mac)) throw new OtrCryptoError('BAD_MAC', 'Status MAC does not verify');
    result = { kind: 'storage-status', count: m.count, low: m.count <= lowThreshold };
  } else {
    // A failure may answer either request (the server refuses a bad storage request with one, too).
    if (m.type === PsType.success && state.expect !== 'outcome') throw new OtrStateError('success received for a storage request');
    if (!equalBytes(outcomeMac(b, state.macKey, m.type, m.receiverTag), m.mac)) throw new OtrCryptoError('BAD_MAC', `${m.type === PsType.success ? 'Success' : 'Failure'} MAC does not verify`);
    result = { kind: m.type === PsType.success ? 'success' : 'failure' };
  }
  wipe(state.macKey);
  return result;
}

/** A Prekey Ensemble Query Retrieval message for `identity`'s ensembles of `versions` (default "4"). */
export function ensembleQuery(ourTag: number, identity: string, versions = '4'): Uint8Array {
  return encodeEnsembleQuery({ senderTag: ourTag, identity, versions });
}

export type EnsembleResponse =
  | { readonly kind: 'ensembles'; readonly identity: string; readonly ensembles: readonly PrekeyEnsemble[] }
  | { readonly kind: 'none'; readonly identity: string; readonly text: string };

/**
 * The server's answer to a query: a retrieval (its ensembles still to be validated: chooseEnsembles) or "no
 * ensembles". The receiver tag must be ours and the identity the one we asked for.
 */
export function receiveEnsembles(bytes: Uint8Array, ourTag: number, identity: string, limits: DecodeLimits = DEFAULT_LIMITS): EnsembleResponse {
  const m = decodePsMessageOf(bytes, [PsType.ensembleRetrieval, PsType.noEnsembles], limits);
  if (m.receiverTag !== ourTag) throw new OtrStateError('ensemble answer for another instance');
  if (m.identity !== identity) throw new OtrStateError('ensembles of another identity');
  return m.type === PsType.ensembleRetrieval ? { kind: 'ensembles', identity, ensembles: m.ensembles } : { kind: 'none', identity, text: m.text };
}
