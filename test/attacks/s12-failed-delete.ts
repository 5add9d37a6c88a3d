/**
 * Session 12 (left open by session 11): a delete of a conversation record that the store did not take (busy,
 * I/O: not a conflict) racing the peer's next message. The account had forgotten the conversation (forget(), an
 * eviction, or a conversation left holding nothing); the failed delete goes again with the next outcome
 * (account.commitFailed). Meanwhile the peer writes again and the helper reads its record:
 *
 * 1. the read came back with the old row and attached it: the forgotten conversation was back, keys and all
 *    (forget undone by the peer's next message), while the delete stayed pending in the account;
 * 2. when another conversation's outcome carried that pending delete to the store during the read, the old row
 *    was attached at its old generation over a store that no longer held it: the peer's next write was refused
 *    as a rollback the store never made (OtrStoreRollbackError, "went back from generation 2 to nothing", on
 *    every store), its sessions dropped;
 * 3. a conversation left holding nothing writes again while the delete of its record is in flight and then
 *    fails: its new record was based on "no record" while the store still held the old one — CONFLICT on
 *    every later write.
 *
 * Now a pending delete decides: the helper does not attach the row (the peer starts afresh, its first record
 * written over the old one at the store's next generation), and a failed delete of a conversation written since
 * puts that conversation back on the store's generation. The cases run against each store (s12-failed-delete.test.ts).
 */
import * as assert from 'uvu/assert';
import { Account, type Conversation } from '../../ts/index.js';
import { OtrStateError, OtrStoreConflictError } from '../../ts/errors.js';
import { openStoredAccount, type StoredAccount } from '../../ts/session/account-store.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import type { RecordStore } from '../../ts/store/types.js';
import { seededRandom } from '../helpers/rng.js';
import { flakyStore, type FlakyStore } from '../helpers/flaky-store.js';
import { startStored } from '../helpers/stored-exchange.js';
import { ALICE_ID, testClock, type TestClock } from '../helpers/session-pair.js';

interface World {
  inner: RecordStore;
  r: FlakyStore<RecordStore>;
  clock: TestClock;
  alice: StoredAccount;
  o: { backend: CryptoBackend; dsaKey: null };
}

const BOB = 'bob@example.org';
const CAROL = 'carol@example.org';
const KEY = 'conv:' + BOB;

async function world(open: () => Promise<RecordStore>, o: { backend: CryptoBackend; dsaKey: null }, seed: number): Promise<World> {
  const inner = await open();
  const r = flakyStore(inner);
  const clock = testClock();
  const alice = await openStoredAccount(r.store, ALICE_ID, { account: { ...o, clock, random: seededRandom(seed) }, create: true });
  return { inner, r, clock, alice, o };
}

function remote(w: World, id: string, seed: number): Conversation {
  return Account.create({ accountId: id, ...w.o, clock: w.clock, random: seededRandom(seed) }).conversation(ALICE_ID);
}

/** Bob: Alice started OTR with him, the DAKE completed (a record holding a session). */
async function withSession(w: World, seed: number): Promise<Conversation> {
  const bob = remote(w, BOB, seed);
  await startStored(w.alice, BOB, bob);
  assert.is((await w.alice.conversation(BOB)).state, 'ENCRYPTED_MESSAGES');
  return bob;
}

/** Alice's failed forget of Bob: the store still holds his record, the account has forgotten him. */
async function failedForget(w: World): Promise<number> {
  const stored = (await w.inner.load(ALICE_ID, KEY))!.generation;
  w.r.failNext();
  try {
    await w.alice.forget(BOB);
    assert.unreachable('the delete was taken');
  } catch (e) {
    assert.instance(e, OtrStateError);
  }
  assert.is((await w.inner.load(ALICE_ID, KEY))?.generation, stored, 'the store still holds the record');
  return stored;
}

/** Bob's conversation, fresh, goes on: Alice's answer to his query is written, and every store agrees. */
async function bobGoesOn(w: World, conv: Conversation): Promise<void> {
  const out = conv.receive('?OTRv4?');
  assert.ok(out.toSend.length > 0, 'answered');
  try {
    await w.alice.commit(out);
  } catch (e) {
    if (e instanceof OtrStoreConflictError) assert.unreachable(`Bob's conversation is stuck: ${e.message}`);
    throw e;
  }
  assert.is((await w.inner.load(ALICE_ID, KEY))?.generation, w.alice.account.recordGeneration(KEY), 'the account and the store agree');
  const again = (await w.alice.conversation(BOB)).receive('?OTRv4?'); // a second query: another Identity
  await w.alice.commit(again);
  assert.is((await w.inner.load(ALICE_ID, KEY))?.generation, w.alice.account.recordGeneration(KEY));
}

