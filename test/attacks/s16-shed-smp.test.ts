/**
 * Attack (session 16, [s16-review] "left"): a conversation record that cannot be brought within
 * limits.maxConversationStateBytes by the usual shedding (pending DAKEs, skipped keys, MAC keys, queued
 * messages). Before: the record's first write threw OtrLimitError "nothing left to shed", and because a flush
 * hands out all changes or none, every later call of EVERY conversation of the account threw the same.
 * Now an SMP exchange in progress is shed next (aborted: the host told, the peer sent the abort TLV with our
 * next message), and as a last resort the conversation's sessions end (`finished`, reason `state-limit`):
 * the failure is that one conversation's, never the account's.
 *   - the reviewer's case: a 12,000-byte question saved under maxSmpQuestionBytes 20,000, restored under
 *     maxConversationStateBytes 8,192 (whole-account restore and the record path);
 *   - the live path: a peer's question within the host's maxSmpQuestionBytes that takes the record over the
 *     host's maxConversationStateBytes;
 *   - a bound nothing but the sessions can meet;
 *   - OTRv3: the same question held by the conversation's OTRv3 state.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Conversation, type OtrEvent, type Outcome } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, establish, makePair, pump, type Pair } from '../helpers/session-pair.js';
import { rotatingOneWay } from '../interop/v3-pair.js';
import type { Limits } from '../../ts/limits.js';
import { v3SessionPair } from '../helpers/v3-session.js';

const be = WASM;
const CAROL = 'carol@example.org';

const ofType = (events: readonly OtrEvent[], type: OtrEvent['type']) => events.filter((e) => e.type === type);
const trimmedWhat = (events: readonly OtrEvent[]) => events.flatMap((e) => (e.type === 'state-trimmed' ? [e.what] : []));
/** The usual shedding first (the session's few MAC keys to reveal), then the SMP exchange: once, last. */
const shedSmpLast = (events: readonly OtrEvent[]) => {
  const what = trimmedWhat(events);
  assert.is(what.at(-1), 'smp', what.join());
  assert.ok(what.slice(0, -1).every((w) => w === 'mac-keys' || w === 'skipped-keys'), what.join());
};
const convChange = (out: Outcome, peer: string) => out.changed?.find((c) => c.key === `conv:${peer}`);
const convRecordBytes = (a: Account, peer: string) => a.records().find((r) => r.key === `conv:${peer}`)!.bytes!.length;

/** The first call after a restore: it must not throw (it did, for every later call of the account too). */
function firstCall(call: () => Outcome): Outcome {
  try {
    return call();
  } catch (e) {
    assert.unreachable(`the first call threw: ${(e as Error).message}`);
    throw e;
  }
}

/** Alice asks Bob a `questionBytes`-byte SMP question; Bob holds it, waiting for his user's answer. */
function asked(seed: number, questionBytes: number, limits: Partial<Limits> = { maxSmpQuestionBytes: 20_000 }): Pair {
  const p = makePair(be, seed, { limits });
  establish(p);
  const question = 'q'.repeat(questionBytes);
  const got = p.b.receive(p.a.startSmp('secret', question).toSend[0]!);
  assert.ok(got.events.some((e) => e.type === 'smp' && e.status === 'asked' && e.question === question), 'Bob was asked');
  return p;
}

/** Bob's account and conversation go on: a message reaches Alice with the SMP abort; another conversation works. */
function accountGoesOn(p: Pair, bob: Account, b: Conversation, max: number): void {
  const hello = b.send('hello');
  const rec = convChange(hello, ALICE_ID);
  assert.ok(rec?.bytes && rec.bytes.length <= max, `the record within the bound (${rec?.bytes?.length})`);
  const atAlice = p.a.receive(hello.toSend[0]!);
  assert.equal(atAlice.messages.map((m) => m.text), ['hello']);
  assert.ok(atAlice.events.some((e) => e.type === 'smp' && e.status === 'aborted'), "Alice told of the abort (our next message's TLV)");
  // The exchange can start again (with a question that fits).
  const log = { a: [] as Outcome[], b: [] as Outcome[] };
  pump(p.a, b, p.a.startSmp('secret', 'again?'), log);
  const ask = log.b.flatMap((o) => o.events).find((e) => e.type === 'smp' && e.status === 'asked');
  assert.ok(ask, 'asked again');
  const log2 = { a: [] as Outcome[], b: [] as Outcome[] };
  pump(b, p.a, b.answerSmp('secret'), log2);
  assert.is([...log2.a, ...log2.b].flatMap((o) => o.events).filter((e) => e.type === 'smp' && e.status === 'succeeded').length, 2);
  // Another conversation of the account is unaffected.
  const other = bob.conversation(CAROL).start();
  assert.ok(other.toSend.length > 0);
}

