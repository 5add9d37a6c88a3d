/**
 * Review of session 6's pool records (checkpoints 'records'): the host's hook and its records are not to be
 * trusted with the pool's own copy. A hook that wipes the changes once stored (the records are the Outcome's
 * `changed`, the host's to keep or wipe) must not wipe what the pool reverts to; records handed to
 * loadAccountRecords that change between the check and the copy (getters) must not pass the checks.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OtrArgumentError } from '../../ts/index.js';
import { OtrPool, OtrPoolError, type PoolOptions } from '../../ts/pool/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import type { StoredRecord } from '../../ts/store/types.js';
import { committingHook, poolPair } from '../helpers/pool-pair.js';

const ENV = new URL('../helpers/pool-env.js', import.meta.url);
const A = 'alice@example.org';

/** A pool with Alice and Bob in an encrypted session (one worker). */
const setup = (o: PoolOptions = {}) => poolPair(ENV, o, 1);

async function stored(store: MemoryStore, id: string): Promise<StoredRecord[]> {
  const keys = await store.keys(id);
  return Promise.all(keys.map(async (k) => (await store.load(id, k))!));
}

test('attack: a hook that wipes the changes it stored does not wipe what the pool reverts to', async () => {
  const store = new MemoryStore();
  // The store copies; then the host's hygiene: its copy of the state, zeroed.
  const hook = committingHook(store, { after: (changes) => changes.forEach((c) => c.bytes?.fill(0)) });
  const { pool, a, b } = await setup({ onRecords: hook.onRecords });
  try {
    const ok = await a.send('stored');
    hook.failNext();
    try {
      await a.send('withheld');
      assert.unreachable('the failed commit went through');
    } catch (e) {
      assert.ok(e instanceof OtrPoolError && e.reason === 'persist-failed', String(e));
    }
    // The pool reverted to what the store holds — real records, not the zeros the hook left behind.
    const want = new Map((await stored(store, A)).map((r) => [r.key, r]));
    for (const r of pool.lastRecords(A)!) {
      assert.ok(r.bytes.some((x) => x !== 0), `record ${r.key} was reverted to zeros`);
      assert.equal(Array.from(r.bytes), Array.from(want.get(r.key)!.bytes), `record ${r.key}`);
    }
    // And the account still works after the revert.
    const next = await a.send('next');
    assert.equal((await b.receive(ok.toSend[0]!)).messages.map((m) => m.text), ['stored']);
    assert.equal((await b.receive(next.toSend[0]!)).messages.map((m) => m.text), ['next']);
  } finally {
    await pool.close();
  }
});

test('attack: records whose fields change between the check and the copy (getters) cross only as checked', async () => {
  const pool = await OtrPool.start({ workers: 1, backend: 'wasm', environment: ENV });
  try {
    await pool.createAccount({ accountId: A, dsaKey: null });
    const account = pool.lastRecords(A)!.find((r) => r.key === 'account')!;
    await pool.unload(A);
    let bigReads = 0;
    // 10 bytes while checked, 64 MiB when copied (limits.maxStateBytes is far below).
    const huge = {
      key: 'conv:y',
      generation: 1,
      get bytes() {
        return bigReads++ === 0 ? new Uint8Array(10) : new Uint8Array(64 * 1024 * 1024);
      },
    };
    let keyReads = 0;
    // 'conv:x' while checked, then 'account' (a second account record, over the real one).
    const shifty = {
      get key() {
        return keyReads++ === 0 ? 'conv:x' : 'account';
      },
      generation: 1,
      bytes: new Uint8Array(10),
    };
    for (const records of [[account, huge], [account, shifty]] as unknown as StoredRecord[][]) {
      try {
        await pool.loadAccountRecords(A, records);
      } catch (e) {
        assert.ok(e instanceof Error && !(e instanceof OtrPoolError && e.reason === 'internal'), String(e));
        continue;
      }
      const back = pool.lastRecords(A)!;
      assert.ok(back.every((r) => r.bytes.length <= 10 || r.key === 'account'), `an unchecked ${Math.max(...back.map((r) => r.bytes.length))}-byte record crossed`);
      assert.equal(Array.from(back.find((r) => r.key === 'account')!.bytes), Array.from(account.bytes), 'the account record was replaced');
      await pool.unload(A);
    }
    assert.ok(OtrArgumentError);
  } finally {
    await pool.close();
  }
});

test.run();
