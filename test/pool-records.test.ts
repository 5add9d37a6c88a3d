/**
 * otr4/pool with checkpoints: 'records' (the default): the pool keeps each account's records — what the
 * outcomes' `changed` said, applied in order — and reloads accounts from them. Asserted: a worker killed
 * mid-batch brings its accounts back from their records (also records never decoded since the last reload:
 * attached, dormant), a move carries them, a failed commit reverts the account to what the store holds (and
 * the store accepts the next commit: generations agree), the pool's records equal the store's and the
 * in-process twin's, and hostile records handed to loadAccountRecords are refused with typed errors (or, for
 * a conversation record, on that conversation's first use) without killing a worker.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, OtrArgumentError, OtrDecodeError, OtrStateError, type Outcome } from '../ts/index.js';
import { OtrPool, OtrPoolError, type PoolConversation, type PoolOptions } from '../ts/pool/index.js';
import { MemoryStore } from '../ts/store/memory.js';
import type { RecordChange, StoredRecord } from '../ts/store/types.js';
import { dearmour } from '../ts/codec/armour.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { POOL_CLOCK, seedOf } from './helpers/pool-env.js';
import { committingHook, poolPair } from './helpers/pool-pair.js';

const ENV = new URL('./helpers/pool-env.js', import.meta.url);
const A = 'alice@example.org';
const B = 'bob@example.org';

async function rejectsWith(p: Promise<unknown>, reason: string): Promise<OtrPoolError> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof OtrPoolError)) throw new Error(`expected OtrPoolError(${reason}), got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.is(e.reason, reason, e.message);
    return e;
  }
  throw new Error(`expected OtrPoolError(${reason}), but the call succeeded`);
}

async function rejectsTyped(p: Promise<unknown>, cls: new (...a: never[]) => Error): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    return;
  }
  throw new Error(`expected ${cls.name}, but the call succeeded`);
}

/** A pool with Alice and Bob in an encrypted session (each in its own worker). */
const setup = (o: PoolOptions = {}) => poolPair(ENV, o, 2);

/** An account made on this thread whose first randomness use runs a pool-env hook (doomed: exit the worker). */
async function loadHooked(pool: OtrPool, id: string, nextTo: string): Promise<void> {
  const acct = Account.create({ accountId: id, backend: WASM, random: seededRandom(seedOf(id)), clock: POOL_CLOCK, dsaKey: null });
  await pool.loadAccount(id, acct.serialize());
  await pool.move(id, pool.workerOf(nextTo)!);
}

async function bothWays(a: PoolConversation, b: PoolConversation, tag: string): Promise<void> {
  const m1 = (await a.send(`a ${tag}`)).toSend[0]!;
  assert.equal((await b.receive(m1)).messages.map((m) => m.text), [`a ${tag}`]);
  const m2 = (await b.send(`b ${tag}`)).toSend[0]!;
  assert.equal((await a.receive(m2)).messages.map((m) => m.text), [`b ${tag}`]);
}

const messageId = (o: Outcome) => decodeDataMessage(dearmour(o.toSend[0]!)).messageId;

/** The store's records of an account, account record first (what a bridge reloads from). */
async function stored(store: MemoryStore, id: string): Promise<StoredRecord[]> {
  const keys = (await store.keys(id)).sort((x, y) => Number(y === 'account') - Number(x === 'account'));
  return Promise.all(keys.map(async (k) => (await store.load(id, k))!));
}

const byKey = (rs: readonly StoredRecord[]) => new Map(rs.map((r) => [r.key, r]));

function sameRecords(got: readonly StoredRecord[], want: readonly StoredRecord[], what: string): void {
  const g = byKey(got);
  const w = byKey(want);
  assert.equal([...g.keys()].sort(), [...w.keys()].sort(), `${what}: keys`);
  for (const [k, r] of w) {
    assert.is(g.get(k)!.generation, r.generation, `${what}: generation of ${k}`);
    assert.equal(g.get(k)!.bytes, r.bytes, `${what}: bytes of ${k}`);
  }
}

test('the default mode is records; the hooks and modes that do not go together are refused before any thread starts', async () => {
  const bad: PoolOptions[] = [
    { checkpoints: 'records', onCheckpoint: () => {} },
    { checkpoints: 'every-call', onRecords: () => {} },
    { onCheckpoint: () => {}, onRecords: () => {} },
    { onRecords: 5 } as unknown as PoolOptions,
  ];
  for (const o of bad) {
    try {
      await OtrPool.start({ workers: 1, ...o });
      assert.unreachable('accepted');
    } catch (e) {
      assert.ok(e instanceof OtrArgumentError, JSON.stringify(Object.keys(o)));
    }
  }
  const pool = await OtrPool.start({ workers: 1, backend: 'wasm', environment: ENV });
  try {
    await pool.createAccount({ accountId: A, dsaKey: null });
    assert.throws(() => pool.lastCheckpoint(A), (e: unknown) => e instanceof OtrStateError);
    const rs = pool.lastRecords(A)!;
    assert.equal(rs.map((r) => [r.key, r.generation]), [['account', 1]], "a new account's record, handed out at creation");
    // checkpoint() still gives whole-account bytes, made now.
    assert.is(Account.restore(await pool.checkpoint(A), { backend: WASM }).fingerprint, Account.fromRecord(rs[0]!, { backend: WASM }).fingerprint);
  } finally {
    await pool.close();
  }
});

