/**
 * Per-record persistence of an account (issue 12: bridge-grade state). An account's state is a set of
 * records: `account` (keys, client profile, instance tag, prekey owner state, fingerprints last seen) and one
 * `conv:<peer id>` per conversation. Each record has a generation that grows by one with every change the
 * account hands out, so a store can compare-and-set (ts/store/types.ts) and a stale copy is refused.
 *
 * This module keeps the book: which generation each record is at, what each conversation's record held when
 * last handed out (a call that changes nothing — an ignored forged message — produces no write), which
 * conversations are still undecoded bytes (lazy restore: a conversation is decoded when first used), and
 * which records were deleted (`forget`). `RecordBook.flush` turns that into the `RecordChange[]` of one call:
 * the records that call changed, each encoded alone, so saving after a message costs O(that conversation)
 * whatever the number of conversations.
 *
 * Size: a conversation's record is bounded by `limits.maxConversationStateBytes`. Over it, the conversation
 * sheds its least valuable state first (unauthenticated pending DAKEs, then the oldest stored skipped keys,
 * then unrevealed MAC keys, then queued user messages, then SMP exchanges in progress, last its sessions), each
 * with a `state-trimmed` event; what stays always decodes again (never written bigger than restore accepts), and
 * one conversation's size never stops the account's other records from being handed out. Events of trimming a
 * flush hands out with no outcome of that conversation (changes(), another's call) wait for one (`untold`).
 *
 * Below the account (imports the conversation only as a type): no import cycle.
 */
import { ACCOUNT_RECORD, CONVERSATION_RECORD_PREFIX, type RecordChange } from '../store/types.js';
import { OtrDecodeError, OtrLimitError, OtrStateError } from '../errors.js';
import { copyBytes, equalBytes, wipe } from '../bytes.js';
import { interned } from '../interned.js';
import type { Limits } from '../limits.js';
import { decodeState, encodeState, expect, putString, schema, withWrittenState, type StateValue } from './state-codec.js';
import type { Conversation } from './conversation.js';
import type { OtrEvent, Outcome } from './events.js';

export { ACCOUNT_RECORD, CONVERSATION_RECORD_PREFIX };

const CONVERSATION_RECORD_KIND = 'conversation';

/** The record key of the conversation with `peer`: one shared string per key (ts/interned.ts). */
export function conversationKey(peer: string): string {
  return interned(CONVERSATION_RECORD_PREFIX + peer);
}

/** The peer of a conversation record key, or undefined for any other key. */
export function peerOfKey(key: string): string | undefined {
  return key.startsWith(CONVERSATION_RECORD_PREFIX) && key.length > CONVERSATION_RECORD_PREFIX.length ? key.slice(CONVERSATION_RECORD_PREFIX.length) : undefined;
}

/** One conversation's record: the peer id (checked against the record key on restore) and its state. */
export function encodeConversationRecord(peer: string, state: StateValue): Uint8Array {
  return encodeState(CONVERSATION_RECORD_KIND, { peer, state });
}

/** The state value of a conversation record; OtrDecodeError if it is not one, or is `peer`'s neighbour's. */
export function decodeConversationRecord(bytes: Uint8Array, peer: string, maxBytes: number): StateValue | undefined {
  const v = expect.record(decodeState(CONVERSATION_RECORD_KIND, bytes, maxBytes), 'conversation record');
  // An unsealed store cannot tell a row moved to another key: the record names its peer.
  if (expect.string(v.peer, 'conversation record peer') !== peer) throw new OtrDecodeError('state: conversation record of another peer');
  return v.state;
}

/** The conversation's record now, as encodeConversationRecord(peer, toState()) encodes it (without building the value). */
export function conversationRecord(conv: Conversation): Uint8Array {
  return withRecordOf(conv, copyBytes);
}

/** The record { peer, state }, written directly (Conversation.writeState). */
const writeRecord = schema<Conversation>({
  peer: (w, c) => putString(w, c.peerId),
  state: (w, c) => c.writeState(w),
});

/** `use` of a view of the conversation's record now (zeroed when `use` returns). */
function withRecordOf<T>(conv: Conversation, use: (encoded: Uint8Array) => T): T {
  return withWrittenState(CONVERSATION_RECORD_KIND, (w) => writeRecord(w, conv), use);
}

/** A record value's field (undefined when `v` is not a record). */
function fieldOf(v: StateValue | undefined, name: string): StateValue | undefined {
  return v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !Array.isArray(v) ? (v as Record<string, StateValue | undefined>)[name] : undefined;
}

