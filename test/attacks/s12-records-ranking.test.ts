/**
 * Attack (session 12; left open by session 11): the records bound (limits.maxAccountConversations) after a
 * restart, as a hostile server (any number of JIDs) sees it.
 *
 * 1. The host's marks were runtime only. A conversation the user started (start, startDake, sendOffline, an
 *    SMP: Conversation.hostEngaged) but never wrote in ranks as the host's (2) only until a restart; then, its
 *    record decoded again, it ranked like a session a flood's JID completed (1), and being the idlest it went
 *    first: the user's own conversation evicted while the flood's sessions stayed.
 * 2. The required part of an eviction came only from loaded records. After a restart the store's records are
 *    listed, not loaded; the helper loads those a new record would evict only when the account is at its bound
 *    as a conversation without a record is handed out. Two conversations handed out below the bound (the user
 *    opens two chats), both then writing their first record, pass it with nothing of the strangers loaded: the
 *    required eviction took the user's contact, with the strangers' records still in the store.
 *
 * Now the conversation record carries the host's mark (field `host`, written only when true and the
 * conversation holds anything else: records of other conversations are byte for byte as before, and records
 * without it restore as before), and the helper loads, at each hand-out, what the records that may yet be
 * written (every live conversation without a record, and this one) would evict — decoding the attached records
 * among them first, so that a record worth more than its guess makes room for the next.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Conversation, type Outcome } from '../../ts/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { openStoredAccount, type StoredAccount } from '../../ts/session/account-store.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { exchangeStored, startStored } from '../helpers/stored-exchange.js';
import { decodeState, encodeState, type StateValue } from '../../ts/session/state-codec.js';
import { OtrDecodeError } from '../../ts/errors.js';
import { ALICE_ID, testClock, type TestClock } from '../helpers/session-pair.js';

interface World {
  store: MemoryStore;
  clock: TestClock;
  alice: StoredAccount;
  bound: number;
}

async function open(w: Omit<World, 'alice'>, seed: number, create = false): Promise<StoredAccount> {
  return openStoredAccount(w.store, ALICE_ID, {
    account: { backend: be, clock: w.clock, dsaKey: null, limits: { maxAccountConversations: w.bound }, random: seededRandom(seed) },
    create,
  });
}

async function world(bound: number, seed: number): Promise<World> {
  const w = { store: new MemoryStore(), clock: testClock(), bound };
  return { ...w, alice: await open(w, seed, true) };
}

async function restart(w: World, seed: number): Promise<void> {
  await w.alice.close();
  w.alice = await open(w, seed);
}

function remote(w: World, id: string, seed: number): Conversation {
  return Account.create({ accountId: id, backend: be, clock: w.clock, dsaKey: null, random: seededRandom(seed) }).conversation(ALICE_ID);
}

function exchange(w: World, peer: string, other: Conversation, first: readonly string[]): Promise<Outcome[]> {
  return exchangeStored(w.alice, peer, other, first);
}

/** Alice's user starts OTR with `peer` and the DAKE completes; she writes nothing (no contact mark in the trust store). */
async function aliceStarts(w: World, peer: string, other: Conversation): Promise<void> {
  await startStored(w.alice, peer, other);
  assert.is((await w.alice.conversation(peer)).state, 'ENCRYPTED_MESSAGES');
}

/** A JID of the server completes a DAKE with Alice (her user asked for nothing). */
async function sybil(w: World, peer: string, seed: number): Promise<void> {
  w.clock.advance(250); // the account's DAKE budget
  const other = remote(w, peer, seed);
  await exchange(w, peer, other, other.startDake().toSend);
  assert.is((await w.alice.conversation(peer)).state, 'ENCRYPTED_MESSAGES');
}

/** `text` from `peer` (a stranger's plaintext: a record), committed; the peers it evicted. */
async function fromServer(w: World, peer: string, text: string): Promise<string[]> {
  const out = (await w.alice.conversation(peer)).receive(text);
  await w.alice.commit(out);
  return out.events.flatMap((e) => (e.type === 'conversation-evicted' ? [e.peer] : []));
}

