/**
 * What a conversation reports back to the host. `receive`, `send` and the other calls return an `Outcome`
 * (ts-mls style): the strings to put on the network, the messages to show the user, and events. Nothing is
 * delivered through callbacks and nothing inside does I/O.
 */
import type { OtrErrorCode } from '../errors.js';

export type ProtocolVersion = 3 | 4;

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
  | { type: 'finished'; instance: number; reason: 'peer-ended' | 'expired' }
  | { type: 'ended'; instance: number }
  /** A plaintext message arrived while a policy or state said it should have been encrypted. */
  | { type: 'unencrypted-warning'; instance: number }
  /** The peer sent an OTR error message (the text is the peer's, never ours). */
  | { type: 'peer-error'; code?: string; message: string }
  /** Something arrived that could not be read; `code` is the typed error's code. */
  | { type: 'unreadable'; instance: number; code: OtrErrorCode; detail: string }
  /** A message arrived that this state ignores (as the spec says), e.g. an Auth-R in START. */
  | { type: 'ignored'; instance: number; reason: string }
  /** A data message was reported lost: its message key was never used and has been dropped. */
  | { type: 'message-lost'; instance: number; ratchetId: number; messageId: number }
  /** An extra symmetric key (TLV 7) derived for the application, with its 4-byte context. */
  | { type: 'extra-key'; instance: number; key: Uint8Array; context: Uint8Array; data: Uint8Array; direction: 'sent' | 'received' }
  /** A user message could not be sent now (FINISHED, or encryption required): it is queued or refused. */
  | { type: 'not-sent'; reason: 'finished' | 'queued'; text: string }
  | { type: 'smp'; instance: number; status: 'asked' | 'in-progress' | 'succeeded' | 'failed' | 'aborted' | 'invalid'; question?: string };

export interface Outcome {
  /** Strings to transmit to the peer, in order (already fragmented to the policy's maximum size). */
  toSend: string[];
  /** Messages to display. */
  messages: ReceivedMessage[];
  events: OtrEvent[];
}

export function emptyOutcome(): Outcome {
  return { toSend: [], messages: [], events: [] };
}
