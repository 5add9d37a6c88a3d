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
 */
import type { Pool, PoolClient, PoolConfig, QueryResult } from 'pg';
import { OtrArgumentError, OtrError, OtrLimitError, OtrStateError, OtrStoreConflictError } from '../errors.js';
import { resolveLimits, type Limits } from '../limits.js';
import { inTransaction } from './pg-transaction.js';
import type { RecordChange, RecordStore, StoredRecord } from './types.js';
import { checkCommit, checkKeyCount, checkLoad, checkOpen, checkRow, checkStoredKey, conflict, generationFromText, ownCopy, type StoreLimits } from './validate.js';

export interface PostgresStoreOptions {
  /** The host's own pool; it stays open on close(). Otherwise one is made from the rest of these options. */
  pool?: Pool;
  connectionString?: string;
  /** Connections of the pool this store makes (default 10). */
  max?: number;
  /** The records table (default otr4_records): lower-case letters, digits and '_'. */
  table?: string;
  limits?: Partial<Limits>;
}

const SCHEMA_VERSION = 1;
/** The advisory lock under which the schema is created ('otr4' in ASCII, plus one). */
const SCHEMA_LOCK = 0x6f74_7234_01;

type Querier = Pick<Pool, 'query'> | PoolClient;

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

export class PostgresStore implements RecordStore {
  private closed = false;
  private readonly sql: Record<'load' | 'keys' | 'generation' | 'insert' | 'update' | 'remove' | 'count', string>;

  private constructor(
    private readonly pool: Pool,
    private readonly ownsPool: boolean,
    private readonly table: string,
    private readonly limits: StoreLimits,
  ) {
    const t = table;
    this.sql = {
      load: `SELECT generation::text AS generation, octet_length(bytes) AS n,
                    CASE WHEN octet_length(bytes) <= $3 THEN bytes END AS bytes
             FROM ${t} WHERE account = $1 AND key = $2`,
      keys: `SELECT CASE WHEN octet_length(key) <= $2 THEN key END AS key FROM ${t} WHERE account = $1 LIMIT $3`,
      generation: `SELECT generation::text AS generation FROM ${t} WHERE account = $1 AND key = $2`,
      insert: `INSERT INTO ${t} (account, key, generation, bytes) VALUES ($1, $2, 1, $3) ON CONFLICT (account, key) DO NOTHING`,
      update: `UPDATE ${t} SET generation = $3, bytes = $4 WHERE account = $1 AND key = $2 AND generation = $5`,
      remove: `DELETE FROM ${t} WHERE account = $1 AND key = $2 AND generation = $3`,
      count: `SELECT count(*)::int AS n FROM ${t} WHERE account = $1`,
    };
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
    const store = new PostgresStore(pool, owns, table, limits);
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
    });
  }

  private transaction<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }


  async load(accountId: string, key: string): Promise<StoredRecord | undefined> {
    checkOpen(this.closed);
    checkLoad(accountId, key, this.limits);
    const r = await pgCall(this.pool.query({ text: this.sql.load, values: [accountId, key, this.limits.maxRecordBytes] }));
    const row = r.rows[0] as { generation: unknown; n: unknown; bytes: unknown } | undefined;
    if (!row) return undefined;
    return checkRow(key, generationFromText(row.generation), row.n, row.bytes ?? undefined, this.limits);
  }

  async keys(accountId: string): Promise<string[]> {
    checkOpen(this.closed);
    checkLoad(accountId, undefined, this.limits);
    const r = await pgCall(
      this.pool.query({ text: this.sql.keys, values: [accountId, this.limits.maxRecordKeyBytes, this.limits.maxRecordsPerAccount + 1] }),
    );
    checkKeyCount(r.rows.length, this.limits);
    return r.rows.map((row: { key: unknown }) => checkStoredKey(row.key, this.limits));
  }

  async commit(accountId: string, input: readonly RecordChange[]): Promise<void> {
    checkOpen(this.closed);
    // Copied now: the statements run after awaits, and the caller may reuse its buffers meanwhile.
    const changes = ownCopy(checkCommit(accountId, input, this.limits));
    if (changes.length === 0) return;
    try {
      // One update or delete: a single statement is its own transaction.
      if (changes.length === 1 && changes[0]!.generation > 1) {
        await this.apply(this.pool, accountId, changes[0]!);
        return;
      }
      const ordered = [...changes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      await this.transaction(async (c) => {
        for (const change of ordered) await this.apply(c, accountId, change);
        if (ordered.some((ch) => ch.generation === 1 && ch.bytes !== null)) {
          const n = (await c.query(this.sql.count, [accountId])).rows[0]?.n as number;
          if (n > this.limits.maxRecordsPerAccount)
            throw new OtrLimitError(`the account would hold more than maxRecordsPerAccount (${this.limits.maxRecordsPerAccount}) records`);
        }
      });
    } catch (e) {
      if (isRetryableRace(e))
        throw new OtrStoreConflictError(changes[0]!.key, 'another writer committed to the same records at the same time; nothing was written');
      throw typed(e);
    } finally {
      for (const c of changes) c.bytes?.fill(0); // our copies (plaintext when the store is not sealed)
    }
  }

  private async apply(q: Querier, accountId: string, c: RecordChange): Promise<void> {
    let r: QueryResult;
    if (c.bytes === null) r = await q.query(this.sql.remove, [accountId, c.key, c.generation - 1]);
    else if (c.generation === 1) r = await q.query(this.sql.insert, [accountId, c.key, asBuffer(c.bytes)]);
    else r = await q.query(this.sql.update, [accountId, c.key, c.generation, asBuffer(c.bytes), c.generation - 1]);
    if (r.rowCount === 1) return;
    let found: number | undefined;
    try {
      const g = (await q.query(this.sql.generation, [accountId, c.key])).rows[0]?.generation as string | undefined;
      found = g === undefined ? 0 : Number(g);
    } catch {
      // Only for the message: the conflict stands either way.
    }
    throw conflict(c, found !== undefined && Number.isSafeInteger(found) ? found : undefined);
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
