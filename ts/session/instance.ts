/**
 * One remote instance of a conversation (a client of the peer, by instance tag): its DAKE in progress, its
 * encrypted session, SMP, and the unauthenticated early data kept for it — as plain data, with its state in the
 * spec's terms and its persistence value. The conversation (conversation.ts) decides what happens to it.
 */
import type { BudgetHolder } from '../shared-budget.js';
import type { ConversationState, OtrEvent } from './events.js';
import { expect, type StateValue } from './state-codec.js';
import { dakeFromValue, dakeToValue, ratchetFromValue, ratchetToValue, profileFromValue, type EncodedPeerKeys } from './persist.js';
import { OtrDecodeError } from '../errors.js';
import type { Limits } from '../limits.js';
import type { CryptoBackend } from '../backend/types.js';
import { isValidSenderTag } from '../instance-tag.js';
import { DAKE_IDLE, type DakeState } from '../ake/interactive.js';
import { restoreWithinLimits, type RatchetState } from '../ratchet/index.js';
import { initialSmpState, type SmpState } from '../smp/state.js';
import { decodeSmpState, encodeSmpState } from '../smp/persist.js';
import type { ClientProfile } from '../profile/client-profile.js';
import { evictionOrder, mostInstancesHeld, type EvictionFields } from './instance-eviction.js';
import { wipeState } from '../v3/conversation.js';

/** Per remote instance: the DAKE in progress (if any), the encrypted session (if any), and SMP. */
export interface Instance {
  readonly peerTag: number;
  dake: DakeState;
  ratchet: RatchetState | null;
  /** The peer ended the session (TLV 1) or it expired: nothing is sent until a new DAKE. */
  finished: boolean;
  ssid: Uint8Array | null;
  peerProfile: ClientProfile | null;
  smp: SmpState;
  /** When we last sent a data message (heartbeats). */
  lastSentAt: number;
  /** When a new ECDH key last entered the ratchet (session expiration, otrv4.md §Session Expiration). */
  lastKeyAt: number;
  /**
   * Data messages that arrived while we awaited Auth-I: they may have overtaken it. The peer has not
   * authenticated, so they are bounded (limits.maxEarlyDataMessages/maxEarlyDataBytes), aged
   * (policy.earlyDataRetentionMs) and kept in memory only: never persisted.
   */
  early: { bytes: Uint8Array; at: number }[];
  /** Bytes held in `early`. */
  earlyBytes: number;
  /** `early` as a holder of the account's early-data budget (limits.maxAccountEarlyDataBytes); made on first use. */
  earlyHolder: BudgetHolder | null;
  /** When the pending DAKE (awaiting Auth-I) began; it is protected from eviction for limits.pendingDakeProtectMs. */
  pendingSince: number;
  /** The ratchet's peer keys as its record writes them, kept between records (persist.ts writeRatchetKept); not persisted. */
  encodedPeerKeys: EncodedPeerKeys | null;
}

export function newInstance(peerTag: number): Instance {
  return { peerTag, dake: DAKE_IDLE, ratchet: null, finished: false, ssid: null, peerProfile: null, smp: initialSmpState(), lastSentAt: 0, lastKeyAt: 0, early: [], earlyBytes: 0, earlyHolder: null, pendingSince: 0, encodedPeerKeys: null };
}

export function instanceState(inst: Instance): ConversationState {
  if (inst.finished) return 'FINISHED';
  if (inst.ratchet) return 'ENCRYPTED_MESSAGES';
  if (inst.dake.kind === 'awaiting-auth-r') return 'WAITING_AUTH_R';
  if (inst.dake.kind === 'awaiting-auth-i') return 'WAITING_AUTH_I';
  return 'START';
}

/**
 * Conversation.prefetch's part for one instance: the lengths of the arrays its next send or receive and its
 * record read, and the objects that hold them — loads that do not depend on one another, so their cache misses
 * overlap. Lengths only: no secret byte is read here. The sum means nothing.
 */
export function prefetchInstance(i: Instance): number {
  let n = i.early.length + i.dake.kind.length + i.smp.phase.length;
  if (i.ssid !== null) n += i.ssid.length;
  if (i.peerProfile !== null) n += i.peerProfile.encoded.length;
  if (i.encodedPeerKeys !== null) n += i.encodedPeerKeys.bytes.length;
  const s = i.ratchet;
  if (s !== null) {
    n += s.rootKey.length + s.braceKey.length + s.macKeysToReveal.length + s.skipped.length;
    n += s.ourDh.public.length + s.ourEcdh.public.length;
    if (s.ourDh.secret !== null) n += s.ourDh.secret.length;
    if (s.ourEcdh.secret !== null) n += s.ourEcdh.secret.length;
    if (s.sendChain !== null) n += s.sendChain.length;
    if (s.recvChain !== null) n += s.recvChain.length;
  }
  return n;
}

export function instanceToValue(i: Instance): StateValue {
  return {
    peerTag: i.peerTag,
    dake: dakeToValue(i.dake),
    ratchet: i.ratchet ? ratchetToValue(i.ratchet) : null,
    finished: i.finished,
    ssid: i.ssid,
    peerProfile: i.peerProfile ? i.peerProfile.encoded : null,
    smp: encodeSmpState(i.smp),
    lastSentAt: i.lastSentAt,
    lastKeyAt: i.lastKeyAt,
    pendingSince: i.pendingSince,
    // Early data messages (i.early) come from a peer that has not authenticated: never persisted.
  };
}

