/**
 * Receiving a data message (otrv4.md §When you receive a Data Message, §Deletion of Stored Message Keys;
 * interpretations.md §6, §11).
 *
 *   const msg = decodeDataMessage(bytes);                  // wire/data.ts (structure only)
 *   // the session checks msg.receiverTag / msg.senderTag / flags, then:
 *   const { state, plaintext, esk } = decryptDataMessage(b, state, msg, { now: Date.now(), limits });
 *
 * On success persist the returned `state` (the old one is consumed: its replaced secrets are wiped) and wipe
 * `esk` after deriving any per-TLV keys (esk.ts). On failure a typed OtrError is thrown and the given state
 * is left exactly as it was (nothing is committed before the authenticator verifies):
 *   - OtrDecodeError: DH key present/absent against the ratchet id, or a first-of-chain message without
 *     revealed MAC keys (both implementations require these);
 *   - OtrCryptoError BAD_MAC: authenticator mismatch; INVALID_POINT / INVALID_DH_VALUE: a bad new ratchet key;
 *   - OtrStateError: a future ratchet, a new ratchet when none is due, a replayed/duplicate message, a
 *     message whose key was deleted or never existed, or keys that do not match the receiving chain;
 *   - OtrLimitError: the message would make us skip more than `maxSkip` message keys.
 *
 * Where the message key comes from, in order: a stored skipped key for (ratchet id, message id, ECDH key);
 * a new ratchet (ratchet id == i, allowed only when no sending step is due), done speculatively; or the
 * current receiving chain (ratchet id == the chain's id), fast-forwarded to the message id. Skipped keys are
 * stored on the way (bounded by maxSkip per message and maxStoredMessageKeys in total, oldest dropped), keys
 * older than maxStoredMessageKeyAgeMs are dropped, and the MAC key of every used or dropped key is queued for
 * revealing in our next new sending chain.
 */
import type { CryptoBackend } from '../backend/types.js';
import { ecdhReceived } from '../crypto/ecdh.js';
import { dhSharedSecretValidated } from '../crypto/dh.js';
import { validDhPublic, type ValidDhPublic } from '../crypto/validated.js';
import { copyBytes, equalBytes, wipe } from '../bytes.js';
import { OtrArgumentError, OtrDecodeError, OtrLimitError, OtrStateError } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { MAC_BYTES } from '../codec/primitives.js';
import type { DataMessage } from '../wire/data.js';
import {
  authenticatorMatches,
  badMac,
  braceKeyFromDh,
  chachaXor,
  deriveRatchetKeys,
  extraSymmetricKey,
  messageEncKey,
  messageMacKey,
  mixedSecret,
  nextBraceKey,
  nextChainKey,
  openMessage,
} from './keys.js';
import type { OpenedDataMessage } from '../backend/types.js';
import { addSkipped, anyExpired, expireSkipped, findSkipped, NO_SKIPPED_KEYS, removeSkipped, type SkippedKey } from './skipped.js';
import { isDhStep, MAX_RATCHET_COUNTER, wipeRatchetState, type RatchetState } from './state.js';
import { appendMacKey, dropOldestMacKeys, joinMacKeys, macKeyCount, macKeysFrom } from './mac-queue.js';
import { carriesExtraKeyTlv } from './esk.js';

export type RatchetLimits = Pick<Limits, 'maxSkip' | 'maxStoredMessageKeys' | 'maxStoredMessageKeyAgeMs' | 'maxMacKeysToReveal'>;

export interface ReceiveOptions {
  /** The injected clock, in milliseconds (stamps stored keys and expires old ones). */
  readonly now: number;
  readonly limits?: RatchetLimits;
  /** Derive the extra symmetric key: default only when the plaintext carries a type-7 TLV. */
  readonly extraKey?: boolean;
  /**
   * The caller reads the plaintext at once and wipes it (the session decodes its text and wipes it before
   * anything else runs): it may then be a view of a buffer the next such receive reuses, one allocation
   * fewer per message. Other callers get an array of their own, as by default.
   */
  readonly transientPlaintext?: boolean;
}

