/**
 * Review of session 6's pool back-pressure (OtrPool.admit / maxOutstandingCalls) as a host that does not
 * behave: a host admitted that then makes no call (its event was dropped, its call was refused before being
 * submitted) must not leave the other waiters, and every later admit(), hanging on an idle pool.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertCloseRefusesWaiting, boundedPool } from '../helpers/pool-pair.js';

const ENV = new URL('../helpers/pool-env.js', import.meta.url);

/** Whether `p` settles within `ms` (the pool is idle: anything that would happen has happened by then). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([p.then(() => true, () => true), new Promise<boolean>((res) => (timer = setTimeout(() => res(false), ms)))]);
  clearTimeout(timer);
  return r;
}

test('attack: a host admitted that makes no call does not stall the waiters behind it on an idle pool', async () => {
  const { pool, c } = await boundedPool(ENV, 1);
  try {
    await pool.admit();
    const busy = c.info();
    const first = pool.admit(); // this host will give up once admitted
    const second = pool.admit();
    await busy;
    await first; // admitted: and it makes no call
    assert.ok(await settlesWithin(second, 2000), 'the second waiter hangs although nothing is outstanding');
    assert.equal(pool.outstanding, { calls: 0, waiting: 0 });
    // And the pool still admits at once afterwards.
    assert.ok(await settlesWithin(pool.admit(), 2000));
  } finally {
    await pool.close();
  }
});

test('safe: the bound still holds for hosts that call at once, and close() refuses the waiting', async () => {
  const { pool, c } = await boundedPool(ENV, 2);
  try {
    let peak = 0;
    const hosts = Array.from({ length: 6 }, async () => {
      for (let i = 0; i < 5; i++) {
        await pool.admit();
        const p = c.info();
        peak = Math.max(peak, pool.outstanding.calls);
        await p;
      }
    });
    await Promise.all(hosts);
    assert.ok(peak <= 2, `peak ${peak}`);
    await assertCloseRefusesWaiting(pool, c);
  } finally {
    await pool.close();
  }
});

test.run();
