/**
 * Attack (session 16, the OTRv3 residual of session 15's deniability audit): when the PEER ends an OTRv3 session
 * (its disconnect, TLV 1), our context moves to FINISHED and its key state is wiped — with it the receiving MAC
 * keys of the key pairs still in use and the list still waiting for our next data message. Those MAC keys were
 * never published, so the peer's last messages (its disconnect among them) stayed authenticated under keys
 * only the two parties held: no third party could have forged them. Now they are kept (MAC keys only, at most
 * limits.maxMacKeysToReveal, the newest) on the peer's OTRv3 state and published in the next OTRv3 data message
 * we send to that peer, then wiped. Safe: each key authenticates a message of a session whose keys we no longer
 * hold, and it is the peer's *sending* MAC key, which the peer never accepts a message under.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { type Side, encryptedPair, pump, rotatingOneWay } from '../interop/v3-pair.js';
import { armour } from '../../ts/codec/armour.js';
import { v3Authenticates, v3Data, v3KeysIn, v3Remac, v3RevealedIn } from '../helpers/v3-reveal.js';
import { V3Conversation } from '../../ts/v3/index.js';
import { type DataMsg, encodeMessage } from '../../ts/v3/messages.js';

const be = WASM;
const data = v3Data;
const keysIn = v3KeysIn;
const authenticates = (key: Uint8Array, m: DataMsg) => v3Authenticates(be, key, m);
const revealedIn = (sent: readonly string[], m: DataMsg) => v3RevealedIn(be, sent, m);
const endedKeys = (s: Side): number => (s.conv.peerState.endedMacKeys?.length ?? 0) / 20;

/** Alice's messages m1, m2 read by Bob, then her disconnect: Bob is FINISHED. Returns the wire of all three. */
function aliceEnds(seed: number, over = {}): { a: Side; b: Side; m1: string; m2: string; bye: string } {
  const { a, b } = encryptedPair(be, over, seed);
  const m1 = a.conv.send('one').toSend[0]!;
  const m2 = a.conv.send('two').toSend[0]!;
  pump(a, b, [m1, m2]);
  const bye = a.conv.end().toSend[0]!;
  pump(a, b, [bye]);
  assert.is(b.conv.msgstate, 'finished');
  return { a, b, m1, m2, bye };
}

/** A new AKE between the two (Bob answers Alice's query from FINISHED, as libotr does). */
function newSession(a: Side, b: Side): void {
  pump(a, b, a.conv.start().toSend);
  assert.is(a.conv.msgstate, 'encrypted');
  assert.is(b.conv.msgstate, 'encrypted');
}

test("the peer's disconnect: Bob keeps the MAC keys of the messages he read, and his next session's first data message publishes them", () => {
  const { a, b, m1, m2, bye } = aliceEnds(1601);
  assert.ok(endedKeys(b) >= 1, 'kept after the disconnect');
  newSession(a, b);
  const hello = b.conv.send('hello again').toSend;
  for (const [name, m] of [['m1', m1], ['m2', m2], ['the disconnect', bye]] as const) assert.ok(revealedIn(hello, data(m)), `${name}'s MAC key published`);
  pump(b, a, hello);
  assert.equal(a.user, ['hello again'], 'Alice reads the message carrying them (the field is not MACed)');
  // Wiped once published: nothing kept, and the next message reveals none of them again.
  assert.is(endedKeys(b), 0);
  const next = b.conv.send('and again').toSend;
  assert.not.ok(revealedIn(next, data(m1)));
  assert.not.ok(revealedIn(next, data(bye)));
});

test('the list waiting for our next data message is kept too (keys retired before the disconnect)', () => {
  const { a, b } = encryptedPair(be, {}, 1602);
  const m1 = a.conv.send('one').toSend[0]!;
  pump(a, b, [m1]);
  const ack = b.conv.send('ack').toSend; // Alice learns Bob's next key
  pump(b, a, ack);
  // Under Bob's newest key: Bob retires the pair m1 was read under; its MAC key waits for his next message.
  const m2 = a.conv.send('two').toSend[0]!;
  pump(a, b, [m2]);
  assert.ok(b.conv.state.keys!.pendingReveal.length > 0, "m1's key waits in Bob's list");
  pump(a, b, a.conv.end().toSend);
  newSession(a, b);
  const hello = b.conv.send('hi').toSend;
  assert.ok(revealedIn(hello, data(m1)), "m1's key (from the list) published");
  assert.ok(revealedIn(hello, data(m2)), "m2's key (in use) published");
});

