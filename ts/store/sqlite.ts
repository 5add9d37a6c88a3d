/**
 * `otr4/store/sqlite`: the embedded durable store for Node. `await openSqliteStore({ path })` opens (creating
 * if needed) the file; `worker: true` runs the connection on a worker thread. The store itself is
 * sqlite-store.ts, the worker proxy sqlite-worker.ts; docs/stores.md records the decisions.
 */
import type { RecordStore } from './types.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
// A static import: bundled into dist/store-sqlite.js, the worker module's top level (which starts serving when
// the bundle is loaded as the worker) must run whenever the bundle loads.
import { SqliteWorkerStore } from './sqlite-worker.js';

export { SqliteStore, SqliteWorkerStore, type SqliteStoreOptions };

/** Opens (creating if needed) a SQLite record store, on this thread or (`worker: true`) on a worker thread. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<RecordStore> {
  if (options?.worker) return SqliteWorkerStore.open(options);
  return SqliteStore.open(options);
}
