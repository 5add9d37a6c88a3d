/**
 * A memory store that refuses the next `n` commits for a passing reason (a busy database: not a conflict),
 * as a disk, SQLite past its timeout or a dropped connection would. `inner` is what it really holds.
 */
import { OtrStateError } from '../../ts/errors.js';
import { MemoryStore } from '../../ts/store/memory.js';
import type { RecordStore } from '../../ts/store/types.js';

export function flakyStore(): { inner: MemoryStore; store: RecordStore; failNext: (n?: number) => number } {
  const inner = new MemoryStore();
  let failures = 0;
  const store: RecordStore = {
    load: (a, k) => inner.load(a, k),
    keys: (a) => inner.keys(a),
    commit: async (a, c) => {
      if (failures > 0) {
        failures--;
        throw new OtrStateError('the database is busy (timeout)');
      }
      return inner.commit(a, c);
    },
    close: async () => {},
  };
  return { inner, store, failNext: (n = 1) => (failures = n) };
}
