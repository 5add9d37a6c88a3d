/**
 * `openAccountRecords(store, accountId, { sealKey })`: one account's records on a RecordStore, with the safe
 * order made the easy one. A bridge calls the session layer, then `await records.commit(outcome)`, and only
 * then transmits `outcome.toSend`: a message key is never used on the wire before the state that retired it
 * is durable, so a crash can lose an unsent message but can never bring a used key back.
 *
 * What it adds to a bare store:
 *   - sealing: with `sealKey` every record is sealed at rest (ts/store/sealing.ts);
 *   - generations it saw: the highest generation this process loaded or committed, per record. A load that
 *     returns an older one (or none, for a record we saw) is a ROLLBACK: the store was restored from a backup,
 *     a file replaced, a row edited. It throws OtrStoreRollbackError and emits a 'rollback' event instead of
 *     handing back a state whose keys may already have been used. `resolveRollback(key)` accepts the store's
 *     state once the caller has ended that conversation;
 *   - stale copies: a commit whose base generation is older than one this process already saw fails before
 *     reaching the store (OtrStoreConflictError, 'conflict' event); a commit the store refuses is classified:
 *     the store went backwards (rollback) or another writer got there first (conflict);
 *   - ordering: commits that touch a common record run one after another in call order, so a caller that
 *     does not await each commit before the next call still lands generation 5 before 6. Commits on
 *     unrelated records run concurrently.
 * It never retries: after a conflict the caller reloads the record (another process owns the newer state).
 */
import { OtrArgumentError, OtrDecodeError, OtrLimitError, OtrStoreConflictError, OtrStoreRollbackError } from '../errors.js';
import { resolveLimits, type Limits } from '../limits.js';
import type { RandomSource } from '../crypto/random.js';
import { sealedView } from './sealing.js';
import type { SealAead } from './aead.js';
import { APPLIED, COMMIT_OWNED, ROW_BUFFER, plainView, rowLender, type OwningStore, type Prepared, type StoreView, type StoredGeneration, type ViewMemo } from './owned.js';
import type { RecordChange, RecordChanges, RecordStore, StoredRecord } from './types.js';
import { checkCommit, checkName, expectedGeneration, wipeRows, type StoreLimits } from './validate.js';

/** The bytes of a change snapshot that writes (its real bytes travel in the Prepared rows). */
const WRITTEN = new Uint8Array(0);

/** Told to the host as they happen (the same facts as the errors thrown, for logs and metrics). */
export type StoreEvent =
  /** A commit was refused: another writer or a stale copy saved `key` first. Nothing was written. */
  | { readonly type: 'conflict'; readonly key: string; readonly generation: number }
  /** The store holds an older generation of `key` (0: none) than this process saw (`known`). */
  | { readonly type: 'rollback'; readonly key: string; readonly known: number; readonly found: number };

export interface AccountRecordsOptions {
  /** The host's sealing key (≥ 32 secret bytes): records are sealed at rest. Without it they are stored as given. */
  sealKey?: Uint8Array;
  /** Names the store in the sealing key derivation (see sealing.ts). */
  sealContext?: string;
  limits?: Partial<Limits>;
  onEvent?: (event: StoreEvent) => void;
  /** Nonces for sealing (tests); the platform CSPRNG by default. */
  random?: RandomSource;
  /** The AEAD to seal with if it agrees with the build's own (sealing.ts: SealOptions.aead); e.g. a WASM backend's. */
  sealAead?: SealAead;
}

export interface AccountRecords {
  readonly accountId: string;
  /** The record, checked against the generations this process saw (OtrStoreRollbackError if older). */
  load(key: string): Promise<StoredRecord | undefined>;
  /** Every record key of the account (for lazy restore). */
  keys(): Promise<string[]>;
  /**
   * Durably applies the changes (all or none). Resolves once they are durable: transmit after it.
   * Throws OtrStoreConflictError or OtrStoreRollbackError (nothing written) as described above.
   */
  commit(changes: RecordChanges | readonly RecordChange[]): Promise<void>;
  /** The generation of `key` the caller last loaded or committed (0: known absent), undefined if neither. */
  generation(key: string): number | undefined;
  /** A change for `key` at the generation after the one the caller holds (1 if unknown: the store's check decides). */
  change(key: string, bytes: Uint8Array | null): RecordChange;
  /** After a rollback, once the caller ended that conversation: accept the store's state as current and return it. */
  resolveRollback(key: string): Promise<StoredRecord | undefined>;
  /**
   * Deletes `key` when its row does not open (sealed with another key, edited, moved): by compare-and-set on
   * the store's own generation, the only one readable. Resolves once deleted (or when there is no record);
   * OtrStoreConflictError when the row opens after all or another writer changed it meanwhile — nothing is
   * deleted then (the caller reloads: a row that opens is forgotten the ordinary way). A row the store itself
   * refuses to load (oversized, a generation that is none: its generation is not readable at all) is deleted
   * by the store's own condition instead (RecordStore.deleteRefused): CONFLICT if it loads by then; a store
   * without that method: OtrStateError naming the row.
   */
  forgetUnopenable(key: string): Promise<void>;
  /** Wipes the sealing keys. The store itself stays open (it is shared by many accounts). */
  close(): Promise<void>;
}

