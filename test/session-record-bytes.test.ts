/**
 * The conversation record's bytes are a stored format: records written by earlier releases must decode and
 * re-encode to the very same bytes (the per-call encoder of ts/session/records.ts is tuned for speed, so this
 * pins it). The fixtures are real records made by main's encoder before that tuning (helpers/record-fixtures.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM as be } from './helpers/backends.js';
import { MAIN_RECORDS, type RecordFixture } from './helpers/record-fixtures.js';
import { Account } from '../ts/session/account.js';
import { conversationRecord, decodeConversationRecord, encodeConversationRecord } from '../ts/session/records.js';
import type { Conversation } from '../ts/session/conversation.js';
import type { Outcome } from '../ts/session/events.js';
import { V3Conversation } from '../ts/v3/index.js';
import { seededRandom } from './helpers/rng.js';
import { testDsaKey, BOB_TAG } from './interop/v3-pair.js';
import { decodeState, encodeState, type StateValue } from '../ts/session/state-codec.js';
import { DEFAULT_LIMITS } from '../ts/limits.js';

const NOW = 1_750_000_000_000;
const clock = () => NOW;
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * main's record as this release writes it for the same state: every ratchet's MAC keys to reveal, a list of
 * 64-byte values before session 7, become one bytes value (the keys concatenated, oldest first); our DH public
 * value, where no message can carry it any more (a step is due, or the sending chain's ratchet id is no DH step:
 * every third, from 0), becomes the one-byte placeholder 0x00, and the peer's DH value, where neither our next
 * sending step nor a message of the receiving chain reads it, the value 4 (session 16); nothing else changes.
 */
function inFormatNow(fx: RecordFixture): Uint8Array {
  const v = decodeState('conversation', fromHex(fx.hex)) as { peer: string; state: { instances: { ratchet: Record<string, StateValue> | null }[] } };
  for (const inst of v.state.instances) {
    if (!inst.ratchet) continue;
    const list = inst.ratchet.macKeysToReveal as Uint8Array[];
    const joined = new Uint8Array(64 * list.length);
    list.forEach((k, n) => joined.set(k, 64 * n));
    inst.ratchet = { ...inst.ratchet, macKeysToReveal: joined };
    const r = inst.ratchet as { i: number; sendingStepDue: boolean; recvChain: Uint8Array | null; recvRatchetId: number; ourDh: Record<string, StateValue> };
    const dhChain = Math.max(0, r.i - 1) % 3 === 0;
    if (r.sendingStepDue || !dhChain) inst.ratchet = { ...inst.ratchet, ourDh: { ...r.ourDh, public: Uint8Array.of(0) } };
    const dhRead = (r.recvChain !== null && r.recvRatchetId % 3 === 0) || (r.sendingStepDue ? r.i : r.i + 1) % 3 === 0;
    if (!dhRead) inst.ratchet = { ...inst.ratchet, theirDh: Uint8Array.of(4) };
  }
  return encodeState('conversation', v as unknown as StateValue);
}

test('main\'s fixtures include ratchets, with MAC keys queued (the format change is exercised)', () => {
  const queued = Object.values(MAIN_RECORDS).map((fx) => hex(inFormatNow(fx)) !== fx.hex);
  assert.ok(queued.some((x) => x), 'some fixture changes format');
});

for (const [name, fx] of Object.entries(MAIN_RECORDS)) {
  test(`${name}: the generic encoder reproduces main's bytes from the decoded value`, () => {
    const bytes = fromHex(fx.hex);
    assert.is(hex(encodeState('conversation', decodeState('conversation', bytes))), fx.hex);
    const state = decodeConversationRecord(bytes, fx.peer, DEFAULT_LIMITS.maxStateBytes);
    assert.is(hex(encodeConversationRecord(fx.peer, state ?? null)), fx.hex);
  });

  test(`${name}: restored and recorded again, the conversation writes main's bytes (MAC keys as one value)`, () => {
    const account = Account.create({ accountId: 'me@x', backend: be, clock, dsaKey: null });
    account.attachRecord({ key: `conv:${fx.peer}`, bytes: fromHex(fx.hex), generation: 3 });
    account.conversation(fx.peer);
    // Every live conversation written again: the record of this one, as the per-call encoder makes it.
    const rec = account.changes({ all: true }).find((c) => c.key === `conv:${fx.peer}`);
    assert.ok(rec?.bytes, 'the conversation record is written');
    assert.is(rec.generation, 4);
    assert.is(hex(rec.bytes), hex(inFormatNow(fx)));
  });

  test(`${name}: a call that changes nothing writes nothing (the record compared is main's)`, () => {
    const account = Account.create({ accountId: 'me@x', backend: be, clock, dsaKey: null });
    account.attachRecord({ key: `conv:${fx.peer}`, bytes: fromHex(fx.hex), generation: 3 });
    const conv = account.conversation(fx.peer);
    // Garbage from the network: ignored, the state unchanged, so no record.
    const out = conv.receive('?OTR:AAQD' + 'A'.repeat(40) + '.');
    assert.equal(out.changed, []);
  });
}

