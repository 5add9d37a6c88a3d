/**
 * Two accounts that talk to each other, for the session-level suites (adversarial channel, hostile input,
 * persistence, transcript): seeded randomness and one shared injected clock, so every run is reproducible.
 * The random sources are kept (`randA`, `randB`) so a restored account can continue the same stream.
 */
import { Account, type Outcome, type OtrEvent, type Policy } from '../../ts/index.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import type { Limits } from '../../ts/limits.js';
import type { Conversation } from '../../ts/session/conversation.js';
import type { RandomSource } from '../../ts/crypto/random.js';
import { seededRandom } from './rng.js';

export const ALICE_ID = 'alice@example.org';
export const BOB_ID = 'bob@example.org';
export const T0 = 1_700_000_000_000;

export interface TestClock {
  (): number;
  advance(ms: number): number;
}

export function testClock(start = T0): TestClock {
  let t = start;
  const f = (() => t) as TestClock;
  f.advance = (ms: number) => (t += ms);
  return f;
}

export interface PairOptions {
  policy?: Partial<Policy>;
  limits?: Partial<Limits>;
}

export interface Pair {
  clock: TestClock;
  randA: RandomSource;
  randB: RandomSource;
  alice: Account;
  bob: Account;
  /** Alice's conversation with Bob. */
  a: Conversation;
  /** Bob's conversation with Alice. */
  b: Conversation;
}

/** Alice and Bob without OTRv3 (no DSA key), randomness seeded by `seed` and `seed + 1`. */
export function makePair(be: CryptoBackend, seed: number, o: PairOptions = {}): Pair {
  const clock = testClock();
  const randA = seededRandom(seed);
  const randB = seededRandom(seed + 1);
  const common = { backend: be, clock, dsaKey: null, policy: o.policy, limits: o.limits };
  const alice = Account.create({ accountId: ALICE_ID, random: randA, ...common });
  const bob = Account.create({ accountId: BOB_ID, random: randB, ...common });
  return { clock, randA, randB, alice, bob, a: alice.conversation(BOB_ID), b: bob.conversation(ALICE_ID) };
}

/** Delivers every message in `out.toSend` to `to`, and the replies back, until both sides are quiet. */
export function pump(from: Conversation, to: Conversation, out: Outcome, log: { a: Outcome[]; b: Outcome[] } = { a: [], b: [] }) {
  let queue: { dst: Conversation; text: string }[] = out.toSend.map((text) => ({ dst: to, text }));
  let guard = 0;
  while (queue.length) {
    if (++guard > 100) throw new Error('pump did not settle');
    const next: typeof queue = [];
    for (const m of queue) {
      const r = m.dst.receive(m.text);
      (m.dst === to ? log.b : log.a).push(r);
      const back = m.dst === to ? from : to;
      for (const t of r.toSend) next.push({ dst: back, text: t });
    }
    queue = next;
  }
  return log;
}

/** Query from Alice, DAKE: Alice ends up the Auth-I receiver (ratchet id 0 sender), Bob the Auth-I sender. */
export function establish(p: Pair): void {
  pump(p.a, p.b, p.a.start());
  if (p.a.state !== 'ENCRYPTED_MESSAGES' || p.b.state !== 'ENCRYPTED_MESSAGES') throw new Error('DAKE did not complete');
}

export const events = (outs: Outcome[]): OtrEvent[] => outs.flatMap((o) => o.events);
export const texts = (outs: Outcome[]): string[] => outs.flatMap((o) => o.messages.map((m) => m.text));

/** A fresh message each way is read: the session is usable. Returns what each side read. */
export function exchangeFresh(a: Conversation, b: Conversation, tag: string): { atB: string[]; atA: string[] } {
  const atB = texts(a.send(`fresh a->b ${tag}`).toSend.map((t) => b.receive(t)));
  const atA = texts(b.send(`fresh b->a ${tag}`).toSend.map((t) => a.receive(t)));
  return { atB, atA };
}
