/**
 * Attack (session 10 review, "bounded state"): pending DAKEs across many conversations. A pending DAKE (we
 * answered an Identity with Auth-R and await Auth-I, or we sent an Identity after a peer's query) is ~2.9 KB
 * of its conversation's record. Per conversation they were bounded (maxInstancesPerConversation) and the
 * account's DAKE budget bounded their rate (4 a second), but they lived pendingDakeExpiryMs (24 h) and
 * expired only when their own conversation was touched: a hostile XMPP server sending Identity messages from
 * many JIDs made ~345,000 stranger conversations a day, each a persisted record, until the store's
 * maxRecordsPerAccount refused new records (the account could then take no new contact), ~1 GB of them.
 *
 * Found: 30 strangers' Identities left 30 conversation records (each with its pending DAKE) against a bound
 * of 8. Now limits.maxAccountPendingDakes bounds them per account (pending-dakes.ts): the strangers' oldest
 * are dropped first — in a live conversation directly, in an attached (undecoded) one by decoding it, in an
 * unloaded one by deleting the record it was unloaded with — and a conversation that holds nothing has no
 * record (its record is deleted in the outcome's `changed`). A contact's pending DAKE goes last, and an
 * honest DAKE started during the flood completes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LIMITS, type Outcome } from '../../ts/index.js';
import { WASM as be } from '../helpers/backends.js';
import { AppliedRecords } from '../helpers/applied-records.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { ALICE_ID, BOB_ID, establish, makePair, testClock, texts, type Pair } from '../helpers/session-pair.js';
import { attackerIdentity, makeAttacker, makeV34Pair, mallory } from './attacker.js';

const BOUND = 8;
const LIMITS = { maxAccountPendingDakes: BOUND };
/** The account's DAKE budget refills 4 tokens a second: a flood at its full rate, one Identity per 250 ms. */
const STEP_MS = 250;

/** A stranger (a fresh JID of the hostile server) sends Alice one valid Identity; Alice's outcome is committed. */
function strangerIdentity(p: Pair, store: AppliedRecords, k: number): Outcome {
  p.clock.advance(STEP_MS);
  const peer = `mallory-${k}@evil.example`;
  const x = makeAttacker(be, { tag: 0x5100_0000 + k, seed: 9000 + k, nowMs: p.clock() });
  const out = p.alice.conversation(peer).receive(attackerIdentity(be, x, peer, ALICE_ID));
  store.commit(out);
  assert.is(out.toSend.length, 1, `Alice answered ${peer} (the DAKE budget allowed it)`);
  return out;
}

test('a flood of Identities from many JIDs keeps at most maxAccountPendingDakes stranger records; an honest DAKE started during it completes', () => {
  const p = makePair(be, 1700, { limits: LIMITS });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  for (let k = 0; k < 12; k++) {
    strangerIdentity(p, store, k);
    assert.ok(store.count('mallory-') <= BOUND, `after ${k + 1} strangers the store holds ${store.count('mallory-')} of their records`);
  }
  // Bob, a new contact, starts his DAKE in the middle of the flood; fewer than BOUND strangers come before his Auth-I.
  const authR = p.b.startDake().toSend.flatMap((m) => {
    const out = p.a.receive(m);
    store.commit(out);
    return out.toSend;
  });
  assert.is(p.a.state, 'WAITING_AUTH_I');
  for (let k = 12; k < 12 + BOUND - 2; k++) strangerIdentity(p, store, k);
  const authI = authR.flatMap((m) => p.b.receive(m).toSend);
  for (const m of authI) store.commit(p.a.receive(m));
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES', "Bob's DAKE completed during the flood");
  // The flood goes on long after: Bob's conversation (a session now) is never touched, the strangers' stay bounded.
  for (let k = 12 + BOUND - 2; k < 40; k++) {
    strangerIdentity(p, store, k);
    assert.ok(store.count('mallory-') <= BOUND, `after ${k + 1} strangers the store holds ${store.count('mallory-')} of their records`);
  }
  assert.is(store.count(BOB_ID), 1, "Bob's record stays");
  assert.equal(texts([p.a.receive(p.b.send('still here').toSend[0]!)]), ['still here']);
  // In memory too: at most BOUND conversations await an Auth-I (Bob's session is not one of them).
  const waiting = p.alice.peers.filter((peer) => p.alice.conversation(peer).state === 'WAITING_AUTH_I');
  assert.ok(waiting.length <= BOUND, `${waiting.length} conversations await Auth-I`);
  // The newest strangers are the ones kept (oldest first out), and each still completes if it is honest after all.
  assert.ok(waiting.includes('mallory-39@evil.example'));
  assert.not.ok(waiting.includes('mallory-0@evil.example'));
});

