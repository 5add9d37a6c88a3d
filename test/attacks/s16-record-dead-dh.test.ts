/**
 * Attack (session 16): the conversation record leaves out the 3072-bit DH values nothing will read before they
 * are replaced — ours where no message can carry it any more (a one-byte placeholder, 0x00: ratchet/state.ts
 * ourDhPublicInUse), the peer's where neither our next sending step nor the receiving chain's messages read it
 * (the value 4: theirDhInUse) — 383 bytes each of the record's ~2.3 KB, written after every message. The record
 * is input from the disk: our placeholder where the sending chain still carries the value (a hostile or damaged
 * record, or a bug in the rule) must be refused at restore with a typed error, never make the session send a DH
 * field the peer refuses; the peer's is a value of the group like any other. And the rules must be right: a
 * conversation restarted from its record after every single call — both sides, across many DH steps, messages
 * delayed and out of order — reads every message.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { OtrDecodeError } from '../../ts/errors.js';
import type { Conversation } from '../../ts/session/conversation.js';
import type { Outcome } from '../../ts/session/events.js';
import { decodeState, encodeState, type StateValue } from '../../ts/session/state-codec.js';
import type { RandomSource } from '../../ts/crypto/random.js';
import type { RatchetState } from '../../ts/ratchet/state.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, BOB_ID, establish, makePair, type Pair, type TestClock } from '../helpers/session-pair.js';

const be = WASM;

type RatchetValue = Record<string, StateValue> & { i: number; sendingStepDue: boolean; ourDh: { secret: Uint8Array | null; public: Uint8Array }; theirDh: Uint8Array };
type RecordValue = { peer: string; state: { instances: (Record<string, StateValue> & { ratchet: RatchetValue | null })[] } };

interface Side {
  account: Account;
  conv: Conversation;
  readonly peer: string;
  readonly random: RandomSource;
  /** The last records handed out: account and conversation. */
  records: Map<string, Uint8Array>;
}

function side(account: Account, conv: Conversation, peer: string, random: RandomSource): Side {
  const s: Side = { account, conv, peer, random, records: new Map() };
  keep(s, account.changes({ all: true }));
  return s;
}

function keep(s: Side, changed: Outcome['changed']): void {
  for (const c of changed ?? []) if (c.bytes) s.records.set(c.key, c.bytes);
}

/** A restart: the account and the conversation decoded again from the last records handed out. */
function restart(s: Side, clock: TestClock): void {
  const account = Account.fromRecord({ bytes: s.records.get('account')!, generation: 1 }, { backend: be, clock, random: s.random });
  account.attachRecord({ key: `conv:${s.peer}`, bytes: s.records.get(`conv:${s.peer}`)!, generation: 1 });
  s.account = account;
  s.conv = account.conversation(s.peer);
}

function ratchetOf(bytes: Uint8Array): RatchetValue {
  const r = (decodeState('conversation', bytes) as RecordValue).state.instances[0]?.ratchet;
  assert.ok(r, 'the record holds a ratchet');
  return r;
}

function withOurDhPublic(bytes: Uint8Array, pub: Uint8Array): Uint8Array {
  const v = decodeState('conversation', bytes) as RecordValue;
  return withRatchet(bytes, { ...v.state.instances[0]!.ratchet!, ourDh: { ...v.state.instances[0]!.ratchet!.ourDh, public: pub } });
}

function withRatchet(bytes: Uint8Array, ratchet: RatchetValue): Uint8Array {
  const v = decodeState('conversation', bytes) as RecordValue;
  const [inst] = v.state.instances;
  return encodeState('conversation', { ...v, state: { ...v.state, instances: [{ ...inst!, ratchet }] } } as unknown as StateValue);
}

function established(seed: number): { p: Pair; a: Side; b: Side } {
  const p = makePair(be, seed);
  establish(p);
  return { p, a: side(p.alice, p.a, BOB_ID, p.randA), b: side(p.bob, p.b, ALICE_ID, p.randB) };
}

