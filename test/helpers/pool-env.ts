/**
 * The environment module the pool suites hand to their workers (PoolOptions.environment): per account, the
 * same seeded randomness and fixed clock the in-process twin of a test uses, so a conversation run through
 * the pool can be compared byte for byte with the same conversation run on this thread.
 *
 * Test hook: an account whose id starts with `doomed` ends its worker thread (process.exit inside a worker
 * ends only that thread) the first time it draws randomness — how the crash suite kills a worker mid-call.
 * Restoring an account draws none, so the account can be loaded and reloaded; any call that needs
 * randomness (startDake, send) then kills the worker.
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
  if (accountId.startsWith('doomed')) {
    return {
      random: () => process.exit(70),
      clock: POOL_CLOCK,
    };
  }
  return { random: seededRandom(seedOf(accountId)), clock: POOL_CLOCK };
}
