/**
 * Attack (session 10, hostile review of limits.maxAccountPendingDakes) through otr4/pool with checkpoints
 * 'records': a stranger's Identity whose admission evicts OTHER conversations' pending DAKEs hands out those
 * conversations' records (deleted: they held nothing else) in its own outcome. The pool's record set must apply
 * those deletes as the host's store does — so that a reload (a move to another worker) brings back exactly what
 * the store holds, and the next commits are taken at the generations the store expects.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OtrPool } from '../../ts/pool/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import type { StoredRecord } from '../../ts/store/types.js';
import { WASM as be } from '../helpers/backends.js';
import { POOL_CLOCK } from '../helpers/pool-env.js';
import { attackerIdentity, makeAttacker } from './attacker.js';

const ENV = new URL('../helpers/pool-env.js', import.meta.url);
const A = 'alice@example.org';

async function stored(store: MemoryStore, id: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const k of await store.keys(id)) out.set(k, (await store.load(id, k))!.generation);
  return out;
}

const held = (rs: readonly StoredRecord[]) => new Map(rs.map((r) => [r.key, r.generation]));

test("evictions through the pool: the pool's records and the store's agree after every call and across a reload", async () => {
  const store = new MemoryStore();
  const pool = await OtrPool.start({ workers: 2, backend: 'wasm', environment: ENV, onRecords: (id, changes) => store.commit(id, changes) });
  try {
    await pool.createAccount({ accountId: A, dsaKey: null, limits: { maxAccountPendingDakes: 2 } });
    let deletes = 0;
    for (let k = 0; k < 8; k++) {
      const peer = `mallory-${k}@evil.example`;
      const x = makeAttacker(be, { tag: 0x5700_0000 + k, seed: 9600 + k, nowMs: POOL_CLOCK() });
      const out = await pool.conversation(A, peer).receive(attackerIdentity(be, x, peer, A));
      assert.is(out.toSend.length, 1, `answered ${peer}`);
      deletes += out.changed!.filter((c) => c.bytes === null).length;
      assert.equal(held(pool.lastRecords(A)!), await stored(store, A), `after ${peer}`);
      if (k === 4) {
        // A reload from the pool's records (a move to the other worker).
        await pool.move(A, 1 - pool.workerOf(A)!);
      }
    }
    // A reload forgets the index (runtime only, docs/security.md): the records kept before it stay dormant and
    // uncounted until their conversation is next used, so up to the bound (+1, the admitting one) more remain.
    assert.ok(deletes >= 4, `${deletes} records deleted by evictions`);
    const convs = [...(await stored(store, A)).keys()].filter((key) => key.startsWith('conv:'));
    assert.ok(convs.length <= 2 * 3, `stranger records: ${convs.join(', ')}`);
  } finally {
    await pool.close();
  }
});

test.run();