/**
 * The record written directly (Conversation.writeState, persist.ts writeRatchet) must be the encoding of the
 * value toState() builds, in every state a conversation passes through: compared after every step of a
 * session that goes through both DAKE roles, queued text, out-of-order messages (skipped keys, MAC keys to
 * reveal), SMP in each phase, a per-peer policy, the end of the session, and an OTRv3 session.
 */
function same(conv: Conversation, what: string): void {
  const generic = encodeConversationRecord(conv.peerId, conv.toState());
  assert.is(hex(conversationRecord(conv)), hex(generic), what);
}

test('the directly written record equals the encoding of toState() in every state of a session', () => {
  const a = Account.create({ accountId: 'alice@x', backend: be, clock, dsaKey: null, random: seededRandom(11) });
  const b = Account.create({ accountId: 'bob@x', backend: be, clock, dsaKey: null, random: seededRandom(12) });
  const ca = a.conversation('bob@x');
  const cb = b.conversation('alice@x');
  let steps = 0;
  const check = () => {
    same(ca, `alice after step ${steps}`);
    same(cb, `bob after step ${steps}`);
    steps++;
  };
  const deliver = (first: { to: Conversation; out: Outcome }) => {
    let q = [first];
    while (q.length) {
      const next: typeof q = [];
      for (const { to, out } of q) {
        check();
        for (const m of out.toSend) next.push({ to: to === ca ? cb : ca, out: (to === ca ? cb : ca).receive(m) });
      }
      q = next;
    }
    check();
  };
  check();
  ca.setPolicy({ requireEncryption: true });
  deliver({ to: ca, out: ca.send('queued é ✓ 😀') });
  assert.is(ca.state, 'ENCRYPTED_MESSAGES');
  // Out of order both ways: skipped keys, MAC keys to reveal, DH ratchet steps.
  for (let round = 0; round < 3; round++) {
    const msgs = [0, 1, 2, 3].map((i) => ca.send(`a${round}.${i}`).toSend[0]!);
    cb.receive(msgs[3]!);
    check();
    cb.receive(msgs[1]!);
    check();
    deliver({ to: cb, out: cb.send(`b${round}`) });
  }
  // SMP through its phases.
  deliver({ to: ca, out: ca.startSmp('secret', 'question é?') });
  deliver({ to: cb, out: cb.answerSmp('secret') });
  deliver({ to: ca, out: ca.startSmp('x') });
  deliver({ to: ca, out: ca.abortSmp() });
  // The end: FINISHED on Bob's side.
  deliver({ to: ca, out: ca.end() });
  same(cb, 'bob finished');
  assert.ok(steps > 30, `${steps} states compared`);
});

test('the directly written record equals the encoding of toState() for an OTRv3 session', () => {
  const now = () => 1_700_000_000_000;
  const alice = Account.create({ accountId: 'alice', backend: be, random: seededRandom(5), clock: now });
  const conv = alice.conversation('bob');
  const bob = new V3Conversation({ backend: be, dsaKey: testDsaKey(0xb0b), instanceTag: BOB_TAG, random: seededRandom(2), now });
  let toBob = conv.start().toSend;
  same(conv, 'v3 query sent');
  for (let guard = 0; toBob.length && guard < 20; guard++) {
    const toAlice = toBob.flatMap((m) => bob.receive(m).toSend);
    toBob = [];
    for (const m of toAlice) {
      toBob.push(...conv.receive(m).toSend);
      same(conv, `v3 step ${guard}`);
    }
  }
  assert.is(conv.version, 3);
  conv.send('over v3');
  same(conv, 'v3 encrypted');
});

test.run();
