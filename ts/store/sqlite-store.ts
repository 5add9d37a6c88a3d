/**
 * The SQLite store on this thread, on better-sqlite3 (an optional peer dependency, loaded only by the
 * `otr4/store/sqlite` entry, sqlite.ts). Zero set-up: opening creates the file and its schema.
 *
 * Durability. WAL journal, commits in IMMEDIATE transactions, and `synchronous=FULL` by default: the WAL is
 * fsynced before `commit()` resolves, so an acknowledged commit survives the process being killed (kill -9)
 * and also an OS crash or power loss. With WAL, `synchronous=NORMAL` is enough against kill -9 alone (the
 * written WAL frames are in the OS page cache, which outlives the process) but can lose the last commits on
 * power loss; and a lost commit here is a ROLLBACK of a ratchet whose keys were already used on the wire.
 * So NORMAL is an explicit opt-in (`synchronous: 'normal'`) for hosts whose disk or VM already makes that
 * trade. docs/stores.md records the choice and the measured cost.
 *
 * Group commit. better-sqlite3 is synchronous: a commit, fsync included, runs on the event loop's thread.
 * Commits are therefore queued and flushed once per event-loop turn (setImmediate): every commit that
 * arrived meanwhile — typically one per incoming message the bridge handled in that turn, across accounts —
 * runs in ONE transaction, each inside its own SAVEPOINT, so they share one fsync while each stays atomic on
 * its own: a conflicting commit rolls back to its savepoint and rejects, the others go on. All of them resolve
 * only after the shared COMMIT, i.e. once durable. A single commit pays one event-loop hop (and runs in a
 * transaction of its own, without a savepoint).
 *
 * Checkpoints. WAL pages go back into the database file on a worker thread (sqlite-checkpoint.ts) instead of
 * inside the commit that crosses SQLite's 1,000-page interval; `backgroundCheckpoint: false` keeps SQLite's own.
 *
 * Compare-and-set. Every change is one statement whose WHERE clause carries the expected generation
 * (`UPDATE ... WHERE generation = ?`, `INSERT ... ON CONFLICT DO NOTHING`, `DELETE ... WHERE generation = ?`)
 * and whose row count is checked; any miss throws OtrStoreConflictError and rolls the transaction back.
 * BEGIN IMMEDIATE takes the write lock up front, so several processes on one file serialise instead of
 * failing on a lock upgrade; `busyTimeoutMs` bounds the wait. (A lone single-statement commit runs in autocommit
 * mode: in WAL, a write statement with no open read transaction takes the write lock, with the same busy wait,
 * before it reads.)
 *
 * A hostile file. Every value read back is checked (validate.ts): generations must be integers (read as
 * BigInt so a huge one cannot round), bytes must be a BLOB no bigger than maxRecordBytes — the size is read
 * first and an oversized blob is never loaded — and keys must be text within maxRecordKeyBytes. An update or
 * delete writes only a record stored exactly once (a lone commit is that one autocommitted statement, which
 * nothing could roll back), and a table without its primary key is refused at open: a record stored twice is
 * MALFORMED, never half-written.
 */
import { resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { OtrArgumentError, OtrDecodeError, OtrLimitError, OtrStateError } from '../errors.js';
import { resolveLimits, type Limits } from '../limits.js';
import type { RecordChange, StoredRecord } from './types.js';
import { COMMIT_OWNED, type OwningStore } from './owned.js';
import { Checkpointer, type CheckpointerOptions } from './sqlite-checkpoint.js';
import { checkCommit, checkHandedOver, checkKeyCount, checkLoad, checkOpen, checkRow, checkStoredKey, conflict, ownCopy, wipeRows, type StoreLimits } from './validate.js';

export interface SqliteStoreOptions {
  /** The database file (created if missing). */
  path: string;
  /** 'full' (default): every commit fsynced. 'normal': safe against kill -9, not against power loss. */
  synchronous?: 'full' | 'normal';
  /** How long a commit waits for another process's write lock before failing (default 5000 ms). */
  busyTimeoutMs?: number;
  /**
   * Run SQLite's `PRAGMA integrity_check` at open and refuse a damaged file (OtrDecodeError). Off by default: it
   * reads the whole file and checks every index against its table (seconds per 100 MB). Without it, damage shows when a damaged page is read —
   * as a typed error, or, for a damaged index, as a record that is not found.
   */
  verifyOnOpen?: boolean;
  /**
   * Run WAL checkpoints on a worker thread (sqlite-checkpoint.ts; default true): the copy of the WAL into the
   * database file and its fsyncs then leave the committing thread. false: SQLite's automatic checkpoint, in the
   * commit that crosses 1,000 WAL pages (no extra thread).
   */
  backgroundCheckpoint?: boolean;
  /**
   * Run the connection on a worker thread (sqlite-worker.ts): commits, fsync included, then never block this
   * thread's event loop, and commits arriving during one fsync share the next. Same semantics otherwise.
   */
  worker?: boolean;
  limits?: Partial<Limits>;
}

/** WAL pages between two background checkpoints (SQLite's own automatic interval). */
const CHECKPOINT_PAGES = 1000;
/** With the background checkpointer, the automatic one stays as a safety net at this many WAL pages. */
const SAFETY_CHECKPOINT_PAGES = 4 * CHECKPOINT_PAGES;
/** Pages written during a background pass that this thread copies itself after it; more: another pass. */
const TAIL_PAGES = 64;

const SCHEMA_VERSION = 1;
const TABLE = 'otr4_records';
/** The record is stored once (its primary key holds); binds (account, key) again after the statement's own. */
const ONCE = `(SELECT count(*) FROM ${TABLE} AS once WHERE once.account = ? AND once.key = ?) = 1`;

type Db = BetterSqlite3.Database;
type Stmt = BetterSqlite3.Statement;

interface Statements {
  load: Stmt;
  keys: Stmt;
  stored: Stmt;
  insert: Stmt;
  update: Stmt;
  remove: Stmt;
  count: Stmt;
  purge: Stmt;
}

interface LoadedRow {
  generation: bigint | null;
  n: bigint | null;
  bytes: Uint8Array | null;
}

/**
 * better-sqlite3 throws SqliteError with SQLite's result code. A corrupt file or page is hostile input
 * (OtrDecodeError, MALFORMED); anything else from SQLite (busy past the timeout, I/O error, disk full, read-only)
 * is the environment (OtrStateError). Either way the caller gets an OtrError, never the driver's class.
 */
function typed(e: unknown): unknown {
  if (!(e instanceof Error) || e.name !== 'SqliteError') return e;
  const code = String((e as { code?: unknown }).code ?? 'SQLITE_ERROR');
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
    return new OtrDecodeError(`the SQLite file is corrupt or not a database (${code})`);
  return new OtrStateError(`SQLite failed: ${code}: ${e.message}`);
}

function sqlite<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw typed(e);
  }
}

/**
 * A table found in the file must still have its primary key (account, key): compare-and-set by one statement
 * relies on a record being stored once. A file whose table was rebuilt without it is refused (MALFORMED).
 */
function checkPrimaryKey(db: Db): void {
  const indexes = db.pragma(`index_list(${TABLE})`) as { name: string; unique: number; origin: string; partial: number }[];
  const pk = indexes.find((i) => i.origin === 'pk' && i.unique === 1 && i.partial === 0);
  const columns = pk ? (db.pragma(`index_info(${JSON.stringify(pk.name)})`) as { name: string }[]).map((c) => c.name) : [];
  if (columns.join(',') !== 'account,key') throw new OtrDecodeError(`the table ${TABLE} lacks its primary key (account, key): a damaged or rewritten file`);
}

interface Pending {
  accountId: string;
  changes: readonly RecordChange[];
  resolve(): void;
  reject(e: unknown): void;
}

export class SqliteStore implements OwningStore {
  private closed = false;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private readonly group: (batch: readonly Pending[]) => (unknown | undefined)[];
  /** WAL pages written (estimated from the changes) since the last background checkpoint was asked for. */
  private walPages = 0;
  /** Background passes in a row whose tail was left for another pass (see afterBackgroundCheckpoint). */
  private passes = 0;

