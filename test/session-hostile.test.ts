/**
 * Hostile input to Conversation.receive, on both backends, for every message type a peer can send: query,
 * whitespace-tagged text, Identity, Auth-R, Auth-I, data messages (plain, first of a DH ratchet, with SMP,
 * disconnect and extra-symmetric-key TLVs), fragments and error messages. Each genuine message is captured
 * from a real conversation together with the receiver's persisted state just before it arrived; every
 * mutant (test/helpers/session-hostile.ts: truncation at every length, field-placed bit flips, oversized
 * length fields, wrong instance tags, random bytes, text-level damage) is given to a receiver restored from
 * that state. Asserted for every mutant:
 *   - receive never throws;
 *   - nothing is shown that was not sent (a mutant may only show the genuine message's own text);
 *   - the persisted state is byte-identical to before, or byte-identical to what the genuine message
 *     produces (a flip in bytes the MAC does not cover, such as revealed MAC keys), or — only for an
 *     Identity message, which nobody has signed yet — a DAKE answered with the mutant's keys;
 *   - afterwards the genuine message still works, the DAKE completes and a fresh message each way decrypts.
 * Also: messages in the wrong state, oversized input, and a flood of partial fragmented messages, which the
 * reassembler must bound (ts/limits.ts) without losing the conversation.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../ts/index.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import type { Conversation } from '../ts/session/conversation.js';
import { DEFAULT_LIMITS } from '../ts/limits.js';
import { armour, dearmour } from '../ts/codec/armour.js';
import { buildErrorMessage, OtrErrorCode } from '../ts/codec/error-message.js';
import { buildQuery } from '../ts/codec/query.js';
import { tagPlaintext } from '../ts/codec/whitespace.js';
import { formatFragmentV4 } from '../ts/codec/fragment.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { equalBytes } from '../ts/bytes.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { randomInt, seededUniform } from './helpers/channel.js';
import { binaryMutants, textMutants, type Mutant } from './helpers/session-hostile.js';
import { ALICE_ID, BOB_ID, establish, exchangeFresh, makePair, pump, texts, testClock } from './helpers/session-pair.js';

type Who = 'alice' | 'bob';

/** One genuine message and the states around it. */
interface Target {
  readonly label: string;
  readonly receiver: Who;
  /** The receiver's account just before the message arrived. */
  readonly before: Uint8Array;
  /** The sender's account just after it produced the message (for the final DAKE/fresh-message check). */
  readonly peer: Uint8Array;
  /** The genuine wire strings (several for a fragmented message). */
  readonly wire: readonly string[];
  /** The decoded bytes of a binary message (mutated field by field). */
  readonly bytes?: Uint8Array;
}

const clock = testClock();

/** Captures every message type of a real conversation, with the states around each. */
function capture(be: CryptoBackend): Target[] {
  const p = makePair(be, 4242);
  const targets: Target[] = [];
  const ser = (w: Who) => (w === 'alice' ? p.alice : p.bob).serialize();
  const conv = (w: Who) => (w === 'alice' ? p.a : p.b);
  /** `from` produces `out`; `to` receives it, snapshotting around it. Returns `to`'s outcome. */
  const step = (label: string, from: Who, to: Who, produce: () => Outcome, binary = true): Outcome => {
    const out = produce();
    const peer = ser(from);
    const before = ser(to);
    targets.push({ label, receiver: to, before, peer, wire: out.toSend, bytes: binary && out.toSend.length === 1 ? dearmour(out.toSend[0]!) : undefined });
    let last: Outcome = { toSend: [], messages: [], events: [] };
    for (const t of out.toSend) last = conv(to).receive(t);
    return last;
  };
  const query = p.a.start();
  const identity = step('query', 'alice', 'bob', () => query, false);
  const authR = step('Identity', 'bob', 'alice', () => identity);
  const authI = step('Auth-R', 'alice', 'bob', () => authR);
  step('Auth-I', 'bob', 'alice', () => authI);
  if (p.a.state !== 'ENCRYPTED_MESSAGES' || p.b.state !== 'ENCRYPTED_MESSAGES') throw new Error('DAKE did not complete');
  step('data (chain)', 'alice', 'bob', () => p.a.send('plain message ✓'));
  step('data (first of a DH ratchet)', 'bob', 'alice', () => p.b.send('reply with a new ratchet'));
  step('data (extra symmetric key TLV)', 'alice', 'bob', () => p.a.send('file key', { extraKey: { context: Uint8Array.of(0, 0, 0, 9), data: Uint8Array.of(7, 7) } }));
  step('data (SMP1 TLV)', 'alice', 'bob', () => p.a.startSmp('secret', 'question?'));
  step('data (SMP2 TLV)', 'bob', 'alice', () => p.b.answerSmp('secret'));
  step('whitespace-tagged text', 'alice', 'bob', () => ({ toSend: [tagPlaintext('hello with a tag', [4])], messages: [], events: [] }), false);
  step('error message', 'alice', 'bob', () => ({ toSend: [buildErrorMessage(OtrErrorCode.unreadable)], messages: [], events: [] }), false);
  p.a.setPolicy({ maxMessageSize: 180 });
  step('fragments', 'alice', 'bob', () => p.a.send('a fragmented message '.repeat(4)), false);
  p.a.setPolicy({ maxMessageSize: 0 });
  step('data (disconnect TLV)', 'alice', 'bob', () => p.a.end());
  return targets;
}

