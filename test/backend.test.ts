import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { init, getBackend, activeBackend, OtrError } from '../ts/index.js';
import { selfTest } from '../ts/backend/selftest.js';
import { BACKENDS, HYBRID } from './helpers/backends.js';

test('every backend passes the known-answer self-test', () => {
  for (const b of [...BACKENDS, HYBRID]) assert.is(selfTest(b), undefined, b.name);
});

test('init() selects the hybrid backend by default in Node, and WASM or JS when asked', async () => {
  assert.is((await init()).backend, 'hybrid');
  assert.is(activeBackend(), 'hybrid');
  assert.is((await init({ backend: 'wasm' })).backend, 'wasm');
  assert.is(getBackend().name, 'wasm');
  assert.is((await init({ backend: 'js' })).backend, 'js');
  assert.is(getBackend().name, 'js');
});

test('an unknown backend name is a typed error, not a fallback', async () => {
  try {
    await init({ backend: 'native' as never });
    assert.unreachable('accepted an unknown backend');
  } catch (e) {
    assert.instance(e, OtrError);
    assert.is((e as OtrError).code, 'BACKEND');
  }
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
