/**
 * Attacks on OTRv3 instance binding (issue 10, "Downgrade and hijack through OTRv3"): Mallory can inject
 * messages into the Alice–Bob channel and has her own DSA key, but not theirs. Unauthenticated messages
 * carrying another sender instance tag must neither re-bind an established session nor kill an AKE in
 * progress (one context per remote instance, as libotr keeps); an instance that completes an AKE and
 * becomes the one `send()` uses is reported.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dearmour } from '../../ts/codec/armour.js';
import { OtrArgumentError } from '../../ts/errors.js';
import { resolveLimits } from '../../ts/limits.js';
import { decodeMessage } from '../../ts/v3/messages.js';
import { V3Conversation, type V3Event } from '../../ts/v3/index.js';
import { JS } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_TAG, BOB_TAG, type Side, encryptedPair, makeSide, pump, testDsaKey } from '../interop/v3-pair.js';

const MALLORY_TAG = 0x6666_0100;

function mallory(tag = MALLORY_TAG, seed = 0x3a11): V3Conversation {
  return new V3Conversation({ backend: JS, dsaKey: testDsaKey(0x3a110), instanceTag: tag, random: seededRandom(seed), now: () => 1_700_000_000_000 });
}

/** Sends `text` from one side to the other and returns what the receiver showed. */
function talk(from: Side, to: Side, text: string): string[] {
  const out = from.conv.send(text).toSend;
  const shown: string[] = [];
  for (const m of out) shown.push(...to.conv.receive(m).toUser);
  return shown;
}

const types = (evs: V3Event[]): string[] => evs.map((e) => e.type);

test('a forged D-H Commit with another sender instance tag does not re-bind an encrypted session', () => {
  const { a, b } = encryptedPair(JS);
  const forged = mallory().startAke().toSend[0]!;
  assert.is(decodeMessage(dearmour(forged)).senderTag, MALLORY_TAG);
  // Sent to both ends, addressed to anyone (receiver tag 0) as a real first D-H Commit is.
  const rb = b.conv.receive(forged);
  const ra = a.conv.receive(forged);
  for (const r of [ra, rb]) {
    assert.not.ok(types(r.events).includes('encrypted'));
    assert.not.ok(types(r.events).includes('instanceChanged'));
  }
  // Both sides still address each other and read each other's messages.
  assert.is(b.conv.state.theirTag, ALICE_TAG);
  assert.is(a.conv.state.theirTag, BOB_TAG);
  assert.is(b.conv.msgstate, 'encrypted');
  assert.equal(talk(a, b, 'after the forgery'), ['after the forgery']);
  assert.equal(talk(b, a, 'still here'), ['still here']);
});

test('a forged D-H Commit sent mid-AKE to either side does not kill the honest AKE', () => {
  for (const target of ['alice', 'bob', 'both'] as const) {
    const a = makeSide(JS, 'alice');
    const b = makeSide(JS, 'bob');
    const m = mallory();
    const forged = m.startAke().toSend[0]!;
    // Bob commits, Alice answers with her D-H Key; Mallory's commit lands before the rest of the AKE.
    const commit = b.conv.startAke().toSend;
    const dhKey = commit.flatMap((x) => a.conv.receive(x).toSend);
    if (target !== 'bob') a.conv.receive(forged);
    if (target !== 'alice') b.conv.receive(forged);
    pump(a, b, dhKey);
    assert.is(a.conv.msgstate, 'encrypted', `alice (${target})`);
    assert.is(b.conv.msgstate, 'encrypted', `bob (${target})`);
    assert.is(a.conv.state.theirTag, BOB_TAG);
    assert.is(b.conv.state.theirTag, ALICE_TAG);
    assert.equal(talk(a, b, 'hi'), ['hi']);
    assert.equal(talk(b, a, 'hi back'), ['hi back']);
  }
});

test('a forged D-H Commit in the commit race (both sides committed) does not kill the honest AKE', () => {
  const a = makeSide(JS, 'alice');
  const b = makeSide(JS, 'bob');
  const ca = a.conv.startAke().toSend;
  const cb = b.conv.startAke().toSend;
  // The commits cross; the race is decided; then Mallory's commit lands on both before the rest.
  const fromA = cb.flatMap((x) => a.conv.receive(x).toSend);
  const fromB = ca.flatMap((x) => b.conv.receive(x).toSend);
  const forged = mallory().startAke().toSend[0]!;
  a.conv.receive(forged);
  b.conv.receive(forged);
  pump(a, b, fromA);
  pump(b, a, fromB);
  assert.is(a.conv.msgstate, 'encrypted');
  assert.is(b.conv.msgstate, 'encrypted');
  assert.equal(talk(a, b, 'race won'), ['race won']);
});

test('unauthenticated messages from other instances never change an established session', () => {
  const { a, b } = encryptedPair(JS);
  const ssid = b.conv.ssid!;
  const fp = b.conv.peerFingerprint!;
  // Mallory plays every AKE step she can on her own, under several tags, against Bob.
  for (let i = 0; i < 4; i++) {
    const m = mallory(MALLORY_TAG + i, 100 + i);
    const commit = m.startAke().toSend;
    const dhKey = commit.flatMap((x) => b.conv.receive(x).toSend);
    // Her D-H Key answers nothing of Bob's: dropped. Her reveal signature completes only her own AKE.
    for (const x of dhKey) m.receive(x);
    const evil = mallory(MALLORY_TAG + 0x10 + i, 200 + i).startAke().toSend.flatMap((x) => a.conv.receive(x).toSend);
    for (const x of evil) b.conv.receive(x); // Alice's D-H Key, replayed to Bob from a tag Bob did not commit to
  }
  assert.is(b.conv.msgstate, 'encrypted');
  assert.is(b.conv.state.theirTag, ALICE_TAG);
  assert.equal(b.conv.ssid, ssid);
  assert.equal(b.conv.peerFingerprint, fp);
  assert.equal(talk(a, b, 'untouched'), ['untouched']);
  assert.equal(talk(b, a, 'untouched too'), ['untouched too']);
});

