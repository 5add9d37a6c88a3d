/**
 * The pool bounds the time one turn of the event loop spends settling workers' answered batches
 * (ts/pool/result-pacer.ts, settleBudgetMs, session 10): within the budget batches settle at once, beyond it a
 * pile of batches that arrived together is spread over turns, first in first out; nothing is lost, a throwing
 * batch strands none behind it, and what waits is settled at once when a worker dies (before its accounts'
 * reloads are made from the reload points those results set) or the pool closes. (The budget's clock is a fake
 * one here: no timing in the tests.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../ts/index.js';
import { OtrPoolError } from '../ts/pool/index.js';
import { ResultPacer } from '../ts/pool/result-pacer.js';
import { dearmour } from '../ts/codec/armour.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { POOL_CLOCK, seedOf } from './helpers/pool-env.js';
import { POOL_ALICE, POOL_BOB, poolPair } from './helpers/pool-pair.js';

const ENV = new URL('./helpers/pool-env.js', import.meta.url);
const turn = () => new Promise<void>((r) => setImmediate(r));
const untimed = <T>(fn: () => T): T => fn();

/**
 * Lets the pool send what was just submitted (it sends at the next microtask), then holds this thread for a
 * synchronous stretch long enough for the workers to answer all of it: the answers wait on the ports together.
 */
async function holdThread(ms: number): Promise<void> {
  await Promise.resolve();
  const end = Date.now() + ms;
  while (Date.now() < end);
}

test('ResultPacer, budget 0: one batch at once when nothing waits, the rest one per turn, in arrival order', async () => {
  const p = new ResultPacer(0, untimed);
  const done: number[] = [];
  for (let i = 0; i < 5; i++) p.settle(() => done.push(i));
  assert.equal(done, [0], 'the first settles in the callback that brought it; the others wait');
  assert.is(p.waitingBatches, 4);
  const perTurn: number[] = [];
  while (p.waitingBatches > 0) {
    const before = done.length;
    await turn();
    perTurn.push(done.length - before);
  }
  assert.equal(done, [0, 1, 2, 3, 4], 'first in, first out');
  assert.ok(perTurn.every((n) => n <= 1), `at most one per turn: ${perTurn.join(',')}`);
  // A quiet pacer settles at once again (the budget comes back with the next turn).
  await turn();
  p.settle(() => done.push(5));
  assert.equal(done.at(-1), 5);
});

test('ResultPacer: batches settle at once while the turn’s budget lasts, the rest one per turn', async () => {
  let clock = 0;
  const p = new ResultPacer(1, untimed, () => clock);
  const done: number[] = [];
  // Each batch takes 0.4 ms of the (fake) clock: three fit in the 1 ms budget of the turn they arrive in.
  for (let i = 0; i < 5; i++)
    p.settle(() => {
      done.push(i);
      clock += 0.4;
    });
  assert.equal(done, [0, 1, 2]);
  assert.is(p.waitingBatches, 2);
  await turn();
  assert.equal(done, [0, 1, 2, 3], 'then one per turn');
  await turn();
  assert.equal(done, [0, 1, 2, 3, 4]);
  // A new turn has its budget again.
  await turn();
  p.settle(() => done.push(5));
  assert.equal(done.at(-1), 5);
});

test('ResultPacer: a batch arriving while others wait goes behind them; settleAll settles all in order', async () => {
  const p = new ResultPacer(0, untimed);
  const done: string[] = [];
  p.settle(() => done.push('a'));
  p.settle(() => done.push('b'));
  p.settle(() => done.push('c'));
  await turn(); // 'b' in the check phase; budget spent for the next poll phase
  p.settle(() => done.push('d')); // arrives while 'c' waits: may not overtake it
  assert.equal(done, ['a', 'b']);
  p.settleAll();
  assert.equal(done, ['a', 'b', 'c', 'd']);
  assert.is(p.waitingBatches, 0);
});

