/**
 * Attack (session 16 review of cb5e825, init(): the call made last decides). An auto `init()` is documented never
 * to throw (select.ts: "otherwise the pure-JS backend (never a throw)"), so a module may call it without a
 * catch. Overtaken by a later call that fails — a host forcing `{ backend: 'wasm' }` where WebAssembly is
 * unusable, in a try/catch that falls back — the auto call rejected with the host's error, although its own
 * load had succeeded: an unhandled rejection (the end of a Node process by default), and the active backend
 * left unset, so every later call of the library threw NOT_INITIALIZED. Now a failed call does not decide:
 * the latest call that SUCCEEDS does, every call resolves to the result of the latest success made at or after
 * it, and a call rejects only with its own failure, when no later call succeeded.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { activeBackend, getBackend, init } from '../../ts/backend/select.js';

const broken = { backend: 'no-such-backend' as 'js' };

test('an auto init() overtaken by a later call that fails still resolves, and its backend is active', async () => {
  assert.is(activeBackend(), undefined, 'a fresh process');
  const [auto, forced] = await Promise.allSettled([init(), init(broken)]);
  assert.is(auto.status, 'fulfilled', `auto init() rejected: ${String((auto as PromiseRejectedResult).reason)}`);
  assert.is(forced.status, 'rejected');
  assert.match(String((forced as PromiseRejectedResult).reason), /unknown backend/);
  const name = (auto as PromiseFulfilledResult<{ backend: string }>).value.backend;
  assert.is(activeBackend(), name);
  assert.is(getBackend().name, name);
});

test('the latest success decides over an earlier success, a failure between them changes nothing', async () => {
  const [a, b, c] = await Promise.allSettled([init({ backend: 'wasm' }), init(broken), init({ backend: 'js' })]);
  assert.equal((a as PromiseFulfilledResult<unknown>).value, { backend: 'js' });
  assert.equal((b as PromiseFulfilledResult<unknown>).value, { backend: 'js' }, 'an overtaken failure learns what is active');
  assert.equal((c as PromiseFulfilledResult<unknown>).value, { backend: 'js' });
  assert.is(activeBackend(), 'js');
  const [d, e] = await Promise.allSettled([init({ backend: 'wasm' }), init(broken)]);
  assert.equal((d as PromiseFulfilledResult<unknown>).value, { backend: 'wasm' });
  assert.is(e.status, 'rejected');
  assert.is(activeBackend(), 'wasm');
});

test('a call made while others settle joins them: the last one made decides', async () => {
  const first = init({ backend: 'wasm' });
  const late = first.then(() => init({ backend: 'js' }));
  const results = await Promise.all([first, late, init()]);
  // `late` was made after the auto call: it decides.
  assert.equal(results[1], { backend: 'js' });
  assert.is(activeBackend(), 'js');
});

test.run();
