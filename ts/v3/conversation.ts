/**
 * One OTRv3 context: the message state machine with ONE remote instance (otrv3-protocol.html §The protocol
 * state machine; otrv4.md §OTRv3 Protocol State Machine) tying together the AKE, data messages, SMP and
 * query/whitespace/error handling. Which context a message belongs to (by its instance tags), fragments, and
 * the choice of the instance `send()` uses are the job of instances.ts, which keeps one context per remote
 * instance as libotr does.
 *
 * The `ctx*` functions are transitions: (options, context, input) -> { state, toSend, toUser, events }. They
 * work on a copy of the one context they change, so input that is rejected (or a bug that throws) never
 * changes the caller's context.
 */
import type { CryptoBackend } from '../backend/types.js';
import { bytesToHex, utf8 } from '../bytes.js';
import { type DsaPrivateKey, type DsaPublicKey, dsaFingerprint } from '../crypto/dsa.js';
import { type RandomSource, systemRandom } from '../crypto/random.js';
import { OtrArgumentError, OtrError, OtrStateError } from '../errors.js';
import { type Limits, resolveLimits } from '../limits.js';
import { MIN_INSTANCE_TAG } from '../instance-tag.js';
import type { SharedBudget } from '../shared-budget.js';
import { type AkeEnv, type AkeResult, type AkeStep, type AuthState, akeOnCommit, akeOnDhKey, akeOnRevealSig, akeOnSig, akeStart } from './ake.js';
import { armour } from '../codec/armour.js';
import { OtrErrorCode, buildErrorMessage } from '../codec/error-message.js';
import { buildQuery } from '../codec/query.js';
import { whitespaceTag } from '../codec/whitespace.js';
import { HEARTBEAT_INTERVAL_MS, RESEND_INTERVAL_MS, STORED_MESSAGE_MAX_CHARS, Tlv } from './constants.js';
import { FLAG_IGNORE_UNREADABLE } from '../wire/data.js';
import {
  type DataEnv,
  type KeyState,
  decryptData,
  encryptData,
  endKeysKeepingMacKeys,
  inheritRevealsV3,
  keysFromAke,
  publishAhead,
  revealKeysInUse,
  wipeKeyState,
} from './data.js';
import { fragmentV3 } from './fragment.js';
import { type DataMsg, type V3Message, encodeMessage } from './messages.js';
import { type SmpOutcome, type SmpState, smpAbort, smpReceive, smpRespond, smpSecret, smpStart } from './smp.js';
import { type TlvRecord, decodePlaintext, encodePlaintext } from './tlv.js';
import { MessageTypeV3 } from '../wire/header.js';
import { OneSmpStep } from '../smp/one-step.js';

/** We offer only v3 here; the v4 session layer builds its own "?OTRv34?". */
export const QUERY_V3 = buildQuery([3], 'An Off-the-Record private conversation has been requested.');
const WHITESPACE_TAG_V3 = whitespaceTag([3]);

export interface V3Policy {
  allowV3: boolean;
  requireEncryption: boolean;
  sendWhitespaceTag: boolean;
  whitespaceStartAke: boolean;
  errorStartAke: boolean;
}

export const DEFAULT_V3_POLICY: Readonly<V3Policy> = Object.freeze({
  allowV3: true,
  requireEncryption: false,
  sendWhitespaceTag: false,
  whitespaceStartAke: true,
  errorStartAke: true,
});

export interface V3Options {
  backend: CryptoBackend;
  /** Our long-term DSA key (account level; never part of the persisted session). */
  dsaKey: DsaPrivateKey;
  /** Our instance tag (≥ 0x100). */
  instanceTag: number;
  random?: RandomSource;
  /** Milliseconds since the epoch; injected so heartbeats and resends are deterministic in tests. */
  now?: () => number;
  policy?: Partial<V3Policy>;
  limits?: Partial<Limits>;
  /** Largest message the network carries, in characters: longer encoded messages are fragmented. 0: never. */
  fragmentSize?: number;
  /** The account's bound on partial fragmented messages of all its conversations (shared-budget.ts). */
  fragmentBudget?: SharedBudget;
}

export type MsgState = 'plaintext' | 'encrypted' | 'finished';

export interface PeerInfo {
  longTerm: DsaPublicKey;
  fingerprint: Uint8Array;
  ssid: Uint8Array;
  ssidBoldFirst: boolean;
}

