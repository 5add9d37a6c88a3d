/**
 * Attack (session 11, bounded persisted state): a hostile server fills an account's conversation records.
 * Session 10 bounded the records that hold only a pending DAKE (maxAccountPendingDakes); every other
 * conversation kept its record, bounded only by the store's maxRecordsPerAccount (100,000): plaintext from a
 * stranger (it stops our whitespace advertising, which is persisted), a DAKE completed from a JID the server
 * controls (one new identity per JID). Past that bound the store refuses every commit that adds a record
 * (LIMIT_EXCEEDED) — and a refused record goes again with the account's next outcome (account.commitFailed),
 * so the next commit of an existing contact's message was refused too: the whole account locked.
 *
 * Found (before the fix, with maxRecordsPerAccount 12): the 11th stranger's plaintext commit was refused, and
 * after it Carol's (an existing contact) next message could not be committed either. Now
 * limits.maxAccountConversations bounds the conversation records the account knows of, well below the store's
 * bound; a new record past it evicts the least valuable conversations (strangers with no session first, then
 * sessions nobody here asked for, least recently written first), each a `conversation-evicted` event with its
 * record deleted in the outcome's `changed`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Conversation, type Outcome } from '../../ts/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { openStoredAccount, type StoredAccount } from '../../ts/session/account-store.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { exchangeStored, startStored } from '../helpers/stored-exchange.js';
import { rejects, rejectsAsync } from '../helpers/rejects.js';
import { flakyStore } from '../helpers/flaky-store.js';
import { ALICE_ID, testClock, type TestClock } from '../helpers/session-pair.js';

const STORE_BOUND = 12;
const CONV_BOUND = 8;
/** The account's DAKE budget refills 4 tokens a second: one DAKE per 250 ms is its full rate. */
const STEP_MS = 250;

interface World {
  store: MemoryStore;
  clock: TestClock;
  alice: StoredAccount;
}

async function world(convBound: number | undefined = CONV_BOUND): Promise<World> {
  const store = new MemoryStore({ limits: { maxRecordsPerAccount: STORE_BOUND } });
  const clock = testClock();
  const limits = convBound === undefined ? {} : { maxAccountConversations: convBound };
  const alice = await openStoredAccount(store, ALICE_ID, { account: { backend: be, clock, dsaKey: null, limits, random: seededRandom(1100) }, create: true });
  return { store, clock, alice };
}

function peerAccount(w: World, id: string, seed: number): Conversation {
  return Account.create({ accountId: id, backend: be, clock: w.clock, dsaKey: null, random: seededRandom(seed) }).conversation(ALICE_ID);
}

/** Delivers `first` (the peer's messages) to Alice and the replies back until both sides are quiet; every Alice outcome committed. */
function exchange(w: World, peer: string, remote: Conversation, first: readonly string[]): Promise<Outcome[]> {
  return exchangeStored(w.alice, peer, remote, first);
}

/** Alice starts OTR with `peer` (her user asked) and the DAKE completes. */
async function aliceStarts(w: World, peer: string, remote: Conversation): Promise<void> {
  await startStored(w.alice, peer, remote);
  assert.is((await w.alice.conversation(peer)).state, 'ENCRYPTED_MESSAGES', `Alice's session with ${peer}`);
}

/** Alice's user sends `text` to `peer`; the remote reads it. */
async function aliceSends(w: World, peer: string, remote: Conversation, text: string): Promise<void> {
  const out = (await w.alice.conversation(peer)).send(text);
  await w.alice.commit(out);
  assert.equal(out.toSend.flatMap((m) => remote.receive(m).messages.map((x) => x.text)), [text]);
}

/** The remote sends `text`; what Alice shows. */
async function remoteSends(w: World, peer: string, remote: Conversation, text: string): Promise<string[]> {
  return (await exchange(w, peer, remote, remote.send(text).toSend)).flatMap((o) => o.messages.map((m) => m.text));
}

