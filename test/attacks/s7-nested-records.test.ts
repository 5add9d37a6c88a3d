/**
 * Session 7 review: record changes lost by a call nested inside another call of the same conversation.
 * Every public call of a conversation is wrapped by the record book (session/records.ts `instrument`), which
 * hands out what changed in the outcome's `changed`. `send()` under requireEncryption (the text is queued, and
 * queued texts are part of the record) and `receive()` of an OTR error message under errorStartAke both build
 * their query message by calling the conversation's own public `start()`, i.e. through the wrapper: the
 * wrapper's flush handed the changes made so far (the queued text; the account record of a new account) out in
 * start()'s outcome, which the outer call throws away. The host never saw them: the queued text was never
 * stored, and the next change of that record came one generation ahead of the store (CONFLICT on every later
 * commit: the conversation could no longer be saved).
 *
 * (The receive path changes nothing before its query today, so its test passes either way: it pins the path.)
 * The property pinned here: committing every outcome's `changed` to a store (compare-and-set) never conflicts,
 * and what the store then holds restores the queued texts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { buildErrorMessage } from '../../ts/codec/error-message.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { pump, testClock } from '../helpers/session-pair.js';

const ALICE = 'alice@example.org';
const BOB = 'bob@example.org';

function persisting() {
  const store = new MemoryStore();
  let commits = Promise.resolve();
  const errors: unknown[] = [];
  return {
    store,
    /** Commits the outcome's changes in order, as a host does; remembers any failure. */
    keep(out: Outcome): Outcome {
      const changes = out.changed ?? [];
      commits = commits.then(() => (changes.length ? store.commit(ALICE, changes) : undefined)).catch((e: unknown) => void errors.push(e));
      return out;
    },
    async settled(): Promise<unknown[]> {
      await commits;
      return errors;
    },
  };
}

async function restoredAlice(store: MemoryStore, clock: ReturnType<typeof testClock>): Promise<Account> {
  const account = await store.load(ALICE, 'account');
  assert.ok(account, 'the account record was stored');
  const alice = Account.fromRecord(account!, { backend: WASM, random: seededRandom(77), clock });
  for (const key of await store.keys(ALICE)) {
    if (key === 'account') continue;
    alice.attachRecord((await store.load(ALICE, key))!);
  }
  return alice;
}

test('attack: send() queued under requireEncryption: its changes reach the host, every later commit lands, the queue is restored', async () => {
  const clock = testClock();
  const p = persisting();
  const alice = Account.create({ accountId: ALICE, random: seededRandom(1), clock, backend: WASM, dsaKey: null, policy: { requireEncryption: true } });
  const a = alice.conversation(BOB);
  const first = p.keep(a.send('queued one'));
  assert.ok(first.events.some((e) => e.type === 'not-sent'), 'queued');
  assert.ok(first.toSend.length === 1, 'a query went out');
  assert.ok(
    (first.changed ?? []).some((c) => c.key === `conv:${BOB}`),
    `the queued text changed the conversation record: handed out (got ${JSON.stringify((first.changed ?? []).map((c) => c.key))})`,
  );
  p.keep(a.send('queued two'));
  p.keep(a.poll());
  assert.equal(await p.settled(), [], 'every commit landed');

  // Alice restarts from what the store holds: both texts are still queued, and go out once encrypted.
  const again = await restoredAlice(p.store, clock);
  const bob = Account.create({ accountId: BOB, random: seededRandom(2), clock, backend: WASM, dsaKey: null });
  const b = bob.conversation(ALICE);
  const a2 = again.conversation(BOB);
  const log = { a: [] as Outcome[], b: [] as Outcome[] };
  pump(a2, b, a2.start(), log);
  assert.is(a2.state, 'ENCRYPTED_MESSAGES');
  assert.equal(log.b.flatMap((o) => o.messages.map((m) => m.text)), ['queued one', 'queued two']);
});

test('safe: receive() of an OTR error under errorStartAke (a query sent from inside): every commit lands, the queue is restored', async () => {
  const clock = testClock();
  const p = persisting();
  const alice = Account.create({ accountId: ALICE, random: seededRandom(3), clock, backend: WASM, dsaKey: null, policy: { requireEncryption: true } });
  const a = alice.conversation(BOB);
  // Queued while a DAKE is under way would not go through start(): queue first (its own query), then the error.
  p.keep(a.send('queued'));
  const out = p.keep(a.receive(buildErrorMessage(1)));
  assert.ok(out.toSend.length >= 1, 'the error started the AKE again (a query)');
  p.keep(a.send('queued later'));
  assert.equal(await p.settled(), [], 'every commit landed');
  const again = await restoredAlice(p.store, clock);
  const bob = Account.create({ accountId: BOB, random: seededRandom(4), clock, backend: WASM, dsaKey: null });
  const log = { a: [] as Outcome[], b: [] as Outcome[] };
  const a2 = again.conversation(BOB);
  pump(a2, bob.conversation(ALICE), a2.start(), log);
  assert.equal(log.b.flatMap((o) => o.messages.map((m) => m.text)), ['queued', 'queued later']);
});

test.run();