/**
 * Where the fused open puts the next chain key and MKmac (keys.ts openMessage's `into`): the chain key is
 * copied into the state's chain-key array at commit and MKmac into the MAC-key queue (queueReveals), each then
 * wiped. Receiving is synchronous, so one pair of places serves every receive — except a receive nested in
 * another (a backend that calls out, e.g. one wrapped by the host, receiving from there between the open and
 * those copies): receivesUnderWay gives the nested one arrays of its own.
 */
const NEXT_CHAIN = new Uint8Array(64);
const MAC_PLACE = new Uint8Array(64);
const OPEN_INTO = { next: NEXT_CHAIN, mac: MAC_PLACE };
/** Plaintexts up to this many bytes go into the reused buffer of a `transientPlaintext` receive. */
const TRANSIENT_PLAINTEXT_BYTES = 16384;
let openTransient: { next: Uint8Array; mac: Uint8Array; plaintext: Uint8Array } | undefined;
/** Receives in progress on this thread (more than one only when a callback receives from inside a receive). */
let receivesUnderWay = 0;

/** @internal For tests: the open's reused places (zero between receives; the plaintext's once the caller wiped it). */
export function openPlacesForTests(): readonly Uint8Array[] {
  return openTransient ? [NEXT_CHAIN, MAC_PLACE, openTransient.plaintext] : [NEXT_CHAIN, MAC_PLACE];
}

function openInto(opts: ReceiveOptions): { next: Uint8Array; mac: Uint8Array; plaintext?: Uint8Array } | undefined {
  if (receivesUnderWay > 1) return undefined; // nested: the outer receive's data is in the places
  if (opts.transientPlaintext !== true) return OPEN_INTO;
  return (openTransient ??= { next: NEXT_CHAIN, mac: MAC_PLACE, plaintext: new Uint8Array(TRANSIENT_PLAINTEXT_BYTES) });
}

/** A decoded data message and the bytes its authenticator covers (wire/data.ts `DecodedDataMessage`). */
export type ReceivedDataMessage = DataMessage & { readonly authenticated: Uint8Array };

export interface ReceiveResult {
  readonly state: RatchetState;
  /** The decrypted `message [0x00 TLV*]` bytes. */
  readonly plaintext: Uint8Array;
  /** The message's base extra symmetric key (64 bytes), or null when not derived. The caller wipes it. */
  readonly esk: Uint8Array | null;
  /** How the key was found: from the skipped-key store, a new ratchet, or the current chain. */
  readonly source: 'skipped' | 'new-ratchet' | 'chain';
}

/**
 * Advances `chain` (at index `from`) to index `to`, returning the keys of the messages in between as store
 * entries and the chain key at `to`. Never wipes `chain` itself; wipes every intermediate chain key.
 */
function skipAhead(
  b: CryptoBackend,
  chain: Uint8Array,
  from: number,
  to: number,
  ratchetId: number,
  theirEcdh: Uint8Array,
  now: number,
): { entries: readonly SkippedKey[]; chain: Uint8Array } {
  // The usual message is the next one on its chain: nothing skipped, no array.
  if (from >= to) return { entries: NO_SKIPPED_KEYS, chain };
  const entries: SkippedKey[] = [];
  let ck = chain;
  for (let n = from; n < to; n++) {
    entries.push({ ratchetId, messageId: n, theirEcdh, mkEnc: messageEncKey(b, ck), esk: extraSymmetricKey(b, ck), storedAt: now });
    const next = nextChainKey(b, ck);
    if (ck !== chain) wipe(ck);
    ck = next;
  }
  return { entries, chain: ck };
}

/** Both lists of dropped entries; almost always both are empty, and then no new array is made. */
function joinDropped(a: readonly SkippedKey[], b: readonly SkippedKey[]): readonly SkippedKey[] {
  if (b.length === 0) return a;
  return a.length === 0 ? b : a.concat(b);
}