test('a worker killed mid-batch: its accounts come back from their records (twice, the second time from records never decoded), and the store agrees', async () => {
  const store = new MemoryStore();
  const { pool, a, b } = await setup({ onRecords: (id, changes) => store.commit(id, changes) });
  try {
    await loadHooked(pool, 'doomed@example.org', A);
    const w = pool.workerOf(A)!;
    const ok = await a.send('before the crash');
    // One batch: Alice's send, the doomed call that ends the thread, Alice's send behind it that never runs.
    const lost1 = a.send('lost in the crash');
    const dying = pool.conversation('doomed@example.org', B).startDake();
    const lost2 = a.send('lost too');
    await rejectsWith(dying, 'worker-exit');
    const first = await Promise.allSettled([lost1, lost2]);
    // The one ahead of the doomed call ran in the same batch, but its result never came back: rejected too.
    for (const s of first) assert.is(s.status, 'rejected');
    assert.is(pool.stats().workers[w]!.restarts, 1);
    // Reloaded from its records: nothing of the lost calls survived.
    sameRecords(pool.lastRecords(A)!, await stored(store, A), 'the pool holds what the store holds');
    // Crash again before Alice's conversation is used: her worker holds it attached and undecoded (dormant);
    // the reload must bring it back all the same.
    await rejectsWith(pool.conversation('doomed@example.org', B).startDake(), 'worker-exit');
    assert.is(pool.stats().workers[w]!.restarts, 2);
    const after = await a.send('after the crashes');
    assert.is(messageId(after), messageId(ok) + 1, 'the lost calls left no trace');
    assert.equal((await b.receive(ok.toSend[0]!)).messages.map((m) => m.text), ['before the crash']);
    assert.equal((await b.receive(after.toSend[0]!)).messages.map((m) => m.text), ['after the crashes']);
    await bothWays(a, b, 'after the restarts');
    sameRecords(pool.lastRecords(A)!, await stored(store, A), 'still in step with the store');
    sameRecords(pool.lastRecords(B)!, await stored(store, B), "Bob's too");
  } finally {
    await pool.close();
  }
});

test('a failed commit: the outputs are withheld, the account reverts to what the store holds, and the store takes the next commit', async () => {
  const store = new MemoryStore();
  const hook = committingHook(store, { before: () => new Promise((r) => setTimeout(r, 1)) });
  const { pool, a, b } = await setup({ onRecords: hook.onRecords });
  try {
    const ok = await a.send('stored');
    hook.failNext();
    const burst = [a.send('withheld 1'), a.send('withheld 2'), a.send('withheld 3')];
    for (const p of burst) await rejectsWith(p, 'persist-failed');
    sameRecords(pool.lastRecords(A)!, await stored(store, A), 'reverted to the stored records');
    // The next call's changes are at the generations the store expects (a CONFLICT would fail it).
    const next = await a.send('next');
    assert.is(messageId(next), messageId(ok) + 1, 'the withheld calls left no trace');
    assert.equal((await b.receive(ok.toSend[0]!)).messages.map((m) => m.text), ['stored']);
    assert.equal((await b.receive(next.toSend[0]!)).messages.map((m) => m.text), ['next']);
    await bothWays(a, b, 'after the failed commit');
    sameRecords(pool.lastRecords(A)!, await stored(store, A), 'in step again');
  } finally {
    await pool.close();
  }
});

test('a store that refuses (CONFLICT: another process wrote) is a failed commit too: withheld, reverted, the pool keeps no record the store lacks', async () => {
  const store = new MemoryStore();
  const { pool, a } = await setup({ onRecords: (id, changes) => store.commit(id, changes) });
  try {
    await a.send('stored');
    // Another writer moves Alice's conversation record on: our next commit expects the older generation.
    const rec = (await store.load(A, `conv:${B}`))!;
    await store.commit(A, [{ key: rec.key, generation: rec.generation + 1, bytes: rec.bytes }]);
    await rejectsWith(a.send('conflicts'), 'persist-failed');
    const held = byKey(pool.lastRecords(A)!);
    assert.is(held.get(`conv:${B}`)!.generation, rec.generation, 'the pool went back to its last stored generation, not past it');
  } finally {
    await pool.close();
  }
});