/** Whether a conversation state value holds a ratchet whose MAC keys to reveal are a list (format before session 7). */
function listsMacKeys(state: StateValue | undefined): boolean {
  const instances = fieldOf(state, 'instances');
  return Array.isArray(instances) && (instances as readonly StateValue[]).some((i) => Array.isArray(fieldOf(fieldOf(i, 'ratchet'), 'macKeysToReveal')));
}

/** Bytes of room kept past a conversation's own copy of its last record (RecordBook.remember): ~15 queued MAC keys. */
const LAST_ROOM = 1024;

function hasKey(changes: readonly RecordChange[], key: string): boolean {
  for (let i = 0; i < changes.length; i++) if (changes[i]!.key === key) return true;
  return false;
}

/** The records bound's batch (record-bound.ts): evicted beyond the excess so that a flood ranks once per batch. */
export function recordBatch(maxAccountConversations: number): number {
  return Math.floor(maxAccountConversations / 64);
}

/**
 * The most of the excess over limits.maxAccountConversations one call takes when it created `created` records:
 * those and a batch (at least one more), so the account never grows and shrinks with every record created. An
 * account far over its bound — a store filled before the bound existed, the bound lowered, every record
 * attached by the pool's reload — had its whole excess decoded and evicted by one call, and the helper read
 * every record of it first (attacks/s12-review-over-bound: 80,000 of each at the default limits, 1.4 s in one call).
 */
export function excessStep(maxAccountConversations: number, created: number): number {
  return created + Math.max(recordBatch(maxAccountConversations), 1);
}

/** encodeChanged's "over the size bound" (a record too big is never copied out of the encoder). */
const OVER = Symbol('over');

/** The public calls of a conversation that may change its state: each returns an Outcome that says which records changed. */
const RECORDED_CALLS = ['start', 'startDake', 'sendOffline', 'receive', 'send', 'end', 'poll', 'startSmp', 'answerSmp', 'abortSmp', 'abandonSessions'] as const satisfies readonly (keyof Conversation)[];
type RecordedCall = (typeof RECORDED_CALLS)[number];
type RecordedCalls = Readonly<Record<RecordedCall, (this: Conversation, ...args: unknown[]) => Outcome>>;
/** Where an instrumented conversation names its book and itself (an own property beside its recorded calls). */
const BOOK = Symbol('otr4.recordBook');

/**
 * What an instrumented conversation holds under BOOK: its book, and the conversation itself. A recorded call
 * runs on `conv`, never on `this`: a host may reach the conversation through a wrapper — a Proxy (UI stores wrap
 * what they hold in one) or an object whose prototype is the conversation — whose `this` is not the
 * conversation, and the re-entrancy guard (conversation.ts callsUnderWay) and the book's touched set know
 * conversations by identity (attacks/s11-review3-proxied-calls). The property is read-only and
 * non-configurable, so a Proxy must return this very object for it.
 */
class Bound {
  constructor(
    readonly book: RecordBook,
    readonly conv: Conversation,
  ) {}
}
/** What the last Conversation.prefetch returned: kept only so that its loads are not optimised away. */
let prefetched = 0;

/** The recorded calls by the prototype they wrap (RecordBook.recordedCalls): in practice one entry, Conversation's. */
const RECORDED_BY_PROTOTYPE = new WeakMap<object, RecordedCalls>();

/** A record held as bytes until its conversation is first used. */
interface Dormant {
  readonly bytes: Uint8Array;
}

export interface RecordBookHost {
  readonly limits: Readonly<Limits>;
  /** The account record's bytes (keys, profile, prekeys, fingerprints: no conversations). */
  encodeAccountRecord(): Uint8Array;
  /**
   * A value that changes whenever the fingerprints known do (a completed DAKE changes them, and so the account
   * record); compared before and after each call, so it must be cheap (LastSeenFingerprints.revisionOfAll: a
   * field, not a lookup per peer — session 8).
   */
  fingerprintRevision(): number;
  /**
   * limits.maxAccountConversations: a call's changes created a conversation record and the account now has
   * `excess` more than the bound. The host forgets conversations (forget below), never one in `keep` (written
   * by this call, or the one the call is for), each with an event in `events`; and up to `batch` more that
   * are worth no more than those (record-bound.ts), so that a flood ranks once per batch.
   */
  evictConversations(excess: number, batch: number, keep: (peer: string) => boolean, events: OtrEvent[]): void;
}

