/**
 * The peer's devices as a conversation sees them (issue 13): one entry per remote instance tag we hold state
 * for (and the OTRv3 session, which has one instance), with the fingerprint its session showed, that
 * fingerprint's trust in the account's store, and the instance's state. What `conversation.devices` returns.
 */
import type { ConversationState, ProtocolVersion, Trust } from './events.js';
import type { LastSeenFingerprints } from './fingerprints.js';

export interface Device {
  /** The remote instance tag (what `send(text, { instance })` takes). */
  instance: number;
  version: ProtocolVersion;
  state: ConversationState;
  /** The long-term fingerprint of the session on this instance (hex), when one completed. */
  fingerprint?: string;
  trust?: Trust;
  /** The instance `send()` uses by default. */
  current: boolean;
  /** A repair DAKE is under way (policy.healSessions). */
  healing: boolean;
}

export function device(
  store: LastSeenFingerprints,
  peer: string,
  d: { instance: number; version: ProtocolVersion; state: ConversationState; fingerprint?: string; current: boolean; healing: boolean },
): Device {
  const trust = d.fingerprint ? store.trustOf(peer, d.fingerprint) : undefined;
  return { ...d, ...(d.fingerprint ? { fingerprint: d.fingerprint } : {}), ...(trust ? { trust } : {}) };
}
