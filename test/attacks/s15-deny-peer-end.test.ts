/**
 * Attack (session 15, what the session-14 deniability audit left): a judge holds everything Bob sent and asks
 * whether Alice wrote a message. It is deniable towards third parties only once Bob has published its MAC key
 * (otrv4.md §Revealing MAC Keys). When the *peer* ends the session (TLV 1) the spec has Bob forget every key
 * (§Receiving a Data Message): the MAC keys of Alice's messages he read since his last sending step — the
 * disconnect message's own among them — and those of the messages still on their way (his stored skipped keys)
 * were wiped unpublished, so those messages stayed authenticated under keys only Alice and Bob ever held. The
 * same for a session dropped after a rollback of the store (abandonSessions: no disconnect may be sent, it
 * would use a key again).
 *
 * Now the conversation keeps just those MAC keys (never an encryption or chain key: they authenticate
 * messages of a session that no longer exists, so none can make Bob accept anything) and hands them to its next
 * OTRv4 session, whose next revealing message (or its own disconnect) publishes them. Checked with the judge's
 * own tool, `findMacKey` (otr4/forge). They are bounded (limits.maxMacKeysToReveal, oldest wiped) however
 * often a hostile peer ends sessions.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { findMacKey, remacMessage } from '../../ts/forge/index.js';
import { WASM } from '../helpers/backends.js';
import { aliceWrites, JudgeWire, outOfOrder as outOfOrderBy, unrevealed as unrevealedBy } from '../helpers/judge-wire.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, establish, makePair, pump, type Pair } from '../helpers/session-pair.js';

const be = WASM;
const unrevealed = (w: JudgeWire, m: Record<string, string>) => unrevealedBy(be, w, m);

const outOfOrder = (seed: number) => outOfOrderBy(be, seed);

/** Alice ends the session; her disconnect message is one of the messages whose key Bob must publish. */
function aliceEnds(p: Pair, w: JudgeWire, m: Record<string, string>): void {
  const bye = p.a.end().toSend;
  assert.is(bye.length, 1);
  m.disconnect = bye[0]!;
  w.toBob(bye);
  assert.is(p.b.state, 'FINISHED');
}

/** A new session (Alice starts the DAKE), then one round trip: Bob's second message is a new sending chain. */
function nextSessionRoundTrip(p: Pair, w: JudgeWire): void {
  w.toBob(p.a.startDake().toSend);
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
  w.bobSays(p.b.send('new session'));
  w.toBob([aliceWrites(p.a, 'yes')]);
  w.bobSays(p.b.send('and again'));
}

test("the peer's disconnect: the next session's first revealing message publishes the keys Bob held", () => {
  const { p, w, m } = outOfOrder(1501);
  aliceEnds(p, w, m);
  assert.equal(unrevealed(w, m).sort(), ['disconnect', 'm1', 'm2', 'm3'], 'nothing published by the end itself');
  nextSessionRoundTrip(p, w);
  assert.equal(unrevealed(w, m), []);
});

test("the peer's disconnect, then Bob ends the next session at once: its disconnect publishes them", () => {
  const { p, w, m } = outOfOrder(1502);
  aliceEnds(p, w, m);
  w.bobSays(p.b.end()); // FINISHED → START: nothing to send, the keys stay
  w.toBob(p.a.startDake().toSend);
  w.bobSays(p.b.end());
  assert.equal(unrevealed(w, m), []);
});

test("the peer's disconnect, a restart (record restored), then the next session publishes them", () => {
  const { p, w, m } = outOfOrder(1503);
  aliceEnds(p, w, m);
  const bob = Account.restore(p.bob.serialize(), { backend: be, clock: p.clock, random: p.randB });
  const b = bob.conversation(ALICE_ID);
  w.restartBob(b);
  p.b = b;
  nextSessionRoundTrip(p, w);
  assert.equal(unrevealed(w, m), []);
});