/** One context: our state with one remote instance (or, for theirTag 0, the master context; instances.ts). */
export interface V3State {
  ourTag: number;
  /** The remote instance of this context (≥ 0x100); 0 for the master context, which is never encrypted. */
  theirTag: number;
  msgstate: MsgState;
  auth: AuthState;
  keys: KeyState | null;
  peer: PeerInfo | null;
  smp: SmpState;
  lastSentAt: number;
  /** A message typed while not encrypted, sent once the AKE succeeds (if still recent). */
  stored: { text: string; at: number } | null;
  /** A plaintext message arrived since we entered MSGSTATE_PLAINTEXT: stop sending whitespace tags. */
  receivedPlaintext: boolean;
}

/**
 * Everything the library reports, each naming the protocol version and the remote instance it concerns (0:
 * none in particular — untagged input such as plaintext, or the master context).
 */
export type V3Event = { version: 3; instance: number } & (
  | { type: 'encrypted'; fingerprint: Uint8Array; ssid: Uint8Array; ssidBoldFirst: boolean; refreshed: boolean }
  | { type: 'finished' }
  | { type: 'plaintext' }
  | { type: 'unencrypted' }
  | { type: 'heartbeat' }
  | { type: 'unreadable'; reason: string }
  | { type: 'ignored'; reason: string; code?: string }
  | { type: 'otherInstance' }
  /** The remote instance `send()` uses changed (0: none, i.e. not encrypted with anyone). */
  | { type: 'instanceChanged'; from: number; to: number }
  | { type: 'errorReceived'; message: string }
  | { type: 'cannotSend'; reason: string }
  | { type: 'extraKey'; use: number; useData: Uint8Array; key: Uint8Array }
  | { type: 'tlv'; tlvType: number; value: Uint8Array }
  | SmpOutcome
);

export interface V3Result {
  state: V3State;
  toSend: string[];
  toUser: string[];
  events: V3Event[];
  /** MAC keys of a session the peer ended in this step, for the peer's kept list (instances.ts); null: none. */
  ended: Uint8Array | null;
  /** A data message of this step published the peer's kept list (`endedIn`): the peer drops it. */
  publishedEnded: boolean;
}

/** A fresh context with remote instance `theirTag` (0: the master context). */
export function newV3Context(instanceTag: number, theirTag = 0): V3State {
  if (!Number.isInteger(instanceTag) || instanceTag < MIN_INSTANCE_TAG || instanceTag > 0xffffffff)
    throw new OtrArgumentError('instance tag must be an integer in [0x100, 0xffffffff]');
  return {
    ourTag: instanceTag,
    theirTag,
    msgstate: 'plaintext',
    auth: { kind: 'none' },
    keys: null,
    peer: null,
    smp: { kind: 'expect1' },
    lastSentAt: 0,
    stored: null,
    receivedPlaintext: false,
  };
}

// ---------------------------------------------------------------------------------------------------------

/** The working context of one transition. */
export class Tx {
  readonly toSend: string[] = [];
  readonly toUser: string[] = [];
  readonly events: V3Event[] = [];
  readonly backend: CryptoBackend;
  readonly random: RandomSource;
  readonly now: number;
  readonly policy: V3Policy;
  readonly limits: Readonly<Limits>;
  /** MAC keys of a session the peer ended in this step (endKeysKeepingMacKeys), newest last. */
  ended: Uint8Array | null = null;
  /** Whether a data message of this step carries `endedIn`. */
  publishedEnded = false;

  constructor(
    readonly opts: V3Options,
    readonly s: V3State,
    /** The MAC keys of sessions the peer ended, kept on the peer (V3Peer.endedMacKeys): our next data message publishes them. */
    readonly endedIn: Uint8Array | undefined = undefined,
  ) {
    this.backend = opts.backend;
    this.random = opts.random ?? systemRandom;
    this.now = (opts.now ?? Date.now)();
    this.policy = { ...DEFAULT_V3_POLICY, ...(opts.policy ?? {}) };
    this.limits = resolveLimits(opts.limits);
  }

  event(e: V3Event extends infer E ? (E extends { version: 3 } ? Omit<E, 'version' | 'instance'> : never) : never): void {
    this.events.push({ version: 3, instance: this.s.theirTag, ...e } as V3Event);
  }

  akeEnv(): AkeEnv {
    return { backend: this.backend, random: this.random, dsaKey: this.opts.dsaKey, ourTag: this.s.ourTag };
  }

  dataEnv(): DataEnv {
    return { backend: this.backend, random: this.random, ourTag: this.s.ourTag, theirTag: this.s.theirTag, maxMacKeysToReveal: this.limits.maxMacKeysToReveal };
  }

