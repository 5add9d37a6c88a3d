/**
 * Two in-memory OTRv3 conversations for the v3 suites: deterministic keys, randomness and clock, a pump that
 * delivers messages both ways until quiet, and cached long-term DSA keys (generation takes a moment).
 */
import type { CryptoBackend } from '../../ts/backend/types.js';
import { type DsaPrivateKey, dsaGenerateKey } from '../../ts/crypto/dsa.js';
import { V3Conversation, type V3Event, type V3Options } from '../../ts/v3/index.js';
import { seededRandom } from '../helpers/rng.js';
import { dhKeyPairV3 } from '../../ts/v3/group.js';

const keys = new Map<number, DsaPrivateKey>();
export function testDsaKey(seed: number): DsaPrivateKey {
  let k = keys.get(seed);
  if (!k) keys.set(seed, (k = dsaGenerateKey(seededRandom(seed), { rounds: 20 })));
  return k;
}

export const ALICE_TAG = 0x1111_0100;
export const BOB_TAG = 0x2222_0200;

export interface Side {
  conv: V3Conversation;
  opts: V3Options;
  user: string[];
  events: V3Event[];
}

export function makeSide(backend: CryptoBackend, who: 'alice' | 'bob', over: Partial<V3Options> = {}, seed = 1): Side {
  let t = 1_700_000_000_000;
  const opts: V3Options = {
    backend,
    dsaKey: testDsaKey(who === 'alice' ? 0xa11ce : 0xb0b),
    instanceTag: who === 'alice' ? ALICE_TAG : BOB_TAG,
    random: seededRandom((who === 'alice' ? 0x1000 : 0x2000) + seed),
    now: () => t,
    ...over,
  };
  void t;
  return { conv: new V3Conversation(opts), opts, user: [], events: [] };
}

/** Delivers `msgs` from `from` to `to`, then replies, until nobody has anything to send. */
export function pump(from: Side, to: Side, msgs: string[], maxRounds = 20): void {
  let q = msgs;
  let [src, dst] = [from, to];
  for (let i = 0; q.length; i++) {
    if (i > maxRounds) throw new Error('pump does not settle');
    const next: string[] = [];
    for (const m of q) {
      const r = dst.conv.receive(m);
      dst.user.push(...r.toUser);
      dst.events.push(...r.events);
      next.push(...r.toSend);
    }
    q = next;
    [src, dst] = [dst, src];
  }
  void src;
}

/** Alice and Bob with an encrypted v3 session (Alice sends the query, Bob commits). */
export function encryptedPair(backend: CryptoBackend, over: Partial<V3Options> = {}, seed = 1): { a: Side; b: Side } {
  const a = makeSide(backend, 'alice', over, seed);
  const b = makeSide(backend, 'bob', over, seed);
  pump(a, b, a.conv.start().toSend);
  if (a.conv.msgstate !== 'encrypted' || b.conv.msgstate !== 'encrypted') throw new Error('pair did not go encrypted');
  return { a, b };
}

export const eventsOf = <T extends V3Event['type']>(s: Side, t: T): Extract<V3Event, { type: T }>[] =>
  s.events.filter((e): e is Extract<V3Event, { type: T }> => e.type === t);

/**
 * A hostile Alice writing `n` messages one-way, rotating her own D-H key after each as if Bob had acknowledged
 * it, so each message advances his view and retires one of his receiving MAC keys (attacks/s14-deny-v3): his list
 * of MAC keys to reveal grows by one per message. (The conversation copies its state on every call: the key
 * state is fetched anew.)
 */
export function rotatingOneWay(backend: CryptoBackend, a: V3Conversation, b: { receive(text: string): unknown }, n: number, seed: number): void {
  const rnd = seededRandom(seed);
  for (let i = 0; i < n; i++) {
    for (const m of a.send(`m${i}`).toSend) b.receive(m);
    const keys = a.state.keys!;
    keys.ourPrev = keys.ourCur;
    keys.ourCur = dhKeyPairV3(backend, rnd);
    keys.ourKeyid++;
  }
}