test('the keys survive a restore between the disconnect and the next session', () => {
  const { a, b, m1, bye } = aliceEnds(1603);
  const restored = V3Conversation.restore(b.opts, b.conv.serialize());
  const b2: Side = { ...b, conv: restored };
  newSession(a, b2);
  const hello = b2.conv.send('hi').toSend;
  assert.ok(revealedIn(hello, data(m1)));
  assert.ok(revealedIn(hello, data(bye)));
});

test('our end() after the peer ended (FINISHED → plaintext) keeps them for the next session', () => {
  const { a, b, m2 } = aliceEnds(1604);
  assert.equal(b.conv.end().toSend, [], 'nothing to send from FINISHED');
  assert.ok(endedKeys(b) >= 1);
  newSession(a, b);
  assert.ok(revealedIn(b.conv.send('hi').toSend, data(m2)));
});

test('a message still on its way under a published key is refused, as sent and re-MACed with every published key', () => {
  const { a, b } = encryptedPair(be, {}, 1605);
  pump(a, b, a.conv.send('one').toSend);
  const late = data(a.conv.send('late').toSend[0]!); // held by the network
  pump(a, b, a.conv.end().toSend);
  newSession(a, b); // the new session's key ids start again at the values the late message carries
  const hello = b.conv.send('hi').toSend;
  const published = keysIn(hello);
  assert.ok(published.some((k) => authenticates(k, late)), "the late message's MAC key is among those published");
  pump(b, a, hello);
  const before = b.user.length;
  // As sent: the session it belongs to is gone.
  b.conv.receive(armour(encodeMessage(late)));
  // Re-MACed by anyone holding the published keys, with a counter above any seen.
  const ctr = late.ctr.slice();
  for (const key of published) {
    ctr[7]! += 1;
    b.conv.receive(v3Remac(be, late, key, ctr));
  }
  assert.is(b.user.length, before, 'nothing accepted');
  assert.is(b.conv.msgstate, 'encrypted', 'the new session is unharmed');
  pump(a, b, a.conv.send('still here').toSend);
  assert.is(b.user.at(-1), 'still here');
});

test('a hostile peer ending session after session: at most maxMacKeysToReveal kept, the newest, in memory, record and restore', () => {
  const cap = 6;
  const { a, b } = encryptedPair(be, { limits: { maxMacKeysToReveal: cap } }, 1606);
  let last: string[] = [];
  for (let round = 0; round < 5; round++) {
    if (round > 0) newSession(a, b);
    // Seven messages, each under a new key of Alice's: Bob retires one receiving key pair per message.
    rotatingOneWay(be, a.conv, b.conv, 7, 0x1606 + round);
    last = [a.conv.send('last').toSend[0]!];
    pump(a, b, last);
    pump(a, b, a.conv.end().toSend);
    assert.is(b.conv.msgstate, 'finished');
    assert.ok(endedKeys(b) <= cap, `round ${round}: ${endedKeys(b)} kept`);
  }
  assert.is(endedKeys(b), cap);
  const restored = V3Conversation.restore(b.opts, b.conv.serialize());
  assert.is((restored.peerState.endedMacKeys?.length ?? 0) / 20, cap);
  const b2: Side = { ...b, conv: restored };
  newSession(a, b2);
  const hello = b2.conv.send('hi').toSend;
  assert.is(keysIn(hello).length, cap, 'one message carries at most the bound');
  assert.ok(revealedIn(hello, data(last[0]!)), "the newest (the last session's) are the ones kept");
});

test('an OTRv3 session of another instance of the peer publishes them (kept per peer, not per instance)', () => {
  const { a, b, m1 } = aliceEnds(1607);
  // Alice's other client (another instance tag) starts a session with Bob.
  const a2: Side = { ...a, conv: new V3Conversation({ ...a.opts, instanceTag: 0x3333_0300 }), user: [], events: [] };
  pump(a2, b, a2.conv.start().toSend);
  assert.is(a2.conv.msgstate, 'encrypted');
  assert.ok(revealedIn(b.conv.send('hi, other client').toSend, data(m1)));
  assert.is(endedKeys(b), 0);
});

test.run();
