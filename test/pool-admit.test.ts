/**
 * The pool's back-pressure point for hosts: `admit()` resolves at once while fewer than maxOutstandingCalls
 * calls are outstanding, otherwise waits — first come, first served, one waiter per call that settles — and
 * rejects ('closed') when the pool closes. A host awaiting it before taking in new work never has more than
 * the bound in flight.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OtrArgumentError } from '../ts/index.js';
import { OtrPool } from '../ts/pool/index.js';
import { assertCloseRefusesWaiting, boundedPool } from './helpers/pool-pair.js';

const ENV = new URL('./helpers/pool-env.js', import.meta.url);

const settledYet = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  // Microtasks only: an admit() that does not wait settles within them, while a call settling (which lets a
  // waiter in) needs the worker's reply, a macrotask — so this cannot race with a fast worker.
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return done;
};

test('admit() waits while the bound is reached, in order, one waiter per settled call; close() refuses the waiting', async () => {
  const { pool, c } = await boundedPool(ENV, 2);
  try {
    await pool.admit(); // nothing outstanding: at once
    const calls = [c.info(), c.info()];
    assert.equal(pool.outstanding, { calls: 2, waiting: 0 });
    const order: number[] = [];
    const w1 = pool.admit().then(() => order.push(1));
    const w2 = pool.admit().then(() => order.push(2));
    assert.not.ok(await settledYet(w1), 'the bound is reached: the host waits');
    assert.is(pool.outstanding.waiting, 2);
    await Promise.all(calls);
    await w1;
    await w2;
    assert.equal(order, [1, 2], 'first come, first served');
    // A host that always admits first never has more than the bound outstanding.
    let peak = 0;
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      await pool.admit();
      work.push(c.info());
      peak = Math.max(peak, pool.outstanding.calls);
    }
    await Promise.all(work);
    assert.ok(peak <= 2, `peak ${peak}`);
    // Waiting when the pool closes: refused, not left hanging.
    await assertCloseRefusesWaiting(pool, c);
  } finally {
    await pool.close();
  }
});

test('maxOutstandingCalls must be a positive integer', async () => {
  for (const v of [0, -1, 1.5, 'x']) {
    try {
      await OtrPool.start({ workers: 1, maxOutstandingCalls: v as number });
      assert.unreachable('accepted');
    } catch (e) {
      assert.ok(e instanceof OtrArgumentError);
    }
  }
});

test.run();
