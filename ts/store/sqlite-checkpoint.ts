/**
 * The SQLite store's WAL checkpoints, off the event loop (sqlite-store.ts; docs/stores.md, "(session 6) SQLite").
 *
 * Why. In WAL mode every commit appends its pages to the WAL, and every 1,000 pages SQLite's automatic
 * checkpoint copies them back into the database file and fsyncs both — in the connection that committed, so
 * on the event loop's thread, inside that commit: ~1,000 page copies and two fsyncs (tens of ms on this disk,
 * with `synchronous=NORMAL` too), ~20–25 µs per commit amortised, as much as the commit's own statement.
 *
 * How. The store turns the automatic checkpoint down to a safety net (4× the usual interval) and, every
 * ~1,000 written pages, asks this worker thread to run a PASSIVE checkpoint on its own connection: it copies
 * the pages and fsyncs while the event loop goes on committing (a PASSIVE checkpoint takes no write lock).
 * Frames written meanwhile are left for a second pass that the store runs itself when the worker is done
 * (`onDone`): a few pages and the fsyncs, after which the next write starts the WAL over — without that pass a
 * checkpoint racing a steady writer never catches up and the WAL would only grow. Checkpoints are crash-safe
 * by SQLite's design (the WAL stays valid until a later write restarts it), so a kill -9 at any point loses
 * nothing; the worker's connection syncs at the store's level (its checkpoints fsync like the store's would).
 *
 * The worker starts once a quarter of the first interval is written, so that it is ready when first asked (a
 * store that commits little never starts one); it costs a thread.
 * If it cannot start or dies, `onFailed` lets the store put the automatic checkpoint back.
 *
 * Closing is bounded (session 7): the worker is asked to close its connection and given CLOSE_GRACE_MS (it
 * finishes a running checkpoint first: tens of ms, seconds on a slow disk); a worker that has not exited by
 * then (hung: a stuck fsync, a deadlock) is terminated, and that is waited for at most TERMINATE_WAIT_MS (a
 * thread blocked inside a native call stops only when the call returns; it is unref'd, so it never keeps the
 * process alive). `close()` always resolves, a dead or killed worker included: the store then closes its own
 * connection. Losing the worker mid-checkpoint loses nothing (a checkpoint is crash-safe; the WAL stays valid
 * and the next one, or the next open, copies it).
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** Marks the workerData of our own checkpoint workers (this module is also loaded in other workers). */
const MARK = 'otr4SqliteCheckpointer';

export interface Config {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
  busyTimeoutMs: number;
}

type Reply = { done: true; busy: boolean } | { done: false; message: string };

/** How long close() lets the worker finish its checkpoint and close its connection before terminating it. */
export const CLOSE_GRACE_MS = 10_000;
/** How long close() then waits for the terminated thread to stop (one blocked in a native call cannot be stopped). */
export const TERMINATE_WAIT_MS = 1_000;

/** What the Checkpointer uses of a worker thread (a node:worker_threads Worker; tests inject stand-ins). */
export type CheckpointWorker = Pick<Worker, 'postMessage' | 'terminate' | 'ref' | 'unref' | 'on' | 'once'>;

export interface CheckpointerOptions {
  /** CLOSE_GRACE_MS unless given (tests shorten it). */
  closeGraceMs?: number;
  /** TERMINATE_WAIT_MS unless given. */
  terminateWaitMs?: number;
  /** Starts the worker (default: this module on a worker thread); tests inject hung or dying workers. */
  startWorker?: (config: Config) => CheckpointWorker;
}

