/**
 * An account's records as the pool keeps them (checkpoints: 'records', the default): the `account` record and
 * one `conv:<peer>` record per conversation, each at the generation the account handed it out at — exactly
 * what a record store would hold after committing every outcome's `changed`. Why: a call changes one or two
 * records (~2.2 KB for a conversation), so keeping those instead of the whole serialized account after every
 * call costs O(what changed) on both threads, and the worker no longer runs `serialize()` per call.
 *
 * Memory: each record sits in its own long-lived buffer, overwritten in place by the next change of that
 * record (CheckpointBuffer: a shorter record zeroes the tail, a grown one zeroes the buffer it leaves), so the
 * per-call buffers that cross threads die young instead of filling the old generation at the rate of traffic.
 * A deleted record (`bytes: null`, forget) is zeroed and dropped. `wipe()` zeroes every record.
 *
 * What leaves the set is always a copy (`records()`): the worker's `Account.fromRecord` / `attachRecord` may
 * keep views into what they are given, and those must never see a later overwrite.
 */
import type { RecordChange, StoredRecord } from '../store/types.js';
import { CheckpointBuffer } from './checkpoint-buffer.js';

interface Held {
  generation: number;
  readonly buf: CheckpointBuffer;
}

export class RecordSet {
  private readonly held = new Map<string, Held>();

  constructor(records: readonly (StoredRecord | RecordChange)[] = []) {
    this.apply(records);
  }

  /** A second set with the same records (a revert: the two then change apart). */
  static from(other: RecordSet): RecordSet {
    const s = new RecordSet();
    for (const [key, h] of other.held) s.held.set(key, { generation: h.generation, buf: CheckpointBuffer.from(h.buf) });
    return s;
  }

  /**
   * Each change replaces its record (copied in, in place when it fits) or, with `bytes: null`, deletes it
   * (zeroed). The changes' own buffers stay the caller's.
   */
  apply(changes: readonly (StoredRecord | RecordChange)[]): void {
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      const h = this.held.get(c.key);
      if (c.bytes === null) {
        if (h) {
          h.buf.wipe();
          this.held.delete(c.key);
        }
      } else if (h) {
        h.buf.set(c.bytes);
        h.generation = c.generation;
      } else this.held.set(c.key, { generation: c.generation, buf: new CheckpointBuffer(c.bytes) });
    }
  }

  /** Copies of every record, the account record first (what a reload sends to a worker). */
  records(): StoredRecord[] {
    const out: StoredRecord[] = [];
    for (const [key, h] of this.held) {
      const r = { key, generation: h.generation, bytes: h.buf.copy() };
      if (key === 'account') out.unshift(r);
      else out.push(r);
    }
    return out;
  }

  get size(): number {
    return this.held.size;
  }

  /** Bytes held (the records' lengths). */
  get byteLength(): number {
    let n = 0;
    for (const h of this.held.values()) n += h.buf.length;
    return n;
  }

  /** Zeroes every record; the set is empty afterwards. */
  wipe(): void {
    for (const h of this.held.values()) h.buf.wipe();
    this.held.clear();
  }
}