test('an instance that completes an AKE and becomes the one send() uses is reported, and the old one keeps working', () => {
  const { a, b } = encryptedPair(JS);
  const m = mallory();
  const mSide: Side = { conv: m, opts: {} as never, user: [], events: [] };
  const bobEvents: V3Event[] = [];
  // Mallory runs a whole AKE with Bob under her own tag and key.
  let q = m.startAke().toSend;
  for (let i = 0; q.length && i < 6; i++) {
    const r = q.flatMap((x) => {
      const out = b.conv.receive(x);
      bobEvents.push(...out.events);
      return out.toSend;
    });
    q = r.flatMap((x) => m.receive(x).toSend);
  }
  assert.is(m.msgstate, 'encrypted');
  const changed = bobEvents.filter((e) => e.type === 'instanceChanged');
  assert.is(changed.length, 1, JSON.stringify(types(bobEvents)));
  const c = changed[0] as Extract<V3Event, { type: 'instanceChanged' }>;
  assert.is(c.from, ALICE_TAG);
  assert.is(c.to, MALLORY_TAG);
  assert.is(b.conv.current, MALLORY_TAG);
  // Alice's session is still there: her messages are read, and Bob can address her explicitly.
  assert.equal(talk(a, b, 'from alice'), ['from alice']);
  const toAlice = b.conv.send('to alice', ALICE_TAG).toSend;
  assert.equal(toAlice.flatMap((x) => a.conv.receive(x).toUser), ['to alice']);
  assert.equal(toAlice.flatMap((x) => m.receive(x).toUser), [], 'Mallory cannot read what is sent to Alice');
  void mSide;
});

test('a flood of forged commits from fresh tags never evicts the honest AKE, and is bounded', () => {
  let t = 1_700_000_000_000;
  const limits = { maxInstancesPerConversation: 8 };
  const a = makeSide(JS, 'alice', { limits, now: () => t });
  const b = makeSide(JS, 'bob', { limits, now: () => t });
  // Bob commits to Alice; Alice answers (her context for Bob awaits the Reveal Signature).
  const dhKey = b.conv.startAke().toSend.flatMap((x) => a.conv.receive(x).toSend);
  // Mallory floods Alice with commits from 40 fresh tags.
  const refused: V3Event[] = [];
  for (let i = 0; i < 40; i++) {
    const r = a.conv.receive(mallory(MALLORY_TAG + i, 300 + i).startAke().toSend[0]!);
    refused.push(...r.events.filter((e) => e.type === 'ignored' && e.code === 'LIMIT_EXCEEDED'));
    assert.ok(a.conv.peerState.instances.length <= 8);
  }
  assert.is(refused.length, 40 - 7, 'one slot is Bob, seven are Mallory, the rest refused');
  // The honest AKE finishes.
  pump(a, b, dhKey);
  assert.is(a.conv.msgstate, 'encrypted');
  assert.is(a.conv.current, BOB_TAG);
  // Once Mallory's AKEs are stale, a new instance may take one of their places (never Bob's encrypted one).
  t += resolveLimits().pendingDakeProtectMs;
  const late = a.conv.receive(mallory(MALLORY_TAG + 99, 999).startAke().toSend[0]!);
  assert.not.ok(late.events.some((e) => e.type === 'ignored'));
  assert.ok(a.conv.peerState.instances.some((c) => c.theirTag === MALLORY_TAG + 99));
  assert.ok(a.conv.peerState.instances.some((c) => c.theirTag === BOB_TAG && c.msgstate === 'encrypted'));
  assert.equal(talk(b, a, 'still us'), ['still us']);
});

test('events and shown messages name their instance; send and end address instances explicitly', () => {
  const { a, b } = encryptedPair(JS);
  const out = b.conv.receive(a.conv.send('tagged').toSend[0]!);
  assert.equal(out.messages, [{ text: 'tagged', instance: ALICE_TAG, encrypted: true }]);
  const plain = b.conv.receive('in the clear');
  assert.equal(plain.messages, [{ text: 'in the clear', instance: ALICE_TAG, encrypted: false }]);
  assert.ok(plain.events.every((e) => e.instance === ALICE_TAG));
  assert.equal(b.conv.instances.map((i) => [i.instance, i.msgstate]), [[ALICE_TAG, 'encrypted']]);
  assert.throws(() => b.conv.send('x', 0x4444_4444), (e: Error) => e instanceof OtrArgumentError);
  // end() ends every encrypted instance (here the one) and tells the peer.
  const end = b.conv.end();
  assert.equal(end.events.map((e) => [e.type, e.instance]), [['plaintext', ALICE_TAG]]);
  for (const m of end.toSend) a.conv.receive(m);
  assert.is(a.conv.msgstate, 'finished');
});

test.run();
