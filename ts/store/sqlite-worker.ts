/**
 * The SQLite store on a worker thread: `openSqliteStore({ path, worker: true })`.
 *
 * better-sqlite3 is synchronous, so on the main thread every flush — an fsync with synchronous=FULL, a few
 * milliseconds on a real disk — stops the event loop: no socket is read while a save is made durable. Here the
 * connection lives in a worker thread (this module is both sides: the main-thread proxy and, when loaded as a
 * worker, the server). The worker runs the ordinary SqliteStore, so the semantics are the same, and its group
 * commit works better still: while the worker is inside one fsync, the next commits queue up in its message
 * port and go out together in the next transaction.
 *
 * Errors cross the thread as { name, code, message, key, known, found } and are rebuilt as the same Otr*
 * classes, so callers see exactly what the in-thread store throws.
 *
 * Closing is bounded (session 7), as the checkpoint worker's is: the worker gets CLOSE_GRACE_MS to answer the
 * close and the calls in flight; one that has not by then (stuck inside a native call: a hung fsync) has every
 * call still waiting rejected with OtrStateError (its outcome unknown: committed or not, as after a crash), is
 * terminated and unref'd, and close() returns — a host's shutdown never hangs on the disk.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { OtrArgumentError, OtrError, OtrStateError } from '../errors.js';
import { resolveLimits } from '../limits.js';
import type { RecordChange, RecordStore, StoredRecord } from './types.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import { checkCommit, checkLoad, checkOpen, ownCopy, wipeRows, type StoreLimits } from './validate.js';
import { otrErrorFromWire, otrErrorToWire, type WireError } from './wire-error.js';
import { CLOSE_GRACE_MS, TERMINATE_WAIT_MS, within } from './sqlite-checkpoint.js';

/** How the worker store's thread is started and closed; tests shorten the times and inject hung workers. */
export interface WorkerStoreHooks {
  /** CLOSE_GRACE_MS unless given. */
  closeGraceMs?: number;
  /** TERMINATE_WAIT_MS unless given. */
  terminateWaitMs?: number;
  /** Starts the worker thread (default: this module, with the store's options as its workerData). */
  startWorker?: (data: Record<string, unknown>) => Worker;
}

type Op = 'load' | 'keys' | 'commit' | 'deleteRefused' | 'close';
/** Marks the workerData of our own workers, so that loading this module in any other worker does nothing. */
const MARK = 'otr4SqliteStoreWorker';

interface Request {
  id: number;
  op: Op;
  args: unknown[];
}

interface Reply {
  id: number;
  ok?: unknown;
  error?: WireError;
}

function toWire(e: unknown): WireError {
  if (e instanceof OtrError) return otrErrorToWire(e);
  const err = e as Partial<Error> | undefined;
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e) };
}

/** The same class as was thrown in the worker (an unknown one becomes OtrStateError: the worker failed). */
function fromWire(w: WireError): Error {
  return otrErrorFromWire(w) ?? new OtrStateError(`the SQLite worker failed: ${w.name}: ${w.message}`);
}

