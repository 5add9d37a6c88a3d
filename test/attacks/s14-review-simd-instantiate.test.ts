/**
 * Attack (session 14, review of session 13's SIMD fallback): a runtime that validates the SIMD module but fails
 * to instantiate it — out of memory for a second module's memory (a crowded browser tab, a worker with a small
 * heap limit), or an engine that validates and then fails to compile or start it. Session 13 made a SIMD module
 * that fails its self-test fall back to the scalar module, already instantiated and passing; one that failed to
 * instantiate still refused the whole WASM backend, so `init()` fell back to pure JS (~5x slower). The fault is
 * planted by making WebAssembly.instantiate refuse its second call (the SIMD module; the main one comes first).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createWasmBackend } from '../../ts/backend/wasm/index.js';
import { selfTest } from '../../ts/backend/selftest.js';

async function withSimdInstantiateFailing<T>(run: () => Promise<T>): Promise<T> {
  const real = WebAssembly.instantiate;
  let calls = 0;
  (WebAssembly as { instantiate: unknown }).instantiate = (...args: Parameters<typeof real>) => {
    if (++calls === 2) return Promise.reject(new RangeError('WebAssembly.instantiate(): Out of memory: Cannot allocate Wasm memory for new instance'));
    return (real as (...a: unknown[]) => Promise<unknown>).apply(WebAssembly, args);
  };
  try {
    return await run();
  } finally {
    WebAssembly.instantiate = real;
  }
}

test('a SIMD module that fails to instantiate leaves the scalar module, not pure JS', async () => {
  const probe = await createWasmBackend();
  if (!probe.wasm.simd) return; // a runtime without SIMD never instantiates a second module
  const backend = await withSimdInstantiateFailing(createWasmBackend).catch((e: Error) => {
    assert.unreachable(`the WASM backend was refused: ${e.message}`);
    throw e;
  });
  assert.is(backend.wasm.module, 'scalar');
  assert.is(backend.wasm.simd, false);
  assert.match(backend.wasm.simdRefused ?? '', /instantiate/);
  assert.is(backend.simdContext, undefined);
  assert.is(backend.ed448Context, backend.context);
  assert.is(selfTest(backend), undefined);
});

test.run();
