/**
 * Session 10 review: the bundle change (scripts/bundle.mjs: only the core's errors.js is external to the pool
 * bundle) must not split error identity between entry points. Every Node entry point an app imports (otr4,
 * otr4/store, otr4/store/sqlite, otr4/store/postgres, otr4/store/indexeddb, otr4/pool) exports or throws the
 * classes of the one dist/errors.js, so `instanceof` holds whichever entry an error came from.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './browser/harness.js';

const dist = (f: string) => pathToFileURL(join(ROOT, 'dist', f)).href;
const ENTRIES = ['index.node.js', 'index.js', 'store.node.js', 'store.js', 'store-sqlite.js', 'store-postgres.js', 'store-indexeddb.js', 'pool/index.js'];

test.before(() => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'pipe' });
});

test('every entry point exports the error classes of the one dist/errors.js, and declares none of its own', async () => {
  const errors = (await import(dist('errors.js'))) as Record<string, unknown>;
  let compared = 0;
  for (const entry of ENTRIES) {
    const m = (await import(dist(entry))) as Record<string, unknown>;
    for (const [name, value] of Object.entries(m)) {
      if (!/^Otr\w*Error$/.test(name) || name === 'OtrPoolError') continue;
      assert.ok(value === errors[name], `${entry}: ${name} is dist/errors.js's`);
      compared++;
    }
    const text = readFileSync(join(ROOT, 'dist', entry), 'utf8');
    assert.not.ok(/class Otr(?!Pool)\w*Error\b/.test(text), `${entry}: no copy of a core error class`);
  }
  assert.ok(compared >= 10, `compared ${compared}`);
  const pool = (await import(dist('pool/index.js'))) as { OtrPoolError: new (r: string, m: string) => Error };
  assert.ok(new pool.OtrPoolError('closed', 'x') instanceof (errors.OtrError as new () => Error));
});

test('errors thrown by the store entry points are the core entry’s classes', async () => {
  const core = (await import(dist('index.node.js'))) as typeof import('../ts/index.js');
  const pgStore = (await import(dist('store-postgres.js'))) as typeof import('../ts/store/postgres.js');
  const sqlite = (await import(dist('store-sqlite.js'))) as typeof import('../ts/store/sqlite.js');
  const bad = await pgStore.openPostgresStore({ connectionString: 'postgres://x@127.0.0.1:1/x', table: 'Bad-Name' }).catch((e: unknown) => e);
  assert.ok(bad instanceof core.OtrArgumentError, String(bad));
  const unreachable = await pgStore.openPostgresStore({ connectionString: 'postgres://x@127.0.0.1:1/x', table: 't' }).catch((e: unknown) => e);
  assert.ok(unreachable instanceof core.OtrStateError, String(unreachable));
  // A file that is not a database (SQLITE_NOTADB): the core's OtrDecodeError.
  const dir = mkdtempSync(join(tmpdir(), 'otr4-s10r2-'));
  try {
    writeFileSync(join(dir, 'x.db'), Buffer.alloc(4096, 0x41));
    const sq = await sqlite.openSqliteStore({ path: join(dir, 'x.db') }).catch((e: unknown) => e);
    assert.ok(sq instanceof core.OtrDecodeError, String(sq));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