  private constructor(
    private readonly db: Db,
    private readonly st: Statements,
    private readonly limits: StoreLimits,
    private readonly checkpointer: Checkpointer | undefined,
  ) {
    // Called inside `group`'s transaction, better-sqlite3 runs this one as a SAVEPOINT: a throw rolls back to it.
    const one = db.transaction((accountId: string, changes: readonly RecordChange[]) => this.applyAll(accountId, changes));
    const all = db.transaction((batch: readonly Pending[]) =>
      batch.map((p) => {
        try {
          one(p.accountId, p.changes);
          return undefined;
        } catch (e) {
          return typed(e);
        }
      }),
    );
    // A commit alone in its turn (the common case: one message, one record) needs no savepoint: the
    // transaction is its own, and a throw rolls all of it back. Two statements fewer per commit.
    // And when that commit is a single update or delete (every message's), not even BEGIN IMMEDIATE and COMMIT:
    // one statement in autocommit mode is a transaction of its own (atomic, durable at the same sync level,
    // taking the write lock with the same busy timeout before it reads), and its WHERE clause is the
    // compare-and-set; a miss writes nothing. An insert keeps the transaction (its record count is checked
    // inside it). Measured: ~8 % less CPU per commit (tx 33.5 vs 30.9 µs, docs/stores.md).
    this.group = (batch) => {
      if (batch.length !== 1) return all.immediate(batch);
      const p = batch[0]!;
      try {
        if (p.changes.length === 1 && p.changes[0]!.generation > 1) this.applyAll(p.accountId, p.changes);
        else one.immediate(p.accountId, p.changes);
        return [undefined];
      } catch (e) {
        return [typed(e)];
      }
    };
  }