  /** Armours and (if needed) fragments one binary message. */
  sendMessage(m: V3Message): void {
    const text = armour(encodeMessage(m));
    const size = this.opts.fragmentSize ?? 0;
    const receiver = m.receiverTag;
    this.toSend.push(...(size > 0 ? fragmentV3(text, size, this.s.ourTag, receiver) : [text]));
    this.s.lastSentAt = this.now;
  }

  sendText(text: string): void {
    this.toSend.push(text);
    this.s.lastSentAt = this.now;
  }

  /** Encrypts and sends a data message (message ‖ NUL ‖ TLVs); returns the extra key of its key pair. */
  sendData(message: Uint8Array, tlvs: TlvRecord[], flags: number): Uint8Array {
    const ks = this.s.keys;
    if (this.s.msgstate !== 'encrypted' || !ks) throw new OtrStateError('not in an encrypted OTRv3 conversation');
    if (this.endedIn !== undefined && !this.publishedEnded) {
      publishAhead(this.dataEnv(), ks, this.endedIn);
      this.publishedEnded = true;
    }
    const { msg, extraKey } = encryptData(this.dataEnv(), ks, encodePlaintext(message, tlvs), flags);
    this.sendMessage(msg);
    return extraKey;
  }
}

/** One context's working copy (constant size: keys, SMP values and at most one stored message). */
function copyState(s: V3State): V3State {
  return structuredClone(s);
}

/** Overwrites every byte array reachable from a superseded state (it shares no buffers with its successor). */
export function wipeState(v: unknown, depth = 0): void {
  if (depth > 32 || v === null || typeof v !== 'object') return;
  if (v instanceof Uint8Array) {
    v.fill(0);
    return;
  }
  for (const x of Array.isArray(v) ? v : Object.values(v)) wipeState(x, depth + 1);
}

/**
 * Runs `body` on a copy of one context; a typed failure leaves the caller's context as it was. `endedIn`: the
 * peer's kept MAC keys of ended sessions, which a data message sent in this step publishes.
 */
export function runOnContext(opts: V3Options, state: V3State, body: (tx: Tx) => void, endedIn?: Uint8Array): V3Result {
  const tx = new Tx(opts, copyState(state), endedIn);
  try {
    body(tx);
  } catch (e) {
    // The working copy is dropped either way (an untyped failure is rethrown): its secrets go with it.
    wipeState(tx.s);
    tx.ended?.fill(0);
    if (!(e instanceof OtrError)) throw e;
    // Typed failure: the input is dropped and the caller's state stands.
    return { state, toSend: [], toUser: [], events: [{ version: 3, instance: state.theirTag, type: 'ignored', reason: e.message, code: e.code }], ended: null, publishedEnded: false };
  }
  return { state: tx.s, toSend: tx.toSend, toUser: tx.toUser, events: tx.events, ended: tx.ended, publishedEnded: tx.publishedEnded };
}

// ---- AKE plumbing --------------------------------------------------------------------------------------

function applyAke(tx: Tx, step: AkeStep): void {
  for (const m of step.send) tx.sendMessage(m);
  const old = tx.s.auth;
  tx.s.auth = step.auth;
  if (step.result) goEncrypted(tx, step.result);
  // The superseded AKE state's secrets (our D-H private value, r, the AKE keys) are wiped — except what the
  // new state still holds (the D-H pair carried into awaitingSig or into the data keys, an unchanged auth).
  if (old !== step.auth) wipeDropped(old, tx.s);
}

/** Wipes the byte arrays reachable from `dropped` that are not also reachable from `kept`. */
function wipeDropped(dropped: object, kept: object): void {
  const live = new Set<Uint8Array>();
  const collect = (v: unknown, depth: number): void => {
    if (depth > 32 || v === null || typeof v !== 'object') return;
    if (v instanceof Uint8Array) live.add(v);
    else for (const x of Array.isArray(v) ? v : Object.values(v)) collect(x, depth + 1);
  };
  collect(kept, 0);
  const wipeOut = (v: unknown, depth: number): void => {
    if (depth > 32 || v === null || typeof v !== 'object') return;
    if (v instanceof Uint8Array) {
      if (!live.has(v)) v.fill(0);
    } else for (const x of Array.isArray(v) ? v : Object.values(v)) wipeOut(x, depth + 1);
  };
  wipeOut(dropped, 0);
}

