/**
 * Per-conversation policy (otrv4.md §The Protocol State Machine; the OTRv3 policy flags carried over).
 * Hosts set it per account and may override it per peer.
 */
export interface Policy {
  /** Speak OTRv4. */
  allowV4: boolean;
  /** Fall back to OTRv3 with peers that only speak it. */
  allowV3: boolean;
  /** Never send a user message in plaintext: queue it and start OTR instead. */
  requireEncryption: boolean;
  /** Advertise OTR by a whitespace tag on outgoing plaintext (until the peer answers in plaintext). */
  sendWhitespaceTag: boolean;
  /** Start the (D)AKE when a whitespace tag arrives. */
  whitespaceStartAke: boolean;
  /** Answer an OTR error message with a query message (OTRv3's ERROR_START_AKE). */
  errorStartAke: boolean;
  /** Bytes of padding to round plaintexts up to (0: no padding TLV). */
  paddingBlock: number;
  /** Idle time (ms) without a new ECDH key after which the session expires (otrv4.md §Session Expiration). */
  sessionExpiryMs: number;
  /** Idle time (ms) after which an empty heartbeat message is sent on receipt of a data message. */
  heartbeatMs: number;
  /** Maximum size (characters) of one outgoing network message; longer messages are fragmented. 0: never. */
  maxMessageSize: number;
  /** How long (ms) to keep data messages that arrive before the DAKE completes (spec: 10-60 minutes). */
  earlyDataRetentionMs: number;
  /**
   * Refuse a session whose peer fingerprint changed from the last one seen and is not verified (by SMP or by
   * hand), or is revoked: the new session's keys are dropped after a disconnect message (docs/trust.md).
   */
  refuseUnverifiedChange: boolean;
  /**
   * Repair a broken session by itself: on the peer's ERROR_1, or limits.healAfterUnreadable unreadable data
   * messages in a row, start a new DAKE (rate-limited by limits.heal*) and re-send what the peer may not have
   * read; after session expiry, a new message is queued and a new DAKE started instead of refusing it.
   */
  healSessions: boolean;
}

export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze({
  allowV4: true,
  allowV3: true,
  requireEncryption: false,
  sendWhitespaceTag: false,
  whitespaceStartAke: true,
  errorStartAke: true,
  paddingBlock: 0,
  sessionExpiryMs: 2 * 3600 * 1000,
  heartbeatMs: 60 * 1000,
  maxMessageSize: 0,
  earlyDataRetentionMs: 10 * 60 * 1000,
  refuseUnverifiedChange: false,
  healSessions: true,
});

export function resolvePolicy(...overrides: (Partial<Policy> | undefined)[]): Policy {
  return Object.assign({}, DEFAULT_POLICY, ...overrides.filter(Boolean));
}
