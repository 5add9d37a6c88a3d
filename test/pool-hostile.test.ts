/**
 * Hostile input through otr4/pool. From the network: every mutant of a genuine data message and of an
 * Identity message (test/helpers/session-hostile.ts), garbage, oversized text — all sent at once, so they
 * travel in full batches. Each call must resolve with an Outcome (receive never throws, in a worker as on
 * this thread), show nothing that was not sent, kill no worker, and leave the session working. From the
 * caller: wrong types, non-cloneable options, unknown accounts and peers, truncated, foreign or duplicate
 * account bytes — each a rejected promise with a typed OtrError (never a synchronous throw, never a worker
 * crash).
 */
import { test } from 'uvu';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { Account, DEFAULT_LIMITS, OtrError, type Outcome } from '../ts/index.js';
import { OtrPool, OtrPoolError } from '../ts/pool/index.js';
import { dearmour } from '../ts/codec/armour.js';
import { WASM } from './helpers/backends.js';
import { seededUniform } from './helpers/channel.js';
import { binaryMutants } from './helpers/session-hostile.js';
import { pumpPool as pump } from './helpers/pool-pair.js';

const ENV = new URL('./helpers/pool-env.js', import.meta.url);
const A = 'alice@example.org';
const B = 'bob@example.org';

