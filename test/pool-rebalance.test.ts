/**
 * otr4/pool feeding an idle worker (session 14, ts/pool/rebalance.ts): when one worker has calls waiting behind
 * a full pipeline and the other has run dry, accounts with nothing running move to the idle one with their
 * waiting calls. Asserted: the idle worker gets that work; each conversation's calls keep their order (message
 * ids follow the call order, the peer reads every message in order); a crash of either worker around a move
 * loses nothing that was not rejected; the records (the pool's and a store's through onRecords) stay the
 * account's, and reload elsewhere; moves are bounded (per second, and per account by the cooldown); odd ids.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, OtrArgumentError, type Outcome } from '../ts/index.js';
import { OtrPool, OtrPoolError, type PoolConversation, type PoolOptions } from '../ts/pool/index.js';
import { callCost, chooseSteal, HEAVY, LIGHT, MOVE_COST, MoveBudget } from '../ts/pool/rebalance.js';
import { MemoryStore } from '../ts/store/memory.js';
import type { StoredRecord } from '../ts/store/types.js';
import { dearmour } from '../ts/codec/armour.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { pumpPool } from './helpers/pool-pair.js';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { POOL_CLOCK, seedOf } from './helpers/pool-env.js';

const ENV = new URL('./helpers/pool-env.js', import.meta.url);
const messageId = (text: string) => decodeDataMessage(dearmour(text)).messageId;

interface Pair {
  alice: string;
  bob: string;
  a: PoolConversation;
  b: PoolConversation;
}

/**
 * A two-worker pool with a one-call pipeline (a backlog is any second call), `ids.length` encrypted sessions
 * (Alice ids given, Bob `bob-<i>`), made one at a time (no backlog, so nothing moves yet), then every account
 * moved to worker 0: worker 1 is idle.
 */
async function pairsOnWorker0(ids: readonly string[], o: PoolOptions = {}): Promise<{ pool: OtrPool; pairs: Pair[] }> {
  const pool = await OtrPool.start({ workers: 2, backend: 'wasm', environment: ENV, maxBatchCalls: 1, maxInFlight: 1, ...o });
  try {
    const pairs: Pair[] = [];
    for (let i = 0; i < ids.length; i++) {
      const alice = ids[i]!;
      const bob = `bob-${i}@example.org`;
      await pool.createAccount({ accountId: alice, dsaKey: null });
      await pool.createAccount({ accountId: bob, dsaKey: null });
      const a = pool.conversation(alice, bob);
      const b = pool.conversation(bob, alice);
      await pumpPool(a, b, await a.start());
      assert.is((await a.info()).state, 'ENCRYPTED_MESSAGES');
      pairs.push({ alice, bob, a, b });
    }
    for (const p of pairs) {
      await pool.move(p.alice, 0);
      await pool.move(p.bob, 0);
    }
    assert.is(pool.stats().workers[1]!.accounts, 0, 'worker 1 holds nothing');
    return { pool, pairs };
  } catch (e) {
    await pool.close();
    throw e;
  }
}

/** Every Alice sends `n` messages at once (all queued on worker 0); resolves with each one's texts, in call order. */
function burst(pairs: readonly Pair[], n: number, tag: string): Promise<string[][]> {
  return Promise.all(pairs.map((p) => Promise.all(Array.from({ length: n }, (_, k) => p.a.send(`${tag} ${k}`).then((o: Outcome) => o.toSend[0]!)))));
}

/** Each Alice's messages carry consecutive message ids in call order, and her Bob reads them all in that order. */
async function deliveredInOrder(pairs: readonly Pair[], sent: readonly string[][], tag: string): Promise<void> {
  for (let i = 0; i < pairs.length; i++) {
    const texts = sent[i]!;
    const ids = texts.map(messageId);
    for (let k = 1; k < ids.length; k++) assert.is(ids[k], ids[k - 1]! + 1, `${pairs[i]!.alice}: message ids follow the call order`);
    const read: string[] = [];
    for (const t of texts) read.push(...(await pairs[i]!.b.receive(t)).messages.map((m) => m.text));
    assert.equal(read, texts.map((_, k) => `${tag} ${k}`));
  }
}