function restore(be: CryptoBackend, bytes: Uint8Array, seed: number): { acct: Account; conv: Conversation; who: Who } {
  // healSessions off: repairing a session is a deliberate reaction to unreadable input (test/attacks/heal-*),
  // and this suite asserts that hostile input leaves the state as it was.
  const acct = Account.restore(bytes, { backend: be, random: seededRandom(seed), clock, policy: { healSessions: false } });
  const who: Who = new TextDecoder().decode(acct.accountId) === ALICE_ID ? 'alice' : 'bob';
  return { acct, conv: acct.conversation(who === 'alice' ? BOB_ID : ALICE_ID), who };
}

interface Tally {
  mutants: number;
  unchanged: number;
  asGenuine: number;
  /** Read as plaintext: shown as such, OTR no longer advertised. */
  plaintext: number;
  otherKeys: number;
}

/** The strings to deliver for each mutant: a mutated message alone, or a mutated fragment among the genuine others. */
function* deliveries(t: Target, mutantsOf: (s: string) => Iterable<Mutant>): Generator<readonly [string, readonly string[]]> {
  for (let i = 0; i < t.wire.length; i++) {
    for (const [desc, text] of mutantsOf(t.wire[i]!)) {
      yield [t.wire.length > 1 ? `fragment ${i + 1}: ${desc}` : desc, t.wire.map((w, k) => (k === i ? text : w))];
    }
  }
}