export class RecordBook {
  /** Generation per record key: what was loaded, or last handed out in a change. 0 or absent: no record. */
  private readonly generations = new Map<string, number>();
  /**
   * Each live conversation's record as last handed out or loaded (to skip writes that change nothing). Once a
   * change was handed out, this is the very array its Outcome carries, not a copy (session 8: a second copy of
   * every record, written into cold memory per call, was a measurable share of a message): the book only
   * reads it — it never writes into it nor wipes it, it is the caller's. A caller that wipes or changes it
   * costs one write that was not needed (the next call compares unequal); it cannot suppress a write, which
   * would need those bytes to equal a record the book has not handed out yet.
   */
  private readonly last = new Map<string, Uint8Array>();
  /** Peers whose `last` is the book's own copy (as loaded or adopted, or kept by `keepCopies`): wiped when dropped. */
  private readonly ownLast = new Set<string>();
  /** keepCopies(): `last` is always a copy of the book's own, never the change handed out. */
  private copies = false;
  private readonly dormant = new Map<string, Dormant>();
  /** Conversations whose state may have changed outside a flushed call (a call that threw). */
  private readonly touched = new Set<Conversation>();
  /** Records deleted (forget) and not yet handed out. */
  private readonly deleted = new Set<string>();
  /** Peers whose record exists (generation known) but is neither live nor attached: must be loaded before use. */
  private readonly unloaded = new Set<string>();
  /**
   * Peers whose record the store listed at open (openStoredAccount) and this account has not loaded since: it
   * exists, at a generation not known here. Counted against maxAccountConversations; loaded (attached) before
   * it can be used or evicted.
   */
  private readonly listed = new Set<string>();
  /** Record keys of live peers (keyOf); dropped with the peer's last record (unload, forget). */
  private readonly keys = new Map<string, string>();
  private accountDirty = false;
  /** Conversation records that exist as far as this account knows (a generation above 0): maxAccountConversations. */
  private conversationRecords = 0;
  /** Conversation records handed out at generation 1 since the last flush checked the bound. */
  private created = 0;
  /** Records handed out so far: each conversation's record is stamped with it (Conversation.recordSeq). */
  private writes = 0;
  /** The conversation whose instrumented call is being flushed (never evicted by it); undefined for changes(). */
  private flushingFor: Conversation | undefined;
  /** The account record as last handed out or loaded (changes() compares: trust set by hand, outside any call). */
  private lastAccount: Uint8Array | undefined;
  /**
   * Events of trimming whose record was handed out by a flush that was not that conversation's call
   * (changes(), another conversation's call): no outcome of its own carried them, and an unload or restart
   * would otherwise lose them while the store holds the trimmed record ([s16-review]). Per peer, told ahead
   * of the next outcome of that peer's conversation (loaded again or not), or taken by the host (takeUntold).
   * Bounded: a conversation's restore trims once, and it sheds only when its state grew, which takes calls of
   * its own — each of which tells what is kept here.
   */
  private readonly untold = new Map<string, OtrEvent[]>();

  constructor(private readonly host: RecordBookHost) {}

  /**
   * For a caller that does not keep the changes it is handed (the pool's worker transfers their buffers to the
   * main thread, which detaches them): the book then keeps a copy of each record of its own, as before session 8,
   * so that a call that changes nothing still writes nothing.
   */
  keepCopies(): void {
    this.copies = true;
  }

  /** The account record must be written with the next changes (new account, prekeys, profile renewal). */
  markAccount(): void {
    this.accountDirty = true;
  }

  generation(key: string): number {
    return this.generations.get(key) ?? 0;
  }

  /** Sets a record's generation as loaded from a store. */
  setGeneration(key: string, generation: number): void {
    if (!Number.isSafeInteger(generation) || generation < 0) throw new OtrDecodeError('state: bad record generation');
    this.countRecord(key, this.generation(key), generation);
    this.generations.set(key, generation);
  }

  /** Keeps conversationRecords: `key` goes from generation `before` to `after` (0: no record). */
  private countRecord(key: string, before: number, after: number): void {
    if ((before > 0) !== (after > 0) && key !== ACCOUNT_RECORD) this.conversationRecords += after > 0 ? 1 : -1;
  }

  /** Conversation records the account knows of: live ones written, attached, unloaded (maxAccountConversations). */
  get conversationRecordCount(): number {
    return this.conversationRecords;
  }