const convRows = async (w: World, prefix = '') => (await w.store.keys(ALICE_ID)).filter((k) => k.startsWith('conv:' + prefix));

test('plaintext from many strangers: the account stays usable for its contacts and new ones (records bounded below the store)', async () => {
  const w = await world();
  const carol = peerAccount(w, 'carol@example.org', 1101);
  await aliceStarts(w, 'carol@example.org', carol);
  await aliceSends(w, 'carol@example.org', carol, 'hello Carol');
  const evicted: string[] = [];
  for (let k = 0; k < 3 * STORE_BOUND; k++) {
    const peer = `spam-${k}@evil.example`;
    const out = (await w.alice.conversation(peer)).receive(`buy now ${k}`);
    assert.ok(out.changed!.some((c) => c.key === 'conv:' + peer && c.bytes !== null), 'plaintext from a stranger is persisted (advertising stops)');
    await w.alice.commit(out); // refused LIMIT_EXCEEDED at the store's bound before the fix
    for (const e of out.events) if (e.type === 'conversation-evicted') evicted.push(e.peer);
    assert.ok((await convRows(w)).length <= CONV_BOUND, `after ${k + 1} strangers: ${(await convRows(w)).length} conversation records`);
  }
  assert.ok(evicted.length >= 3 * STORE_BOUND - CONV_BOUND, `${evicted.length} evictions reported`);
  assert.not.ok(evicted.includes('carol@example.org'), 'a contact is never evicted while strangers can be');
  // Carol goes on, both ways.
  assert.equal(await remoteSends(w, 'carol@example.org', carol, 'still there?'), ['still there?']);
  await aliceSends(w, 'carol@example.org', carol, 'yes');
  // A new contact starts a DAKE during the flood and is recorded.
  const dave = peerAccount(w, 'dave@example.org', 1102);
  await exchange(w, 'dave@example.org', dave, dave.start().toSend);
  assert.equal(await remoteSends(w, 'dave@example.org', dave, 'hi, I am Dave'), ['hi, I am Dave']);
  assert.ok((await convRows(w, 'dave@')).length === 1);
  await w.alice.close();
});

test("DAKEs completed from many JIDs: sessions nobody asked for go first; an evicted honest peer's next message heals", async () => {
  const w = await world();
  const carol = peerAccount(w, 'carol@example.org', 1111);
  await aliceStarts(w, 'carol@example.org', carol);
  await aliceSends(w, 'carol@example.org', carol, 'hello Carol');
  // Erin completed a DAKE with Alice (Erin started it) and went quiet: a session, but Alice's user never wrote.
  const erin = peerAccount(w, 'erin@example.org', 1112);
  await exchange(w, 'erin@example.org', erin, erin.start().toSend);
  assert.equal(await remoteSends(w, 'erin@example.org', erin, 'hi Alice'), ['hi Alice']);
  const evicted: string[] = [];
  for (let k = 0; k < 2 * CONV_BOUND; k++) {
    w.clock.advance(STEP_MS);
    const peer = `sybil-${k}@evil.example`;
    const sybil = peerAccount(w, peer, 1200 + k);
    for (const out of await exchange(w, peer, sybil, sybil.start().toSend))
      for (const e of out.events) if (e.type === 'conversation-evicted') evicted.push(e.peer);
    assert.is((await w.alice.conversation(peer)).state, 'ENCRYPTED_MESSAGES', `${peer}'s DAKE completed`);
    assert.ok((await convRows(w)).length <= CONV_BOUND, `after ${k + 1} sybils: ${(await convRows(w)).length} conversation records`);
  }
  assert.ok(evicted.includes('erin@example.org'), 'the oldest session nobody here asked for was evicted');
  assert.not.ok(evicted.includes('carol@example.org'), 'the contact Alice wrote to stays');
  assert.equal(await remoteSends(w, 'carol@example.org', carol, 'after the flood'), ['after the flood']);
  // Erin writes again: Alice no longer has the session; her error starts Erin's repair, and the text arrives.
  w.clock.advance(60_000);
  const shown = await remoteSends(w, 'erin@example.org', erin, 'are you there?');
  // The repair re-sends what Erin wrote and Alice never confirmed (she never wrote back): both messages.
  assert.equal(shown, ['hi Alice', 'are you there?'], 'the repair DAKE re-sent the messages');
  assert.is((await w.alice.conversation('erin@example.org')).state, 'ENCRYPTED_MESSAGES');
  await w.alice.close();
});

