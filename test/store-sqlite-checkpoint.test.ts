/**
 * The SQLite store's checkpoint worker (ts/store/sqlite-checkpoint.ts) when it misbehaves: closing must end,
 * whatever the worker does. A healthy worker closes on request (never terminated); one that hangs (a real
 * thread blocked in Atomics.wait: it never reads the close request) is terminated after the grace period;
 * one that dies, before close or during it, is not waited for and is no error; one whose termination never
 * completes (a stand-in: a thread stuck in a native call) is let go, unref'd. Each time the store's own
 * connection still closes and every acknowledged record is in the file. Behaviour only: the grace periods
 * are shortened so the suite is quick, nothing asserts how long anything took.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Checkpointer, startCheckpointWorker, type CheckpointerOptions, type CheckpointWorker, type Config } from '../ts/store/sqlite-checkpoint.js';
import { SqliteStore } from '../ts/store/sqlite-store.js';
import { openSqliteStore } from '../ts/store/sqlite.js';
import { rejectsAsync } from './helpers/rejects.js';

const t = suite('store-sqlite-checkpoint');
const dir = mkdtempSync(join(tmpdir(), 'otr4-checkpoint-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A WAL database with a few written pages, closed (the checkpointer opens its own connection). */
function walFile(): string {
  const path = join(dir, `db${files++}.sqlite`);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x BLOB)');
  db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(20_000, 7));
  db.close();
  return path;
}

const config = (path: string): Config => ({ path, synchronous: 'NORMAL', busyTimeoutMs: 1000 });
const SHORT: CheckpointerOptions = { closeGraceMs: 150, terminateWaitMs: 150 };

/** Worker code run with `eval`: what it does with each message it reads (CommonJS, as eval workers are). */
const HANGS = `require('node:worker_threads').parentPort.on('message', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));`;
const DIES_ON = (what: string) =>
  `require('node:worker_threads').parentPort.on('message', (m) => { if (m === ${JSON.stringify(what)}) process.exit(7); });`;

/** `p`, with the process kept alive meanwhile (the checkpointer unrefs its worker: an idle one must not hold it). */
async function awaitAlive<T>(p: Promise<T>): Promise<T> {
  const keep = setInterval(() => {}, 1000);
  try {
    return await p;
  } finally {
    clearInterval(keep);
  }
}

/** Starts real threads running `code`, remembering each and counting the terminate() calls made on it. */
function threads(code?: string) {
  const started: { worker: Worker; terminated: number; exit: Promise<number> }[] = [];
  const startWorker = (c: Config): CheckpointWorker => {
    // No `code`: the real checkpoint worker (this module's own serving code), only watched.
    const worker = code === undefined ? startCheckpointWorker(c) : new Worker(code, { eval: true });
    const entry = { worker, terminated: 0, exit: new Promise<number>((done) => worker.once('exit', done)) };
    const terminate = worker.terminate.bind(worker);
    worker.terminate = () => (entry.terminated++, terminate());
    started.push(entry);
    return worker;
  };
  return { started, startWorker };
}

t('a healthy worker checkpoints, then closes on request: close() resolves and nothing is terminated', async () => {
  const path = walFile();
  const { started, startWorker } = threads();
  let done = 0;
  let failed: string | undefined;
  const c = new Checkpointer(config(path), () => done++, (why) => (failed = why), { startWorker });
  const replied = new Promise<void>((r) => {
    const check = setInterval(() => done > 0 && (clearInterval(check), r()), 5);
  });
  assert.ok(c.request(), 'a checkpoint was asked for');
  await replied; // (the polling interval keeps the process alive meanwhile)
  await c.close();
  assert.is(failed, undefined);
  assert.is(started.length, 1);
  assert.is(await started[0]!.exit, 0, 'the worker closed its connection and exited by itself');
  assert.is(started[0]!.terminated, 0, 'never terminated');
  assert.not.ok(c.request(), 'closed: no more checkpoints');
  await c.close(); // again: the same settled close
});

t('attack: a hung worker (blocked, never reads the close request) is terminated after the grace period; close() resolves', async () => {
  const path = walFile();
  const { started, startWorker } = threads(HANGS);
  let failed: string | undefined;
  const c = new Checkpointer(config(path), () => assert.unreachable('a hung worker never answers'), (why) => (failed = why), { ...SHORT, startWorker });
  assert.ok(c.request());
  await c.close();
  assert.is(started[0]!.terminated, 1, 'terminated once');
  await started[0]!.exit; // the thread is gone (it was blocked for good: only terminate ends it)
  assert.is(started[0]!.worker.threadId, -1);
  assert.is(failed, undefined, 'closing: not reported as a failure');
});

