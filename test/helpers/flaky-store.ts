/**
 * A store that refuses the next `n` commits for a passing reason (a busy database: not a conflict), as a disk,
 * SQLite past its timeout or a dropped connection would, and can hold one read's answer (a store answers
 * concurrent requests in any order). `inner` is what it really holds: a memory store unless one is given.
 */
import { OtrStateError } from '../../ts/errors.js';
import { MemoryStore } from '../../ts/store/memory.js';
import type { RecordStore } from '../../ts/store/types.js';

export interface FlakyStore<S extends RecordStore> {
  readonly inner: S;
  readonly store: RecordStore;
  failNext(n?: number): number;
  /** The next read of `key` is made now but answered only on `release()`; `read` resolves once it was made. */
  holdRead(key: string): { read: Promise<void>; release: () => void };
}

export function flakyStore(): FlakyStore<MemoryStore>;
export function flakyStore<S extends RecordStore>(inner: S): FlakyStore<S>;
export function flakyStore(inner: RecordStore = new MemoryStore()): FlakyStore<RecordStore> {
  let failures = 0;
  let held: { key: string; made: () => void; gate: Promise<void> } | undefined;
  const store: RecordStore = {
    load: (a, k) => {
      const read = inner.load(a, k);
      if (held === undefined || held.key !== k) return read;
      const { made, gate } = held;
      held = undefined;
      return read.then(async (r) => {
        made();
        await gate;
        return r;
      });
    },
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
  if (typeof inner.deleteRefused === 'function') store.deleteRefused = (a, k) => inner.deleteRefused!(a, k);
  return {
    inner,
    store,
    failNext: (n = 1) => (failures = n),
    holdRead(key) {
      let made: () => void = () => {};
      let release: () => void = () => {};
      const read = new Promise<void>((r) => (made = r));
      const gate = new Promise<void>((r) => (release = r));
      held = { key, made, gate };
      return { read, release };
    },
  };
}
