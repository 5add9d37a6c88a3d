/**
 * An account kept in a record store, with the safe order made the easy one (issue 12):
 *
 *   const stored = await openStoredAccount(store, 'alice@example.org', { sealKey, create: true });
 *   const conv = await stored.conversation('bob@example.org');   // loaded (lazily) from the store
 *   const out = conv.receive(text);
 *   await stored.commit(out);                                      // durable ...
 *   transmit(out.toSend); show(out.messages);                      // ... then on the wire / on screen
 *
 * Only the account record is read at open; a conversation's record is read when the conversation is first
 * asked for (one indexed read), so restoring an account of 1,000 conversations costs two reads before its
 * first message can be decrypted. Built on openAccountRecords (ts/store/account-records.ts: sealing,
 * generations seen, compare-and-set ordering); every Outcome's `changed` lists the records its call changed.
 *
 * Rollback: when the store hands back a conversation record older than one this process saw (a restored
 * backup, an edited row), the conversation is loaded from what the store holds and every session in it is
 * dropped without encrypting again (`finished`, reason `rollback`; the helper commits that at once and tells
 * `onEvent`): its message keys may have been used on the wire. A new DAKE makes a fresh session.
 */
import { Account, type AccountOptions } from './account.js';
import type { Conversation } from './conversation.js';
import type { OtrEvent, Outcome } from './events.js';
import { ACCOUNT_RECORD, conversationKey, peerOfKey } from './records.js';
import { OtrArgumentError, OtrCryptoError, OtrDecodeError, OtrError, OtrLimitError, OtrStateError, OtrStoreConflictError, OtrStoreRollbackError } from '../errors.js';
import { equalBytes, utf8, wipe } from '../bytes.js';
import { openAccountRecords, type AccountRecords, type AccountRecordsOptions, type StoreEvent } from '../store/account-records.js';
import type { RecordChange, RecordStore } from '../store/types.js';
import type { SealAead } from '../store/aead.js';
import { backendSealAead } from '../store/aead-backend.js';
import { APPLIED } from '../store/owned.js';
import type { CryptoBackend } from '../backend/types.js';
import { activeBackend, getBackend } from '../backend/select.js';

export type StoredAccountEvent =
  | StoreEvent
  /** A conversation's record was older than state already used: its sessions were dropped (`events` says which). */
  | { readonly type: 'sessions-dropped'; readonly peer: string; readonly events: readonly OtrEvent[] };

export interface StoredAccountOptions extends Omit<AccountRecordsOptions, 'onEvent' | 'limits'> {
  /** The account's options (backend, random, clock, policy, limits; keys only when creating). */
  account?: Omit<AccountOptions, 'accountId'>;
  /**
   * The account id as peers know it (bound into every DAKE), when the store keeps the account under another
   * id (e.g. a tenant-prefixed key). Default: the store's id. A record of any other account is refused.
   */
  otrAccountId?: string;
  /** Create the account (and commit its record) when the store has none; otherwise that is an OtrStateError. */
  create?: boolean;
  onEvent?: (event: StoredAccountEvent) => void;
}

export interface StoredAccount {
  readonly account: Account;
  /** The records helper underneath (generations, resolveRollback, keys). */
  readonly records: AccountRecords;
  /** The conversation with `peer`, its record loaded from the store on first use (fresh if there is none). */
  conversation(peer: string): Promise<Conversation>;
  /** Durably applies the records an outcome (or account.changes()) changed. Transmit only after it resolves. */
  commit(outcome: Outcome | readonly RecordChange[]): Promise<void>;
  /** Drops an idle conversation from memory (its record stays); the next conversation(peer) loads it again. */
  unload(peer: string): void;
  /** Forgets the conversation with `peer` and deletes its record (committed when this resolves). */
  forget(peer: string): Promise<void>;
  /** Waits for pending commits and wipes the sealing keys (the store stays open: it is shared). */
  close(): Promise<void>;
}

/**
 * The record AEAD of the account's backend where it offers one (the `wasm` and `hybrid` backends: one call
 * into their module per seal instead of a node:crypto cipher object; docs/stores.md, session 6). Sealing
 * checks it against the build's own AEAD before using it, and the rows are the same bytes either way.
 */
function accountSealAead(backend: CryptoBackend | undefined): SealAead | undefined {
  const b = backend ?? (activeBackend() !== undefined ? getBackend() : undefined);
  return b === undefined ? undefined : backendSealAead(b);
}

