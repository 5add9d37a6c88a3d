/**
 * The stores' entry points as an app gets them (package.json "exports" → dist/, built by scripts/bundle.mjs):
 * the core and the browser bundles never reach better-sqlite3 or pg, only otr4/store/sqlite and
 * otr4/store/postgres do (each only its own), and an error thrown by a store is an instance of the class the
 * core exports (one copy of the error classes across entry points).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleBrowserApp } from './helpers/browser-app.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const t = suite('store-entries');

interface Meta {
  outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[]; inputs: Record<string, unknown> }>;
}

let meta: Meta;
t.before(() => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'pipe' });
  meta = JSON.parse(readFileSync(join(ROOT, 'build', 'bundle-meta.json'), 'utf8')) as Meta;
});

/** Every bare module an output imports, following its relative imports through the other outputs. */
function reaches(output: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(output)) return out;
  seen.add(output);
  for (const i of meta.outputs[output]?.imports ?? []) {
    if (i.path.startsWith('./') || i.path.startsWith('dist/')) {
      const next = i.path.startsWith('./') ? join('dist', i.path) : i.path;
      for (const m of reaches(next, seen)) out.add(m);
    } else out.add(i.path.split('/').slice(0, i.path.startsWith('@') ? 2 : 1).join('/'));
  }
  return out;
}

t('the core, otr4/store and otr4/store/indexeddb reach neither better-sqlite3 nor pg nor any node: module', () => {
  for (const o of ['dist/index.js', 'dist/store.js', 'dist/store-indexeddb.js']) {
    const mods = reaches(o);
    assert.ok(o in meta.outputs, `${o} was built`);
    assert.not.ok(mods.has('better-sqlite3') || mods.has('pg'), `${o} reaches ${[...mods].join(', ')}`);
    assert.equal([...mods].filter((m) => m.startsWith('node:')), [], `${o} stays browser-safe`);
  }
});

t('sealing: otr4/store for Node (dist/store.node.js) and the Node core seal through OpenSSL, the browser-safe builds through noble', () => {
  const inputs = (o: string) => Object.keys(meta.outputs[o]?.inputs ?? {});
  for (const o of ['dist/store.node.js', 'dist/index.node.js']) {
    assert.ok(inputs(o).includes('build/ts/store/aead-openssl.js'), `${o} carries the OpenSSL AEAD`);
    assert.ok(reaches(o).has('node:crypto'));
    assert.not.ok(reaches(o).has('better-sqlite3') || reaches(o).has('pg'), `${o} reaches no driver`);
  }
  for (const o of ['dist/store.js', 'dist/index.js']) {
    assert.ok(inputs(o).includes('build/ts/store/aead-noble.js'), `${o} carries the noble AEAD`);
    assert.not.ok(inputs(o).includes('build/ts/store/aead-openssl.js'), `${o} carries no OpenSSL AEAD`);
  }
});

t('package.json sends Node to dist/store.node.js (the node condition first) and an app bundled for the browser to noble', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, string>> };
  const store = pkg.exports['./store']!;
  assert.is(store.node, './dist/store.node.js');
  assert.is(store.import, './dist/store.js');
  assert.ok(Object.keys(store).indexOf('node') < Object.keys(store).indexOf('import'), 'the node condition must come first');
  // An app bundled for the browser: esbuild resolves 'otr4/store' by name, through the exports' conditions.
  const text = await bundleBrowserApp("import { sealedStore } from 'otr4/store'; globalThis.s = sealedStore;");
  assert.not.ok(text.includes('node:crypto'), 'no node:crypto in the browser app');
  assert.not.ok(text.includes('chacha20-poly1305'), 'no OpenSSL cipher name either');
  assert.ok(text.includes('nobleAead'), 'the noble AEAD is what it seals with');
});

t('a row sealed through otr4/store in Node (OpenSSL) opens through the browser-safe dist/store.js (noble), and back', async () => {
  const node = (await import('otr4/store' as string)) as typeof import('../ts/store/index.js');
  const neutral = (await import(join(ROOT, 'dist', 'store.js'))) as typeof import('../ts/store/index.js');
  const key = Uint8Array.from({ length: 32 }, (_, i) => 0x33 ^ i);
  const plain = new TextEncoder().encode('ratchet state '.repeat(150));
  const below = new node.MemoryStore();
  const keep = { load: below.load.bind(below), keys: below.keys.bind(below), commit: below.commit.bind(below), close: async () => {} };
  await node.sealedStore(keep, key).commit('a@x', [{ key: 'conv:b', generation: 1, bytes: plain }]);
  assert.equal((await neutral.sealedStore(keep, key).load('a@x', 'conv:b'))?.bytes, plain);
  await neutral.sealedStore(keep, key).commit('a@x', [{ key: 'conv:b', generation: 2, bytes: plain.subarray(7) }]);
  assert.equal((await node.sealedStore(keep, key).load('a@x', 'conv:b'))?.bytes, plain.subarray(7));
});

t('otr4/store/sqlite reaches better-sqlite3 only, otr4/store/postgres pg only', () => {
  assert.ok(reaches('dist/store-sqlite.js').has('better-sqlite3'));
  assert.not.ok(reaches('dist/store-sqlite.js').has('pg'));
  assert.ok(reaches('dist/store-postgres.js').has('pg'));
  assert.not.ok(reaches('dist/store-postgres.js').has('better-sqlite3'));
});

t('the self-contained browser bundle names neither driver', () => {
  const text = readFileSync(join(ROOT, 'dist', 'otr.browser.js'), 'utf8');
  assert.not.match(text, /better-sqlite3/);
  assert.not.match(text, /from\s*["']pg["']|import\(["']pg["']\)/);
});

t('through package.json "exports": a store conflict is an instance of the core\'s OtrStoreConflictError', async () => {
  const core = (await import('otr4' as string)) as typeof import('../ts/index.js');
  const store = (await import('otr4/store' as string)) as typeof import('../ts/store/index.js');
  const s = new store.MemoryStore();
  await s.commit('a', [{ key: 'k', generation: 1, bytes: new Uint8Array(1) }]);
  try {
    await s.commit('a', [{ key: 'k', generation: 1, bytes: new Uint8Array(1) }]);
    assert.unreachable('a second creation must conflict');
  } catch (e) {
    assert.instance(e, core.OtrStoreConflictError);
    assert.instance(e, core.OtrError);
  }
  const { openSqliteStore } = (await import('otr4/store/sqlite' as string)) as typeof import('../ts/store/sqlite.js');
  // The worker mode loads the bundle itself as the worker's code.
  const dir = mkdtempSync(join(tmpdir(), 'otr4-entries-'));
  try {
    for (const worker of [false, true]) {
      const sq = await openSqliteStore({ path: join(dir, `${worker}.sqlite`), worker });
      await sq.commit('a', [{ key: 'k', generation: 1, bytes: new Uint8Array([5]) }]);
      assert.equal((await sq.load('a', 'k'))?.bytes, new Uint8Array([5]));
      try {
        await sq.commit('a', [{ key: 'k', generation: 1, bytes: new Uint8Array(1) }]);
        assert.unreachable('conflict expected');
      } catch (e) {
        assert.instance(e, core.OtrStoreConflictError, `worker ${worker}`);
      }
      await sq.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.is(typeof ((await import('otr4/store/postgres' as string)) as { openPostgresStore: unknown }).openPostgresStore, 'function');
  assert.is(typeof ((await import('otr4/store/indexeddb' as string)) as { openIndexedDbStore: unknown }).openIndexedDbStore, 'function');
});

t.run();