/** Runs the mutated deliveries against `t` (see the file comment for what is asserted). */
function probe(be: CryptoBackend, t: Target, mutants: Iterable<readonly [string, readonly string[]]>, fresh: boolean): Tally {
  const open = () => restore(be, t.before, 77);
  const deliver = (c: Conversation, strings: readonly string[]) => strings.map((s) => c.receive(s));
  const ref = open();
  const refOut = deliver(ref.conv, t.wire);
  const refAfter = ref.acct.serialize();
  const refTexts = texts(refOut);
  // Plaintext (what most damaged strings become) legitimately changes one thing: we stop advertising OTR.
  const plain = open();
  plain.conv.receive('plain text');
  const plainAfter = plain.acct.serialize();
  const fragments = t.wire.length > 1;
  let cur = open();
  assert.equal(cur.acct.serialize(), t.before, `${t.label}: serialize(restore(s)) != s`);
  /** The state a refused mutant must leave: the snapshot, byte for byte. */
  const baseline = t.before;
  const tally: Tally = { mutants: 0, unchanged: 0, asGenuine: 0, plaintext: 0, otherKeys: 0 };
  for (const [desc, strings] of mutants) {
    tally.mutants++;
    const where = `${be.name} ${t.label}: ${desc}`;
    // A fresh receiver for each fragmented delivery: pieces of earlier mutants would otherwise wait in its reassembler.
    if (fragments) cur = open();
    let outs: Outcome[] = [];
    try {
      outs = deliver(cur.conv, strings);
    } catch (e) {
      assert.unreachable(`${where}: receive threw ${(e as Error)?.stack}`);
    }
    const shown = outs.flatMap((o) => o.messages);
    // What arrived as text: the strings, and the pieces of fragments joined (a damaged reassembly is plaintext).
    const arrived = [...strings, strings.map((s) => /^\?OTR\|[^,]*,\d+,\d+,(.*),$/s.exec(s)?.[1] ?? '').join('')];
    for (const m of shown) {
      // Only the genuine text, or plaintext that is literally part of what arrived.
      const ok = refTexts.includes(m.text) || (!m.encrypted && arrived.some((s) => s.includes(m.text)));
      assert.ok(ok, `${where}: showed ${JSON.stringify(m.text)} (encrypted ${m.encrypted})`);
    }
    const after = cur.acct.serialize();
    if (equalBytes(after, baseline)) {
      assert.ok(shown.every((m) => !m.encrypted), `${where}: an encrypted message shown without a state change`);
      tally.unchanged++;
      continue;
    }
    // Changed: what exactly? Replay the mutant on a fresh receiver with the reference's randomness.
    const again = open();
    const againOut = deliver(again.conv, strings);
    const againAfter = again.acct.serialize();
    if (equalBytes(againAfter, refAfter)) {
      assert.equal(texts(againOut), refTexts, `${where}: same state as the genuine message, other text`);
      tally.asGenuine++;
    } else if (equalBytes(againAfter, plainAfter) && againOut.every((o) => o.messages.every((m) => !m.encrypted) && o.toSend.length === 0)) {
      tally.plaintext++;
    } else if (
      t.label === 'Identity' &&
      againOut.length === 1 &&
      againOut[0]!.toSend.length === 1 &&
      againOut[0]!.events.some((e) => e.type === 'state' && e.to === 'WAITING_AUTH_I')
    ) {
      tally.otherKeys++; // an unsigned Identity with other valid keys is a different, legitimate DAKE start
    } else {
      assert.unreachable(`${where}: state changed unexpectedly (state ${again.conv.state}, events ${JSON.stringify(againOut.flatMap((o) => o.events))})`);
    }
    cur = open();
  }
  // The genuine message still works, and the conversation goes on.
  if (fragments) cur = open();
  const fin = deliver(cur.conv, t.wire);
  assert.equal(texts(fin), refTexts, `${t.label}: the genuine message after the mutants`);
  if (fresh) {
    const peer = restore(be, t.peer, 88);
    for (const o of fin) pump(cur.conv, peer.conv, o);
    if (cur.conv.state === 'ENCRYPTED_MESSAGES' && peer.conv.state === 'ENCRYPTED_MESSAGES') {
      const [a, b] = cur.who === 'alice' ? [cur.conv, peer.conv] : [peer.conv, cur.conv];
      const f = exchangeFresh(a, b, t.label);
      assert.equal([f.atB, f.atA], [[`fresh a->b ${t.label}`], [`fresh b->a ${t.label}`]], `${t.label}: fresh messages`);
    } else {
      assert.ok(['query', 'Identity', 'Auth-R'].includes(t.label) || t.label.includes('disconnect'), `${t.label}: not encrypted afterwards`);
    }
  }
  return tally;
}

/** How densely large fields are sampled, per target: DAKE messages cost a signature check or more each. */
function interiorFor(be: CryptoBackend, t: Target): number {
  const slow = be.name === 'js';
  if (t.label === 'Identity') return slow ? 3 : 12;
  if (t.label === 'Auth-R') return slow ? 3 : 16;
  // The first message of a ratchet (it reveals MAC keys) costs an ECDH, or a 3072-bit DH, per mutant.
  if (t.bytes && t.bytes[2] === 0x03 && decodeDataMessage(t.bytes).revealedMacs.length > 0) return slow ? 6 : 24;
  return slow ? 24 : 64;
}

