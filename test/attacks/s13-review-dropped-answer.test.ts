/**
 * Attack (session 13 review): an answer a pool worker sends that the main thread does not take was left to the
 * collector as it came. A packed answer's buffer holds the records its calls changed (an account's ratchet keys,
 * in the clear: the pool's records are not sealed) and the messages it decrypted; session 12 zeroes a refused
 * answer's buffer for that reason (e1bb98e), but an answer for a batch the slot does not hold (slot.ts onResult)
 * and one from a worker being replaced were dropped with their bytes.
 *
 * A worker told to (test/helpers/pool-env-forge.ts 'stray-then-genuine') sends a copy of its answer under a batch
 * id never sent, then the genuine answer: the copy must be zeroed once dropped, the genuine one taken as before.
 * (The other path, an answer after a refused one, is zeroed by the same code; it is not observable here: Node
 * discards what a worker queued once the main thread terminates it.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { poolPair } from '../helpers/pool-pair.js';
import { armForge } from '../helpers/pool-env-forge.js';

const FORGE_ENV = new URL('../helpers/pool-env-forge.js', import.meta.url);

// Every packed buffer the main thread receives from a pool worker, captured beside the pool's own listener.
const received: ArrayBuffer[] = [];
const on = Worker.prototype.on;
Worker.prototype.on = function (this: Worker, event: string | symbol, listener: (...a: unknown[]) => void) {
  if (event !== 'message') return on.call(this, event, listener);
  return on.call(this, event, (m: unknown) => {
    const packed = (m as { packed?: unknown } | null)?.packed;
    if (packed instanceof ArrayBuffer) received.push(packed);
    listener(m);
  });
} as typeof Worker.prototype.on;

test('an answer for a batch never sent is zeroed when dropped; the genuine answer after it is taken', async () => {
  const { pool, a, b } = await poolPair(FORGE_ENV, {}, 2);
  try {
    const warm = await a.send('warm up');
    await b.receive(warm.toSend[0]!);
    const slot = pool.workerOf('alice@example.org')!;
    const before = pool.stats().workers[slot]!;
    await armForge(before.threadId, 'stray-then-genuine');
    const from = received.length;
    const out = await a.send('carried twice');
    assert.equal((await b.receive(out.toSend[0]!)).messages.map((m) => m.text), ['carried twice']);
    const [stray, genuine] = received.slice(from);
    assert.ok(stray && genuine, 'both answers reached the main thread');
    // Before: the stray copy (the same records and messages) was dropped with its bytes.
    assert.ok(new Uint8Array(stray).every((x) => x === 0), 'the dropped answer was left with its bytes');
    const record = out.changed!.find((c) => c.bytes !== null)!.bytes!;
    assert.is(record.buffer, genuine, "the call's records are views into the genuine answer");
    assert.ok(record.some((x) => x !== 0), 'the genuine answer is left as it is: its records are the caller\'s');
    assert.is(pool.stats().workers[slot]!.restarts, before.restarts, 'a stray answer does not replace the worker');
  } finally {
    await pool.close();
  }
});

test.run();