test('restarted from its record after every call, across many DH steps, out of order: every message is read', () => {
  const { p, a, b } = established(1601);
  const pick = seededRandom(16);
  const roll = (n: number) => pick(1)[0]! % n;
  // In flight: [to, text, sent text].
  const flight: [Side, string, string][] = [];
  const read: string[] = [];
  let sent = 0;
  let placeholders = 0;
  let full = 0;
  let theirPlaceholders = 0;
  let theirFull = 0;
  const note = (s: Side, out: Outcome) => {
    keep(s, out.changed);
    const rec = out.changed?.find((c) => c.key === `conv:${s.peer}`)?.bytes;
    if (rec) {
      const pub = ratchetOf(rec).ourDh.public;
      if (pub.length === 1) placeholders++;
      else full++;
      if (ratchetOf(rec).theirDh.length === 1) theirPlaceholders++;
      else theirFull++;
    }
    restart(s, p.clock);
  };
  for (let n = 0; n < 400; n++) {
    // Mostly turns of a few messages each way (a ratchet step per turn, a DH step every third), some delays.
    const from = Math.floor(n / (2 + (n % 3))) % 2 === 0 ? a : b;
    const to = from === a ? b : a;
    if (roll(4) !== 0 || flight.length === 0) {
      const text = `m${sent++}`;
      const out = from.conv.send(text);
      note(from, out);
      for (const t of out.toSend) flight.push([to, t, text]);
    }
    // Deliver: usually the oldest, sometimes a later one first (its chain's keys are then stored skipped).
    while (flight.length > (roll(3) === 0 ? 2 : 0)) {
      const at = roll(5) === 0 ? flight.length - 1 : 0;
      const [dst, t, text] = flight.splice(at, 1)[0]!;
      const out = dst.conv.receive(t);
      note(dst, out);
      for (const m of out.messages) read.push(m.text);
      assert.equal(out.messages.map((m) => m.text), [text], `message ${text} read`);
      assert.equal(out.toSend, [], 'nothing sent back (no error, no repair)');
    }
  }
  assert.is(read.length, sent);
  assert.ok(placeholders > 100, `records with the placeholder: ${placeholders}`);
  assert.ok(full > 50, `records with the value (a DH chain that sends it): ${full}`);
  assert.ok(theirPlaceholders > 100, `records with the peer's placeholder: ${theirPlaceholders}`);
  assert.ok(theirFull > 100, `records with the peer's value: ${theirFull}`);
});

test("late messages of the peer's chain read after we answered (on that chain, DH value compared), restarted every call, 30 turns", () => {
  const { p, a, b } = established(1607);
  let n = 0;
  const call = (s: Side, out: Outcome) => {
    keep(s, out.changed);
    restart(s, p.clock);
    return out;
  };
  for (let t = 0; t < 30; t++) {
    const [from, to] = t % 2 === 0 ? [a, b] : [b, a];
    const sent = [0, 1, 2].map(() => {
      const text = `t${t}.${n++}`;
      return [text, call(from, from.conv.send(text)).toSend[0]!] as const;
    });
    // The first read at once; the receiver answers (its sending step) before the other two arrive, in order: they
    // are on its current receiving chain, whose DH value each carries when the chain is a DH step.
    assert.equal(call(to, to.conv.receive(sent[0]![1])).messages.map((m) => m.text), [sent[0]![0]]);
    const answer = call(to, to.conv.send(`answer ${t}`)).toSend[0]!;
    for (const [text, wire] of sent.slice(1)) assert.equal(call(to, to.conv.receive(wire)).messages.map((m) => m.text), [text]);
    assert.equal(call(from, from.conv.receive(answer)).messages.map((m) => m.text), [`answer ${t}`]);
  }
});

test('a placeholder where the sending chain still carries the value is refused at restore (OtrDecodeError)', () => {
  const { p, a } = established(1602);
  // Alice, right after the DAKE: her first chain is ratchet 0, a DH step: its messages carry her DH value.
  const rec = a.records.get(`conv:${BOB_ID}`)!;
  const r = ratchetOf(rec);
  assert.is(r.sendingStepDue, false);
  assert.is(r.ourDh.public.length > 300, true, 'written in full');
  a.records.set(`conv:${BOB_ID}`, withOurDhPublic(rec, Uint8Array.of(0)));
  try {
    restart(a, p.clock);
    assert.unreachable('restored');
  } catch (e) {
    assert.instance(e, OtrDecodeError);
    assert.match((e as Error).message, /ourDh\.public left out/);
  }
});

