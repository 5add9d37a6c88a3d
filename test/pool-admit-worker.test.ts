/**
 * Per-worker admission (session 13): `admit(accountId)` waits only while the worker holding that account has its
 * share of `maxOutstandingCalls` outstanding (the bound split evenly over the workers), first come first served
 * per worker, so a backlog on one worker does not hold hosts whose accounts live on another (the head-of-line
 * blocking that left a worker idle in bridge.pool, docs/pool.md). Without an id — or with an id the pool does
 * not hold (not loaded yet, unloaded, not a string) — the pool-wide rule of session 6 applies unchanged.
 *
 * Setting of every test: two workers, maxOutstandingCalls 4 (a share of 2 per worker), account 'x' on worker 0
 * and 'y' on worker 1. Calls made without admit() count, as a DAKE step's replies do: they make the backlogs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../ts/index.js';
import { OtrPool, OtrPoolError } from '../ts/pool/index.js';
import { WASM } from './helpers/backends.js';
import { POOL_CLOCK, seedOf } from './helpers/pool-env.js';
import { seededRandom } from './helpers/rng.js';
import { settledYet } from './helpers/pool-pair.js';

const ENV = new URL('./helpers/pool-env.js', import.meta.url);

async function twoWorkers(maxOutstandingCalls = 4) {
  const pool = await OtrPool.start({ workers: 2, backend: 'wasm', environment: ENV, maxOutstandingCalls });
  try {
    await pool.createAccount({ accountId: 'x', dsaKey: null });
    await pool.createAccount({ accountId: 'y', dsaKey: null });
    assert.equal([pool.workerOf('x'), pool.workerOf('y')], [0, 1]);
    return { pool, x: pool.conversation('x', 'peer'), y: pool.conversation('y', 'peer') };
  } catch (e) {
    await pool.close();
    throw e;
  }
}

/** `p`, its rejection marked handled (a failing test closes the pool, which refuses the hosts still waiting). */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

test('admit(accountId): a backlog on one worker does not hold a host whose account is on the other', async () => {
  const { pool, x, y } = await twoWorkers();
  try {
    const backlog = [x.info(), x.info(), x.info(), x.info()]; // the whole pool-wide bound, all on worker 0
    const anyWorker = handled(pool.admit());
    const forX = handled(pool.admit('x'));
    const forY = handled(pool.admit('y'));
    assert.ok(await settledYet(forY), "worker 1 has nothing outstanding: y's host is admitted at once");
    assert.not.ok(await settledYet(forX), "worker 0 is past its share: x's host waits");
    assert.not.ok(await settledYet(anyWorker), 'without an id: the pool-wide bound, as before');
    await y.info();
    await Promise.all(backlog);
    await Promise.all([anyWorker, forX]);
    assert.equal(pool.outstanding, { calls: 0, waiting: 0 });
  } finally {
    await pool.close();
  }
});

test('admit(accountId): the worker share holds, first come first served per worker; close() refuses every waiter', async () => {
  const { pool, x, y } = await twoWorkers();
  try {
    const onX = [x.info(), x.info()]; // worker 0 at its share (2 of 4)
    const order: string[] = [];
    const w1 = pool.admit('x').then(() => order.push('x1'));
    const w2 = pool.admit('x').then(() => order.push('x2'));
    assert.not.ok(await settledYet(w1), 'worker 0 is at its share');
    assert.equal(
      pool.workerOutstanding().map((w) => [w.calls, w.waiting, w.share]),
      [
        [2, 2, 2],
        [0, 0, 2],
      ],
    );
    await Promise.all(onX);
    await Promise.all([w1, w2]);
    assert.equal(order, ['x1', 'x2']);
    // Waiting on either worker when the pool closes: refused ('closed'), none left hanging.
    const busy = [x.info(), x.info(), y.info(), y.info()];
    const late = [pool.admit('x'), pool.admit('y'), pool.admit(), pool.admit('not-loaded')].map((p) => p.then(() => 'admitted', (e: unknown) => e));
    await pool.close();
    await Promise.allSettled(busy);
    for (const e of await Promise.all(late)) assert.ok(e instanceof OtrPoolError && e.reason === 'closed', String(e));
    assert.is(pool.outstanding.waiting, 0);
  } finally {
    await pool.close();
  }
});