/** The main-thread side: a RecordStore whose every call is a message to the worker. */
export class SqliteWorkerStore implements RecordStore {
  private next = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  /** Every call not yet answered, settled either way (close waits for them before terminating the worker). */
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private dead: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly limits: StoreLimits,
    private readonly hooks: WorkerStoreHooks,
  ) {
    worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.error) p.reject(fromWire(r.error));
      else p.resolve(r.ok);
    });
    worker.on('error', (e: Error) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`exit code ${code}`)));
  }

  /** The worker is gone (or given up on): every call still waiting is rejected, and so is every later one. */
  private fail(e: Error): void {
    this.dead ??= new OtrStateError(`the SQLite worker stopped: ${e.message}`);
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }

  /** `hooks` only for tests (openSqliteStore passes none). */
  static async open(options: SqliteStoreOptions, hooks: WorkerStoreHooks = {}): Promise<SqliteWorkerStore> {
    const { limits, path, synchronous, busyTimeoutMs, verifyOnOpen, backgroundCheckpoint } = options;
    const data = { [MARK]: true, limits, path, synchronous, busyTimeoutMs, verifyOnOpen, backgroundCheckpoint };
    // This very module (or the bundle it was built into) is the worker's code: see serve() below.
    const worker = hooks.startWorker ? hooks.startWorker(data) : new Worker(new URL(import.meta.url), { workerData: data });
    const store = new SqliteWorkerStore(worker, resolveLimits(limits), hooks);
    try {
      await store.call('keys', ['\u0000ready']); // the first reply says the database opened (or why not)
    } catch (e) {
      await worker.terminate();
      throw e;
    }
    return store;
  }

  private call(op: Op, args: unknown[], transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    const answer = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ id, op, args } satisfies Request, transfer);
      } catch (e) {
        this.pending.delete(id);
        reject(new OtrArgumentError(`arguments that cannot be sent to the SQLite worker: ${(e as Error).message}`));
      }
    });
    const settled = answer.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return answer;
  }

  // Arguments are checked here too, so a wrong call fails at once and exactly as in-thread, without a hop.
  async load(accountId: string, key: string): Promise<StoredRecord | undefined> {
    checkOpen(this.closed);
    checkLoad(accountId, key, this.limits);
    return (await this.call('load', [accountId, key])) as StoredRecord | undefined;
  }

  async keys(accountId: string): Promise<string[]> {
    checkOpen(this.closed);
    checkLoad(accountId, undefined, this.limits);
    return (await this.call('keys', [accountId])) as string[];
  }

  async deleteRefused(accountId: string, key: string): Promise<boolean> {
    checkOpen(this.closed);
    checkLoad(accountId, key, this.limits);
    return (await this.call('deleteRefused', [accountId, key])) === true;
  }

  async commit(accountId: string, changes: readonly RecordChange[]): Promise<void> {
    checkOpen(this.closed);
    checkCommit(accountId, changes, this.limits);
    // Each row copied into a buffer of its own, which moves to the store's thread (zeroed there once committed):
    // the caller may reuse its arrays at once. Not the caller's arrays cloned: a structured clone of a view copies
    // its whole buffer, and the pool's packed results (result-batch.ts) are views into one buffer per batch that
    // also holds other accounts' records and decrypted messages (attacks/s13-review-batch-views).
    const rows = ownCopy(changes); // copyBytes: a buffer per row (also of a Node Buffer, whose slice() is a view)
    const transfer = rows.flatMap((r) => (r.bytes === null ? [] : [r.bytes.buffer as ArrayBuffer]));
    const committed = this.call('commit', [accountId, rows], transfer);
    // Refused before it was sent (a dead store): the copies are ours, zeroed (sent ones are detached: empty).
    committed.catch(() => wipeRows(rows));
    await committed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let answered = false;
    try {
      // The worker may post the close reply before the replies of commits it flushed while closing (their
      // promise chains are longer): terminating now would reject commits that are durable. Wait for them —
      // within the grace period (see the module comment).
      const closedAndFlushed = this.call('close', []).then(() => Promise.all(this.inFlight));
      answered = await within(closedAndFlushed, this.hooks.closeGraceMs ?? CLOSE_GRACE_MS);
    } finally {
      if (!answered) this.fail(new Error('it did not close within its grace period'));
      this.worker.unref();
      const stopped = this.worker.terminate().then(undefined, () => undefined);
      await within(stopped, this.hooks.terminateWaitMs ?? TERMINATE_WAIT_MS);
    }
  }
}

/** The worker side: serves requests with an ordinary SqliteStore. */
async function serve(): Promise<void> {
  const port = parentPort!;
  let store: SqliteStore | undefined;
  let openError: unknown;
  try {
    store = await SqliteStore.open(workerData as SqliteStoreOptions);
  } catch (e) {
    openError = e;
  }
  port.on('message', (r: Request) => {
    const reply = (p: Promise<unknown>) =>
      p.then(
        (ok) => {
          // A loaded record's bytes (plaintext when the store is not sealed) move to the main thread: no copy stays here.
          const bytes = (ok as StoredRecord | undefined)?.bytes;
          port.postMessage({ id: r.id, ok } satisfies Reply, bytes instanceof Uint8Array ? [bytes.buffer as ArrayBuffer] : []);
        },
        (e) => port.postMessage({ id: r.id, error: toWire(e) } satisfies Reply),
      );
    if (!store) return void reply(Promise.reject(openError));
    if (r.op === 'keys' && r.args[0] === '\u0000ready') return void reply(Promise.resolve(true));
    const s = store;
    const [a, b] = r.args as [string, unknown];
    if (r.op === 'load') reply(s.load(a, b as string));
    else if (r.op === 'keys') reply(s.keys(a));
    else if (r.op === 'deleteRefused') reply(s.deleteRefused(a, b as string));
    else if (r.op === 'commit') {
      // The store copies the changes at once; this thread's clone of them is zeroed when the commit settles.
      const changes = b as RecordChange[];
      reply(s.commit(a, changes).finally(() => Array.isArray(changes) && changes.forEach((c) => c?.bytes instanceof Uint8Array && c.bytes.fill(0))));
    }
    else reply(s.close());
  });
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[MARK] === true) void serve();
