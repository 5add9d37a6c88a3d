/**
 * otr4/pool as an app gets it (package.json "exports" → dist/pool/index.js, built by scripts/bundle.mjs): the
 * module imports (until session 10 it could not: the bundle imported its own OtrPoolError from the shared
 * dist/errors.js, which has none), its errors are the core's classes (an app's `instanceof` holds), a pool from
 * it runs its workers (dist/pool/worker.js), and its main-thread side does not load the core's protocol code.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './browser/harness.js';

const dist = (f: string) => pathToFileURL(join(ROOT, 'dist', f)).href;

test.before(() => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'pipe' });
});

test('dist/pool/index.js imports; its errors are the core’s classes; a pool from it runs a call in its worker', async () => {
  const pool = (await import(dist('pool/index.js'))) as typeof import('../ts/pool/index.js');
  const core = (await import(dist('index.node.js'))) as typeof import('../ts/index.js');
  const errors = (await import(dist('errors.js'))) as typeof import('../ts/errors.js');
  assert.equal(Object.keys(pool).sort(), ['OtrPool', 'OtrPoolError', 'PoolConversation']);
  const e = new pool.OtrPoolError('closed', 'x');
  assert.ok(e instanceof errors.OtrError && e instanceof core.OtrError, 'OtrPoolError is an OtrError of the app’s core');
  // A refusal made by the bundled pool is the app's OtrArgumentError.
  let refused: unknown;
  await pool.OtrPool.start({ workers: 1, maxBatchCalls: 0 }).catch((x: unknown) => (refused = x));
  assert.ok(refused instanceof core.OtrArgumentError, String(refused));
  const p = await pool.OtrPool.start({ workers: 1, backend: 'wasm' });
  try {
    const info = await p.createAccount({ accountId: 'alice@example.org', dsaKey: null });
    assert.is(info.accountId, 'alice@example.org');
    let unknown: unknown;
    await p.conversation('nobody@example.org', 'bob@example.org').info().catch((x: unknown) => (unknown = x));
    assert.ok(unknown instanceof pool.OtrPoolError && unknown instanceof core.OtrError && (unknown as { reason: string }).reason === 'unknown-account');
  } finally {
    await p.close();
  }
});

test('the bundled pool’s main-thread side does not import the core entry; its worker does', () => {
  const main = readFileSync(join(ROOT, 'dist', 'pool', 'index.js'), 'utf8');
  const worker = readFileSync(join(ROOT, 'dist', 'pool', 'worker.js'), 'utf8');
  assert.not.ok(main.includes('index.node.js'), 'the main side loads no protocol code');
  assert.ok(worker.includes('"../index.node.js"'), 'the worker shares the app’s core');
  assert.not.ok(/class OtrError\b/.test(main) || /class OtrError\b/.test(worker), 'no second copy of the core’s errors');
});

test.run();
