/**
 * Attack (session 10 review): early data from many peers at once. Data messages that arrive while a DAKE
 * awaits Auth-I are kept (they may have overtaken it), bounded per instance by maxEarlyDataBytes and aged
 * by policy.earlyDataRetentionMs. Each pending DAKE costs one Identity from the DAKE budget (4 a second per
 * account), but nothing bounded their early data together: a peer with many identities, opening a pending DAKE
 * a quarter-second for the 10 minutes early data lives, could make an account hold 2,400 × 256 KB ≈ 600 MB.
 *
 * Found: 12 pending DAKEs in 12 conversations held 18,000 bytes each (216,000 in all, against an account
 * bound of 50,000). Now limits.maxAccountEarlyDataBytes bounds all instances of all conversations together
 * (shared-budget.ts): other instances' oldest early messages are dropped first, so a genuine early message
 * still waits for its Auth-I and is read.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import type { Conversation } from '../../ts/session/conversation.js';
import { armour } from '../../ts/codec/armour.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, makePair, texts } from '../helpers/session-pair.js';
import { EARLY_MESSAGE_COST } from '../../ts/shared-budget.js';

const LIMITS = { maxEarlyDataBytes: 20_000, maxAccountEarlyDataBytes: 50_000 };

/** A data-message-typed blob from `sender` to `receiver` (kept raw while a DAKE awaits Auth-I). */
function fakeData(sender: number, receiver: number, size: number): string {
  const m = new Uint8Array(size).fill(0x5a);
  m.set([0x00, 0x04, 0x03, sender >>> 24, sender >>> 16, sender >>> 8, sender, receiver >>> 24, receiver >>> 16, receiver >>> 8, receiver], 0);
  return armour(m);
}

/** The early data bytes a conversation's instances hold, read from outside. */
function earlyBytes(c: Conversation): number {
  const inner = c as unknown as { instances: Map<number, { earlyBytes: number }> };
  let n = 0;
  for (const i of inner.instances.values()) n += i.earlyBytes;
  return n;
}

/** What the account's budget should count for these conversations: the bytes and each message's record. */
function cost(cs: Conversation[]): number {
  let n = 0;
  for (const c of cs) for (const i of (c as unknown as { instances: Map<number, { early: unknown[]; earlyBytes: number }> }).instances.values()) n += i.earlyBytes + i.early.length * EARLY_MESSAGE_COST;
  return n;
}

test('early data of pending DAKEs in many conversations: the account holds at most maxAccountEarlyDataBytes', () => {
  const p = makePair(be, 1300, { limits: LIMITS });
  // Bob's genuine DAKE is pending too, his first message overtaking the Auth-I.
  const authR = p.b.startDake().toSend.flatMap((m) => p.a.receive(m).toSend);
  const authI = authR.flatMap((m) => p.b.receive(m).toSend);
  p.a.receive(p.b.send('overtook the Auth-I').toSend[0]!);
  const flood: Conversation[] = [];
  for (let k = 0; k < 12; k++) {
    const peer = `mallory-${k}@example.net`;
    const mallory = Account.create({ accountId: peer, backend: be, random: seededRandom(1400 + k), clock: p.clock, dsaKey: null });
    const c = p.alice.conversation(peer);
    flood.push(c);
    for (const m of mallory.conversation(ALICE_ID).startDake().toSend) c.receive(m);
    assert.is(c.state, 'WAITING_AUTH_I', `Alice answered mallory-${k}'s Identity`);
    for (let n = 0; n < 2; n++) c.receive(fakeData(mallory.instanceTag, p.alice.instanceTag, 9_000));
    const total = [p.a, ...flood].reduce((sum, x) => sum + earlyBytes(x), 0);
    assert.ok(total <= LIMITS.maxAccountEarlyDataBytes, `after ${k + 1} peers the account holds ${total} bytes of early data`);
    assert.ok(earlyBytes(c) > 0, 'the newest pending DAKE keeps its early data');
  }
  assert.is(p.alice.earlyDataBudget.heldTotal, cost([p.a, ...flood]), 'the budget counts what the instances hold');
  // Bob's early message went first (the least recently grown), as any other: the flood displaced it, and his
  // Auth-I still completes the DAKE. (Early data is best effort: the peer resends what is not confirmed.)
  for (const m of authI) p.a.receive(m);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  // A genuine early message that comes during the flood is kept: it displaces the flood's oldest.
  const q = makePair(be, 1310, { limits: LIMITS });
  const qAuthI = q.b.startDake().toSend.flatMap((m) => q.a.receive(m).toSend).flatMap((m) => q.b.receive(m).toSend);
  const qFlood = Array.from({ length: 6 }, (_, k) => {
    const peer = `mallory-${k}@example.net`;
    const mallory = Account.create({ accountId: peer, backend: be, random: seededRandom(1500 + k), clock: q.clock, dsaKey: null });
    const c = q.alice.conversation(peer);
    for (const m of mallory.conversation(ALICE_ID).startDake().toSend) c.receive(m);
    for (let n = 0; n < 2; n++) c.receive(fakeData(mallory.instanceTag, q.alice.instanceTag, 9_000));
    return c;
  });
  q.a.receive(q.b.send('during the flood').toSend[0]!);
  assert.ok([q.a, ...qFlood].reduce((sum, x) => sum + earlyBytes(x), 0) <= LIMITS.maxAccountEarlyDataBytes);
  assert.equal(texts(qAuthI.map((m) => q.a.receive(m))), ['during the flood']);
  // Ended and forgotten conversations give their room back.
  for (let k = 0; k < 6; k++) q.alice.forget(`mallory-${k}@example.net`);
  assert.is(q.alice.earlyDataBudget.heldTotal, 0);
});

test.run();
