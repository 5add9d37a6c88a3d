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
 * store then settles on a fresh connection (session 9, postgres.ts) — a transaction by the id its first
 * statement returned (session 10).
 */
import type { Pool, PoolClient } from 'pg';

/** The connection was lost while a statement that commits was in flight: the outcome is not known yet. */
export class CommitReplyLost extends Error {
  constructor(
    /** The server process that ran the statement, when known (checkBackend). */
    readonly backend: ServerProcess | undefined,
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

/** A server process: its pid, and when it started (microseconds since 1970, as text), which a reused pid does not share. */
export interface ServerProcess {
  readonly pid: number;
  readonly started: string;
}

/** SQL: a pg_stat_activity row's start time as ServerProcess.started (what tells a reused pid apart). */
export const BACKEND_STARTED = '(extract(epoch FROM backend_start) * 1000000)::bigint::text';

/** The server process behind each client that carries commits, checked once per connection (checkBackend). */
const serverProcesses = new WeakMap<PoolClient, ServerProcess | undefined>();

/**
 * Learns, once per connection and before it carries a commit, which server process it talks to: the one whose
 * pid BackendKeyData gave, if the server itself says so (pg_backend_pid). A pooler gives its own cancel key,
 * whose "process id" names no server process — or another client's, which settling a lost commit would then
 * end (found by test/attacks/s9-review-postgres.test.ts) — and carries a statement on after its client vanished:
 * no process is known then, and a lost commit's outcome stays unknown. The start time tells a pid reused by a
 * later process from this one.
 */
export async function checkBackend(c: PoolClient): Promise<void> {
  if (serverProcesses.has(c)) return;
  const r = await c.query(
    `SELECT pid, ${BACKEND_STARTED} AS started FROM pg_stat_activity WHERE pid = pg_backend_pid()`,
  );
  const given = (c as { processID?: unknown }).processID;
  const row = r.rows[0] as { pid?: unknown; started?: unknown } | undefined;
  const known = typeof given === 'number' && Number.isSafeInteger(given) && given > 0 && row?.pid === given && typeof row.started === 'string';
  serverProcesses.set(c, known ? { pid: given, started: row.started as string } : undefined);
}

/** The server process behind a client, if checkBackend established it. */
export function backendOf(c: PoolClient): ServerProcess | undefined {
  return serverProcesses.get(c);
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
      if (options.lostCommit) await checkBackend(c);
      await c.query('BEGIN');
      const out = await fn(c);
      try {
        await c.query('COMMIT');
      } catch (e) {
        if (options.lostCommit && outcomeUnknown(e)) throw new CommitReplyLost(backendOf(c), e);
        throw e;
      }
      return out;
    },
    true,
  );
}
