/**
 * The prekey-server protocol's messages (otrv4-prekey-server.md §DAKE-1..3, §Prekey Publication, §Storage
 * Information Request, §Storage Status, §Success, §Failure, §Prekey Ensemble Query Retrieval, §Prekey Ensemble
 * Retrieval, §No Prekey Ensembles in Storage). Every message starts SHORT version || BYTE type:
 *
 *   0x35 DAKE-1    INT sender tag || CLIENT-PROF || I (POINT)
 *   0x36 DAKE-2    INT receiver tag || DATA(server identity) || `10 00` POINT H_s || S (POINT) || RING-SIG
 *   0x37 DAKE-3    INT sender tag || RING-SIG || DATA(attached message)
 *   0x08 Publication  BYTE N || N prekey messages || BYTE K || [CLIENT-PROF] || BYTE J || [PREKEY-PROF]
 *                     || proofs || MAC        (proofs: ECDH and DH if N > 0, then shared-prekey if J = 1)
 *   0x09 Storage Information Request   MAC
 *   0x0B Storage Status   INT receiver tag || INT count || MAC
 *   0x06 Success / 0x05 Failure   INT receiver tag || MAC
 *   0x10 Ensemble Query   INT sender tag || DATA(identity) || DATA(versions)
 *   0x13 Ensemble Retrieval   INT receiver tag || DATA(identity) || INT L (> 0) || L ensembles
 *   0x0E No Prekey Ensembles  INT receiver tag || DATA(identity) || DATA(human-readable text)
 *
 * PROOF-ECDH = 64-byte c || SCALAR v; PROOF-DH = 64-byte c || MPI v. On a transport each message is
 * base64 followed by "." (§Encoded Messages). Decoders are structural and strict: version 4 only (a later
 * version's layout is unknown, so it is refused rather than guessed), known types only, every count and
 * length bounded, no trailing bytes, identities valid UTF-8. The exact bytes of the parts a MAC hashes are kept.
 */
import { abytes, fromUtf8, utf8 } from '../bytes.js';
import { OtrArgumentError, OtrDecodeError } from '../errors.js';
import { MAC_BYTES, POINT_BYTES, Reader, Writer } from '../codec/primitives.js';
import { SpanReader } from '../codec/span-reader.js';
import { base64Decode, base64Encode } from '../codec/base64.js';
import { RING_SIG_BYTES, DH_PUBLIC_MAX_BYTES } from '../wire/dake.js';
import { readClientProfile, type ClientProfile } from '../profile/encoding.js';
import { readPrekeyProfile, type PrekeyProfile } from '../prekey/prekey-profile.js';
import { MAX_PREKEY_MESSAGES_PER_BATCH, readPrekeyMessage, writePrekeyMessage, type PrekeyMessage } from '../prekey/prekey-message.js';
import { readEnsemble, writeEnsemble, type PrekeyEnsemble } from '../prekey/ensemble.js';
import { isValidReceiverTag, isValidSenderTag } from '../instance-tag.js';
import { KEY_TYPE_IDENTITY } from '../profile/encoding.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { PROTOCOL_VERSION_4 } from '../wire/header.js';

/** The prekey-server protocol is versioned with OTR itself: version 4 (wire/header.ts). */
export const PS_VERSION = PROTOCOL_VERSION_4;

export const PsType = Object.freeze({
  failure: 0x05,
  success: 0x06,
  publication: 0x08,
  storageInfoRequest: 0x09,
  storageStatus: 0x0b,
  noEnsembles: 0x0e,
  ensembleQuery: 0x10,
  ensembleRetrieval: 0x13,
  dake1: 0x35,
  dake2: 0x36,
  dake3: 0x37,
} as const);

export const PROOF_C_BYTES = 64;
/** The DH proof's v is below the DH group order q: at most 384 bytes. */
const DH_PROOF_V_MAX = DH_PUBLIC_MAX_BYTES;
/** The text the spec gives the No Prekey Ensembles message. */
export const NO_ENSEMBLES_TEXT = 'No Prekey Messages available for this identity';
/** Bounds of the two short strings (encoder and decoder): an Ensemble Query's versions, a No Prekey Ensembles text. */
const MAX_VERSIONS_BYTES = 16;
const MAX_TEXT_BYTES = 1024;

export interface EcdhProof {
  readonly c: Uint8Array;
  /** SCALAR. */
  readonly v: Uint8Array;
}
export interface DhProof {
  readonly c: Uint8Array;
  /** Big-endian, minimal. */
  readonly v: Uint8Array;
}

