/**
 * Attack (session 14, deniability audit): a judge is handed the wire transcript of a conversation and asked
 * whether Alice wrote a message. The message is deniable towards third parties only if its MAC key was
 * published (otrv4.md §Revealing MAC Keys, §Forging Transcripts): then anyone could have altered it and
 * re-MACed it. The receiver (Bob) must therefore put on the wire, eventually, the MAC key of every data
 * message of Alice's that was made under his session — received in order, out of order, or not at all
 * (stored skipped keys are derived and revealed when the store is deleted: §Session Expiration) — however
 * the session ends: `end()`, expiry, or a new DAKE that replaces the session on the same instance.
 *
 * The check is the judge's own tool: `findMacKey` (otr4/forge) looks for a revealed key in everything Bob
 * sent that authenticates the message. Found means forgeable by anyone.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Outcome } from '../../ts/index.js';
import type { Conversation } from '../../ts/session/conversation.js';
import { findMacKey } from '../../ts/forge/index.js';
import { WASM } from '../helpers/backends.js';
import { establish, makePair, type Pair } from '../helpers/session-pair.js';

const be = WASM;

/** Everything Bob puts on the wire from now on (what a recording observer, or a judge, holds). */
class Wire {
  readonly bob: string[] = [];
  constructor(private readonly p: Pair) {}
  /** Bob's call; what he sends is recorded and delivered to Alice, and her answers back, until quiet. */
  bobSays(out: Outcome): void {
    this.deliver(out.toSend, this.p.a, this.p.b);
  }
  /** Alice's strings delivered to Bob (and the replies back and forth until quiet). */
  toBob(strings: readonly string[]): void {
    this.deliver(strings, this.p.b, this.p.a);
  }
  private deliver(strings: readonly string[], dst: Conversation, back: Conversation): void {
    let queue = strings.map((text) => ({ dst, back, text }));
    for (let guard = 0; queue.length; guard++) {
      if (guard > 100) throw new Error('did not settle');
      const next: typeof queue = [];
      for (const m of queue) {
        if (m.back === this.p.b) this.bob.push(m.text);
        const r = m.dst.receive(m.text);
        for (const t of r.toSend) next.push({ dst: m.back, back: m.dst, text: t });
      }
      queue = next;
    }
  }
}

/** Alice's next data message, not delivered (one string: no fragmentation in these pairs). */
function aliceWrites(c: Conversation, text: string): string {
  const s = c.send(text).toSend;
  assert.is(s.length, 1);
  return s[0]!;
}

function unrevealed(w: Wire, messages: Record<string, string>): string[] {
  return Object.entries(messages)
    .filter(([, m]) => findMacKey(be, m, w.bob) === undefined)
    .map(([name]) => name);
}

/** Alice sends m1..m3 on a new ratchet of hers; Bob gets m1 and m3 (m2 is held back: a stored skipped key). */
function outOfOrder(seed: number) {
  const p = makePair(be, seed);
  establish(p);
  const w = new Wire(p);
  // A round trip first, so Alice's messages below are on a ratchet that Bob answers to normally.
  w.bobSays(p.b.send('hello'));
  const m = { m1: aliceWrites(p.a, 'one'), m2: aliceWrites(p.a, 'two'), m3: aliceWrites(p.a, 'three') };
  w.toBob([m.m1, m.m3]);
  return { p, w, m };
}

test("end(): Bob's disconnect reveals the MAC keys of the messages he read and of the one still missing (its stored key)", () => {
  const { p, w, m } = outOfOrder(1401);
  w.bobSays(p.b.end());
  assert.equal(unrevealed(w, m), []);
});

test('expiry: the disconnect reveals the MAC keys of the messages read and of the stored skipped key', () => {
  const { p, w, m } = outOfOrder(1402);
  p.clock.advance(p.bob.policy.sessionExpiryMs);
  w.bobSays(p.b.poll());
  assert.is(p.b.state, 'FINISHED');
  assert.equal(unrevealed(w, m), []);
});

test('a skipped key used later: its MAC key is revealed in the next ratchet like the others', () => {
  const { p, w, m } = outOfOrder(1403);
  w.toBob([m.m2]);
  // Bob answers (a new sending chain of his: it reveals his queue), Alice answers, Bob again.
  w.bobSays(p.b.send('got them'));
  w.toBob([aliceWrites(p.a, 'good')]);
  w.bobSays(p.b.send('bye for now'));
  assert.equal(unrevealed(w, m), []);
});

test("a new DAKE replaces the session on the same instance: the old session's MAC keys are still revealed", () => {
  const { p, w, m } = outOfOrder(1404);
  // Alice restarts (a new DAKE under the same instance tags): Bob's old session, with three keys to reveal
  // (m1 and m3 read, m2's stored), is replaced.
  w.toBob(p.a.startDake().toSend);
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
  // The new session runs on and ends as usual.
  w.bobSays(p.b.send('new session'));
  w.toBob([aliceWrites(p.a, 'yes')]);
  w.bobSays(p.b.send('and again'));
  w.bobSays(p.b.end());
  assert.equal(unrevealed(w, m), []);
});

test('a session replaced right before it ends: end() still reveals the old keys (in the disconnect)', () => {
  const { p, w, m } = outOfOrder(1405);
  w.toBob(p.a.startDake().toSend);
  w.bobSays(p.b.end());
  assert.equal(unrevealed(w, m), []);
});

test.run();