test('a new account whose first records cannot be committed is not kept anywhere; creating it again works', async () => {
  let fail = true;
  const pool = await OtrPool.start({ workers: 1, backend: 'wasm', environment: ENV, onRecords: () => {
    if (fail) throw new Error('store down');
  } });
  try {
    await rejectsWith(pool.createAccount({ accountId: A, dsaKey: null }), 'persist-failed');
    assert.equal(pool.accountIds, []);
    fail = false;
    assert.is((await pool.createAccount({ accountId: A, dsaKey: null })).accountId, A);
    assert.equal(pool.lastRecords(A)!.map((r) => [r.key, r.generation]), [['account', 1]]);
  } finally {
    await pool.close();
  }
});

test('move between workers: pending calls follow, the records carry the account (also one whose conversation is attached, undecoded), a move behind a failed commit is refused', async () => {
  const store = new MemoryStore();
  const hook = committingHook(store);
  const { pool, a, b } = await setup({ onRecords: hook.onRecords });
  try {
    const from = pool.workerOf(A)!;
    const before: Promise<Outcome>[] = [];
    for (let i = 0; i < 5; i++) before.push(a.send(`before move ${i}`));
    const moved = pool.move(A, 1 - from);
    for (let i = 0; i < 5; i++) before.push(a.send(`after move ${i}`));
    await moved;
    assert.is(pool.workerOf(A), 1 - from);
    const outs = await Promise.all(before);
    const ids = outs.map(messageId);
    for (let i = 1; i < ids.length; i++) assert.is(ids[i], ids[i - 1]! + 1, 'message ids follow the call order');
    for (const o of outs) assert.is((await b.receive(o.toSend[0]!)).messages.length, 1);
    // Moved twice without a call between: the second move carries records the target never decoded.
    await pool.move(A, from);
    await pool.move(A, 1 - from);
    await bothWays(a, b, 'after the moves');
    sameRecords(pool.lastRecords(A)!, await stored(store, A), 'the store agrees');
    // A move right behind a call whose commit fails: refused, the account stays and is reverted.
    const ok = await a.send('stored');
    const here = pool.workerOf(A)!;
    hook.failNext();
    const withheld = a.send('withheld');
    const moving = pool.move(A, 1 - here);
    await rejectsWith(withheld, 'persist-failed');
    await rejectsWith(moving, 'persist-failed');
    assert.is(pool.workerOf(A), here);
    const next = await a.send('next');
    assert.is(messageId(next), messageId(ok) + 1, 'the move did not carry the withheld state');
    assert.equal((await b.receive(ok.toSend[0]!)).messages.map((m) => m.text), ['stored']);
    assert.equal((await b.receive(next.toSend[0]!)).messages.map((m) => m.text), ['next']);
  } finally {
    await pool.close();
  }
});

test("the pool's records are the in-process account's, byte for byte and generation for generation", async () => {
  const la = Account.create({ accountId: A, backend: WASM, random: seededRandom(seedOf(A)), clock: POOL_CLOCK, dsaKey: null });
  const lb = Account.create({ accountId: B, backend: WASM, random: seededRandom(seedOf(B)), clock: POOL_CLOCK, dsaKey: null });
  la.changes();
  lb.changes(); // what the pool's createAccount hands out: the account record at generation 1
  const lab = la.conversation(B);
  const lba = lb.conversation(A);
  let q = lab.start().toSend.map((t) => [lba, t] as const);
  while (q.length) {
    const next: (readonly [typeof lab, string])[] = [];
    for (const [dst, t] of q) for (const x of dst.receive(t).toSend) next.push([dst === lba ? lab : lba, x]);
    q = next;
  }
  for (let i = 0; i < 4; i++) lba.receive(lab.send(`m${i}`).toSend[0]!);
  const { pool, a, b } = await setup();
  try {
    for (let i = 0; i < 4; i++) await b.receive((await a.send(`m${i}`)).toSend[0]!);
    sameRecords(pool.lastRecords(A)!, la.records(), 'Alice');
    sameRecords(pool.lastRecords(B)!, lb.records(), 'Bob');
  } finally {
    await pool.close();
  }
});