export interface Dake1 {
  readonly type: typeof PsType.dake1;
  readonly senderTag: number;
  readonly profile: ClientProfile;
  readonly i: Uint8Array;
}
export interface Dake2 {
  readonly type: typeof PsType.dake2;
  readonly receiverTag: number;
  /** The server identity as bytes (UTF-8 on the wire, e.g. "prekey.example.org"). */
  readonly serverIdentity: string;
  readonly serverKey: Uint8Array;
  /** PREKEY-SERVER-COMP-ID exactly as sent (what t hashes). */
  readonly compositeIdentity: Uint8Array;
  readonly s: Uint8Array;
  readonly sigma: Uint8Array;
}
export interface Dake3 {
  readonly type: typeof PsType.dake3;
  readonly senderTag: number;
  readonly sigma: Uint8Array;
  /** The attached Publication or Storage Information Request, encoded. */
  readonly message: Uint8Array;
}
export interface Publication {
  readonly type: typeof PsType.publication;
  readonly prekeyMessages: readonly PrekeyMessage[];
  /** The concatenated prekey messages as sent (the MAC hashes them). */
  readonly prekeyMessagesBytes: Uint8Array;
  readonly clientProfile?: ClientProfile;
  readonly prekeyProfile?: PrekeyProfile;
  readonly ecdhProof?: EcdhProof;
  readonly dhProof?: DhProof;
  readonly sharedPrekeyProof?: EcdhProof;
  /** The concatenated proofs as sent. */
  readonly proofsBytes: Uint8Array;
  readonly mac: Uint8Array;
}
export interface StorageInfoRequest {
  readonly type: typeof PsType.storageInfoRequest;
  readonly mac: Uint8Array;
}
export interface StorageStatus {
  readonly type: typeof PsType.storageStatus;
  readonly receiverTag: number;
  readonly count: number;
  readonly mac: Uint8Array;
}
export interface Outcome {
  readonly type: typeof PsType.success | typeof PsType.failure;
  readonly receiverTag: number;
  readonly mac: Uint8Array;
}
export interface EnsembleQuery {
  readonly type: typeof PsType.ensembleQuery;
  readonly senderTag: number;
  readonly identity: string;
  readonly versions: string;
}
export interface EnsembleRetrieval {
  readonly type: typeof PsType.ensembleRetrieval;
  readonly receiverTag: number;
  readonly identity: string;
  readonly ensembles: readonly PrekeyEnsemble[];
}
export interface NoEnsembles {
  readonly type: typeof PsType.noEnsembles;
  readonly receiverTag: number;
  readonly identity: string;
  readonly text: string;
}

export type ServerBoundMessage = Dake1 | Dake3 | EnsembleQuery;
export type ClientBoundMessage = Dake2 | StorageStatus | Outcome | EnsembleRetrieval | NoEnsembles;
export type AttachedMessage = Publication | StorageInfoRequest;
export type PsMessage = ServerBoundMessage | ClientBoundMessage | AttachedMessage;

// ---- text form ----

/** base64 || "." */
export function toServerText(bytes: Uint8Array): string {
  return base64Encode(bytes) + '.';
}

export function fromServerText(text: string, maxChars = DEFAULT_LIMITS.maxServerMessageChars): Uint8Array {
  if (typeof text !== 'string') throw new OtrArgumentError('message must be a string');
  if (text.length > maxChars) throw new OtrDecodeError(`message of ${text.length} characters exceeds the limit of ${maxChars}`);
  if (!text.endsWith('.')) throw new OtrDecodeError('prekey-server message must end with "."');
  return base64Decode(text, 0, text.length - 1);
}

// ---- helpers ----

function header(w: Writer, type: number): Writer {
  return w.short(PS_VERSION).byte(type);
}

function readString(r: Reader, what: string, max: number): string {
  const raw = r.data(what, max);
  try {
    return fromUtf8(raw);
  } catch {
    throw new OtrDecodeError(`${what} is not valid UTF-8`);
  }
}

function senderTag(r: Reader): number {
  const t = r.int();
  if (!isValidSenderTag(t)) throw new OtrDecodeError('invalid sender instance tag');
  return t;
}

function receiverTag(r: Reader): number {
  const t = r.int();
  if (!isValidReceiverTag(t) || t === 0) throw new OtrDecodeError('invalid receiver instance tag');
  return t;
}

