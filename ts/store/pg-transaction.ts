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
 *
 * A statement that commits (COMMIT, or an autocommitted write) whose connection is lost before its reply came
 * may have committed or not: the server may have made it durable just before the connection went. With
 * `lostCommit`, such a failure is a CommitReplyLost carrying the server process that ran it, which the record
 * store then settles on a fresh connection (session 9, postgres.ts).
 */
import type { Pool, PoolClient } from 'pg';

/** The connection was lost while a statement that commits was in flight: the outcome is not known yet. */
export class CommitReplyLost extends Error {
  constructor(
    /** The server process (pg_stat_activity.pid) that ran the statement, when the connection said it. */
    readonly backendPid: number | undefined,
    readonly lost: unknown,
  ) {
    super(`the connection was lost while the server was committing: ${(lost as Error)?.message ?? String(lost)}`);
  }
}

/**
 * Whether a failure of a statement that commits leaves its outcome unknown. A server's answer — an error with
 * a SQLSTATE and a severity — is definite (nothing was committed), except those that say the connection is
 * ending (class 08, connection exception; 57P, the server shutting the session down; a FATAL): those can come
 * after the commit was made durable. A failure with no answer from the server (the socket closed or reset) is
 * unknown.
 */
export function outcomeUnknown(e: unknown): boolean {
  const { severity, code } = (e ?? {}) as { severity?: unknown; code?: unknown };
  if (typeof severity !== 'string') return true;
  if (severity === 'FATAL' || severity === 'PANIC') return true;
  return typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P'));
}

/** The server process behind a client (pg's BackendKeyData), if it was given. */
export function backendPid(c: PoolClient): number | undefined {
  const pid = (c as { processID?: unknown }).processID;
  return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** Runs `fn` on a pooled connection, kept safe from its 'error' event, released (destroyed if it broke). */
export async function onConnection<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>, rollbackOnError = false): Promise<T> {
  const c = await pool.connect();
  let broken: Error | undefined;
  const onError = (e: Error) => {
    broken ??= e;
  };
  c.on('error', onError);
  try {
    return await fn(c);
  } catch (e) {
    // A rollback that fails leaves the connection in an unknown state: not given back for reuse either.
    if (rollbackOnError && !broken) await c.query('ROLLBACK').catch((r: Error) => void (broken ??= r));
    // A lost commit: the connection is gone, whatever the client noticed of it.
    if (e instanceof CommitReplyLost) broken ??= e;
    throw e;
  } finally {
    c.removeListener('error', onError);
    c.release(broken);
  }
}

export function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>, options: { lostCommit?: boolean } = {}): Promise<T> {
  return onConnection(
    pool,
    async (c) => {
      await c.query('BEGIN');
      const out = await fn(c);
      try {
        await c.query('COMMIT');
      } catch (e) {
        if (options.lostCommit && outcomeUnknown(e)) throw new CommitReplyLost(backendPid(c), e);
        throw e;
      }
      return out;
    },
    true,
  );
}