  /**
   * Opens (creating if needed) the database at `options.path`. `checkpointing` tunes the checkpoint worker
   * (sqlite-checkpoint.ts: its close grace period, a stand-in worker); tests only, openSqliteStore passes none.
   */
  static async open(options: SqliteStoreOptions, checkpointing: CheckpointerOptions = {}): Promise<SqliteStore> {
    if (typeof options?.path !== 'string' || options.path === '') throw new OtrArgumentError('path must be a file name');
    const limits = resolveLimits(options.limits);
    let Database: typeof BetterSqlite3;
    try {
      Database = (await import('better-sqlite3')).default;
    } catch (e) {
      throw new Error(`otr4/store/sqlite needs the better-sqlite3 package (npm install better-sqlite3): ${(e as Error).message}`);
    }
    const db = sqlite(() => {
      try {
        return new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
      } catch (e) {
        // better-sqlite3 refuses its arguments with a TypeError (a folder that does not exist, a bad timeout)
        // before SQLite sees them: the host's argument, typed as such (SQLite's own failures stay typed below).
        if (e instanceof TypeError) throw new OtrArgumentError(`SQLite store: ${e.message}`);
        throw e;
      }
    });
    try {
      if (options.verifyOnOpen) {
        const result = db.pragma('integrity_check(1)', { simple: true });
        if (result !== 'ok') throw new OtrDecodeError(`the SQLite file is damaged (integrity_check: ${String(result).slice(0, 200)})`);
      }
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      // Schema creation is one IMMEDIATE transaction: two processes starting at once on a new file serialise.
      db.transaction(() => {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version > SCHEMA_VERSION)
          throw new OtrStateError(`the database has schema version ${version}; this library knows ${SCHEMA_VERSION} (written by a newer otr4?)`);
        db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (
          account TEXT NOT NULL,
          key TEXT NOT NULL,
          generation INTEGER NOT NULL,
          bytes BLOB NOT NULL,
          PRIMARY KEY (account, key)
        )`);
        if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
        checkPrimaryKey(db);
      }).immediate();
      const st: Statements = {
        // Generation only if it is an integer; bytes only if a blob within the limit (the size comes first).
        load: db
          .prepare(
            `SELECT CASE WHEN typeof(generation) = 'integer' THEN generation END AS generation,
                    CASE WHEN typeof(bytes) = 'blob' THEN length(bytes) END AS n,
                    CASE WHEN typeof(bytes) = 'blob' AND length(bytes) <= ? THEN bytes END AS bytes
             FROM ${TABLE} WHERE account = ? AND key = ?`,
          )
          .safeIntegers(true),
        keys: db.prepare(
          `SELECT CASE WHEN typeof(key) = 'text' AND length(CAST(key AS BLOB)) <= ? THEN key END AS key
           FROM ${TABLE} WHERE account = ? LIMIT ?`,
        ),
        insert: db.prepare(`INSERT INTO ${TABLE} (account, key, generation, bytes) VALUES (?, ?, 1, ?) ON CONFLICT DO NOTHING`),
        // Each writes the record only if it is stored exactly once: a lone commit runs as this one autocommitted
        // statement, with no transaction to roll back if it touched a second row (a table rebuilt without its key,
        // a damaged unique index). Twice stored, nothing is written and the commit is refused as MALFORMED.
        update: db.prepare(
          `UPDATE ${TABLE} SET generation = ?, bytes = ? WHERE account = ? AND key = ? AND generation = ? AND ${ONCE}`,
        ),
        remove: db.prepare(`DELETE FROM ${TABLE} WHERE account = ? AND key = ? AND generation = ? AND ${ONCE}`),
        stored: db.prepare(`SELECT generation FROM ${TABLE} WHERE account = ? AND key = ? LIMIT 2`).safeIntegers(true),
        count: db.prepare(`SELECT count(*) AS n FROM ${TABLE} WHERE account = ?`),
        // deleteRefused: the record only while `load` refuses it (the negation of what load accepts). typeof()
        // and length() of a blob read the record's header, not its overflow pages: the bytes are never loaded.
        purge: db.prepare(
          `DELETE FROM ${TABLE} WHERE account = ? AND key = ? AND NOT (
             typeof(generation) = 'integer' AND generation BETWEEN 1 AND ${Number.MAX_SAFE_INTEGER}
             AND typeof(bytes) = 'blob' AND length(bytes) <= ?)`,
        ),
      };
      let store: SqliteStore | undefined = undefined;
      let checkpointer: Checkpointer | undefined;
      // (An in-memory database has no WAL to checkpoint.)
      if (options.backgroundCheckpoint !== false && !db.memory) {
        db.pragma(`wal_autocheckpoint = ${SAFETY_CHECKPOINT_PAGES}`);
        checkpointer = new Checkpointer(
          { path: resolve(db.name), synchronous: options.synchronous === 'normal' ? 'NORMAL' : 'FULL', busyTimeoutMs: options.busyTimeoutMs ?? 5000 },
          (busy) => store?.afterBackgroundCheckpoint(busy),
          () => store?.checkpointInThread(),
          checkpointing,
        );
      }
      store = new SqliteStore(db, st, limits, checkpointer);
      return store;
    } catch (e) {
      db.close();
      throw typed(e);
    }
  }


  async load(accountId: string, key: string): Promise<StoredRecord | undefined> {
    checkOpen(this.closed);
    checkLoad(accountId, key, this.limits);
    const row = sqlite(() => this.st.load.get(this.limits.maxRecordBytes, accountId, key)) as LoadedRow | undefined;
    if (!row) return undefined;
    return checkRow(key, row.generation, row.n, row.bytes ?? undefined, this.limits);
  }

  /**
   * RecordStore.deleteRefused: one autocommitted statement whose WHERE clause is the refusal, evaluated on the
   * row under the write lock — a row a writer made valid meanwhile does not match. Not queued with the commits:
   * nothing of it depends on their order (a commit queued before it either leaves a valid row or a refused one).
   */
  async deleteRefused(accountId: string, key: string): Promise<boolean> {
    checkOpen(this.closed);
    checkLoad(accountId, key, this.limits);
    return sqlite(() => this.st.purge.run(accountId, key, this.limits.maxRecordBytes).changes) > 0;
  }

  async keys(accountId: string): Promise<string[]> {
    checkOpen(this.closed);
    checkLoad(accountId, undefined, this.limits);
    const rows = sqlite(() => this.st.keys.all(this.limits.maxRecordKeyBytes, accountId, this.limits.maxRecordsPerAccount + 1)) as { key: unknown }[];
    checkKeyCount(rows.length, this.limits);
    return rows.map((r) => checkStoredKey(r.key, this.limits));
  }

  async commit(accountId: string, input: readonly RecordChange[]): Promise<void> {
    checkOpen(this.closed);
    checkCommit(accountId, input, this.limits);
    if (input.length === 0) return;
    // Copied now: the write happens at the flush, and the caller may reuse its buffers meanwhile.
    return this.enqueue(accountId, ownCopy(input));
  }

  /** As commit, with the arrays handed over (./owned.ts): written at the flush and wiped after, not copied first. */
  async [COMMIT_OWNED](accountId: string, changes: readonly RecordChange[]): Promise<void> {
    checkHandedOver(this.closed, accountId, changes, this.limits);
    if (changes.length === 0) return;
    return this.enqueue(accountId, changes);
  }

  private enqueue(accountId: string, changes: readonly RecordChange[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ accountId, changes, resolve, reject });
      this.flushing ??= new Promise((done) => setImmediate(() => done(this.flush())));
    });
  }

  /** One transaction for every queued commit, each in its own savepoint; settles each once COMMIT returned. */
  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.flushing = undefined;
    let results: (unknown | undefined)[];
    try {
      if (!this.db.open) throw new OtrStateError('the store is closed');
      results = this.group(batch);
    } catch (e) {
      // The shared transaction itself failed (busy beyond the timeout, I/O error): nothing of it was written.
      results = batch.map(() => typed(e));
    }
    if (this.checkpointer) {
      for (const p of batch) for (const c of p.changes) this.walPages += c.bytes === null ? 1 : 1 + (c.bytes.length >>> 12);
      if (this.walPages >= CHECKPOINT_PAGES >>> 2) this.checkpointer.prepare();
      if (this.walPages >= CHECKPOINT_PAGES && this.checkpointer.request()) this.walPages = 0;
    }
    batch.forEach((p, i) => {
      wipeRows(p.changes); // our copies (plaintext when the store is not sealed)
      if (results[i] === undefined) p.resolve();
      else p.reject(results[i]);
    });
  }

  /** Inside the IMMEDIATE transaction: throwing rolls everything back. */
  private applyAll(accountId: string, changes: readonly RecordChange[]): void {
    let created = 0;
    for (const c of changes) {
      let n: number;
      if (c.bytes === null) n = this.st.remove.run(accountId, c.key, c.generation - 1, accountId, c.key).changes;
      else if (c.generation === 1) n = this.st.insert.run(accountId, c.key, c.bytes).changes;
      else n = this.st.update.run(c.generation, c.bytes, accountId, c.key, c.generation - 1, accountId, c.key).changes;
      if (n !== 1) {
        const found = this.st.stored.all(accountId, c.key) as { generation: unknown }[];
        if (found.length > 1) throw new OtrDecodeError(`record ${JSON.stringify(c.key)} is stored more than once (a damaged or rewritten table)`);
        const g = found[0]?.generation;
        throw conflict(c, g === undefined ? 0 : typeof g === 'bigint' && g <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(g) : undefined);
      }
      if (c.generation === 1 && c.bytes !== null) created++;
    }
    if (created > 0) {
      const { n } = this.st.count.get(accountId) as { n: number };
      if (n > this.limits.maxRecordsPerAccount)
        throw new OtrLimitError(`the account would hold more than maxRecordsPerAccount (${this.limits.maxRecordsPerAccount}) records`);
    }
  }

  /**
   * The worker's checkpoint is done. What was written meanwhile (`walPages`) is copied here — a few pages and
   * the fsyncs — so that the WAL is fully checkpointed and the next write starts it over; a long tail (a slow
   * disk let many commits through during the pass) goes to another background pass first, up to three.
   * A failure loses nothing: the frames stay in the WAL, and the next checkpoint copies them.
   */
  private afterBackgroundCheckpoint(busy: boolean): void {
    if (!this.db.open || this.closed) return;
    if (busy) return void (this.passes = 0); // another checkpoint holds the lock: the next request retries
    if (this.walPages > TAIL_PAGES && ++this.passes < 3 && this.checkpointer!.request()) return void (this.walPages = 0);
    this.passes = 0;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // busy (another process checkpoints) or an I/O error: the next checkpoint tries again
    }
  }

  /** The checkpoint worker is gone: SQLite's automatic checkpoint, in-thread, as without it. */
  private checkpointInThread(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma(`wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
    } catch {
      // the safety net (SAFETY_CHECKPOINT_PAGES) stays
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true; // refuse new calls now ...
    await this.flushing; // ... but write the commits already accepted
    // Its connection first: ours, the last, checkpoints the WAL on close. Bounded, never rejects: a hung worker
    // is terminated after its grace period, a dead one is not waited for; ours closes either way.
    await this.checkpointer?.close();
    this.db.close();
  }
}