async function typed(p: Promise<unknown>, code: string): Promise<OtrError> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof OtrError)) throw new Error(`untyped rejection: ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.is(e.code, code, e.message);
    return e;
  }
  throw new Error(`expected a rejection with ${code}`);
}

/** Calls a pool method that must not throw synchronously, whatever it is given. */
function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (e) {
    throw new Error(`threw synchronously: ${(e as Error)?.message}`);
  }
}

test('mutants of data and Identity messages through the pool: all resolve, nothing unsent is shown, no worker dies, the session goes on', async () => {
  const pool = await OtrPool.start({ workers: 2, backend: 'wasm', environment: ENV });
  try {
    // Healing off: a run of unreadable mutants would (rightly) make Bob start a repair DAKE and queue his next
    // message until it completes (docs/trust.md); this test is about the pool staying up, so the session must
    // simply go on. The healing itself is attacked in test/attacks/heal-*.
    await pool.createAccount({ accountId: A, dsaKey: null, policy: { healSessions: false } });
    await pool.createAccount({ accountId: B, dsaKey: null, policy: { healSessions: false } });
    const a = pool.conversation(A, B);
    const b = pool.conversation(B, A);
    await pump(a, b, await a.start());
    const genuine = (await a.send('genuine')).toSend[0]!;
    const u = seededUniform(99);
    const mutants = [...binaryMutants(dearmour(genuine), u, 6)];
    // An Identity message from a third account of the pool: its mutants go to Bob's conversation with it.
    await pool.createAccount({ accountId: 'carol@example.org', dsaKey: null });
    const identity = (await pool.conversation('carol@example.org', B).startDake()).toSend[0]!;
    const idMutants = [...binaryMutants(dearmour(identity), u, 2, 8)];
    const bc = pool.conversation(B, 'carol@example.org');
    const junk = ['', '?OTR:', '?OTR:AAQ=.', '?OTR|00000000|00000000,00001,00002,abc,', '?OTR Error: boom', '\0'.repeat(5), 'x'.repeat(DEFAULT_LIMITS.maxMessageChars + 1), '?OTRv', '?OTR:' + 'A'.repeat(100_000) + '.'];
    const all = [...mutants.map(([, t]) => b.receive(t)), ...idMutants.map(([, t]) => bc.receive(t)), ...junk.map((t) => b.receive(t))];
    assert.ok(all.length > 300, `${all.length} hostile calls`);
    const settled = await Promise.allSettled(all);
    settled.forEach((s, i) => assert.is(s.status, 'fulfilled', `call ${i} rejected: ${(s as PromiseRejectedResult).reason?.message}`));
    for (const s of settled) {
      const o = (s as PromiseFulfilledResult<Outcome>).value;
      for (const m of o.messages) assert.ok(m.text === 'genuine' || !m.encrypted, 'only the genuine text is shown as encrypted');
    }
    assert.equal(pool.stats().workers.map((w) => w.restarts), [0, 0], 'no worker died');
    // The session works both ways afterwards.
    const m1 = (await a.send('fresh a')).toSend[0]!;
    assert.equal((await b.receive(m1)).messages.map((m) => m.text), ['fresh a']);
    const m2 = (await b.send('fresh b')).toSend[0]!;
    assert.equal((await a.receive(m2)).messages.map((m) => m.text), ['fresh b']);
  } finally {
    await pool.close();
  }
});

test('hostile arguments: every one a rejected promise with a typed error, none kills a worker', async () => {
  const pool = await OtrPool.start({ workers: 1, backend: 'wasm', environment: ENV });
  try {
    await pool.createAccount({ accountId: A, dsaKey: null });
    const c = pool.conversation(A, B);
    const any = c as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    await typed(call(() => any.receive!(42)), 'INVALID_ARGUMENT');
    await typed(call(() => any.send!(null)), 'INVALID_ARGUMENT');
    await typed(call(() => any.send!('x', { extraKey: { context: () => 1 } })), 'INVALID_ARGUMENT');
    await typed(call(() => c.send('nul \0 inside')), 'INVALID_ARGUMENT'); // refused inside the worker, rebuilt here
    await typed(call(() => any.startSmp!(5)), 'INVALID_ARGUMENT');
    await typed(call(() => any.startSmp!('s', 7)), 'INVALID_ARGUMENT');
    await typed(call(() => c.startSmp('secret')), 'STATE'); // no encrypted session: an OtrStateError from the worker
    await typed(call(() => c.startDake(1.5)), 'INVALID_ARGUMENT');
    await typed(call(() => any.setPolicy!({ bogus: true })), 'INVALID_ARGUMENT');
    await typed(call(() => any.setPolicy!({ allowV4: () => true })), 'INVALID_ARGUMENT');
    await typed(call(() => pool.conversation(A, '').send('x')), 'INVALID_ARGUMENT');
    await typed(call(() => pool.conversation(5 as unknown as string, B).send('x')), 'POOL');
    const unknown = await typed(call(() => pool.conversation('nobody@example.org', B).send('x')), 'POOL');
    assert.is((unknown as OtrPoolError).reason, 'unknown-account');
    await typed(call(() => pool.createAccount({ accountId: '' })), 'INVALID_ARGUMENT');
    await typed(call(() => pool.createAccount(null as unknown as { accountId: string })), 'INVALID_ARGUMENT');
    await typed(call(() => pool.createAccount({ accountId: 'x@example.org', policy: { allowV3: () => false } as never })), 'INVALID_ARGUMENT');
    await typed(call(() => pool.createAccount({ accountId: A })), 'INVALID_ARGUMENT'); // already there
    await typed(call(() => pool.createAccount({ accountId: 'y@example.org', identitySecret: new Uint8Array(3) })), 'INVALID_ARGUMENT');
    assert.not.ok(pool.accountIds.includes('y@example.org'), 'a refused create leaves no entry');

    // Account bytes: truncated at many lengths, flipped, foreign, not bytes at all.
    const twin = Account.create({ accountId: 'zed@example.org', backend: WASM, dsaKey: null });
    const bytes = twin.serialize();
    for (const n of [0, 1, 9, 20, bytes.length >> 1, bytes.length - 1]) await typed(call(() => pool.loadAccount('zed@example.org', bytes.subarray(0, n))), 'MALFORMED');
    await typed(call(() => pool.loadAccount('other@example.org', bytes)), 'INVALID_ARGUMENT'); // another account's bytes
    await typed(call(() => pool.loadAccount('zed@example.org', 'bytes' as unknown as Uint8Array)), 'INVALID_ARGUMENT');
    await typed(call(() => pool.loadAccount('zed@example.org', bytes, { policy: { allowV4: Symbol('x') } } as never)), 'INVALID_ARGUMENT');
    assert.equal(pool.accountIds, [A], 'no refused load left an entry');
    await pool.loadAccount('zed@example.org', bytes);
    await typed(call(() => pool.loadAccount('zed@example.org', bytes)), 'INVALID_ARGUMENT'); // already there
    await typed(call(() => pool.move(A, 3)), 'INVALID_ARGUMENT');
    await typed(call(() => pool.unload('nobody@example.org')), 'POOL');

    assert.equal(pool.stats().workers.map((w) => w.restarts), [0]);
    assert.is((await c.send('still fine')).toSend.length, 1);
  } finally {
    await pool.close();
  }
});

test('the largest and most nested account states a host can hand the pool: refused typed, nothing kept, no worker lost', async () => {
  const pool = await OtrPool.start({ workers: 1, backend: 'wasm', environment: ENV });
  try {
    const id = 'zed@example.org';
    const real = Account.create({ accountId: id, backend: WASM, dsaKey: null }).serialize();
    // Past maxStateBytes: the real state with 8 MiB of padding after it (refused before any decoding).
    const huge = new Uint8Array(DEFAULT_LIMITS.maxStateBytes * 2);
    huge.set(real);
    await typed(call(() => pool.loadAccount(id, huge)), 'MALFORMED');
    // A raised limit is the host's choice: the same bytes then fail on their content, not their size.
    await typed(call(() => pool.loadAccount(id, huge, { limits: { maxStateBytes: huge.length } })), 'MALFORMED');
    // The state's envelope, then 400 000 nested one-element arrays, then a count of 2^31 elements.
    const head = real.subarray(0, 'OTR4STATE'.length + 1 + 4 + 'account'.length); // magic, format version, kind
    const nested = new Uint8Array(head.length + 400_000 * 5 + 1);
    nested.set(head);
    for (let i = 0; i < 400_000; i++) nested.set([7, 0, 0, 0, 1], head.length + i * 5);
    await typed(call(() => pool.loadAccount(id, nested)), 'MALFORMED');
    const count = Uint8Array.from([...head, 7, 0x7f, 0xff, 0xff, 0xff]);
    await typed(call(() => pool.loadAccount(id, count)), 'MALFORMED');
    assert.equal(pool.accountIds, [], 'no refused load left an entry');
    assert.equal(pool.stats().workers.map((w) => w.restarts), [0]);
    await pool.loadAccount(id, real);
    assert.equal(pool.accountIds, [id]);
  } finally {
    await pool.close();
  }
});

test('unload returns the account as bytes that restore in-process; the pool forgets it', async () => {
  // The environment given as a plain file path (not a URL) works the same.
  const pool = await OtrPool.start({ workers: 1, backend: 'wasm', environment: fileURLToPath(ENV) });
  try {
    assert.equal(pool.stats().workers.map((w) => [w.backend, w.running]), [['wasm', true]]);
    const info = await pool.createAccount({ accountId: A, dsaKey: null });
    await pool.conversation(A, B).start();
    const bytes = await pool.unload(A);
    const back = Account.restore(bytes, { backend: WASM });
    assert.is(back.fingerprint, info.fingerprint);
    assert.equal(back.peers, [B]);
    assert.equal(pool.accountIds, []);
    await typed(call(() => pool.conversation(A, B).send('x')), 'POOL');
  } finally {
    await pool.close();
  }
});

test.run();
