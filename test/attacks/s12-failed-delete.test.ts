/**
 * Session 12: a failed delete racing the peer's next message (the cases: test/attacks/s12-failed-delete.ts) on
 * the memory store, SQLite (in process and on a worker) and PostgreSQL (a private server: test/helpers/postgres.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { MemoryStore } from '../../ts/store/memory.js';
import { openSqliteStore } from '../../ts/store/sqlite.js';
import { openPostgresStore } from '../../ts/store/postgres.js';
import type { PostgresServer } from '../helpers/postgres.js';
import { postgresSuite } from '../helpers/postgres-suite.js';
import { WASM } from '../helpers/backends.js';
import { failedDeleteCases } from './s12-failed-delete.js';

const dir = mkdtempSync(join(tmpdir(), 'otr4-s12-delete-'));
let files = 0;
let server: PostgresServer;

const { test, run } = postgresSuite(
  's12-failed-delete',
  (s: PostgresServer, _admin: pg.Client) => (server = s),
  () => {
    rmSync(dir, { recursive: true, force: true });
    return []; // each case closes its own store
  },
);

let tables = 0;
for (const [name, check] of failedDeleteCases({ backend: WASM, dsaKey: null })) {
  test(`memory: ${name}`, () => check(async () => new MemoryStore()));
  test(`SQLite: ${name}`, () => check(() => openSqliteStore({ path: join(dir, `s12d-${files++}.db`) })));
  test(`SQLite on a worker: ${name}`, () => check(() => openSqliteStore({ path: join(dir, `s12d-${files++}.db`), worker: true })));
  test(`PostgreSQL: ${name}`, () =>
    check(() => openPostgresStore({ connectionString: server.url, max: 2, table: `s12_delete_${tables++}` })),
  );
}

run();
