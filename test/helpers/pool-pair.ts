/**
 * A pool with Alice and Bob in an encrypted OTRv4 session, for the pool suites: `pumpPool` delivers an Outcome's
 * messages back and forth until neither side has anything left to send; `poolPair` starts a pool (the test's
 * environment module, WASM backend), creates both accounts and runs their DAKE.
 */
import * as assert from 'uvu/assert';
import type { Outcome } from '../../ts/index.js';
import { OtrPool, OtrPoolError, type PoolConversation, type PoolOptions } from '../../ts/pool/index.js';
import type { MemoryStore } from '../../ts/store/memory.js';
import type { RecordChange } from '../../ts/store/types.js';

export const POOL_ALICE = 'alice@example.org';
export const POOL_BOB = 'bob@example.org';

export async function pumpPool(from: PoolConversation, to: PoolConversation, out: Outcome): Promise<void> {
  let queue = out.toSend.map((t) => [to, t] as const);
  while (queue.length) {
    const next: (readonly [PoolConversation, string])[] = [];
    for (const [dst, text] of queue) for (const t of (await dst.receive(text)).toSend) next.push([dst === to ? from : to, t]);
    queue = next;
  }
}

export async function poolPair(environment: URL, o: PoolOptions = {}, workers = 2) {
  const pool = await OtrPool.start({ workers, backend: 'wasm', environment, ...o });
  await pool.createAccount({ accountId: POOL_ALICE, dsaKey: null });
  await pool.createAccount({ accountId: POOL_BOB, dsaKey: null });
  const a = pool.conversation(POOL_ALICE, POOL_BOB);
  const b = pool.conversation(POOL_BOB, POOL_ALICE);
  await pumpPool(a, b, await a.start());
  assert.is((await a.info()).state, 'ENCRYPTED_MESSAGES');
  return { pool, a, b };
}

/**
 * A host's `onRecords` that commits to `store` (then runs `after`, e.g. the host wiping its copy), except that
 * the commit after `failNext()` throws "disk full" instead (once). `before` runs first on every call.
 */
export function committingHook(store: MemoryStore, opts: { before?: () => Promise<void>; after?: (changes: readonly RecordChange[]) => void } = {}) {
  let fail = false;
  return {
    failNext(): void {
      fail = true;
    },
    onRecords: async (id: string, changes: readonly RecordChange[]): Promise<void> => {
      await opts.before?.();
      if (fail) {
        fail = false;
        throw new Error('disk full');
      }
      await store.commit(id, changes);
      opts.after?.(changes);
    },
  };
}

/** A one-worker pool with admission bound `maxOutstandingCalls`, account 'a' and its conversation with 'b'. */
export async function boundedPool(environment: URL, maxOutstandingCalls: number) {
  const pool = await OtrPool.start({ workers: 1, backend: 'wasm', environment, maxOutstandingCalls });
  try {
    await pool.createAccount({ accountId: 'a', dsaKey: null });
    return { pool, c: pool.conversation('a', 'b') };
  } catch (e) {
    await pool.close();
    throw e;
  }
}

/** With the bound of 2 reached by two calls on `c`, a host waiting in admit() when the pool closes is refused ('closed'), not left hanging. */
export async function assertCloseRefusesWaiting(pool: OtrPool, c: PoolConversation): Promise<void> {
  const busy = [c.info(), c.info()];
  const late = pool.admit().then(
    () => 'admitted',
    (e: unknown) => e,
  );
  await pool.close();
  await Promise.allSettled(busy);
  const e = await late;
  assert.ok(e instanceof OtrPoolError && e.reason === 'closed', String(e));
}
