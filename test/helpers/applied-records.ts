/**
 * The records an account handed out, applied as a store applies them: compare-and-set on the generation (each
 * change must come at the generation after the one held), a `bytes: null` change deleting its record.
 */
import * as assert from 'uvu/assert';
import type { Outcome } from '../../ts/index.js';
import type { RecordChange } from '../../ts/store/types.js';

export class AppliedRecords {
  readonly rows = new Map<string, { generation: number; bytes: Uint8Array }>();

  commit(changes: readonly RecordChange[] | Outcome): void {
    const list = Array.isArray(changes) ? (changes as readonly RecordChange[]) : (changes as Outcome).changed!;
    for (const c of list) {
      const held = this.rows.get(c.key)?.generation ?? 0;
      assert.is(c.generation, held + 1, `${c.key} handed out at the generation after the one stored (${held})`);
      if (c.bytes === null) this.rows.delete(c.key);
      else this.rows.set(c.key, { generation: c.generation, bytes: c.bytes.slice() });
    }
  }

  /** Conversation records of peers whose id starts with `prefix`. */
  count(prefix: string): number {
    return [...this.rows.keys()].filter((k) => k.startsWith('conv:' + prefix)).length;
  }
}
