/**
 * Every resource limit of the library, in one table. Protocol code imports these defaults; hosts may lower
 * or raise them through the `limits` option of an account. A value here is a promise: hostile input can never
 * make the library use more than this.
 */
import { OtrArgumentError } from './errors.js';

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
  /**
   * Total characters held across the incomplete fragmented messages of every conversation of an account
   * (OTRv4 and OTRv3 together): a peer with many identities cannot multiply the per-conversation bound. Other
   * conversations' oldest partial messages are dropped first (shared-budget.ts).
   */
  maxAccountFragmentChars: number;
  /** The spec's max_skip: how many message keys one received message may make us skip. */
  maxSkip: number;
  /** Skipped message keys stored per conversation; the oldest are deleted first. */
  maxStoredMessageKeys: number;
  /** Age (ms) after which a stored skipped message key is deleted. */
  maxStoredMessageKeyAgeMs: number;
  /** MAC keys queued for revealing; beyond it the oldest are wiped unrevealed (bounds one message's size). */
  maxMacKeysToReveal: number;
  /**
   * MAC keys queued for revealing at which a data message we read is answered by an empty heartbeat that
   * publishes them (a side that only reads would otherwise hold up to maxMacKeysToReveal, 64 bytes each, in its
   * record, and leave those messages unforgeable until it speaks). Below it, maxMacKeysToReveal is the
   * threshold; Infinity: never (docs/deniability.md, session 16 [s16-reveal]).
   */
  revealMacKeysAt: number;
  /**
   * Bytes of early data messages (below) held by every instance of every conversation of an account together:
   * a peer with many identities cannot multiply maxEarlyDataBytes by the pending DAKEs it opens. Other
   * instances' oldest early messages are dropped first (shared-budget.ts).
   */
  maxAccountEarlyDataBytes: number;
  /** Data messages kept while a DAKE finishes (they may overtake the Auth-I that makes them readable). */
  maxEarlyDataMessages: number;
  /**
   * Bytes of such early data messages kept per instance (the peer is not authenticated yet: they live in
   * memory only, are never persisted, and are dropped after policy.earlyDataRetentionMs).
   */
  maxEarlyDataBytes: number;
  /**
   * Unauthenticated DAKE work (answering an Identity, or a query with a new Identity or D-H Commit; verifying
   * an Auth-R, Auth-I or Non-Interactive-Auth; an OTRv3 AKE message), per peer: a token bucket of this burst...
   */
  dakeBudgetPeerBurst: number;
  /** ...refilled at this many steps per second. */
  dakeBudgetPeerPerSecond: number;
  /** The same, for the whole account (every peer together: bounds the CPU a flood of spoofed peers costs). */
  dakeBudgetAccountBurst: number;
  dakeBudgetAccountPerSecond: number;
  /** Digests of answered Identity messages remembered per account (a byte-identical replay is answered once). */
  maxRememberedIdentities: number;
  /**
   * A DAKE we answered but whose Auth-I has not come is protected from eviction this long (ms); after it, a
   * newer DAKE may take its place in the instance table. Before it, a new unauthenticated instance is refused.
   */
  pendingDakeProtectMs: number;
  /** Remote instances (the peer's clients) one conversation keeps state for; DAKE-only ones are evicted first. */
  maxInstancesPerConversation: number;
  /**
   * Pending DAKEs a peer started (an Identity we answered, a query we answered with an Identity, an OTRv3 AKE
   * its D-H Commit started) held by every conversation of an account together: each is ~2.9 KB of its
   * conversation's record for up to pendingDakeExpiryMs, and a peer with many identities opens one per
   * identity. Over it the oldest are dropped, strangers' first (a conversation holding nothing else loses its
   * record), a contact's last (pending-dakes.ts).
   */
  maxAccountPendingDakes: number;
  /**
   * Conversation records an account keeps (well below the store's maxRecordsPerAccount, which refuses every
   * commit adding a record once reached): a new record past it forgets the least valuable conversations — a
   * stranger's without a session first, then a session nobody here asked for, least recently written first;
   * never one the host wrote to, set a policy for or whose key the user verified or revoked while another can
   * go (docs/security.md, session 11).
   */
  maxAccountConversations: number;
  /** Largest DATA/MPI field a decoder will read, in bytes. */
  maxFieldBytes: number;

  // Trust, devices and sessions that heal (docs/trust.md).
  /** Peers the account's fingerprint trust store keeps (the least recently seen peer is forgotten first). */
  maxTrustPeers: number;
  /** Fingerprints kept per peer (unverified, not last-seen ones are forgotten first; a revocation last). */
  maxFingerprintsPerPeer: number;
  /**
   * The trust store's share of the account record, in bytes (an upper estimate): beyond it peers are forgotten
   * as beyond maxTrustPeers (unverified ones first). Keeps the account record restorable (maxStateBytes) however
   * many identities complete a DAKE with us.
   */
  maxTrustStoreBytes: number;
  /** Readable-session repairs (a new DAKE started by itself) one conversation may start at once ... */
  healBurst: number;
  /** ... and regains per second (an adversary injecting ERROR_1 or garbage is held to this rate). */
  healPerSecond: number;
  /** Unreadable data messages in a row from an instance we have a session with that start a repair. */
  healAfterUnreadable: number;
  /** A repair DAKE still pending after this long (ms) may be started again (its Identity may have been lost). */
  healRetryMs: number;
  /** User messages kept per instance for re-sending until the peer shows it reads us (runtime only). */
  maxUnconfirmedMessages: number;
  /**
   * Largest versions field of a client profile, in bytes (only "3" and "4" mean anything; a profile is stored
   * with a pending DAKE, so a megabyte of versions would grow the persisted state). Fixed at decoding time.
   */
  maxProfileVersionsBytes: number;
  /** Most TLVs one data message may carry. */
  maxTlvs: number;
  /** Largest SMP question, in bytes. */
  maxSmpQuestionBytes: number;
  /** Largest serialised state accepted by restore(), in bytes. */
  maxStateBytes: number;

  // Offline conversations: the prekey owner store and the prekey server (otrv4-prekey-server.md).
  /** Unused prekey secrets an owner keeps (published and not yet used) before refusing to make more. */
  maxOwnerPrekeys: number;
  /** Prekey messages the server stores per (identity, instance tag). */
  maxStoredPrekeysPerInstance: number;
  /** Prekey messages the server stores in all (bounds the server's memory: ~0.5 KB each). */
  maxStoredPrekeysTotal: number;
  /** Instance tags (devices) the server stores per identity. */
  maxInstancesPerIdentity: number;
  /** Identities the server stores in all. */
  maxIdentities: number;
  /** Largest identity string, in UTF-8 bytes. */
  maxIdentityBytes: number;
  /** Largest prekey-server message accepted, in characters of its base64 text form. */
  maxServerMessageChars: number;
  /** Ensembles one retrieval hands out (one per instance tag, so also bounded by maxInstancesPerIdentity). */
  maxEnsemblesPerRetrieval: number;
  /**
   * Server-side DAKEs waiting for their DAKE-3 at any time. Shared fairly by requester: when full, the oldest
   * DAKE of the requester holding the most is dropped, never another requester's only one (else a newcomer is
   * refused), so a flood from many addresses cannot evict an honest client's DAKE.
   */
  maxPendingDakes: number;
  /** How long a server-side DAKE waits for DAKE-3, in ms. */
  pendingDakeTtlMs: number;
  /**
   * Largest prekey-server FileStore log, in bytes. Checked (by its size on disk) before the log is read at
   * start, so a hostile or runaway file cannot make the server read gigabytes; the store compacts to stay under
   * it and refuses a publication it cannot hold. Bounds the start-up memory to about this much.
   */
  maxPrekeyLogBytes: number;
  /** Open TCP connections of the reference prekey server. */
  maxConnections: number;
  /** Idle time (ms) after which the reference server closes a connection. */
  serverIdleMs: number;
  /** Time (ms) a client has to send one whole request line once it started it (slow-loris bound, not an idle timer). */
  serverLineDeadlineMs: number;
  /** Open TCP connections of the reference prekey server from one remote address (an IPv6 /64 counts as one). */
  maxConnectionsPerAddress: number;
  /**
   * Rate-limit buckets (one per identity or requester) the prekey server keeps per limiter. Never evicted while
   * they hold information: when full, refilled buckets are pruned, and new keys beyond it share one overflow
   * bucket (so an attacker cannot flush a victim's bucket by making new ones).
   */
  maxRateLimitKeys: number;
  /** Ensemble queries one requester (the transport's remote address, else the network identity) may make at once ... */
  fetchRequesterBurst: number;
  /** ... and regains per second. */
  fetchRequesterPerSecond: number;
  /** Ensemble queries for one requested identity, from everybody together, at once (bounds how fast its prekeys drain) ... */
  fetchTargetBurst: number;
  /** ... and regained per second. */
  fetchTargetPerSecond: number;
  /** DAKEs (publications, storage requests) one publisher identity (and one remote address) may start at once ... */
  publishBurst: number;
  /** ... and regains per second. */
  publishPerSecond: number;
  /**
   * DAKEs the whole server may start at once, every publisher together (session 13): a DAKE-1 costs a profile
   * check and a ring signature (~2.4 ms, about a DAKE step), and the buckets above are per key — with up to
   * maxRateLimitKeys of them (an IPv6 /64 is one requester), many addresses made thousands a second. Charged
   * after those buckets, before the profile is read; past it a DAKE-1 is refused, honest ones too (the
   * server fails closed during a flood, as its pending-DAKE table does) ...
   */
  publishServerBurst: number;
  /** ... and regains per second (128 at ~2.4 ms each: about 0.3 of a core at most). */
  publishServerPerSecond: number;
  /**
   * Prekey messages one publisher identity (and one requester) may have verified at once (each costs the server
   * a 3072-bit group check); at least 255, the most one publication carries ...
   */
  publishPrekeysBurst: number;
  /** ... and regains per second. */
  publishPrekeysPerSecond: number;
  /**
   * Prekey messages the whole server may have verified at once, every publisher together (session 13): the
   * buckets above are per identity and per requester, and with up to maxRateLimitKeys of them (an IPv6 /64 is
   * one requester) a flood from many addresses paid ~1.6 ms of CPU per prekey at thousands a second. Past it a
   * publication gets a Failure before any verification (the server fails closed, as its other tables do) ...
   */
  publishPrekeysServerBurst: number;
  /** ... and regains per second (256 at ~1.6 ms each: about 0.4 of a core for publications at most). */
  publishPrekeysServerPerSecond: number;
  /** A storage status of at most this many prekey messages is `low` (the owner should publish more). */
  prekeysLowThreshold: number;
  /** Prekey profiles an owner keeps (expired ones are pruned before publishing). */
  maxOwnerPrekeyProfiles: number;

  // Stores (ts/store): what a store writes and what it accepts back from its disk or database.
  /** Largest stored record, in bytes (after sealing, when the store seals); a bigger row is refused. */
  maxRecordBytes: number;
  /** Largest record key and account id, in UTF-8 bytes (as the store keeps them: hashed/sealed when sealing). */
  maxRecordKeyBytes: number;
  /** Most records one account may hold; `keys()` refuses a listing beyond it (a hostile table). */
  maxRecordsPerAccount: number;
  /** Most changes in one commit. */
  maxChangesPerCommit: number;

  // Records of the session layer (ts/session/records.ts).
  /**
   * Largest conversation record, in bytes. Over it the conversation sheds state, least valuable first
   * (unauthenticated pending DAKEs, then the oldest stored skipped keys, unrevealed MAC keys, queued user
   * messages, then an SMP exchange in progress, last its sessions), each with a `state-trimmed` event; only the
   * host's settings for the peer are written whatever the bound. Must stay below maxStateBytes (restore) and
   * maxRecordBytes.
   */
  maxConversationStateBytes: number;
  /** A DAKE we started or answered is dropped after this long without completing (poll, send and receive check it). */
  pendingDakeExpiryMs: number;

  // The forging toolkit (ts/forge, docs/deniability.md): what a transcript handed to it can cost.
  /**
   * Largest transcript file the forge CLI reads (64 lines at maxMessageChars). Read up to this many bytes plus
   * one, so a huge file, a device or an endless pipe costs no more memory than this before it is refused.
   */
  maxForgeTranscriptBytes: number;
  /**
   * Most (revealed MAC key, data message) pairs the forge tries when matching keys to messages (one
   * authenticator each, checked before any is computed): ~2,000 messages of a real conversation; a hostile
   * transcript revealing 1,000 keys a line would otherwise cost hours.
   */
  maxForgeMacKeyTrials: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxMessageChars: 1 << 20, // 1 MiB of text: far above any chat message, bounded for bridges
  maxFragmentChars: 256 * 1024,
  maxFragmentsPerMessage: 4096,
  maxPendingFragmentedMessages: 100,
  maxPendingFragmentChars: 4 << 20,
  // Four conversations at the per-conversation bound: an honest fragmented message is rarely a tenth of that.
  maxAccountFragmentChars: 16 << 20,
  maxSkip: 1000,
  maxStoredMessageKeys: 1000,
  maxStoredMessageKeyAgeMs: 7 * 24 * 3600 * 1000,
  maxMacKeysToReveal: 1000,
  // 128 keys are 8 KB of record (1,000 were 64 KB, rewritten on every read). Each heartbeat costs both sides a
  // ratchet step (an ECDH step, a 3072-bit DH step every third): 2.5–4 ms a heartbeat, +19–29 µs a message at 128,
  // +57–62 µs at 64 (measured, docs/deniability.md, session 16 [s16-reveal]).
  revealMacKeysAt: 128,
  maxEarlyDataMessages: 100,
  maxEarlyDataBytes: 256 * 1024,
  // 32 instances at maxEarlyDataBytes: a DAKE's early data is a few messages; this bounds a flood of pending ones.
  maxAccountEarlyDataBytes: 8 << 20,
  // An honest DAKE costs each side one or two steps; a few restarts in a row stay within the burst. At ~30 ms
  // per step (WASM) the account rate bounds a flood to about 10% of one core.
  dakeBudgetPeerBurst: 8,
  dakeBudgetPeerPerSecond: 0.5,
  dakeBudgetAccountBurst: 32,
  dakeBudgetAccountPerSecond: 4,
  maxRememberedIdentities: 4096,
  pendingDakeProtectMs: 5 * 60 * 1000,
  maxInstancesPerConversation: 32,
  // ~6 MB of records at ~2.9 KB each. More than the account's DAKE budget admits in pendingDakeProtectMs
  // (32 + 4 × 300 = 1,232): a flood at full rate evicts no pending DAKE younger than 5 minutes (~8.4 minutes).
  maxAccountPendingDakes: 2048,
  // A fifth of the store's maxRecordsPerAccount (~60 MB of records at ~3 KB each); more than the account's
  // DAKE budget admits in an hour (32 + 4 × 3,600 = 14,432): a flood of completed DAKEs needs more than an
  // hour to reach a session nobody asked for that was written to in the last hour.
  maxAccountConversations: 20_000,
  maxFieldBytes: 1 << 20,
  maxTrustPeers: 100_000,
  maxFingerprintsPerPeer: 16,
  // Half of maxStateBytes: ~5,100 peers of one key at the estimate's ~410 bytes each, room for the rest.
  maxTrustStoreBytes: 2 << 20,
  // Three repairs at once, then one a minute: an honest break needs one; an injector gets a DAKE a minute.
  healBurst: 3,
  healPerSecond: 1 / 60,
  healAfterUnreadable: 3,
  healRetryMs: 60_000,
  maxUnconfirmedMessages: 100,
  maxProfileVersionsBytes: 16,
  maxTlvs: 64,
  maxSmpQuestionBytes: 4096,
  maxStateBytes: 4 << 20,
  maxOwnerPrekeys: 1000,
  maxStoredPrekeysPerInstance: 1000,
  maxStoredPrekeysTotal: 200_000,
  maxInstancesPerIdentity: 16,
  maxIdentities: 100_000,
  maxIdentityBytes: 255,
  // 255 prekey messages of at most 453 bytes, two profiles and three proofs: ~120 KB binary, ~160 KB base64.
  maxServerMessageChars: 256 * 1024,
  maxEnsemblesPerRetrieval: 16,
  maxPendingDakes: 4096,
  pendingDakeTtlMs: 60_000,
  // maxStoredPrekeysTotal prekeys of ~0.5 KB are ~100 MB live; this leaves room for the profiles and for the
  // log's growth between compactions.
  maxPrekeyLogBytes: 256 << 20,
  maxConnections: 1024,
  serverIdleMs: 30_000,
  serverLineDeadlineMs: 10_000,
  maxConnectionsPerAddress: 16,
  maxRateLimitKeys: 10_000,
  fetchRequesterBurst: 20,
  fetchRequesterPerSecond: 0.5,
  // 8 at once, then one every 30 s: draining 100 stored prekeys takes ~46 minutes instead of seconds.
  fetchTargetBurst: 8,
  fetchTargetPerSecond: 1 / 30,
  publishBurst: 20,
  publishPerSecond: 1,
  // A 2-core server: DAKE-1s at most ~0.3 of a core and prekey verifications ~0.4 (below), so a flood of both
  // leaves more than a core to retrievals. 128 a second is ~11 million DAKEs a day: every device of a
  // million checking its storage and publishing several times a day; a larger server raises both.
  publishServerBurst: 1024,
  publishServerPerSecond: 128,
  publishPrekeysBurst: 512,
  publishPrekeysPerSecond: 1,
  // 32 full publications at once; 256 a second is ~22 million prekey messages a day, far above what retrievals
  // (fetchTargetPerSecond per identity) can use up, so honest publishers meet it only during a flood.
  publishPrekeysServerBurst: 8192,
  publishPrekeysServerPerSecond: 256,
  prekeysLowThreshold: 20,
  maxOwnerPrekeyProfiles: 64,
  // One record is at most the whole state restore() accepts; a conversation's is ~2 KB in practice.
  maxRecordBytes: 4 << 20,
  // 'conv:' + a peer id (maxIdentityBytes) sealed and base64url-encoded fits with room to spare.
  maxRecordKeyBytes: 1024,
  maxRecordsPerAccount: 100_000,
  maxChangesPerCommit: 10_000,
  // ~5 sessions' worth of stored skipped keys (a full store of 1,000 is ~300 KB); a quiet conversation is ~2 KB.
  maxConversationStateBytes: 1 << 20,
  // An honest DAKE completes in seconds; a day covers a peer that went offline mid-DAKE.
  pendingDakeExpiryMs: 24 * 3600 * 1000,
  maxForgeTranscriptBytes: 64 << 20,
  maxForgeMacKeyTrials: 1 << 22,
});

