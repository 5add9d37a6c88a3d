/**
 * Session 9 review: forget() is the way out of a sealed row that does not open (item 1 of docs/stores.md,
 * session 9). A database writer who also sets that row's generation column to the largest one a store accepts
 * (2^53 - 1) left no way out: the compare-and-set delete is a change at the generation after it, which no
 * commit could carry.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../ts/store/sqlite.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { settledAs } from '../helpers/settled.js';
import { WASM } from '../helpers/backends.js';

const dir = mkdtempSync(join(tmpdir(), 'otr4-s9-review-'));
const options = { account: { backend: WASM, dsaKey: null }, create: true, sealKey: new Uint8Array(32).fill(0x5c) };

test('forget() deletes a sealed row that does not open, its generation column set to 2^53 - 1', async () => {
  const path = join(dir, 'max.db');
  const s = await openSqliteStore({ path });
  try {
    const setup = await openStoredAccount(s, 'alice@x', options);
    await setup.conversation('bob@x');
    await setup.commit(setup.account.changes({ all: true }));
    await setup.close();
    const db = new Database(path);
    // The conversation's row is the smaller one (the account's holds its keys and profile).
    const row = db.prepare('SELECT rowid AS id FROM otr4_records ORDER BY length(bytes) LIMIT 1').get() as { id: number };
    db.prepare(`UPDATE otr4_records SET generation = ${Number.MAX_SAFE_INTEGER} WHERE rowid = ?`).run(row.id);
    db.close();
    const stored = await openStoredAccount(s, 'alice@x', { ...options, create: false });
    assert.is(await settledAs(stored.conversation('bob@x')), 'BAD_MAC', 'the row does not open (its generation is bound in the seal)');
    assert.is(await settledAs(stored.forget('bob@x')), 'ok', 'forget() is the way out');
    assert.is((await stored.conversation('bob@x')).state, 'START', 'a fresh conversation');
    await stored.close();
  } finally {
    await s.close();
  }
});

test('a delete at the generation after 2^53 - 1 is the one change past 2^53 - 1 a commit takes (memory store)', async () => {
  const m = new MemoryStore();
  const refused = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code);
  assert.is(await refused(m.commit('a', [{ key: 'k', generation: Number.MAX_SAFE_INTEGER + 1, bytes: Uint8Array.of(1) }])), 'INVALID_ARGUMENT', 'no write past it');
  assert.is(await refused(m.commit('a', [{ key: 'k', generation: Number.MAX_SAFE_INTEGER + 3, bytes: null }])), 'INVALID_ARGUMENT', 'no delete further');
  assert.is(await refused(m.commit('a', [{ key: 'k', generation: Number.MAX_SAFE_INTEGER + 1, bytes: null }])), 'CONFLICT', 'a delete of a record at 2^53 - 1: none here');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