test('a contact we share a session with keeps its pending DAKE through a flood of strangers (strangers are evicted first)', () => {
  const p = makePair(be, 1710, { limits: LIMITS });
  const store = new AppliedRecords();
  establish(p);
  // A contact is a peer the user wrote to (session 11): a session alone is what a hostile server's JIDs can
  // have too, and sparing those let a newcomer's young DAKE go first (attacks/s11-review-known-flood).
  assert.equal(texts([p.b.receive(p.a.send('hi bob').toSend[0]!)]), ['hi bob']);
  // The DAKE's outcomes were not committed one by one: the store starts from the account's records as they stand.
  for (const r of p.alice.records()) store.rows.set(r.key, { generation: r.generation, bytes: r.bytes });
  // Bob starts a new DAKE on top of the session (a restart of his client): Alice's instance awaits his Auth-I.
  const authR = p.b.startDake(p.alice.instanceTag).toSend.flatMap((m) => {
    const out = p.a.receive(m);
    store.commit(out);
    return out.toSend;
  });
  assert.ok(authR.length > 0);
  for (let k = 0; k < 3 * BOUND; k++) strangerIdentity(p, store, 100 + k);
  assert.ok(store.count('mallory-') <= BOUND);
  const authI = authR.flatMap((m) => p.b.receive(m).toSend);
  for (const m of authI) store.commit(p.a.receive(m));
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  assert.equal(texts([p.a.receive(p.b.send('after the flood').toSend[0]!)]), ['after the flood']);
});

test('an evicted stranger that was unloaded, or attached and not decoded, has its record deleted in the outcome that evicts it', () => {
  const p = makePair(be, 1720, { limits: LIMITS });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  for (let k = 0; k < 3; k++) strangerIdentity(p, store, 200 + k);
  const unloaded = 'mallory-200@evil.example';
  const attached = 'mallory-201@evil.example';
  // A bridge unloads idle conversations; one is asked for again and attached (decoded on first use only).
  p.alice.unload(unloaded);
  p.alice.unload(attached);
  const row = store.rows.get('conv:' + attached)!;
  p.alice.attachRecord({ key: 'conv:' + attached, bytes: row.bytes, generation: row.generation });
  assert.ok(store.rows.has('conv:' + unloaded) && store.rows.has('conv:' + attached));
  const deletes: string[] = [];
  for (let k = 3; k < 3 + BOUND; k++) {
    const out = strangerIdentity(p, store, 200 + k);
    for (const c of out.changed!) if (c.bytes === null) deletes.push(c.key);
  }
  assert.ok(deletes.includes('conv:' + unloaded), 'the unloaded stranger record was deleted');
  assert.ok(deletes.includes('conv:' + attached), 'the attached stranger record was deleted');
  assert.not.ok(store.rows.has('conv:' + unloaded));
  assert.not.ok(store.rows.has('conv:' + attached));
  assert.ok(store.count('mallory-') <= BOUND);
  // Nothing is left of them: a later message starts afresh.
  assert.not.ok(p.alice.hasConversation(attached) && p.alice.conversation(attached).state !== 'START');
});

test('query messages from many JIDs: the Identities we answer them with are budgeted and bounded like answered Identities', () => {
  const p = makePair(be, 1730, { limits: LIMITS });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  for (let k = 0; k < 3 * BOUND; k++) {
    p.clock.advance(STEP_MS);
    const out = p.alice.conversation(`querier-${k}@evil.example`).receive('?OTRv4?');
    assert.is(out.toSend.length, 1, 'the query is answered with an Identity');
    store.commit(out);
    assert.ok(store.count('querier-') <= BOUND, `after ${k + 1} queries the store holds ${store.count('querier-')} records`);
  }
  // Each new Identity costs a token of the account's DAKE budget, as answering an Identity does: a burst of
  // queries with no time between is answered only up to the burst.
  const answered = Array.from({ length: DEFAULT_LIMITS.dakeBudgetAccountBurst + 8 }, (_, k) => p.alice.conversation(`burst-${k}@evil.example`).receive('?OTRv4?'));
  assert.ok(answered.filter((o) => o.toSend.length === 1).length <= DEFAULT_LIMITS.dakeBudgetAccountBurst);
  assert.ok(answered.slice(-8).every((o) => o.toSend.length === 0 && o.events.some((e) => e.type === 'throttled' && e.scope === 'account')));
});