test('where the value is dead: the placeholder restores, the old full value restores and is written as the placeholder', () => {
  const { p, b } = established(1603);
  // Bob after the DAKE: his first sending step is due, which makes a new DH pair: the value kept is dead.
  const rec = b.records.get(`conv:${ALICE_ID}`)!;
  assert.is(ratchetOf(rec).sendingStepDue, true);
  assert.equal([...ratchetOf(rec).ourDh.public], [0], 'written as the placeholder');
  // As a release before session 16 wrote it: the value in full. It restores; its next record has the placeholder.
  const old = withOurDhPublic(rec, liveRatchet(p.b).ourDh.public);
  assert.is(old.length, rec.length + 383);
  b.records.set(`conv:${ALICE_ID}`, old);
  restart(b, p.clock);
  const again = b.account.changes({ all: true }).find((c) => c.key === `conv:${ALICE_ID}`)!;
  assert.equal(Buffer.from(again.bytes!), Buffer.from(rec), 'the same record as before the round trip');
  // And the session goes on from the restored placeholder: Bob's due step makes a new pair and sends it.
  const out = b.conv.send('after the placeholder');
  const got = p.a.receive(out.toSend[0]!);
  assert.equal(got.messages.map((m) => m.text), ['after the placeholder']);
});

test('a DH value that is no value (empty, or longer than the group) is refused, placeholder rule or not', () => {
  const { p, b } = established(1604);
  const rec = b.records.get(`conv:${ALICE_ID}`)!;
  for (const bad of [new Uint8Array(0), new Uint8Array(385).fill(1)]) {
    b.records.set(`conv:${ALICE_ID}`, withOurDhPublic(rec, bad));
    try {
      restart(b, p.clock);
      assert.unreachable('restored');
    } catch (e) {
      assert.instance(e, OtrDecodeError);
    }
  }
});

test("the peer's value replaced by the placeholder where it is read (a hostile disk): restored as the value it is, its chain's messages unreadable (typed), nothing shown", () => {
  const { p, a, b } = established(1605);
  // Bob after the DAKE: Alice's ratchet 0 (a DH step) is his receiving chain: its messages carry her DH value.
  const rec = b.records.get(`conv:${ALICE_ID}`)!;
  const r = ratchetOf(rec);
  assert.is(r.theirDh.length, 384, 'written in full where it is read');
  b.records.set(`conv:${ALICE_ID}`, withRatchet(rec, { ...r, theirDh: Uint8Array.of(4) }));
  restart(b, p.clock);
  const out = b.conv.receive(a.conv.send('on chain 0').toSend[0]!);
  assert.equal(out.messages, []);
  assert.ok(out.events.some((e) => e.type === 'unreadable'), 'an unreadable event');
});

test("where the peer's value is dead (Alice after the DAKE: Bob's first step brings a new one) it is written as 4, and the session goes on", () => {
  const { p, a, b } = established(1606);
  const rec = a.records.get(`conv:${BOB_ID}`)!;
  assert.equal([...ratchetOf(rec).theirDh], [4]);
  restart(a, p.clock);
  for (const [from, to, text] of [[a, b, 'a1'], [b, a, 'b1'], [a, b, 'a2'], [b, a, 'b2']] as const) {
    const got = to.conv.receive(from.conv.send(text).toSend[0]!);
    assert.equal(got.messages.map((m) => m.text), [text]);
  }
});

/** The live ratchet of a conversation's only instance (private state, read for the test). */
function liveRatchet(c: Conversation): RatchetState {
  const [inst] = (c as unknown as { instances: Map<number, { ratchet: RatchetState | null }> }).instances.values();
  assert.ok(inst?.ratchet);
  return inst.ratchet;
}

test.run();
