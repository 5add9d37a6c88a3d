/**
 * `otr4/store`: the record-store contract, the in-memory store, sealing at rest and the helper that ties a
 * store to the session layer's commits. The durable stores are separate entry points so that nothing here
 * pulls in a database driver: `otr4/store/sqlite` (better-sqlite3), `otr4/store/postgres` (pg) and
 * `otr4/store/indexeddb` (browsers). docs/stores.md explains the choices.
 */
export { ACCOUNT_RECORD, CONVERSATION_RECORD_PREFIX, type RecordChange, type RecordChanges, type RecordStore, type StoredRecord } from './types.js';
export { MemoryStore, type MemoryStoreOptions } from './memory.js';
export { sealedStore, MIN_HOST_KEY_BYTES, SEAL_OVERHEAD_BYTES, type SealOptions } from './sealing.js';
export { openAccountRecords, type AccountRecords, type AccountRecordsOptions, type StoreEvent } from './account-records.js';
export { OtrStoreConflictError, OtrStoreOutcomeUnknownError, OtrStoreRollbackError } from '../errors.js';
