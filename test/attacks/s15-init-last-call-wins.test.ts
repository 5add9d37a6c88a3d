/**
 * Attack (session 15, left by the review of session 14): two `init()` calls at once asking for different
 * backends — a host forcing `js` (say, to rule out WebAssembly) while a library module calls `init()` on its
 * own. Each call set the active backend when its own load finished, so the call that FINISHED last won: the JS
 * backend loads at once, the hybrid one after its WASM modules and self-tests, so the host's `js` was silently
 * replaced by hybrid. Now the call made last decides, and a call overtaken by a later one resolves to the later
 * one's result (so both callers learn what is active).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { activeBackend, init } from '../../ts/backend/select.js';

test('the init() called last decides, whichever load finishes first', async () => {
  // Slow first, fast last: auto (hybrid: modules + self-tests), then js (immediate).
  const [first, last] = await Promise.all([init(), init({ backend: 'js' })]);
  assert.is(activeBackend(), 'js', 'the earlier, slower init() replaced the host\'s later choice');
  assert.equal(last, { backend: 'js' });
  assert.equal(first, last, 'the overtaken call reports a backend that is not active');
  // Fast first, slow last: the last (auto) decides too.
  const [a, b] = await Promise.all([init({ backend: 'js' }), init({ backend: 'wasm' })]);
  assert.is(activeBackend(), 'wasm');
  assert.equal(a, b);
});

test('an overtaken call whose load fails still resolves to the later call\'s result; a failed call decides nothing', async () => {
  // A backend that cannot load (an unknown name stands for any load failure: the cache keeps no failure).
  const broken = { backend: 'no-such-backend' as 'js' };
  const [a, b] = await Promise.all([init(broken), init({ backend: 'js' })]);
  assert.equal(a, { backend: 'js' });
  assert.equal(b, { backend: 'js' });
  assert.is(activeBackend(), 'js');
  // A failed call decides nothing (session 16, attacks/s16-review-init): the earlier call that succeeded does,
  // and only the failed call rejects, with its own error.
  const [ok, failed] = await Promise.allSettled([init({ backend: 'wasm' }), init(broken)]);
  assert.equal((ok as PromiseFulfilledResult<unknown>).value, { backend: 'wasm' });
  assert.is(failed.status, 'rejected');
  assert.match(String((failed as PromiseRejectedResult).reason), /unknown backend/);
  assert.is(activeBackend(), 'wasm', 'a failed latest call decided');
});

test.run();