/** The store as seen through this helper: closing the helper must not close the shared store. */
function borrowed(store: RecordStore): RecordStore {
  const view: RecordStore = {
    load: (a, k) => store.load(a, k),
    keys: (a) => store.keys(a),
    commit: (a, c) => store.commit(a, c),
    close: async () => {},
  };
  if (typeof store.deleteRefused === 'function') view.deleteRefused = (a, k) => store.deleteRefused!(a, k);
  // A store that takes a commit's arrays (./owned.ts) still does through the borrowed view.
  const owned = (store as Partial<OwningStore>)[COMMIT_OWNED];
  if (typeof owned === 'function') (view as OwningStore)[COMMIT_OWNED] = (a, c) => owned.call(store, a, c);
  const lend = rowLender(store);
  if (lend !== undefined) (view as OwningStore)[ROW_BUFFER] = lend;
  return view;
}

/**
 * What this helper knows of one record. One entry per record key rather than a map per fact: every commit
 * asked three maps up to seven times, each a probe into a table of every record the account touched, cold
 * by the time a conversation's next message comes (session 9).
 */
interface RecordState extends ViewMemo {
  /** Highest generation seen (loaded, committed, or reported by a conflict); 0 = known absent; undefined = never seen. */
  seen: number | undefined;
  /** The generation the caller's copy is based on: what it last loaded or committed (not what a conflict revealed). */
  base: number | undefined;
  /** The last commit touching the record, settled (never rejects), so the next one on it waits; undefined when none is pending. */
  tail: Promise<void> | undefined;
}

class AccountRecordsImpl implements AccountRecords {
  private readonly records = new Map<string, RecordState>();

  constructor(
    readonly accountId: string,
    private readonly store: StoreView,
    private readonly limits: StoreLimits,
    private readonly onEvent: ((event: StoreEvent) => void) | undefined,
  ) {}

  private emit(event: StoreEvent): void {
    // A failing listener must not replace the typed error the caller is about to get.
    try {
      this.onEvent?.(event);
    } catch {
      /* ignored on purpose */
    }
  }

  private rollback(key: string, known: number, found: number): OtrStoreRollbackError {
    this.emit({ type: 'rollback', key, known, found });
    return new OtrStoreRollbackError(
      key,
      known,
      found,
      `record ${JSON.stringify(key)} went back from generation ${known} to ${found === 0 ? 'nothing' : found}: ` +
        `the store was restored or edited; its keys may have been used already`,
    );
  }

  /** The entry of `key`, made (knowing nothing) if there is none. */
  private state(key: string): RecordState {
    let s = this.records.get(key);
    if (s === undefined) this.records.set(key, (s = { seen: undefined, base: undefined, tail: undefined, view: undefined }));
    return s;
  }

  private raise(key: string, generation: number): void {
    const s = this.state(key);
    if (generation > (s.seen ?? -1)) s.seen = generation;
  }

  async load(key: string): Promise<StoredRecord | undefined> {
    checkName(key, 'record key', this.limits);
    await this.records.get(key)?.tail;
    const record = await this.store.load(this.accountId, key);
    const found = record?.generation ?? 0;
    const s = this.state(key);
    if (s.seen !== undefined && found < s.seen) throw this.rollback(key, s.seen, found);
    s.seen = found;
    s.base = found;
    return record;
  }

  keys(): Promise<string[]> {
    return this.store.keys(this.accountId);
  }

  generation(key: string): number | undefined {
    return this.records.get(key)?.base;
  }

