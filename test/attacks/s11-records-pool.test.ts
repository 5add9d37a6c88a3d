/**
 * Attack (session 11, limits.maxAccountConversations) through otr4/pool: plaintext from many strangers fills
 * an account's conversation records. Evictions hand out deletes of other conversations' records in the
 * outcome of the call that passed the bound; the pool's records must follow them as the host's store does,
 * across a move to another worker and a reload from the store (a restart of the bridge) — after which the
 * account knows every record again (the pool attaches them all), so the bound still holds.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OtrPool } from '../../ts/pool/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import type { StoredRecord } from '../../ts/store/types.js';
import { POOL_CLOCK } from '../helpers/pool-env.js';
import { pumpPool } from '../helpers/pool-pair.js';

const ENV = new URL('../helpers/pool-env.js', import.meta.url);
const A = 'alice@example.org';
const B = 'bob@example.org';
const BOUND = 4;

async function storedRecords(store: MemoryStore, id: string): Promise<StoredRecord[]> {
  const keys = (await store.keys(id)).sort((x, y) => Number(y === 'account') - Number(x === 'account'));
  return Promise.all(keys.map(async (k) => (await store.load(id, k))!));
}

const held = (rs: readonly StoredRecord[]) => new Map(rs.map((r) => [r.key, r.generation]));

test("plaintext from many strangers through the pool: records bounded, the pool's and the store's agree across a move and a reload, the contact goes on", async () => {
  const store = new MemoryStore();
  const pool = await OtrPool.start({ workers: 2, backend: 'wasm', environment: ENV, onRecords: (id, changes) => store.commit(id, changes) });
  try {
    await pool.createAccount({ accountId: A, dsaKey: null, limits: { maxAccountConversations: BOUND } });
    await pool.createAccount({ accountId: B, dsaKey: null });
    const a = pool.conversation(A, B);
    const b = pool.conversation(B, A);
    await pumpPool(a, b, await a.start());
    await pumpPool(a, b, await a.send('hello Bob'));
    let evictions = 0;
    for (let k = 0; k < 6 * BOUND; k++) {
      const out = await pool.conversation(A, `spam-${k}@evil.example`).receive(`buy now ${k} ${POOL_CLOCK()}`);
      evictions += out.events.filter((e) => e.type === 'conversation-evicted').length;
      assert.not.ok(out.events.some((e) => e.type === 'conversation-evicted' && e.peer === B), 'the contact is not evicted');
      const inStore = held(await storedRecords(store, A));
      assert.equal(held(pool.lastRecords(A)!), inStore, `after spam-${k}`);
      assert.ok([...inStore.keys()].filter((key) => key.startsWith('conv:')).length <= BOUND, `after spam-${k}: ${[...inStore.keys()].join(', ')}`);
      if (k === BOUND) await pool.move(A, 1 - pool.workerOf(A)!);
      if (k === 3 * BOUND) {
        // A restart of the bridge: the account reloaded from what the store holds.
        await pool.unload(A);
        await pool.loadAccountRecords(A, await storedRecords(store, A), { limits: { maxAccountConversations: BOUND } });
      }
    }
    assert.ok(evictions >= 5 * BOUND, `${evictions} evictions`);
    const m = (await b.send('still here')).toSend[0]!;
    assert.equal((await a.receive(m)).messages.map((x) => x.text), ['still here']);
  } finally {
    await pool.close();
  }
});

test.run();