/**
 * Limits objects resolveLimits made (checked then): an OTRv3 call resolves the account's on every message.
 * Each is frozen, so the check holds for as long as the object does: a host that wrote into `account.limits`
 * after it was made (undefined or NaN) and handed it on went past the check unseen (session 15 review,
 * attacks/s15-review2-limits).
 */
const resolved = new WeakSet<object>();

/**
 * The defaults with `overrides` applied. A key given as `undefined` is not given (the default stays): spread
 * as it is, `undefined` replaced the default, and like NaN it made every comparison with the limit false — no
 * bound at all (a queue of MAC keys that grew past what restore accepts, a budget that allowed everything).
 * Any other value that is not a number, NaN included, is refused with a typed error when the account, OTRv3
 * conversation, store or server is made (session 15, attacks/s15-review-limits). Infinity stays allowed: the
 * host's explicit "no limit". An object this function made is returned as it is (it was checked when made, and
 * it is frozen: read-only to every holder).
 */
export function resolveLimits(overrides?: Partial<Limits> | null): Readonly<Limits> {
  // null (a JSON config whose `limits` is null) is no overrides: Object.keys(null) threw a raw TypeError.
  if (overrides === null) overrides = undefined;
  // Made here, so checked and frozen: a copy would hold the same values (every OTRv3 call resolves the
  // account's limits, and the copy of ~75 keys cost ~2.3 µs a call).
  if (overrides !== undefined && resolved.has(overrides)) return overrides as Readonly<Limits>;
  const out: Record<string, unknown> = { ...DEFAULT_LIMITS, ...(overrides ?? {}) };
  if (overrides !== undefined) {
    // The keys of the copy, not the host's object asked again: a Proxy can list a key to the spread and none
    // to a second Object.keys, and the value it gave the copy went in unchecked (session 16 review,
    // attacks/s16-review-limits). ~75 keys, only for an object not made here.
    for (const key of Object.keys(out)) {
      const value = out[key];
      if (typeof value === 'number' && !Number.isNaN(value)) continue;
      if (value !== undefined) throw new OtrArgumentError(`limits.${key} must be a number`);
      out[key] = (DEFAULT_LIMITS as unknown as Record<string, unknown>)[key];
    }
  }
  Object.freeze(out);
  resolved.add(out);
  return out as unknown as Limits;
}