/** Opens (or with `create`, creates) the account `accountId` kept in `store`. */
export async function openStoredAccount(store: RecordStore, accountId: string, options: StoredAccountOptions = {}): Promise<StoredAccount> {
  if (typeof accountId !== 'string' || accountId.length === 0) throw new OtrArgumentError('accountId must be a non-empty string');
  const emit = (e: StoredAccountEvent) => {
    try {
      options.onEvent?.(e);
    } catch {
      /* a failing listener must not break the store's flow */
    }
  };
  const records = await openAccountRecords(store, accountId, {
    sealKey: options.sealKey,
    sealContext: options.sealContext,
    random: options.random,
    limits: options.account?.limits,
    onEvent: emit,
    sealAead: options.sealKey ? accountSealAead(options.account?.backend) : undefined,
  });
  const { identitySecret: _s, instanceTag: _t, dsaKey: _d, forgingPublicKey: _f, ...restoreOptions } = options.account ?? {};
  let account: Account;
  const record = await records.load(ACCOUNT_RECORD);
  if (record) {
    account = Account.fromRecord(record, restoreOptions);
    // A row of another account (an unsealed store cannot tell): refused rather than used under this name.
    if (!equalBytes(account.accountId, utf8(options.otrAccountId ?? accountId)))
      throw new OtrDecodeError(`the account record does not belong to ${JSON.stringify(options.otrAccountId ?? accountId)}`);
    return new StoredAccountImpl(account, records, emit, true);
  } else if (options.create) {
    account = Account.create({ ...options.account, accountId: options.otrAccountId ?? accountId });
    await records.commit(account.changes());
  } else throw new OtrStateError(`no account ${JSON.stringify(accountId)} in the store (pass create: true to make one)`);
  return new StoredAccountImpl(account, records, emit, false);
}

/**
 * The conversation records the store holds, counted against limits.maxAccountConversations (session 11):
 * without the listing, a restart forgot every record until its conversation was used again, and a flood could
 * leave the bound's worth of records behind per restart. One listing of keys per open account, made when it is
 * first needed — before the first conversation that has no record is handed out (only such a conversation's
 * first record can pass the bound) — not at open: on a sealed store the listing opens every key name (~12 ms
 * for 1,000 conversations), which a restart that only answers known peers never needs (bridge.restore.1000conv).
 * A store that refuses the listing (more rows than maxRecordsPerAccount, a key that is not one: a hostile
 * table) or seals keys this host cannot open is not a reason to refuse the account: it goes on without the
 * listing, its records counted as they are loaded, as before.
 */
async function listRecords(account: Account, records: AccountRecords): Promise<void> {
  let keys: string[] = [];
  try {
    keys = await records.keys();
  } catch (e) {
    if (!(e instanceof OtrError)) throw e;
  } finally {
    account.listRecords(keys); // nothing when refused: the account goes on without it
  }
}

class StoredAccountImpl implements StoredAccount {
  /** Conversations being loaded, so two callers asking at once share one read. */
  private readonly loading = new Map<string, Promise<void>>();

  /** Peers whose conversation is being handed out (conversation(): read, then loadEvictable), with how many asks. */
  private readonly handingOut = new Map<string, number>();

  /** The store's listing of the account's records (listRecords): not needed yet, under way or made. */
  private listing: Promise<void> | 'made' | undefined;

  constructor(
    readonly account: Account,
    readonly records: AccountRecords,
    private readonly emit: (e: StoredAccountEvent) => void,
    restored: boolean,
  ) {
    // A new account has no records to list. A restored one lists them later: what it deletes until then may
    // still be in that listing (Account.listingExpected).
    if (!restored) this.listing = 'made';
    else account.listingExpected();
  }

  /** The listing, made once, before a conversation with no record is first handed out (listRecords). */
  private listed(): Promise<void> | undefined {
    if (this.listing === 'made') return undefined;
    if (this.listing === undefined) this.listing = listRecords(this.account, this.records).finally(() => (this.listing = 'made'));
    return this.listing;
  }

