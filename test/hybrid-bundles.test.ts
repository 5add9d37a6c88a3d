/**
 * The Node / browser split of the hybrid backend, checked on the real build outputs: scripts/bundle.mjs
 * writes dist/index.node.js (the package's "node" condition, with the hybrid backend) and dist/index.js and
 * dist/otr.browser.js (no node:crypto); an app bundled by esbuild for the browser through the package's
 * "exports" gets no node:crypto either; and each bundle's init() picks what it should in Node.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ROOT } from './browser/harness.js';
import { bundleBrowserApp } from './helpers/browser-app.js';

const dist = (f: string) => join(ROOT, 'dist', f);

test.before(() => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'pipe' });
});

test('browser-side bundles carry no node:crypto; the Node bundle does', () => {
  for (const f of ['index.js', 'otr.browser.js']) assert.not.ok(readFileSync(dist(f), 'utf8').includes('node:crypto'), f);
  assert.ok(readFileSync(dist('index.node.js'), 'utf8').includes('node:crypto'), 'index.node.js');
});

test('package.json sends Node to index.node.js and everything else to index.js', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const keys = Object.keys(pkg.exports['.']);
  assert.is(pkg.exports['.'].node, './dist/index.node.js');
  assert.is(pkg.exports['.'].import, './dist/index.js');
  assert.ok(keys.indexOf('node') < keys.indexOf('import'), 'the node condition must come first');
});

test('an app bundled by esbuild for the browser through the package exports has no node:crypto', async () => {
  const text = await bundleBrowserApp("import * as otr from 'otr4'; globalThis.otr = otr;");
  assert.ok(text.includes('hybrid backend needs'), 'the stub is what the app gets');
  assert.not.ok(text.includes('node:crypto'));
});

test('bundling the compiled sources (build/ts) for the browser resolves #hybrid to the stub', async () => {
  const r = await build({
    entryPoints: [join(ROOT, 'build', 'ts', 'index.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const text = r.outputFiles[0]!.text;
  assert.ok(text.includes('hybrid backend needs'));
  assert.not.ok(text.includes('node:crypto'));
});

test('in Node, the Node bundle defaults to hybrid and the neutral one to WASM (hybrid then a typed error)', async () => {
  const node = await import(pathToFileURL(dist('index.node.js')).href);
  assert.is((await node.init()).backend, 'hybrid');
  const neutral = await import(pathToFileURL(dist('index.js')).href);
  assert.is((await neutral.init()).backend, 'wasm');
  try {
    await neutral.init({ backend: 'hybrid' });
    assert.unreachable('the neutral bundle loaded the hybrid backend');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'BACKEND');
  }
});

test.run();
