/**
 * Attack (session 10 review): reflection. An attacker who can only inject (not drop) sends a party's own
 * OTRv4 message back to it. Its sender instance tag is then the receiver's own tag, which no peer has (a peer's
 * tag colliding with ours is a 2^-32 accident, and OTR with oneself on the same client means nothing).
 *
 * Found: Bob's own Identity (sent with receiver tag 0 after Alice's query) reflected to Bob was taken as a
 * simultaneous start: the tie-break of two equal values is lost, so Bob dropped his pending DAKE with Alice,
 * answered himself with an Auth-R, and Alice's genuine Auth-R was then ignored ("Auth-R without a pending
 * Identity"): one replayed message cancelled every DAKE Bob started that way, and cost him a DAKE step.
 * A reflected OTRv3 D-H Commit did not kill the AKE (one context per instance) but was answered with a D-H
 * Key: a budgeted AKE step spent answering ourselves. Now every message (OTRv4 or OTRv3, whole or a fragment)
 * whose sender tag is our own is ignored before any work.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import { fragmentMessage } from '../../ts/codec/fragment.js';
import { V3Conversation } from '../../ts/v3/index.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { BOB_TAG, testDsaKey } from '../interop/v3-pair.js';
import { exchangeFresh, makePair, pump } from '../helpers/session-pair.js';

const reasons = (o: Outcome): string[] => o.events.flatMap((e) => (e.type === 'ignored' ? [e.reason] : []));
const quiet = (o: Outcome, what: string): void => {
  assert.is(o.toSend.length, 0, `${what}: nothing answered`);
  assert.is(o.messages.length, 0, `${what}: nothing shown`);
  assert.ok(reasons(o).some((r) => /reflected/.test(r)), `${what}: reported as reflected (${JSON.stringify(o.events)})`);
  assert.not.ok(o.events.some((e) => e.type === 'state'), `${what}: no state change`);
};

test('an Identity reflected to its sender is ignored; the DAKE it belongs to completes', () => {
  const p = makePair(be, 1010);
  const identity = p.b.receive(p.a.start().toSend[0]!); // Bob answers Alice's query with an Identity (receiver tag 0)
  assert.is(identity.toSend.length, 1);
  quiet(p.b.receive(identity.toSend[0]!), 'Bob gets his own Identity');
  assert.is(p.b.state, 'WAITING_AUTH_R', 'Bob still waits for Alice');
  pump(p.b, p.a, identity);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
  assert.equal(exchangeFresh(p.a, p.b, 'after'), { atB: ['fresh a->b after'], atA: ['fresh b->a after'] });
});

test('an Identity sent to a known instance, then reflected, is ignored too', () => {
  const p = makePair(be, 1020);
  pump(p.a, p.b, p.a.start());
  // Bob starts again towards Alice's instance (receiver tag set): reflected, it must not replace his DAKE.
  const again = p.b.startDake(p.b.currentInstance);
  quiet(p.b.receive(again.toSend[0]!), 'Bob gets his own addressed Identity');
  pump(p.b, p.a, again);
  assert.equal(exchangeFresh(p.a, p.b, 'after'), { atB: ['fresh a->b after'], atA: ['fresh b->a after'] });
});

test('Auth-R, Auth-I and data messages reflected to their senders are ignored; the session goes on', () => {
  const p = makePair(be, 1030);
  const identity = p.b.receive(p.a.start().toSend[0]!);
  const authR = p.a.receive(identity.toSend[0]!);
  quiet(p.a.receive(authR.toSend[0]!), 'Alice gets her own Auth-R');
  const authI = p.b.receive(authR.toSend[0]!);
  quiet(p.b.receive(authI.toSend[0]!), 'Bob gets his own Auth-I');
  p.a.receive(authI.toSend[0]!);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  const data = p.a.send('hello');
  quiet(p.a.receive(data.toSend[0]!), 'Alice gets her own data message');
  assert.equal(p.b.receive(data.toSend[0]!).messages.map((m) => m.text), ['hello']);
  assert.equal(exchangeFresh(p.a, p.b, 'after'), { atB: ['fresh a->b after'], atA: ['fresh b->a after'] });
});

test('a fragmented Identity reflected to its sender is ignored too (each piece carries the sender tag)', () => {
  const p = makePair(be, 1040);
  const identity = p.b.receive(p.a.start().toSend[0]!).toSend[0]!;
  const pieces = fragmentMessage(identity, 200, { identifier: 0x1234, senderTag: p.bob.instanceTag, receiverTag: 0 });
  assert.ok(pieces.length > 1);
  for (const piece of pieces) quiet(p.b.receive(piece), 'Bob gets a piece of his own Identity');
  pump(p.b, p.a, { toSend: [identity], messages: [], events: [] } as unknown as Outcome);
  assert.equal(exchangeFresh(p.a, p.b, 'after'), { atB: ['fresh a->b after'], atA: ['fresh b->a after'] });
});

test('an OTRv3 D-H Commit reflected to its sender is ignored (no D-H Key to ourselves); the AKE completes', () => {
  const now = () => 1_700_000_000_000;
  const alice = Account.create({ accountId: 'alice', backend: be, random: seededRandom(1), clock: now, dsaKey: testDsaKey(0xa11ce) });
  const conv = alice.conversation('bob');
  const bob = new V3Conversation({ backend: be, dsaKey: testDsaKey(0xb0b), instanceTag: BOB_TAG, random: seededRandom(2), now });
  const commit = conv.receive('?OTRv3?');
  assert.is(commit.toSend.length, 1, 'Alice answers the v3 query with a D-H Commit');
  quiet(conv.receive(commit.toSend[0]!), 'Alice gets her own D-H Commit');
  let toBob = commit.toSend;
  for (let guard = 0; toBob.length && guard < 10; guard++) {
    const toAlice = toBob.flatMap((m) => bob.receive(m).toSend);
    toBob = toAlice.flatMap((m) => conv.receive(m).toSend);
  }
  assert.is(conv.state, 'ENCRYPTED_MESSAGES');
  assert.is(conv.version, 3);
  assert.equal(bob.receive(conv.send('over v3').toSend[0]!).toUser, ['over v3']);
});

test.run();