function goEncrypted(tx: Tx, r: AkeResult): void {
  const refreshed = tx.s.msgstate === 'encrypted';
  const before = tx.s.keys;
  tx.s.keys = keysFromAke(tx.dataEnv(), r);
  // A refresh: the old keys' MAC keys still to reveal go to the new ones (and the old keys are wiped).
  if (before) inheritRevealsV3(tx.dataEnv(), before, tx.s.keys);
  const fingerprint = dsaFingerprint(r.theirLongTerm);
  tx.s.peer = { longTerm: r.theirLongTerm, fingerprint, ssid: r.ssid, ssidBoldFirst: r.ssidBoldFirst };
  tx.s.msgstate = 'encrypted';
  tx.s.smp = { kind: 'expect1' };
  // Events get their own copies: the state's buffers are wiped when a later transition supersedes it.
  tx.event({ type: 'encrypted', fingerprint: fingerprint.slice(), ssid: r.ssid.slice(), ssidBoldFirst: r.ssidBoldFirst, refreshed });
  const stored = tx.s.stored;
  tx.s.stored = null;
  if (stored && tx.now - stored.at <= RESEND_INTERVAL_MS) tx.sendData(utf8(stored.text), [], 0);
}

/** Starts an AKE from this context: a D-H Commit to its remote instance (0, anyone, from the master). */
function startAke(tx: Tx): void {
  applyAke(tx, akeStart(tx.akeEnv(), tx.s.theirTag));
}

// ---- receiving -----------------------------------------------------------------------------------------

/** Untagged input, already classified by instances.ts: what this context does with it. */
export type Untagged =
  | { kind: 'error'; text: string }
  | { kind: 'query'; versions: readonly number[] }
  | { kind: 'whitespace'; text: string; versions: readonly number[] }
  | { kind: 'plaintext'; text: string };

/**
 * Plaintext, whitespace-tagged, query and error messages carry no instance tag: instances.ts shows them
 * through the context `send()` uses and starts any AKE from the master context (`akeIn`).
 */
export function ctxReceiveUntagged(tx: Tx, inc: Untagged, startAkeHere: boolean): void {
  switch (inc.kind) {
    case 'error':
      tx.event({ type: 'errorReceived', message: inc.text });
      if (tx.policy.errorStartAke && tx.policy.allowV3) tx.sendText(QUERY_V3);
      return;
    case 'query':
      if (startAkeHere && inc.versions.includes(3) && tx.policy.allowV3) startAke(tx);
      return;
    case 'whitespace':
      if (!startAkeHere) receivePlaintext(tx, inc.text);
      else if (inc.versions.includes(3) && tx.policy.allowV3 && tx.policy.whitespaceStartAke) startAke(tx);
      return;
    case 'plaintext':
      return receivePlaintext(tx, inc.text);
  }
}

function receivePlaintext(tx: Tx, shown: string): void {
  if (tx.s.msgstate !== 'plaintext' || tx.policy.requireEncryption) tx.event({ type: 'unencrypted' });
  if (tx.s.msgstate === 'plaintext') tx.s.receivedPlaintext = true;
  if (shown.length > 0) tx.toUser.push(shown);
}

/**
 * A decoded message that instances.ts routed to this context (its sender tag is this context's remote
 * instance, or this is the master context answering a message from nobody we know).
 */
export function ctxReceiveMessage(tx: Tx, m: V3Message): void {
  const env = tx.akeEnv();
  switch (m.type) {
    case MessageTypeV3.dhCommit:
      return applyAke(tx, akeOnCommit(env, tx.s.auth, m));
    case MessageTypeV3.dhKey:
      return applyAke(tx, akeOnDhKey(env, tx.s.auth, m));
    case MessageTypeV3.revealSignature:
      return applyAke(tx, akeOnRevealSig(env, tx.s.auth, m));
    case MessageTypeV3.signature:
      return applyAke(tx, akeOnSig(env, tx.s.auth, m));
    case MessageTypeV3.data:
      return receiveData(tx, m);
  }
}

function unreadable(tx: Tx, m: DataMsg, reason: string): void {
  if (m.flags & FLAG_IGNORE_UNREADABLE) {
    tx.event({ type: 'ignored', reason });
    return;
  }
  tx.event({ type: 'unreadable', reason });
  tx.sendText(buildErrorMessage(OtrErrorCode.unreadable));
}