const rows = async (w: World, prefix: string) => (await w.store.keys(ALICE_ID)).filter((k) => k.startsWith('conv:' + prefix)).length;

test('a conversation the user started outranks the sessions a flood completed, across a restart', async () => {
  const w = await world(4, 6100);
  const dave = remote(w, 'dave@example.org', 6101);
  await aliceStarts(w, 'dave@example.org', dave); // the idlest of the records
  for (let k = 0; k < 3; k++) await sybil(w, `sybil-${k}@evil.example`, 6110 + k);
  await restart(w, 6102);
  // A stranger's plaintext passes the bound: a session nobody asked for goes, not Dave's.
  const evicted = await fromServer(w, 'spam@evil.example', 'buy now');
  assert.is(evicted.length, 1);
  assert.not.ok(evicted.includes('dave@example.org'), `evicted: ${evicted.join(', ')}`);
  assert.is(await rows(w, 'dave@'), 1);
  // Dave's session is still there.
  const out = (await w.alice.conversation('dave@example.org')).send('still here');
  await w.alice.commit(out);
  assert.equal(out.toSend.flatMap((m) => dave.receive(m).messages.map((x) => x.text)), ['still here']);
  await w.alice.close();
});

test('the mark is persisted where the ranking reads it: decoded again, the conversation is the host\'s', async () => {
  const w = await world(100, 6200);
  await aliceStarts(w, 'dave@example.org', remote(w, 'dave@example.org', 6201));
  await restart(w, 6202);
  const conv = await w.alice.conversation('dave@example.org');
  assert.is(conv.recordValue(), 2);
  await w.alice.close();
});

test('records without the mark (written before session 12) restore as before; the mark is the only field added', async () => {
  const w = await world(100, 6250);
  const dave = remote(w, 'dave@example.org', 6251);
  await aliceStarts(w, 'dave@example.org', dave);
  const key = 'conv:dave@example.org';
  const stored = (await w.store.load(ALICE_ID, key))!;
  const value = decodeState('conversation', stored.bytes) as { peer: string; state: Record<string, StateValue> };
  assert.is(value.state.host, true);
  // The record as session 11 wrote it: the same fields, without `host`.
  const { host: _host, ...before } = value.state;
  const old = encodeState('conversation', { peer: value.peer, state: before });
  await w.alice.close();
  await w.store.commit(ALICE_ID, [{ key, generation: stored.generation + 1, bytes: old }]);
  await restart(w, 6252);
  const account = w.alice.account;
  const conv = await w.alice.conversation('dave@example.org');
  assert.is(conv.state, 'ENCRYPTED_MESSAGES', 'the session restores');
  assert.is(conv.recordValue(), 1, 'unmarked: as session 11 ranked it after a restart');
  // A conversation the host never engaged writes no `host` field at all (its records are as before).
  await w.alice.commit((await w.alice.conversation('spam@evil.example')).receive('buy now'));
  const strangerValue = decodeState('conversation', account.records().find((r) => r.key === 'conv:spam@evil.example')!.bytes) as { state: Record<string, StateValue> };
  assert.not.ok('host' in strangerValue.state);
  // The engaged conversation's next record carries the mark again.
  const out = conv.send('hello again');
  assert.equal(out.toSend.flatMap((m) => dave.receive(m).messages.map((x) => x.text)), ['hello again']);
  const rec = out.changed!.find((c) => c.key === key)!;
  assert.is((decodeState('conversation', rec.bytes!) as { state: Record<string, StateValue> }).state.host, true);
  await w.alice.close();
  // A hostile disk: the new field of another type is refused like any malformed field (typed, on use).
  for (const bad of ['yes', 1, new Uint8Array(1)] as StateValue[]) {
    const fresh = Account.create({ accountId: ALICE_ID, backend: be, clock: w.clock, dsaKey: null, random: seededRandom(6253) });
    fresh.attachRecord({ key, bytes: encodeState('conversation', { peer: value.peer, state: { ...before, host: bad } }), generation: 1 });
    try {
      fresh.conversation('dave@example.org');
      assert.unreachable(`host: ${String(bad)} accepted`);
    } catch (e) {
      assert.instance(e, OtrDecodeError);
    }
  }
});