test('a bridge restarts from its store: loadAccountRecords in a new pool continues every conversation', async () => {
  const store = new MemoryStore();
  const { pool, a, b } = await setup({ onRecords: (id, changes) => store.commit(id, changes) });
  let last: Outcome;
  try {
    last = await a.send('before the restart');
    await b.receive(last.toSend[0]!);
  } finally {
    await pool.close();
  }
  const again = await OtrPool.start({ workers: 2, backend: 'wasm', environment: ENV, onRecords: (id, changes) => store.commit(id, changes) });
  try {
    await again.loadAccountRecords(A, await stored(store, A));
    await again.loadAccountRecords(B, await stored(store, B));
    const a2 = again.conversation(A, B);
    const b2 = again.conversation(B, A);
    const next = await a2.send('after the restart');
    assert.is(messageId(next), messageId(last) + 1);
    assert.equal((await b2.receive(next.toSend[0]!)).messages.map((m) => m.text), ['after the restart']);
    await bothWays(a2, b2, 'after the restart');
    // The records round-trip through lastRecords too (unload, load them back).
    const rs = again.lastRecords(A)!;
    await again.unload(A);
    await again.loadAccountRecords(A, rs);
    await bothWays(a2, b2, 'after a reload from lastRecords');
  } finally {
    await again.close();
  }
});

test('hostile records: refused with typed errors before any thread sees them, or by the worker, never killing it; a bad conversation record is refused on its use only', async () => {
  const { pool, a, b } = await setup();
  try {
    const good = pool.lastRecords(A)!;
    const acct = good.find((r) => r.key === 'account')!;
    const conv = good.find((r) => r.key !== 'account')!;
    const id = 'new@example.org';
    const cases: [unknown, new (...x: never[]) => Error][] = [
      ['not an array', OtrArgumentError],
      [[], OtrArgumentError], // no account record
      [[conv], OtrArgumentError],
      [[acct, acct], OtrArgumentError], // twice
      [[acct, { ...conv, key: 'conv:' }], OtrArgumentError],
      [[acct, { ...conv, key: 'other' }], OtrArgumentError],
      [[acct, { ...conv, generation: -1 }], OtrArgumentError],
      [[acct, { ...conv, generation: 1.5 }], OtrArgumentError],
      [[acct, { ...conv, bytes: Array.from(conv.bytes) }], OtrArgumentError],
      [[acct, null], OtrArgumentError],
      // Alice's account record under another id: the worker refuses it (typed), nothing is kept.
      [[acct], OtrArgumentError],
      [[{ ...acct, bytes: new Uint8Array(40).fill(7) }], OtrDecodeError],
    ];
    for (const [records, cls] of cases) {
      await rejectsTyped(pool.loadAccountRecords(id, records as StoredRecord[]), cls);
      assert.not.ok(pool.accountIds.includes(id), 'nothing kept');
    }
    // Bounds from limits: size of one record, number of records.
    await rejectsTyped(pool.loadAccountRecords(id, [acct], { limits: { maxStateBytes: acct.bytes.length - 1 } }), OtrDecodeError);
    await rejectsTyped(pool.loadAccountRecords(id, [acct, conv], { limits: { maxRecordsPerAccount: 1 } }), OtrDecodeError);
    // A garbage conversation record beside good ones: the account loads; that conversation is refused on use
    // (typed), the others work, and the worker lives.
    await pool.unload(A);
    const evil: StoredRecord = { key: 'conv:mallory@example.org', generation: 3, bytes: new Uint8Array(300).fill(0x41) };
    await pool.loadAccountRecords(A, [...good, evil]);
    await rejectsTyped(pool.conversation(A, 'mallory@example.org').send('hi'), OtrDecodeError);
    await bothWays(a, b, 'beside the hostile record');
    assert.ok(byKey(pool.lastRecords(A)!).has(evil.key), 'kept as stored: never replaced by a fresh conversation');
    assert.equal(pool.stats().workers.map((w) => w.restarts), [0, 0]);
    // Whole-account bytes of that account still carry the bad record as attached (never decoded) and restore.
    const bytes = await pool.checkpoint(A);
    assert.ok(Account.restore(bytes, { backend: WASM }).peers.includes('mallory@example.org'));
  } finally {
    await pool.close();
  }
});

test('changes handed out outside outcomes are kept too: setPolicy (every record written again) and a checkpoint', async () => {
  const seen: RecordChange[][] = [];
  const { pool, a } = await setup({ onRecords: (_id, changes) => void seen.push([...changes]) });
  try {
    const before = byKey(pool.lastRecords(A)!);
    seen.length = 0;
    await a.setPolicy({ requireEncryption: true });
    const after = byKey(pool.lastRecords(A)!);
    const key = `conv:${B}`;
    assert.is(after.get(key)!.generation, before.get(key)!.generation + 1);
    assert.not.equal(after.get(key)!.bytes, before.get(key)!.bytes, 'the per-peer policy is in the record');
    assert.ok(seen.some((cs) => cs.some((c) => c.key === key)), 'onRecords saw it');
    // After a crash the policy is still there: a reload from the records keeps it.
    const restored = Account.restore(await pool.checkpoint(A), { backend: WASM });
    assert.is(restored.peers.includes(B), true);
  } finally {
    await pool.close();
  }
});

test.run();
