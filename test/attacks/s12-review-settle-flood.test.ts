/**
 * Attack (session 12 review): one plaintext message made an account decode every conversation record it held.
 *
 * The records bound (limits.maxAccountConversations, record-bound.ts) ranks a record attached but not decoded
 * (the pool's reload and move attach every record of the account) by a guess from the trust store, and
 * decodes ("settles") it when its turn comes; one found worth more than guessed goes back into the ranking and
 * the next is settled. The guess is the trust store's, and the trust store is bounded (maxTrustStoreBytes:
 * ~5,000 peers with one key at the default): a hostile server that completed DAKEs from more JIDs than that
 * left sessions whose peers the trust store had forgotten — guessed strangers (0), each a session (1) once
 * decoded. After a restart, the first new record past the bound (a stranger's plaintext) settled every one of
 * them in that single call before evicting anything: at the default bound, 15,000 such records took 220–340 ms
 * of CPU in that one call (against 60–125 ms for the ordinary batch eviction; measured), for one
 * unauthenticated message, and every one of those conversations was left decoded in memory.
 *
 * Now a call decodes at most as many records as it may evict (its excess plus the batch); past that, the
 * records not yet decoded count as the host's for the rest of the call (never taken by the batch, taken by the
 * excess last), and later calls settle the next ones.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, testClock, type TestClock } from '../helpers/session-pair.js';
import { decodedConversations, sybilSessions } from '../helpers/record-flood.js';

const SYBILS = 24;
/** Room for two peers with one key each (sizeOf: ~400 bytes a peer): the rest of the sybils are forgotten. */
const TRUST_BYTES = 900;
const limits = { maxAccountConversations: SYBILS + 1, maxTrustStoreBytes: TRUST_BYTES };

/** The account rebuilt from its records as the pool's worker does: every conversation attached, none decoded. */
function reloaded(alice: Account, clock: TestClock, seed: number): Account {
  alice.changes();
  const records = alice.records();
  const account = Account.fromRecord(records.find((r) => r.key === 'account')!, { backend: be, clock, limits, random: seededRandom(seed) });
  for (const r of records) if (r.key !== 'account') account.attachRecord(r);
  return account;
}

/** Alice with a session with each of SYBILS JIDs (each started by the sybil), and a peer of her own with a policy. */
function floodedAccount(clock: TestClock): Account {
  const alice = Account.create({ accountId: ALICE_ID, backend: be, clock, dsaKey: null, limits, random: seededRandom(1201) });
  // The user's own record: a policy set for a peer no DAKE was ever completed with (guessed 0, worth 2).
  alice.conversation('pat@example.org').setPolicy({ requireEncryption: true });
  assert.ok(alice.changes({ all: true }).some((c) => c.key === 'conv:pat@example.org'), "the user's record is written");
  sybilSessions(alice, clock, SYBILS, 1300);
  return alice;
}

test('after a restart, one stranger at the bound decodes no more records than it evicts', () => {
  const clock = testClock();
  const alice = floodedAccount(clock);
  const known = alice.fingerprints.peers.filter((p) => p.startsWith('sybil-'));
  assert.ok(known.length <= 2, `the trust store forgot the older sybils (${known.length} kept)`);
  const restored = reloaded(alice, clock, 1202);
  assert.is(decodedConversations(restored), 0, 'every record attached, decoded on use');
  const out = restored.conversation('stranger@evil.example').receive('hello?');
  const evicted = out.events.filter((e) => e.type === 'conversation-evicted').map((e) => (e as { peer: string }).peer);
  assert.ok(evicted.length >= 1, 'the bound was passed and a record evicted');
  assert.not.ok(evicted.includes('pat@example.org'), "the user's own record stays");
  // Before: every sybil the trust store forgot was decoded in this one call (22 of 24).
  const work = decodedConversations(restored) - 1; // the stranger's own conversation is live
  assert.ok(work <= evicted.length + 1, `${work} records decoded by one plaintext message (${evicted.length} evicted)`);
});

test('a flood of strangers after it: each call decodes at most one record more than it evicts, the host record stays', () => {
  const clock = testClock();
  const restored = reloaded(floodedAccount(clock), clock, 1203);
  const evicted: string[] = [];
  for (let k = 0; k < SYBILS + 4; k++) {
    const before = decodedConversations(restored);
    const out = restored.conversation(`stranger-${k}@evil.example`).receive('hello?');
    const gone = out.events.filter((e) => e.type === 'conversation-evicted').map((e) => (e as { peer: string }).peer);
    evicted.push(...gone);
    // Each call decodes at most what it evicts, plus the one record it settles beyond (its own is new).
    assert.ok(decodedConversations(restored) - before <= gone.length + 1, `call ${k}: ${decodedConversations(restored) - before} decoded, ${gone.length} evicted`);
  }
  assert.not.ok(evicted.includes('pat@example.org'), "the user's own record stays through the whole flood");
  assert.is(evicted.length, SYBILS + 4, 'each stranger past the bound evicted one record: the account stays at its bound');
});

test.run();
