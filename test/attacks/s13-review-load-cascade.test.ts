/**
 * Attack (session 13 review): after a restart, the helper that loads a store's listed records before a new
 * conversation is handed out (account-store.ts loadEvictable, account.ts recordsToLoad) read and decoded every
 * record a flood left whose peer the trust store had forgotten — the work session 12 capped inside a call
 * (attacks/s12-review-settle-flood) came back through the helper's loop.
 *
 * The loop asks recordsToLoad again until it names nothing. Listed records rank by the trust store's guess (a
 * lower bound that nothing decodes), attached ones are decoded ("settled") on the walk; a hostile server's
 * sessions whose peers the bounded trust store forgot are each guessed a stranger (0) and worth a session (1)
 * once decoded. So each round loaded the excess and a batch, the next round decoded them, found them worth
 * more than the listed guesses below them, and loaded the next ones — until every such record was read and
 * decoded, all left live in memory, for the first stranger's hand-out after a restart (at the default bound,
 * up to 20,000 reads and decodes and 64 rankings of 20,000 records; here 24 for an excess of 1).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Conversation } from '../../ts/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import type { RecordStore } from '../../ts/store/types.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, testClock, type TestClock } from '../helpers/session-pair.js';

const SYBILS = 24;
/** Room for two peers with one key each: the trust store forgets the older sybils. */
const TRUST_BYTES = 900;
const BOUND = SYBILS + 1;
const limits = { maxAccountConversations: BOUND, maxTrustStoreBytes: TRUST_BYTES };
/** record-bound's batch at this bound (a 64th of it, here 0). */
const BATCH = Math.floor(BOUND / 64);

/** Decoded conversations (not attached bytes): Account's own map. */
const decoded = (a: Account) => (a as unknown as { conversations: Map<string, Conversation> }).conversations.size;

function pump(alice: Conversation, remote: Conversation, first: readonly string[]): void {
  let toAlice = [...first];
  for (let guard = 0; toAlice.length > 0; guard++) {
    if (guard > 20) throw new Error('exchange did not settle');
    const toRemote = toAlice.flatMap((m) => alice.receive(m).toSend);
    toAlice = toRemote.flatMap((m) => remote.receive(m).toSend);
  }
}

/** `store` counting the conversation records read from it. */
function counting(store: MemoryStore): { store: RecordStore; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(store, {
    get(target, name) {
      const v = Reflect.get(target, name, target) as unknown;
      if (name === 'load')
        return (account: string, key: string) => {
          if (key.startsWith('conv:')) reads++;
          return (v as (a: string, k: string) => unknown).call(target, account, key);
        };
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as RecordStore;
  return { store: proxy, reads: () => reads };
}

/** A store holding Alice's account at its bound: the user's own record and SYBILS sessions started by sybils. */
async function floodedStore(clock: TestClock): Promise<MemoryStore> {
  const alice = Account.create({ accountId: ALICE_ID, backend: be, clock, dsaKey: null, limits, random: seededRandom(1301) });
  alice.conversation('pat@example.org').setPolicy({ requireEncryption: true });
  for (let k = 0; k < SYBILS; k++) {
    clock.advance(250);
    const peer = `sybil-${k}@evil.example`;
    const sybil = Account.create({ accountId: peer, backend: be, clock, dsaKey: null, random: seededRandom(1400 + k) }).conversation(ALICE_ID);
    pump(alice.conversation(peer), sybil, sybil.start().toSend);
    assert.is(alice.conversation(peer).state, 'ENCRYPTED_MESSAGES');
  }
  assert.ok(alice.fingerprints.peers.filter((p) => p.startsWith('sybil-')).length <= 2, 'the trust store forgot the older sybils');
  const store = new MemoryStore();
  // The account's records as a store holds them (written once each: generation 1).
  await store.commit(ALICE_ID, alice.records().map((r) => ({ key: r.key, generation: 1, bytes: r.bytes })));
  assert.is((await store.keys(ALICE_ID)).length, SYBILS + 2);
  return store;
}

test('after a restart, handing out one stranger at the bound reads and decodes no more than its call may evict', async () => {
  const clock = testClock();
  const { store, reads } = counting(await floodedStore(clock));
  const alice = await openStoredAccount(store, ALICE_ID, { account: { backend: be, clock, limits, random: seededRandom(1302) } });
  const account = (alice as unknown as { account: Account }).account;
  const conv = await alice.conversation('stranger@evil.example');
  // Its first record passes the bound by one: the call evicts that and a batch, and decodes as many.
  const may = 1 + BATCH;
  // Before: every sybil the trust store forgot was read and decoded (22 of 24 for an excess of 1).
  assert.ok(reads() <= 2 * may + 1, `${reads()} records read before one stranger's conversation was handed out`);
  assert.ok(decoded(account) - 1 <= 2 * may + 1, `${decoded(account) - 1} records decoded before one stranger's conversation was handed out`);
  const out = conv.receive('hello?');
  const evicted = out.events.filter((e) => e.type === 'conversation-evicted').map((e) => (e as { peer: string }).peer);
  assert.is(evicted.length, 1, 'the one record past the bound was evicted');
  assert.not.ok(evicted.includes('pat@example.org'), "the user's own record stays");
  await alice.commit(out);
  assert.is((await store.keys(ALICE_ID)).length - 1, BOUND, 'the store holds the bound');
  await alice.close();
});

test('a flood of strangers after the restart: the user record stays, the store stays at its bound, reads stay per call', async () => {
  const clock = testClock();
  const { store, reads } = counting(await floodedStore(clock));
  const alice = await openStoredAccount(store, ALICE_ID, { account: { backend: be, clock, limits, random: seededRandom(1303) } });
  for (let k = 0; k < SYBILS + 4; k++) {
    const before = reads();
    const conv = await alice.conversation(`stranger-${k}@evil.example`);
    assert.ok(reads() - before <= 2 * (1 + BATCH) + 1, `stranger ${k}: ${reads() - before} records read`);
    const out = conv.receive('hello?');
    const evicted = out.events.filter((e) => e.type === 'conversation-evicted').map((e) => (e as { peer: string }).peer);
    assert.not.ok(evicted.includes('pat@example.org'), `stranger ${k}: the user's own record stays`);
    await alice.commit(out);
    assert.ok((await store.keys(ALICE_ID)).length - 1 <= BOUND, `stranger ${k}: the store holds at most the bound`);
  }
  await alice.close();
});

test.run();