function wipeEntries(entries: readonly SkippedKey[]): void {
  for (const e of entries) wipe(e.mkEnc, e.esk);
}

/**
 * Appends the MAC keys of dropped store entries, then `used`, to the queue, keeping at most `cap` (oldest
 * dropped). Called only once the message is authenticated: a successful receive consumes the old state, whose
 * queue buffer the new state takes over and extends in place (mac-queue.ts: amortised O(1) per key; one-way
 * traffic would otherwise copy up to `cap` keys per message). The keys appended are copied: `used` and the
 * derived keys are wiped here.
 */
function queueReveals(b: CryptoBackend, queued: Uint8Array, used: Uint8Array | null, dropped: readonly SkippedKey[], cap: number): Uint8Array {
  const limit = Math.max(1, cap);
  const adding = dropped.length + (used ? 1 : 0);
  // Of the keys added, only the newest `limit` can stay queued (below): the MAC keys of older dropped entries
  // would be wiped at once, so they are not derived. Bounds the work of a store trimmed by far more than the
  // cap (a record restored under a lower maxStoredMessageKeys: restoreWithinLimits) by the cap; the same queue
  // results.
  let out = queued;
  for (let n = Math.max(0, adding - limit); n < dropped.length; n++) {
    const mac = messageMacKey(b, dropped[n]!.mkEnc);
    out = appendMacKey(out, mac);
    wipe(mac);
  }
  if (used) {
    out = appendMacKey(out, used);
    wipe(used);
  }
  // A peer sending without ever reading ours must not grow this without bound: the oldest keys are wiped
  // unrevealed instead (that only makes those messages less forgeable, never less secure). Trimming to 3/4
  // of the cap at a time keeps the cost per message constant. (The count that decides is the whole one, the
  // keys not derived above included.)
  if (macKeyCount(queued) + adding > limit) out = dropOldestMacKeys(out, macKeyCount(out) - Math.max(1, Math.floor((limit * 3) / 4)));
  return out;
}

function checkStructure(msg: ReceivedDataMessage): void {
  if ((msg.dh.length > 0) !== isDhStep(msg.ratchetId))
    throw new OtrDecodeError('DH key must be present exactly when the ratchet id is a multiple of 3');
  if (msg.ratchetId > 0 && msg.messageId === 0 && msg.revealedMacs.length < MAC_BYTES)
    throw new OtrDecodeError('the first message of a ratchet must reveal MAC keys');
}

/** A stored message key verified and used: decrypts, or throws BAD_MAC (wiping `mkMac`). */
function openWith(b: CryptoBackend, msg: ReceivedDataMessage, mkEnc: Uint8Array, mkMac: Uint8Array): Uint8Array {
  if (!authenticatorMatches(b, mkMac, msg.authenticated, msg.authenticator)) {
    wipe(mkMac);
    throw badMac();
  }
  return chachaXor(b, mkEnc, msg.ciphertext);
}

export function decryptDataMessage(b: CryptoBackend, state: RatchetState, msg: ReceivedDataMessage, opts: ReceiveOptions): ReceiveResult {
  receivesUnderWay++;
  try {
    return decryptOnce(b, state, msg, opts);
  } finally {
    receivesUnderWay--;
  }
}

