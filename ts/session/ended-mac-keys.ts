/**
 * The MAC keys of OTRv4 sessions that ended without publishing them, kept by the conversation until its next
 * session publishes them (docs/security.md [s15-deny], docs/deniability.md). Two ends publish nothing: the
 * peer's disconnect (TLV 1: otrv4.md §Receiving a Data Message says forget every key, and we have no message
 * left to send in that session) and a session dropped after a rollback of the store (abandonSessions: a
 * disconnect would use a key that may have been used already). Their MAC keys — of the peer's messages we read
 * since our last sending step, the disconnect's own among them, and derived from our stored skipped keys — were
 * wiped unpublished, so those messages stayed authenticated under keys only the two parties held: not forgeable
 * by third parties.
 *
 * Kept: MAC keys only (ratchet/receive.ts retireMacKeys), never an encryption or chain key. Each authenticates
 * a message of a session that no longer exists, so none can make us accept anything, and the peer never
 * accepts a message under a key of its own sending chain. The conversation's next OTRv4 session (on any of its
 * instances: the same peer account) takes them ahead of its own queue (withMacKeysAhead) and its next revealing
 * message, or its disconnect, publishes them. At most limits.maxMacKeysToReveal are kept, the newest, however
 * often a peer ends sessions.
 *
 * Persisted as the conversation record's field `endedMacKeys`: the keys concatenated, oldest first, written
 * only when there is one (a record without it reads as none, so records written before session 15 restore and
 * re-encode unchanged). Restore refuses, with OtrDecodeError, a value that is not bytes or holds a partial key;
 * more keys than limits.maxMacKeysToReveal (a record written under a higher limit) are trimmed to the newest,
 * with a state-trimmed event (session 15, [s15-restore]).
 */
import type { CryptoBackend } from '../backend/types.js';
import { OtrDecodeError } from '../errors.js';
import type { Limits } from '../limits.js';
import { retireMacKeys, type RatchetState } from '../ratchet/index.js';
import { joinMacKeys, keepNewestMacKeys, MAC_KEY_BYTES, macKeyCount, macKeysFrom, NO_MAC_KEYS } from '../ratchet/mac-queue.js';
import { expect, type StateValue } from './state-codec.js';

/** `kept` with the MAC keys `ended` still had to publish after them (ended is wiped), the newest `limits.maxMacKeysToReveal`. */
export function keepEndedMacKeys(b: CryptoBackend, kept: Uint8Array, ended: RatchetState, limits: Pick<Limits, 'maxMacKeysToReveal'>): Uint8Array {
  return joinMacKeys(kept, retireMacKeys(b, ended), limits.maxMacKeysToReveal);
}

/**
 * The record's `endedMacKeys` (absent or null: none) as an owned queue, checked before anything is copied, and
 * the number of keys dropped: at most limits.maxMacKeysToReveal stay, the newest, as a hand-over keeps them
 * (keepNewestMacKeys, the bound joinMacKeys applies) — a record written under a higher limit restores under a
 * lower one, the rest wiped. The count needs no bound of its own: the record's bytes bound it.
 */
export function endedMacKeysFromValue(v: StateValue | undefined, limits: Pick<Limits, 'maxMacKeysToReveal'>): { keys: Uint8Array; dropped: number } {
  if (v === undefined || v === null) return { keys: NO_MAC_KEYS, dropped: 0 };
  const bytes = expect.bytes(v, 'endedMacKeys');
  if (bytes.length % MAC_KEY_BYTES !== 0) throw new OtrDecodeError('state: endedMacKeys must hold whole 64-byte keys');
  const keys = keepNewestMacKeys(macKeysFrom(bytes), limits.maxMacKeysToReveal);
  return { keys, dropped: macKeyCount(bytes) - macKeyCount(keys) };
}
