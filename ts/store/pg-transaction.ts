/**
 * One PostgreSQL transaction on a pooled connection: BEGIN, the caller's queries, COMMIT — or ROLLBACK when
 * anything throws (the rollback's own failure is swallowed so the caller sees the first error). The
 * connection always goes back to the pool. Shared by the record store (ts/store/postgres.ts) and the prekey
 * server's store (ts/prekey-server/pg-store.ts).
 *
 * A connection the server ends while it is checked out (a restart, a failover, pg_terminate_backend) between
 * two of our statements emits 'error' on the client, and a checked-out client has no listener of the pool's:
 * without one of ours that is an uncaught exception that ends the host process (found by
 * test/attacks/s8-postgres.test.ts). The error is kept; the next statement fails (typed by the caller), and the
 * client is released with it, so the pool destroys it instead of handing a dead connection to the next call.
 */
import type { Pool, PoolClient } from 'pg';

export async function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let broken: Error | undefined;
  const onError = (e: Error) => {
    broken ??= e;
  };
  c.on('error', onError);
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    // A rollback that fails leaves the connection in an unknown state: not given back for reuse either.
    if (!broken) await c.query('ROLLBACK').catch((r: Error) => void (broken ??= r));
    throw e;
  } finally {
    c.removeListener('error', onError);
    c.release(broken);
  }
}