function decryptOnce(b: CryptoBackend, state: RatchetState, msg: ReceivedDataMessage, opts: ReceiveOptions): ReceiveResult {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const now = opts.now;
  if (!Number.isFinite(now)) throw new OtrArgumentError('now must be a finite number of milliseconds');
  checkStructure(msg);
  const aged = expireSkipped(state.skipped, now, limits.maxStoredMessageKeyAgeMs);

  // 1. A stored skipped key (a late or out-of-order message): used once, then deleted.
  const idx = findSkipped(aged.store, msg.ratchetId, msg.messageId, msg.ecdh);
  if (idx >= 0) {
    const entry = aged.store[idx]!;
    const mkMac = messageMacKey(b, entry.mkEnc);
    const plaintext = openWith(b, msg, entry.mkEnc, mkMac);
    const next: RatchetState = {
      i: state.i,
      j: state.j,
      k: state.k,
      pn: state.pn,
      rootKey: state.rootKey,
      sendChain: state.sendChain,
      recvChain: state.recvChain,
      recvRatchetId: state.recvRatchetId,
      sendingStepDue: state.sendingStepDue,
      ourEcdh: state.ourEcdh,
      ourDh: state.ourDh,
      theirEcdh: state.theirEcdh,
      theirDh: state.theirDh,
      braceKey: state.braceKey,
      macKeysToReveal: queueReveals(b, state.macKeysToReveal, mkMac, aged.dropped, limits.maxMacKeysToReveal),
      skipped: removeSkipped(aged.store, idx),
    };
    const wantEsk = opts.extraKey ?? carriesExtraKeyTlv(plaintext);
    wipe(entry.mkEnc, wantEsk ? undefined : entry.esk);
    wipeEntries(aged.dropped);
    return { state: next, plaintext, esk: wantEsk ? entry.esk : null, source: 'skipped' };
  }

  if (msg.ratchetId > state.i) throw new OtrStateError('data message from a ratchet that cannot exist yet');
  // The peer's next ratchet has id i — unless i is our current receiving ratchet already (Bob after the DAKE,
  // his first sending step still due: Alice's ratchet 0 is his receiving chain; state.ts firstSendingStepDue).
  if (msg.ratchetId === state.i && state.recvRatchetId !== state.i) return receiveNewRatchet(b, state, msg, aged, opts);
  return receiveOnChain(b, state, msg, aged, opts);
}

type Aged = { store: readonly SkippedKey[]; dropped: readonly SkippedKey[] };