test('a session dropped after a rollback (no disconnect may be sent): the next session publishes its keys', () => {
  const { p, w, m } = outOfOrder(1504);
  const out = p.b.abandonSessions();
  assert.is(out.toSend.length, 0, 'nothing is encrypted under a key that may have been used');
  assert.is(p.b.state, 'FINISHED');
  nextSessionRoundTrip(p, w);
  assert.equal(unrevealed(w, m), []);
});

test('the keys kept are never encryption keys: a message still on its way after the end is not readable, and not accepted', () => {
  const { p, w, m } = outOfOrder(1505);
  aliceEnds(p, w, m);
  nextSessionRoundTrip(p, w);
  // m2 (stored when the session ended) arrives now: its MAC key is public, the session gone: refused.
  const r = p.b.receive(m.m2!);
  assert.equal(r.messages, []);
  // Its key is published, and a copy re-MACed with it (anyone can make one) is not accepted either.
  const key = findMacKey(be, m.m2!, w.bob);
  assert.ok(key);
  assert.equal(p.b.receive(remacMessage(be, m.m2!, key)).messages, []);
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES', 'the new session goes on');
});

test('a hostile peer ending session after session cannot grow what Bob keeps past maxMacKeysToReveal', () => {
  const cap = 6;
  const p = makePair(be, 1506, { limits: { maxMacKeysToReveal: cap } });
  establish(p);
  for (let s = 0; s < 5; s++) {
    // Alice writes 5 messages Bob reads without answering, then ends: 6 keys each time (the disconnect's too).
    for (let i = 0; i < 5; i++) p.b.receive(aliceWrites(p.a, `s${s} m${i}`));
    pump(p.a, p.b, p.a.end());
    assert.is(p.b.state, 'FINISHED');
    const kept = (p.b.toState() as { endedMacKeys?: Uint8Array }).endedMacKeys;
    assert.ok(kept instanceof Uint8Array && kept.length > 0 && kept.length <= cap * 64, `kept ${kept?.length} bytes`);
    // Bob's record holds at most the cap too, and restores.
    const rec = p.bob.records().find((r) => r.key === `conv:${ALICE_ID}`);
    assert.ok(rec);
    const restored = Account.restore(p.bob.serialize(), { backend: be, clock: p.clock, random: seededRandom(9000 + s), limits: { maxMacKeysToReveal: cap } });
    assert.is(restored.conversation(ALICE_ID).state, 'FINISHED');
    // A new session (Alice's device starts again): the kept keys join its queue, still within the cap.
    pump(p.a, p.b, p.a.startDake());
    assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
    assert.is((p.b.toState() as { endedMacKeys?: Uint8Array }).endedMacKeys, undefined, 'handed to the new session');
  }
});

test('Alice, whose peer (Bob) ends, publishes the keys of the messages she read in her next session too', () => {
  const p = makePair(be, 1507);
  establish(p);
  // Bob writes; Alice reads without answering; Bob ends.
  const fromBob = [p.b.send('b1').toSend[0]!, p.b.send('b2').toSend[0]!];
  const aliceSent: string[] = [];
  for (const x of fromBob) aliceSent.push(...p.a.receive(x).toSend);
  const bye = p.b.end().toSend;
  aliceSent.push(...p.a.receive(bye[0]!).toSend);
  assert.is(p.a.state, 'FINISHED');
  // Bob starts again; Alice's next session runs a round trip.
  for (const x of p.b.startDake().toSend) for (const y of p.a.receive(x).toSend) for (const z of p.b.receive(y).toSend) aliceSent.push(...p.a.receive(z).toSend);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  const s1 = p.a.send('hi again').toSend;
  aliceSent.push(...s1);
  for (const x of s1) p.b.receive(x);
  for (const x of p.b.send('hello').toSend) aliceSent.push(...p.a.receive(x).toSend);
  aliceSent.push(...p.a.send('and you').toSend);
  for (const [name, x] of [['b1', fromBob[0]!], ['b2', fromBob[1]!], ['disconnect', bye[0]!]] as const)
    assert.ok(findMacKey(be, x, aliceSent), `${name} published`);
});

test.run();