export class Checkpointer {
  private worker: CheckpointWorker | undefined;
  private running = false;
  private failed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly config: Config,
    /** The worker's checkpoint finished (`busy`: it could not run it all: another checkpoint or a reader). */
    private readonly onDone: (busy: boolean) => void,
    /** The worker could not start or died: the store checkpoints in-thread again. */
    private readonly onFailed: (why: string) => void,
    private readonly options: CheckpointerOptions = {},
  ) {}

  /** Starts the worker ahead of the first request (it takes a while to load the driver and open the file). */
  prepare(): void {
    if (this.worker || this.failed || this.closing) return;
    try {
      this.worker = this.start();
    } catch (e) {
      this.fail(`cannot start: ${(e as Error).message}`);
    }
  }

  /** Asks for a checkpoint. False when none was started (one is running, the worker failed, closing). */
  request(): boolean {
    if (this.running || this.failed || this.closing) return false;
    try {
      this.worker ??= this.start();
      this.worker.postMessage('checkpoint');
    } catch (e) {
      this.fail(`cannot start: ${(e as Error).message}`);
      return false;
    }
    this.running = true;
    return true;
  }

  private start(): CheckpointWorker {
    const w = (this.options.startWorker ?? startCheckpointWorker)(this.config);
    w.unref(); // an idle checkpointer never keeps the process alive
    w.on('message', (r: Reply) => {
      this.running = false;
      if (r.done) this.onDone(r.busy);
      else this.fail(r.message);
    });
    w.on('error', (e) => this.fail(e.message));
    w.on('exit', (code) => {
      if (!this.closing) this.fail(`exited (${code})`);
    });
    return w;
  }

  private fail(why: string): void {
    if (this.failed || this.closing) return;
    this.failed = true;
    this.running = false;
    void this.worker?.terminate();
    this.onFailed(why);
  }

  /**
   * Waits for a running checkpoint, then stops the worker (its connection closes before the store's). Bounded
   * (see the top): a worker that does not exit within the grace period is terminated. Never rejects.
   */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    const w = this.worker;
    if (!w || this.failed) return;
    const exited = new Promise<void>((done) => w.once('exit', () => done()));
    try {
      w.ref(); // awaited now: it keeps the process alive until it has closed its connection
      w.postMessage('close');
    } catch {
      // a worker that is already gone: its exit is on its way, or the grace period ends the wait
    }
    if (await within(exited, this.options.closeGraceMs ?? CLOSE_GRACE_MS)) return;
    // Hung: stopped by force, and no longer allowed to keep the process alive if even that does not end it.
    w.unref();
    let stopped: Promise<unknown>;
    try {
      stopped = w.terminate();
    } catch {
      return;
    }
    await within(stopped.then(undefined, () => undefined), this.options.terminateWaitMs ?? TERMINATE_WAIT_MS);
  }
}

/** This very module (or the bundle it was built into) on a worker thread: see serve() below. */
export function startCheckpointWorker(config: Config): Worker {
  return new Worker(new URL(import.meta.url), { workerData: { [MARK]: true, ...config } });
}

/** True if `p` settles within `ms`, false if the time runs out first (the timer is cleared either way); a
 *  rejection of `p` within the time is thrown. Also bounds the worker store's close (sqlite-worker.ts). */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((done) => (timer = setTimeout(() => done(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The worker side: one connection, a PASSIVE checkpoint per request. */
async function serve(): Promise<void> {
  const port = parentPort!;
  const config = workerData as Config;
  let db: import('better-sqlite3').Database;
  try {
    const Database = (await import('better-sqlite3')).default;
    db = new Database(config.path, { fileMustExist: true, timeout: config.busyTimeoutMs });
    db.pragma(`synchronous = ${config.synchronous}`);
    db.pragma('wal_autocheckpoint = 0'); // this connection never writes; stated anyway
  } catch (e) {
    port.postMessage({ done: false, message: `cannot open the database: ${(e as Error).message}` } satisfies Reply);
    return;
  }
  port.on('message', (m: 'checkpoint' | 'close') => {
    if (m === 'close') {
      db.close();
      port.close();
      return;
    }
    let reply: Reply;
    try {
      const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      reply = { done: true, busy: row !== undefined && row.busy !== 0 };
    } catch (e) {
      // SQLITE_BUSY (another process's checkpoint) is not a failure of this one: the next request tries again.
      const code = String((e as { code?: unknown }).code ?? '');
      reply = code.startsWith('SQLITE_BUSY') ? { done: true, busy: true } : { done: false, message: (e as Error).message };
    }
    port.postMessage(reply);
  });
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[MARK] === true) void serve();
