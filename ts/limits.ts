/**
 * Every resource limit of the library, in one table. Protocol code imports these defaults; hosts may lower
 * or raise them through the `limits` option of an account. A value here is a promise: hostile input can never
 * make the library use more than this.
 */
export interface Limits {
  /** Largest encoded message (`?OTR:...`) or plaintext accepted by `receive`, in characters. */
  maxMessageChars: number;
  /** Largest single fragment accepted, in characters. */
  maxFragmentChars: number;
  /** Most fragments one message may be split into (the spec's 16-bit total is capped lower). */
  maxFragmentsPerMessage: number;
  /** Incomplete fragmented messages kept per conversation before the oldest is dropped. */
  maxPendingFragmentedMessages: number;
  /** Total characters held across all incomplete fragmented messages of one conversation. */
  maxPendingFragmentChars: number;
  /** The spec's max_skip: how many message keys one received message may make us skip. */
  maxSkip: number;
  /** Skipped message keys stored per conversation; the oldest are deleted first. */
  maxStoredMessageKeys: number;
  /** Age (ms) after which a stored skipped message key is deleted. */
  maxStoredMessageKeyAgeMs: number;
  /** MAC keys queued for revealing; beyond it the oldest are wiped unrevealed (bounds one message's size). */
  maxMacKeysToReveal: number;
  /** Data messages kept while a DAKE finishes (they may overtake the Auth-I that makes them readable). */
  maxEarlyDataMessages: number;
  /** Largest DATA/MPI field a decoder will read, in bytes. */
  maxFieldBytes: number;
  /** Most TLVs one data message may carry. */
  maxTlvs: number;
  /** Largest SMP question, in bytes. */
  maxSmpQuestionBytes: number;
  /** Largest serialised state accepted by restore(), in bytes. */
  maxStateBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxMessageChars: 1 << 20, // 1 MiB of text: far above any chat message, bounded for bridges
  maxFragmentChars: 256 * 1024,
  maxFragmentsPerMessage: 4096,
  maxPendingFragmentedMessages: 100,
  maxPendingFragmentChars: 4 << 20,
  maxSkip: 1000,
  maxStoredMessageKeys: 1000,
  maxStoredMessageKeyAgeMs: 7 * 24 * 3600 * 1000,
  maxMacKeysToReveal: 1000,
  maxEarlyDataMessages: 100,
  maxFieldBytes: 1 << 20,
  maxTlvs: 64,
  maxSmpQuestionBytes: 4096,
  maxStateBytes: 4 << 20,
});

export function resolveLimits(overrides?: Partial<Limits>): Limits {
  return { ...DEFAULT_LIMITS, ...(overrides ?? {}) };
}
