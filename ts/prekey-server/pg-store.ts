/**
 * The store for several server processes: PostgreSQL through `pg` (an optional peer dependency, loaded only
 * when this store is opened). Node only. Any number of processes may share one database.
 *
 * At most once: a retrieval is ONE statement that picks, per unexpired instance, its oldest prekey with
 * `FOR UPDATE SKIP LOCKED` and deletes it with `DELETE ... RETURNING`. A row can be returned by only one
 * committed DELETE, so two retrievals — in one process or in two — never hand out the same prekey; SKIP
 * LOCKED makes a concurrent retrieval take the next prekey instead of waiting (or coming back empty). The
 * statement commits before the server answers: a process killed after the commit and before the reply
 * loses that prekey (never hands it out twice); killed before the commit, the deletion never happened.
 *
 * Publication is one transaction that first takes a cluster-wide advisory lock (publications serialize, so
 * the global limits of ts/limits.ts hold across processes; totals are counted there, O(stored prekeys), paid
 * per publication, which is rate-limited and far rarer than retrievals). It resolves after COMMIT, i.e. when
 * the server (with its default synchronous_commit) has made it durable.
 *
 * The schema is created on open under another advisory lock, so processes may start together.
 */
import type { Pool } from 'pg';
import { OtrLimitError, OtrStateError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { utf8 } from '../bytes.js';
import { inTransaction } from '../store/pg-transaction.js';
import type { PrekeyStore, PublicationRecord, StoreLimits, StoredEnsemble } from './store.js';
import { rowBytes, rowUint32, storedBytesCap } from './store-rows.js';

/** Advisory-lock keys (arbitrary constants: "OTR4" and 1, 2). */
const LOCK_SCHEMA = 0x4f545234_01;
const LOCK_PUBLISH = 0x4f545234_02;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pks_instances (
  identity BYTEA NOT NULL, tag BIGINT NOT NULL,
  cp BYTEA, cp_expiry BIGINT, pp BYTEA, pp_expiry BIGINT,
  PRIMARY KEY (identity, tag)
);
CREATE TABLE IF NOT EXISTS pks_prekeys (
  seq BIGSERIAL PRIMARY KEY,
  identity BYTEA NOT NULL, tag BIGINT NOT NULL, id BIGINT NOT NULL, bytes BYTEA NOT NULL,
  UNIQUE (identity, tag, id)
);
CREATE INDEX IF NOT EXISTS pks_prekeys_order ON pks_prekeys (identity, tag, seq);
`;

const TAKE = `
WITH chosen AS (
  SELECT i.tag, substring(i.cp from 1 for $4) AS cp, substring(i.pp from 1 for $4) AS pp, x.seq
  FROM pks_instances i
  CROSS JOIN LATERAL (
    SELECT p.seq FROM pks_prekeys p
    WHERE p.identity = i.identity AND p.tag = i.tag
    ORDER BY p.seq LIMIT 1
    FOR UPDATE SKIP LOCKED
  ) x
  WHERE i.identity = $1 AND i.cp IS NOT NULL AND i.pp IS NOT NULL AND i.cp_expiry > $2 AND i.pp_expiry > $2
  ORDER BY i.tag
  LIMIT $3
), gone AS (
  DELETE FROM pks_prekeys d USING chosen c WHERE d.seq = c.seq
  RETURNING d.tag, d.id, substring(d.bytes from 1 for $4) AS bytes, c.cp, c.pp
)
SELECT g.tag, g.id, g.bytes, g.cp, g.pp,
  (SELECT count(*) FROM pks_prekeys q WHERE q.identity = $1 AND q.tag = g.tag) - 1 AS remaining
FROM gone g ORDER BY g.tag`;

export interface PgStoreOptions {
  readonly limits?: StoreLimits;
  /** Connections in this process's pool (default 10). */
  readonly poolSize?: number;
}

export class PgStore implements PrekeyStore {
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    private readonly limits: StoreLimits,
  ) {}

  /** Connects to `url` (postgres://user@host:port/db) and creates the tables if needed. */
  static async open(url: string, o: PgStoreOptions = {}): Promise<PgStore> {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: url, max: o.poolSize ?? 10 });
    // An idle connection that dies (the database restarts) must not crash the process: the next query
    // fails (and is answered as an error) or reconnects.
    pool.on('error', () => {});
    try {
      await inTransaction(pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_SCHEMA]);
        await c.query(SCHEMA);
      });
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PgStore(pool, o.limits ?? DEFAULT_LIMITS);
  }

  private usable(): void {
    if (this.closed) throw new OtrStateError('store is closed');
  }

  async publish(identity: string, r: PublicationRecord): Promise<void> {
    this.usable();
    const id = Buffer.from(utf8(identity));
    await inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_PUBLISH]);
      const tags = (await c.query('SELECT tag FROM pks_instances WHERE identity = $1', [id])).rows.map((x) => Number(x.tag));
      if (tags.length === 0 && Number((await c.query('SELECT count(DISTINCT identity) AS n FROM pks_instances')).rows[0].n) >= this.limits.maxIdentities)
        throw new OtrLimitError('the server stores no more identities');
      if (!tags.includes(r.instanceTag) && tags.length >= this.limits.maxInstancesPerIdentity) throw new OtrLimitError('too many instances for this identity');
      const have = new Set((await c.query('SELECT id FROM pks_prekeys WHERE identity = $1 AND tag = $2', [id, r.instanceTag])).rows.map((x) => Number(x.id)));
      const fresh = r.prekeys.filter((p) => !have.has(p.id));
      if (have.size + fresh.length > this.limits.maxStoredPrekeysPerInstance) throw new OtrLimitError('too many stored prekey messages for this instance');
      if (fresh.length > 0 && Number((await c.query('SELECT count(*) AS n FROM pks_prekeys')).rows[0].n) + fresh.length > this.limits.maxStoredPrekeysTotal)
        throw new OtrLimitError('the server stores no more prekey messages');
      const cp = r.clientProfile;
      const pp = r.prekeyProfile;
      await c.query(
        `INSERT INTO pks_instances (identity, tag, cp, cp_expiry, pp, pp_expiry) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (identity, tag) DO UPDATE SET
           cp = coalesce(EXCLUDED.cp, pks_instances.cp), cp_expiry = coalesce(EXCLUDED.cp_expiry, pks_instances.cp_expiry),
           pp = coalesce(EXCLUDED.pp, pks_instances.pp), pp_expiry = coalesce(EXCLUDED.pp_expiry, pks_instances.pp_expiry)`,
        [id, r.instanceTag, cp ? Buffer.from(cp.bytes) : null, cp ? cp.expiry.toString() : null, pp ? Buffer.from(pp.bytes) : null, pp ? pp.expiry.toString() : null],
      );
      if (fresh.length > 0)
        // In publication order, so the oldest prekey (lowest seq) goes first.
        await c.query(
          `INSERT INTO pks_prekeys (identity, tag, id, bytes)
           SELECT $1, $2, u.id, u.bytes FROM unnest($3::bigint[], $4::bytea[]) WITH ORDINALITY AS u(id, bytes, ord) ORDER BY u.ord
           ON CONFLICT DO NOTHING`,
          [id, r.instanceTag, fresh.map((p) => p.id), fresh.map((p) => Buffer.from(p.bytes))],
        );
    });
  }

  async count(identity: string, instanceTag: number): Promise<number> {
    this.usable();
    const r = await this.pool.query('SELECT count(*) AS n FROM pks_prekeys WHERE identity = $1 AND tag = $2', [Buffer.from(utf8(identity)), instanceTag]);
    return Number(r.rows[0].n);
  }

  async take(identity: string, nowSeconds: bigint, max: number): Promise<StoredEnsemble[]> {
    this.usable();
    // Values are read to at most cap + 1 bytes (a longer one is refused, never read in full). The
    // statement has committed by now: a bad row's prekey is gone (at most once still holds).
    const cap = storedBytesCap(this.limits);
    const r = await this.pool.query(TAKE, [Buffer.from(utf8(identity)), nowSeconds.toString(), max, cap + 1]);
    return r.rows.map((row) => ({
      instanceTag: rowUint32(row.tag, 'instance tag'),
      clientProfile: rowBytes(row.cp, 'client profile', cap),
      prekeyProfile: rowBytes(row.pp, 'prekey profile', cap),
      prekey: { id: rowUint32(row.id, 'prekey id'), bytes: rowBytes(row.bytes, 'prekey message', cap) },
      remaining: Math.max(0, Number(row.remaining)),
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