  conversation(peer: string): Promise<Conversation> {
    if (typeof peer !== 'string' || peer.length === 0) return Promise.reject(new OtrArgumentError('peerId must be a non-empty string'));
    if (this.account.hasConversation(peer)) {
      // An attached record is decoded here, on first use; one that does not decode stays attached and fails
      // again on every use (never replaced by a fresh conversation). That failure is this promise's
      // rejection, not a throw out of the call (session 8: the second call used to throw synchronously).
      try {
        return Promise.resolve(this.account.conversation(peer));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    // Counted by the other hand-outs under way until it is live (loadEvictable: its first record is one more to
    // come). Two new peers asked for at once each counted only itself, and the second first record took a contact.
    // A peer whose record the store holds is counted too until its read returns: at most a few rows more loaded.
    this.handingOut.set(peer, (this.handingOut.get(peer) ?? 0) + 1);
    const handedOut = () => {
      const n = this.handingOut.get(peer)! - 1;
      if (n === 0) this.handingOut.delete(peer);
      else this.handingOut.set(peer, n);
    };
    const conv = this.attach(peer)
      .then(() => this.loadEvictable(peer))
      .then(() => this.account.conversation(peer));
    conv.then(handedOut, handedOut);
    return conv;
  }

  /**
   * At limits.maxAccountConversations, a new conversation's first record evicts others; those that rank first
   * but were only listed at open are loaded now (attached, undecoded), so that the eviction inside the call
   * can hand out their deletes. A record that cannot be loaded is left to the store (the eviction passes it),
   * and the next one stands in for it.
   */
  private async loadEvictable(peer: string): Promise<void> {
    if (this.account.hasConversation(peer)) return;
    const listing = this.listed();
    if (listing !== undefined) {
      await listing;
      if (this.account.hasConversation(peer)) return;
      // The store had no record of this peer when attach() read it just before: the listing, made after that
      // read, may still name it (deleted since, a junk key); as before the listing was deferred, that read decides.
      this.account.unlistRecord(peer);
    }
    // One hand-out's loading at a time; the others wait for it, then find its loads made (recordsToLoad's cache).
    // Each ranks every record (O(records)), and a ranking that names records to load clears that cache: hand-outs
    // that all started before the loads returned ranked once each — a flood of JIDs whose first messages arrive
    // at once, a ranking per JID (attacks/s13-review-concurrent-ranking: 501 rankings of 20,000 records for 500).
    while (this.loadingListed !== undefined) await this.loadingListed;
    if (this.account.hasConversation(peer)) return;
    const loading = this.loadListed(peer);
    const done = loading.then(noop, noop);
    this.loadingListed = done;
    try {
      await loading;
    } finally {
      if (this.loadingListed === done) this.loadingListed = undefined;
    }
  }

  /** The helper's loading is under way (loadEvictable): settles when it ends, whatever its outcome. */
  private loadingListed: Promise<void> | undefined;

  /** loadEvictable's rounds: what the account names to load, until it names nothing. */
  private async loadListed(peer: string): Promise<void> {
    // Again until nothing is left to load: an attached record decoded as the host's makes room for the next one.
    // Stops when a round settles nothing (reads that fail for a passing reason leave rows listed).
    const others = () => this.handingOut.size - (this.handingOut.has(peer) ? 1 : 0);
    for (let victims = this.account.recordsToLoad(peer, others()); victims.length > 0; victims = this.account.recordsToLoad(peer, others())) {
      // Settled: loaded, or unlisted because its row does not load for its own fault (far over the bound a round
      // is one step: rows that never load would otherwise end the loop with the step's records not loaded).
      let settled = 0;
      for (const victim of victims) {
        try {
          await this.attach(victim);
        } catch (e) {
          if (!(e instanceof OtrError)) throw e;
        }
        if (!this.account.recordInStoreOnly(victim)) settled++;
      }
      if (settled === 0 || this.account.hasConversation(peer)) return;
    }
  }

  /**
   * Loads the record of the conversation with `peer` from the store and attaches it, undecoded (two callers
   * asking at once share one read). Split from decoding so that forget() can delete a record that does not
   * decode: it needs the record's generation, not its contents (session 8).
   */
  private attach(peer: string): Promise<void> {
    if (this.account.hasConversation(peer)) return Promise.resolve();
    let p = this.loading.get(peer);
    if (!p) {
      p = this.load(peer).finally(() => this.loading.delete(peer));
      this.loading.set(peer, p);
    }
    return p;
  }

  private async load(peer: string): Promise<void> {
    // A delete of its record is pending (the store did not take it): the account forgot it, the row goes. Not
    // read (attached, it brought the forgotten session back): the peer starts afresh over it.
    if (this.account.recordDeletePending(peer)) return;
    const key = conversationKey(peer);
    let rolledBack = false;
    let record;
    const inStoreOnly = this.account.recordInStoreOnly(peer);
    try {
      record = await this.records.load(key);
    } catch (e) {
      // A row that does not open for its own fault (as forget() below tells them) never loads: listed at open, it
      // would count against maxAccountConversations for good without ever being evictable — the account over
      // its bound, evicting everything it did load, contacts first (attacks/s11-review2-listing). The store
      // keeps it, uncounted, as before the listing; forget() deletes it.
      if (e instanceof OtrCryptoError || e instanceof OtrDecodeError || e instanceof OtrLimitError) this.account.unlistRecord(peer);
      if (!(e instanceof OtrStoreRollbackError)) throw e;
      // The store went back: take what it holds, and drop every session in it before anything encrypts.
      record = await this.records.resolveRollback(key);
      rolledBack = true;
    }
    if (this.account.hasConversation(peer)) return;
    // Or a delete of it failed while the store read it (commitFailed): the account forgot it, as above.
    if (this.account.recordDeletePending(peer) || (inStoreOnly && !this.account.recordInStoreOnly(peer))) {
      // Evicted (maxAccountConversations) or forgotten while the store read it: the row read is the one that
      // delete removes, committed meanwhile or about to be. Attached, it came back at a generation the store no
      // longer had — every later write of the conversation refused, its deleted keys in use again
      // (attacks/s11-review2-bound). Not attached: the peer starts afresh; the helper's view of the row is read
      // again after any commit of it under way, so the fresh record is based on what the store holds.
      if (record) wipe(record.bytes);
      const now = await this.records.resolveRollback(key);
      if (now) wipe(now.bytes);
      return;
    }
    if (record) this.account.attachRecord(record);
    else this.account.unlistRecord(peer); // listed at open, deleted since
    if (rolledBack) {
      const out = this.account.conversation(peer).abandonSessions();
      await this.commit(out);
      this.emit({ type: 'sessions-dropped', peer, events: out.events });
    }
  }

  /** Not an async frame around the records' promise (every message's commit passes here): one rejection handler. */
  commit(outcome: Outcome | readonly RecordChange[]): Promise<void> {
    const changes = Array.isArray(outcome) ? (outcome as readonly RecordChange[]) : (outcome as Outcome | undefined)?.changed;
    if (!Array.isArray(changes)) return Promise.reject(new OtrArgumentError('commit takes an Outcome (with changed) or an array of changes'));
    if (changes.length === 0) return Promise.resolve();
    const committing = this.records.commit(changes);
    if (committing === APPLIED) return committing; // applied already (the memory store): nothing left to fail
    return committing.then(undefined, async (e: unknown) => {
      // The store went back under a live conversation: a restart would load the older copy, whose keys this
      // process used. Drop the sessions and write that on top of what the store holds; the caller does not
      // transmit (the error still propagates).
      if (e instanceof OtrStoreRollbackError) await this.dropAfterRollback(e.key);
      // Refused before the store took it (busy, I/O, a limit; not a conflict: the store holds someone else's):
      // the records go again with the next outcome, at the generation after the store's.
      else if (!(e instanceof OtrStoreConflictError)) this.account.commitFailed(changes, (key) => this.records.generation(key) ?? 0);
      throw e;
    });
  }

  private async dropAfterRollback(key: string): Promise<void> {
    const peer = peerOfKey(key);
    if (peer === undefined || !this.account.hasConversation(peer)) return;
    const record = await this.records.resolveRollback(key);
    this.account.resyncRecord(key, record?.generation ?? 0);
    const out = this.account.conversation(peer).abandonSessions();
    await this.records.commit(out.changed ?? []);
    this.emit({ type: 'sessions-dropped', peer, events: out.events });
  }

  unload(peer: string): void {
    this.account.unload(peer);
  }

  async forget(peer: string): Promise<void> {
    // The record may exist in the store without being loaded: load it so the delete carries its generation
    // (attached, not decoded: a record that does not decode can be forgotten too, which is the way out of it).
    if (typeof peer !== 'string' || peer.length === 0) throw new OtrArgumentError('peerId must be a non-empty string');
    try {
      await this.attach(peer);
    } catch (e) {
      // A sealed row that does not open (another key, edited, moved: BAD_MAC, or not a sealed record at all)
      // hides its generation behind the seal: it is deleted at the store's own generation instead (session 9).
      // A row the store itself refuses (oversized, a generation that is none: LIMIT_EXCEEDED, MALFORMED) is
      // deleted by the store's own condition on it (forgetUnopenable falls back to deleteRefused).
      // Anything else (I/O, a closed store, a rollback) is not the record's fault and is reported as it is.
      if (!(e instanceof OtrCryptoError || e instanceof OtrDecodeError || e instanceof OtrLimitError)) throw e;
      // Attached after all (it opened; what failed came after, e.g. dropping its sessions after a rollback):
      // its generation is known, and the ordinary delete below carries it.
      if (!this.account.hasConversation(peer)) await this.records.forgetUnopenable(conversationKey(peer));
    }
    await this.commit(this.account.forget(peer));
  }

  close(): Promise<void> {
    return this.records.close();
  }
}

function noop(): void {}
