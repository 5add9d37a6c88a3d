/**
 * Two accounts kept in record stores (openStoredAccount), for the records suites: every call's outcome is
 * committed before its strings go on the wire (the safe order), and `Wire` records every data message that
 * went out so a test can check that no message key was ever used for two different ciphertexts.
 */
import type { CryptoBackend } from '../../ts/backend/types.js';
import type { Conversation } from '../../ts/session/conversation.js';
import type { Outcome } from '../../ts/session/events.js';
import { openStoredAccount, type StoredAccount, type StoredAccountEvent } from '../../ts/session/account-store.js';
import type { RecordStore } from '../../ts/store/types.js';
import type { Limits } from '../../ts/limits.js';
import type { RandomSource } from '../../ts/crypto/random.js';
import { dearmour, isEncoded } from '../../ts/codec/armour.js';
import { MessageType, peekHeader } from '../../ts/wire/header.js';
import { decodeDataMessage } from '../../ts/wire/data.js';
import { bytesToHex } from '../../ts/bytes.js';
import { ALICE_ID, BOB_ID, testClock, type TestClock } from './session-pair.js';
import { seededRandom } from './rng.js';

export { ALICE_ID, BOB_ID };

export interface Side {
  readonly id: string;
  readonly peer: string;
  readonly store: RecordStore;
  readonly random: RandomSource;
  stored: StoredAccount;
  conv: Conversation;
  events: StoredAccountEvent[];
}

export interface StoredPair {
  readonly be: CryptoBackend;
  readonly clock: TestClock;
  readonly limits?: Partial<Limits>;
  a: Side;
  b: Side;
  readonly wire: Wire;
}

/** The key identity of a data message: sender tag, its ECDH key, ratchet id, message id. */
export function dataKeyId(text: string): { id: string; ciphertext: string } | undefined {
  if (!isEncoded(text)) return undefined;
  const bytes = dearmour(text);
  if (peekHeader(bytes).type !== MessageType.data) return undefined;
  const m = decodeDataMessage(bytes);
  return { id: `${m.senderTag}:${bytesToHex(m.ecdh)}:${m.ratchetId}:${m.messageId}`, ciphertext: bytesToHex(m.ciphertext) };
}

/** Every data message put on the wire; `reused` counts keys used for two different ciphertexts. */
export class Wire {
  readonly keys = new Map<string, string>();
  reused = 0;
  sent = 0;
  note(texts: readonly string[]): void {
    for (const t of texts) {
      const k = dataKeyId(t);
      if (!k) continue;
      this.sent++;
      const before = this.keys.get(k.id);
      if (before !== undefined && before !== k.ciphertext) this.reused++;
      this.keys.set(k.id, k.ciphertext);
    }
  }
}

export async function openSide(be: CryptoBackend, store: RecordStore, id: string, peer: string, random: RandomSource, clock: TestClock, limits?: Partial<Limits>, create = true): Promise<Side> {
  const events: StoredAccountEvent[] = [];
  const stored = await openStoredAccount(store, id, { create, account: { backend: be, random, clock, dsaKey: null, limits }, onEvent: (e) => events.push(e) });
  const conv = await stored.conversation(peer);
  return { id, peer, store, random, stored, conv, events };
}

/** Reopens a side from its store, as a restarted process does (nothing of the old one kept but the random stream). */
export async function reopen(p: StoredPair, side: Side): Promise<Side> {
  return openSide(p.be, side.store, side.id, side.peer, side.random, p.clock, p.limits, false);
}

export async function makeStoredPair(be: CryptoBackend, stores: [RecordStore, RecordStore], seed: number, limits?: Partial<Limits>): Promise<StoredPair> {
  const clock = testClock();
  const a = await openSide(be, stores[0], ALICE_ID, BOB_ID, seededRandom(seed), clock, limits);
  const b = await openSide(be, stores[1], BOB_ID, ALICE_ID, seededRandom(seed + 1), clock, limits);
  return { be, clock, limits, a, b, wire: new Wire() };
}

/** Commits `out` on `from`, then transmits (noted on the wire); returns the strings sent. */
export async function commitAndSend(p: StoredPair, from: Side, out: Outcome): Promise<string[]> {
  await from.stored.commit(out);
  p.wire.note(out.toSend);
  return out.toSend;
}

/** Delivers `texts` to `to` and the replies back (each side committing before it transmits), until quiet. */
export async function pumpStored(p: StoredPair, from: Side, to: Side, texts: readonly string[]): Promise<Outcome[]> {
  const log: Outcome[] = [];
  let queue = texts.map((text) => ({ dst: to, text }));
  let guard = 0;
  while (queue.length) {
    if (++guard > 100) throw new Error('pump did not settle');
    const next: typeof queue = [];
    for (const m of queue) {
      const r = m.dst.conv.receive(m.text);
      log.push(r);
      const back = m.dst === to ? from : to;
      for (const t of await commitAndSend(p, m.dst, r)) next.push({ dst: back, text: t });
    }
    queue = next;
  }
  return log;
}

export async function establishStored(p: StoredPair): Promise<void> {
  await pumpStored(p, p.a, p.b, await commitAndSend(p, p.a, p.a.conv.start()));
  if (p.a.conv.state !== 'ENCRYPTED_MESSAGES' || p.b.conv.state !== 'ENCRYPTED_MESSAGES') throw new Error('DAKE did not complete');
}

/**
 * The DAKE between a stored account's conversation `a` (started by it) and a plain account's `b`, in the
 * contract's order on the stored side: each of its outcomes is committed before its strings go out.
 */
export async function handshakeDurably(stored: StoredAccount, a: Conversation, b: Conversation): Promise<void> {
  const durable = async (out: Outcome): Promise<string[]> => {
    await stored.commit(out);
    return out.toSend;
  };
  let wire = await durable(a.start());
  while (wire.length) {
    const next: string[] = [];
    for (const t of wire) for (const u of b.receive(t).toSend) next.push(...(await durable(a.receive(u))));
    wire = next;
  }
}
