/**
 * otr4/pool when things go wrong: a worker that exits mid-call (process.exit inside it, by the test hook in
 * test/helpers/pool-env.ts), a worker that never answers (timeout), an exception that is not an OtrError, a
 * host whose onCheckpoint fails, too many calls at once, and shutdown. Asserted each time: every call settles
 * with a typed error (OtrPoolError and its reason), the other accounts come back from their last checkpoint
 * in a fresh worker and their conversations continue, and nothing a rejected call did survives.
 */
import { test } from 'uvu';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as assert from 'uvu/assert';
import { Account, OtrArgumentError, type Outcome } from '../ts/index.js';
import { OtrPool, OtrPoolError, type PoolConversation, type PoolOptions } from '../ts/pool/index.js';
import { dearmour } from '../ts/codec/armour.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { POOL_CLOCK, seedOf } from './helpers/pool-env.js';
import { poolPair } from './helpers/pool-pair.js';

const ENV = new URL('./helpers/pool-env.js', import.meta.url);
const A = 'alice@example.org';
const B = 'bob@example.org';

async function rejectsWith(p: Promise<unknown>, reason: string): Promise<OtrPoolError> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof OtrPoolError)) throw new Error(`expected OtrPoolError(${reason}), got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.is(e.code, 'POOL');
    assert.is(e.reason, reason, e.message);
    return e;
  }
  throw new Error(`expected OtrPoolError(${reason}), but the call succeeded`);
}

/** A pool with Alice and Bob in an encrypted session (each in its own worker). */
const setup = (o: PoolOptions = {}) => poolPair(ENV, o, 2);

/** Loads an account made on this thread (restoring draws no randomness, so hook accounts load safely). */
async function loadHooked(pool: OtrPool, id: string, nextTo: string): Promise<void> {
  const acct = Account.create({ accountId: id, backend: WASM, random: seededRandom(seedOf(id)), clock: POOL_CLOCK, dsaKey: null });
  await pool.loadAccount(id, acct.serialize());
  await pool.move(id, pool.workerOf(nextTo)!);
  assert.is(pool.workerOf(id), pool.workerOf(nextTo));
}

/** Alice → Bob and Bob → Alice, fresh messages: the session works. */
async function bothWays(a: PoolConversation, b: PoolConversation, tag: string): Promise<void> {
  const m1 = (await a.send(`a ${tag}`)).toSend[0]!;
  assert.equal((await b.receive(m1)).messages.map((m) => m.text), [`a ${tag}`]);
  const m2 = (await b.send(`b ${tag}`)).toSend[0]!;
  assert.equal((await a.receive(m2)).messages.map((m) => m.text), [`b ${tag}`]);
}

const messageId = (o: Outcome) => decodeDataMessage(dearmour(o.toSend[0]!)).messageId;

test('a worker that exits mid-call: its calls reject (worker-exit), it is replaced, its accounts reload and go on', async () => {
  const { pool, a, b } = await setup();
  try {
    await loadHooked(pool, 'doomed@example.org', A);
    const w = pool.workerOf(A)!;
    const before = pool.stats().workers[w]!;
    const ssid = (await a.info()).ssid;
    const sent = await a.send('before the crash');
    // One batch: the doomed call ends the thread, Alice's call behind it never runs.
    const dying = pool.conversation('doomed@example.org', B).startDake();
    const lost = a.send('lost in the crash');
    await rejectsWith(dying, 'worker-exit');
    await rejectsWith(lost, 'worker-exit');
    // A call made now waits for the replacement and Alice's reload, then runs.
    const after = await a.send('after the crash');
    const now = pool.stats().workers[w]!;
    assert.is(now.restarts, before.restarts + 1);
    assert.is.not(now.threadId, before.threadId, 'a new thread');
    assert.is(pool.workerOf(A), w, 'Alice stays in her slot');
    // Alice came back from her last checkpoint: the lost call left no trace (the next message id follows
    // the last one that succeeded), the session is the same, Bob reads both messages.
    assert.is(messageId(after), messageId(sent) + 1);
    assert.is((await a.info()).ssid, ssid);
    assert.equal((await b.receive(sent.toSend[0]!)).messages.map((m) => m.text), ['before the crash']);
    assert.equal((await b.receive(after.toSend[0]!)).messages.map((m) => m.text), ['after the crash']);
    await bothWays(a, b, 'after restart');
    // The doomed account was reloaded too (it is still in the pool), and still crashes when used.
    assert.ok(pool.accountIds.includes('doomed@example.org'));
    await rejectsWith(pool.conversation('doomed@example.org', B).startDake(), 'worker-exit');
    await bothWays(a, b, 'after the second restart');
    assert.is(pool.stats().workers[1 - w]!.restarts, 0, 'the other worker was untouched');
  } finally {
    await pool.close();
  }
});

test('a worker that never answers: the call times out, the worker is ended and replaced, the others go on', async () => {
  const { pool, a, b } = await setup({ callTimeoutMs: 6000 });
  try {
    await loadHooked(pool, 'stuck@example.org', A);
    const w = pool.workerOf(A)!;
    const t0 = performance.now();
    const hung = pool.conversation('stuck@example.org', B).startDake();
    const behind = a.send('behind the hung call');
    await rejectsWith(hung, 'timeout');
    await rejectsWith(behind, 'timeout');
    assert.ok(performance.now() - t0 < 60_000, 'settled by the timeout, not left hanging');
    assert.is(pool.stats().workers[w]!.restarts, 1);
    await bothWays(a, b, 'after the timeout');
  } finally {
    await pool.close();
  }
});

test('an exception that is not an OtrError: the call rejects (internal), the account is reverted, the worker lives', async () => {
  const { pool, a, b } = await setup();
  try {
    await loadHooked(pool, 'faulty@example.org', A);
    const f = pool.conversation('faulty@example.org', B);
    await rejectsWith(f.startDake(), 'internal');
    assert.is((await f.info()).state, 'START', 'the half-done DAKE was not kept');
    assert.equal(pool.stats().workers.map((x) => x.restarts), [0, 0]);
    await bothWays(a, b, 'beside the fault');
  } finally {
    await pool.close();
  }
});

test('onCheckpoint fails: the outputs are withheld (persist-failed), calls already run behind it too, the account reverts', async () => {
  const saved = new Map<string, Uint8Array>();
  let failNext = false;
  const { pool, a, b } = await setup({
    onCheckpoint: async (id, bytes) => {
      await new Promise((r) => setTimeout(r, 1));
      if (failNext) {
        failNext = false;
        throw new Error('disk full');
      }
      saved.set(id, bytes);
    },
  });
  try {
    const ok = await a.send('stored');
    assert.equal(saved.get(A), pool.lastCheckpoint(A), 'the call resolved after its checkpoint was stored');
    failNext = true;
    const burst = [a.send('withheld 1'), a.send('withheld 2'), a.send('withheld 3')];
    for (const p of burst) await rejectsWith(p, 'persist-failed');
    const next = await a.send('next');
    assert.is(messageId(next), messageId(ok) + 1, 'the withheld calls left no trace');
    assert.equal(saved.get(A), pool.lastCheckpoint(A));
    assert.equal((await b.receive(ok.toSend[0]!)).messages.map((m) => m.text), ['stored']);
    assert.equal((await b.receive(next.toSend[0]!)).messages.map((m) => m.text), ['next']);
    await bothWays(a, b, 'after the failed store');
  } finally {
    await pool.close();
  }
});

test('a move right behind a call whose checkpoint fails: the move is refused, the account stays, reverted, and works', async () => {
  let failNext = false;
  const { pool, a, b } = await setup({
    onCheckpoint: async () => {
      await new Promise((r) => setTimeout(r, 1));
      if (failNext) {
        failNext = false;
        throw new Error('disk full');
      }
    },
  });
  try {
    const ok = await a.send('stored');
    const from = pool.workerOf(A)!;
    failNext = true;
    const withheld = a.send('withheld');
    const moving = pool.move(A, 1 - from);
    await rejectsWith(withheld, 'persist-failed');
    await rejectsWith(moving, 'persist-failed');
    assert.is(pool.workerOf(A), from);
    const next = await a.send('next');
    assert.is(messageId(next), messageId(ok) + 1, 'the move did not carry the withheld state');
    assert.equal((await b.receive(next.toSend[0]!)).messages.map((m) => m.text), ['next']);
  } finally {
    await pool.close();
  }
});

test("checkpoints 'manual': a crash reverts the account to the last checkpoint asked for, not to the last call", async () => {
  const { pool, a, b } = await setup({ checkpoints: 'manual' });
  try {
    await loadHooked(pool, 'doomed@example.org', A);
    const first = await a.send('checkpointed');
    const saved = await pool.checkpoint(A);
    assert.equal(pool.lastCheckpoint(A), saved);
    const second = await a.send('not checkpointed');
    assert.is(messageId(second), messageId(first) + 1);
    assert.equal(pool.lastCheckpoint(A), saved, 'no checkpoint without asking');
    await rejectsWith(pool.conversation('doomed@example.org', B).startDake(), 'worker-exit');
    // Back at the checkpoint: the next message takes the id of the one sent after it (so, in manual mode,
    // checkpoint before transmitting — docs/pool.md).
    const again = await a.send('after the crash');
    assert.is(messageId(again), messageId(second));
    assert.equal((await b.receive(first.toSend[0]!)).messages.map((m) => m.text), ['checkpointed']);
    assert.equal((await b.receive(again.toSend[0]!)).messages.map((m) => m.text), ['after the crash']);
  } finally {
    await pool.close();
  }
});

test('move with a failing onCheckpoint: the move rejects (persist-failed) but the account is in its new worker and works', async () => {
  let fail = false;
  const { pool, a, b } = await setup({
    onCheckpoint: () => {
      if (fail) throw new Error('store down');
    },
  });
  try {
    const from = pool.workerOf(A)!;
    fail = true;
    const moving = pool.move(A, 1 - from);
    const during = a.info();
    await rejectsWith(moving, 'persist-failed');
    fail = false;
    assert.is(pool.workerOf(A), 1 - from);
    assert.is((await during).state, 'ENCRYPTED_MESSAGES', 'a call made during the move followed the account');
    await bothWays(a, b, 'after the move');
  } finally {
    await pool.close();
  }
});

test('onCheckpoint that never answers: the call still settles (persist-failed) at its deadline', async () => {
  let hang = false;
  const { pool, a, b } = await setup({ callTimeoutMs: 6000, onCheckpoint: () => (hang ? new Promise<void>(() => {}) : undefined) });
  try {
    hang = true;
    await rejectsWith(a.send('never stored'), 'persist-failed');
    hang = false;
    await bothWays(a, b, 'after the hung store');
  } finally {
    await pool.close();
  }
});

test('a new account whose first checkpoint cannot be stored is not kept anywhere; creating it again works', async () => {
  let fail = true;
  const pool = await OtrPool.start({ workers: 1, backend: 'wasm', environment: ENV, onCheckpoint: () => {
    if (fail) throw new Error('store down');
  } });
  try {
    await rejectsWith(pool.createAccount({ accountId: A, dsaKey: null }), 'persist-failed');
    assert.equal(pool.accountIds, []);
    fail = false;
    const info = await pool.createAccount({ accountId: A, dsaKey: null });
    assert.is(info.accountId, A);
  } finally {
    await pool.close();
  }
});

test('back-pressure: beyond maxQueuedCalls new calls are refused (overloaded) at once; the accepted ones run', async () => {
  const { pool, a, b } = await setup({ maxQueuedCalls: 4 });
  try {
    const calls = Array.from({ length: 10 }, (_, i) => a.send(`m${i}`));
    const settled = await Promise.allSettled(calls);
    const done = settled.filter((s) => s.status === 'fulfilled') as PromiseFulfilledResult<Outcome>[];
    assert.is(done.length, 4);
    for (const s of settled.slice(4)) {
      assert.is(s.status, 'rejected');
      const e = (s as PromiseRejectedResult).reason;
      assert.ok(e instanceof OtrPoolError && e.reason === 'overloaded');
    }
    for (const d of done) assert.is((await b.receive(d.value.toSend[0]!)).messages.length, 1);
    await bothWays(a, b, 'after the burst');
  } finally {
    await pool.close();
  }
});

test('shutdown: calls already made finish, later ones are refused (closed), the threads end', async () => {
  const { pool, a } = await setup();
  const pending = Array.from({ length: 5 }, (_, i) => a.send(`last ${i}`));
  const closing = pool.close();
  await rejectsWith(a.send('too late'), 'closed');
  await rejectsWith(pool.createAccount({ accountId: 'late@example.org', dsaKey: null }), 'closed');
  for (const o of await Promise.all(pending)) assert.is(o.toSend.length, 1);
  await closing;
  assert.ok(pool.stats().workers.every((w) => !w.running));
  await pool.close(); // twice is harmless
});

test('shutdown with a call that never finishes: close gives up after its timeout and rejects it (closed)', async () => {
  const { pool } = await setup();
  await loadHooked(pool, 'stuck@example.org', A);
  const hung = rejectsWith(pool.conversation('stuck@example.org', B).startDake(), 'closed');
  const t0 = performance.now();
  await pool.close({ timeoutMs: 300 });
  await hung;
  assert.ok(performance.now() - t0 < 30_000);
  assert.ok(pool.stats().workers.every((w) => !w.running));
});

test('a worker that cannot start: OtrPool.start rejects with worker-start and names why', async () => {
  const e = await rejectsWith(OtrPool.start({ workers: 1, environment: new URL('./helpers/no-such-module.js', import.meta.url) }), 'worker-start');
  assert.ok(/no-such-module|Cannot find/.test(e.message));
});

test('a worker that dies and whose replacements cannot start: its slot is declared dead, its calls reject (worker-start), the other worker goes on', async () => {
  // An environment module that refuses to load once a flag file exists: the first workers start, replacements do not.
  const dir = mkdtempSync(join(tmpdir(), 'otr4-pool-'));
  const flag = join(dir, 'broken');
  const envFile = join(dir, 'env.mjs');
  writeFileSync(envFile, `import { existsSync } from 'node:fs';\nif (existsSync(${JSON.stringify(flag)})) throw new Error('environment unavailable');\nexport * from ${JSON.stringify(ENV.href)};\n`);
  const { pool, a, b } = await setup({ environment: pathToFileURL(envFile), maxRestarts: 1 });
  try {
    await loadHooked(pool, 'doomed@example.org', A);
    const w = pool.workerOf(A)!;
    writeFileSync(flag, '');
    await rejectsWith(pool.conversation('doomed@example.org', B).startDake(), 'worker-exit');
    await rejectsWith(a.send('to a dead slot'), 'worker-start');
    const st = pool.stats().workers;
    assert.ok(st[w]!.dead && !st[w]!.running);
    assert.not.ok(st[1 - w]!.dead);
    // Bob's worker is fine: his own calls run.
    assert.is((await b.info()).state, 'ENCRYPTED_MESSAGES');
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options are refused with OtrArgumentError before any thread starts', async () => {
  for (const o of [{ workers: 0 }, { workers: 1.5 }, { callTimeoutMs: -1 }, { checkpoints: 'sometimes' }, { onCheckpoint: 5 }] as unknown as PoolOptions[]) {
    try {
      await OtrPool.start(o);
      assert.unreachable('accepted');
    } catch (e) {
      assert.ok(e instanceof OtrArgumentError, JSON.stringify(o));
    }
  }
});

test.run();
