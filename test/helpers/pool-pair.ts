/**
 * A pool with Alice and Bob in an encrypted OTRv4 session, for the pool suites: `pumpPool` delivers an Outcome's
 * messages back and forth until neither side has anything left to send; `poolPair` starts a pool (the test's
 * environment module, WASM backend), creates both accounts and runs their DAKE.
 */
import * as assert from 'uvu/assert';
import type { Outcome } from '../../ts/index.js';
import { OtrPool, type PoolConversation, type PoolOptions } from '../../ts/pool/index.js';

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
