/**
 * Attack (session 16, [s16-review3]): the SMP abort that shedding owes the peer (Instance.smpAbortOwed, sent
 * with our next data message) must tell of the exchange that was shed, never of one begun after it. A peer
 * that restarts SMP after our record shed its question (its own startSmp: abort + SMP1) is answered by our
 * user; if the stale owed abort rides ahead of that answer (SMP2), the peer's new exchange dies — a
 * verification the users tried again fails for nothing they did.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { OtrEvent, Outcome } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { ALICE_ID, establish, makePair, pump } from '../helpers/session-pair.js';

const be = WASM;
const convChange = (out: Outcome, peer: string) => out.changed?.find((c) => c.key === `conv:${peer}`);
const smpStatuses = (outs: Outcome[]) => outs.flatMap((o) => o.events).flatMap((e: OtrEvent) => (e.type === 'smp' ? [e.status] : []));

/** Bob's record bound leaves room for a session and a DAKE (~2.5 KB), not for a 4,000-byte question: Alice's question is shed on arrival. */
function shedOnArrival(seed: number) {
  const probe = makePair(be, seed);
  establish(probe);
  const max = convChange(probe.b.send('x'), ALICE_ID)!.bytes!.length + 3000;
  const p = makePair(be, seed, { limits: { maxSmpQuestionBytes: 4096, maxConversationStateBytes: max } });
  establish(p);
  const got = p.b.receive(p.a.startSmp('secret', 'q'.repeat(4000)).toSend[0]!);
  assert.ok(got.events.some((e) => e.type === 'smp' && e.status === 'aborted'), 'the question was shed');
  return p;
}

test('the peer restarts SMP after ours was shed: the new exchange completes (no stale abort ahead of our SMP2)', () => {
  const p = shedOnArrival(16_301);
  // Alice, still waiting for SMP2, starts again with a question that fits (her startSmp sends abort + SMP1).
  const log = { a: [] as Outcome[], b: [] as Outcome[] };
  pump(p.a, p.b, p.a.startSmp('secret', 'again?'), log);
  assert.ok(smpStatuses(log.b).includes('asked'), 'Bob asked again');
  const log2 = { a: [] as Outcome[], b: [] as Outcome[] };
  pump(p.b, p.a, p.b.answerSmp('secret'), log2);
  assert.equal(smpStatuses([...log2.a, ...log2.b]).filter((s) => s === 'succeeded').length, 2, smpStatuses([...log2.a, ...log2.b]).join());
});

test('the peer aborts, then asks again: the same', () => {
  const p = shedOnArrival(16_302);
  pump(p.a, p.b, p.a.abortSmp());
  const log = { a: [] as Outcome[], b: [] as Outcome[] };
  pump(p.a, p.b, p.a.startSmp('secret', 'again?'), log);
  assert.ok(smpStatuses(log.b).includes('asked'));
  const log2 = { a: [] as Outcome[], b: [] as Outcome[] };
  pump(p.b, p.a, p.b.answerSmp('secret'), log2);
  assert.equal(smpStatuses([...log2.a, ...log2.b]).filter((s) => s === 'succeeded').length, 2, smpStatuses([...log2.a, ...log2.b]).join());
});

test('a new session on the same instance: the abort owed in the old one does not abort an exchange of the new one', () => {
  const p = shedOnArrival(16_304);
  pump(p.a, p.b, p.a.start());
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
  // Alice asks in the new session while Bob, not having her SMP1 yet, sends a message.
  const smp1 = p.a.startSmp('secret', 'new session?').toSend;
  const hi = p.a.receive(p.b.send('hi').toSend[0]!);
  assert.equal([hi.messages.map((m) => m.text), smpStatuses([hi])], [['hi'], []]);
  const log = { a: [] as Outcome[], b: [] as Outcome[] };
  pump(p.a, p.b, { ...hi, toSend: smp1 }, log);
  assert.ok(smpStatuses(log.b).includes('asked'));
});

test('(pin) with no SMP message from the peer since, the owed abort goes with our next message, once', () => {
  const p = shedOnArrival(16_303);
  const one = p.a.receive(p.b.send('one').toSend[0]!);
  assert.equal(smpStatuses([one]), ['aborted']);
  const two = p.a.receive(p.b.send('two').toSend[0]!);
  assert.equal(smpStatuses([two]), []);
});

test.run();
