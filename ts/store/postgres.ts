/**
 * `otr4/store/postgres`: records in PostgreSQL through `pg` (an optional peer dependency, loaded only by this
 * entry point), for bridges that run several processes or machines on one database.
 *
 * Compare-and-set is done by the database, not by reading first: every change is one statement whose WHERE
 * clause carries the expected generation —
 *   create:  INSERT ... ON CONFLICT (account, key) DO NOTHING
 *   update:  UPDATE ... SET generation = g WHERE account = $ AND key = $ AND generation = g - 1
 *   delete:  DELETE ...                    WHERE account = $ AND key = $ AND generation = g - 1
 * — and its row count must be 1. Under READ COMMITTED a concurrent writer of the same row makes the second
 * statement wait for the first transaction, then re-check the WHERE clause against the committed row, so
 * exactly one of two writers from the same base succeeds and the other gets OtrStoreConflictError; a stale
 * process (any process holding an old generation) can never overwrite newer state. A commit of several
 * changes is one transaction (BEGIN ... COMMIT, rolled back on the first miss), its statements in key order
 * so two multi-record commits lock rows in the same order and cannot deadlock. A commit of one update or
 * delete is a single autocommitted statement: one round trip, equally atomic.
 *
 * Start-up. Several processes may start at once on an empty database: the schema is created inside a
 * transaction holding a transaction-scoped advisory lock, so they serialise instead of racing on
 * CREATE TABLE IF NOT EXISTS (which is not safe concurrently in PostgreSQL).
 *
 * Reading back. Generations come back as text and must be positive safe integers; the byte size is read
 * before the bytes, and a row over maxRecordBytes is refused without being transferred (validate.ts).
 *
 * Cost per operation (measured in bench/suites/bridge.ts, docs/stores.md). A load is one round trip, a commit
 * of one update one round trip plus the server's WAL flush. What this code adds on top is kept small:
 *   - named prepared statements: each statement is parsed and planned once per pooled connection, not per
 *     call (`namedStatements: false` turns this off, for a transaction-mode pooler that cannot keep them);
 *   - rows stay inline: a record is a few KB (a 2.2 KB sealed conversation), just over PostgreSQL's ~2 KB
 *     TOAST threshold, so by default every write would also write TOAST chunks and their index, and every
 *     load read them back through that index. The table sets toast_tuple_target to its maximum (rows up to
 *     ~8 KB are kept inline, uncompressed: sealed bytes do not compress anyway) and fillfactor 70 (room on the
 *     page for the next version of a row, so an update is a HOT update that touches no index). Bigger records
 *     are still compressed and moved out of line as usual. An existing table gets the same settings at open.
 */
import type { Pool, PoolClient, PoolConfig, QueryResult } from 'pg';
import { OtrArgumentError, OtrDecodeError, OtrError, OtrLimitError, OtrStateError, OtrStoreConflictError, OtrStoreOutcomeUnknownError } from '../errors.js';
import { resolveLimits, type Limits } from '../limits.js';
import { BACKEND_STARTED, CommitReplyLost, backendOf, checkBackend, inTransaction, onConnection, outcomeUnknown, type ServerProcess } from './pg-transaction.js';
import type { RecordChange, StoredRecord } from './types.js';
import { COMMIT_OWNED, type OwningStore } from './owned.js';
import { checkCommit, checkHandedOver, checkKeyCount, checkLoad, checkOpen, checkRow, checkStoredKey, conflict, generationFromText, ownCopy, wipeRows, type StoreLimits } from './validate.js';

export interface PostgresStoreOptions {
  /** The host's own pool; it stays open on close(). Otherwise one is made from the rest of these options. */
  pool?: Pool;
  connectionString?: string;
  /** Connections of the pool this store makes (default 10). */
  max?: number;
  /** The records table (default otr4_records): lower-case letters, digits and '_'. */
  table?: string;
  /**
   * Named prepared statements, parsed once per connection (default true). Turn off behind a pooler in
   * transaction mode that cannot keep them (PgBouncer before 1.21): every statement is then parsed per call.
   */
  namedStatements?: boolean;
  limits?: Partial<Limits>;
}