/** What the eviction ranking reads of a live instance. */
export function liveEvictionFields(i: Instance): EvictionFields {
  return { peerTag: i.peerTag, hasSession: i.ratchet !== null, finished: i.finished, lastKeyAt: i.lastKeyAt };
}

/**
 * The same fields read from an instance's record, checked, before anything costly in it is (instanceFromValue
 * checks the rest, for the kept instances only).
 */
function recordEvictionFields(v: StateValue): EvictionFields {
  const r = expect.record(v, 'instance');
  const peerTag = expect.uint(r.peerTag, 'peerTag', 0xffffffff);
  if (!isValidSenderTag(peerTag)) throw new OtrDecodeError('state: bad instance tag');
  return { peerTag, hasSession: r.ratchet !== null && r.ratchet !== undefined, finished: expect.boolean(r.finished, 'finished'), lastKeyAt: expect.number(r.lastKeyAt, 'lastKeyAt') };
}

/**
 * The instances of a conversation record the live bound lets it hold under `limit` (a record written under a
 * higher one holds more), in record order: those admit() would have kept (evictionOrder, the same ranking), the
 * others wiped (their keys are secrets) and counted. Linear in the record's instances, whose number its byte
 * bound limits; a tag twice is refused, whether kept or not.
 */
export function instancesWithinLimit(list: readonly StateValue[], current: number, limit: number): { kept: StateValue[]; dropped: number } {
  const fields = list.map(recordEvictionFields);
  const tags = new Set<number>();
  for (const f of fields) {
    if (tags.has(f.peerTag)) throw new OtrDecodeError('state: duplicated instance');
    tags.add(f.peerTag);
  }
  const over = list.length - mostInstancesHeld(limit, tags.has(current));
  if (over <= 0) return { kept: [...list], dropped: 0 };
  const gone = new Set(evictionOrder(fields.keys(), current, (n) => fields[n]!).slice(0, over));
  const kept: StateValue[] = [];
  list.forEach((v, n) => (gone.has(n) ? wipeState(v) : kept.push(v)));
  return { kept, dropped: gone.size };
}

/**
 * A restored instance. Its ratchet is brought within the account's limits as the library would have kept it
 * (a record written under higher maxStoredMessageKeys / maxMacKeysToReveal: restoreWithinLimits), with a
 * `state-trimmed` event in `trimmed` for each kind of key dropped. The SMP question of an exchange in progress
 * is bounded by the record's bytes only: the library accepted it under the limit of its day and cannot shorten
 * it, and refusing it lost the account when maxSmpQuestionBytes was lowered (session 15).
 */
export function instanceFromValue(
  b: CryptoBackend,
  v: StateValue,
  limits: Pick<Limits, 'maxStoredMessageKeys' | 'maxMacKeysToReveal'>,
  now: number,
  trimmed: OtrEvent[],
): Instance {
  const r = expect.record(v, 'instance');
  const peerTag = expect.uint(r.peerTag, 'peerTag', 0xffffffff);
  if (!isValidSenderTag(peerTag)) throw new OtrDecodeError('state: bad instance tag');
  const smp = expect.bytes(r.smp, 'smp');
  return {
    peerTag,
    dake: dakeFromValue(b, r.dake),
    ratchet: r.ratchet === null || r.ratchet === undefined ? null : ratchetWithinLimits(b, ratchetFromValue(b, r.ratchet), peerTag, limits, trimmed),
    finished: expect.boolean(r.finished, 'finished'),
    ssid: expect.optionalBytes(r.ssid, 'ssid', 8) ?? null,
    peerProfile: r.peerProfile === null || r.peerProfile === undefined ? null : profileFromValue(r.peerProfile, 'peerProfile'),
    smp: decodeSmpState(smp, smp.length),
    lastSentAt: expect.number(r.lastSentAt, 'lastSentAt'),
    lastKeyAt: expect.number(r.lastKeyAt, 'lastKeyAt'),
    // States written before early data stopped being persisted may hold some: dropped (never trusted).
    early: [],
    earlyBytes: 0,
    earlyHolder: null,
    // When the pending DAKE began (eviction protection and expiry); older states without it count from the restore.
    pendingSince: r.pendingSince === undefined ? now : expect.number(r.pendingSince, 'pendingSince'),
    encodedPeerKeys: null,
  };
}

function ratchetWithinLimits(
  b: CryptoBackend,
  restored: RatchetState,
  peerTag: number,
  limits: Pick<Limits, 'maxStoredMessageKeys' | 'maxMacKeysToReveal'>,
  trimmed: OtrEvent[],
): RatchetState {
  const fit = restoreWithinLimits(b, restored, limits);
  if (fit.skippedDropped > 0) trimmed.push({ type: 'state-trimmed', instance: peerTag, what: 'skipped-keys', count: fit.skippedDropped });
  if (fit.macKeysDropped > 0) trimmed.push({ type: 'state-trimmed', instance: peerTag, what: 'mac-keys', count: fit.macKeysDropped });
  return fit.state;
}
