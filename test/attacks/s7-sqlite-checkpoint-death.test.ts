/**
 * Session 7 review of the SQLite store's background WAL checkpoints (ts/store/sqlite-checkpoint.ts): the
 * checkpoint worker killed in the middle of a pass (an OOM kill of the thread, a crash in the driver). The
 * store must notice (the worker's exit), put SQLite's own checkpoint back, go on committing, close without
 * waiting for the dead worker, and lose nothing. store-sqlite covers a worker that cannot open the file (its
 * own message) and close() during a pass; a worker that dies with no word is this file's case (it passed at once).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { SqliteStore } from '../../ts/store/sqlite-store.js';

interface Peek {
  checkpointer: { worker: Worker | undefined; running: boolean; failed: boolean };
  db: { pragma(s: string, o?: { simple: boolean }): unknown };
}

test('attack: the checkpoint worker dies mid-pass: SQLite\'s own checkpoint is back, commits go on, close() returns, nothing lost', async () => {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 's7-ckpt-'));
  try {
    const path = join(dir, 'db.sqlite');
    const s = await SqliteStore.open({ path, synchronous: 'normal' });
    const peek = s as unknown as Peek;
    const rec = (g: number) => new Uint8Array(2200).fill(g & 0xff);
    const gens = new Array(20).fill(0);
    const write = async (k: number) => {
      const i = k % 20;
      await s.commit('a@x', [{ key: `conv:${i}`, generation: ++gens[i], bytes: rec(gens[i]) }]);
    };
    let k = 0;
    // Until a background pass has been asked for and is running (about 1,000 pages).
    while (!peek.checkpointer.running && k < 20_000) await write(k++);
    assert.ok(peek.checkpointer.running, `a background pass runs after ${k} commits`);
    const worker = peek.checkpointer.worker!;
    const exited = new Promise<void>((done) => worker.once('exit', () => done()));
    await worker.terminate(); // killed with its pass under way, no message sent
    await exited;
    await new Promise((r) => setImmediate(r));
    assert.ok(peek.checkpointer.failed, 'the store noticed the worker is gone');
    assert.is(peek.db.pragma('wal_autocheckpoint', { simple: true }), 1000, "SQLite's own checkpoint is back at its usual interval");
    for (let n = 0; n < 3000; n++) await write(k++);
    const closing = s.close();
    const timer = new Promise<string>((r) => setTimeout(() => r('timeout'), 5000).unref());
    assert.is(await Promise.race([closing.then(() => 'closed'), timer]), 'closed', 'close() does not wait for the dead worker');
    const again = await SqliteStore.open({ path, backgroundCheckpoint: false });
    for (let i = 0; i < 20; i++) {
      const r = await again.load('a@x', `conv:${i}`);
      assert.is(r?.generation, gens[i], `conv:${i}`);
      assert.equal(r?.bytes, rec(gens[i]), `conv:${i}`);
    }
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
