/**
 * Attack (session 10, hostile review of the per-account bound on pending DAKEs, limits.maxAccountPendingDakes):
 * what a flood of strangers' Identities may evict, and what a record deleted because its conversation holds
 * nothing becomes when that conversation is used again.
 *
 * Found: the index counted "the unbound Identity" of a conversation as the peer's once the peer had sent a
 * query, whoever sent the Identity that stands there now. A query from a peer (a user's client, or a hostile
 * server spoofing the peer's JID), then OUR user starting OTR with that peer, made our own DAKE a "stranger's
 * pending DAKE": the next flood wiped it and the peer's Auth-R found nothing to answer. Fixed: the conversation
 * knows whether its unbound Identity answered a query (runtime only), and only such an Identity is the peer's.
 *
 * Held (pins): a conversation whose record was deleted (it held nothing) writes its next record at generation
 * 1 — in memory, after a failed delete that is retried, and through openStoredAccount across a restart; a
 * stranger's conversation the host gave a policy of its own keeps its record and policy through a flood.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import { WASM as be } from '../helpers/backends.js';
import { AppliedRecords } from '../helpers/applied-records.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { ALICE_ID, makePair, testClock, type Pair } from '../helpers/session-pair.js';
import { attackerIdentity, makeAttacker } from './attacker.js';

const BOUND = 8;
const LIMITS = { maxAccountPendingDakes: BOUND };
const STEP_MS = 250;

function strangerIdentity(p: Pair, store: AppliedRecords, k: number, peer = `mallory-${k}@evil.example`): Outcome {
  p.clock.advance(STEP_MS);
  const x = makeAttacker(be, { tag: 0x5300_0000 + k, seed: 9700 + k, nowMs: p.clock() });
  const out = p.alice.conversation(peer).receive(attackerIdentity(be, x, peer, ALICE_ID));
  store.commit(out);
  assert.is(out.toSend.length, 1, `Alice answered ${peer}`);
  return out;
}

test("our own DAKE, started after the peer's query was answered, is not the peer's: a flood of strangers does not evict it", () => {
  const p = makePair(be, 1800, { limits: LIMITS });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  // Bob's client (or a server speaking as Bob) sends a query; Alice's client answers it with an Identity.
  const answer = p.a.receive('?OTRv4?');
  store.commit(answer);
  assert.is(answer.toSend.length, 1);
  // Alice's user then starts OTR with Bob herself: her own DAKE replaces the answer.
  const own = p.a.startDake();
  store.commit(own);
  for (let k = 0; k < 3 * BOUND; k++) strangerIdentity(p, store, k);
  assert.is(p.a.state, 'WAITING_AUTH_R', "Alice's own DAKE is still there after the flood");
  // Bob's client answers Alice's Identity: the DAKE completes.
  const authR = own.toSend.flatMap((m) => p.b.receive(m).toSend);
  const authI = authR.flatMap((m) => {
    const out = p.a.receive(m);
    store.commit(out);
    return out.toSend;
  });
  for (const m of authI) p.b.receive(m);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
});

test("the peer's query answered is still the peer's: a flood evicts that Identity (a stranger's) and its record", () => {
  const p = makePair(be, 1805, { limits: LIMITS });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  const q = p.alice.conversation('querier@evil.example');
  store.commit(q.receive('?OTRv4?'));
  assert.ok(store.rows.has('conv:querier@evil.example'));
  for (let k = 0; k < 3 * BOUND; k++) strangerIdentity(p, store, 50 + k);
  assert.is(q.state, 'START');
  assert.not.ok(store.rows.has('conv:querier@evil.example'));
});

test('a record deleted because its conversation held nothing: the next record of that conversation is written at generation 1', () => {
  const p = makePair(be, 1810, { limits: LIMITS });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  const peer = 'again@evil.example';
  strangerIdentity(p, store, 100, peer);
  // Evicted by the flood: the record goes.
  for (let k = 0; k < 2 * BOUND; k++) strangerIdentity(p, store, 101 + k);
  assert.not.ok(store.rows.has('conv:' + peer));
  // The same JID again: a new record, inserted (Records.commit asserts generation 1 over nothing).
  strangerIdentity(p, store, 200, peer);
  assert.is(store.rows.get('conv:' + peer)?.generation, 1);
  // It expires: deleted again, and used again after that.
  p.clock.advance(p.alice.limits.pendingDakeExpiryMs);
  store.commit(p.alice.conversation(peer).poll());
  assert.not.ok(store.rows.has('conv:' + peer));
  strangerIdentity(p, store, 201, peer);
  assert.is(store.rows.get('conv:' + peer)?.generation, 1);
});

test('a delete the store did not take, then the conversation used before the retry: its record is written over the stored one', () => {
  const p = makePair(be, 1815, { limits: LIMITS });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  const peer = 'retry@evil.example';
  strangerIdentity(p, store, 300, peer);
  const held = store.rows.get('conv:' + peer)!.generation;
  p.clock.advance(p.alice.limits.pendingDakeExpiryMs);
  const failed = p.alice.conversation(peer).poll().changed!;
  assert.equal(failed.map((c) => c.bytes), [null]);
  p.alice.commitFailed(failed, (key) => store.rows.get(key)?.generation ?? 0);
  // Used again before anything else was committed: a write at the generation after the store's, not a delete.
  const out = strangerIdentity(p, store, 301, peer);
  assert.equal(out.changed!.filter((c) => c.key === 'conv:' + peer).map((c) => [c.generation, c.bytes === null]), [[held + 1, false]]);
});

test('through openStoredAccount: a deleted conversation record is inserted again at generation 1, and restores after a restart', async () => {
  const store = new MemoryStore();
  const clock = testClock();
  const options = { account: { backend: be, clock, dsaKey: null, limits: LIMITS } };
  const stored = await openStoredAccount(store, ALICE_ID, { ...options, create: true });
  const peer = 'stored@evil.example';
  const identity = (k: number) => attackerIdentity(be, makeAttacker(be, { tag: 0x5400_0000 + k, seed: 9900 + k, nowMs: clock() }), peer, ALICE_ID);
  await stored.commit((await stored.conversation(peer)).receive(identity(0)));
  assert.is((await store.load(ALICE_ID, 'conv:' + peer))?.generation, 1);
  clock.advance(24 * 3600 * 1000);
  await stored.commit((await stored.conversation(peer)).poll());
  assert.is(await store.load(ALICE_ID, 'conv:' + peer), undefined);
  clock.advance(STEP_MS);
  const out = (await stored.conversation(peer)).receive(identity(1));
  assert.is(out.toSend.length, 1);
  await stored.commit(out);
  assert.is((await store.load(ALICE_ID, 'conv:' + peer))?.generation, 1);
  await stored.close();
  const again = await openStoredAccount(store, ALICE_ID, options);
  assert.is((await again.conversation(peer)).state, 'WAITING_AUTH_I');
  await again.close();
});

test("a stranger's conversation the host gave a policy of its own keeps its record and policy through a flood", () => {
  const p = makePair(be, 1820, { limits: LIMITS });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  const peer = 'policy@evil.example';
  strangerIdentity(p, store, 400, peer);
  const c = p.alice.conversation(peer);
  c.setPolicy({ requireEncryption: true });
  store.commit(p.alice.changes());
  for (let k = 0; k < 3 * BOUND; k++) strangerIdentity(p, store, 401 + k);
  assert.ok(store.rows.has('conv:' + peer), 'its record stays');
  assert.is(p.alice.conversation(peer).policy.requireEncryption, true);
});

test('serialize()/restore() and records() after a record was deleted: the restored account writes that conversation at generation 1', () => {
  const p = makePair(be, 1830, { limits: LIMITS });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  const peer = 'gone@evil.example';
  strangerIdentity(p, store, 500, peer);
  p.clock.advance(p.alice.limits.pendingDakeExpiryMs);
  store.commit(p.alice.conversation(peer).poll());
  assert.not.ok(store.rows.has('conv:' + peer));
  // records(): the conversation, still in memory, is listed at generation 0 (no record in the store), as a fresh one.
  const listed = p.alice.records().find((r) => r.key === 'conv:' + peer);
  assert.ok(listed === undefined || listed.generation === 0, `listed at ${listed?.generation}`);
  const restored = Account.restore(p.alice.serialize(), { backend: be, clock: p.clock, limits: LIMITS });
  for (const r of restored.records()) if (r.key !== 'conv:' + peer) store.rows.set(r.key, { generation: r.generation, bytes: r.bytes });
  const x = makeAttacker(be, { tag: 0x5300_0fff, seed: 9699, nowMs: p.clock() });
  const out = restored.conversation(peer).receive(attackerIdentity(be, x, peer, ALICE_ID));
  assert.is(out.toSend.length, 1);
  store.commit(out);
  assert.is(store.rows.get('conv:' + peer)?.generation, 1);
});

test.run();