/** The peer's next ratchet: a receiver step (speculative until the MAC verifies). */
function receiveNewRatchet(b: CryptoBackend, s: RatchetState, msg: ReceivedDataMessage, aged: Aged, opts: ReceiveOptions): ReceiveResult {
  const { now } = opts;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  if (s.sendingStepDue || s.ourEcdh.secret === null)
    throw new OtrStateError('new ratchet received before we started ours (replay or out-of-protocol message)');
  // i + 1 must stay a counter a restore accepts (state.ts MAX_RATCHET_COUNTER); checked before any work.
  if (s.i >= MAX_RATCHET_COUNTER) throw new OtrLimitError('ratchet counter at its bound: no further ratchet can be received');
  const oldSkip = s.recvChain ? Math.max(0, msg.previousChainLength - s.k) : 0;
  if (oldSkip + msg.messageId > limits.maxSkip)
    throw new OtrLimitError(`message would skip ${oldSkip + msg.messageId} message keys (max ${limits.maxSkip})`);

  const dhStep = isDhStep(s.i);
  let oldTail: { entries: readonly SkippedKey[]; chain: Uint8Array } | undefined;
  let kEcdh: Uint8Array | undefined;
  let kDh: Uint8Array | undefined;
  let braceKey: Uint8Array | undefined;
  let k: Uint8Array | undefined;
  let derived: { root: Uint8Array; chain: Uint8Array } | undefined;
  let ahead: { entries: readonly SkippedKey[]; chain: Uint8Array } | undefined;
  let opened: OpenedDataMessage | undefined;
  let committed = false;
  try {
    // Keys of the previous receiving chain's messages that have not arrived (up to the sender's pn).
    if (s.recvChain) oldTail = skipAhead(b, s.recvChain, s.k, s.k + oldSkip, s.recvRatchetId, s.theirEcdh, now);
    // The peer's new keys are validated here, once: the state keeps them marked (state.ts), so our next
    // sending step does not check them again.
    // One backend call checks the key and multiplies (one decoding of the point where the backend fuses them).
    // The decoder's ECDH key is a view of the received bytes (wire/data.ts): the state and the skipped keys
    // of this chain keep a copy.
    const theirEcdhCopy = copyBytes(msg.ecdh);
    const received = ecdhReceived(b, s.ourEcdh.secret, theirEcdhCopy, 'ECDH public key');
    kEcdh = received.shared;
    const theirEcdh = received.theirPublic;
    let theirDh: ValidDhPublic = s.theirDh;
    if (dhStep) {
      if (s.ourDh.secret === null) throw new OtrStateError('DH ratchet due but our DH secret is gone');
      // The decoder's DH key is a view of the received bytes (wire/data.ts): the state keeps a copy.
      theirDh = validDhPublic(b, copyBytes(msg.dh));
      kDh = dhSharedSecretValidated(b, s.ourDh.secret, theirDh);
      braceKey = braceKeyFromDh(b, kDh);
    } else {
      braceKey = nextBraceKey(b, s.braceKey);
    }
    k = mixedSecret(b, kEcdh, braceKey);
    derived = deriveRatchetKeys(b, s.rootKey, k);
    ahead = skipAhead(b, derived.chain, 0, msg.messageId, msg.ratchetId, theirEcdh, now);
    // The message's keys, authenticator check and decryption (one backend call where it fuses them).
    opened = openMessage(b, ahead.chain, msg, openInto(opts));
    const { plaintext } = opened;
    const esk = (opts.extraKey ?? carriesExtraKeyTlv(plaintext)) ? extraSymmetricKey(b, ahead.chain) : null;

    const added = oldTail ? oldTail.entries.concat(ahead.entries) : ahead.entries;
    const stored = addSkipped(aged.store, added, limits.maxStoredMessageKeys);
    const dropped = joinDropped(aged.dropped, stored.dropped);
    // Every field written out, not `{ ...s, … }` (V8's slow path for spreading this object: send.ts), in the
    // order of every other state literal so all states share one object shape.
    const next: RatchetState = {
      i: s.i + 1,
      j: s.j,
      k: msg.messageId + 1,
      pn: s.pn,
      rootKey: derived.root,
      sendChain: null,
      // A new chain: its key gets an array of its own (opened.next may be the shared place, wiped below).
      recvChain: copyBytes(opened.next),
      recvRatchetId: msg.ratchetId,
      sendingStepDue: true,
      // The receiver step deletes our ECDH secret (and our DH secret on a DH step): our next step is a
      // sending step, which makes new ones.
      ourEcdh: { secret: null, public: s.ourEcdh.public },
      ourDh: dhStep ? { secret: null, public: s.ourDh.public } : s.ourDh,
      theirEcdh,
      theirDh,
      braceKey,
      macKeysToReveal: queueReveals(b, s.macKeysToReveal, opened.mkMac, dropped, limits.maxMacKeysToReveal),
      skipped: stored.store,
    };
    committed = true;
    wipe(opened.next, s.recvChain, s.rootKey, s.braceKey, s.sendChain, s.ourEcdh.secret, dhStep ? s.ourDh.secret : undefined);
    wipeEntries(dropped);
    return { state: next, plaintext, esk, source: 'new-ratchet' };
  } finally {
    wipe(kEcdh, kDh, k);
    if (oldTail && oldTail.chain !== s.recvChain) wipe(oldTail.chain);
    if (ahead && derived && ahead.chain !== derived.chain) wipe(ahead.chain);
    if (!committed) {
      wipe(braceKey, derived?.root, derived?.chain);
      if (oldTail) wipeEntries(oldTail.entries);
      if (ahead) wipeEntries(ahead.entries);
      if (opened) wipe(opened.mkMac, opened.next, opened.plaintext);
    } else if (derived) wipe(derived.chain);
  }
}

