/**
 * Session 7 review: a store that fails one commit for a passing reason (disk full, SQLite busy past its
 * timeout, a dropped database connection) under openStoredAccount. The failed commit's records were already
 * handed out (the account's generations had moved on), so every later commit of the same records came one
 * generation ahead of the store and was refused CONFLICT — for good: the conversation could no longer be
 * saved, so (the host transmitting only what is durable) it was dead until the process reopened the account.
 *
 * Wanted: the failed commit rejects with the store's typed error (the host does not transmit that outcome),
 * and the next outcome carries those records again, whole, at the generation after the store's: it commits,
 * the session goes on, and what the store then holds restores and reads the peer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { handshakeDurably } from '../helpers/stored-pair.js';
import { Account, type Outcome } from '../../ts/index.js';
import { OtrError } from '../../ts/errors.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { WASM } from '../helpers/backends.js';
import { flakyStore } from '../helpers/flaky-store.js';
import { seededRandom } from '../helpers/rng.js';
import { testClock } from '../helpers/session-pair.js';

const ALICE = 'alice@example.org';
const BOB = 'bob@example.org';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof OtrError ? e.code : String(e);
  }
}

for (const sealed of [false, true]) {
  test(`attack: one commit fails for a passing reason (${sealed ? 'sealed' : 'plain'}): the next ones land, the session goes on, the store restores`, async () => {
    const clock = testClock();
    const flaky = flakyStore();
    const options = {
      create: true,
      ...(sealed ? { sealKey: new Uint8Array(32).fill(7) } : {}),
      account: { backend: WASM, random: seededRandom(11), clock, dsaKey: null },
    };
    const stored = await openStoredAccount(flaky.store, ALICE, options);
    const bob = Account.create({ accountId: BOB, backend: WASM, random: seededRandom(12), clock, dsaKey: null });
    const a = await stored.conversation(BOB);
    const b = bob.conversation(ALICE);
    /** Alice's side as the contract says: commit, and transmit only what is durable. */
    const durable = async (out: Outcome): Promise<string[]> => {
      await stored.commit(out);
      return out.toSend;
    };
    await handshakeDurably(stored, a, b);
    assert.is(a.state, 'ENCRYPTED_MESSAGES');

    const read: string[] = [];
    const deliver = (toSend: string[]) => {
      for (const t of toSend) read.push(...b.receive(t).messages.map((m) => m.text));
    };
    deliver(await durable(a.send('before')));
    flaky.failNext();
    const failed = a.send('never durable');
    assert.is(await code(stored.commit(failed)), 'STATE', 'the store\'s own error');
    for (let i = 0; i < 3; i++) {
      const out = a.send(`after ${i}`);
      assert.is(await code(stored.commit(out)), 'ok', `commit after the failure ${i}`);
      deliver(out.toSend);
    }
    // A receive and an account-level change commit too.
    assert.is(await code(stored.commit(a.receive(b.send('reply 1').toSend[0]!))), 'ok');
    assert.equal(read, ['before', 'after 0', 'after 1', 'after 2']);

    // A restart from what the store holds: the session goes on both ways.
    const again = await openStoredAccount(flaky.store, ALICE, { ...options, create: false });
    const a2 = await again.conversation(BOB);
    assert.is(a2.state, 'ENCRYPTED_MESSAGES');
    const got = a2.receive(b.send('reply 2').toSend[0]!);
    assert.equal(got.messages.map((m) => m.text), ['reply 2']);
    assert.is(await code(again.commit(got)), 'ok', 'the restored account commits');
    const out = a2.send('from the restored');
    assert.is(await code(again.commit(out)), 'ok');
    deliver(out.toSend);
    assert.equal(read.at(-1), 'from the restored');
  });
}

test('attack: the account record\'s commit fails once (a new account\'s first conversation): the next outcome carries it again', async () => {
  const clock = testClock();
  const flaky = flakyStore();
  const options = { create: true, account: { backend: WASM, random: seededRandom(21), clock, dsaKey: null } };
  const stored = await openStoredAccount(flaky.store, ALICE, options);
  const bob = Account.create({ accountId: BOB, backend: WASM, random: seededRandom(22), clock, dsaKey: null });
  const a = await stored.conversation(BOB);
  const b = bob.conversation(ALICE);
  // The DAKE's last step changes the account record (the peer's fingerprint): that commit fails.
  const identity = b.receive(a.start().toSend[0]!).toSend[0]!;
  const authR = a.receive(identity);
  await stored.commit(authR);
  const authI = b.receive(authR.toSend[0]!).toSend;
  assert.is(b.state, 'ENCRYPTED_MESSAGES');
  const done = a.receive(authI[0]!);
  assert.ok((done.changed ?? []).some((c) => c.key === 'account'), 'the account record changed');
  flaky.failNext();
  assert.is(await code(stored.commit(done)), 'STATE');
  const out = a.send('hello');
  assert.is(await code(stored.commit(out)), 'ok', 'the next commit lands');
  assert.equal(b.receive(out.toSend[0]!).messages.map((m) => m.text), ['hello']);
  const again = await openStoredAccount(flaky.store, ALICE, { ...options, create: false });
  const a2 = await again.conversation(BOB);
  assert.equal(a2.receive(b.send('back').toSend[0]!).messages.map((m) => m.text), ['back']);
});

test.run();
