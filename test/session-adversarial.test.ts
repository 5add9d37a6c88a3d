/**
 * Conversations over a hostile network, on both backends: after a DAKE, Alice and Bob exchange thousands of
 * messages through a seeded channel (test/helpers/channel.ts) that drops (singly and in bursts), reorders
 * within a window, duplicates, and — with a small policy maxMessageSize — fragments every message, so the
 * fragments of neighbouring messages interleave. Senders alternate at random, so DH-ratchet and brace-key
 * steps happen throughout.
 *
 * The assertion is exact, not statistical: for every string that arrives, the reference models of
 * test/helpers/session-model.ts say whether it completes a message and whether that message's key is still
 * held (max_skip, the stored-key limit, reassembly eviction), and the conversation must deliver exactly that
 * message's plaintext, or nothing with the right `unreadable` code. From that follow: every delivered
 * plaintext was sent, none twice, none corrupted; every message whose fragments all arrived is delivered
 * unless a limit (counted per cause) deleted what it needed; duplicates and replays are rejected.
 *
 * Message counts: 10,000 on WASM and 2,000 on JS (JS ratchet steps cost about 2.5x WASM's); OTR_CHANNEL_MESSAGES
 * overrides both for longer runs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Outcome } from '../ts/index.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import type { Conversation } from '../ts/session/conversation.js';
import { DEFAULT_LIMITS, type Limits } from '../ts/limits.js';
import { dearmour } from '../ts/codec/armour.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { JS, WASM } from './helpers/backends.js';
import { AdversarialChannel, randomInt, seededUniform, type ChannelOptions } from './helpers/channel.js';
import { KeyModel, ReassemblyModel, readFragmentHeader, type DataHeader } from './helpers/session-model.js';
import { establish, exchangeFresh, makePair, texts } from './helpers/session-pair.js';

type Side = 'a' | 'b';
const other = (s: Side): Side => (s === 'a' ? 'b' : 'a');

/** What travels with each string: the index of the message it belongs to, or -1 for OTR error messages. */
interface Meta {
  readonly id: number;
}

interface Sent {
  readonly from: Side;
  /** The user's text ('' for a protocol message without text). */
  readonly text: string;
  /** The whole encoded message ("?OTR:...") the fragments carry. */
  readonly wire: string;
  readonly header: DataHeader;
  readonly fragments: number;
  /** The strings as sent (for replays). */
  readonly strings: readonly string[];
  /** Fragment indices (1-based; 1 when unfragmented) that arrived at least once. */
  readonly arrived: Set<number>;
  /** How many times the receiver showed it (must end 0 or 1). */
  shown: number;
  /** Why it was not shown although it was completed: the model's verdict. */
  lost?: 'max-skip' | 'no-key';
  completed: boolean;
}

const LIMITS: Partial<Limits> = {
  // Small enough that the limits are reached during the run (and accounted for by the models):
  maxStoredMessageKeys: 8,
  maxPendingFragmentedMessages: 6,
  // Large enough that no burst loss exceeds it: past max_skip a chain is unreadable for good (the spec's
  // rule), which the dedicated test below shows.
  maxSkip: 64,
};
// healSessions off: this suite checks the ratchet alone through a lossy channel (dropped messages are expected
// losses there, not a broken session); repairs are tested in test/session-heal.test.ts.
const POLICY = { maxMessageSize: 200, healSessions: false };
const CHANNEL: ChannelOptions = { drop: 0.03, duplicate: 0.04, window: 6, outage: { probability: 0.004, maxLength: 12 } };
/** Chance per message that the other party becomes the sender (mean run ~7 messages). */
const SWITCH = 0.15;
/** Strings in flight (both directions) above which nobody types. */
const MAX_IN_FLIGHT = 16;
/** Chance per step that an attacker replays a recent message in full. */
const REPLAY = 0.01;

function headerOf(wire: string): DataHeader {
  const m = decodeDataMessage(dearmour(wire));
  return { ratchetId: m.ratchetId, messageId: m.messageId, pn: m.previousChainLength };
}