test("the reviewer's case (whole-account restore): a 12,000-byte question under maxConversationStateBytes 8,192 is shed, not the account wedged", () => {
  const p = asked(1661, 12_000);
  const saved = p.bob.serialize();
  const max = 8192;
  const bob = Account.restore(saved, { backend: be, clock: p.clock, random: seededRandom(1663), limits: { maxSmpQuestionBytes: 20_000, maxConversationStateBytes: max } });
  const b = bob.conversation(ALICE_ID);
  const first = firstCall(() => b.poll());
  assert.ok(first.events.some((e) => e.type === 'smp' && e.status === 'aborted'), 'the host told of the abort');
  shedSmpLast(first.events);
  assert.ok(convChange(first, ALICE_ID)!.bytes!.length <= max);
  accountGoesOn(p, bob, b, max);
});

test('the record path (fromRecord + attachRecord): the same, and an answer to the shed question is refused', () => {
  const p = asked(1664, 12_000);
  const records = p.bob.records();
  const max = 8192;
  const bob = Account.fromRecord(records.find((r) => r.key === 'account')!, { backend: be, clock: p.clock, random: seededRandom(1666), limits: { maxConversationStateBytes: max } });
  for (const r of records) if (r.key !== 'account' && r.bytes) bob.attachRecord({ key: r.key, bytes: r.bytes, generation: r.generation });
  const b = bob.conversation(ALICE_ID);
  // The first call's write sheds the question (after the call: its message goes out without the abort TLV).
  const first = b.send('first');
  shedSmpLast(first.events);
  assert.equal(ofType(first.events, 'smp').length, 1);
  assert.throws(() => b.answerSmp('secret'), (e: Error) => e.name === 'OtrStateError', 'nothing is asked any more');
  assert.equal(p.a.receive(first.toSend[0]!).messages.map((m) => m.text), ['first']);
  accountGoesOn(p, bob, b, max);
});

test('(pin) shedding waits for the write: restored over the bound, the question can still be answered first, and the exchange completes', () => {
  const p = asked(1674, 12_000);
  const max = 8192;
  const bob = Account.restore(p.bob.serialize(), { backend: be, clock: p.clock, random: seededRandom(1675), limits: { maxConversationStateBytes: max } });
  const b = bob.conversation(ALICE_ID);
  const log = { a: [] as Outcome[], b: [] as Outcome[] };
  const answer = b.answerSmp('secret');
  // Answered, the state no longer holds the question: nothing to shed.
  assert.equal(trimmedWhat(answer.events), []);
  assert.ok(convChange(answer, ALICE_ID)!.bytes!.length <= max);
  pump(b, p.a, answer, log);
  assert.is([...log.a, ...log.b].flatMap((o) => o.events).filter((e) => e.type === 'smp' && e.status === 'succeeded').length, 2);
});

test("the live path: a peer's question within maxSmpQuestionBytes that takes the record over maxConversationStateBytes aborts the exchange", () => {
  // What an established conversation's record weighs, to set a bound it fits with room for nothing like the question.
  const probe = makePair(be, 1667);
  establish(probe);
  const base = convChange(probe.b.send('x'), ALICE_ID)!.bytes!.length;
  const max = base + 2000;
  const limits = { maxSmpQuestionBytes: 4096, maxConversationStateBytes: max };
  const p = makePair(be, 1667, { limits });
  establish(p);
  let got: Outcome;
  try {
    got = p.b.receive(p.a.startSmp('secret', 'q'.repeat(4000)).toSend[0]!);
  } catch (e) {
    assert.unreachable(`the peer's SMP1 made our receive throw: ${(e as Error).message}`);
    throw e;
  }
  assert.ok(got.events.some((e) => e.type === 'smp' && e.status === 'asked'), 'the host saw the question');
  assert.ok(got.events.some((e) => e.type === 'smp' && e.status === 'aborted'), '...and its abort');
  shedSmpLast(got.events);
  assert.ok(convChange(got, ALICE_ID)!.bytes!.length <= max);
  accountGoesOn(p, p.bob, p.b, max);
});

