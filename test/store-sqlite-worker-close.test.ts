/**
 * The worker-thread SQLite store (`openSqliteStore({ worker: true })`, ts/store/sqlite-worker.ts) when its
 * connection's thread hangs (stuck inside a native call: a hung fsync): close() must still return, and the
 * calls that were waiting on the thread must settle — rejected with OtrStateError (their outcome unknown, as
 * after a crash), never left pending — while a healthy worker's close still waits for every durable commit.
 * Behaviour only: the grace period is shortened so the suite is quick; nothing asserts how long anything took.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { OtrStateError } from '../ts/errors.js';
import { SqliteWorkerStore } from '../ts/store/sqlite-worker.js';
import { rejectsAsync } from './helpers/rejects.js';

const t = suite('store-sqlite-worker-close');
const dir = mkdtempSync(join(tmpdir(), 'otr4-worker-close-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

/**
 * A stand-in connection thread: answers the store's first call (the "opened" check), never answers a commit
 * (its fsync hangs), and blocks in Atomics.wait on the close request — a real thread that will not reply.
 */
function hungWorker(): Worker {
  const code = `
    const { parentPort } = require('node:worker_threads');
    parentPort.on('message', (r) => {
      if (r.op === 'keys') parentPort.postMessage({ id: r.id, ok: [] });
      else if (r.op === 'close') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    });`;
  return new Worker(code, { eval: true });
}

const change = (generation: number) => [{ key: 'account', generation, bytes: new Uint8Array([1, 2, 3]) }];

t('a hung connection thread: close() returns, the waiting commit is rejected (STATE), later calls refused', async () => {
  let started = 0;
  const store = await SqliteWorkerStore.open({ path: join(dir, 'unused.sqlite') }, {
    closeGraceMs: 100,
    terminateWaitMs: 1000,
    startWorker: () => (started++, hungWorker()),
  });
  assert.is(started, 1);
  const waiting = store.commit('alice', change(1));
  let settled: unknown = 'pending';
  waiting.then(
    () => (settled = 'resolved'),
    (e: unknown) => (settled = e),
  );
  await store.close();
  await new Promise((done) => setImmediate(done));
  assert.instance(settled, OtrStateError, 'the commit waiting on the hung thread is rejected, not left pending');
  assert.is((settled as OtrStateError).code, 'STATE');
  await rejectsAsync(store.commit('alice', change(2)), 'STATE');
  await store.close(); // a second close is a no-op
});

t('a healthy worker: close() waits for the commits in flight, and they are all there on reopening', async () => {
  const path = join(dir, 'healthy.sqlite');
  const store = await SqliteWorkerStore.open({ path }, { closeGraceMs: 10_000 });
  const commits = [1, 2, 3].map((g) => store.commit(`acct${g}`, change(1)));
  await store.close();
  for (const c of commits) await c; // none rejected by the close
  const again = await SqliteWorkerStore.open({ path });
  for (const g of [1, 2, 3]) assert.equal((await again.load(`acct${g}`, 'account'))?.generation, 1);
  await again.close();
});

t.run();