test('through a record store (StoredAccount): the store holds at most maxAccountPendingDakes stranger records after every commit', async () => {
  const store = new MemoryStore();
  const clock = testClock();
  const stored = await openStoredAccount(store, ALICE_ID, { account: { backend: be, clock, dsaKey: null, limits: LIMITS }, create: true });
  const strangerRows = async () => (await store.keys(ALICE_ID)).filter((k) => k.startsWith('conv:mallory-')).length;
  for (let k = 0; k < 3 * BOUND; k++) {
    clock.advance(STEP_MS);
    const peer = `mallory-${400 + k}@evil.example`;
    const x = makeAttacker(be, { tag: 0x5200_0000 + k, seed: 9400 + k, nowMs: clock() });
    const conv = await stored.conversation(peer);
    const out = conv.receive(attackerIdentity(be, x, peer, ALICE_ID));
    assert.is(out.toSend.length, 1);
    await stored.commit(out);
    // Idle conversations unloaded now and then, as a bridge does: their records are evicted unread.
    if (k % 3 === 0) stored.unload(peer);
    assert.ok((await strangerRows()) <= BOUND, `after ${k + 1} strangers the store holds ${await strangerRows()} of their records`);
  }
  await stored.close();
});

test('OTRv3 D-H Commits from many JIDs: the AKEs we answer are bounded too', () => {
  const p = makeV34Pair(be, 1750, { limits: LIMITS });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  for (let k = 0; k < 2 * BOUND; k++) {
    p.clock.advance(STEP_MS);
    const commit = mallory(be, p.clock, 500 + k).startAke().toSend;
    const out = p.alice.conversation(`v3-${k}@evil.example`).receive(commit[0]!);
    assert.is(out.toSend.length, 1, 'the D-H Commit is answered with a D-H Key');
    store.commit(out);
    assert.ok(store.count('v3-') <= BOUND, `after ${k + 1} D-H Commits the store holds ${store.count('v3-')} records`);
  }
});

test("a conversation whose only pending DAKE expired leaves no record behind", () => {
  const p = makePair(be, 1740, { limits: LIMITS });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  strangerIdentity(p, store, 300);
  const peer = 'mallory-300@evil.example';
  assert.ok(store.rows.has('conv:' + peer));
  p.clock.advance(p.alice.limits.pendingDakeExpiryMs);
  const out = p.alice.conversation(peer).poll();
  // The store did not take that commit (busy, I/O; not a conflict): the delete goes again with the next changes.
  const failed = out.changed!;
  assert.equal(failed.map((c) => [c.key, c.bytes]), [['conv:' + peer, null]]);
  p.alice.commitFailed(failed, (key) => store.rows.get(key)?.generation ?? 0);
  const again = p.alice.changes();
  assert.equal(again.map((c) => [c.key, c.generation, c.bytes]), [['conv:' + peer, failed[0]!.generation, null]]);
  store.commit(again);
  assert.ok(out.events.some((e) => e.type === 'dake-expired'));
  assert.not.ok(store.rows.has('conv:' + peer), 'its record is deleted');
  // A call that changes nothing afterwards writes nothing.
  assert.equal(p.alice.conversation(peer).poll().changed, []);
});

test('at the default limits, a flood at the DAKE budget\'s full rate evicts no pending DAKE younger than pendingDakeProtectMs', () => {
  const L = DEFAULT_LIMITS;
  // What the account admits within the protection window: its burst, then its rate.
  const admitted = L.dakeBudgetAccountBurst + (L.dakeBudgetAccountPerSecond * L.pendingDakeProtectMs) / 1000;
  assert.ok(L.maxAccountPendingDakes > admitted, `${L.maxAccountPendingDakes} pending DAKEs against ${admitted} admitted in ${L.pendingDakeProtectMs} ms`);
});

test.run();
