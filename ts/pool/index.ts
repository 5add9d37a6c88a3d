/**
 * otr4/pool (Node only): accounts sharded over worker threads. See docs/pool.md.
 *
 *   import { init, OtrPool } from 'otr4/pool';
 *   const pool = await OtrPool.start({ workers: 2, onRecords: (id, changes) => store.commit(id, changes) });
 *   await pool.createAccount({ accountId: 'alice@example.org' });      // keys made in a worker
 *   const conv = pool.conversation('alice@example.org', 'bob@example.org');
 *   await pool.admit();                                                // back-pressure before taking work in
 *   const { toSend, messages, events } = await conv.receive(text);     // same Outcome as in-process
 *
 * This entry imports node:worker_threads; the core ('otr4') and the browser bundles never import it.
 */
export { OtrPool, PoolConversation, type PoolOptions, type PoolStats } from './pool.js';
export { OtrPoolError, type PoolFailure } from './errors.js';
export type { AccountInfo, AccountSettings, ConversationInfo, CreateOptions } from './protocol.js';
export type { PoolEnvironment } from './worker.js';