function receiveData(tx: Tx, m: DataMsg): void {
  const ks = tx.s.keys;
  if (tx.s.msgstate !== 'encrypted' || !ks) return unreadable(tx, m, 'encrypted message while not in a private conversation');
  let dec;
  try {
    dec = decryptData(tx.dataEnv(), ks, m);
  } catch (e) {
    if (e instanceof OtrError) return unreadable(tx, m, e.message);
    throw e;
  }
  const { message, tlvs } = decodePlaintext(dec.plaintext, tx.limits.maxTlvs);
  dec.plaintext.fill(0);
  if (message.length > 0) tx.toUser.push(new TextDecoder('utf-8').decode(message));
  else if (tlvs.length === 0) tx.event({ type: 'heartbeat' });

  const reply: TlvRecord[] = [];
  let disconnected = false;
  // One SMP step per data message (../smp/one-step.ts, as in OTRv4): 32 SMP1s, each followed by an abort, made
  // 32 verifications of four 1536-bit exponentiations (test/attacks/s13-dos-smp-tlvs).
  const smpSteps = new OneSmpStep();
  for (const t of tlvs) {
    switch (t.type) {
      case Tlv.padding:
        break;
      case Tlv.disconnected:
        disconnected = true;
        break;
      case Tlv.smp1:
      case Tlv.smp2:
      case Tlv.smp3:
      case Tlv.smp4:
      case Tlv.smpAbort:
      case Tlv.smp1q: {
        if (!smpSteps.admits(t.type === Tlv.smpAbort)) break;
        const step = smpReceive(tx, tx.s.smp, t, tx.limits.maxSmpQuestionBytes);
        tx.s.smp = step.smp;
        reply.push(...step.send);
        if (step.outcome) tx.event(step.outcome);
        break;
      }
      case Tlv.extraSymKey: {
        const use = t.value.length >= 4 ? new DataView(t.value.buffer, t.value.byteOffset, 4).getUint32(0) : 0;
        tx.event({ type: 'extraKey', use, useData: t.value.slice(Math.min(4, t.value.length)), key: dec.extraKey.slice() });
        break;
      }
      default:
        tx.event({ type: 'tlv', tlvType: t.type, value: t.value });
    }
  }
  dec.extraKey.fill(0);
  const smpIgnored = smpSteps.ignoredReason();
  if (smpIgnored !== undefined) tx.event({ type: 'ignored', reason: smpIgnored });
  if (disconnected) {
    // The peer ended: the MAC keys its last messages were read under are kept for our next data message.
    if (ks) tx.ended = endKeysKeepingMacKeys(tx.dataEnv(), ks);
    endKeys(tx);
    tx.s.msgstate = 'finished';
    tx.event({ type: 'finished' });
    return;
  }
  if (reply.length > 0) tx.sendData(new Uint8Array(0), reply, FLAG_IGNORE_UNREADABLE);
  else if (tx.now - tx.s.lastSentAt >= HEARTBEAT_INTERVAL_MS) tx.sendData(new Uint8Array(0), [], FLAG_IGNORE_UNREADABLE);
}

function endKeys(tx: Tx): void {
  if (tx.s.keys) wipeKeyState(tx.s.keys);
  tx.s.keys = null;
  tx.s.smp = { kind: 'expect1' };
}

// ---- operations of the user on one context ---------------------------------------------------------------

/** Our user typed `text`. */
export function ctxSend(tx: Tx, text: string): void {
  switch (tx.s.msgstate) {
    case 'plaintext':
      if (tx.policy.requireEncryption) {
        hold(tx, text, 'encryption is required and the private conversation has not started');
        tx.sendText(QUERY_V3);
      } else if (tx.policy.sendWhitespaceTag && !tx.s.receivedPlaintext) tx.sendText(text + WHITESPACE_TAG_V3);
      else tx.sendText(text);
      return;
    case 'encrypted':
      tx.sendData(utf8(text), [], 0);
      return;
    case 'finished':
      hold(tx, text, 'the peer ended the private conversation');
      tx.event({ type: 'cannotSend', reason: 'the peer ended the private conversation' });
      return;
  }
}

/** Keeps `text` to send once the AKE succeeds, if it is short enough to persist (STORED_MESSAGE_MAX_CHARS). */
function hold(tx: Tx, text: string, why: string): void {
  if (text.length <= STORED_MESSAGE_MAX_CHARS) {
    tx.s.stored = { text, at: tx.now };
    return;
  }
  tx.s.stored = null;
  if (tx.s.msgstate !== 'finished') tx.event({ type: 'cannotSend', reason: `${why}; the message is too long to hold, send it again once encrypted` });
}

