/**
 * Attack (session 14, review of session 13's WASM module choice): `init()` called from two places at once (a
 * host's start-up and a library module that initialises on its own, two workers' set-ups sharing a module).
 * loadBackend checked its cache before awaiting the creation, so concurrent calls each instantiated both WASM
 * modules (the SIMD one too, since session 13 with a second self-test when it is set aside) and self-tested them:
 * two backends, the hybrid one built over a WASM backend that was not the cached one, memory for both kept.
 * Now a backend being created is shared: concurrent calls get the same object, made once.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackend, init, loadBackend } from '../../ts/backend/select.js';

test('concurrent loads that fail both fail (and the next test loads it: nothing failed is kept)', async () => {
  const real = WebAssembly.instantiate;
  (WebAssembly as { instantiate: unknown }).instantiate = () => Promise.reject(new Error('planted'));
  try {
    const both = await Promise.allSettled([loadBackend('wasm'), loadBackend('wasm')]);
    assert.equal(both.map((r) => r.status), ['rejected', 'rejected']);
  } finally {
    WebAssembly.instantiate = real;
  }
});

test('concurrent loads of one backend make it once', async () => {
  const real = WebAssembly.instantiate;
  let instantiated = 0;
  (WebAssembly as { instantiate: unknown }).instantiate = (...args: Parameters<typeof real>) => {
    instantiated++;
    return (real as (...a: unknown[]) => Promise<unknown>).apply(WebAssembly, args);
  };
  try {
    const [a, b] = await Promise.all([loadBackend('wasm'), loadBackend('wasm')]);
    assert.is(a, b, 'two WASM backends');
    assert.ok(instantiated <= 2, `${instantiated} modules instantiated (the main one, the SIMD one)`);
    const [h, i] = await Promise.all([loadBackend('hybrid'), loadBackend('hybrid')]);
    assert.is(h, i, 'two hybrid backends');
    assert.is((h as { wasmBackend?: unknown }).wasmBackend, a, 'the hybrid backend is built over another WASM backend');
    const modules = instantiated;
    const [x, y] = await Promise.all([loadBackend('js'), loadBackend('js')]);
    assert.is(x, y, 'two JS backends');
    const [c, d] = await Promise.all([init(), init()]);
    assert.equal(c, d);
    assert.is(getBackend(), await loadBackend(c.backend));
    assert.is(instantiated, modules, 'init() instantiated the modules again');
  } finally {
    WebAssembly.instantiate = real;
  }
});

test.run();
