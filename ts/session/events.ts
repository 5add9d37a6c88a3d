/**
 * What a conversation reports back to the host. `receive`, `send` and the other calls return an `Outcome`
 * (ts-mls style): the strings to put on the network, the messages to show the user, and events. Nothing is
 * delivered through callbacks and nothing inside does I/O.
 */
import type { OtrErrorCode } from '../errors.js';
import type { RecordChange } from '../store/types.js';

export type ProtocolVersion = 3 | 4;

/** How far a peer's fingerprint is trusted: by nobody yet, by a successful SMP, by the user's own comparison, or revoked. */
export type Trust = 'unverified' | 'verified-smp' | 'verified-hand' | 'revoked';

export type ConversationState = 'START' | 'WAITING_AUTH_R' | 'WAITING_AUTH_I' | 'ENCRYPTED_MESSAGES' | 'FINISHED';

export interface ReceivedMessage {
  /** The human-readable text (may be empty for TLV-only messages, which are not reported as messages). */
  text: string;
  /** True if it arrived in an authenticated, encrypted data message. */
  encrypted: boolean;
  /** The sender's instance tag (0 for plaintext). */
  instance: number;
  version?: ProtocolVersion;
}

export type OtrEvent =
  | { type: 'state'; instance: number; from: ConversationState; to: ConversationState; version?: ProtocolVersion }
  /** The DAKE completed: the session id for users to compare out of band (hex, 16 digits). */
  | { type: 'encrypted'; instance: number; ssid: string; version: ProtocolVersion; peerFingerprint: string }
  /**
   * The session ended without our doing: the peer ended it, it expired, or (`rollback`) its saved state was
   * found older than state already used, so it was dropped without encrypting again (docs/persistence.md), or
   * (`state-limit`) its conversation's record could not be brought within limits.maxConversationStateBytes
   * otherwise (the last thing shed: a `state-trimmed` `sessions` follows; the session is then FINISHED, as one
   * the peer ended: a send is refused until the user starts again).
   */
  | { type: 'finished'; instance: number; reason: 'peer-ended' | 'expired' | 'rollback' | 'state-limit' }
  | { type: 'ended'; instance: number }
  /** A plaintext message arrived while a policy or state said it should have been encrypted. */
  | { type: 'unencrypted-warning'; instance: number }
  /** The peer sent an OTR error message (the text is the peer's, never ours). */
  | { type: 'peer-error'; code?: string; message: string }
  /**
   * Something arrived that could not be read; `code` is the typed error's code. `reason: 'already-received'`
   * (with code STATE): an authentic data message this session already received — its authenticator verifies
   * under one of our MAC keys not yet revealed — whose key is used up, e.g. redelivered after the host crashed
   * between committing its receive and showing it. Nothing is shown; whether it was shown before is the
   * host's book (docs/persistence.md, "Already received").
   */
  | { type: 'unreadable'; instance: number; code: OtrErrorCode; detail: string; reason?: 'already-received' }
  /** A message arrived that this state ignores (as the spec says), e.g. an Auth-R in START. */
  | { type: 'ignored'; instance: number; reason: string }
  /** A data message was reported lost: its message key was never used and has been dropped. */
  | { type: 'message-lost'; instance: number; ratchetId: number; messageId: number }
  /** An extra symmetric key (TLV 7) derived for the application, with its 4-byte context. */
  | { type: 'extra-key'; instance: number; key: Uint8Array; context: Uint8Array; data: Uint8Array; direction: 'sent' | 'received' }
  /** A user message could not be sent now (FINISHED, or encryption required): it is queued or refused. */
  | { type: 'not-sent'; reason: 'finished' | 'queued'; text: string }
  /**
   * A possible downgrade to OTRv3 by an active attacker: both sides allow OTRv4, and an OTRv3-only offer or an
   * OTRv3 AKE came from a peer that has completed an OTRv4 DAKE with us before (docs/security.md).
   */
  | { type: 'downgrade'; instance: number; reason: 'v3-only-offer' | 'v3-ake' | 'v3-session' }
  /** The protocol version `send` uses changed (e.g. an OTRv3 session replaced an OTRv4 one). */
  | { type: 'version-switched'; instance: number; from: ProtocolVersion; to: ProtocolVersion }
  /** Another remote instance became the one `send` uses (a new device of the peer — or someone else). */
  | { type: 'instance-switched'; from: number; to: number; version: ProtocolVersion }
  /** A new DAKE completed on an instance that already had a session: the old session's keys are gone. */
  | { type: 'session-replaced'; instance: number; version: ProtocolVersion }
  /** The peer's long-term fingerprint differs from the last one seen for this peer (hex, per version). */
  | { type: 'fingerprint-changed'; instance: number; version: ProtocolVersion; previous: string; fingerprint: string }
  /** A completed DAKE showed a fingerprint never seen for this peer (the first one too); `trust` is its trust. */
  | { type: 'fingerprint-new'; instance: number; version: ProtocolVersion; fingerprint: string; trust: Trust }
  /** SMP succeeded in the session with this fingerprint: it is now trusted (`verified-smp`) in the account's store. */
  | { type: 'verified'; instance: number; version: ProtocolVersion; fingerprint: string; by: 'smp' }
  /**
   * A completed DAKE was not used (policy.refuseUnverifiedChange): its fingerprint changed and is not verified,
   * or is revoked. A disconnect was sent on it; verify the fingerprint (or relax the policy) and start again.
   */
  | { type: 'session-refused'; instance: number; version: ProtocolVersion; fingerprint: string; previous?: string; reason: 'changed-unverified' | 'revoked' }
  /**
   * The DAKE failed only at its ring signature, after the peer's profile and keys checked out: most likely the
   * peer ids bound into it (phi) differ — the host passes a peer id that is not the peer's own account id
   * byte for byte (normalise, e.g. the bare JID for XMPP: docs/trust.md), or the peer names us differently.
   */
  | { type: 'peer-id-mismatch'; instance: number; step: 'auth-r' | 'auth-i'; ourId: string; peerId: string }
  /**
   * Session repair (policy.healSessions): `started` a new DAKE because of `reason`; `throttled` when the repair
   * budget (limits.heal*) is spent; `completed` when the new session is up; `resent` with how many messages
   * that the peer may not have read were sent again on it.
   */
  | { type: 'heal'; instance: number; step: 'started' | 'throttled' | 'completed' | 'resent'; reason: 'peer-error' | 'unreadable' | 'expired'; count?: number }
  /** Unauthenticated DAKE work was refused: the per-peer or per-account budget (limits.ts) is spent. */
  | { type: 'throttled'; instance: number; scope: 'peer' | 'account' }
  /** A DAKE we started or answered did not complete within limits.pendingDakeExpiryMs: its keys are gone. */
  | { type: 'dake-expired'; instance: number }
  /**
   * The conversation's record reached limits.maxConversationStateBytes: `count` items of `what` were dropped, oldest
   * first. Also on the first outcome of a conversation restored from a record written under higher limits than
   * the account's (maxStoredMessageKeys, maxMacKeysToReveal): what the restore dropped to keep within them, as
   * the live bounds would have (docs/persistence.md, session 15); `instances` (instance 0): remote instances
   * past maxInstancesPerConversation, those the live bound would have evicted (session 16). When nothing else
   * is left to shed: `smp`, an SMP exchange in progress aborted (with an `smp` aborted event; the peer gets the
   * abort with our next message), and last `sessions`, every session of the conversation ended (each with
   * `finished`, reason `state-limit`, left FINISHED; `start()` begins a new DAKE). Only that conversation is touched
   * (docs/persistence.md, session 16 [s16-shed]).
   */
  | { type: 'state-trimmed'; instance: number; what: 'pending-dake' | 'skipped-keys' | 'mac-keys' | 'queued-messages' | 'instances' | 'smp' | 'sessions'; count: number }
  /**
   * The account holds limits.maxAccountPendingDakes pending DAKEs that peers started: `count` of them, in the
   * conversation with `peer` (another one than this outcome's), were dropped, strangers' oldest first. That
   * conversation's record changed, or was deleted if nothing else was left (`changed` carries it). An honest
   * peer whose DAKE went simply starts again.
   */
  | { type: 'dakes-evicted'; peer: string; count: number }
  /**
   * A new conversation record would have passed limits.maxAccountConversations: the conversation with `peer`
   * (the least valuable: a stranger's before a session nobody here asked for, least recently written first)
   * was forgotten — keys wiped, its record deleted in this outcome's `changed`. The peer's next message is
   * unreadable and its repair (a new DAKE) starts the conversation again (docs/security.md, session 11).
   */
  | { type: 'conversation-evicted'; peer: string }
  /**
   * The peer sent a data message from a ratchet we have not reached: the sign of our state restored from an
   * older copy (or a forgery: it is unauthenticated). docs/persistence.md says what to do.
   */
  | { type: 'rollback-suspected'; instance: number; ratchetId: number; ourRatchet: number }
  | { type: 'smp'; instance: number; status: 'asked' | 'in-progress' | 'succeeded' | 'failed' | 'aborted' | 'invalid'; question?: string };

export interface Outcome {
  /** Strings to transmit to the peer, in order (already fragmented to the policy's maximum size). */
  toSend: string[];
  /** Messages to display. */
  messages: ReceivedMessage[];
  events: OtrEvent[];
  /**
   * The records this call changed (ts/session/records.ts), each at its next generation: commit them durably
   * before transmitting `toSend`. Set on every outcome a conversation's call returns; empty when nothing changed.
   * Each record's bytes are the caller's and never change afterwards; the account keeps reading the latest one
   * of each conversation to tell a later call that changes nothing (which then writes nothing). Wiping them after
   * the commit is fine: it only makes that conversation's next call write its record again.
   */
  changed?: RecordChange[];
}

export function emptyOutcome(): Outcome {
  return { toSend: [], messages: [], events: [] };
}
