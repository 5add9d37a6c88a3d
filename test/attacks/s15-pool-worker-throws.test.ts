/**
 * Attack (session 15, left by the pool's review): `new Worker` throws at once when the process cannot have
 * another thread (EAGAIN at its thread limit, memory) — a host that a hostile load pushes to its limits. A
 * replacement worker is made in the dead worker's 'exit' listener, so the throw escaped as the host's uncaught
 * exception (by default the end of the process, every conversation of every account with it). Now it counts as
 * a failed start: the slot tries again after a pause, and past `maxRestarts` failures in a row it is dead and its
 * queued calls fail with `worker-start`, as when a worker starts and dies before it is ready.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Worker, WorkerOptions } from 'node:worker_threads';
import { Worker as RealWorker } from 'node:worker_threads';
import { WorkerSlot, type PendingCall } from '../../ts/pool/slot.js';
import { ResultPacer } from '../../ts/pool/result-pacer.js';
import { OtrPoolError } from '../../ts/pool/errors.js';

const WORKER_URL = new URL('../../ts/pool/worker.js', import.meta.url);

/** A slot whose worker constructor works for the first `real` threads and then throws as Node does at EAGAIN. */
function slotWith(real: number, maxRestarts: number, failTimes = Infinity) {
  const made: Worker[] = [];
  let refused = 0;
  const dead: WorkerSlot[] = [];
  const makeWorker = (url: URL, options: WorkerOptions): Worker => {
    if (made.length >= real && refused < failTimes) {
      refused++;
      throw Object.assign(new Error('Resource temporarily unavailable'), { code: 'ERR_WORKER_INIT_FAILED' });
    }
    const w = new RealWorker(url, options);
    made.push(w);
    return w;
  };
  const slot = new WorkerSlot(
    0,
    { url: WORKER_URL, config: { backend: 'js', checkpoints: 'manual', nice: 0 }, maxBatchCalls: 8, maxInFlight: 2, callTimeoutMs: 30_000, maxRestarts, makeWorker },
    { reloads: () => [], sent: () => {}, timed: (fn) => fn(), dead: (s) => dead.push(s), pacer: new ResultPacer(5, (fn) => fn()) },
  );
  return { slot, made, dead, refusedCount: () => refused };
}

/** Runs `fn` with the process's uncaught exceptions collected (none may happen). */
async function noUncaught(fn: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const on = (e: unknown) => seen.push(e);
  process.on('uncaughtException', on);
  try {
    await fn();
  } finally {
    process.off('uncaughtException', on);
  }
  return seen;
}

const until = async (cond: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('a replacement that cannot be made is no uncaught exception: retried, then the slot is dead and its calls fail typed', async () => {
  const s = slotWith(1, 2);
  let failure: unknown;
  const uncaught = await noUncaught(async () => {
    await s.slot.start();
    await s.made[0]!.terminate(); // the worker dies; its replacement cannot be made
    await until(() => s.refusedCount() >= 1);
    // A call that arrives while the slot waits to try again: it waits, and fails typed when the slot gives up.
    s.slot.enqueue({ call: {} as PendingCall['call'], accountId: 'a', deadline: Infinity, chars: 0, settle: () => assert.unreachable('settled'), fail: (e) => (failure = e) });
    await until(() => s.dead.length > 0);
  });
  assert.equal(uncaught, [], 'new Worker threw out of the exit listener');
  assert.is(s.refusedCount(), 3, 'one try, then maxRestarts (2) more');
  assert.ok(s.slot.dead);
  assert.ok(failure instanceof OtrPoolError && failure.reason === 'worker-start', String(failure));
  await s.slot.close();
});

test('a replacement made once threads are back: the slot runs again', async () => {
  const s = slotWith(1, 3, 2);
  const uncaught = await noUncaught(async () => {
    await s.slot.start();
    await s.made[0]!.terminate();
    await until(() => s.made.length === 2 && s.slot.running);
  });
  assert.equal(uncaught, []);
  assert.is(s.refusedCount(), 2);
  assert.not.ok(s.slot.dead);
  assert.ok(s.slot.restarts >= 1);
  await s.slot.close();
});

test('the first worker that cannot be made rejects start() with worker-start; close() during a retry ends it', async () => {
  const first = slotWith(0, 3);
  const e = await first.slot.start().then(() => 'started', (x: unknown) => x);
  assert.ok(e instanceof OtrPoolError && e.reason === 'worker-start', String(e));
  await first.slot.close();
  const s = slotWith(1, 100);
  await s.slot.start();
  await s.made[0]!.terminate();
  await until(() => s.refusedCount() >= 1);
  await s.slot.close(); // a retry is pending: it must not make a worker after close
  const tried = s.refusedCount();
  await new Promise((r) => setTimeout(r, 400));
  assert.is(s.refusedCount(), tried, 'a closed slot kept trying');
  assert.is(s.made.length, 1);
});

test.run();
