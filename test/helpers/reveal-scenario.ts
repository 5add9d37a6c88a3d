/**
 * A fixed ratchet conversation that queues, trims and reveals MAC keys (one-way runs, a late message, a
 * dropped skipped key, the queue's bound, revealAll): every wire message it makes, hex. Deterministic (seeded
 * randomness, fixed clock), so its bytes can be pinned against an earlier release's
 * (test/ratchet-mac-queue.test.ts: the queue's representation must not change one byte on the wire).
 */
import type { CryptoBackend } from '../../ts/backend/types.js';
import { decryptDataMessage, encryptDataMessage, type RatchetLimits, type RatchetState } from '../../ts/ratchet/index.js';
import { decodeDataMessage } from '../../ts/wire/data.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { seededRatchetPair } from './ratchet-pair.js';

export function revealScenario(b: CryptoBackend, seed: number): string[] {
  const { alice: a0, bob: b0, rnd } = seededRatchetPair(b, seed);
  let alice: RatchetState = a0;
  let bob: RatchetState = b0;
  const limits: RatchetLimits = { ...DEFAULT_LIMITS, maxMacKeysToReveal: 12, maxStoredMessageKeys: 3 };
  const wire: string[] = [];
  const text = (s: string) => new TextEncoder().encode(s);
  const hex = (u: Uint8Array) => Array.from(u, (x) => x.toString(16).padStart(2, '0')).join('');
  const sendA = (s: string, revealAll = false) => {
    const r = encryptDataMessage(b, rnd, alice, text(s), { senderTag: 0x101, receiverTag: 0x202, revealAll });
    alice = r.state;
    wire.push(hex(r.message));
    return r.message;
  };
  const sendB = (s: string, revealAll = false) => {
    const r = encryptDataMessage(b, rnd, bob, text(s), { senderTag: 0x202, receiverTag: 0x101, revealAll });
    bob = r.state;
    wire.push(hex(r.message));
    return r.message;
  };
  const toBob = (m: Uint8Array, now = 0) => (bob = decryptDataMessage(b, bob, decodeDataMessage(m), { now, limits }).state);
  const toAlice = (m: Uint8Array, now = 0) => (alice = decryptDataMessage(b, alice, decodeDataMessage(m), { now, limits }).state);
  for (let round = 0; round < 3; round++) {
    // A one-way run past the queue's bound (12): trimmed to 3/4, oldest first.
    const run = Array.from({ length: 20 }, (_, n) => sendA(`a${round}.${n}`));
    toBob(run[0]!);
    // Skips 1..5: 3 stored (maxStoredMessageKeys), the 2 oldest dropped and queued.
    toBob(run[6]!);
    toBob(run[5]!); // a stored skipped key, used
    for (let n = 7; n < 20; n++) toBob(run[n]!);
    toAlice(sendB(`b${round}`)); // a new ratchet: reveals Bob's queue
    toAlice(sendB(`b${round}.1`));
    toBob(sendA(`a${round}.back`)); // Alice's new ratchet reveals hers
  }
  // The disconnect-style reveal on the current chain.
  toBob(sendA('x'));
  toBob(sendA('y'));
  toAlice(sendB('bye', true));
  return wire;
}