test('admit(accountId): hosts admitting by account keep each worker within its share and the pool within the bound', async () => {
  const { pool, x, y } = await twoWorkers();
  try {
    // Measured by the workers' own queues (stats(): calls queued or running per worker), right after each call.
    const peak = { x: 0, y: 0, total: 0 };
    const host = async (id: 'x' | 'y') => {
      const c = id === 'x' ? x : y;
      for (let i = 0; i < 6; i++) {
        await pool.admit(id);
        const p = c.info();
        const [w0, w1] = pool.stats().workers.map((w) => w.pending);
        peak.x = Math.max(peak.x, w0!);
        peak.y = Math.max(peak.y, w1!);
        peak.total = Math.max(peak.total, w0! + w1!);
        await p;
      }
    };
    await Promise.all(['x', 'y', 'x', 'y', 'x', 'y', 'x', 'x'].map((id) => host(id as 'x' | 'y')));
    assert.equal(peak, { x: 2, y: 2, total: 4 }, 'each worker up to its share, both at once');
    assert.equal(pool.outstanding, { calls: 0, waiting: 0 });
  } finally {
    await pool.close();
  }
});

test('admit(accountId) with an id the pool does not hold: the pool-wide rule, in line with admit()', async () => {
  const { pool, x, y } = await twoWorkers();
  try {
    const busy = [x.info(), x.info(), y.info(), y.info()]; // the pool-wide bound reached, each worker at its share
    const unloaded = pool.unload('y'); // queued behind y's calls; its id is unknown to admit() from now on
    const hostile: unknown[] = ['not-loaded', '', '__proto__', 'y', 'x'.repeat(1 << 16), 42, null, {}, new Proxy({}, { get: () => { throw new Error('read'); } })];
    const order: number[] = [];
    const waiting = hostile.map((id, i) => pool.admit(id as string).then(() => order.push(i)));
    await Promise.all(busy);
    // The unload's own call is outstanding until it settled; the waiters go in, in order, as calls leave.
    await Promise.all(waiting);
    await unloaded;
    assert.equal(order, hostile.map((_, i) => i), 'first come first served, with admit() waiters');
    assert.is(pool.outstanding.waiting, 0);
    assert.equal(pool.workerOutstanding().map((w) => w.waiting), [0, 0]);
  } finally {
    await pool.close();
  }
});

/** Loads an account made on this thread (restoring draws no randomness, so the env's hook accounts load safely). */
async function loadNextTo(pool: OtrPool, id: string, nextTo: string): Promise<void> {
  const acct = Account.create({ accountId: id, backend: WASM, random: seededRandom(seedOf(id)), clock: POOL_CLOCK, dsaKey: null });
  await pool.loadAccount(id, acct.serialize());
  await pool.move(id, pool.workerOf(nextTo)!);
}

test("admit(accountId) while the account's worker is replaced: the host is admitted when the lost calls fail, and its call runs", async () => {
  const { pool, x } = await twoWorkers();
  try {
    await loadNextTo(pool, 'doomed@example.org', 'x');
    // Worker 0 at its share: a call that ends the worker's thread, and x's call in the same batch.
    const lost = [pool.conversation('doomed@example.org', 'peer').startDake(), x.info()].map((p) => p.then(() => 'ok', (e: unknown) => (e as OtrPoolError).reason));
    const forX = pool.admit('x');
    assert.not.ok(await settledYet(forX));
    assert.ok(await settledYet(pool.admit('y')), 'the other worker is not held by the crash');
    await forX;
    assert.equal(await Promise.all(lost), ['worker-exit', 'worker-exit']);
    assert.is((await x.info()).state, 'START', "x reloaded in the replacement: the admitted host's call runs");
    assert.is(pool.workerOf('x'), 0);
  } finally {
    await pool.close();
  }
});

test('admit(accountId) while the account moves to the other worker: the host is admitted, and its call counts where the account now is', async () => {
  const { pool, x } = await twoWorkers();
  try {
    const onX = [x.info(), x.info()]; // worker 0 at its share
    const forX = pool.admit('x');
    const moved = pool.move('x', 1); // its unload is a third call on worker 0
    assert.not.ok(await settledYet(forX));
    await moved;
    await forX;
    await Promise.all(onX);
    const call = x.info();
    assert.equal(pool.workerOutstanding().map((w) => w.calls), [0, 1], 'the call counts on the worker it runs on');
    await call;
  } finally {
    await pool.close();
  }
});

test('worker shares: the bound split evenly, at least one call per worker', async () => {
  for (const [bound, shares] of [
    [4, [2, 2]],
    [5, [3, 2]],
    [1, [1, 1]],
  ] as const) {
    const pool = await OtrPool.start({ workers: 2, backend: 'wasm', environment: ENV, maxOutstandingCalls: bound });
    try {
      assert.equal(pool.workerOutstanding().map((w) => w.share), shares, `bound ${bound}`);
    } finally {
      await pool.close();
    }
  }
});

test.run();