function runChannel(be: CryptoBackend, seed: number, userMessages: number) {
  const L = { ...DEFAULT_LIMITS, ...LIMITS };
  const p = makePair(be, seed, { policy: POLICY, limits: LIMITS });
  establish(p);
  const conv: Record<Side, Conversation> = { a: p.a, b: p.b };
  const u = seededUniform(seed * 7919 + 1);
  // ch[x] carries strings *to* x.
  const ch: Record<Side, AdversarialChannel<Meta>> = { a: new AdversarialChannel(u, CHANNEL), b: new AdversarialChannel(u, CHANNEL) };
  const frag: Record<Side, ReassemblyModel> = { a: new ReassemblyModel(L), b: new ReassemblyModel(L) };
  // Alice received Auth-I (no receiving chain yet); Bob sent it (receives on ratchet 0 at once).
  const keys: Record<Side, KeyModel> = { a: new KeyModel(-1, L), b: new KeyModel(0, L) };
  const sent: Sent[] = [];
  const stats = { userSent: 0, protocolSent: 0, errorMessages: 0, shown: 0, fragments: 0, rejectedRepeats: 0, replays: 0 };

  /** Puts everything `from` produced on the channel towards the peer, registering each data message. */
  const post = (from: Side, out: Outcome, text: string) => {
    let pieces: string[] = [];
    const register = (wire: string, strings: string[]) => {
      const id = sent.length;
      sent.push({ from, text, wire, header: headerOf(wire), fragments: strings.length, strings, arrived: new Set(), shown: 0, completed: false });
      text = ''; // anything else in the same outcome carries no user text
      for (const s of strings) ch[other(from)].send(s, { id });
      stats.fragments += strings.length;
    };
    for (const s of out.toSend) {
      if (s.startsWith('?OTR Error:')) {
        stats.errorMessages++;
        ch[other(from)].send(s, { id: -1 });
      } else if (s.startsWith('?OTR:')) register(s, [s]);
      else {
        const f = readFragmentHeader(s);
        assert.ok(f, `unexpected string on the wire: ${s.slice(0, 40)}`);
        pieces.push(s);
        if (f.index === f.total) {
          register(pieces.map((x) => readFragmentHeader(x)!.piece).join(''), pieces);
          pieces = [];
        }
      }
    }
    assert.is(pieces.length, 0, 'an outcome ended inside a fragmented message');
  };

  const deliver = (to: Side) => {
    const pkt = ch[to].deliver()!;
    const out = conv[to].receive(pkt.text);
    const shown = out.messages.map((m) => m.text);
    assert.ok(out.messages.every((m) => m.encrypted), 'a plaintext message appeared');
    if (pkt.meta.id < 0) {
      assert.equal(shown, [], 'an error message showed text');
    } else {
      const msg = sent[pkt.meta.id]!;
      const f = msg.fragments > 1 ? readFragmentHeader(pkt.text)! : undefined;
      msg.arrived.add(f ? f.index : 1);
      const whole = f ? frag[to].add(f) : pkt.text;
      if (whole === undefined) {
        assert.equal(shown, [], `message ${pkt.meta.id}: shown before all its fragments arrived`);
      } else {
        assert.is(whole, msg.wire, 'model: reassembly produced another message');
        const v = keys[to].receive(msg.header);
        const where = `message ${pkt.meta.id} (${msg.from}->${to}, ratchet ${msg.header.ratchetId}, id ${msg.header.messageId}, copy ${pkt.copy})`;
        if (v.ok) {
          assert.equal(shown, msg.text ? [msg.text] : [], `${where}: must be shown exactly (key ${v.from})`);
          msg.shown++;
          stats.shown += shown.length;
        } else {
          assert.equal(shown, [], `${where}: must not be shown (${v.why})`);
          const code = v.why === 'max-skip' ? 'LIMIT_EXCEEDED' : 'STATE';
          assert.ok(
            out.events.some((e) => e.type === 'unreadable' && e.code === code),
            `${where}: expected an unreadable event ${code}, got ${JSON.stringify(out.events)}`,
          );
          if (msg.completed) stats.rejectedRepeats++;
          else msg.lost = v.why;
        }
        msg.completed = true;
      }
    }
    post(to, out, '');
  };

  let sender: Side = 'a';
  const rnd = seededUniform(seed * 31 + 5);
  while (stats.userSent < userMessages || ch.a.pending || ch.b.pending) {
    const canSend = stats.userSent < userMessages;
    const inFlight = ch.a.pending + ch.b.pending;
    // Bounded latency: a new message only while few strings are in flight, so replies overtake (ratchets
    // advance) and reordering stays within the window.
    if (canSend && (inFlight === 0 || (inFlight < MAX_IN_FLIGHT && rnd() < 0.3))) {
      if (rnd() < SWITCH) sender = other(sender);
      const n = stats.userSent++;
      const text = `#${n} ${sender}: ${'pé✓'.repeat(randomInt(rnd, 40))}${'x'.repeat(randomInt(rnd, 120))}`;
      post(sender, conv[sender].send(text), text);
    } else if (sent.length > 0 && rnd() < REPLAY) {
      // An attacker replays every string of a recent message (a duplicate of a whole fragmented message).
      const id = sent.length - 1 - randomInt(rnd, Math.min(sent.length, 50));
      const m = sent[id]!;
      stats.replays++;
      for (const t of m.strings) ch[other(m.from)].send(t, { id });
    } else {
      const to: Side = !ch.a.pending ? 'b' : !ch.b.pending ? 'a' : rnd() < 0.5 ? 'a' : 'b';
      deliver(to);
    }
  }
  return { p, conv, sent, stats, ch, frag, keys };
}

