/**
 * Session 10 review (hostile) of the result pacer (ts/pool/result-pacer.ts) in a live pool:
 *   - the pool closed (its drain wait given up at once) while answered batches wait in the pacer: each call
 *     settles exactly once, with its own result, in order; nothing is left waiting in the pacer afterwards;
 *   - a huge finite budget settles everything at once (as before session 10), -0 is 0, and the pacer never
 *     keeps batches once the pool is closed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Outcome } from '../ts/index.js';
import { ResultPacer } from '../ts/pool/result-pacer.js';
import { dearmour } from '../ts/codec/armour.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { poolPair } from './helpers/pool-pair.js';

const ENV = new URL('./helpers/pool-env.js', import.meta.url);
const messageId = (o: Outcome) => decodeDataMessage(dearmour(o.toSend[0]!)).messageId;
const pacerOf = (pool: unknown) => (pool as { pacer: ResultPacer }).pacer;

/** Lets the pool send what was submitted, then holds this thread while the workers answer all of it. */
async function holdThread(ms: number): Promise<void> {
  await Promise.resolve();
  const end = Date.now() + ms;
  while (Date.now() < end);
}

test('closed while answered batches wait in the pacer: every call settles once, with its own result, in order; the pacer is empty after', async () => {
  const { pool, a } = await poolPair(ENV, { maxBatchCalls: 1, maxInFlight: 64, settleBudgetMs: 0 }, 2);
  // One message first, so the workers' code is compiled before the hold: on a loaded machine a cold worker did
  // not answer all ten within the hold, and the first result then arrived alone (nothing waiting in the pacer).
  const warm = await a.send('warm-up');
  assert.ok(warm.toSend.length > 0);
  let waitingAtClose = -1;
  let closing: Promise<void> | undefined;
  const settled: number[] = [];
  const sends = Array.from({ length: 10 }, (_, i) =>
    a.send(`m${i}`).then(
      (o) => {
        settled.push(i);
        // The first result's continuation: the rest arrived with it and wait in the pacer (budget 0).
        if (i === 0) {
          waitingAtClose = pacerOf(pool).waitingBatches;
          closing = pool.close({ timeoutMs: 0 });
        }
        return o;
      },
      (e: unknown) => e,
    ),
  );
  await holdThread(1000);
  const outs = await Promise.all(sends);
  await closing;
  assert.ok(waitingAtClose > 0, `batches were waiting in the pacer when the pool closed (${waitingAtClose})`);
  assert.equal(settled, [...settled].sort((x, y) => x - y), 'in call order');
  assert.is(settled.length, 10, `each call settled with a result: ${outs.filter((o) => !(o as Outcome).toSend).map(String).join('; ')}`);
  const ids = (outs as Outcome[]).map(messageId);
  ids.forEach((id, i) => i > 0 && assert.is(id, ids[i - 1]! + 1, 'each its own result'));
  assert.is(pacerOf(pool).waitingBatches, 0, 'nothing left in the pacer');
});

test('ResultPacer with a huge finite budget settles every batch at once; -0 is budget 0', () => {
  let t = 0;
  const huge = new ResultPacer(1e300, (fn) => fn(), () => (t += 1e6));
  const done: number[] = [];
  for (let i = 0; i < 50; i++) huge.settle(() => done.push(i));
  assert.is(done.length, 50);
  assert.is(huge.waitingBatches, 0);
  const zero = new ResultPacer(-0, (fn) => fn(), () => 0);
  const z: number[] = [];
  for (let i = 0; i < 3; i++) zero.settle(() => z.push(i));
  assert.equal(z, [0], 'budget -0: one at once, the rest wait');
  zero.settleAll();
  assert.equal(z, [0, 1, 2]);
});

test.run();