test('a bound nothing but the sessions can meet: the sessions of that conversation end, the account goes on', () => {
  const p = makePair(be, 1668);
  establish(p);
  p.bob.conversation(CAROL).start();
  const saved = p.bob.serialize();
  const max = 600;
  const bob = Account.restore(saved, { backend: be, clock: p.clock, random: seededRandom(1670), limits: { maxConversationStateBytes: max } });
  const b = bob.conversation(ALICE_ID);
  const first = firstCall(() => b.poll());
  assert.ok(first.events.some((e) => e.type === 'finished' && e.reason === 'state-limit'), 'the session ended, told');
  assert.ok(trimmedWhat(first.events).includes('sessions'));
  // FINISHED, as a session the peer ended: the next message is refused, not sent in plaintext ([s16-review3]).
  assert.is(b.state, 'FINISHED');
  assert.ok(convChange(first, ALICE_ID)!.bytes!.length <= max);
  // The conversation starts again (a DAKE whose state may again not fit is again shed, but nothing throws).
  assert.not.throws(() => b.start());
  assert.not.throws(() => bob.conversation(CAROL).poll());
});


test("OTRv3: its MAC keys to reveal are shed (oldest half first) before its SMP exchange, as OTRv4's are", () => {
  const { now, alice, conv, bob } = v3SessionPair(1676, { maxSmpQuestionBytes: 20_000 });
  rotatingOneWay(be, bob, conv, 300, 1678);
  bob.startSmp('secret', 'q'.repeat(2000)).toSend.forEach((m) => conv.receive(m));
  const whole = convRecordBytes(alice, 'bob');
  // A bound the question fits in once most MAC keys (20 bytes each) are gone.
  const max = whole - 200 * 20;
  const restored = Account.restore(alice.serialize(), { backend: be, random: seededRandom(1679), clock: now, limits: { maxSmpQuestionBytes: 20_000, maxConversationStateBytes: max } });
  const first = restored.conversation('bob').poll();
  const what = trimmedWhat(first.events);
  assert.ok(what.length > 0 && what.every((w) => w === 'mac-keys'), what.join());
  assert.ok(!first.events.some((e) => e.type === 'smp'), 'the exchange goes on');
  assert.ok(convChange(first, 'bob')!.bytes!.length <= max);
});

test('OTRv3: a question held by the OTRv3 state over a lowered maxConversationStateBytes is shed, the account goes on', () => {
  const limits = { maxSmpQuestionBytes: 20_000 };
  const { now, alice, conv, bob } = v3SessionPair(1671, limits);
  const ask = bob.startSmp('secret', 'q'.repeat(12_000)).toSend.map((m) => conv.receive(m));
  assert.ok(ask.flatMap((o) => o.events).some((e) => e.type === 'smp' && e.status === 'asked'));
  const max = 8192;
  const restored = Account.restore(alice.serialize(), { backend: be, random: seededRandom(1673), clock: now, limits: { ...limits, maxConversationStateBytes: max } });
  const c = restored.conversation('bob');
  const first = firstCall(() => c.send('hello'));
  assert.ok(first.events.some((e) => e.type === 'smp' && e.status === 'aborted'));
  shedSmpLast(first.events);
  assert.ok(convChange(first, 'bob')!.bytes!.length <= max);
  assert.equal(first.toSend.flatMap((m) => bob.receive(m).toUser), ['hello']);
  const answer = c.answerSmp('secret');
  assert.equal([answer.toSend, answer.events.map((e) => e.type)], [[], ['ignored']], 'nothing is asked any more');
  assert.not.throws(() => restored.conversation(CAROL).start());
});

test.run();
