/**
 * Attack (session 16, [s16-review3]): shedding's last resort ends a conversation's sessions (the record could
 * not be brought within limits.maxConversationStateBytes otherwise). It left the conversation in START, so the
 * user's next message — typed into what was an encrypted conversation a moment ago — went out in PLAINTEXT
 * (the default policy sends plaintext in START). A session the peer ends lands in FINISHED, where a send is
 * refused (`not-sent`, reason `finished`) until the user starts again: the library's own end must do the same,
 * and keep doing it after a restart.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, establish, makePair } from '../helpers/session-pair.js';
import { v3SessionPair } from '../helpers/v3-session.js';

const be = WASM;

/** The send is refused as in FINISHED: nothing on the wire, a not-sent event. */
function refused(out: Outcome, text: string): void {
  assert.equal(out.toSend, [], `nothing sent (plaintext!): ${JSON.stringify(out.toSend)}`);
  // (OTRv3's refusal names no text: v3-bridge's cannotSend.)
  assert.ok(out.events.some((e) => e.type === 'not-sent' && e.reason === 'finished' && (e.text === text || e.text === '')), JSON.stringify(out.events));
}

test('OTRv4: after the sessions end for the bound, the next message is refused (FINISHED), not sent in plaintext; also after a restart', () => {
  const p = makePair(be, 16_351);
  establish(p);
  const max = 600;
  const limits = { maxConversationStateBytes: max };
  const bob = Account.restore(p.bob.serialize(), { backend: be, clock: p.clock, random: seededRandom(16_352), limits });
  const b = bob.conversation(ALICE_ID);
  const first = b.poll();
  assert.ok(first.events.some((e) => e.type === 'finished' && e.reason === 'state-limit'));
  assert.is(b.state, 'FINISHED');
  refused(b.send('secret text'), 'secret text');
  const again = Account.restore(bob.serialize(), { backend: be, clock: p.clock, random: seededRandom(16_353), limits });
  const b2 = again.conversation(ALICE_ID);
  assert.is(b2.state, 'FINISHED');
  refused(b2.send('still secret'), 'still secret');
  // The user starts again explicitly: a DAKE, as after the peer's end.
  assert.ok(b2.start().toSend.length > 0);
});


test('OTRv3: the same — the session ended for the bound is FINISHED, the next message refused (never plaintext to the peer), also after a restart', () => {
  const { now, alice, bob } = v3SessionPair(16_354, {});
  const limits = { maxConversationStateBytes: 600 };
  const restored = Account.restore(alice.serialize(), { backend: be, clock: now, random: seededRandom(16_355), limits });
  const c = restored.conversation('bob');
  const first = c.poll();
  assert.ok(first.events.some((e) => e.type === 'finished' && e.reason === 'state-limit'), JSON.stringify(first.events));
  assert.is(c.state, 'FINISHED');
  const out = c.send('secret text');
  refused(out, 'secret text');
  assert.equal(out.toSend.flatMap((m) => bob.receive(m).toUser), []);
  const again = Account.restore(restored.serialize(), { backend: be, clock: now, random: seededRandom(16_356), limits });
  const c2 = again.conversation('bob');
  assert.is(c2.state, 'FINISHED');
  refused(c2.send('still secret'), 'still secret');
});

test.run();
