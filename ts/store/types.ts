/**
 * The contract between the session layer and the stores (issue: bridge-grade state).
 *
 * An account's persistent state is a set of records: one `account` record (long-term keys, client profile,
 * instance tag, prekey owner state, trust store) and one record per conversation (`conv:` + the peer id).
 * Each record carries a generation number that grows by one with every save. The session layer produces
 * records (opaque bytes, its own versioned codec) and says after every call which records changed; the
 * store keeps them durably, one atomic commit per call, and refuses a commit whose expected generation is
 * not the one it holds (another process or a stale copy wrote in between: compare-and-set).
 *
 * Nothing here imports the session layer: stores are below it, with no cycle.
 */

/** The record of the account itself. */
export const ACCOUNT_RECORD = 'account';
/** Prefix of a conversation's record; the rest is the peer id exactly as given to `account.conversation()`. */
export const CONVERSATION_RECORD_PREFIX = 'conv:';

/** One record as stored. `bytes` are the session layer's encoding (sealed by the store if it has a key). */
export interface StoredRecord {
  readonly key: string;
  readonly generation: number;
  readonly bytes: Uint8Array;
}

/**
 * One change in a commit. `generation` is the record's new generation; the store accepts the change only if
 * it holds generation - 1 for that key (0 = the record must not exist yet). `bytes: null` deletes the record
 * (forget), under the same check (so a delete has generation ≥ 2: it expects the record to exist).
 */
export interface RecordChange {
  readonly key: string;
  readonly generation: number;
  readonly bytes: Uint8Array | null;
}

/**
 * A durable record store for many accounts. Every method is async (databases are); the session layer above
 * stays synchronous and hands its changes to `commit`, which must resolve only once they are durable
 * (the caller transmits after that, so a crash can never lose an acknowledged save).
 */
export interface RecordStore {
  /** The record, or undefined when there is none. */
  load(accountId: string, key: string): Promise<StoredRecord | undefined>;
  /** The keys of every record of the account (for lazy restore: conversations are loaded when first used). */
  keys(accountId: string): Promise<string[]>;
  /**
   * Applies every change atomically or none. The store takes its own copy of the bytes at the call: the
   * caller may reuse or wipe its buffers as soon as commit() was called. Throws OtrStoreConflictError (code 'CONFLICT') when any change's
   * expected generation does not match what is stored; nothing is written then.
   */
  commit(accountId: string, changes: readonly RecordChange[]): Promise<void>;
  /**
   * Optional (session 9; every store of this library has it): deletes the record `key` only if the store
   * refuses to load it as it stands — its bytes over maxRecordBytes or not bytes, its generation not a positive
   * safe integer, the value not a record — and resolves true when it deleted it, false when there was nothing
   * such (no record, or one that loads). The condition is evaluated by the store on the row at the moment of
   * the delete (one statement, or inside the transaction that deletes), never on an earlier read, and without
   * reading an oversized value into memory where the database can tell its size: so a valid row a writer put
   * there is never deleted. It is how `forget()` removes a row that `load` refuses (its generation is not
   * readable, so the compare-and-set delete of a commit cannot name it). A store without it makes such a
   * forget() fail with OtrStateError that names the stored row to delete by hand.
   */
  deleteRefused?(accountId: string, key: string): Promise<boolean>;
  /** Releases connections/handles. */
  close(): Promise<void>;
}

/**
 * What the session layer hands the store after a call: the records that call changed, each with its new
 * generation (an `Outcome` carries this). `openAccountRecords(...).commit()` accepts it or a bare array.
 */
export interface RecordChanges {
  readonly changed: readonly RecordChange[];
}