/** How long a case waits for a read that a fixed helper may never make. */
const settle = (read: Promise<void>) => Promise.race([read, new Promise<void>((r) => setTimeout(r, 50))]);

type Case = [string, (open: () => Promise<RecordStore>) => Promise<void>];

/** Each case closes the store it opened, failing or not (the stores are not shared between cases). */
function closing([name, run]: Case): Case {
  return [
    name,
    async (open) => {
      let opened: RecordStore | undefined;
      try {
        await run(async () => (opened = await open()));
      } finally {
        await opened?.close();
      }
    },
  ];
}

export function failedDeleteCases(o: { backend: CryptoBackend; dsaKey: null }): Case[] {
  return (<Case[]>[
    [
      "a failed forget is not undone by the peer's next message: he starts afresh, written over the old record",
      async (open) => {
        const w = await world(open, o, 5100);
        await withSession(w, 5101);
        const stored = await failedForget(w);
        const conv = await w.alice.conversation(BOB); // Bob writes again
        assert.is(conv.state, 'START', 'the forgotten session is not back');
        await bobGoesOn(w, conv);
        assert.ok(w.alice.account.recordGeneration(KEY) > stored, 'written over the old record');
        // A restart loads what was written since, not the forgotten session.
        await w.alice.close();
        const reopened = await openStoredAccount(w.r.store, ALICE_ID, { account: { ...w.o, clock: w.clock, random: seededRandom(5102) } });
        assert.is.not((await reopened.conversation(BOB)).state, 'ENCRYPTED_MESSAGES');
        await reopened.close();
      },
    ],
    [
      "the pending delete carried by another peer's outcome while Bob's record is read: Bob is not stuck (no CONFLICT)",
      async (open) => {
        const w = await world(open, o, 5200);
        await withSession(w, 5201);
        await w.alice.commit((await w.alice.conversation(CAROL)).receive('hi Alice')); // Carol: a record of hers
        await failedForget(w);
        const hold = w.r.holdRead(KEY);
        const bobAsked = w.alice.conversation(BOB); // Bob writes again: his record is read
        await settle(hold.read);
        // Carol writes meanwhile: her call's outcome carries the pending delete of Bob's record.
        const carolOut = (await w.alice.conversation(CAROL)).receive('are you there?');
        assert.ok(carolOut.changed?.some((c) => c.key === KEY && c.bytes === null), "the pending delete goes with Carol's outcome");
        await w.alice.commit(carolOut);
        assert.is(await w.inner.load(ALICE_ID, KEY), undefined, 'deleted');
        hold.release();
        const conv = await bobAsked;
        await bobGoesOn(w, conv);
        assert.is.not(conv.state, 'ENCRYPTED_MESSAGES', 'the forgotten session is not back');
        await w.alice.close();
      },
    ],
    [
      'a conversation left holding nothing writes again while the delete of its record fails: it goes on at the store generation',
      async (open) => {
        const w = await world(open, o, 5300);
        // Bob's Identity (Alice answers: a pending DAKE, a record), then his query (her Identity: written again).
        // Two days later both have expired.
        const bob = remote(w, BOB, 5301);
        for (const m of bob.startDake().toSend) await w.alice.commit((await w.alice.conversation(BOB)).receive(m));
        await w.alice.commit((await w.alice.conversation(BOB)).receive('?OTRv4?'));
        const stored = (await w.inner.load(ALICE_ID, KEY))!.generation;
        assert.ok(stored >= 2, `generation ${stored}`);
        w.clock.advance(2 * 86400_000);
        const conv = await w.alice.conversation(BOB);
        const emptied = conv.poll(); // the DAKE expires: the conversation holds nothing, its record is deleted
        assert.ok(emptied.changed?.some((c) => c.key === KEY && c.bytes === null), 'the record is deleted');
        w.r.failNext();
        const deleting = w.alice.commit(emptied); // in flight...
        const next = conv.receive('?OTRv4?'); // ... while Bob writes again (a new record)
        const writing = w.alice.commit(next);
        await deleting.then(
          () => assert.unreachable('the delete was taken'),
          (e) => assert.instance(e, OtrStateError),
        );
        // The write handed out before the failure was based on "no record": the store may refuse that one.
        await writing.catch((e) => assert.instance(e, OtrStoreConflictError));
        assert.is((await w.inner.load(ALICE_ID, KEY))?.generation ?? 0, stored, 'the store still holds the old record');
        await bobGoesOn(w, conv);
        await w.alice.close();
      },
    ],
  ]).map(closing);
}
