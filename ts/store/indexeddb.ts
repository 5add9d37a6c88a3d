/**
 * `otr4/store/indexeddb`: records in the browser's IndexedDB (no dependency).
 *
 * One object store, `records`, keyed by [accountId, key], holding { account, key, generation, bytes }.
 * A commit is one readwrite transaction with durability 'strict' (the browser flushes it to disk before
 * `complete`, so `commit()` resolves only once it is durable): it first reads every changed record, checks
 * each generation against the expected one, and only then writes; a mismatch aborts the transaction, so
 * nothing is written and the caller gets OtrStoreConflictError. IndexedDB runs readwrite transactions on
 * overlapping stores one after another, also across tabs, so two tabs committing from the same base
 * generation cannot both win.
 *
 * Values come back from a database other scripts of the origin can write, so each is checked like a row from
 * a hostile disk (validate.ts): a generation that is not a positive safe integer, bytes that are not a
 * Uint8Array or over maxRecordBytes are typed errors.
 */
import { OtrArgumentError, OtrDecodeError, OtrLimitError, OtrStateError } from '../errors.js';
import { resolveLimits, type Limits } from '../limits.js';
import type { RecordChange, RecordStore, StoredRecord } from './types.js';
import { checkCommit, checkKeyCount, checkLoad, checkOpen, checkRow, checkStoredKey, conflict, isGeneration, ownCopy, wipeRows, type StoreLimits } from './validate.js';

export interface IndexedDbStoreOptions {
  /** The database name (default "otr4"). */
  name?: string;
  /** The IndexedDB factory (default globalThis.indexedDB). */
  indexedDB?: IDBFactory;
  limits?: Partial<Limits>;
}

const VERSION = 1;
const RECORDS = 'records';

interface Value {
  account: unknown;
  key: unknown;
  generation: unknown;
  bytes: unknown;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(new OtrStateError(`IndexedDB request failed: ${r.error?.name ?? 'unknown error'}`));
  });
}

/** All keys [account, *] of one account: arrays sort after strings, so [account, []] bounds every string key. */
function accountRange(accountId: string): IDBKeyRange {
  return IDBKeyRange.bound([accountId], [accountId, []]);
}

export class IndexedDbStore implements RecordStore {
  private closed = false;

  private constructor(
    private readonly db: IDBDatabase,
    private readonly limits: StoreLimits,
  ) {
    // Another tab upgrading the database: let it (this connection is then closed; calls fail typed).
    db.onversionchange = () => {
      this.closed = true;
      db.close();
    };
    // The browser closing the connection itself (site data cleared, the database deleted, a storage error):
    // calls fail typed from then on.
    db.onclose = () => {
      this.closed = true;
    };
  }

  /**
   * A transaction on the records store. IDBDatabase.transaction throws a DOMException when the connection is
   * closed or closing, which can happen without our onclose having run yet (close() by other code of the page,
   * a versionchange in progress): typed, like every other failure (found by test/attacks/s8 IndexedDB cases).
   */
  private transaction(mode: IDBTransactionMode, options?: IDBTransactionOptions): IDBTransaction {
    try {
      return this.db.transaction(RECORDS, mode, options);
    } catch (e) {
      this.closed = true;
      throw new OtrStateError(`IndexedDB connection unusable: ${(e as Error)?.name ?? 'unknown error'}`);
    }
  }

