/**
 * The embedded default store: one SQLite database file through better-sqlite3 (an optional peer dependency,
 * loaded only when this store is opened). Node only.
 *
 * Durability: WAL journal with synchronous=FULL, so a transaction is on disk when `publish`/`take` resolves —
 * the server acknowledges a publication or answers a retrieval only after that. Atomicity: each operation is
 * one IMMEDIATE transaction (it takes the write lock at BEGIN), so a `take` reads and deletes under one lock
 * and two takes — in this process or in another process on the same file — never return the same prekey.
 * better-sqlite3 is synchronous: an operation blocks the event loop for its transaction (one fsync).
 *
 * Limits (ts/limits.ts) are checked inside the publishing transaction; the totals are counted there
 * (O(stored prekeys), paid per publication, which is rate-limited and far rarer than retrievals).
 */
import type { Database, Statement } from 'better-sqlite3';
import { OtrLimitError, OtrStateError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { utf8 } from '../bytes.js';
import type { PrekeyStore, PublicationRecord, StoreLimits, StoredEnsemble } from './store.js';
import { rowBytes, rowUint32, storedBytesCap } from './store-rows.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pks_instances (
  identity BLOB NOT NULL, tag INTEGER NOT NULL,
  cp BLOB, cp_expiry INTEGER, pp BLOB, pp_expiry INTEGER,
  PRIMARY KEY (identity, tag)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pks_prekeys (
  identity BLOB NOT NULL, tag INTEGER NOT NULL, seq INTEGER NOT NULL, id INTEGER NOT NULL, bytes BLOB NOT NULL,
  PRIMARY KEY (identity, tag, seq)
) WITHOUT ROWID;
`;
// One b-tree for the prekeys, clustered on (identity, tag, seq): a retrieval finds and deletes the oldest prekey
// in one leaf page, so its commit writes one or two pages to the WAL (a rowid table with two indexes wrote
// about eight). An id is unique per instance because publication checks it inside its transaction.

export interface SqliteStoreOptions {
  readonly limits?: StoreLimits;
  /** How long to wait for another process's write lock, in ms (default 5000). */
  readonly busyTimeoutMs?: number;
}

export class SqliteStore implements PrekeyStore {
  private readonly q: Record<string, Statement>;
  private readonly cap: number;
  private closed = false;

  private constructor(
    private readonly db: Database,
    private readonly limits: StoreLimits,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.cap = storedBytesCap(limits);
    this.q = {
      instancesOf: p('SELECT tag FROM pks_instances WHERE identity = ?'),
      identities: p('SELECT count(DISTINCT identity) AS n FROM pks_instances'),
      existingIds: p('SELECT id FROM pks_prekeys WHERE identity = ? AND tag = ?'),
      total: p('SELECT count(*) AS n FROM pks_prekeys'),
      upsert: p(
        `INSERT INTO pks_instances (identity, tag, cp, cp_expiry, pp, pp_expiry) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (identity, tag) DO UPDATE SET
           cp = coalesce(excluded.cp, cp), cp_expiry = coalesce(excluded.cp_expiry, cp_expiry),
           pp = coalesce(excluded.pp, pp), pp_expiry = coalesce(excluded.pp_expiry, pp_expiry)`,
      ),
      lastSeq: p('SELECT coalesce(max(seq), 0) AS n FROM pks_prekeys WHERE identity = ? AND tag = ?'),
      insertPrekey: p('INSERT INTO pks_prekeys (identity, tag, seq, id, bytes) VALUES (?, ?, ?, ?, ?)'),
      count: p('SELECT count(*) AS n FROM pks_prekeys WHERE identity = ? AND tag = ?'),
      candidates: p(
        `SELECT i.tag AS tag, substr(i.cp, 1, ?) AS cp, substr(i.pp, 1, ?) AS pp,
           (SELECT seq FROM pks_prekeys p WHERE p.identity = i.identity AND p.tag = i.tag ORDER BY p.seq LIMIT 1) AS seq
         FROM pks_instances i
         WHERE i.identity = ? AND i.cp IS NOT NULL AND i.pp IS NOT NULL AND i.cp_expiry > ? AND i.pp_expiry > ?
         ORDER BY i.tag`,
      ),
      remove: p('DELETE FROM pks_prekeys WHERE identity = ? AND tag = ? AND seq = ? RETURNING id, substr(bytes, 1, ?) AS bytes'),
    };
  }

  /** Opens (creating if needed) the database at `path` (":memory:" for a throwaway one). */
  static async open(path: string, o: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const Sqlite = (await import('better-sqlite3')).default;
    const db = new Sqlite(path);
    try {
      db.pragma(`busy_timeout = ${Math.floor(o.busyTimeoutMs ?? 5000)}`);
      // Small pages: a retrieval's commit writes its one or two changed pages to the WAL and fsyncs; 1 KiB pages
      // measured ~25% faster per retrieval than 4 KiB here (only takes effect on a new database).
      db.pragma('page_size = 1024');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
    } catch (e) {
      db.close();
      throw e;
    }
    return new SqliteStore(db, o.limits ?? DEFAULT_LIMITS);
  }

  private usable(): void {
    if (this.closed) throw new OtrStateError('store is closed');
  }

  async publish(identity: string, r: PublicationRecord): Promise<void> {
    this.usable();
    const id = utf8(identity);
    this.db
      .transaction(() => {
        const tags = (this.q.instancesOf!.all(id) as { tag: number }[]).map((x) => x.tag);
        if (tags.length === 0 && (this.q.identities!.get() as { n: number }).n >= this.limits.maxIdentities) throw new OtrLimitError('the server stores no more identities');
        const known = tags.includes(r.instanceTag);
        if (!known && tags.length >= this.limits.maxInstancesPerIdentity) throw new OtrLimitError('too many instances for this identity');
        const have = new Set((this.q.existingIds!.all(id, r.instanceTag) as { id: number }[]).map((x) => x.id));
        const fresh = r.prekeys.filter((p) => !have.has(p.id)).length;
        if (have.size + fresh > this.limits.maxStoredPrekeysPerInstance) throw new OtrLimitError('too many stored prekey messages for this instance');
        if (fresh > 0 && (this.q.total!.get() as { n: number }).n + fresh > this.limits.maxStoredPrekeysTotal) throw new OtrLimitError('the server stores no more prekey messages');
        const cp = r.clientProfile;
        const pp = r.prekeyProfile;
        this.q.upsert!.run(id, r.instanceTag, cp?.bytes ?? null, cp?.expiry ?? null, pp?.bytes ?? null, pp?.expiry ?? null);
        let seq = (this.q.lastSeq!.get(id, r.instanceTag) as { n: number }).n;
        for (const p of r.prekeys) {
          if (have.has(p.id)) continue; // a duplicate id is discarded, the stored one kept
          have.add(p.id);
          this.q.insertPrekey!.run(id, r.instanceTag, ++seq, p.id, p.bytes);
        }
      })
      .immediate();
  }

  async count(identity: string, instanceTag: number): Promise<number> {
    this.usable();
    return (this.q.count!.get(utf8(identity), instanceTag) as { n: number }).n;
  }

  async take(identity: string, nowSeconds: bigint, max: number): Promise<StoredEnsemble[]> {
    this.usable();
    const id = utf8(identity);
    return this.db
      .transaction(() => {
        const out: StoredEnsemble[] = [];
        // Read at most cap + 1 bytes of each value (a longer one is refused, never read in full); a
        // throw rolls the transaction back, so a bad row takes nothing.
        const over = this.cap + 1;
        const rows = this.q.candidates!.all(over, over, id, nowSeconds, nowSeconds) as { tag: unknown; cp: unknown; pp: unknown; seq: unknown }[];
        for (const row of rows) {
          if (out.length >= max) break;
          if (row.seq === null) continue;
          const gone = this.q.remove!.get(id, row.tag, row.seq, over) as { id: unknown; bytes: unknown };
          const remaining = (this.q.count!.get(id, row.tag) as { n: number }).n;
          out.push({
            instanceTag: rowUint32(row.tag, 'instance tag'),
            clientProfile: rowBytes(row.cp, 'client profile', this.cap),
            prekeyProfile: rowBytes(row.pp, 'prekey profile', this.cap),
            prekey: { id: rowUint32(gone.id, 'prekey id'), bytes: rowBytes(gone.bytes, 'prekey message', this.cap) },
            remaining,
          });
        }
        return out;
      })
      .immediate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
