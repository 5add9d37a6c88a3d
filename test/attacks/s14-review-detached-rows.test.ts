/**
 * Attack (session 14, review of session 13's SQLite worker store copies): a commit whose row is a view of a
 * detached buffer (a host that transferred its own array to a worker and then committed it). Until session 13
 * the SQLite worker store posted the caller's arrays, and the structured clone refused the detached one with a
 * DataCloneError, which it turned into a typed OtrArgumentError; since it copies each row first (ownCopy), the
 * copy threw a bare TypeError out of commit() — an untyped error from a store path. The memory store copied
 * with slice() and threw the same TypeError before. checkCommit (every store's) now refuses such a row with a
 * typed error: it reads as empty, but it is not an empty record.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteWorkerStore } from '../../ts/store/sqlite-worker.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { OtrArgumentError } from '../../ts/errors.js';
import type { RecordStore } from '../../ts/store/types.js';

const dir = mkdtempSync(join(tmpdir(), 'otr4-s14-detached-'));

function detachedRow(): Uint8Array {
  const row = new TextEncoder().encode('a record the host transferred away');
  structuredClone(row.buffer, { transfer: [row.buffer] });
  return row;
}

async function refusesDetached(store: RecordStore): Promise<void> {
  const e = await store.commit('alice@example.org', [{ key: 'account', generation: 1, bytes: detachedRow() }]).then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.instance(e, OtrArgumentError, `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  // An empty row is not a detached one: it is stored.
  await store.commit('alice@example.org', [{ key: 'account', generation: 1, bytes: new Uint8Array(0) }]);
  assert.is((await store.load('alice@example.org', 'account'))?.bytes.length, 0);
}

test('the SQLite worker store refuses a detached row with a typed error', async () => {
  const store = await SqliteWorkerStore.open({ path: join(dir, 'detached.sqlite') });
  try {
    await refusesDetached(store);
  } finally {
    await store.close();
  }
});

test('the memory store refuses a detached row with a typed error', async () => {
  await refusesDetached(new MemoryStore());
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