  static async open(options: IndexedDbStoreOptions = {}): Promise<IndexedDbStore> {
    const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) throw new OtrStateError('IndexedDB is not available here');
    const name = options.name ?? 'otr4';
    if (typeof name !== 'string' || name === '') throw new OtrArgumentError('name must be a non-empty string');
    const limits = resolveLimits(options.limits);
    const open = factory.open(name, VERSION);
    open.onupgradeneeded = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains(RECORDS)) db.createObjectStore(RECORDS);
    };
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      open.onsuccess = () => resolve(open.result);
      open.onerror = () =>
        reject(
          open.error?.name === 'VersionError'
            ? new OtrStateError(`IndexedDB "${name}" has a newer version than this library knows (${VERSION})`)
            : new OtrStateError(`IndexedDB "${name}" cannot be opened: ${open.error?.name ?? 'unknown error'}`),
        );
      open.onblocked = () => reject(new OtrStateError(`IndexedDB "${name}" is blocked by another tab holding an older version`));
    });
    if (!db.objectStoreNames.contains(RECORDS)) {
      db.close();
      throw new OtrStateError(`IndexedDB "${name}" has no ${RECORDS} store (not an otr4 database)`);
    }
    return new IndexedDbStore(db, limits);
  }


  async load(accountId: string, key: string): Promise<StoredRecord | undefined> {
    checkOpen(this.closed);
    checkLoad(accountId, key, this.limits);
    const tx = this.transaction('readonly');
    const v = (await request(tx.objectStore(RECORDS).get([accountId, key]))) as Value | undefined;
    return v === undefined ? undefined : this.record(key, v);
  }

  /** The record a stored value holds, or the typed error `load` gives for a value it refuses. */
  private record(key: string, v: Value): StoredRecord {
    if (typeof v !== 'object' || v === null) throw new OtrDecodeError(`stored record ${JSON.stringify(key)} is not a record`);
    const bytes = v.bytes instanceof Uint8Array ? v.bytes : undefined;
    // This store writes numbers; anything else (a BigInt, which checkRow would take for SQLite's sake) is a
    // value it did not write, refused as commit() refuses it (found by test/attacks/s8 IndexedDB cases).
    return checkRow(key, typeof v.generation === 'number' ? v.generation : undefined, bytes?.length ?? -1, bytes, this.limits);
  }

  /** Whether `load` refuses the value (the condition of deleteRefused: the same test, not a restatement of it). */
  private refuses(key: string, v: Value): boolean {
    try {
      this.record(key, v).bytes.fill(0); // it loads: the copy checkRow made is not kept
      return false;
    } catch (e) {
      if (e instanceof OtrDecodeError || e instanceof OtrLimitError) return true;
      throw e;
    }
  }

  /**
   * RecordStore.deleteRefused: one readwrite transaction that reads the value and deletes it only if `load`
   * refuses it (the same test, `record`: not a record, a generation that is no number of a generation, bytes
   * that are not bytes or over maxRecordBytes). Readwrite transactions on the store run one at a time, across tabs too,
   * so no writer changes the value between that read and the delete. The value is read whole (IndexedDB has no
   * size-first read: item 3 of docs/stores.md, session 9), under the same bound as a load of it.
   */
  deleteRefused(accountId: string, key: string): Promise<boolean> {
    let tx: IDBTransaction;
    try {
      checkOpen(this.closed);
      checkLoad(accountId, key, this.limits);
      tx = this.transaction('readwrite', { durability: 'strict' });
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<boolean>((resolve, reject) => {
      const store = tx.objectStore(RECORDS);
      let deleted = false;
      tx.oncomplete = () => resolve(deleted);
      tx.onabort = () => reject(new OtrStateError(`IndexedDB delete aborted: ${tx.error?.name ?? 'unknown error'}`));
      tx.onerror = (ev) => ev.preventDefault(); // a failed request aborts the transaction; onabort reports it
      const r = store.get([accountId, key]);
      r.onsuccess = () => {
        const v = r.result as Value | undefined;
        if (v === undefined || !this.refuses(key, v)) return;
        store.delete([accountId, key]);
        deleted = true;
      };
    });
  }

  async keys(accountId: string): Promise<string[]> {
    checkOpen(this.closed);
    checkLoad(accountId, undefined, this.limits);
    const tx = this.transaction('readonly');
    const keys = await request(tx.objectStore(RECORDS).getAllKeys(accountRange(accountId), this.limits.maxRecordsPerAccount + 1));
    checkKeyCount(keys.length, this.limits);
    // The range also holds keys this store never writes: [account, 'k', more...] (which would list 'k' a
    // second time) or [account, 5]. Only [account, text] is a record (found by test/attacks/s8 IndexedDB cases).
    return keys.map((k) => checkStoredKey(Array.isArray(k) && k.length === 2 ? k[1] : undefined, this.limits));
  }

  commit(accountId: string, input: readonly RecordChange[]): Promise<void> {
    let changes: readonly RecordChange[];
    try {
      checkOpen(this.closed);
      // Copied now: the transaction runs later, and the caller may reuse its buffers meanwhile.
      changes = ownCopy(checkCommit(accountId, input, this.limits));
    } catch (e) {
      return Promise.reject(e);
    }
    if (changes.length === 0) return Promise.resolve();
    let tx: IDBTransaction;
    try {
      tx = this.transaction('readwrite', { durability: 'strict' });
    } catch (e) {
      wipeRows(changes);
      return Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) => {
      const store = tx.objectStore(RECORDS);
      let failure: Error | undefined;
      const fail = (e: Error) => {
        failure ??= e;
        try {
          tx.abort();
        } catch {
          // already finishing
        }
      };
      const wipeCopies = () => wipeRows(changes); // the database holds its own clone
      tx.oncomplete = () => {
        wipeCopies();
        resolve();
      };
      tx.onabort = () => {
        wipeCopies();
        reject(failure ?? new OtrStateError(`IndexedDB commit aborted: ${tx.error?.name ?? 'unknown error'}`));
      };
      tx.onerror = (ev) => {
        // A failed request aborts the transaction; onabort reports it.
        ev.preventDefault();
        fail(new OtrStateError(`IndexedDB commit failed: ${tx.error?.name ?? (ev.target as IDBRequest | null)?.error?.name ?? 'unknown error'}`));
      };
      // Read every changed record first (requests run in order inside the transaction) ...
      const found: number[] = new Array(changes.length);
      let read = 0;
      changes.forEach((c, i) => {
        const r = store.get([accountId, c.key]);
        r.onsuccess = () => {
          const v = r.result as Value | undefined;
          const g = v && typeof v === 'object' ? v.generation : undefined;
          found[i] = v === undefined ? 0 : isGeneration(g) ? g : -1;
          if (++read === changes.length) this.writeAll(store, accountId, changes, found, fail);
        };
      });
    });
  }

  /** ... then, only if every generation matches, write them: still inside the same transaction. */
  private writeAll(store: IDBObjectStore, accountId: string, changes: readonly RecordChange[], found: number[], fail: (e: Error) => void): void {
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      if (found[i] !== c.generation - 1) return fail(conflict(c, found[i]! >= 0 ? found[i] : undefined));
    }
    let created = false;
    for (const c of changes) {
      if (c.bytes === null) store.delete([accountId, c.key]);
      else {
        if (c.generation === 1) created = true;
        store.put({ account: accountId, key: c.key, generation: c.generation, bytes: c.bytes }, [accountId, c.key]);
      }
    }
    if (created) {
      const r = store.count(accountRange(accountId));
      r.onsuccess = () => {
        if (r.result > this.limits.maxRecordsPerAccount)
          fail(new OtrLimitError(`the account would hold more than maxRecordsPerAccount (${this.limits.maxRecordsPerAccount}) records`));
      };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

/** Opens (creating if needed) an IndexedDB record store. */
export function openIndexedDbStore(options: IndexedDbStoreOptions = {}): Promise<IndexedDbStore> {
  return IndexedDbStore.open(options);
}