  /**
   * Record keys deleted since the account was opened from its store, until the store's listing is made
   * (beginListing to endListing): the listing is the store's snapshot, so it may still name them — deleted while
   * it was under way (attacks/s12-review-listing-race), or before it, the delete handed out but not yet committed
   * when the store answered (attacks/s13-review-listing-race). Bounded by the records loaded before the listing
   * (a record-less conversation, the only kind that adds records, is not handed out before it), and dropped with it.
   */
  private deletedWhileListing: Set<string> | undefined;

  /** The store's listing will be asked for: deletes handed out from now on are remembered until endListing. */
  beginListing(): void {
    this.deletedWhileListing = new Set();
  }

  endListing(): void {
    this.deletedWhileListing = undefined;
  }

  /** `peer`'s record is in the store (listed at open), unless the account knows of it otherwise. */
  list(peer: string): void {
    if (this.listed.has(peer) || this.dormant.has(peer) || this.unloaded.has(peer)) return;
    const key = conversationKey(peer);
    if (this.generation(key) > 0 || this.deletedWhileListing?.has(key)) return;
    this.listed.add(peer);
    this.conversationRecords++;
  }

  /** `peer`'s listed record was loaded, or found gone. */
  unlist(peer: string): void {
    if (this.listed.delete(peer)) this.conversationRecords--;
  }

  isListed(peer: string): boolean {
    return this.listed.has(peer);
  }

  /** Peers listed at open and not loaded since. */
  get listedPeers(): IterableIterator<string> {
    return this.listed.values();
  }

  get listedCount(): number {
    return this.listed.size;
  }

  get unloadedCount(): number {
    return this.unloaded.size;
  }

  get dormantCount(): number {
    return this.dormant.size;
  }

  /** Peers unloaded (their record in the store, not in memory). */
  get unloadedPeers(): IterableIterator<string> {
    return this.unloaded.values();
  }

  /** Keeps a conversation's record undecoded until the conversation is first used. */
  addDormant(peer: string, bytes: Uint8Array, generation: number): void {
    const key = conversationKey(peer);
    this.setGeneration(key, generation); // refuses a bad generation before anything moves
    this.unlist(peer); // counted from now on by its generation
    this.deleted.delete(key);
    this.dormant.set(peer, { bytes: Uint8Array.from(bytes) });
    this.unloaded.delete(peer);
  }

  /** Whether `peer`'s record exists but was unloaded (conversation(peer) would otherwise start afresh over it). */
  isUnloaded(peer: string): boolean {
    return this.unloaded.has(peer);
  }

  /**
   * Drops a live conversation from memory (its record stays in the store, at the generation known). Refused
   * while it has changes not yet handed out: they would be lost.
   */
  unload(peer: string, conv: Conversation): void {
    if (this.touched.has(conv)) throw new OtrLimitError('the conversation has changes not handed out yet: commit account.changes() first');
    this.dropLast(peer);
    this.keys.delete(peer);
    if (this.generation(conversationKey(peer)) > 0) this.unloaded.add(peer);
  }

  hasDormant(peer: string): boolean {
    return this.dormant.has(peer);
  }

  get dormantPeers(): string[] {
    return [...this.dormant.keys()];
  }

  /**
   * What `build` makes of the dormant record's state value (decoded now), the record then taken out of the
   * dormant set; undefined if none. A record that does not decode or build stays dormant, so it is refused
   * again on the next use — never replaced by a fresh conversation whose first commit would overwrite it.
   */
  takeDormant<T>(peer: string, build: (state: StateValue | undefined) => T): T | undefined {
    const d = this.dormant.get(peer);
    if (!d) return undefined;
    const value = decodeConversationRecord(d.bytes, peer, this.host.limits.maxStateBytes);
    const built = build(value);
    this.dormant.delete(peer);
    // A record of the format before session 7 (MAC keys to reveal as a list) encodes differently now for the
    // same state: what later calls compare with is then the conversation re-encoded (adopt), so a call that
    // changes nothing still writes nothing; the stored record restores as it is until a change replaces it.
    if (listsMacKeys(value)) wipe(d.bytes);
    else this.setOwnLast(peer, d.bytes);
    return built;
  }

  /** The dormant record's bytes as attached, undecoded (whole-account serialize carries them as they are). */
  dormantBytes(peer: string): Uint8Array | undefined {
    return this.dormant.get(peer)?.bytes;
  }

  /** The dormant record's state value without taking it (whole-account serialize). */
  peekDormant(peer: string): StateValue | undefined {
    const d = this.dormant.get(peer);
    return d ? decodeConversationRecord(d.bytes, peer, this.host.limits.maxStateBytes) : undefined;
  }

