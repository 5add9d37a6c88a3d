/**
 * The in-memory RecordStore: for tests, and for hosts that persist elsewhere. It keeps the same contract as
 * the durable stores (compare-and-set per record, all-or-nothing commits, the same limits and errors), so a
 * suite that passes against it says something about the others. Bytes are copied in and out: a caller that
 * wipes or reuses its buffer never changes what is stored. The one exception is the library's own handover
 * (COMMIT_OWNED, ./owned.ts): rows made for that commit alone are kept as they are, not copied again.
 */
import { resolveLimits, type Limits } from '../limits.js';
import type { RecordChange, StoredRecord } from './types.js';
import { COMMIT_OWNED, type OwningStore } from './owned.js';
import { checkCommit, checkKeyCount, checkLoad, checkOpen, conflict, expectedGeneration, netNewRecords, wipeRows, type StoreLimits } from './validate.js';

/** The result of every successful in-memory commit (a settled promise carries no state: safe to share). */
const DONE: Promise<void> = Promise.resolve();

interface Held {
  generation: number;
  bytes: Uint8Array;
}

export interface MemoryStoreOptions {
  limits?: Partial<Limits>;
}

export class MemoryStore implements OwningStore {
  private readonly accounts = new Map<string, Map<string, Held>>();
  private readonly limits: StoreLimits;
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.limits = resolveLimits(options.limits);
  }

  async load(accountId: string, key: string): Promise<StoredRecord | undefined> {
    checkOpen(this.closed);
    checkLoad(accountId, key, this.limits);
    const held = this.accounts.get(accountId)?.get(key);
    return held && { key, generation: held.generation, bytes: held.bytes.slice() };
  }

  async keys(accountId: string): Promise<string[]> {
    checkOpen(this.closed);
    checkLoad(accountId, undefined, this.limits);
    const records = this.accounts.get(accountId);
    checkKeyCount(records?.size ?? 0, this.limits);
    return records ? [...records.keys()] : [];
  }

  async commit(accountId: string, changes: readonly RecordChange[]): Promise<void> {
    this.apply(accountId, changes, true);
  }

  /** As commit, keeping the arrays as given (./owned.ts: sealed rows and own copies from openAccountRecords). */
  [COMMIT_OWNED](accountId: string, changes: readonly RecordChange[]): Promise<void> {
    try {
      this.apply(accountId, changes, false);
    } catch (e) {
      wipeRows(changes); // ours now, and not kept
      return Promise.reject(e);
    }
    return DONE; // (not an async function: one settled promise shared by every commit)
  }

  private apply(accountId: string, changes: readonly RecordChange[], copy: boolean): void {
    checkOpen(this.closed);
    checkCommit(accountId, changes, this.limits);
    const records = this.accounts.get(accountId) ?? new Map<string, Held>();
    // Check every change first: a commit applies entirely or not at all.
    for (const c of changes) {
      const found = records.get(c.key)?.generation ?? 0;
      if (found !== expectedGeneration(c)) throw conflict(c, found);
    }
    checkKeyCount(records.size + netNewRecords(changes, (k) => records.has(k)), this.limits);
    for (const c of changes) {
      if (c.bytes === null) {
        const gone = records.get(c.key);
        if (gone !== undefined) gone.bytes.fill(0); // only this store holds it (load hands out copies)
        records.delete(c.key);
        continue;
      }
      const bytes = copy ? c.bytes.slice() : c.bytes;
      // Updated in place (no new entry per write): `load` hands out copies, so no caller holds a Held.
      const held = records.get(c.key);
      if (held === undefined) records.set(c.key, { generation: c.generation, bytes });
      else {
        held.generation = c.generation;
        held.bytes.fill(0); // the state it replaces (plaintext when unsealed): no one else holds it
        held.bytes = bytes;
      }
    }
    if (records.size > 0) this.accounts.set(accountId, records);
    else this.accounts.delete(accountId);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.accounts.clear();
  }

}
