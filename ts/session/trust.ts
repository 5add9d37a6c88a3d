/**
 * What the session layer does with a peer's fingerprint: when a DAKE completes, judge it against the
 * account's trust store (fingerprints.ts) — is it new, did it change, may the session be used under
 * policy.refuseUnverifiedChange — and when SMP succeeds, mark it verified. Pure decisions over the store; the
 * conversation applies them. docs/trust.md.
 */
import type { OtrEvent, ProtocolVersion, Trust } from './events.js';
import { isVerified, type LastSeenFingerprints } from './fingerprints.js';

export interface FingerprintVerdict {
  /** `fingerprint-new` / `fingerprint-changed`, in that order, as they apply. */
  events: OtrEvent[];
  trust: Trust;
  previous?: string;
  /** Set when the session must not be used (policy.refuseUnverifiedChange). */
  refuse?: 'changed-unverified' | 'revoked';
}

/**
 * Records `fingerprint` (from a completed DAKE with `peer`) and decides. A refused fingerprint is recorded
 * (so the user can verify it) but does not become the peer's last-seen one: until it is verified, every
 * session with it is a change again.
 */
export function judgeFingerprint(
  store: LastSeenFingerprints,
  peer: string,
  instance: number,
  version: ProtocolVersion,
  fingerprint: string,
  nowMs: number,
  refuseUnverifiedChange: boolean,
): FingerprintVerdict {
  const o = store.record(peer, version, fingerprint, nowMs);
  const trust = o.entry.trust;
  const events: OtrEvent[] = [];
  if (o.isNew) events.push({ type: 'fingerprint-new', instance, version, fingerprint, trust });
  if (o.previous !== undefined) events.push({ type: 'fingerprint-changed', instance, version, previous: o.previous, fingerprint });
  const refuse = !refuseUnverifiedChange
    ? undefined
    : trust === 'revoked'
      ? 'revoked'
      : o.previous !== undefined && !isVerified(trust)
        ? 'changed-unverified'
        : undefined;
  if (!refuse) store.adopt(peer, version, fingerprint);
  return { events, trust, ...(o.previous !== undefined ? { previous: o.previous } : {}), ...(refuse ? { refuse } : {}) };
}

/**
 * SMP succeeded in a session with `fingerprint`: it is the peer's (the secret matched over a channel bound
 * to both fingerprints and the SSID). A hand verification is kept as it is (the stronger statement).
 */
export function smpVerified(store: LastSeenFingerprints, peer: string, instance: number, version: ProtocolVersion, fingerprint: string): OtrEvent {
  if (store.trustOf(peer, fingerprint) !== 'verified-hand') store.verify(peer, fingerprint, 'verified-smp');
  return { type: 'verified', instance, version, fingerprint, by: 'smp' };
}