  /**
   * Makes every state-changing call of `conv` report its changes: `outcome.changed` lists the records the call
   * changed (this conversation's, the account's, deletions), each at its next generation.
   */
  instrument(conv: Conversation): void {
    Object.defineProperty(conv, BOOK, { value: new Bound(this, conv) });
    const recorded = RecordBook.recordedCalls(Object.getPrototypeOf(conv) as Conversation);
    for (const name of RECORDED_CALLS) Object.defineProperty(conv, name, { configurable: true, writable: true, value: recorded[name] });
  }

  /**
   * The recorded versions of the calls of conversations whose prototype is `proto`: made once per process and
   * shared by every instrumented conversation, which names its book and itself (BOOK: Bound). (Until
   * session 11 each conversation got eleven closures of its own: ~1 KB per conversation, and with 1,000
   * conversations a call's first steps — the closure and its context, last used a thousand messages before —
   * were cache-cold lines that a shared function does not have: docs/stores.md, "bridge.save: session 11".
   * One set for all books, not one per book: a process runs many accounts, and their conversations' calls stay
   * one function each.)
   */
  private static recordedCalls(proto: Conversation): RecordedCalls {
    let calls = RECORDED_BY_PROTOTYPE.get(proto);
    if (calls !== undefined) return calls;
    const made = {} as Record<RecordedCall, (this: Conversation, ...args: unknown[]) => Outcome>;
    for (const name of RECORDED_CALLS) {
      const call = proto[name] as (...args: unknown[]) => Outcome;
      made[name] = function recorded(this: Conversation, ...args: unknown[]): Outcome {
        // Called detached from its conversation (`const f = conv.send; f()`): refused before anything moves (the
        // per-conversation closures ignored `this`). Through a wrapper: run on the conversation it wraps (Bound).
        const bound = typeof this === 'object' && this !== null ? (this as { [BOOK]?: unknown })[BOOK] : undefined;
        if (!(bound instanceof Bound)) throw new OtrStateError(`${name}() must be called on a conversation`);
        return bound.book.record(bound.conv, call, args);
      };
    }
    RECORDED_BY_PROTOTYPE.set(proto, (calls = made));
    return calls;
  }

  /** One recorded call of `conv` (recordedCalls): `call` run, then the records it changed put in its Outcome. */
  private record(conv: Conversation, call: (...args: unknown[]) => Outcome, args: unknown[]): Outcome {
    // An evicted conversation (maxAccountConversations) is no longer the account's: a call on it would write
    // a record beside the one the account makes afresh for its peer.
    if (conv.evicted) throw new OtrStateError('this conversation was evicted (conversation-evicted): ask the account for it again');
    // The conversation's state, likely out of the caches by now, read ahead in one pass (Conversation.prefetch).
    prefetched = (prefetched + conv.prefetch()) | 0;
    const fingerprint = this.host.fingerprintRevision();
    const keysUsed = conv.keysUsed;
    let out: Outcome;
    try {
      out = call.apply(conv, args);
    } catch (e) {
      // The state may have moved before the throw: it goes with the next changes.
      this.touched.add(conv);
      if (this.host.fingerprintRevision() !== fingerprint) this.accountDirty = true;
      throw e;
    }
    if (this.host.fingerprintRevision() !== fingerprint) this.accountDirty = true;
    this.touched.add(conv);
    // What its restore dropped (a record written under higher limits): told with the first outcome, ahead —
    // after what earlier flushes trimmed and no outcome told (untold), oldest first.
    const trimmed = conv.takeTrimmedOnRestore();
    if (trimmed !== null) out.events.unshift(...trimmed);
    if (this.untold.size > 0) {
      const earlier = this.untold.get(conv.peerId);
      if (earlier !== undefined) {
        this.untold.delete(conv.peerId);
        out.events.unshift(...earlier);
      }
    }
    // A message key was used: the record changed for certain (Conversation.keysUsed), so it is written without
    // the compare — a read of the whole last record, cold by now, for an answer known in advance.
    this.changedForCertain = conv.keysUsed !== keysUsed ? conv : undefined;
    this.flushingFor = conv;
    try {
      out.changed = this.flush(out.events);
    } finally {
      this.changedForCertain = undefined;
      this.flushingFor = undefined;
    }
    return out;
  }

