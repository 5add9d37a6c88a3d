/**
 * Session 8 review of the worker pool (ts/pool/*). What test/pool-hostile and pool-failure did not reach:
 *   - every method of the pool and of a pool conversation, called by the host with values of the wrong type
 *     (undefined, null, numbers that are not integers, objects, arrays, a Symbol, a function, a String object,
 *     a Proxy that throws on every access, a getter that throws): each a returned promise (never a throw out of
 *     the call) that settles with a typed OtrError — and never `internal` (an untyped exception in the worker)
 *     — with no worker restarted and the session working after;
 *   - a hostile peer's messages (garbage, oversized, mutated genuine ones, fragments that never complete)
 *     through a pool in records mode (the bridge's), committed to a store: every call resolves, no worker
 *     dies, the session goes on, and the store's records still restore the account in a new pool.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LIMITS, OtrError, type Outcome } from '../../ts/index.js';
import { OtrPool, OtrPoolError, type PoolConversation } from '../../ts/pool/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { dearmour } from '../../ts/codec/armour.js';
import { seededUniform } from '../helpers/channel.js';
import { binaryMutants } from '../helpers/session-hostile.js';
import { committingHook, poolPair, pumpPool } from '../helpers/pool-pair.js';

const ENV = new URL('../helpers/pool-env.js', import.meta.url);
const A = 'alice@example.org';
const B = 'bob@example.org';

const throwing = new Proxy(
  {},
  {
    get() {
      throw new Error('proxy get');
    },
    ownKeys() {
      throw new Error('proxy keys');
    },
    getOwnPropertyDescriptor() {
      throw new Error('proxy descriptor');
    },
  },
);
const getter = Object.defineProperty({}, 'allowV4', { enumerable: true, get: () => { throw new Error('getter'); } });
const HOSTILE: readonly [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['NaN', NaN],
  ['-1', -1],
  ['1.5', 1.5],
  ['2^53', 2 ** 53],
  ['object', {}],
  ['array', [1, 2]],
  ['symbol', Symbol('s')],
  ['function', () => 1],
  ['String object', new String('x')],
  ['proxy', throwing],
  ['throwing getter', getter],
  ['bigint', 5n],
];

/** How a call ended; a synchronous throw and an untyped or `internal` rejection are reported as failures. */
async function settle(f: () => unknown): Promise<string> {
  let p: unknown;
  try {
    p = f();
  } catch (e) {
    return `threw ${(e as Error)?.name}: ${(e as Error)?.message}`;
  }
  if (!(p instanceof Promise)) return `not a promise: ${String(p)}`;
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof OtrPoolError && e.reason === 'internal') return `internal: ${e.message}`;
    return e instanceof OtrError ? e.code : `untyped ${(e as Error)?.name}: ${(e as Error)?.message}`;
  }
}

test('attack: every pool and conversation method with arguments of the wrong type: a typed rejection, no worker lost', async () => {
  const { pool, a, b } = await poolPair(ENV, {}, 2);
  try {
    const any = (o: object) => o as Record<string, (...args: unknown[]) => unknown>;
    const calls: [string, (v: unknown) => unknown][] = [
      ['createAccount', (v) => any(pool).createAccount!(v)],
      ['createAccount({accountId})', (v) => any(pool).createAccount!({ accountId: v })],
      ['createAccount(policy)', (v) => any(pool).createAccount!({ accountId: 'new@example.org', dsaKey: null, policy: v })],
      ['createAccount(limits)', (v) => any(pool).createAccount!({ accountId: 'new@example.org', dsaKey: null, limits: v })],
      ['loadAccount(id)', (v) => any(pool).loadAccount!(v, new Uint8Array(10))],
      ['loadAccount(bytes)', (v) => any(pool).loadAccount!('new@example.org', v)],
      ['loadAccount(settings)', (v) => any(pool).loadAccount!('new@example.org', new Uint8Array(10), v)],
      ['loadAccountRecords(records)', (v) => any(pool).loadAccountRecords!('new@example.org', v)],
      ['loadAccountRecords([v])', (v) => any(pool).loadAccountRecords!('new@example.org', [v])],
      ['checkpoint', (v) => any(pool).checkpoint!(v)],
      ['unload', (v) => any(pool).unload!(v)],
      ['move(id)', (v) => any(pool).move!(v, 0)],
      ['move(index)', (v) => any(pool).move!(A, v)],
      ['conversation(account).send', (v) => (any(pool).conversation!(v, B) as PoolConversation).send('x')],
      ['conversation(peer).send', (v) => any(pool.conversation(A, v as string)).send!('x')],
      ['send', (v) => any(a).send!(v)],
      ['send(options)', (v) => any(a).send!('x', v)],
      ['receive', (v) => any(b).receive!(v)],
      ['startDake', (v) => any(a).startDake!(v)],
      ['sendOffline', (v) => any(a).sendOffline!(v)],
      ['sendOffline([v])', (v) => any(a).sendOffline!([v])],
      ['sendOffline(text)', (v) => any(a).sendOffline!([], v)],
      ['startSmp', (v) => any(a).startSmp!(v)],
      ['startSmp(question)', (v) => any(a).startSmp!('s', v)],
      ['answerSmp', (v) => any(a).answerSmp!(v)],
      ['setPolicy', (v) => any(a).setPolicy!(v)],
      ['setPolicy({field})', (v) => any(a).setPolicy!({ allowV4: v })],
    ];
    const bad: string[] = [];
    const outcomes = new Map<string, string>();
    for (const [name, f] of calls) {
      for (const [label, v] of HOSTILE) {
        const got = await settle(() => f(v));
        outcomes.set(`${name} ${label}`, got);
        if (/^(threw|not a promise|internal|untyped)/.test(got)) bad.push(`${name}(${label}): ${got}`);
      }
    }
    assert.equal(bad, [], bad.join('\n'));
    assert.equal(pool.stats().workers.map((w) => w.restarts), [0, 0], 'no worker restarted');
    // Nothing half-made: the two accounts, and the one createAccount made from valid options (policy or limits
    // undefined); the session works both ways.
    assert.equal(pool.accountIds.sort(), [A, B, 'new@example.org']);
    assert.is(outcomes.get('createAccount(policy) undefined'), 'ok');
    const m1 = (await a.send('after')).toSend[0]!;
    assert.equal((await b.receive(m1)).messages.map((m) => m.text), ['after']);
    const m2 = (await b.send('back')).toSend[0]!;
    assert.equal((await a.receive(m2)).messages.map((m) => m.text), ['back']);
  } finally {
    await pool.close();
  }
});

