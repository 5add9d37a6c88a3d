/**
 * A RecordStore whose rows tests can read and edit directly, as an attacker with the database would:
 * copy a row elsewhere, flip bits, edit a generation, restore an old snapshot. Compare-and-set like the real
 * stores; counts calls so tests can tell whether the store was reached at all.
 */
import { OtrStoreConflictError } from '../../ts/errors.js';
import type { RecordChange, RecordStore, StoredRecord } from '../../ts/store/types.js';

export interface Row {
  generation: number;
  bytes: Uint8Array;
}

export class RawStore implements RecordStore {
  rows = new Map<string, Map<string, Row>>();
  calls = { load: 0, keys: 0, commit: 0 };

  account(a: string): Map<string, Row> {
    let m = this.rows.get(a);
    if (!m) this.rows.set(a, (m = new Map()));
    return m;
  }

  async load(a: string, key: string): Promise<StoredRecord | undefined> {
    this.calls.load++;
    const r = this.rows.get(a)?.get(key);
    return r && { key, generation: r.generation, bytes: r.bytes.slice() };
  }

  async keys(a: string): Promise<string[]> {
    this.calls.keys++;
    return [...(this.rows.get(a)?.keys() ?? [])];
  }

  async commit(a: string, changes: readonly RecordChange[]): Promise<void> {
    this.calls.commit++;
    const m = this.account(a);
    for (const c of changes)
      if ((m.get(c.key)?.generation ?? 0) !== c.generation - 1) throw new OtrStoreConflictError(c.key, `conflict on ${JSON.stringify(c.key)}`);
    for (const c of changes) {
      if (c.bytes === null) m.delete(c.key);
      else m.set(c.key, { generation: c.generation, bytes: c.bytes.slice() });
    }
  }

  async close(): Promise<void> {}

  /** A deep copy of every row: what a backup holds. */
  snapshot(): Map<string, Map<string, Row>> {
    return new Map([...this.rows].map(([a, m]) => [a, new Map([...m].map(([k, r]) => [k, { generation: r.generation, bytes: r.bytes.slice() }]))]));
  }

  /** Puts a backup back, as an operator restoring the database would. */
  restore(snapshot: Map<string, Map<string, Row>>): void {
    this.rows = snapshot;
  }

  /** The only account (sealed stores hide account ids) and its only row with the given generation, for tampering. */
  onlyAccount(): Map<string, Row> {
    if (this.rows.size !== 1) throw new Error(`expected one account, have ${this.rows.size}`);
    return [...this.rows.values()][0]!;
  }
}