/** A message on the current receiving chain: fast-forward to its message id. */
function receiveOnChain(b: CryptoBackend, s: RatchetState, msg: ReceivedDataMessage, aged: Aged, opts: ReceiveOptions): ReceiveResult {
  const { now } = opts;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const recvChain = s.recvChain;
  if (recvChain === null || msg.ratchetId !== s.recvRatchetId)
    throw new OtrStateError('no key for this message (deleted, already used, or never derived)');
  if (!equalBytes(msg.ecdh, s.theirEcdh) || (msg.dh.length > 0 && !equalBytes(msg.dh, s.theirDh)))
    throw new OtrStateError('data message keys do not match the receiving chain');
  if (msg.messageId < s.k) throw new OtrStateError('duplicate or replayed data message');
  // k becomes messageId + 1, which must stay a counter a restore accepts (state.ts MAX_RATCHET_COUNTER).
  if (msg.messageId >= MAX_RATCHET_COUNTER) throw new OtrLimitError('message id at its bound: the next state could not be restored');
  const skip = msg.messageId - s.k;
  if (skip > limits.maxSkip) throw new OtrLimitError(`message would skip ${skip} message keys (max ${limits.maxSkip})`);

  const ahead = skipAhead(b, recvChain, s.k, msg.messageId, s.recvRatchetId, s.theirEcdh, now);
  let opened: OpenedDataMessage | undefined;
  let committed = false;
  try {
    // The message's keys, authenticator check and decryption (one backend call where it fuses them).
    opened = openMessage(b, ahead.chain, msg, openInto(opts));
    const { plaintext } = opened;
    const esk = (opts.extraKey ?? carriesExtraKeyTlv(plaintext)) ? extraSymmetricKey(b, ahead.chain) : null;
    const stored = addSkipped(aged.store, ahead.entries, limits.maxStoredMessageKeys);
    const dropped = joinDropped(aged.dropped, stored.dropped);
    // Every field written out, not `{ ...s, k, … }` (send.ts says why: ~1.3 µs per spread of a state).
    const next: RatchetState = {
      i: s.i,
      j: s.j,
      k: msg.messageId + 1,
      pn: s.pn,
      rootKey: s.rootKey,
      sendChain: s.sendChain,
      // The chain key advances in place (below): the consumed state's array, whose old key is wiped anyway.
      recvChain,
      recvRatchetId: s.recvRatchetId,
      sendingStepDue: s.sendingStepDue,
      ourEcdh: s.ourEcdh,
      ourDh: s.ourDh,
      theirEcdh: s.theirEcdh,
      theirDh: s.theirDh,
      braceKey: s.braceKey,
      macKeysToReveal: queueReveals(b, s.macKeysToReveal, opened.mkMac, dropped, limits.maxMacKeysToReveal),
      skipped: stored.store,
    };
    committed = true;
    // The given state's chain key changes only here, once nothing can fail.
    recvChain.set(opened.next);
    wipe(opened.next);
    wipeEntries(dropped);
    return { state: next, plaintext, esk, source: 'chain' };
  } finally {
    if (ahead.chain !== recvChain) wipe(ahead.chain);
    if (!committed) {
      wipeEntries(ahead.entries);
      if (opened) wipe(opened.mkMac, opened.next, opened.plaintext);
    }
  }
}

/**
 * Drops skipped keys older than maxStoredMessageKeyAgeMs (for a host timer; receives do it too) and queues
 * their MAC keys for revealing. Returns the same state object when nothing expired.
 */
export function expireSkippedKeys(b: CryptoBackend, state: RatchetState, now: number, limits: RatchetLimits = DEFAULT_LIMITS): RatchetState {
  // The session asks this on every send and receive: nothing is allocated when nothing expired.
  if (!anyExpired(state.skipped, now, limits.maxStoredMessageKeyAgeMs)) return state;
  const aged = expireSkipped(state.skipped, now, limits.maxStoredMessageKeyAgeMs);
  const reveals = queueReveals(b, state.macKeysToReveal, null, aged.dropped, limits.maxMacKeysToReveal);
  wipeEntries(aged.dropped);
  return { ...state, skipped: aged.store, macKeysToReveal: reveals };
}