/** Alice → Bob and back, fresh messages: the session works wherever the accounts are now. */
async function bothWays(p: Pair, tag: string): Promise<void> {
  const m1 = (await p.a.send(`a ${tag}`)).toSend[0]!;
  assert.equal((await p.b.receive(m1)).messages.map((m) => m.text), [`a ${tag}`]);
  const m2 = (await p.b.send(`b ${tag}`)).toSend[0]!;
  assert.equal((await p.a.receive(m2)).messages.map((m) => m.text), [`b ${tag}`]);
}

/**
 * A 'doomed…' account (its worker exits when it first draws randomness: helpers/pool-env.ts), made on this thread
 * and loaded into worker `index`; resolves with a call on it that ends that worker when it runs.
 */
async function doomedOn(pool: OtrPool, id: string, index: number): Promise<() => Promise<unknown>> {
  const acct = Account.create({ accountId: id, backend: WASM, random: seededRandom(seedOf(id)), clock: POOL_CLOCK, dsaKey: null });
  await pool.loadAccount(id, acct.serialize());
  await pool.move(id, index);
  return () => pool.conversation(id, 'anyone@example.org').startDake();
}

/** Data messages per account in a burst: enough for a move to be worth its cost (2 × MOVE_COST). */
const BURST = 2 * MOVE_COST + 1;

const ALICES = Array.from({ length: 6 }, (_, i) => `alice-${i}@example.org`);

test('an idle worker gets the calls waiting on the other: accounts move with them, in order', async () => {
  const { pool, pairs } = await pairsOnWorker0(ALICES);
  try {
    const sent = await burst(pairs, BURST, 'burst');
    const moved = pairs.filter((p) => pool.workerOf(p.alice) === 1);
    assert.ok(pool.stats().rebalanced >= 1, 'accounts were moved to the idle worker');
    assert.is(moved.length, pool.stats().rebalanced, 'each move is an Alice now on worker 1');
    assert.ok(moved.length < pairs.length, 'the busy worker kept some');
    assert.is(pool.stats().workers[1]!.accounts, moved.length);
    await deliveredInOrder(pairs, sent, 'burst');
    // Calls made after the move follow it, and the moved accounts' sessions go on both ways.
    for (const p of pairs) await bothWays(p, 'after');
  } finally {
    await pool.close();
  }
});

test('a lone data message is not worth a move; a DAKE step is', async () => {
  const { pool, pairs } = await pairsOnWorker0(ALICES);
  try {
    const one = await Promise.all(pairs.map((p) => p.a.send('one').then((o) => o.toSend[0]!)));
    assert.is(pool.stats().rebalanced, 0, 'six data messages waiting: nothing moved');
    for (let i = 0; i < pairs.length; i++) assert.equal((await pairs[i]!.b.receive(one[i]!)).messages.map((m) => m.text), ['one']);
    // Every Alice starts a new DAKE at once: the Identity messages cost what a move does several times over.
    const dakes = await Promise.all(pairs.map((p) => p.a.startDake()));
    assert.ok(pool.stats().rebalanced >= 1, 'accounts with a DAKE step waiting moved');
    for (let i = 0; i < pairs.length; i++) await pumpPool(pairs[i]!.a, pairs[i]!.b, dakes[i]!);
    for (const p of pairs) await bothWays(p, 'after the DAKE');
  } finally {
    await pool.close();
  }
});

test('nothing moves with rebalanceMovesPerSecond 0, nor with whole-account checkpoints', async () => {
  for (const o of [{ rebalanceMovesPerSecond: 0 }, { checkpoints: 'every-call' as const }]) {
    const { pool, pairs } = await pairsOnWorker0(ALICES.slice(0, 3), o);
    try {
      const sent = await burst(pairs, BURST, 'still');
      assert.is(pool.stats().rebalanced, 0, JSON.stringify(o));
      for (const p of pairs) assert.is(pool.workerOf(p.alice), 0);
      await deliveredInOrder(pairs, sent, 'still');
    } finally {
      await pool.close();
    }
  }
});