const SCHEMA_VERSION = 1;
/** server_version_num of the oldest server the store runs on: 13 (pg_current_xact_id, pg_xact_status, xid8). */
const MIN_SERVER_VERSION = 130000;
/** How long settling a lost commit waits for the server process that ran it to be gone (or its transaction to end). */
const LOST_COMMIT_WAIT_MS = 5000;
/** A pg_stat_activity row of process ($1, $2): the pid, and the start time a reused pid does not share. */
const SAME_PROCESS = `pid = $1 AND ${BACKEND_STARTED} = $2`;
/** The advisory lock under which the schema is created ('otr4' in ASCII, plus one). */
const SCHEMA_LOCK = 0x6f74_7234_01;
/**
 * The table's storage parameters (see the header): rows up to ~8 KB inline, room for HOT updates. Checked and
 * set at every open, so a table created by an earlier version gets them too (no schema version change: the
 * rows' format is the same).
 */
const STORAGE = { toast_tuple_target: '8160', fillfactor: '70' } as const;

type Querier = Pick<Pool, 'query'> | PoolClient;

/**
 * The record ($1, $2) is stored exactly once. The primary key guarantees it, and open() refuses a table
 * without it; but a table can lose its key behind an open store (a hand-made migration, a restore without
 * constraints), and then a lone update or delete — one autocommitted statement, which nothing can roll back —
 * would write both copies and only afterwards see a row count of 2 (found by test/attacks/s8-postgres.test.ts;
 * SQLite has the same guard since session 6). With the key, an index probe of one entry. Evaluated once per
 * statement against its snapshot: a writer waiting on the row lock re-checks only the generation, as before.
 * Cost: within the noise of this machine (docs/stores.md, "Attack review (session 8)"); a statement that fails
 * itself past one changed row (a CTE counting its RETURNING rows) measured no cheaper and is less plain.
 */
function once(t: string): string {
  return `(SELECT count(*) FROM ${t} AS once WHERE once.account = $1 AND once.key = $2) = 1`;
}

