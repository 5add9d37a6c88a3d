/**
 * The pool is Node-only and must stay out of the core: nothing reachable from the core entry (ts/index.ts)
 * imports ts/pool/* or node:worker_threads, so the browser bundles never carry it; the package exports the
 * pool under its own subpath and the 'node' condition only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url)); // build/test
const root = join(here, '..', '..');
const coreEntry = join(here, '..', 'ts', 'index.js');

/** Every module reachable from `entry` by static or dynamic import of a string literal. */
function reachable(entry: string): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) todo.push(resolve(dirname(f), spec));
      else bare.add(spec);
    }
  }
  return { files, bare };
}

test('nothing the core imports (statically or dynamically) reaches the pool or node:worker_threads', () => {
  const { files, bare } = reachable(coreEntry);
  assert.ok(files.size > 50, `walked ${files.size} modules`);
  for (const f of files) assert.not.ok(f.includes(`${join('ts', 'pool')}`), f);
  assert.not.ok(bare.has('node:worker_threads') || bare.has('worker_threads'), [...bare].join(', '));
  // The walk itself finds the pool's use of worker_threads (it can fail).
  assert.ok(reachable(join(here, '..', 'ts', 'pool', 'index.js')).bare.has('node:worker_threads'));
});

test('a browser bundle of the core contains no pool module and no worker_threads', async () => {
  const r = await build({ entryPoints: [coreEntry], bundle: true, write: false, format: 'esm', platform: 'browser', metafile: true, logLevel: 'silent' });
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.length > 50);
  assert.not.ok(inputs.some((p) => p.includes('/pool/')), 'no pool module');
  assert.not.ok(r.outputFiles[0]!.text.includes('worker_threads'));
});

test("package.json exports the pool as 'otr4/pool', for Node only, and the core entry does not mention it", () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, string>> };
  const pool = pkg.exports['./pool']!;
  assert.equal(Object.keys(pool).sort(), ['node', 'types']);
  assert.is(pool.node, './dist/pool/index.js');
  assert.not.ok(JSON.stringify(pkg.exports['.']).includes('pool'));
});

test.run();
