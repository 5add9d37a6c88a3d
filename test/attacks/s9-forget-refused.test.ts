/**
 * Session 9: forget() of a conversation row the store refuses on load (oversized, a generation that is none, a
 * value of the wrong type), on the memory and SQLite stores (the cases: test/attacks/s9-forget-refused.ts;
 * PostgreSQL runs them in s9-postgres, IndexedDB in Chromium). The hostile writer is another connection to the
 * SQLite file; the memory store cannot hold a refused row and runs the cases that plant nothing.
 */
import { test } from 'uvu';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryStore } from '../../ts/store/memory.js';
import { openSqliteStore } from '../../ts/store/sqlite.js';
import { WASM } from '../helpers/backends.js';
import { REFUSED_LIMIT, forgetRefusedCases, type Hostile, type Planter } from './s9-forget-refused.js';

const dir = mkdtempSync(join(tmpdir(), 'otr4-s9-refused-'));
let files = 0;
/** The file of the store a case opened last (the planter writes behind it). */
let current = '';
const limits = { maxRecordBytes: REFUSED_LIMIT };

function sqliteFile(): string {
  current = join(dir, `s9r-${files++}.db`);
  return current;
}

/** Another connection to the file: a hostile writer (SQLite's INTEGER column keeps 2.5 and text as they are). */
const sqlitePlanter: Planter = {
  kinds: ['oversized', 'generation 0', 'negative generation', 'non-integer generation', 'generation beyond 2^53', 'text generation', 'bytes not bytes'],
  async plant(kind: Hostile, account: string, key: string, generation: number) {
    const db = new Database(current);
    try {
      const set = (sql: string, ...v: unknown[]) => {
        const n = db.prepare(`UPDATE otr4_records SET ${sql} WHERE account = ? AND key = ?`).run(...v, account, key).changes;
        if (n !== 1) throw new Error(`planted ${n} rows`);
      };
      if (kind === 'oversized') set('generation = ?, bytes = zeroblob(?)', generation, REFUSED_LIMIT + 1);
      else if (kind === 'generation 0') set('generation = 0');
      else if (kind === 'negative generation') set('generation = -3');
      else if (kind === 'non-integer generation') set('generation = 2.5');
      else if (kind === 'generation beyond 2^53') set('generation = ?', 2n ** 60n);
      else if (kind === 'text generation') set("generation = 'garbage'");
      else if (kind === 'bytes not bytes') set("bytes = 'not a blob'");
      else throw new Error(`cannot plant ${kind} in SQLite`);
    } finally {
      db.close();
    }
  },
};

for (const [name, run] of forgetRefusedCases({ backend: WASM, dsaKey: null })) test(`memory: ${name}`, () => run(async () => new MemoryStore({ limits })));
for (const [name, run] of forgetRefusedCases({ backend: WASM, dsaKey: null }, sqlitePlanter)) {
  test(`SQLite: ${name}`, () => run(() => openSqliteStore({ path: sqliteFile(), limits })));
  test(`SQLite on a worker: ${name}`, () => run(() => openSqliteStore({ path: sqliteFile(), worker: true, limits })));
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