/** A record the database holds more than once: a damaged table, refused whatever the copies say. */
function storedTwice(key: string): OtrDecodeError {
  return new OtrDecodeError(`record ${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}...` : key)} is stored more than once (the table lost its primary key)`);
}

type Write = 'insert' | 'update' | 'remove';
type StatementName = 'load' | 'keys' | 'generation' | Write | `${Write}Xid` | 'count' | 'settle' | 'purge';

/**
 * A write that also returns its transaction's id (session 10): the first statement of a transaction of
 * several changes, so that a lost COMMIT can be settled by asking the server what became of that transaction
 * (settleByXid), which no other writer's later change to the records can blur. No round trip of its own: a
 * column in a reply that comes anyway. pg_current_xact_id() returns the id the write was just given (a write
 * assigns one); xid8 (PostgreSQL 13+) carries the epoch, so an id from before a wraparound is never taken for
 * a newer transaction's. Asked inside the transaction, it is that transaction's even behind a pooler in
 * transaction mode, which may put each transaction on another server connection.
 */
const RETURNING_XID = ' RETURNING pg_current_xact_id()::text AS xid';

/** The transaction id a RETURNING_XID write returned, if it reads as one (a decimal xid8); else undefined. */
function xidOf(r: QueryResult): string | undefined {
  const xid = (r.rows[0] as unknown[] | undefined)?.[0];
  return typeof xid === 'string' && /^[1-9][0-9]{0,19}$/.test(xid) ? xid : undefined;
}
/**
 * A query: its text, the name it is prepared under (absent: unnamed, parsed per call), and `rowMode: 'array'`
 * for the RETURNING_XID writes (their one value read by position: pg builds no object per row).
 */
type Statement = { readonly name?: string; readonly text: string; readonly rowMode?: 'array' };

/** pg sends a Buffer as bytea; a plain Uint8Array would be sent as text. No copy: a view on the same memory. */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * What pg throws (a server error with its SQLSTATE, a refused or dropped connection) is the environment, not
 * input: OtrStateError with the code, so callers handle one error hierarchy. OtrErrors pass through.
 */
function typed(e: unknown): unknown {
  if (e instanceof OtrError) return e;
  const code = (e as { code?: unknown })?.code;
  return new OtrStateError(`PostgreSQL failed: ${typeof code === 'string' ? `${code}: ` : ''}${(e as Error)?.message ?? String(e)}`);
}

async function pgCall<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw typed(e);
  }
}

function isRetryableRace(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === '40P01' || code === '40001'; // deadlock detected, serialization failure
}

export class PostgresStore implements OwningStore {
  private closed = false;
  private readonly sql: Record<StatementName, Statement>;

  private constructor(
    private readonly pool: Pool,
    private readonly ownsPool: boolean,
    private readonly table: string,
    private readonly limits: StoreLimits,
    named: boolean,
  ) {
    const t = table;
    const base: Record<Exclude<StatementName, `${Write}Xid`>, string> = {
      // LIMIT 2: a record stored twice is refused (checkOnce), and a table full of copies is never read whole.
      load: `SELECT generation::text AS generation, octet_length(bytes) AS n,
                    CASE WHEN octet_length(bytes) <= $3 THEN bytes END AS bytes
             FROM ${t} WHERE account = $1 AND key = $2 LIMIT 2`,
      keys: `SELECT CASE WHEN octet_length(key) <= $2 THEN key END AS key FROM ${t} WHERE account = $1 LIMIT $3`,
      generation: `SELECT generation::text AS generation FROM ${t} WHERE account = $1 AND key = $2 LIMIT 2`,
      insert: `INSERT INTO ${t} (account, key, generation, bytes) VALUES ($1, $2, 1, $3) ON CONFLICT (account, key) DO NOTHING`,
      // Only a record stored exactly once is written (ONCE): see the note on ONCE below.
      update: `UPDATE ${t} SET generation = $3, bytes = $4 WHERE account = $1 AND key = $2 AND generation = $5 AND ${once(t)}`,
      remove: `DELETE FROM ${t} WHERE account = $1 AND key = $2 AND generation = $3 AND ${once(t)}`,
      count: `SELECT count(*)::int AS n FROM ${t} WHERE account = $1`,
      // After a lost commit (settleLost): each change's record as the database holds it, and whether its bytes
      // are the ones written (compared by the server: nothing is transferred). i numbers the changes.
      settle: `SELECT w.i, r.generation::text AS generation, r.bytes = w.bytes AS same
               FROM unnest($2::text[], $3::bytea[]) WITH ORDINALITY AS w(key, bytes, i)
               LEFT JOIN ${t} AS r ON r.account = $1 AND r.key = w.key`,
      // deleteRefused: the record only while `load` refuses it — the negation of what load accepts, on the
      // column's text (a table whose generation column was turned to text matches too; the CASE keeps the cast
      // from running on garbage). octet_length reads a TOASTed value's header, not the value. NULLs: refused.
      // Under READ COMMITTED a row another transaction is writing is re-checked after it commits (EvalPlanQual):
      // a row made valid meanwhile does not match. The bytes column's type counts as bytea when it is a domain
      // over bytea (at any depth): the server describes such a column by its base type, so pg reads its values as
      // bytes and load accepts them (found by test/attacks/s9-review-postgres.test.ts: pg_typeof alone names
      // the domain, and every row was deleted).
      purge: `DELETE FROM ${t} WHERE account = $1 AND key = $2 AND NOT COALESCE(
                CASE WHEN generation::text ~ '^[1-9][0-9]{0,15}$' THEN generation::text::numeric <= ${Number.MAX_SAFE_INTEGER} ELSE false END
                AND 'bytea'::regtype IN (WITH RECURSIVE base(t) AS (
                      SELECT pg_typeof(bytes)::oid
                      UNION SELECT p.typbasetype FROM pg_type AS p JOIN base ON p.oid = base.t WHERE p.typtype = 'd')
                    SELECT t FROM base)
                AND octet_length(bytes) <= $3, false)`,
    };
    const text: Record<StatementName, string> = {
      ...base,
      insertXid: base.insert + RETURNING_XID,
      updateXid: base.update + RETURNING_XID,
      removeXid: base.remove + RETURNING_XID,
    };
    // pg keeps a named statement per connection and refuses one name with two texts, so the name carries the
    // table (two stores on one host pool with different tables do not collide). 'otr4:' + one or two letters
    // + ':' + at most 51 characters stays within PostgreSQL's 63-byte names.
    const letter: Record<StatementName, string> = {
      load: 'l', keys: 'k', generation: 'g', insert: 'i', update: 'u', remove: 'r', count: 'c', settle: 's', purge: 'p',
      insertXid: 'ix', updateXid: 'ux', removeXid: 'rx',
    };
    this.sql = Object.fromEntries(
      (Object.keys(text) as StatementName[]).map((k) => [
        k,
        { ...(named ? { name: `otr4:${letter[k]}:${t}` } : {}), text: text[k], ...(k.endsWith('Xid') ? { rowMode: 'array' as const } : {}) },
      ]),
    ) as Record<StatementName, Statement>;
  }

  /** Runs statement `s` with `values` on `q` (the pool, or a transaction's connection). */
  private run(q: Querier, s: StatementName, values: unknown[]): Promise<QueryResult> {
    return q.query({ ...this.sql[s], values });
  }

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const table = options.table ?? 'otr4_records';
    if (!/^[a-z_][a-z0-9_]{0,50}$/.test(table)) throw new OtrArgumentError('table must be lower-case letters, digits and _');
    const limits = resolveLimits(options.limits);
    let pool = options.pool;
    const owns = !pool;
    if (!pool) {
      let PoolClass: typeof Pool;
      try {
        PoolClass = (await import('pg')).default.Pool;
      } catch (e) {
        throw new Error(`otr4/store/postgres needs the pg package (npm install pg): ${(e as Error).message}`);
      }
      const config: PoolConfig = { connectionString: options.connectionString, max: options.max ?? 10 };
      pool = new PoolClass(config);
      // An idle connection dropped by the server must not crash the process; the next query reports it.
      pool.on('error', () => {});
    }
    const store = new PostgresStore(pool, owns, table, limits, options.namedStatements ?? true);
    try {
      await store.createSchema();
    } catch (e) {
      if (owns) await pool.end();
      throw typed(e);
    }
    return store;
  }

  private async createSchema(): Promise<void> {
    await this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      // A transaction learns its id with pg_current_xact_id() (RETURNING_XID), and a lost COMMIT is settled
      // by pg_xact_status(xid8): both PostgreSQL 13+. Refused here, at open, rather than at every commit.
      const server = Number((await c.query(`SELECT current_setting('server_version_num') AS v`)).rows[0]?.v);
      if (!(server >= MIN_SERVER_VERSION))
        throw new OtrStateError(`PostgreSQL ${MIN_SERVER_VERSION / 10000} or later is needed (the server says ${server || 'nothing'})`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${this.table}_meta (version integer NOT NULL)`);
      const v = await c.query(`SELECT max(version) AS v FROM ${this.table}_meta`);
      const version = Number(v.rows[0]?.v ?? 0);
      if (version > SCHEMA_VERSION)
        throw new OtrStateError(`the database has schema version ${version}; this library knows ${SCHEMA_VERSION} (written by a newer otr4?)`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
        account text NOT NULL,
        key text NOT NULL,
        generation bigint NOT NULL CHECK (generation >= 1),
        bytes bytea NOT NULL,
        PRIMARY KEY (account, key)
      )`);
      if (version < SCHEMA_VERSION) await c.query(`INSERT INTO ${this.table}_meta (version) VALUES ($1)`, [SCHEMA_VERSION]);
      // Compare-and-set by one statement per change needs each record stored once: a table whose primary key
      // (account, key) is gone is refused up front, as SQLite refuses such a file (the statements guard too).
      const pk = await c.query(
        `SELECT array_agg(a.attname::text ORDER BY k.i) AS cols FROM pg_index x
           CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, i)
           JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
         WHERE x.indrelid = $1::regclass AND x.indisprimary AND x.indisvalid GROUP BY x.indexrelid`,
        [this.table],
      );
      if ((pk.rows[0]?.cols as string[] | undefined)?.join(',') !== 'account,key')
        throw new OtrDecodeError(`the table ${this.table} lacks its primary key (account, key): a damaged or rewritten table`);
      // The storage parameters, set only when they differ (ALTER TABLE takes a lock other processes would wait on).
      const r = await c.query(`SELECT reloptions FROM pg_class WHERE oid = $1::regclass`, [this.table]);
      const have = new Set<string>((r.rows[0]?.reloptions as string[] | null) ?? []);
      const want = Object.entries(STORAGE).map(([k, v]) => `${k}=${v}`);
      if (want.some((o) => !have.has(o))) {
        // Only the table's owner may alter it: a bridge running as a role that was merely granted the rows
        // (the table made by a migration role) still opens, without the optimisation — it is not correctness.
        await c.query('SAVEPOINT otr4_storage');
        try {
          await c.query(`ALTER TABLE ${this.table} SET (${want.join(', ')})`);
          await c.query('RELEASE SAVEPOINT otr4_storage');
        } catch (e) {
          if ((e as { code?: unknown })?.code !== '42501') throw e; // insufficient_privilege
          await c.query('ROLLBACK TO SAVEPOINT otr4_storage');
        }
      }
    });
  }

  private transaction<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }


  async load(accountId: string, key: string): Promise<StoredRecord | undefined> {
    checkOpen(this.closed);
    checkLoad(accountId, key, this.limits);
    const r = await pgCall(this.run(this.pool, 'load', [accountId, key, this.limits.maxRecordBytes]));
    const row = r.rows[0] as { generation: unknown; n: unknown; bytes: unknown } | undefined;
    if (!row) return undefined;
    if (r.rows.length > 1) throw storedTwice(key);
    return checkRow(key, generationFromText(row.generation), row.n, row.bytes ?? undefined, this.limits);
  }

  /**
   * RecordStore.deleteRefused: one autocommitted statement (see `purge` above). A connection lost before its
   * reply leaves it unknown whether the row was deleted: STATE, and forget() can simply be called again.
   */
  async deleteRefused(accountId: string, key: string): Promise<boolean> {
    checkOpen(this.closed);
    checkLoad(accountId, key, this.limits);
    const r = await pgCall(this.run(this.pool, 'purge', [accountId, key, this.limits.maxRecordBytes]));
    return (r.rowCount ?? 0) > 0;
  }

  async keys(accountId: string): Promise<string[]> {
    checkOpen(this.closed);
    checkLoad(accountId, undefined, this.limits);
    const r = await pgCall(this.run(this.pool, 'keys', [accountId, this.limits.maxRecordKeyBytes, this.limits.maxRecordsPerAccount + 1]));
    checkKeyCount(r.rows.length, this.limits);
    const keys = r.rows.map((row: { key: unknown }) => checkStoredKey(row.key, this.limits));
    // A key listed twice (the primary key gone): the caller would restore one record twice.
    const distinct = new Set<string>();
    for (const k of keys) {
      if (distinct.has(k)) throw storedTwice(k);
      distinct.add(k);
    }
    return keys;
  }

  async commit(accountId: string, input: readonly RecordChange[]): Promise<void> {
    checkOpen(this.closed);
    // Copied now: the statements run after awaits, and the caller may reuse its buffers meanwhile.
    return this.write(accountId, ownCopy(checkCommit(accountId, input, this.limits)));
  }

  /** As commit, with the arrays handed over (./owned.ts): written and wiped after, not copied first. */
  async [COMMIT_OWNED](accountId: string, changes: readonly RecordChange[]): Promise<void> {
    checkHandedOver(this.closed, accountId, changes, this.limits);
    return this.write(accountId, changes);
  }

  /** Writes changes this store owns (wiped when done). */
  private async write(accountId: string, changes: readonly RecordChange[]): Promise<void> {
    if (changes.length === 0) return;
    let xid: string | undefined;
    try {
      // One update or delete: a single statement is its own transaction.
      if (changes.length === 1 && changes[0]!.generation > 1) {
        // On a connection of its own (not pool.query): a lost reply is settled with its server process's id.
        await onConnection(this.pool, async (c) => {
          await checkBackend(c);
          await this.apply(c, accountId, changes[0]!, true);
        });
        return;
      }
      const ordered = [...changes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      await inTransaction(
        this.pool,
        async (c) => {
          // The first statement also tells the transaction's id (RETURNING_XID).
          for (let n = 0; n < ordered.length; n++) {
            const learnt = await this.apply(c, accountId, ordered[n]!, false, n === 0);
            if (n === 0) xid = learnt;
          }
          if (ordered.some((ch) => ch.generation === 1 && ch.bytes !== null)) {
            const n = (await this.run(c, 'count', [accountId])).rows[0]?.n as number;
            if (n > this.limits.maxRecordsPerAccount)
              throw new OtrLimitError(`the account would hold more than maxRecordsPerAccount (${this.limits.maxRecordsPerAccount}) records`);
          }
        },
        { lostCommit: true },
      );
    } catch (e) {
      // Before the rows are wiped (finally): settling compares them with what the database holds.
      if (e instanceof CommitReplyLost) return await this.settleLost(accountId, changes, e, xid);
      if (isRetryableRace(e))
        throw new OtrStoreConflictError(changes[0]!.key, 'another writer committed to the same records at the same time; nothing was written');
      throw typed(e);
    } finally {
      wipeRows(changes); // our copies (plaintext when the store is not sealed)
    }
  }

  /**
   * One change's statement on `q`; `commits`: it is autocommitted (a lone change), so a lost reply is
   * CommitReplyLost. With `learnXid`, the statement also returns its transaction's id, returned here.
   */
  private async apply(q: PoolClient, accountId: string, c: RecordChange, commits: boolean, learnXid = false): Promise<string | undefined> {
    let r: QueryResult;
    try {
      if (c.bytes === null) r = await this.run(q, learnXid ? 'removeXid' : 'remove', [accountId, c.key, c.generation - 1]);
      else if (c.generation === 1) r = await this.run(q, learnXid ? 'insertXid' : 'insert', [accountId, c.key, asBuffer(c.bytes)]);
      else r = await this.run(q, learnXid ? 'updateXid' : 'update', [accountId, c.key, c.generation, asBuffer(c.bytes), c.generation - 1]);
    } catch (e) {
      if (commits && outcomeUnknown(e)) throw new CommitReplyLost(backendOf(q), e);
      throw e;
    }
    if (r.rowCount === 1) return learnXid ? xidOf(r) : undefined;
    let found: number | undefined;
    let rows: { generation: unknown }[] | undefined;
    try {
      rows = (await this.run(q, 'generation', [accountId, c.key])).rows;
      const g = rows[0]?.generation as string | undefined;
      found = g === undefined ? 0 : Number(g);
    } catch {
      // Only for the message: the conflict stands either way.
    }
    // Nothing was written (ONCE); in a transaction the throw rolls back the changes before it.
    if (rows !== undefined && rows.length > 1) throw storedTwice(c.key);
    throw conflict(c, found !== undefined && Number.isSafeInteger(found) ? found : undefined);
  }

  /**
   * A commit whose connection was lost while the server was committing it: written or not? Asked on another
   * connection.
   *
   * A transaction (session 10) is settled by its id, which its first statement returned (RETURNING_XID): the server
   * says whether that transaction committed (settleByXid). What other writers did to the records since cannot
   * change that answer — a record deleted and recreated by another process within the settle read as "not
   * written" before.
   *
   * A lone autocommitted statement has no id to ask about (its only reply is the one lost), and the settle
   * compares the records, as session 9 did: once the server process that ran it is gone — ended by
   * pg_terminate_backend, so that a statement still running (its client vanished, the server not told yet)
   * cannot commit after we looked — each record is read: all at the written generation with the written bytes
   * (compared by the server; sealed rows carry a fresh nonce, so equal bytes are this commit's) means written —
   * resolve, the caller's book is right; all at the generation before means not written — a typed failure the
   * caller may retry, its book is right too. Anything else (another writer since, the server unreachable, its
   * process not gone in time, a pooler hiding the process) is OtrStoreOutcomeUnknownError: the caller must
   * treat it as not sent, and a later CONFLICT on these records means it was written (reload). Left so: a
   * record another writer brought back to exactly the generation before (deleted, re-created and advanced)
   * between the lost statement and the read looks "not written" — a delete alone reads as unknown. Exact only
   * with the statement's transaction id, which comes back on the lost reply (docs/stores.md, session 15).
   */
  private async settleLost(accountId: string, changes: readonly RecordChange[], lost: CommitReplyLost, xid: string | undefined): Promise<void> {
    const what = `the connection was lost while the server was committing (${(lost.lost as Error)?.message ?? String(lost.lost)})`;
    let verdict: 'written' | 'not written' | 'mixed';
    try {
      if (xid !== undefined) verdict = (await this.settleByXid(xid, lost.backend)) === 'committed' ? 'written' : 'not written';
      else verdict = await this.compareRecords(accountId, changes, lost.backend);
    } catch (e) {
      throw new OtrStoreOutcomeUnknownError(
        changes.map((c) => c.key),
        `PostgreSQL: ${what}, and it could not be settled (${(e as Error)?.message ?? String(e)}): the outcome is unknown. ` +
          `Do not transmit; if a later commit of these records is a CONFLICT, it was written: reload them`,
      );
    }
    if (verdict === 'written') return;
    if (verdict === 'not written')
      throw new OtrStateError(
        xid !== undefined
          ? `PostgreSQL: ${what}; asked on another connection, the server says the transaction rolled back: nothing was written (retry)`
          : `PostgreSQL: ${what}; read back on another connection, the records are as before: nothing was written (retry)`,
      );
    throw new OtrStoreOutcomeUnknownError(
      changes.map((c) => c.key),
      `PostgreSQL: ${what}, and the records hold neither this commit nor the state before it (another writer since): the outcome is unknown. ` +
        `Do not transmit; reload these records`,
    );
  }

  /** The records as the database holds them against `changes` (the lone statement's settle, see settleLost). */
  private async compareRecords(accountId: string, changes: readonly RecordChange[], backend: ServerProcess | undefined): Promise<'written' | 'not written' | 'mixed'> {
    await this.awaitGone(backend);
    const keys = changes.map((c) => c.key);
    const bytes = changes.map((c) => (c.bytes === null ? null : asBuffer(c.bytes)));
    const rows = (await this.run(this.pool, 'settle', [accountId, keys, bytes])).rows as { i: string; generation: string | null; same: boolean | null }[];
    if (rows.length !== changes.length) throw new Error('a record is stored more than once');
    let written = 0;
    let before = 0;
    for (const row of rows) {
      const c = changes[Number(row.i) - 1]!;
      const g = row.generation === null ? 0 : Number(row.generation);
      if (c.bytes === null ? g === 0 : g === c.generation && row.same === true) written++;
      else if (g === c.generation - 1) before++;
    }
    return written === changes.length ? 'written' : before === changes.length ? 'not written' : 'mixed';
  }

  /**
   * What became of transaction `xid`, asked on another connection (pg_xact_status): committed or rolled back —
   * final answers, whatever any writer did since. While it is in progress (its client is gone but the server
   * has not noticed, or a pooler still holds its server connection), the process running it is ended — only
   * `backend`, and only while it still runs this transaction (backend_xid) — and the question asked again
   * every 20 ms, at most LOST_COMMIT_WAIT_MS: behind a pooler (no process known) the wait is for the pooler to
   * finish or drop it. An id the server no longer knows (NULL: older than the commit log it keeps, or from
   * before a wraparound) or calls "in the future" (another server: a failover) is thrown: unknown.
   */
  private async settleByXid(xid: string, backend: ServerProcess | undefined): Promise<'committed' | 'aborted'> {
    let ended = false;
    for (const start = Date.now(); ; ) {
      const status = (await this.pool.query('SELECT pg_xact_status($1::xid8) AS status', [xid])).rows[0]?.status as unknown;
      if (status === 'committed' || status === 'aborted') return status;
      if (status !== 'in progress') throw new Error(`the server no longer knows transaction ${xid} (too old)`);
      if (!ended && backend !== undefined) {
        await this.endProcess(backend, xid);
        ended = true;
      }
      if (Date.now() - start > LOST_COMMIT_WAIT_MS) throw new Error(`transaction ${xid} still in progress after ${LOST_COMMIT_WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Ends server process `p` (if it still runs) and waits until it is gone, at most LOST_COMMIT_WAIT_MS. Only the
   * process that started when `p` did: a pid reused by a later process (another client's) is left alone.
   */
  private async awaitGone(p: ServerProcess | undefined): Promise<void> {
    if (p === undefined) throw new Error('the server process is not known (a pooler between?)');
    await this.endProcess(p);
    for (const start = Date.now(); ; ) {
      const r = await this.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE ${SAME_PROCESS}`, [p.pid, p.started]);
      if (r.rows[0]?.n === 0) return;
      if (Date.now() - start > LOST_COMMIT_WAIT_MS) throw new Error(`server process ${p.pid} still running after ${LOST_COMMIT_WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * pg_terminate_backend on process `p` (pid and start time) — with `xid`, only while that process runs that
   * transaction (its 32 low bits: two live transactions cannot share them, wraparound protection sees to it).
   */
  private async endProcess(p: ServerProcess, xid?: string): Promise<void> {
    const [also, values] = xid === undefined ? ['', []] : [' AND backend_xid = $3::xid8::xid', [xid]];
    try {
      await this.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ${SAME_PROCESS}${also}`, [p.pid, p.started, ...values]);
    } catch (e) {
      // Not allowed to end it (another role's process): it still ends once it notices its client is gone.
      if ((e as { code?: unknown })?.code !== '42501') throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }
}

/** Opens a PostgreSQL record store, creating its tables if needed. */
export function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  return PostgresStore.open(options);
}
