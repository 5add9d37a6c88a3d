/**
 * One PostgreSQL transaction on a pooled connection: BEGIN, the caller's queries, COMMIT — or ROLLBACK when
 * anything throws (the rollback's own failure is swallowed so the caller sees the first error). The
 * connection always goes back to the pool. Shared by the record store (ts/store/postgres.ts) and the prekey
 * server's store (ts/prekey-server/pg-store.ts).
 */
import type { Pool, PoolClient } from 'pg';

export async function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}
