/**
 * Handing a commit's byte arrays to a store instead of copying them (bridge.message: a record of 2–3 KB per
 * message went through five fresh copies between the session layer and the memory store).
 *
 * The public contract (types.ts) says a store copies the bytes of a commit at the call, because the caller may
 * reuse or wipe its buffers at once. Inside the library, the arrays a commit carries by the time they reach the
 * store are often the library's own, made for this one commit: the sealed rows (sealing.ts) and the plaintext
 * copies openAccountRecords takes. Copying them again is waste. A store that can take such arrays implements
 * the symbol-keyed method below (a user's store need not: it is not part of RecordStore, and without it the
 * store's ordinary `commit` runs, which copies):
 *
 *   store[COMMIT_OWNED](accountId, changes)  — exactly `commit`, except that the byte arrays now belong to the
 *   store: it may keep them as they are (the memory store does) or write and then wipe them (SQLite,
 *   PostgreSQL), and wipes those it does not keep, on success and failure alike. The caller never touches
 *   them again.
 *
 * `StoreView` is what openAccountRecords writes through: `prepare` takes the caller's changes synchronously at
 * the call (sealed into fresh rows, or copied), `commitPrepared` hands them over later, once earlier commits
 * on the same records have landed.
 */
import type { RecordChange, RecordStore, StoredRecord } from './types.js';
import { OtrStateError } from '../errors.js';
import { copyBytes } from '../bytes.js';
import { wipeRows } from './validate.js';

export const COMMIT_OWNED: unique symbol = Symbol('otr4.store.commitOwned');

/**
 * Optional beside COMMIT_OWNED: `store[ROW_BUFFER](accountId, key, length)` lends a zeroed array of exactly
 * `length` bytes for the next row of that record, to be filled (sealed into, or copied into) and handed back
 * through COMMIT_OWNED; the caller owns it until then and drops it if the commit is never made. The memory
 * store keeps the array a record's previous row lived in (wiped) and lends it again, so a record written
 * after every message reuses two buffers instead of allocating one per write (each ≥ 64-byte array is its own
 * off-heap allocation with GC bookkeeping: docs/stores.md, session 6). Stores that write the row elsewhere
 * and wipe it (SQLite, PostgreSQL) do not lend.
 */
export const ROW_BUFFER: unique symbol = Symbol('otr4.store.rowBuffer');

/**
 * What a store's COMMIT_OWNED returns when the commit was applied before the call returned (the memory store):
 * this very promise, already resolved. The layers above (the sealed and plain views, openAccountRecords,
 * openStoredAccount) then do their bookkeeping at once and hand it back as it is, instead of chaining one
 * promise and one microtask each per commit (session 9: a message's two commits went through ~8 of them). A
 * resolved promise carries no state, so one serves every commit; any other promise takes the ordinary path.
 */
export const APPLIED: Promise<void> = Promise.resolve();

/** A store that takes the byte arrays of a commit (see above). */
export interface OwningStore extends RecordStore {
  [COMMIT_OWNED](accountId: string, changes: readonly RecordChange[]): Promise<void>;
  [ROW_BUFFER]?(accountId: string, key: string, length: number): Uint8Array;
}

/** The store's row lender (ROW_BUFFER), bound to it, or undefined when it does not lend. */
export function rowLender(store: RecordStore): ((accountId: string, key: string, length: number) => Uint8Array) | undefined {
  const lend = (store as Partial<OwningStore>)[ROW_BUFFER];
  return typeof lend === 'function' && owning(store) ? (a, k, n) => lend.call(store, a, k, n) : undefined;
}

function owning(store: RecordStore): store is OwningStore {
  return typeof (store as Partial<OwningStore>)[COMMIT_OWNED] === 'function';
}

/**
 * Commits `changes`, whose byte arrays the caller gives up. A store that takes them gets them; any other
 * store's `commit` copies them (the contract of RecordStore) and then, with `wipeAfter`, they are zeroed here
 * once that commit settled (plaintext copies), so no copy outlives the commit either way.
 */
export function handOver(store: RecordStore, accountId: string, changes: readonly RecordChange[], wipeAfter: boolean): Promise<void> {
  if (owning(store)) return store[COMMIT_OWNED](accountId, changes); // no async wrapper: one hop fewer per commit
  return copied(store, accountId, changes, wipeAfter);
}

async function copied(store: RecordStore, accountId: string, changes: readonly RecordChange[], wipeAfter: boolean): Promise<void> {
  try {
    await store.commit(accountId, changes);
  } finally {
    if (wipeAfter) wipeRows(changes);
  }
}