function check(be: CryptoBackend, seed: number, userMessages: number) {
  const { p, sent, stats, ch, frag, keys } = runChannel(be, seed, userMessages);
  const user = sent.filter((m) => m.text !== '');
  assert.is(user.length, userMessages);
  // None shown twice; shown ones were completed with the key available.
  for (const m of sent) assert.ok(m.shown <= 1, `shown ${m.shown} times: ${m.text}`);
  const shown = user.filter((m) => m.shown === 1);
  // Every message whose fragments all arrived was shown, unless a limit took what it needed — by cause:
  const allArrived = user.filter((m) => m.arrived.size === m.fragments);
  const evictedInReassembly = allArrived.filter((m) => !m.completed);
  const lostKey = allArrived.filter((m) => m.completed && m.shown === 0);
  for (const m of lostKey) assert.ok(m.lost, `completed, not shown, no limit to blame: ${m.text}`);
  assert.is(shown.length, allArrived.length - evictedInReassembly.length - lostKey.length);
  assert.is(stats.shown, shown.length);
  // The run exercised what it claims to.
  const dh = Math.min(keys.a.maxRatchetId, keys.b.maxRatchetId);
  assert.ok(dh >= 9, `too few ratchets: ${dh}`);
  assert.ok(ch.a.stats.duplicated + ch.b.stats.duplicated > 0 && ch.a.stats.reordered + ch.b.stats.reordered > 0);
  assert.ok(stats.rejectedRepeats > 0, 'no replay reached the ratchet');
  assert.ok(stats.fragments > 2 * sent.length, 'messages were not fragmented');

  // Replays after the fact: a sample of shown messages again (as whole encoded messages): nothing shown.
  const pq = { a: p.a, b: p.b };
  for (const m of shown.filter((_, i) => i % Math.max(1, Math.floor(shown.length / 40)) === 0)) {
    const r = pq[other(m.from)].receive(m.wire);
    assert.equal(texts([r]), [], 'a replay was shown');
    assert.ok(r.events.some((e) => e.type === 'unreadable' && e.code === 'STATE'));
  }
  // Still usable.
  const fresh = exchangeFresh(p.a, p.b, `${be.name}/${seed}`);
  assert.equal(fresh.atB, [`fresh a->b ${be.name}/${seed}`]);
  assert.equal(fresh.atA, [`fresh b->a ${be.name}/${seed}`]);

  const dropped = user.length - allArrived.length;
  return {
    backend: be.name,
    userMessages,
    shown: shown.length,
    droppedOrIncomplete: dropped,
    lostToReassemblyEviction: evictedInReassembly.length,
    lostToStoredKeyLimit: lostKey.filter((m) => m.lost === 'no-key').length,
    lostToMaxSkip: lostKey.filter((m) => m.lost === 'max-skip').length,
    replaysInjected: stats.replays,
    repeatsRejected: stats.rejectedRepeats,
    strings: ch.a.stats.sent + ch.b.stats.sent,
    reordered: ch.a.stats.reordered + ch.b.stats.reordered,
    errorMessages: stats.errorMessages,
    reassemblyEvictions: frag.a.evicted + frag.b.evicted,
    storedKeyEvictions: keys.a.storeEvictions + keys.b.storeEvictions,
    ratchets: dh,
  };
}

const COUNT = process.env.OTR_CHANNEL_MESSAGES ? Number(process.env.OTR_CHANNEL_MESSAGES) : undefined;

for (const [be, n, seed] of [
  [WASM, COUNT ?? 10_000, 1001],
  [JS, COUNT ?? 2_000, 2002],
] as const) {
  test(`${n} messages through a dropping, reordering, duplicating, fragmenting channel [${be.name}]`, () => {
    const r = check(be, seed, n);
    if (process.env.OTR_VERBOSE) console.log(JSON.stringify(r));
  });
}

for (const be of [WASM, JS]) {
  test(`max_skip: a message past it is refused (LIMIT_EXCEEDED) and changes nothing; within it, skipped keys are kept [${be.name}]`, () => {
    const p = makePair(be, 3003, { limits: { maxSkip: 5 } });
    establish(p);
    const m = Array.from({ length: 8 }, (_, i) => p.a.send(`s${i}`).toSend[0]!);
    const before = p.bob.serialize();
    const far = p.b.receive(m[6]!);
    assert.equal(texts([far]), []);
    assert.ok(far.events.some((e) => e.type === 'unreadable' && e.code === 'LIMIT_EXCEEDED'));
    assert.equal(p.bob.serialize(), before, 'a refused message changed the state');
    assert.equal(texts([p.b.receive(m[5]!)]), ['s5']);
    for (const i of [3, 0, 4, 1, 2, 6, 7]) assert.equal(texts([p.b.receive(m[i]!)]), [`s${i}`]);
    const fresh = exchangeFresh(p.a, p.b, 'x');
    assert.equal([fresh.atB, fresh.atA], [['fresh a->b x'], ['fresh b->a x']]);
  });
}

test.run();
