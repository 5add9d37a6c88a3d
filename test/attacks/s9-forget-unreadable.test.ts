/**
 * Session 9: forget() of a sealed conversation row that does not open, on the memory and SQLite stores (the
 * cases: test/attacks/s9-forget-unreadable.ts; PostgreSQL runs them in s9-postgres, IndexedDB in Chromium).
 */
import { test } from 'uvu';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../ts/store/memory.js';
import { openSqliteStore } from '../../ts/store/sqlite.js';
import { WASM } from '../helpers/backends.js';
import { forgetUnreadableCases } from './s9-forget-unreadable.js';

const dir = mkdtempSync(join(tmpdir(), 'otr4-s9-forget-'));
let files = 0;

for (const [name, run] of forgetUnreadableCases({ backend: WASM, dsaKey: null })) {
  test(`memory: ${name}`, () => run(async () => new MemoryStore()));
  test(`SQLite: ${name}`, () => run(() => openSqliteStore({ path: join(dir, `s9-${files++}.db`) })));
  test(`SQLite on a worker: ${name}`, () => run(() => openSqliteStore({ path: join(dir, `s9-${files++}.db`), worker: true })));
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