/** Our user asks for a private conversation: a query message (the peer starts the AKE). */
export function ctxStart(tx: Tx): void {
  tx.sendText(QUERY_V3);
}

/** Starts the AKE ourselves (sends a D-H Commit), e.g. after seeing the peer's query out of band. */
export function ctxStartAke(tx: Tx): void {
  startAke(tx);
}

/** Our user ends the private conversation. */
export function ctxEnd(tx: Tx): void {
  if (tx.s.msgstate === 'encrypted') {
    // The disconnect reveals the receiving MAC keys still in use too (data.ts revealKeysInUse): wiped next.
    if (tx.s.keys) revealKeysInUse(tx.dataEnv(), tx.s.keys);
    tx.sendData(new Uint8Array(0), [{ type: Tlv.disconnected, value: new Uint8Array(0) }], FLAG_IGNORE_UNREADABLE);
    endKeys(tx);
  }
  if (tx.s.msgstate !== 'plaintext') tx.event({ type: 'plaintext' });
  tx.s.msgstate = 'plaintext';
  tx.s.receivedPlaintext = false;
}

function requirePeer(tx: Tx): PeerInfo {
  if (tx.s.msgstate !== 'encrypted' || !tx.s.peer) throw new OtrStateError('SMP needs an encrypted conversation');
  return tx.s.peer;
}

/** smpSecret of the user's secret; the UTF-8 copy we make of a string secret is wiped (the caller's bytes are theirs). */
function combinedSecret(a: Uint8Array, b: Uint8Array, ssid: Uint8Array, secret: string | Uint8Array): bigint {
  const bytes = typeof secret === 'string' ? utf8(secret) : secret;
  try {
    return smpSecret(a, b, ssid, bytes);
  } finally {
    if (bytes !== secret) bytes.fill(0);
  }
}

/** Starts SMP with `secret` (and a question, sent as TLV 7). A running SMP is aborted first. */
export function ctxStartSmp(tx: Tx, secret: string | Uint8Array, question?: string): void {
  const peer = requirePeer(tx);
  if (tx.s.smp.kind !== 'expect1') tx.sendData(new Uint8Array(0), smpAbort().send, FLAG_IGNORE_UNREADABLE);
  const x = combinedSecret(dsaFingerprint(tx.opts.dsaKey), peer.fingerprint, peer.ssid, secret);
  const step = smpStart(tx, x, question ?? null);
  tx.s.smp = step.smp;
  tx.sendData(new Uint8Array(0), step.send, FLAG_IGNORE_UNREADABLE);
}

/** Answers the peer's SMP request (after an `smpRequest` event). */
export function ctxRespondSmp(tx: Tx, secret: string | Uint8Array): void {
  const peer = requirePeer(tx);
  if (tx.s.smp.kind !== 'awaitingAnswer') throw new OtrStateError('no SMP request to answer');
  const y = combinedSecret(peer.fingerprint, dsaFingerprint(tx.opts.dsaKey), peer.ssid, secret);
  const step = smpRespond(tx, tx.s.smp, y);
  tx.s.smp = step.smp;
  tx.sendData(new Uint8Array(0), step.send, FLAG_IGNORE_UNREADABLE);
}

export function ctxAbortSmp(tx: Tx): void {
  requirePeer(tx);
  const step = smpAbort();
  tx.s.smp = step.smp;
  tx.sendData(new Uint8Array(0), step.send, FLAG_IGNORE_UNREADABLE);
  tx.event(step.outcome!);
}

/**
 * Tells the peer we use the extra symmetric key for `use` (TLV 8: 4-byte use ‖ useData) and returns the key:
 * the one of the key pair the TLV travels under, which the peer derives on receipt.
 */
export function ctxUseExtraKey(tx: Tx, use: number, useData: Uint8Array): Uint8Array {
  if (!Number.isInteger(use) || use < 0 || use > 0xffffffff) throw new OtrArgumentError('use must be a 32-bit unsigned integer');
  const value = new Uint8Array(4 + useData.length);
  new DataView(value.buffer).setUint32(0, use);
  value.set(useData, 4);
  return tx.sendData(new Uint8Array(0), [{ type: Tlv.extraSymKey, value }], FLAG_IGNORE_UNREADABLE);
}

/** Our fingerprint as libotr displays it (upper-case hex in five groups of eight). */
export function humanFingerprint(fp: Uint8Array): string {
  return (bytesToHex(fp).toUpperCase().match(/.{8}/g) ?? []).join(' ');
}