function checkTag(t: number, what: string): void {
  if (!isValidSenderTag(t)) throw new OtrArgumentError(`${what} must be a valid instance tag`);
}

function stringBytes(s: string, what: string, max = DEFAULT_LIMITS.maxIdentityBytes): Uint8Array {
  if (typeof s !== 'string') throw new OtrArgumentError(`${what} must be a string`);
  const b = utf8(s);
  if (b.length > max) throw new OtrArgumentError(`${what} is longer than ${max} bytes`);
  return b;
}

/** PREKEY-SERVER-COMP-ID = DATA(identity) || ED448-PUBKEY (`10 00` || POINT). */
export function encodeCompositeIdentity(identity: string, serverKey: Uint8Array): Uint8Array {
  return new Writer(4 + 2 + POINT_BYTES + 64).data(stringBytes(identity, 'server identity')).shortLE(KEY_TYPE_IDENTITY).point(serverKey).finish();
}

// ---- encoders ----

export function encodeDake1(m: Omit<Dake1, 'type'>): Uint8Array {
  checkTag(m.senderTag, 'sender tag');
  return header(new Writer(m.profile.encoded.length + 80), PsType.dake1).int(m.senderTag).raw(m.profile.encoded).point(m.i).finish();
}

export function encodeDake2(m: Omit<Dake2, 'type' | 'compositeIdentity'>): Uint8Array {
  checkTag(m.receiverTag, 'receiver tag');
  return header(new Writer(600), PsType.dake2)
    .int(m.receiverTag)
    .raw(encodeCompositeIdentity(m.serverIdentity, m.serverKey))
    .point(m.s)
    .raw(abytes(m.sigma, RING_SIG_BYTES, 'sigma'))
    .finish();
}

export function encodeDake3(m: Omit<Dake3, 'type'>): Uint8Array {
  checkTag(m.senderTag, 'sender tag');
  return header(new Writer(m.message.length + 400), PsType.dake3).int(m.senderTag).raw(abytes(m.sigma, RING_SIG_BYTES, 'sigma')).data(m.message).finish();
}

export function encodeEcdhProof(p: EcdhProof): Uint8Array {
  return new Writer(PROOF_C_BYTES + 57).raw(abytes(p.c, PROOF_C_BYTES, 'proof c')).scalar(p.v).finish();
}

export function encodeDhProof(p: DhProof): Uint8Array {
  return new Writer(PROOF_C_BYTES + 4 + DH_PROOF_V_MAX).raw(abytes(p.c, PROOF_C_BYTES, 'proof c')).mpi(p.v).finish();
}

/** The parts of a publication, before its MAC. */
export interface PublicationBody {
  readonly prekeyMessages: readonly PrekeyMessage[];
  readonly clientProfile?: ClientProfile;
  readonly prekeyProfile?: PrekeyProfile;
  readonly ecdhProof?: EcdhProof;
  readonly dhProof?: DhProof;
  readonly sharedPrekeyProof?: EcdhProof;
}

export function encodePrekeyMessagesBlock(ms: readonly PrekeyMessage[]): Uint8Array {
  const w = new Writer(ms.length * 460 + 1);
  for (const m of ms) writePrekeyMessage(w, m);
  return w.finish();
}

export function encodeProofsBlock(p: PublicationBody): Uint8Array {
  const n = p.prekeyMessages.length;
  if ((n > 0) !== (!!p.ecdhProof && !!p.dhProof)) throw new OtrArgumentError('prekey messages need exactly their ECDH and DH proofs');
  if (!!p.prekeyProfile !== !!p.sharedPrekeyProof) throw new OtrArgumentError('a prekey profile needs exactly its proof');
  const w = new Writer(1024);
  if (p.ecdhProof) w.raw(encodeEcdhProof(p.ecdhProof));
  if (p.dhProof) w.raw(encodeDhProof(p.dhProof));
  if (p.sharedPrekeyProof) w.raw(encodeEcdhProof(p.sharedPrekeyProof));
  return w.finish();
}

