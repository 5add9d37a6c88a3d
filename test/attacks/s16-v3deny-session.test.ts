/**
 * Attack (session 16), through the one conversation API: an Account speaking OTRv3 to a v3-only peer. The peer's
 * disconnect, and a rollback of the store (abandonSessions: no disconnect may be sent), wiped the MAC keys of the
 * peer's last messages unpublished. Now the conversation's OTRv3 state keeps them (its record too) and the next
 * OTRv3 data message to the peer publishes them; a conversation holding them is not a stranger's pending AKE.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import { V3Conversation } from '../../ts/v3/index.js';
import type { DataMsg } from '../../ts/v3/messages.js';
import { v3Data, v3RevealedIn } from '../helpers/v3-reveal.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { testDsaKey, BOB_TAG } from '../interop/v3-pair.js';

const be = WASM;
const now = () => 1_700_000_000_000;
const data = v3Data;
const revealedIn = (sent: readonly string[], m: DataMsg) => v3RevealedIn(be, sent, m);

function setup(seed: number) {
  const alice = Account.create({ accountId: 'alice', backend: be, random: seededRandom(seed), clock: now, dsaKey: testDsaKey(0xa11ce) });
  const bob = new V3Conversation({ backend: be, dsaKey: testDsaKey(0xb0b), instanceTag: BOB_TAG, random: seededRandom(seed + 1), now });
  return { alice, conv: alice.conversation('bob'), bob };
}
type Conv = ReturnType<Account['conversation']>;

/** Delivers `first` to the v3 peer and back until quiet. */
function pump(conv: Conv, bob: V3Conversation, first: Outcome | string[]): void {
  let toBob = Array.isArray(first) ? first : first.toSend;
  for (let guard = 0; toBob.length && guard < 20; guard++) {
    const toAlice = toBob.flatMap((m) => bob.receive(m).toSend);
    toBob = toAlice.flatMap((m) => conv.receive(m).toSend);
  }
}

/** An OTRv3 session, Bob's messages read by Alice; returns them. */
function sessionWithMessages(conv: Conv, bob: V3Conversation): string[] {
  pump(conv, bob, conv.start());
  assert.is(conv.version, 3);
  const sent = [bob.send('one').toSend[0]!, bob.send('two').toSend[0]!];
  for (const m of sent) conv.receive(m);
  return sent;
}

test("the v3 peer's disconnect: the conversation keeps the keys across a restart, and its next OTRv3 message publishes them", () => {
  const { alice, conv, bob } = setup(1621);
  const sent = sessionWithMessages(conv, bob);
  const bye = bob.end().toSend[0]!;
  assert.ok(conv.receive(bye).events.some((e) => e.type === 'finished'));
  // A restart between the end and the next session: the keys are in the record.
  const restored = Account.restore(alice.serialize(), { backend: be, random: seededRandom(3), clock: now });
  const c2 = restored.conversation('bob');
  c2.end();
  pump(c2, bob, c2.start());
  assert.is(c2.version, 3);
  const hello = c2.send('hello again').toSend;
  for (const m of [...sent, bye]) assert.ok(revealedIn(hello, data(m)), 'published');
  assert.equal(bob.receive(hello[0]!).toUser, ['hello again']);
});

test('a rollback of the store drops the OTRv3 session without a word: the next OTRv3 session publishes its keys', () => {
  const { conv, bob } = setup(1622);
  const sent = sessionWithMessages(conv, bob);
  const out = conv.abandonSessions();
  assert.equal(out.toSend, [], 'nothing is encrypted under a key that may have been used');
  assert.ok(out.events.some((e) => e.type === 'finished'));
  assert.not.ok(conv.holdsNothing(), 'the record stays: it holds the keys');
  pump(conv, bob, conv.start());
  assert.is(conv.version, 3);
  const hello = conv.send('after the rollback').toSend;
  for (const m of sent) assert.ok(revealedIn(hello, data(m)), 'published');
});

test('a conversation holding kept keys is not a stranger pending AKE: the account never drops it as one', () => {
  const { conv, bob } = setup(1623);
  sessionWithMessages(conv, bob);
  conv.receive(bob.end().toSend[0]!);
  conv.end(); // FINISHED → START: no OTRv3 instance is encrypted or finished any more
  // Bob starts an AKE again (his D-H Commit): only an AKE runs, but the conversation held a session before.
  for (const m of bob.startAke().toSend) conv.receive(m);
  assert.is(conv.peerDakes(false), 0);
  assert.not.ok(conv.holdsOnlyPeerDakes(false));
});

test.run();