  change(key: string, bytes: Uint8Array | null): RecordChange {
    checkName(key, 'record key', this.limits);
    return { key, generation: (this.records.get(key)?.base ?? 0) + 1, bytes };
  }

  async resolveRollback(key: string): Promise<StoredRecord | undefined> {
    checkName(key, 'record key', this.limits);
    await this.records.get(key)?.tail;
    const record = await this.store.load(this.accountId, key);
    const s = this.state(key);
    s.seen = s.base = record?.generation ?? 0;
    return record;
  }

  async forgetUnopenable(key: string): Promise<void> {
    checkName(key, 'record key', this.limits);
    await this.records.get(key)?.tail;
    let stored: StoredGeneration | undefined;
    try {
      stored = await this.store.stored(this.accountId, key);
    } catch (e) {
      // The store itself refuses the row (oversized, a generation that is none, not a record): its generation
      // cannot be read at all, so the store deletes it on its own condition (session 9).
      if (!(e instanceof OtrDecodeError || e instanceof OtrLimitError)) throw e;
      return this.forgetRefused(key);
    }
    if (stored === undefined) {
      const s = this.state(key);
      s.seen = s.base = 0;
      return;
    }
    if (stored.opens) {
      this.emit({ type: 'conflict', key, generation: stored.generation + 1 });
      throw new OtrStoreConflictError(key, `record ${JSON.stringify(key)} opens now (another writer replaced it): load it before forgetting it`);
    }
    // Safe without authenticating the generation: a delete injects no state, and the store refuses it if the
    // row moved since it was read (a live writer wins; one based on the deleted row is refused after). The
    // caller gives up whatever it saw of this record, as after a rollback.
    const s = this.state(key);
    s.seen = s.base = stored.generation;
    await this.commit([{ key, generation: stored.generation + 1, bytes: null }]);
  }

  /**
   * Deletes the row of `key` that the store refuses to load, by the store's own condition evaluated on the row
   * as it stands at the delete (RecordStore.deleteRefused): a valid row a writer put there meanwhile is never
   * deleted (CONFLICT here instead), and a writer based on the refused row that comes after is refused by its
   * compare-and-set (the record is gone). As in forgetUnopenable, the caller gives up what it saw of `key`.
   */
  private async forgetRefused(key: string): Promise<void> {
    if (!(await this.store.deleteRefused(this.accountId, key))) {
      // Nothing the store refuses is there now: a writer replaced the row (it loads) or removed it. A row still
      // refused by a condition the store's delete does not cover (e.g. stored twice) throws its error here.
      const now = await this.store.stored(this.accountId, key);
      if (now !== undefined) {
        this.emit({ type: 'conflict', key, generation: now.generation + 1 });
        throw new OtrStoreConflictError(key, `record ${JSON.stringify(key)} loads now (another writer replaced it): load it before forgetting it`);
      }
    }
    const s = this.state(key);
    s.seen = s.base = 0;
  }

  commit(input: RecordChanges | readonly RecordChange[]): Promise<void> {
    const given = Array.isArray(input) ? (input as readonly RecordChange[]) : (input as RecordChanges | undefined)?.changed;
    if (!Array.isArray(given)) return Promise.reject(new OtrArgumentError('commit takes { changed: RecordChange[] } or an array of changes'));
    try {
      checkCommit(this.accountId, given, this.limits);
    } catch (e) {
      return Promise.reject(e);
    }
    // What the commit is (keys, generations, write or delete), snapshotted: the caller may change its array.
    const changes = given.map((c): RecordChange => ({ key: c.key, generation: c.generation, bytes: c.bytes === null ? null : WRITTEN }));
    // Each change's entry, looked up once for the whole commit (the view's memo, ordering, checks, bookkeeping).
    const states = changes.length === 1 ? [this.state(changes[0]!.key)] : changes.map((c) => this.state(c.key));
    // Taken now (sealed into fresh rows, or copied): the caller may reuse or wipe its buffers while we wait
    // for earlier commits. These arrays are handed to the store, not copied again (./owned.ts).
    let prepared: Prepared;
    try {
      prepared = this.store.prepare(this.accountId, given, states);
    } catch (e) {
      return Promise.reject(e);
    }
    let before: Promise<void> | Promise<void>[] | undefined;
    for (let i = 0; i < states.length; i++) {
      const tail = states[i]!.tail;
      if (tail === undefined) continue;
      if (before === undefined) before = tail;
      else if (Array.isArray(before)) before.push(tail);
      else before = [before, tail];
    }
    const run =
      before === undefined
        ? this.apply(changes, states, prepared)
        : (Array.isArray(before) ? Promise.all(before) : before).then(() => this.apply(changes, states, prepared));
    // Applied already (the memory store: ./owned.ts APPLIED) with nothing before it: nothing is pending on these
    // records, so no later commit has anything to wait for.
    if (run === APPLIED) return run;
    const settled: Promise<void> = run.then(untail, untail);
    function untail(): void {
      for (let i = 0; i < states.length; i++) if (states[i]!.tail === settled) states[i]!.tail = undefined;
    }
    for (let i = 0; i < states.length; i++) states[i]!.tail = settled;
    return run;
  }