for (const be of BACKENDS) {
  const targets = capture(be);
  const u = seededUniform(be.name === 'js' ? 11 : 12);

  for (const t of targets) {
    test(`${t.label}: every mutant is refused or read as sent; the state is unchanged or as the spec says [${be.name}]`, () => {
      const bytes = t.bytes;
      const mutantsOf = bytes
        ? () => binaryMutants(bytes, u, interiorFor(be, t), be.name === 'js' ? 8 : 24)
        : (s: string) => textMutants(s, u, t.wire.length > 1 ? (be.name === 'js' ? 9 : 3) : 1);
      const t0 = performance.now();
      const tally = probe(be, t, deliveries(t, mutantsOf), true);
      assert.ok(tally.mutants > 20);
      if (process.env.OTR_VERBOSE) console.log(be.name, t.label, JSON.stringify(tally), `${Math.round(performance.now() - t0)} ms`);
      // Authenticated messages: nothing but the genuine message may change anything.
      if (t.label === 'Auth-R' || t.label === 'Auth-I' || t.label.startsWith('data')) assert.is(tally.otherKeys, 0);
    });
  }

  test(`messages in the wrong state are ignored and change nothing [${be.name}]`, () => {
    const byLabel = new Map(targets.map((t) => [t.label, t]));
    const authR = byLabel.get('Auth-R')!.wire[0]!;
    const authI = byLabel.get('Auth-I')!.wire[0]!;
    const data = byLabel.get('data (chain)')!.wire[0]!;
    // A fresh pair in START receives the other pair's Auth-R, Auth-I and a data message.
    const q = makePair(be, 77);
    for (const m of [authR, authI]) {
      const out = q.a.receive(m);
      assert.equal(out.messages, []);
      assert.equal(out.toSend, []);
      assert.ok(out.events.some((e) => e.type === 'ignored'), JSON.stringify(out.events));
      assert.is(q.a.state, 'START');
    }
    const d = q.a.receive(data);
    assert.equal(d.messages, []);
    // Addressed to another instance tag (the other pair's): for another device of ours, ignored, never answered
    // with an error (issue 13: the error would make the sender repair a session that is fine).
    assert.ok(d.events.some((e) => e.type === 'ignored' && /another of our instances/.test(e.reason)), JSON.stringify(d.events));
    assert.equal(d.toSend, [], 'data for another instance is not answered');
    assert.is(q.a.state, 'START');
    // In ENCRYPTED_MESSAGES: replays of the DAKE's own Auth-I and Auth-R (same seed: the same DAKE as captured)
    // are ignored and change nothing; the session goes on.
    const r = makePair(be, 4242);
    establish(r);
    const enc = r.alice.serialize();
    for (const m of [byLabel.get('Auth-I')!.wire[0]!]) {
      const out = r.a.receive(m);
      assert.equal([out.messages, out.toSend], [[], []]);
      assert.is(r.a.state, 'ENCRYPTED_MESSAGES');
    }
    assert.equal(r.alice.serialize(), enc, 'a replayed Auth-I changed the session');
    const encB = r.bob.serialize();
    const outR = r.b.receive(authR);
    assert.equal([outR.messages, outR.toSend], [[], []]);
    assert.ok(outR.events.some((e) => e.type === 'ignored'));
    assert.equal(r.bob.serialize(), encB, 'a replayed Auth-R changed the session');
    const f = exchangeFresh(r.a, r.b, 'w');
    assert.equal([f.atB, f.atA], [['fresh a->b w'], ['fresh b->a w']]);
  });

  test(`oversized input is refused with LIMIT_EXCEEDED and nothing is shown [${be.name}]`, () => {
    const p = makePair(be, 91);
    establish(p);
    const before = p.bob.serialize();
    const huge = [
      '?OTR:' + 'A'.repeat(DEFAULT_LIMITS.maxMessageChars) + '.',
      '?OTR|00000001|' + p.alice.instanceTag.toString(16) + '|' + p.bob.instanceTag.toString(16) + ',00001,00002,' + 'A'.repeat(DEFAULT_LIMITS.maxFragmentChars) + ',',
      'x'.repeat(DEFAULT_LIMITS.maxMessageChars + 1),
    ];
    for (const h of huge) {
      const out = p.b.receive(h);
      assert.equal(out.messages, []);
      assert.ok(out.events.some((e) => e.type === 'unreadable' && e.code === 'LIMIT_EXCEEDED'), JSON.stringify(out.events).slice(0, 200));
    }
    // A fragment claiming more pieces than allowed, and index/total out of range.
    for (const [k, n] of [
      [1, 65535],
      [1, DEFAULT_LIMITS.maxFragmentsPerMessage + 1],
      [3, 2],
      [0, 2],
    ]) {
      const s = `?OTR|00000002|${p.alice.instanceTag.toString(16)}|${p.bob.instanceTag.toString(16)},${k},${n},AAAA,`;
      const out = p.b.receive(s);
      assert.equal(out.messages, []);
    }
    assert.equal(p.bob.serialize(), before);
    const f = exchangeFresh(p.a, p.b, 'o');
    assert.equal([f.atB, f.atA], [['fresh a->b o'], ['fresh b->a o']]);
  });

  test(`a flood of partial fragmented messages: at most maxPendingFragmentedMessages are kept, the newest; the conversation goes on [${be.name}]`, () => {
    const limit = 40;
    const p = makePair(be, 92, { limits: { maxPendingFragmentedMessages: limit, maxPendingFragmentChars: 64 * 1024 } });
    establish(p);
    p.a.setPolicy({ maxMessageSize: 200 });
    const rnd = seededUniform(93);
    // 5,000 hostile first halves with distinct identifiers, from Alice's tag to Bob's.
    for (let i = 0; i < 5000; i++) {
      const piece = 'A'.repeat(1 + randomInt(rnd, 300));
      const out = p.b.receive(formatFragmentV4({ identifier: 0x10000 + i, senderTag: p.alice.instanceTag, receiverTag: p.bob.instanceTag, index: 1, total: 2, piece }));
      assert.equal(out.messages, []);
    }
    // 3 * limit genuine fragmented messages: all first fragments, then all the rest. Only the newest `limit`
    // can still be complete (the older buffers were evicted), and they are read.
    const msgs = Array.from({ length: 3 * limit }, (_, i) => p.a.send(`genuine ${i} `.repeat(12)).toSend);
    assert.ok(msgs.every((m) => m.length >= 2));
    for (const m of msgs) assert.equal(texts([p.b.receive(m[0]!)]), []);
    const rest = (m: string[]) => texts(m.slice(1).map((s) => p.b.receive(s)));
    assert.equal(
      msgs.slice(2 * limit).flatMap(rest),
      msgs.slice(2 * limit).map((_, i) => `genuine ${2 * limit + i} `.repeat(12)),
      'the newest `limit` partial messages were kept',
    );
    assert.equal(msgs.slice(0, 2 * limit).flatMap(rest), [], 'older partial messages were evicted');
    // Characters bound: one message bigger than the whole budget is discarded, a normal one still arrives.
    const q = makePair(be, 94, { limits: { maxPendingFragmentChars: 2000 } });
    establish(q);
    q.a.setPolicy({ maxMessageSize: 200 });
    const big = q.a.send('y'.repeat(3000)).toSend;
    assert.equal(texts(big.map((s) => q.b.receive(s))), []);
    const f = exchangeFresh(q.a, q.b, 'c');
    assert.equal([f.atB, f.atA], [['fresh a->b c'], ['fresh b->a c']]);
  });

  // Regression: an ignored Identity/Auth-R from a new sender tag once left an empty instance behind (kept and
  // persisted), so a peer could grow our state without bound. Instances are now stored only once a message validates.
  test(`ignored DAKE messages from thousands of sender tags create no instances [${be.name}]`, () => {
    const p = makePair(be, 95);
    const identity = dearmour(p.b.startDake().toSend[0]!);
    const size = p.alice.serialize().length;
    for (let i = 0; i < 1000; i++) {
      const m = identity.slice();
      m[3] = 0x20;
      m[5] = i >> 8;
      m[6] = i & 0xff; // a new sender tag: the profile's owner tag no longer matches, so it is ignored
      const out = p.a.receive(armour(m));
      // Refused, or not even looked at once the unauthenticated-DAKE budget is spent (ts/limits.ts).
      assert.ok(out.events.some((e) => e.type === 'ignored' || e.type === 'throttled'));
    }
    assert.is(p.a.instanceTags.length, 0);
    assert.is(p.alice.serialize().length, size);
  });
}