test('ResultPacer: a batch that throws strands none of the batches behind it', async () => {
  const p = new ResultPacer(0, untimed);
  const done: number[] = [];
  p.settle(() => done.push(0));
  p.settle(() => {
    throw new Error('a bug in a settle');
  });
  p.settle(() => done.push(2));
  p.settle(() => done.push(3));
  assert.throws(() => p.settleAll(), /a bug in a settle/);
  for (let i = 0; i < 10 && p.waitingBatches > 0; i++) await turn();
  assert.equal(done, [0, 2, 3], 'the turns go on with what waited behind it');
});

const messageId = (o: Outcome) => decodeDataMessage(dearmour(o.toSend[0]!)).messageId;

test('a pile of answered batches: every call settles with its own result, in call order, no turn settles more than two batches', async () => {
  // One call per batch and a deep pipeline: 30 sends of Alice are answered as 30 batches; budget 0: one batch
  // per callback of the port and one per check phase.
  const { pool, a, b } = await poolPair(ENV, { maxBatchCalls: 1, maxInFlight: 64, settleBudgetMs: 0 }, 2);
  try {
    const settledInTurn: number[] = []; // turns that settled something
    let current = 0;
    let counting = true;
    const count = () => {
      if (current > 0) settledInTurn.push(current);
      current = 0;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const order: number[] = [];
    const sends = Array.from({ length: 30 }, (_, i) =>
      a.send(`message ${i}`).then((o) => {
        order.push(i);
        current++;
        return o;
      }),
    );
    await holdThread(300); // the worker answers meanwhile: its batches wait on the port together
    const outs = await Promise.all(sends);
    await turn(); // the count of the turn that settled the last one
    counting = false;
    assert.equal(order, [...order].sort((x, y) => x - y), 'settled in call order');
    const ids = outs.map(messageId);
    ids.forEach((id, i) => i > 0 && assert.is(id, ids[i - 1]! + 1, 'each call its own result, in order'));
    assert.ok(
      settledInTurn.every((n) => n <= 2),
      `per turn: ${settledInTurn.join(',')}`,
    );
    // Bob reads them all, in order: the session is intact.
    for (const [i, o] of outs.entries()) assert.equal((await b.receive(o.toSend[0]!)).messages.map((m) => m.text), [`message ${i}`]);
  } finally {
    await pool.close();
  }
});

test('a worker dies with answered batches still waiting to settle: they settle with their results first, and the reload keeps them', async () => {
  const { pool, a, b } = await poolPair(ENV, { maxBatchCalls: 1, maxInFlight: 64, settleBudgetMs: 0 }, 2);
  try {
    const doomed = 'doomed@example.org';
    const acct = Account.create({ accountId: doomed, backend: WASM, random: seededRandom(seedOf(doomed)), clock: POOL_CLOCK, dsaKey: null });
    await pool.loadAccount(doomed, acct.serialize());
    await pool.move(doomed, pool.workerOf(POOL_ALICE)!);
    const sends = Array.from({ length: 12 }, (_, i) => a.send(`before ${i}`));
    const dying = pool.conversation(doomed, POOL_BOB).startDake(); // ends Alice's worker, after her sends
    await holdThread(300);
    const outs = await Promise.all(sends); // answered before the exit: not lost to it
    const e = await dying.then(
      () => undefined,
      (x: unknown) => x,
    );
    assert.ok(e instanceof OtrPoolError && e.reason === 'worker-exit');
    // Alice was reloaded from the reload point her answered sends set: the next message follows the last one.
    const after = await a.send('after the crash');
    assert.is(messageId(after), messageId(outs.at(-1)!) + 1);
    for (const [i, o] of outs.entries()) assert.equal((await b.receive(o.toSend[0]!)).messages.map((m) => m.text), [`before ${i}`]);
    assert.equal((await b.receive(after.toSend[0]!)).messages.map((m) => m.text), ['after the crash']);
  } finally {
    await pool.close();
  }
});

test('settleBudgetMs must be a finite number >= 0', async () => {
  const { OtrPool } = await import('../ts/pool/index.js');
  const { OtrArgumentError } = await import('../ts/index.js');
  for (const v of [-1, Number.NaN, Infinity, '1']) {
    let e: unknown;
    await OtrPool.start({ workers: 1, settleBudgetMs: v as number }).catch((x: unknown) => (e = x));
    assert.ok(e instanceof OtrArgumentError, String(v));
  }
});

test.run();