test('rebalance options are checked', async () => {
  for (const o of [{ rebalanceMovesPerSecond: -1 }, { rebalanceMovesPerSecond: 1.5 }, { rebalanceCooldownMs: -5 }, { rebalanceCooldownMs: Number.NaN }])
    await OtrPool.start({ workers: 1, ...(o as PoolOptions) }).then(
      (p) => {
        void p.close();
        assert.unreachable(`accepted ${JSON.stringify(o)}`);
      },
      (e) => assert.instance(e, OtrArgumentError),
    );
});

test('an account is not moved back and forth: the cooldown holds it where it went', async () => {
  const { pool, pairs } = await pairsOnWorker0(ALICES, { rebalanceCooldownMs: 60_000 });
  try {
    const first = await burst(pairs, BURST, 'one');
    const went = pairs.filter((p) => pool.workerOf(p.alice) === 1).map((p) => p.alice);
    assert.ok(went.length >= 1);
    await deliveredInOrder(pairs, first, 'one');
    // Now the other way: every account that stayed moves to worker 1 too (explicit moves are not rebalancing),
    // so worker 0 is idle and worker 1 has the backlog; the accounts that moved before must stay on worker 1.
    for (const p of pairs) {
      if (pool.workerOf(p.alice) === 0) await pool.move(p.alice, 1);
      await pool.move(p.bob, 1);
    }
    const before = pool.stats().rebalanced;
    const second = await burst(pairs, BURST, 'two');
    assert.ok(pool.stats().rebalanced > before, 'worker 0 was fed from the backlog');
    for (const id of went) assert.is(pool.workerOf(id), 1, `${id} moved within its cooldown`);
    await deliveredInOrder(pairs, second, 'two');
  } finally {
    await pool.close();
  }
});

