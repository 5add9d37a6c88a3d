/**
 * The in-memory RecordStore: for tests, and for hosts that persist elsewhere. It keeps the same contract as
 * the durable stores (compare-and-set per record, all-or-nothing commits, the same limits and errors), so a
 * suite that passes against it says something about the others. Bytes are copied in and out: a caller that
 * wipes or reuses its buffer never changes what is stored. The one exception is the library's own handover
 * (COMMIT_OWNED, ./owned.ts): rows made for that commit alone are kept as they are, not copied again.
 */
import { copyBytes } from '../bytes.js';
import { resolveLimits, type Limits } from '../limits.js';
import type { RecordChange, StoredRecord } from './types.js';
import { APPLIED, COMMIT_OWNED, ROW_BUFFER, type OwningStore } from './owned.js';
import { checkCommit, checkKeyCount, checkLoad, checkOpen, conflict, expectedGeneration, netNewRecords, wipeRows, type StoreLimits } from './validate.js';

interface Held {
  generation: number;
  bytes: Uint8Array;
  /**
   * The whole buffer of a row this store lent (ROW_BUFFER) and now holds, zero past `bytes`; undefined for a
   * row it copied or was handed without lending.
   */
  room: Uint8Array | undefined;
  /** A zeroed buffer (a previous row's) to lend for this record's next row. */
  spare: Uint8Array | undefined;
  /**
   * The whole buffer last lent (ROW_BUFFER) for this record's next row and not handed back yet. Kept here, on
   * the record, rather than in `lent`: a WeakSet insert, probe and delete on every commit of every record cost
   * more than the lending saved (session 9). Only the latest lend is kept: an earlier one still in flight (two
   * commits of one record) is then kept without its room, which wastes room, never bytes.
   */
  lentOut: Uint8Array | undefined;
}

/** Bytes of room past a lent row (a receiver's record grows by a queued MAC key per message: ~15 of them). */
const ROW_ROOM = 1024;

export interface MemoryStoreOptions {
  limits?: Partial<Limits>;
}

export class MemoryStore implements OwningStore {
  private readonly accounts = new Map<string, Map<string, Held>>();
  private readonly limits: StoreLimits;
  private closed = false;
  /**
   * Buffers lent by ROW_BUFFER for a record that does not exist yet (its first row; later rows are tracked on
   * the record: Held.lentOut) and not yet handed back: a row in one of them may be kept with its room.
   */
  private readonly lent = new WeakSet<ArrayBufferLike>();

  constructor(options: MemoryStoreOptions = {}) {
    this.limits = resolveLimits(options.limits);
  }

  async load(accountId: string, key: string): Promise<StoredRecord | undefined> {
    checkOpen(this.closed);
    checkLoad(accountId, key, this.limits);
    const held = this.accounts.get(accountId)?.get(key);
    return held && { key, generation: held.generation, bytes: held.bytes.slice() };
  }

  /**
   * RecordStore.deleteRefused: false. Every row here passed checkCommit under this store's own (fixed) limits
   * and nothing else writes to it, so there is never a row that `load` refuses.
   */
  async deleteRefused(accountId: string, key: string): Promise<boolean> {
    checkOpen(this.closed);
    checkLoad(accountId, key, this.limits);
    return false;
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
    return APPLIED; // applied already (./owned.ts): the layers above skip their promise per commit
  }

  /**
   * ./owned.ts ROW_BUFFER: a zeroed array of `length` bytes for the next row of (accountId, key): the record's
   * spare (its previous row's buffer, wiped) when it fits, else a new buffer with room to grow. Memory: a
   * record written through the library holds up to two buffers (its row and the spare), each with
   * ROW_ROOM bytes of room.
   */
  [ROW_BUFFER](accountId: string, key: string, length: number): Uint8Array {
    const held = this.accounts.get(accountId)?.get(key);
    const spare = held?.spare;
    let buf: Uint8Array;
    if (spare !== undefined && spare.length >= length && spare.length <= 2 * length + ROW_ROOM) {
      held!.spare = undefined;
      buf = spare;
    } else {
      if (held !== undefined) held.spare = undefined; // too small or too big for this record now: dropped (zero)
      buf = new Uint8Array(length + ROW_ROOM);
    }
    if (held !== undefined) held.lentOut = buf;
    else this.lent.add(buf.buffer);
    return buf.subarray(0, length);
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
        if (gone !== undefined) gone.bytes.fill(0); // only this store holds it (load hands out copies); its spare is zero
        records.delete(c.key);
        continue;
      }
      const bytes = copy ? copyBytes(c.bytes) : c.bytes; // not slice(): a Node Buffer's is a view of the caller's memory
      const held = records.get(c.key);
      // A row in a buffer this store lent is kept with the buffer's room (zero past the row); a row it copied
      // owns its buffer exactly (so it can be lent again for a record that did not grow).
      let room: Uint8Array | undefined;
      if (copy) room = bytes;
      else if (bytes.byteOffset === 0) {
        const out = held?.lentOut;
        if (out !== undefined && out.buffer === bytes.buffer) {
          held!.lentOut = undefined;
          room = out;
        } else if (this.lent.has(bytes.buffer)) {
          this.lent.delete(bytes.buffer);
          room = new Uint8Array(bytes.buffer);
        }
      }
      // Updated in place (no new entry per write): `load` hands out copies, so no caller holds a Held.
      if (held === undefined) records.set(c.key, { generation: c.generation, bytes, room, spare: undefined, lentOut: undefined });
      else {
        held.generation = c.generation;
        held.bytes.fill(0); // the state it replaces (plaintext when unsealed): no one else holds it
        // Its buffer (zero now, room included) is lent again for the next row of this record.
        if (held.room !== undefined) held.spare = held.room;
        held.bytes = bytes;
        held.room = room;
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