export function encodePublication(p: PublicationBody, mac: Uint8Array): Uint8Array {
  if (p.prekeyMessages.length > MAX_PREKEY_MESSAGES_PER_BATCH) throw new OtrArgumentError(`at most ${MAX_PREKEY_MESSAGES_PER_BATCH} prekey messages per publication`);
  const w = header(new Writer(p.prekeyMessages.length * 460 + 2048), PsType.publication);
  w.byte(p.prekeyMessages.length).raw(encodePrekeyMessagesBlock(p.prekeyMessages));
  w.byte(p.clientProfile ? 1 : 0);
  if (p.clientProfile) w.raw(p.clientProfile.encoded);
  w.byte(p.prekeyProfile ? 1 : 0);
  if (p.prekeyProfile) w.raw(p.prekeyProfile.encoded);
  w.raw(encodeProofsBlock(p)).raw(abytes(mac, MAC_BYTES, 'MAC'));
  return w.finish();
}

export function encodeStorageInfoRequest(mac: Uint8Array): Uint8Array {
  return header(new Writer(67), PsType.storageInfoRequest).raw(abytes(mac, MAC_BYTES, 'MAC')).finish();
}

export function encodeStorageStatus(m: Omit<StorageStatus, 'type'>): Uint8Array {
  checkTag(m.receiverTag, 'receiver tag');
  return header(new Writer(75), PsType.storageStatus).int(m.receiverTag).int(m.count).raw(abytes(m.mac, MAC_BYTES, 'MAC')).finish();
}

export function encodeOutcome(m: Outcome): Uint8Array {
  checkTag(m.receiverTag, 'receiver tag');
  return header(new Writer(71), m.type).int(m.receiverTag).raw(abytes(m.mac, MAC_BYTES, 'MAC')).finish();
}

export function encodeEnsembleQuery(m: Omit<EnsembleQuery, 'type'>): Uint8Array {
  checkTag(m.senderTag, 'sender tag');
  return header(new Writer(64), PsType.ensembleQuery).int(m.senderTag).data(stringBytes(m.identity, 'identity')).data(stringBytes(m.versions, 'versions', MAX_VERSIONS_BYTES)).finish();
}

export function encodeEnsembleRetrieval(m: Omit<EnsembleRetrieval, 'type'>): Uint8Array {
  checkTag(m.receiverTag, 'receiver tag');
  if (m.ensembles.length === 0) throw new OtrArgumentError('a retrieval message carries at least one ensemble');
  const w = header(new Writer(2048), PsType.ensembleRetrieval).int(m.receiverTag).data(stringBytes(m.identity, 'identity')).int(m.ensembles.length);
  for (const e of m.ensembles) writeEnsemble(w, e);
  return w.finish();
}

export function encodeNoEnsembles(m: Omit<NoEnsembles, 'type'>): Uint8Array {
  checkTag(m.receiverTag, 'receiver tag');
  return header(new Writer(128), PsType.noEnsembles).int(m.receiverTag).data(stringBytes(m.identity, 'identity')).data(stringBytes(m.text, 'text', MAX_TEXT_BYTES)).finish();
}

// ---- decoder ----

/** The limits the decoder enforces (ts/limits.ts). */
export type DecodeLimits = Readonly<Pick<Limits, 'maxIdentityBytes' | 'maxEnsemblesPerRetrieval'>>;

function readEcdhProof(r: Reader): EcdhProof {
  return { c: r.raw(PROOF_C_BYTES, 'proof c'), v: r.scalar() };
}

function readDhProof(r: Reader): DhProof {
  return { c: r.raw(PROOF_C_BYTES, 'proof c'), v: r.mpi('proof v', DH_PROOF_V_MAX) };
}

function readPublication(r: SpanReader): Publication {
  const n = r.byte();
  const pmStart = r.offset;
  const prekeyMessages: PrekeyMessage[] = [];
  for (let i = 0; i < n; i++) prekeyMessages.push(readPrekeyMessage(r));
  const prekeyMessagesBytes = r.since(pmStart);
  const k = r.byte();
  if (k > 1) throw new OtrDecodeError('client profile count K must be 0 or 1');
  const clientProfile = k === 1 ? readClientProfile(r) : undefined;
  const j = r.byte();
  if (j > 1) throw new OtrDecodeError('prekey profile count J must be 0 or 1');
  const prekeyProfile = j === 1 ? readPrekeyProfile(r) : undefined;
  const proofStart = r.offset;
  const ecdhProof = n > 0 ? readEcdhProof(r) : undefined;
  const dhProof = n > 0 ? readDhProof(r) : undefined;
  const sharedPrekeyProof = j === 1 ? readEcdhProof(r) : undefined;
  const proofsBytes = r.since(proofStart);
  const mac = r.raw(MAC_BYTES, 'MAC');
  return {
    type: PsType.publication,
    prekeyMessages,
    prekeyMessagesBytes,
    proofsBytes,
    mac,
    ...(clientProfile ? { clientProfile } : {}),
    ...(prekeyProfile ? { prekeyProfile } : {}),
    ...(ecdhProof ? { ecdhProof } : {}),
    ...(dhProof ? { dhProof } : {}),
    ...(sharedPrekeyProof ? { sharedPrekeyProof } : {}),
  };
}