test('moves are bounded per unit of time (the pool-wide budget)', async () => {
  // 4 per second: a burst of 1, then one per 250 ms. The backlogs last well under a second each.
  const { pool, pairs } = await pairsOnWorker0(ALICES, { rebalanceMovesPerSecond: 4, rebalanceCooldownMs: 0 });
  try {
    const t0 = performance.now();
    let rounds = 0;
    for (; rounds < 4; rounds++) {
      for (const p of pairs) if (pool.workerOf(p.alice) !== 0) await pool.move(p.alice, 0);
      await deliveredInOrder(pairs, await burst(pairs, BURST, `round ${rounds}`), `round ${rounds}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const moves = pool.stats().rebalanced;
    assert.ok(moves >= 1, 'some moves were made');
    assert.ok(moves <= 1 + Math.ceil(4 * seconds), `${moves} moves in ${seconds.toFixed(2)} s`);
  } finally {
    await pool.close();
  }
});

test('the budget and the choice: pure rules', () => {
  let t = 0;
  const b = new MoveBudget(40, t); // burst 10
  assert.is(b.available(t), 10);
  b.spend(10);
  assert.is(b.available(t), 0);
  t += 100;
  assert.is(b.available(t), 4, '40 per second: 4 in 100 ms');
  t += 10_000;
  assert.is(b.available(t), 10, 'never more than the burst');
  assert.is(new MoveBudget(0, 0).available(1e9), 0);
  // Costs: a data message either way is light; a DAKE step, an SMP step, a query's answer heavy.
  const conv = (method: string, ...args: unknown[]) => ({ op: 'conv', method, args });
  assert.is(callCost(conv('send', 'hi')), LIGHT);
  assert.is(callCost(conv('receive', '?OTR:AAQDAAAA')), LIGHT, 'an OTRv4 data message');
  assert.is(callCost(conv('receive', 'plain text')), LIGHT);
  assert.is(callCost(conv('receive', '?OTR|3c5b5c3a|1|2,1,2,?OTR:AAQ1,')), LIGHT, 'a fragment');
  assert.is(callCost(conv('receive', '?OTR:AAQ1AAAA')), HEAVY, 'an Identity message');
  assert.is(callCost(conv('receive', '?OTR:AAQ3')), HEAVY, 'an Auth-I message');
  assert.is(callCost(conv('receive', '?OTRv4?')), HEAVY, 'a query: answered with an Identity message');
  assert.is(callCost(conv('receive', 42)), LIGHT, 'not a string');
  assert.is(callCost(conv('startDake')), HEAVY);
  assert.is(callCost(conv('answerSmp', 'x')), HEAVY);
  assert.ok(2 * MOVE_COST > LIGHT && 2 * MOVE_COST < HEAVY);
  const calls = (accountId: string, n: number, call = conv('send', 'x')) => Array.from({ length: n }, () => ({ accountId, call }));
  // d: a reload queued (the pool's own sequence) stays; e: 11 data messages are not worth a move; the others are.
  const queue = [
    { accountId: 'd', call: { op: 'loadRecords' } },
    ...calls('c', 12),
    ...calls('e', 11),
    ...calls('a', 1, conv('receive', '?OTR:AAQ2')),
    ...calls('b', 1, conv('startDake')),
    ...calls('d', 1, conv('startDake')),
  ];
  // From the back, until half the queue's cost (84 / 2) is picked.
  assert.equal(chooseSteal(queue, 10, () => true), ['b', 'a', 'c']);
  assert.equal(chooseSteal(queue, 1, () => true), ['b'], 'at most maxAccounts');
  assert.equal(chooseSteal(queue, 10, (id) => id !== 'b'), ['a', 'c']);
  assert.equal(chooseSteal(calls('e', 11), 10, () => true), [], 'nothing worth a move');
  assert.equal(chooseSteal([], 10, () => true), []);
});

test('a crash of the worker the accounts moved to: their calls settle, they reload from their records and go on', async () => {
  const { pool, pairs } = await pairsOnWorker0(ALICES.slice(0, 4), { maxInFlight: 2 });
  try {
    const doom = await doomedOn(pool, 'doomed-thief@example.org', 1);
    // The doomed call runs on worker 1 first; the backlog on worker 0 moves accounts there behind it.
    const dying = doom();
    const sends = pairs.map((p) => Promise.allSettled(Array.from({ length: BURST }, (_, k) => p.a.send(`crash ${k}`))));
    const crashed = await dying.then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(crashed instanceof OtrPoolError && crashed.reason === 'worker-exit', String(crashed));
    assert.ok(pool.stats().rebalanced >= 1, 'accounts moved to the worker that crashed');
    for (let i = 0; i < pairs.length; i++) {
      const results = await sends[i]!;
      // Each call either ran (its message id after the last that ran) or was lost with the worker (worker-exit).
      const ok: string[] = [];
      const okTexts: string[] = [];
      results.forEach((r, k) => {
        if (r.status === 'fulfilled') {
          ok.push(r.value.toSend[0]!);
          okTexts.push(`crash ${k}`);
        } else assert.ok(r.reason instanceof OtrPoolError && r.reason.reason === 'worker-exit', String(r.reason));
      });
      const ids = ok.map(messageId);
      for (let k = 1; k < ids.length; k++) assert.ok(ids[k]! > ids[k - 1]!, 'message ids rise in call order');
      const read: string[] = [];
      for (const t of ok) read.push(...(await pairs[i]!.b.receive(t)).messages.map((m) => m.text));
      assert.equal(read, okTexts);
      await bothWays(pairs[i]!, `after crash ${i}`);
    }
    assert.is(pool.stats().workers[1]!.restarts, 1);
  } finally {
    await pool.close();
  }
});

test('a crash of the worker the accounts left: the drop of their old copies is harmless, they go on where they went', async () => {
  const { pool, pairs } = await pairsOnWorker0(ALICES.slice(0, 4));
  try {
    const doom = await doomedOn(pool, 'doomed-victim@example.org', 0);
    // The doomed call is sent to worker 0 first; the backlog behind it moves accounts to worker 1 at once, and
    // their drops wait at the front of worker 0's queue for its replacement (which never held them).
    const dying = doom().then(
      () => assert.unreachable('the doomed call ran'),
      (e: unknown) => assert.ok(e instanceof OtrPoolError && e.reason === 'worker-exit', String(e)),
    );
    const sends = pairs.map((p) => Array.from({ length: BURST }, (_, k) => p.a.send(`left ${k}`)));
    const all = await Promise.allSettled(sends.flat());
    assert.ok(pool.stats().rebalanced >= 1);
    const moved = pairs.filter((p) => pool.workerOf(p.alice) === 1);
    assert.ok(moved.length >= 1);
    await dying;
    for (const r of all) if (r.status === 'rejected') assert.ok(r.reason instanceof OtrPoolError && r.reason.reason === 'worker-exit', String(r.reason));
    for (const p of moved) assert.is(pool.workerOf(p.alice), 1, 'a moved account stays where it went');
    for (let i = 0; i < pairs.length; i++) {
      const ok = (await Promise.allSettled(sends[i]!)).flatMap((r) => (r.status === 'fulfilled' ? [r.value.toSend[0]!] : []));
      for (const t of ok) await pairs[i]!.b.receive(t);
      await bothWays(pairs[i]!, `after ${i}`);
    }
  } finally {
    await pool.close();
  }
});

test("records stay the account's: the pool's, a store's through onRecords, and a reload from them elsewhere", async () => {
  const store = new MemoryStore();
  const { pool, pairs } = await pairsOnWorker0(ALICES, { onRecords: (id, changes) => store.commit(id, changes) });
  let fresh: OtrPool | undefined;
  try {
    await deliveredInOrder(pairs, await burst(pairs, BURST, 'stored'), 'stored');
    const moved = pairs.filter((p) => pool.workerOf(p.alice) === 1);
    assert.ok(moved.length >= 1, 'accounts moved');
    for (const p of pairs)
      for (const id of [p.alice, p.bob]) {
        const held = pool.lastRecords(id)!;
        const stored: StoredRecord[] = [];
        for (const key of await store.keys(id)) stored.push((await store.load(id, key))!);
        const byKey = (rs: StoredRecord[]) => Object.fromEntries(rs.map((r) => [r.key, [r.generation, Buffer.from(r.bytes).toString('hex')]]));
        assert.equal(byKey(stored), byKey(held), `${id}: the store holds what the pool holds`);
      }
    // The same records, checkpointed now: a moved account hands out nothing new (nothing was left pending).
    for (const p of moved) {
      const before = JSON.stringify(pool.lastRecords(p.alice)!.map((r) => [r.key, r.generation]));
      await pool.checkpoint(p.alice);
      assert.is(JSON.stringify(pool.lastRecords(p.alice)!.map((r) => [r.key, r.generation])), before);
    }
    // A fresh pool loads every account from the store and the sessions go on.
    fresh = await OtrPool.start({ workers: 1, backend: 'wasm', environment: ENV });
    for (const p of pairs)
      for (const id of [p.alice, p.bob]) {
        const rs: StoredRecord[] = [];
        for (const key of await store.keys(id)) rs.push((await store.load(id, key))!);
        await fresh.loadAccountRecords(id, rs);
      }
    for (const p of pairs) await bothWays({ ...p, a: fresh.conversation(p.alice, p.bob), b: fresh.conversation(p.bob, p.alice) }, 'fresh');
  } finally {
    await pool.close();
    await fresh?.close();
  }
});

test('odd account ids move like any other', async () => {
  const odd = ['__proto__', 'constructor', 'hasOwnProperty', 'conv:x', '\u0000', '💬 ünïcødé', ' ', 'x'.repeat(4096)];
  const { pool, pairs } = await pairsOnWorker0(odd);
  try {
    const sent = await burst(pairs, BURST, 'odd');
    assert.ok(pool.stats().rebalanced >= 1);
    await deliveredInOrder(pairs, sent, 'odd');
    for (const p of pairs) await bothWays(p, 'odd after');
    assert.equal(pool.accountIds.sort(), [...odd, ...odd.map((_, i) => `bob-${i}@example.org`)].sort());
  } finally {
    await pool.close();
  }
});

test.run();
