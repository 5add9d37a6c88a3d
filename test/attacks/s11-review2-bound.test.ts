/**
 * Attack (session 11, review of limits.maxAccountConversations): a hostile server against the record bound.
 *
 * 1. The batch beyond the excess. A call passing the bound evicts the excess plus a 64th of the bound (so the
 *    ranking runs once per batch in a flood), ranked among the records the account has loaded. After a restart
 *    the flood's records are only listed (not candidates: their generation is unknown), and the helper loads
 *    them only when a conversation without a record is asked for at the bound. A server that opens its
 *    conversations (anything that writes no record: here a malformed OTR message) while the account is just
 *    below the bound, then writes from each, passes the bound with no listed record loaded: the batch took
 *    the host's contact, with the bound's worth of strangers' records still in the store (found: Carol
 *    evicted, failing before the fix).
 * 2. The batch does take sessions nobody asked for after strangers (a pin: stopping at the strangers' value made a
 *    plaintext flood into an account a DAKE flood filled rank every record on every message).
 * 3. A generation race: an unloaded conversation (a bridge unloads idle ones) evicted while the helper reads its
 *    record for the peer's new message. The read came back after the delete was committed and attached the
 *    deleted record at its old generation: the account and the store disagreed, every later write of that
 *    conversation was refused (CONFLICT) and the evicted keys were in use again (found, failing before the fix).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Conversation } from '../../ts/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { openStoredAccount, type StoredAccount } from '../../ts/session/account-store.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { startStored } from '../helpers/stored-exchange.js';
import { ALICE_ID, testClock, type TestClock } from '../helpers/session-pair.js';

interface World {
  store: MemoryStore;
  clock: TestClock;
  alice: StoredAccount;
  bound: number;
}

async function open(w: Omit<World, 'alice'>, create = false): Promise<StoredAccount> {
  return openStoredAccount(w.store, ALICE_ID, {
    account: { backend: be, clock: w.clock, dsaKey: null, limits: { maxAccountConversations: w.bound }, random: seededRandom(2100) },
    create,
  });
}

async function world(bound: number): Promise<World> {
  const w = { store: new MemoryStore(), clock: testClock(), bound };
  return { ...w, alice: await open(w, true) };
}

async function restart(w: World): Promise<void> {
  await w.alice.close();
  w.alice = await open(w);
}

function peerAccount(w: World, id: string, seed: number): Conversation {
  return Account.create({ accountId: id, backend: be, clock: w.clock, dsaKey: null, random: seededRandom(seed) }).conversation(ALICE_ID);
}


/** Alice's contact: she started OTR with them, the DAKE completed, she wrote. */
async function contact(w: World, peer: string, seed: number): Promise<Conversation> {
  const remote = peerAccount(w, peer, seed);
  await startStored(w.alice, peer, remote);
  await aliceSends(w, peer, remote, 'hello');
  return remote;
}

async function aliceSends(w: World, peer: string, remote: Conversation, text: string): Promise<void> {
  const out = (await w.alice.conversation(peer)).send(text);
  await w.alice.commit(out);
  assert.equal(out.toSend.flatMap((m) => remote.receive(m).messages.map((x) => x.text)), [text]);
}

/** Alice's outcome of `text` from `peer`, committed; the peers it evicted. */
async function fromServer(w: World, peer: string, text: string): Promise<string[]> {
  const out = (await w.alice.conversation(peer)).receive(text);
  await w.alice.commit(out);
  return out.events.flatMap((e) => (e.type === 'conversation-evicted' ? [e.peer] : []));
}

const convRows = async (w: World, prefix = '') => (await w.store.keys(ALICE_ID)).filter((k) => k.startsWith('conv:' + prefix));

/** A message that changes nothing in a fresh conversation (a malformed OTR message: ignored). */
const NOTHING = '?OTR:AAQD.';

