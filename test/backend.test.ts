import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { init, getBackend, activeBackend } from '../ts/index.js';
import { selfTest } from '../ts/backend/selftest.js';
import { BACKENDS } from './helpers/backends.js';

test('both backends pass the known-answer self-test', () => {
  for (const b of BACKENDS) assert.is(selfTest(b), undefined, b.name);
});

test('init() selects WASM by default and JS when asked', async () => {
  assert.is((await init()).backend, 'wasm');
  assert.is(activeBackend(), 'wasm');
  assert.is((await init({ backend: 'js' })).backend, 'js');
  assert.is(getBackend().name, 'js');
});

test('auto falls back to JS without throwing when WebAssembly is missing', async () => {
  const saved = globalThis.WebAssembly;
  // Simulate a runtime without WebAssembly (the module cache is per backend, so clear it via a fresh import).
  const fresh = await import('../ts/backend/select.js?nowasm' as string).catch(() => null);
  (globalThis as any).WebAssembly = undefined;
  try {
    if (fresh) {
      const r = await fresh.init();
      assert.is(r.backend, 'js');
      assert.ok(r.fallbackReason);
    }
  } finally {
    (globalThis as any).WebAssembly = saved;
  }
});

test.run();
