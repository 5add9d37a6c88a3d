/**
 * Telling a message we already received from other messages we have no key for (session 10, issue 12): a
 * host that crashed between committing a receive and showing it gets the message again after its restart, and
 * the ratchet refuses it (STATE: its key was used and deleted). That refusal is right; this only lets the
 * session layer say *why* — `unreadable` with `reason: 'already-received'` — so the host can tell "already
 * received" from a real failure.
 *
 * Only an authentic message gets that answer: its authenticator must verify under one of our MAC keys still
 * waiting to be revealed. Until our next message reveals them (otrv4.md §Revealing MAC Keys), only the peer and
 * we hold those keys, so a forged or altered message — or one made with a MAC key already revealed, which anyone
 * who saw our message can do — never passes: the answer is given after a MAC check, never instead of one, and
 * it is local (the event), nothing changes on the wire. Once the keys are revealed nothing we keep can
 * authenticate the message, and a replay is the ordinary STATE failure again.
 *
 * The queue also holds the MAC keys of skipped keys dropped unread (expired, or evicted past
 * maxStoredMessageKeys), which the queue does not tell apart: a message that arrives after its key was dropped,
 * before our next message, is also named already-received (its key was consumed by this state, never to be
 * shown).
 *
 * Cost, bounded for hostile input (anyone who can inject a message with a stale position in its plaintext
 * header makes us run this): only the newest keys are tried — a redelivery follows the receive it repeats —
 * at most REPLAY_KEYS_TRIED of them (not the whole queue, up to limits.maxMacKeysToReveal = 1,000), and only
 * as many as keep the bytes hashed within REPLAY_BYTES_HASHED: a big message gets one try, which is what any
 * message at a fresh position with a wrong authenticator costs already (measured: docs/stores.md, session 10).
 */
import type { CryptoBackend } from '../backend/types.js';
import { authenticatorMatches } from './keys.js';
import { MAC_KEY_BYTES, macKeyCount } from './mac-queue.js';
import type { RatchetState } from './state.js';
import type { ReceivedDataMessage } from './receive.js';

/** How many of the newest unrevealed MAC keys a refused message is tried against, at most. */
export const REPLAY_KEYS_TRIED = 16;
/** And at most as many as hash this many authenticated bytes in all (at least one try). */
export const REPLAY_BYTES_HASHED = 16 * 1024;

/** Whether `msg`, refused by `state` for want of a key, verifies under one of its newest unrevealed MAC keys. */
export function receivedBefore(b: CryptoBackend, state: RatchetState, msg: ReceivedDataMessage): boolean {
  const queue = state.macKeysToReveal;
  const n = macKeyCount(queue);
  const tries = Math.min(REPLAY_KEYS_TRIED, Math.max(1, Math.floor(REPLAY_BYTES_HASHED / Math.max(1, msg.authenticated.length))));
  for (let i = n - 1; i >= Math.max(0, n - tries); i--) {
    // A view of the queued key: authenticatorMatches only reads it (and wipes its own expected tag).
    if (authenticatorMatches(b, queue.subarray(i * MAC_KEY_BYTES, (i + 1) * MAC_KEY_BYTES), msg.authenticated, msg.authenticator)) return true;
  }
  return false;
}