test('the batch beyond the excess never takes a contact while strangers remain (after a restart, listed records only)', async () => {
  const w = await world(128); // batch: floor(128 / 64) = 2
  const carol = await contact(w, 'carol@example.org', 2101);
  // The store holds Carol and 125 strangers' records: two below the bound (a flood's eviction leaves it a batch below).
  for (let k = 0; k < 125; k++) await fromServer(w, `spam-${k}@evil.example`, 'buy now');
  assert.is((await convRows(w)).length, 126);
  await restart(w);
  await aliceSends(w, 'carol@example.org', carol, 'back again'); // Carol loaded, and Alice wrote to her
  // The server opens three conversations (nothing written), then writes from each.
  const fresh = ['m-0@evil.example', 'm-1@evil.example', 'm-2@evil.example'];
  for (const peer of fresh) {
    const out = (await w.alice.conversation(peer)).receive(NOTHING);
    assert.equal(out.changed, [], `${peer}: nothing written`);
  }
  const evicted: string[] = [];
  for (const peer of fresh) evicted.push(...(await fromServer(w, peer, 'buy now')));
  assert.ok(evicted.length > 0, 'the bound was passed');
  assert.not.ok(evicted.includes('carol@example.org'), `a contact was evicted with ${(await convRows(w, 'spam-')).length} strangers' records in the store: ${evicted.join(', ')}`);
  assert.ok((await convRows(w)).length <= 128);
  await aliceSends(w, 'carol@example.org', carol, 'still here');
  await w.alice.close();
});

test('a plaintext flood into an account a DAKE flood filled: sessions nobody asked for go in batches (one ranking per batch, not per message)', () => {
  const clock = testClock();
  const bound = 128; // batch 2
  const alice = Account.create({ accountId: ALICE_ID, backend: be, clock, dsaKey: null, limits: { maxAccountConversations: bound }, random: seededRandom(2200) });
  // One short of the bound: the first stranger fills it, and from the second on each eviction finds one stranger
  // before the sessions — a batch that stopped at the strangers' value would rank every record on every message.
  for (let k = 0; k < bound - 1; k++) {
    clock.advance(250); // the account's DAKE budget: 4 a second
    const peer = `sybil-${k}@evil.example`;
    const sybil = Account.create({ accountId: peer, backend: be, clock, dsaKey: null, random: seededRandom(2300 + k) }).conversation(ALICE_ID);
    let toAlice = sybil.startDake().toSend;
    while (toAlice.length > 0) toAlice = toAlice.flatMap((m) => alice.conversation(peer).receive(m).toSend).flatMap((m) => sybil.receive(m).toSend);
    assert.is(alice.conversation(peer).state, 'ENCRYPTED_MESSAGES');
  }
  let evictingCalls = 0;
  let evicted = 0;
  const strangers = 30;
  for (let k = 0; k < strangers; k++) {
    const n = alice.conversation(`spam-${k}@evil.example`).receive('buy now').events.filter((e) => e.type === 'conversation-evicted').length;
    if (n > 0) evictingCalls++;
    evicted += n;
  }
  assert.ok(evicted >= strangers, `${evicted} evicted`);
  assert.ok(evictingCalls <= Math.ceil(strangers / 3) + 1, `${evictingCalls} of ${strangers} calls evicted (ranked the records)`);
});

