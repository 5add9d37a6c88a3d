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
 * re-encode unchanged). Restore refuses, with OtrDecodeError, a value that is not bytes, holds a partial key, or
 * more keys than max(limits.maxMacKeysToReveal, its default): a record written under the default still
 * restores under a lower limit (the next hand-over trims it), as OTRv3's list does (v3/state-codec.ts).
 */
import type { CryptoBackend } from '../backend/types.js';
import { OtrDecodeError } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { retireMacKeys, type RatchetState } from '../ratchet/index.js';
import { joinMacKeys, MAC_KEY_BYTES, macKeysFrom, NO_MAC_KEYS } from '../ratchet/mac-queue.js';
import { expect, type StateValue } from './state-codec.js';

/** `kept` with the MAC keys `ended` still had to publish after them (ended is wiped), the newest `limits.maxMacKeysToReveal`. */
export function keepEndedMacKeys(b: CryptoBackend, kept: Uint8Array, ended: RatchetState, limits: Pick<Limits, 'maxMacKeysToReveal'>): Uint8Array {
  return joinMacKeys(kept, retireMacKeys(b, ended), limits.maxMacKeysToReveal);
}

/** The most keys a restored field may hold. */
function maxRestoredEndedMacKeys(limits: Pick<Limits, 'maxMacKeysToReveal'>): number {
  return Math.max(limits.maxMacKeysToReveal, DEFAULT_LIMITS.maxMacKeysToReveal);
}

/** The record's `endedMacKeys` (absent or null: none) as an owned queue, checked before anything is copied. */
export function endedMacKeysFromValue(v: StateValue | undefined, limits: Pick<Limits, 'maxMacKeysToReveal'>): Uint8Array {
  if (v === undefined || v === null) return NO_MAC_KEYS;
  const keys = expect.bytes(v, 'endedMacKeys');
  if (keys.length % MAC_KEY_BYTES !== 0) throw new OtrDecodeError('state: endedMacKeys must hold whole 64-byte keys');
  if (keys.length > maxRestoredEndedMacKeys(limits) * MAC_KEY_BYTES) throw new OtrDecodeError('state: endedMacKeys holds too many keys');
  return macKeysFrom(keys);
}