for (const atOnce of [false, true])
  test(`two chats opened below the bound after a restart${atOnce ? ' (asked for at once)' : ''}: their first records evict strangers' listed records, not the contact`, async () => {
  const bound = 8;
  const w = await world(bound, 6300);
  const carol = remote(w, 'carol@example.org', 6301);
  await aliceStarts(w, 'carol@example.org', carol);
  const hi = (await w.alice.conversation('carol@example.org')).send('hi Carol'); // a contact (the trust store's mark)
  await w.alice.commit(hi);
  hi.toSend.forEach((m) => carol.receive(m));
  for (let k = 0; k < bound - 2; k++) await fromServer(w, `spam-${k}@evil.example`, 'buy now');
  assert.is(await rows(w, ''), bound - 1);
  await restart(w, 6302);
  const again = (await w.alice.conversation('carol@example.org')).send('back again');
  await w.alice.commit(again);
  again.toSend.forEach((m) => carol.receive(m));
  // The user opens two chats (both handed out below the bound, no record yet), then both DAKEs complete.
  const dave = remote(w, 'dave@example.org', 6303);
  const erin = remote(w, 'erin@example.org', 6304);
  const [d, e] = atOnce
    ? await Promise.all([w.alice.conversation('dave@example.org'), w.alice.conversation('erin@example.org')])
    : [await w.alice.conversation('dave@example.org'), await w.alice.conversation('erin@example.org')];
  const toDave = d.start();
  const toErin = e.start();
  await w.alice.commit(toDave);
  await w.alice.commit(toErin);
  const outs = [
    ...(await exchange(w, 'dave@example.org', dave, toDave.toSend.flatMap((m) => dave.receive(m).toSend))),
    ...(await exchange(w, 'erin@example.org', erin, toErin.toSend.flatMap((m) => erin.receive(m).toSend))),
  ];
  const evicted = outs.flatMap((o) => o.events.flatMap((e) => (e.type === 'conversation-evicted' ? [e.peer] : [])));
  assert.ok(evicted.length > 0, 'the bound was passed');
  assert.ok(
    evicted.every((p) => p.startsWith('spam-')),
    `evicted ${evicted.join(', ')} with ${await rows(w, 'spam-')} strangers' records in the store`,
  );
  assert.ok((await rows(w, '')) <= bound);
  const still = (await w.alice.conversation('carol@example.org')).send('still here');
  await w.alice.commit(still);
  assert.equal(still.toSend.flatMap((m) => carol.receive(m).messages.map((x) => x.text)), ['still here']);
  await w.alice.close();
});

test('pin: conversations that write nothing, after a restart, are ranked for once per batch, not once each', async () => {
  const bound = 128; // batch: 2
  const w = await world(bound, 6400);
  for (let k = 0; k < bound - 1; k++) await fromServer(w, `spam-${k}@evil.example`, 'buy now');
  await restart(w, 6401);
  // How often the account ranks its records for the helper (recordsToLoad): each ranking is O(records).
  let rankings = 0;
  const account = w.alice.account as unknown as { recordCandidates: (...a: unknown[]) => unknown };
  const rank = account.recordCandidates.bind(account);
  account.recordCandidates = (...a: unknown[]) => (rankings++, rank(...a));
  const jids = 60;
  for (let k = 0; k < jids; k++) {
    const out = (await w.alice.conversation(`m-${k}@evil.example`)).receive('?OTR:AAQD.'); // malformed: ignored, nothing written
    assert.equal(out.changed, []);
  }
  // Each of them one more record that may be written: the excess grows by one per JID, and a ranking loads a
  // batch beyond it. Once per JID, a flood would cost a ranking of every record per message.
  assert.ok(rankings <= Math.ceil(jids / 3) * 2 + 2, `${rankings} rankings for ${jids} JIDs`);
  assert.ok(rankings > 0);
  await w.alice.close();
});

test.run();