test('without the bound (as before): the store refuses the account once it is full, and a contact is locked out too', async () => {
  const w = await world(1_000_000);
  const carol = peerAccount(w, 'carol@example.org', 1121);
  await aliceStarts(w, 'carol@example.org', carol);
  let refused = false;
  for (let k = 0; k < STORE_BOUND && !refused; k++) {
    const out = (await w.alice.conversation(`spam-${k}@evil.example`)).receive('buy now');
    try {
      await w.alice.commit(out);
    } catch (e) {
      assert.is((e as { code?: string }).code, 'LIMIT_EXCEEDED');
      refused = true;
    }
  }
  assert.ok(refused, "the store's own bound is reached");
  // The refused record goes again with the next outcome: Carol's message cannot be committed either.
  const out = (await w.alice.conversation('carol@example.org')).receive(carol.send('locked?').toSend[0]!);
  await rejectsAsync(w.alice.commit(out), 'LIMIT_EXCEEDED');
  await w.alice.close();
});


/** Alice's account opened again on the same store (a restart of the bridge). */
async function restart(w: World, convBound = CONV_BOUND): Promise<void> {
  await w.alice.close();
  w.alice = await openStoredAccount(w.store, ALICE_ID, { account: { backend: be, clock: w.clock, dsaKey: null, limits: { maxAccountConversations: convBound }, random: seededRandom(1300) } });
}

test('restarts in the middle of a plaintext flood: records written before a restart are counted (the store lists them at open) and go first', async () => {
  const w = await world(6);
  const carol = peerAccount(w, 'carol@example.org', 1131);
  await aliceStarts(w, 'carol@example.org', carol);
  for (let round = 0; round < 4; round++) {
    await restart(w, 6);
    for (let k = 0; k < 5; k++) {
      const out = (await w.alice.conversation(`spam-${round}-${k}@evil.example`)).receive('buy now');
      await w.alice.commit(out);
      const rows = await convRows(w);
      assert.ok(rows.length <= 6, `round ${round}, stranger ${k}: ${rows.length} conversation records`);
    }
  }
  // Carol's record was never loaded by the later processes: known from the listing, kept (a session's, by the
  // trust store) while strangers' records could go.
  assert.is((await convRows(w, 'carol@')).length, 1);
  assert.equal(await remoteSends(w, 'carol@example.org', carol, 'after the restarts'), ['after the restarts']);
  await w.alice.close();
});

test('restarts, then DAKEs completed from many JIDs: a contact the user wrote to before the restart outlasts the flood\'s sessions (its mark is in the trust store)', async () => {
  const w = await world(6);
  const carol = peerAccount(w, 'carol@example.org', 1141);
  await aliceStarts(w, 'carol@example.org', carol);
  await aliceSends(w, 'carol@example.org', carol, 'hello Carol');
  await restart(w, 6);
  // Carol's record is listed, not loaded: what ranks it is the trust store alone (a contact: the user wrote to her).
  const evicted: string[] = [];
  for (let k = 0; k < 12; k++) {
    w.clock.advance(STEP_MS);
    const peer = `sybil-${k}@evil.example`;
    const sybil = peerAccount(w, peer, 1400 + k);
    for (const out of await exchange(w, peer, sybil, sybil.start().toSend))
      for (const e of out.events) if (e.type === 'conversation-evicted') evicted.push(e.peer);
    assert.ok((await convRows(w)).length <= 6, `after ${k + 1} sybils: ${(await convRows(w)).length} conversation records`);
  }
  assert.ok(evicted.some((p) => p.startsWith('sybil-')), "the flood's own sessions were evicted");
  assert.not.ok(evicted.includes('carol@example.org'), 'the contact stays across the restart');
  assert.equal(await remoteSends(w, 'carol@example.org', carol, 'after the flood'), ['after the flood']);
  await w.alice.close();
});