  /** Every pending change: dirty account record, touched conversations, deletions. Events of trimming go to `events`. */
  flush(events: OtrEvent[] = []): RecordChange[] {
    // Two phases: every touched conversation is encoded first, and nothing is handed out (no generation moved,
    // no record remembered, no flag cleared) unless all of them were. One that throws (over its bound with
    // nothing to shed) leaves every change pending, so no other record is handed out behind the store's back.
    // (The size checks skip an iterator object per empty set: this runs after every call.)
    if (this.touched.size > 0) {
      // forEach with a method and thisArg: no iterator or result objects per call.
      this.flushEvents = events;
      try {
        this.touched.forEach(this.encodeTouched, this);
      } catch (e) {
        for (let i = 0; i < this.encodedBytes.length; i++) wipe(this.encodedBytes[i]!);
        this.encodedConvs.length = 0;
        this.encodedBytes.length = 0;
        throw e;
      } finally {
        this.flushEvents = undefined;
      }
      this.touched.clear();
    }
    const changes: RecordChange[] = [];
    if (this.accountDirty) {
      changes.push(this.accountChange(this.host.encodeAccountRecord()));
      this.accountDirty = false;
    }
    if (this.deleted.size > 0) this.flushDeleted(changes);
    for (let i = 0; i < this.encodedConvs.length; i++) {
      const conv = this.encodedConvs[i]!;
      const peer = conv.peerId;
      const bytes = this.encodedBytes[i]!;
      conv.recordSeq = ++this.writes;
      // What later calls compare with: the change itself (see `last`), or a copy of the book's own (keepCopies).
      if (this.copies) this.remember(peer, bytes);
      else {
        if (this.ownLast.size > 0) this.dropLast(peer); // a record as loaded or adopted: wiped
        this.last.set(peer, bytes);
      }
      changes.push(this.next(this.keyOf(peer), bytes));
    }
    // A record was created (one integer compared per call otherwise): the account's bound on records.
    if (this.created > 0) this.boundRecords(changes, events);
    this.encodedConvs.length = 0;
    this.encodedBytes.length = 0;
    // A new account's record goes with the first record written (a conversation record without it is useless).
    if (changes.length > 0 && this.generation(ACCOUNT_RECORD) === 0 && !hasKey(changes, ACCOUNT_RECORD))
      changes.unshift(this.accountChange(this.host.encodeAccountRecord()));
    return changes;
  }

  /** The deletes pending, handed out: a record never handed out needs none; one handed out goes at its next generation. */
  private flushDeleted(changes: RecordChange[]): void {
    for (const key of this.deleted) {
      if (this.generation(key) > 0) {
        changes.push(this.next(key, null));
        this.deletedWhileListing?.add(key); // only a record the store may hold: bounded by what it holds
      }
      this.countRecord(key, this.generation(key), 0);
      this.generations.delete(key);
    }
    this.deleted.clear();
  }

  /**
   * limits.maxAccountConversations, after a call created a conversation record: past the bound, the host
   * forgets the least valuable conversations, their deletes going with this call's changes. Never one this
   * call wrote nor the one it is for. Only calls (instrumented) evict: changes() writes what the host asked.
   * Evicts up to a 64th of the bound beyond the excess (worth no more than the excess: record-bound.ts), so
   * that the ranking (O(records), account.ts) runs once per that many new records in a flood, not on each.
   * An excess larger than a step (excessStep) is taken a step per call.
   */
  private boundRecords(changes: RecordChange[], events: OtrEvent[]): void {
    const created = this.created;
    this.created = 0;
    const max = this.host.limits.maxAccountConversations;
    if (this.flushingFor === undefined || this.conversationRecords <= max) return;
    const keepPeer = this.flushingFor.peerId;
    const written = this.encodedConvs;
    const keep = (peer: string) => peer === keepPeer || written.some((c) => c.peerId === peer);
    const excess = this.conversationRecords - max;
    const step = excessStep(max, created);
    // Beyond what it created, a step is a batch: never the host's unless that reached them. Far over the bound,
    // the store's listed records are mostly not candidates yet, so loaded contacts may be all the call knows.
    if (excess > step) this.host.evictConversations(created, step - created, keep, events);
    else this.host.evictConversations(excess, recordBatch(max), keep, events);
    if (this.deleted.size > 0) this.flushDeleted(changes);
  }

  /**
   * A conversation made afresh or restored whole: its state now is what the store holds for it (nothing, for
   * a fresh one), so a call that leaves it unchanged (plaintext from a stranger, garbage) writes no record.
   */
  adopt(conv: Conversation): void {
    if (!this.last.has(conv.peerId)) this.setOwnLast(conv.peerId, conversationRecord(conv));
  }