/** The changes of one commit as the store will receive them, taken from the caller at the call. */
export interface Prepared {
  /** The account as the store names it (sealed: a keyed hash). */
  readonly accountId: string;
  /** One row per change, in order: the store's key, the generation, bytes owned by this commit. */
  readonly rows: readonly RecordChange[];
}

/**
 * A place per record, kept by the caller of `prepare` (openAccountRecords keeps one in its entry per record),
 * where the view may keep what it worked out for that record and find it on the record's next commit: the
 * sealed view keeps its row id and associated data there, so a commit does not look them up again in its own
 * table of every record (session 9: a cold probe per commit). Opaque to the caller.
 */
export interface ViewMemo {
  view: unknown;
}

/** A store as openAccountRecords uses it: reads as a RecordStore, writes in two steps (see above). */
export interface StoreView {
  load(accountId: string, key: string): Promise<StoredRecord | undefined>;
  keys(accountId: string): Promise<string[]>;
  /**
   * Takes `changes` (already checked: checkCommit) now: the bytes are sealed into fresh rows or copied, so
   * the caller may wipe or reuse its arrays as soon as this returns. `memos`, when given, holds one place per
   * change (memos[i] for changes[i], always the same place for a given record of `accountId`).
   */
  prepare(accountId: string, changes: readonly RecordChange[], memos?: readonly ViewMemo[]): Prepared;
  /** Durably applies what `prepare` took (all or nothing); errors name the caller's record keys. */
  commitPrepared(prepared: Prepared, changes: readonly RecordChange[]): Promise<void>;
  /**
   * The generation the store holds for `key` (undefined: no record) and whether its row opens — read without
   * handing out its contents, for deleting a record that no longer opens (session 9: AccountRecords.forgetUnopenable).
   */
  stored(accountId: string, key: string): Promise<StoredGeneration | undefined>;
  /**
   * RecordStore.deleteRefused on the store's row of `key` (session 9: AccountRecords.forgetUnopenable, for a
   * row the store refuses to load); OtrStateError naming that row when the store has no such method.
   */
  deleteRefused(accountId: string, key: string): Promise<boolean>;
  close(): Promise<void>;
}

/** What `StoreView.stored` reports of a record. */
export interface StoredGeneration {
  /** The store's own generation of the record (the column, not authenticated when the row does not open). */
  readonly generation: number;
  /** Whether the row opens with this view's key (always true unsealed: the store's bytes are the record). */
  readonly opens: boolean;
}

/**
 * `store.deleteRefused(account, key)` — names as the store holds them — or, for a store without it (a host's
 * own), OtrStateError that names the row and what the host can do: nothing in the library can delete a row
 * whose generation the store will not hand out, without the store's own condition.
 */
export function deleteRefusedRow(store: RecordStore, account: string, key: string): Promise<boolean> {
  if (typeof store.deleteRefused === 'function') return store.deleteRefused(account, key);
  return Promise.reject(
    new OtrStateError(
      `the store refuses to load row ${JSON.stringify(key)} of account ${JSON.stringify(account)} and has no deleteRefused ` +
        `(RecordStore, optional) to remove it: delete that row in the database, or give the store a deleteRefused`,
    ),
  );
}

/** The view of an unsealed store: rows are plaintext copies, handed over (or copied by the store and wiped). */
export function plainView(store: RecordStore): StoreView {
  const lend = rowLender(store);
  return {
    load: (a, k) => store.load(a, k),
    keys: (a) => store.keys(a),
    prepare(accountId, changes) {
      const rows = changes.map((c): RecordChange => {
        if (c.bytes === null) return { key: c.key, generation: c.generation, bytes: null };
        let bytes: Uint8Array;
        if (lend === undefined) bytes = copyBytes(c.bytes);
        else (bytes = lend(accountId, c.key, c.bytes.length)).set(c.bytes);
        return { key: c.key, generation: c.generation, bytes };
      });
      return { accountId, rows };
    },
    commitPrepared: (p) => handOver(store, p.accountId, p.rows, true),
    async stored(accountId, key) {
      const record = await store.load(accountId, key);
      record?.bytes.fill(0); // read for its generation only (plaintext)
      return record && { generation: record.generation, opens: true };
    },
    deleteRefused: (accountId, key) => deleteRefusedRow(store, accountId, key),
    close: async () => {},
  };
}
