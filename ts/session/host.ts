/**
 * What a conversation needs from its account, as an interface: conversation.ts depends on this, not on
 * account.ts, so the two modules do not import each other (account.ts creates conversations; a conversation
 * only reads its host's keys, policy, limits, clock and randomness, and uses the account-wide budgets and
 * records). `Account` implements it.
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import type { Ed448KeyPair } from '../crypto/eddsa.js';
import type { DsaPrivateKey } from '../crypto/dsa.js';
import type { ClientProfile } from '../profile/client-profile.js';
import type { PrekeyOwnerState } from '../prekey/owner-store.js';
import type { Limits } from '../limits.js';
import type { Policy } from './policy.js';
import type { LastSeenFingerprints } from './fingerprints.js';
import type { Outcome } from './events.js';
import type { CheckedSigner } from '../crypto/ring-sig.js';
import type { SharedBudget } from '../shared-budget.js';

export interface ConversationHost {
  readonly accountId: Uint8Array;
  readonly backend: CryptoBackend;
  readonly random: RandomSource;
  readonly clock: () => number;
  readonly policy: Policy;
  readonly limits: Readonly<Limits>;
  readonly instanceTag: number;
  /** Our client profile (renewed by the host when close to expiry). */
  readonly clientProfile: ClientProfile;
  readonly identity: Ed448KeyPair;
  /** `identity` checked once for ring signing (Account.identitySigner); hosts without it check per signature. */
  readonly identitySigner?: CheckedSigner;
  readonly dsaKey: DsaPrivateKey | null;
  /** Whether the account speaks OTRv3 (its DSA key may not be made yet: prepareV3). */
  readonly v3Capable: boolean;
  /** The OTRv3 DSA key, made on first use (an OTRv3 AKE needs it). */
  prepareV3(): DsaPrivateKey;
  readonly fingerprintBytes: Uint8Array;
  /** The last long-term fingerprint seen per peer (persisted by the host). */
  readonly fingerprints: LastSeenFingerprints;
  /** The secrets of our published prekeys; replaced after a Non-Interactive-Auth used one. */
  readonly prekeyOwnerState: PrekeyOwnerState;
  setPrekeyOwnerState(s: PrekeyOwnerState): void;
  /** Bounds the partial fragmented messages of all the account's conversations together (limits.maxAccountFragmentChars). */
  readonly fragmentBudget: SharedBudget;
  /** Bounds the early data messages of all the account's instances together (limits.maxAccountEarlyDataBytes). */
  readonly earlyDataBudget: SharedBudget;
  /** One token of unauthenticated DAKE work from the account-wide budget (false: throttled). */
  spendDakeBudget(nowMs: number): boolean;
  identityDigest(peer: Uint8Array, bytes: Uint8Array): string;
  identitySeen(digest: string): boolean;
  rememberIdentity(digest: string): void;
  /**
   * A peer's message made the conversation with `peer` hold one more pending DAKE (an Identity answered; with
   * `unbound`, a query answered with our Identity): counted against limits.maxAccountPendingDakes, whose
   * evictions (other conversations' records changed or deleted) go with `out`.
   */
  pendingDakeStarted(out: Outcome, peer: string, unbound: boolean): void;
  /** Forgets the conversation with `peer` and deletes its record (records.ts); the outcome carries the delete. */
  forget(peer: string): Outcome;
}