test("restarts in the middle of an Identity flood: strangers' pending DAKEs from before a restart are evicted with their records", async () => {
  const w = await world(6);
  for (let round = 0; round < 4; round++) {
    await restart(w, 6);
    for (let k = 0; k < 5; k++) {
      w.clock.advance(STEP_MS);
      const peer = `mallory-${round}-${k}@evil.example`;
      const sybil = peerAccount(w, peer, 1400 + 10 * round + k);
      const out = (await w.alice.conversation(peer)).receive(sybil.startDake().toSend[0]!);
      assert.is(out.toSend.length, 1, `Alice answered ${peer}`);
      await w.alice.commit(out);
      assert.ok((await convRows(w)).length <= 6, `round ${round}, stranger ${k}: ${(await convRows(w)).length} conversation records`);
    }
  }
  // A new contact is answered and recorded.
  const dave = peerAccount(w, 'dave@example.org', 1139);
  await exchange(w, 'dave@example.org', dave, dave.start().toSend);
  assert.equal(await remoteSends(w, 'dave@example.org', dave, 'hi'), ['hi']);
  await w.alice.close();
});

test('a conversation object the host kept after its eviction refuses every call; the account gives a fresh one', () => {
  const alice = Account.create({ accountId: ALICE_ID, backend: be, dsaKey: null, limits: { maxAccountConversations: 2 }, random: seededRandom(1600) });
  const first = alice.conversation('spam-0@evil.example');
  first.receive('buy now');
  const evicted: string[] = [];
  for (let k = 1; k < 4; k++) for (const e of alice.conversation(`spam-${k}@evil.example`).receive('buy now').events) if (e.type === 'conversation-evicted') evicted.push(e.peer);
  assert.ok(evicted.includes('spam-0@evil.example'));
  rejects(() => first.receive('again'), 'STATE');
  rejects(() => first.send('hello'), 'STATE');
  const fresh = alice.conversation('spam-0@evil.example');
  assert.ok(fresh !== first);
  const out = fresh.receive('again');
  assert.equal(out.changed!.map((c) => [c.key, c.generation]).filter(([k]) => k === 'conv:spam-0@evil.example'), [['conv:spam-0@evil.example', 1]], 'written afresh at generation 1');
});

test("an eviction's commit the store did not take (busy): the deletes go again with the next outcome, and the records stay bounded", async () => {
  const { inner, store, failNext } = flakyStore();
  const alice = await openStoredAccount(store, ALICE_ID, { account: { backend: be, clock: testClock(), dsaKey: null, limits: { maxAccountConversations: 3 }, random: seededRandom(1700) }, create: true });
  for (let k = 0; k < 3; k++) await alice.commit((await alice.conversation(`spam-${k}@evil.example`)).receive('buy'));
  const evicting = (await alice.conversation('spam-3@evil.example')).receive('buy');
  const deletes = evicting.changed!.filter((c) => c.bytes === null).map((c) => c.key);
  assert.equal(deletes, ['conv:spam-0@evil.example']);
  failNext();
  await rejectsAsync(alice.commit(evicting), 'STATE');
  const next = (await alice.conversation('spam-4@evil.example')).receive('buy');
  assert.ok(next.changed!.some((c) => c.key === 'conv:spam-0@evil.example' && c.bytes === null), 'the delete goes again');
  await alice.commit(next);
  const rows = (await inner.keys(ALICE_ID)).filter((key) => key.startsWith('conv:'));
  assert.ok(rows.length <= 3, rows.join(', '));
  assert.not.ok(rows.includes('conv:spam-0@evil.example'));
  await alice.close();
});

test.run();