/**
 * A restored ratchet within `limits`, when the record was written under higher ones (a host that lowered
 * maxStoredMessageKeys or maxMacKeysToReveal): what the library would have kept had the lower limits applied
 * when the entries came — the oldest stored skipped keys beyond maxStoredMessageKeys dropped as an overflowing
 * store drops them (addSkipped), their MAC keys queued for revealing, the queue then bounded as every receive
 * bounds it (queueReveals). The dropped keys are wiped. Returns the same state object, and zero counts, when it
 * fits already (session 15, docs/persistence.md).
 */
export function restoreWithinLimits(
  b: CryptoBackend,
  state: RatchetState,
  limits: Pick<RatchetLimits, 'maxStoredMessageKeys' | 'maxMacKeysToReveal'>,
): { state: RatchetState; skippedDropped: number; macKeysDropped: number } {
  const stored = addSkipped(state.skipped, NO_SKIPPED_KEYS, limits.maxStoredMessageKeys);
  const offered = macKeyCount(state.macKeysToReveal) + stored.dropped.length;
  if (offered <= Math.max(1, limits.maxMacKeysToReveal) && stored.dropped.length === 0) return { state, skippedDropped: 0, macKeysDropped: 0 };
  const queue = queueReveals(b, state.macKeysToReveal, null, stored.dropped, limits.maxMacKeysToReveal);
  wipeEntries(stored.dropped);
  return {
    state: { ...state, skipped: stored.store, macKeysToReveal: queue },
    skippedDropped: stored.dropped.length,
    macKeysDropped: offered - macKeyCount(queue),
  };
}

/**
 * The MAC keys `old` — a session that ends without publishing them — still had to reveal, as an owned queue:
 * those of the messages it read and not yet revealed, then those of its stored skipped keys, derived as when a
 * store is deleted (otrv4.md §Revealing MAC Keys, §Session Expiration). MAC keys only: they authenticate
 * messages of a session that no longer exists, so none of them can make us accept anything; no encryption or
 * chain key leaves `old`, which is wiped. Two users: a new DAKE replacing a live session (inheritMacKeys), and
 * a session ended by the peer's disconnect or dropped after a rollback, whose keys the conversation keeps for
 * its next session (session/conversation.ts endedMacKeys; docs/security.md [s15-deny]).
 */
export function retireMacKeys(b: CryptoBackend, old: RatchetState): Uint8Array {
  const queue = queueReveals(b, macKeysFrom(old.macKeysToReveal), null, old.skipped, Number.MAX_SAFE_INTEGER);
  wipeRatchetState(old);
  return queue;
}

/**
 * `next` (a new session's state) with `kept` — MAC keys of sessions that ended unpublished, an owned queue
 * (retireMacKeys) — queued ahead of its own: its next revealing message (or its disconnect) publishes them. The
 * peer ignores revealed keys it does not know (the field is not checked), so nothing changes for it. Consumes
 * both: `kept` and `next`'s queue go into the returned state's. At most `limits.maxMacKeysToReveal` stay
 * (oldest dropped, as always).
 */
export function withMacKeysAhead(next: RatchetState, kept: Uint8Array, limits: RatchetLimits = DEFAULT_LIMITS): RatchetState {
  return { ...next, macKeysToReveal: joinMacKeys(kept, next.macKeysToReveal, limits.maxMacKeysToReveal) };
}

/**
 * `next` — a new session's state that replaces `old` on the same instance (a new DAKE completed while `old`
 * was up) — with `old`'s MAC keys to reveal queued before its own (retireMacKeys). The old session cannot send
 * them (its keys are about to be wiped, and the peer has replaced its side too: a message under them would be
 * unreadable), so the new session's next revealing message carries them; otherwise Alice's last messages of
 * the old session would stay authenticated under keys nobody ever published — not forgeable by third parties
 * (docs/security.md, session 14 [s14-deny]). Consumes both: `old` is wiped.
 */
export function inheritMacKeys(b: CryptoBackend, old: RatchetState, next: RatchetState, limits: RatchetLimits = DEFAULT_LIMITS): RatchetState {
  return withMacKeysAhead(next, retireMacKeys(b, old), limits);
}