test('query and whitespace mutants never start anything but a DAKE', () => {
  const be = BACKENDS[0]!;
  const p = makePair(be, 96);
  const u = seededUniform(97);
  for (const base of [buildQuery([3, 4]), buildQuery([4], 'an explanation'), tagPlaintext('hi', [3, 4])]) {
    for (const [desc, t] of textMutants(base, u, 1)) {
      const out = p.b.receive(t);
      for (const m of out.messages) assert.ok(!m.encrypted && t.includes(m.text), `${desc}: ${m.text}`);
      for (const s of out.toSend) assert.ok(s.startsWith('?OTR:'), `${desc}: sent ${s.slice(0, 30)}`);
    }
  }
  // After all that, a DAKE and messages still work.
  pump(p.b, p.a, p.b.startDake());
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  const f = exchangeFresh(p.a, p.b, 'q');
  assert.equal([f.atB, f.atA], [['fresh a->b q'], ['fresh b->a q']]);
});

// Regression: when our Identity (sent after a query) was lost, the peer's repeated query went unanswered for
// good. The same Identity is now resent (a peer that has it ignores the byte-identical copy).
test('a lost Identity: the repeated query of the peer is answered and the DAKE completes', () => {
  const be = BACKENDS[0]!;
  const p = makePair(be, 98);
  const lost = p.b.receive(p.a.start().toSend[0]!);
  assert.is(lost.toSend.length, 1); // Bob's Identity: the network loses it
  const again = p.b.receive(p.a.start().toSend[0]!);
  assert.ok(again.toSend.length >= 1, 'the repeated query was not answered');
  pump(p.b, p.a, again);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
});

test.run();