test('an unloaded conversation evicted while its record is being read: the read does not bring back the deleted record', async () => {
  // The store's read of Xavier's record is held until the eviction's delete is committed (a bridge reads one
  // peer's record while another peer's message is handled: the store answers in any order).
  const inner = new MemoryStore();
  let release: () => void = () => {};
  let reading: () => void = () => {};
  let hold = false;
  const readStarted = new Promise<void>((r) => (reading = r));
  const store = new Proxy(inner, {
    get(target, name) {
      if (name === 'load')
        return (a: string, key: string) => {
          const read = target.load(a, key);
          if (!hold || key !== 'conv:xavier@example.org') return read;
          hold = false; // this read only
          reading();
          return new Promise((r) => (release = () => r(read)));
        };
      const v = Reflect.get(target, name, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as MemoryStore;
  const w: World = { store: inner, clock: testClock(), bound: 3, alice: undefined as unknown as StoredAccount };
  w.alice = await openStoredAccount(store, ALICE_ID, { account: { backend: be, clock: w.clock, dsaKey: null, limits: { maxAccountConversations: 3 }, random: seededRandom(2400) }, create: true });
  await fromServer(w, 'xavier@example.org', 'hi');
  w.alice.unload('xavier@example.org'); // idle: the bridge unloads it
  await fromServer(w, 'spam-0@evil.example', 'buy now');
  await fromServer(w, 'spam-1@evil.example', 'buy now');
  const next = await w.alice.conversation('spam-2@evil.example');
  hold = true;
  const xavier = w.alice.conversation('xavier@example.org'); // Xavier writes again: his record is read
  await readStarted;
  const out = next.receive('buy now');
  assert.ok(out.events.some((e) => e.type === 'conversation-evicted' && e.peer === 'xavier@example.org'), 'the idlest, Xavier, was evicted');
  await w.alice.commit(out);
  release();
  const conv = await xavier;
  const key = 'conv:xavier@example.org';
  // Before the fix: the deleted record attached at generation 1 while the store held none — every later write of
  // Xavier's conversation a generation with nothing under it (CONFLICT), the deleted keys in use again.
  assert.is(w.alice.account.recordGeneration(key), (await inner.load(ALICE_ID, key))?.generation ?? 0, "the account and the store agree on Xavier's record");
  await w.alice.commit(conv.receive('?OTRv4?')); // a query: Alice answers with her Identity, which is written
  assert.is((await inner.load(ALICE_ID, key))?.generation, w.alice.account.recordGeneration(key), 'written');
  await w.alice.close();
});

test("pin: nothing a peer sends makes its conversation the host's (query, DAKE, data, its own SMP, an unreadable message)", () => {
  const clock = testClock();
  const alice = Account.create({ accountId: ALICE_ID, backend: be, clock, dsaKey: null, limits: { maxAccountConversations: 2 }, random: seededRandom(2600) });
  const remote = (id: string, seed: number) => Account.create({ accountId: id, backend: be, clock, dsaKey: null, random: seededRandom(seed) }).conversation(ALICE_ID);
  const deliver = (peer: string, other: Conversation, first: readonly string[]) => {
    let toAlice = [...first];
    for (let guard = 0; toAlice.length > 0 && guard < 20; guard++) toAlice = toAlice.flatMap((m) => alice.conversation(peer).receive(m).toSend).flatMap((m) => other.receive(m).toSend);
  };
  // Carol: Alice's contact (she started OTR and wrote), written first: the idlest.
  const carol = remote('carol@example.org', 2601);
  deliver('carol@example.org', carol, alice.conversation('carol@example.org').start().toSend.flatMap((m) => carol.receive(m).toSend));
  alice.conversation('carol@example.org').send('hi Carol').toSend.forEach((m) => carol.receive(m));
  // Mallory does everything a peer can: query, DAKE, data, an SMP of hers, a message Alice cannot read.
  clock.advance(1000);
  const mallory = remote('mallory@evil.example', 2602);
  deliver('mallory@evil.example', mallory, ['?OTRv4?']);
  assert.is(alice.conversation('mallory@evil.example').state, 'ENCRYPTED_MESSAGES');
  deliver('mallory@evil.example', mallory, mallory.send('hello').toSend);
  deliver('mallory@evil.example', mallory, mallory.startSmp('secret', 'question?').toSend);
  deliver('mallory@evil.example', mallory, ['?OTR Error: ERROR_1: unreadable', '?OTR:AAQDgarbage.']);
  // A stranger's plaintext passes the bound: one must go, and it is Mallory's (a session), not Carol's (older).
  const evicted = alice.conversation('spam@evil.example').receive('buy now').events.flatMap((e) => (e.type === 'conversation-evicted' ? [e.peer] : []));
  assert.equal(evicted, ['mallory@evil.example']);
});

test.run();
