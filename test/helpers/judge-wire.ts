/**
 * What a judge holds in the deniability tests (test/attacks/s14-deny-*, s15-deny-*): every string Bob put on
 * the wire, delivered between the two conversations of a session pair until both are quiet. A message of
 * Alice's is deniable towards third parties once `findMacKey` (otr4/forge) finds its MAC key in what Bob sent.
 */
import * as assert from 'uvu/assert';
import type { Outcome } from '../../ts/index.js';
import type { Conversation } from '../../ts/session/conversation.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import { findMacKey } from '../../ts/forge/index.js';
import { establish, makePair, type Pair } from './session-pair.js';

export class JudgeWire {
  readonly bob: string[] = [];
  constructor(
    private a: Conversation,
    private b: Conversation,
  ) {}
  /** Bob's call: what he sends is recorded and delivered to Alice, and her answers back, until quiet. */
  bobSays(out: Outcome): void {
    this.deliver(out.toSend, this.a, this.b);
  }
  /** Alice's strings delivered to Bob (and the replies back and forth until quiet). */
  toBob(strings: readonly string[]): void {
    this.deliver(strings, this.b, this.a);
  }
  /** Bob's conversation replaced by a restored copy (a restart). */
  restartBob(b: Conversation): void {
    this.b = b;
  }
  private deliver(strings: readonly string[], dst: Conversation, back: Conversation): void {
    let queue = strings.map((text) => ({ dst, back, text }));
    for (let guard = 0; queue.length; guard++) {
      if (guard > 100) throw new Error('did not settle');
      const next: typeof queue = [];
      for (const m of queue) {
        if (m.back === this.b) this.bob.push(m.text);
        const r = m.dst.receive(m.text);
        for (const t of r.toSend) next.push({ dst: m.back, back: m.dst, text: t });
      }
      queue = next;
    }
  }
}

/** Alice's next data message, not delivered (one string: no fragmentation in these pairs). */
export function aliceWrites(c: Conversation, text: string): string {
  const s = c.send(text).toSend;
  assert.is(s.length, 1);
  return s[0]!;
}

/** The names of `messages` whose MAC key nothing Bob sent reveals. */
export function unrevealed(be: CryptoBackend, w: JudgeWire, messages: Record<string, string>): string[] {
  return Object.entries(messages)
    .filter(([, m]) => findMacKey(be, m, w.bob) === undefined)
    .map(([name]) => name);
}

/**
 * A session pair after a round trip, then Alice's m1..m3 on a new ratchet of hers, of which Bob reads m1 and m3
 * (m2 is held back: a stored skipped key of his). The messages are returned by name (a map the tests extend).
 */
export function outOfOrder(be: CryptoBackend, seed: number): { p: Pair; w: JudgeWire; m: Record<string, string> } {
  const p = makePair(be, seed);
  establish(p);
  const w = new JudgeWire(p.a, p.b);
  // A round trip first, so Alice's messages below are on a ratchet that Bob answers to normally.
  w.bobSays(p.b.send('hello'));
  const m: Record<string, string> = { m1: aliceWrites(p.a, 'one'), m2: aliceWrites(p.a, 'two'), m3: aliceWrites(p.a, 'three') };
  w.toBob([m.m1!, m.m3!]);
  return { p, w, m };
}