/**
 * Decodes any prekey-server message (binary form). Throws OtrDecodeError for anything malformed, truncated,
 * oversized, of another version or of an unknown type.
 */
export function decodePsMessage(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_LIMITS): PsMessage {
  if (!(bytes instanceof Uint8Array)) throw new OtrArgumentError('message must be bytes');
  const r = new SpanReader(bytes);
  const version = r.short();
  if (version !== PS_VERSION) throw new OtrDecodeError(`prekey-server protocol version ${version} is not supported`);
  const type = r.byte();
  let m: PsMessage;
  switch (type) {
    case PsType.dake1: {
      const st = senderTag(r);
      const profile = readClientProfile(r);
      m = { type, senderTag: st, profile, i: r.point() };
      break;
    }
    case PsType.dake2: {
      const rt = receiverTag(r);
      const cStart = r.offset;
      const serverIdentity = readString(r, 'server identity', limits.maxIdentityBytes);
      if (r.shortLE() !== KEY_TYPE_IDENTITY) throw new OtrDecodeError('wrong server key type');
      const serverKey = r.point();
      const compositeIdentity = r.since(cStart);
      m = { type, receiverTag: rt, serverIdentity, serverKey, compositeIdentity, s: r.point(), sigma: r.raw(RING_SIG_BYTES, 'sigma') };
      break;
    }
    case PsType.dake3: {
      const st = senderTag(r);
      const sigma = r.raw(RING_SIG_BYTES, 'sigma');
      m = { type, senderTag: st, sigma, message: r.data('attached message') };
      break;
    }
    case PsType.publication:
      m = readPublication(r);
      break;
    case PsType.storageInfoRequest:
      m = { type, mac: r.raw(MAC_BYTES, 'MAC') };
      break;
    case PsType.storageStatus: {
      const rt = receiverTag(r);
      m = { type, receiverTag: rt, count: r.int(), mac: r.raw(MAC_BYTES, 'MAC') };
      break;
    }
    case PsType.success:
    case PsType.failure: {
      const rt = receiverTag(r);
      m = { type, receiverTag: rt, mac: r.raw(MAC_BYTES, 'MAC') };
      break;
    }
    case PsType.ensembleQuery: {
      const st = senderTag(r);
      const identity = readString(r, 'identity', limits.maxIdentityBytes);
      m = { type, senderTag: st, identity, versions: readString(r, 'versions', MAX_VERSIONS_BYTES) };
      break;
    }
    case PsType.ensembleRetrieval: {
      const rt = receiverTag(r);
      const identity = readString(r, 'identity', limits.maxIdentityBytes);
      const l = r.int();
      if (l === 0 || l > limits.maxEnsemblesPerRetrieval) throw new OtrDecodeError(`ensemble count ${l} outside 1..${limits.maxEnsemblesPerRetrieval}`);
      const ensembles: PrekeyEnsemble[] = [];
      for (let i = 0; i < l; i++) ensembles.push(readEnsemble(r));
      m = { type, receiverTag: rt, identity, ensembles };
      break;
    }
    case PsType.noEnsembles: {
      const rt = receiverTag(r);
      const identity = readString(r, 'identity', limits.maxIdentityBytes);
      m = { type, receiverTag: rt, identity, text: readString(r, 'text', MAX_TEXT_BYTES) };
      break;
    }
    default:
      throw new OtrDecodeError(`unknown prekey-server message type 0x${type.toString(16)}`);
  }
  r.end('prekey-server message');
  return m;
}

/** Decodes and requires one of `types`. */
export function decodePsMessageOf<T extends PsMessage['type']>(bytes: Uint8Array, types: readonly T[], limits?: DecodeLimits): Extract<PsMessage, { type: T }> {
  const m = decodePsMessage(bytes, limits);
  if (!(types as readonly number[]).includes(m.type)) throw new OtrDecodeError(`unexpected prekey-server message type 0x${m.type.toString(16)}`);
  return m as Extract<PsMessage, { type: T }>;
}