  /** Marks a live conversation for the next flush; with `force`, written even if unchanged. */
  touch(conv: Conversation, force = false): void {
    if (force) this.dropLast(conv.peerId);
    this.touched.add(conv);
  }

  /** Deletes `peer`'s record with the next changes; wipes what the book held of it. */
  forget(peer: string, conv: Conversation | undefined): void {
    const key = conversationKey(peer);
    if (conv) this.touched.delete(conv);
    const d = this.dormant.get(peer);
    if (d) wipe(d.bytes);
    this.dormant.delete(peer);
    this.dropLast(peer);
    this.keys.delete(peer);
    this.deleted.add(key);
    this.unloaded.delete(peer);
    this.unlist(peer);
    this.untold.delete(peer);
  }

  private accountChange(bytes: Uint8Array): RecordChange {
    if (this.lastAccount) wipe(this.lastAccount);
    this.lastAccount = bytes.slice();
    return this.next(ACCOUNT_RECORD, bytes);
  }

  /** The account record as loaded from a store (what later changes are compared with). */
  loadedAccount(bytes: Uint8Array): void {
    this.lastAccount = Uint8Array.from(bytes);
  }

  /** Marks the account record for the next flush if it differs from what was last handed out. */
  checkAccount(): void {
    if (this.accountDirty) return;
    const now = this.host.encodeAccountRecord();
    if (!this.lastAccount || !equalBytes(now, this.lastAccount)) this.accountDirty = true;
    wipe(now);
  }

  /** `peer`'s record key, made once per live peer (a key concatenated afresh is hashed afresh at each lookup). */
  private keyOf(peer: string): string {
    let key = this.keys.get(peer);
    if (key === undefined) this.keys.set(peer, (key = conversationKey(peer)));
    return key;
  }

  private next(key: string, bytes: Uint8Array | null): RecordChange {
    const generation = this.generation(key) + 1;
    if (generation === 1 && key !== ACCOUNT_RECORD) {
      this.conversationRecords++;
      this.created++;
    }
    this.generations.set(key, generation);
    return { key, generation, bytes };
  }

  /**
   * The conversation whose call is being flushed, when that call used a message key (instrument): its record is
   * handed out without the compare. Skipping a compare can only add a write, never lose one.
   */
  private changedForCertain: Conversation | undefined;

  /** flush's state while it encodes the touched conversations (encodeTouched): reused, emptied by every flush. */
  private flushEvents: OtrEvent[] | undefined;
  private readonly encodedConvs: Conversation[] = [];
  private readonly encodedBytes: Uint8Array[] = [];

  private encodeTouched(conv: Conversation): void {
    // Trimming is told by the outcome of the call being flushed if it is this conversation's; otherwise kept (untold).
    const own = conv === this.flushingFor;
    const events = own ? this.flushEvents! : [];
    const bytes = this.encodeChanged(conv, events);
    if (!bytes) return;
    if (!own) this.keepUntold(conv, events);
    // A change that leaves the conversation holding nothing (a stranger's whose pending DAKE expired or was
    // evicted: limits.maxAccountPendingDakes) deletes its record rather than rewriting it empty; what later
    // calls compare with is that empty state, so a call that leaves it so writes nothing (as for a fresh one).
    // Only a change found by comparing with the last record: a write asked for whatever the record holds
    // (changes({ all: true }), a retried write: touch with `force`) writes it, empty or not.
    // (holdsNothing first: a few field reads, false on every call of a conversation with a session.)
    if (conv.holdsNothing() && this.last.has(conv.peerId) && this.generation(this.keyOf(conv.peerId)) > 0) {
      this.setOwnLast(conv.peerId, bytes);
      this.deleted.add(this.keyOf(conv.peerId));
      return;
    }
    // Not deleted after all (emptied by a flush that threw, then used again): written over, at the next generation.
    if (this.deleted.size > 0) this.deleted.delete(this.keyOf(conv.peerId));
    this.encodedConvs.push(conv);
    this.encodedBytes.push(bytes);
  }

  /**
   * `conv`'s record is handed out by a flush no outcome of its own carries (or its state by serialize()): what
   * shedding dropped for it (`shed`), and what its restore dropped (the trimmed state goes out), are kept until told.
   */
  keepUntold(conv: Conversation, shed: OtrEvent[]): void {
    const restored = conv.takeTrimmedOnRestore();
    if (restored === null && shed.length === 0) return;
    const list = this.untold.get(conv.peerId) ?? [];
    if (restored !== null) list.push(...restored);
    list.push(...shed);
    this.untold.set(conv.peerId, list);
  }

