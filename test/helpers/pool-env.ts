/**
 * The environment module the pool suites hand to their workers (PoolOptions.environment): per account, the
 * same seeded randomness and fixed clock the in-process twin of a test uses, so a conversation run through
 * the pool can be compared byte for byte with the same conversation run on this thread.
 *
 * Test hooks, by account id prefix, triggered when the account first draws randomness (restoring an account
 * draws none, so such an account can be loaded and reloaded; a call that needs randomness — startDake, send —
 * triggers it):
 *   doomed…  process.exit inside the worker (ends only that thread): a worker crash mid-call;
 *   stuck…   an endless loop: a worker that never answers (the pool's timeout must end it);
 *   faulty…  a TypeError: an exception that is not an OtrError, as a bug inside the library would throw.
 */
import type { RandomSource } from '../../ts/index.js';
import { seededRandom } from './rng.js';
import { T0 } from './session-pair.js';

/** The seed of each account id the suites use: a small stable hash, so any id gets its own stream. */
export function seedOf(accountId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) h = Math.imul(h ^ accountId.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export const POOL_CLOCK = (): number => T0;

export function environment(accountId: string): { random: RandomSource; clock: () => number } {
  if (accountId.startsWith('doomed')) return { random: () => process.exit(70), clock: POOL_CLOCK };
  if (accountId.startsWith('stuck')) {
    return {
      random: () => {
        for (;;);
      },
      clock: POOL_CLOCK,
    };
  }
  if (accountId.startsWith('faulty')) {
    return {
      random: () => {
        throw new TypeError('injected fault');
      },
      clock: POOL_CLOCK,
    };
  }
  return { random: seededRandom(seedOf(accountId)), clock: POOL_CLOCK };
}