  /**
   * Not async (one promise chain per commit, not an async frame around the store's promise); when the store
   * applied the commit before returning (APPLIED), the bookkeeping is done at once and APPLIED returned.
   */
  private apply(changes: readonly RecordChange[], states: readonly RecordState[], prepared: Prepared): Promise<void> {
    // A base older than what this process already saw: the caller works on a stale copy. Refuse before the
    // store does, so that a store that went backwards to exactly that base cannot accept it.
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      const known = states[i]!.seen;
      if (known !== undefined && expectedGeneration(c) < known) {
        wipeRows(prepared.rows); // never handed over: ours to wipe (plaintext copies)
        this.emit({ type: 'conflict', key: c.key, generation: c.generation });
        return Promise.reject(
          new OtrStoreConflictError(
            c.key,
            `record ${JSON.stringify(c.key)} at generation ${c.generation} is based on generation ${expectedGeneration(c)}, ` +
              `but this process already saw generation ${known}: the caller's copy is stale (reload it)`,
          ),
        );
      }
    }
    let stored: Promise<void>;
    try {
      stored = this.store.commitPrepared(prepared, changes);
    } catch (e) {
      stored = Promise.reject(e);
    }
    if (stored === APPLIED) {
      committed(changes, states);
      return APPLIED;
    }
    return stored.then(
      () => committed(changes, states),
      async (e: unknown) => {
        if (e instanceof OtrStoreConflictError) throw await this.classify(e, changes);
        throw e;
      },
    );
  }

  /** A refused commit: did the store go backwards (rollback) or did someone else write (conflict)? */
  private async classify(e: OtrStoreConflictError, changes: readonly RecordChange[]): Promise<Error> {
    const change = changes.find((c) => c.key === e.key);
    const known = this.records.get(e.key)?.seen;
    if (change && known !== undefined) {
      let found: number | undefined;
      try {
        const now = await this.store.load(this.accountId, e.key);
        found = now?.generation ?? 0;
        now?.bytes.fill(0); // read for its generation only: the (unsealed) state is not kept
      } catch {
        // The record does not even load (a hostile row): the conflict stands; the next load reports why.
      }
      if (found !== undefined && found < known) return this.rollback(e.key, known, found);
      if (found !== undefined) this.raise(e.key, found);
    }
    this.emit({ type: 'conflict', key: e.key, generation: change?.generation ?? 0 });
    return e;
  }

  async close(): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const s of this.records.values()) if (s.tail !== undefined) pending.push(s.tail);
    await Promise.all(pending);
    await this.store.close();
  }
}

/** A commit landed: its records are at their new generations (0 for a delete), seen and based on. */
function committed(changes: readonly RecordChange[], states: readonly RecordState[]): void {
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    states[i]!.seen = states[i]!.base = c.bytes === null ? 0 : c.generation;
  }
}

/**
 * Opens one account's records on `store` (shared by every account of the process). Nothing is loaded yet:
 * records are loaded when first used.
 */
export async function openAccountRecords(store: RecordStore, accountId: string, options: AccountRecordsOptions = {}): Promise<AccountRecords> {
  const limits = resolveLimits(options.limits);
  checkName(accountId, 'accountId', limits);
  if (typeof store?.commit !== 'function' || typeof store.load !== 'function' || typeof store.keys !== 'function')
    throw new OtrArgumentError('store must implement RecordStore (load, keys, commit, close)');
  const view = options.sealKey
    ? sealedView(borrowed(store), options.sealKey, { context: options.sealContext, limits: options.limits, random: options.random, aead: options.sealAead })
    : plainView(borrowed(store));
  return new AccountRecordsImpl(accountId, view, limits, options.onEvent);
}