  /** Every peer's untold events of trimming (see `untold`), handed over once. */
  takeUntold(): { peer: string; events: OtrEvent[] }[] {
    const all = [...this.untold].map(([peer, events]) => ({ peer, events }));
    this.untold.clear();
    return all;
  }

  /** Whether a delete of `key` is pending: handed out, not taken by the store, to go again (deleteAgain). */
  deletePending(key: string): boolean {
    return this.deleted.size > 0 && this.deleted.has(key) && this.generation(key) > 0;
  }

  /** A delete handed out that the store did not take (account.commitFailed): it goes again with the next changes. */
  deleteAgain(key: string, storedGeneration: number): void {
    this.setGeneration(key, storedGeneration);
    if (storedGeneration > 0) this.deleted.add(key);
  }

  /**
   * Deletes the record of an unloaded conversation with the next changes, at the generation it was unloaded
   * with (limits.maxAccountPendingDakes: a stranger's record, known to hold nothing else). A store that holds a
   * newer one refuses the delete (CONFLICT).
   */
  forgetUnloaded(peer: string): void {
    if (this.unloaded.delete(peer)) this.deleted.add(conversationKey(peer));
    this.untold.delete(peer);
  }

  /** Forgets `peer`'s last record; wiped only if it is the book's own copy (a change handed out is the caller's). */
  private dropLast(peer: string): void {
    const l = this.last.get(peer);
    if (l !== undefined && this.ownLast.delete(peer)) wipe(l);
    this.last.delete(peer);
  }

  /**
   * keepCopies: keeps a copy of `encoded` as `peer`'s record last handed out, in place when it fits. The receiving
   * side of a one-way stream grows its record by one queued MAC key (69 bytes) per message until it sends, so
   * the copy is kept in a buffer with room past its end (LAST_ROOM) rather than reallocated on every message;
   * the room is always zero (filled when the record shrinks), so wiping the view wipes every byte of state it
   * held. A buffer more than twice the record's size (after a long queue was revealed) is given back.
   */
  private remember(peer: string, encoded: Uint8Array): void {
    const n = encoded.length;
    const before = this.ownLast.has(peer) ? this.last.get(peer) : undefined;
    if (before !== undefined && before.byteOffset === 0) {
      const room = before.buffer.byteLength;
      if (n <= room && 2 * n + LAST_ROOM >= room) {
        if (n === before.length) before.set(encoded);
        else {
          const view = new Uint8Array(before.buffer, 0, n);
          view.set(encoded);
          if (n < before.length) before.fill(0, n);
          this.last.set(peer, view);
        }
        return;
      }
    }
    const kept = new Uint8Array(n + LAST_ROOM);
    kept.set(encoded);
    this.setOwnLast(peer, kept.subarray(0, n));
  }

  /** `bytes`, the book's own copy of `peer`'s record (loaded or adopted), as what later calls compare with. */
  private setOwnLast(peer: string, bytes: Uint8Array): void {
    this.dropLast(peer);
    this.last.set(peer, bytes);
    this.ownLast.add(peer);
  }

  private sameAsLast(peer: string, encoded: Uint8Array): boolean {
    const before = this.last.get(peer);
    return before !== undefined && equalBytes(before, encoded);
  }

  /**
   * The conversation's record if it differs from the one last handed out, else null (flush then remembers it);
   * shedding state until it fits limits.maxConversationStateBytes. Runs after every call of every
   * conversation: the record is encoded into a reused buffer and compared there, so a call that changed
   * nothing allocates nothing, and one that did costs one copy: the change, which is also `last` from then on.
   */
  private encodeChanged(conv: Conversation, events: OtrEvent[]): Uint8Array | null {
    const max = this.host.limits.maxConversationStateBytes;
    const peer = conv.peerId;
    for (;;) {
      const out = withRecordOf(conv, (encoded): Uint8Array | null | typeof OVER => {
        if (encoded.length > max) return OVER;
        return conv !== this.changedForCertain && this.sameAsLast(peer, encoded) ? null : copyBytes(encoded);
      });
      if (out !== OVER) return out;
      // Nothing left: what stays is the host's own settings for the peer (its id, policy, marks; shedState's
      // last step ended the sessions), written whatever the bound, which is there for state peers can grow.
      // Throwing here wedged the account: a flush hands out all or nothing ([s16-review]).
      if (!conv.shedState(events)) return withRecordOf(conv, (encoded) => (conv !== this.changedForCertain && this.sameAsLast(peer, encoded) ? null : copyBytes(encoded)));
    }
  }
}
