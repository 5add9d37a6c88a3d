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
import { Account } from '../../ts/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, testClock, type TestClock } from '../helpers/session-pair.js';
import { countingStore, decodedConversations, sybilSessions } from '../helpers/record-flood.js';

const SYBILS = 24;
/** Room for two peers with one key each: the trust store forgets the older sybils. */
const TRUST_BYTES = 900;
const BOUND = SYBILS + 1;
const limits = { maxAccountConversations: BOUND, maxTrustStoreBytes: TRUST_BYTES };
/** record-bound's batch at this bound (a 64th of it, here 0). */
const BATCH = Math.floor(BOUND / 64);

/** A store holding Alice's account at its bound: the user's own record and SYBILS sessions started by sybils. */
async function floodedStore(clock: TestClock): Promise<MemoryStore> {
  const alice = Account.create({ accountId: ALICE_ID, backend: be, clock, dsaKey: null, limits, random: seededRandom(1301) });
  alice.conversation('pat@example.org').setPolicy({ requireEncryption: true });
  sybilSessions(alice, clock, SYBILS, 1400);
  assert.ok(alice.fingerprints.peers.filter((p) => p.startsWith('sybil-')).length <= 2, 'the trust store forgot the older sybils');
  const store = new MemoryStore();
  // The account's records as a store holds them (written once each: generation 1).
  await store.commit(ALICE_ID, alice.records().map((r) => ({ key: r.key, generation: 1, bytes: r.bytes })));
  assert.is((await store.keys(ALICE_ID)).length, SYBILS + 2);
  return store;
}

test('after a restart, handing out one stranger at the bound reads and decodes no more than its call may evict', async () => {
  const clock = testClock();
  const { store, reads } = countingStore(await floodedStore(clock));
  const alice = await openStoredAccount(store, ALICE_ID, { account: { backend: be, clock, limits, random: seededRandom(1302) } });
  const account = (alice as unknown as { account: Account }).account;
  const conv = await alice.conversation('stranger@evil.example');
  // Its first record passes the bound by one: the call evicts that and a batch, and decodes as many.
  const may = 1 + BATCH;
  // Before: every sybil the trust store forgot was read and decoded (22 of 24 for an excess of 1).
  assert.ok(reads() <= 2 * may + 1, `${reads()} records read before one stranger's conversation was handed out`);
  assert.ok(decodedConversations(account) - 1 <= 2 * may + 1, `${decodedConversations(account) - 1} records decoded before one stranger's conversation was handed out`);
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
  const { store, reads } = countingStore(await floodedStore(clock));
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