t('attack: a worker that dies before close is no error: onFailed once, close() resolves at once', async () => {
  const path = walFile();
  const { started, startWorker } = threads(DIES_ON('checkpoint'));
  const failures: string[] = [];
  const c = new Checkpointer(config(path), () => {}, (why) => failures.push(why), { ...SHORT, startWorker });
  assert.ok(c.request());
  assert.is(await awaitAlive(started[0]!.exit), 7);
  await new Promise((r) => setImmediate(r)); // the exit event reaches the checkpointer
  assert.equal(failures, ['exited (7)']);
  assert.not.ok(c.request(), 'failed: no more requests (the store checkpoints in-thread)');
  await c.close();
  assert.is(failures.length, 1);
});

t('attack: a worker that dies while closing (exits without closing its connection) ends close() with no error', async () => {
  const path = walFile();
  const { started, startWorker } = threads(DIES_ON('close'));
  const failures: string[] = [];
  const c = new Checkpointer(config(path), () => {}, (why) => failures.push(why), { closeGraceMs: 60_000, startWorker });
  c.prepare();
  await c.close(); // resolves on the exit, long before the (long) grace period
  assert.is(await started[0]!.exit, 7);
  assert.is(started[0]!.terminated, 0);
  assert.equal(failures, [], 'a worker gone during close is not a failure');
});

/** A stand-in worker: never exits, never answers; `terminate` as given; counts ref/unref. */
class StuckWorker extends EventEmitter {
  refs = 0;
  terminated = 0;
  constructor(
    private readonly onTerminate: () => Promise<number>,
    private readonly onPost: () => void = () => {},
  ) {
    super();
  }
  postMessage(): void {
    this.onPost();
  }
  ref(): void {
    this.refs++;
  }
  unref(): void {
    this.refs--;
  }
  terminate(): Promise<number> {
    this.terminated++;
    return this.onTerminate();
  }
}

t('attack: a worker whose termination never completes (stuck in a native call) is let go, unref\'d; close() resolves', async () => {
  const path = walFile();
  const stuck = new StuckWorker(() => new Promise<number>(() => {}));
  const c = new Checkpointer(config(path), () => {}, () => {}, { ...SHORT, startWorker: () => stuck as unknown as CheckpointWorker });
  c.prepare();
  await c.close();
  assert.is(stuck.terminated, 1);
  assert.ok(stuck.refs < 0, 'unref\'d after the ref of the close wait: it cannot keep the process alive');
});

t('attack: posting the close request throws, terminate rejects: close() still resolves', async () => {
  const path = walFile();
  const stuck = new StuckWorker(
    () => Promise.reject(new Error('already gone')),
    () => {
      throw new Error('port closed');
    },
  );
  const c = new Checkpointer(config(path), () => {}, () => {}, { ...SHORT, startWorker: () => stuck as unknown as CheckpointWorker });
  c.prepare();
  await c.close();
  assert.is(stuck.terminated, 1);
});

t('a store whose checkpoint worker hangs: close() still closes its own connection, resolves, and every record is in the file', async () => {
  const path = join(dir, `db${files++}.sqlite`);
  const { started, startWorker } = threads(HANGS);
  const s = await SqliteStore.open({ path, synchronous: 'normal' }, { ...SHORT, startWorker });
  const rec = (g: number) => new Uint8Array(4096 * 3).fill(g & 0xff);
  await s.commit('a@x', [{ key: 'k', generation: 1, bytes: rec(1) }]);
  // ~4 pages a commit: the worker starts at 250 pages and is asked for a checkpoint at 1,000 (which hangs it).
  for (let g = 2; g <= 300; g++) await s.commit('a@x', [{ key: 'k', generation: g, bytes: rec(g) }]);
  assert.is(started.length, 1, 'the checkpoint worker was started');
  await s.close();
  assert.is(started[0]!.terminated, 1, 'the hung worker was terminated');
  await rejectsAsync(s.load('a@x', 'k'), 'STATE');
  const again = await openSqliteStore({ path });
  const row = await again.load('a@x', 'k');
  assert.is(row?.generation, 300);
  assert.equal(row?.bytes, rec(300));
  await again.close();
});

t.run();