test('attack: a hostile peer through a records-mode pool (garbage, oversized, mutants, fragments that never end): all resolve, no worker dies, the store restores', async () => {
  const store = new MemoryStore();
  const hook = committingHook(store);
  const { pool, a, b } = await poolPair(ENV, { checkpoints: 'records', onRecords: hook.onRecords }, 2);
  try {
    // Healing off, as in pool-hostile: a run of unreadable messages would rightly start a repair DAKE and hold
    // Bob's next message until it completes; this test is about the pool and the store staying whole.
    await a.setPolicy({ healSessions: false });
    await b.setPolicy({ healSessions: false });
    const genuine = (await a.send('genuine')).toSend[0]!;
    const u = seededUniform(2024);
    const mutants = [...binaryMutants(dearmour(genuine), u, 3)].map(([, t]) => t);
    const fragments = Array.from({ length: 200 }, (_, i) => `?OTR|${(0x100 + i).toString(16).padStart(8, '0')}|00000100,00001,00002,${'A'.repeat(1000)},`);
    const junk = ['', '?OTR:', '?OTR:AAQ=.', '?OTR Error: x', 'x'.repeat(DEFAULT_LIMITS.maxMessageChars + 1), `?OTR:${'A'.repeat(DEFAULT_LIMITS.maxMessageChars)}.`, '\u0000\uffff\ud800'];
    const hostile = [...mutants, ...fragments, ...junk];
    assert.ok(hostile.length > 300, `${hostile.length} hostile messages`);
    const settled = await Promise.allSettled(hostile.map((t) => b.receive(t)));
    const rejected = settled.flatMap((s, i) => (s.status === 'rejected' ? [`${i}: ${(s.reason as Error)?.message}`] : []));
    assert.equal(rejected, [], 'receive resolves with an Outcome, whatever arrives');
    for (const s of settled) for (const m of (s as PromiseFulfilledResult<Outcome>).value.messages) assert.ok(!m.encrypted || m.text === 'genuine');
    assert.equal(pool.stats().workers.map((w) => w.restarts), [0, 0], 'no worker died');
    // The genuine message still decrypts (none of the mutants consumed its key), and the session goes on.
    assert.equal((await b.receive(genuine)).messages.map((m) => m.text), ['genuine']);
    const reply = (await b.send('still here')).toSend[0]!;
    assert.equal((await a.receive(reply)).messages.map((m) => m.text), ['still here']);
    // A new pool from the store's records continues the session: nothing the peer sent broke Bob's records.
    const records = await Promise.all((await store.keys(B)).map(async (k) => (await store.load(B, k))!));
    const aRecords = await Promise.all((await store.keys(A)).map(async (k) => (await store.load(A, k))!));
    const order = (rs: typeof records) => rs.sort((x, y) => Number(y.key === 'account') - Number(x.key === 'account'));
    const next = await OtrPool.start({ workers: 1, backend: 'wasm', environment: ENV, checkpoints: 'records', onRecords: committingHook(store).onRecords });
    try {
      await next.loadAccountRecords(B, order(records));
      await next.loadAccountRecords(A, order(aRecords));
      const na: PoolConversation = next.conversation(A, B);
      const nb: PoolConversation = next.conversation(B, A);
      const m = (await na.send('after restart')).toSend[0]!;
      assert.equal((await nb.receive(m)).messages.map((x) => x.text), ['after restart']);
      await pumpPool(nb, na, await nb.send('and back'));
    } finally {
      await next.close();
    }
  } finally {
    await pool.close();
  }
});

test.run();
