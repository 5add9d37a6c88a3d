/**
 * An account: one local identity (the long-term Ed448 identity key, the forging key, the client profile,
 * the instance tag, an optional OTRv3 DSA key), its policy, limits, clock and randomness — and one
 * `Conversation` per peer.
 *
 *   await init();
 *   const alice = Account.create({ accountId: 'alice@example.org' });
 *   const bob = alice.conversation('bob@example.org');
 *   transport.send(...bob.start().toSend);
 *   const out = bob.receive(incomingText);   // { toSend, messages, events }
 *
 * Persistence (docs/persistence.md): as records (records.ts) — every Outcome lists in `changed` the records
 * its call changed (`account`, `conv:<peer>`), each at its next generation; commit them, then transmit
 * (account-store.ts does it in that order). `Account.fromRecord` / `attachRecord` restore lazily: a
 * conversation is decoded when first used. `account.serialize()` / `Account.restore()` still carry the whole
 * account in one piece (moving an account, the worker pool, backups).
 */
import type { CryptoBackend } from '../backend/types.js';
import { getBackend } from '../backend/select.js';
import { systemRandom, type RandomSource } from '../crypto/random.js';
import { ed448KeyPair, type Ed448KeyPair } from '../crypto/eddsa.js';
import { generateEcdh } from '../crypto/ecdh.js';
import { checkSigningKey, type CheckedSigner } from '../crypto/ring-sig.js';
import { dsaGenerateKey, dsaPrivateKeyIsConsistent, type DsaPrivateKey } from '../crypto/dsa.js';
import { ed448Verify } from '../crypto/eddsa.js';
import { profileSignedBytes } from '../profile/encoding.js';
import {
  createClientProfile,
  decodeClientProfile,
  expiryFromNow,
  needsRenewal,
  profileFingerprint,
  type ClientProfile,
} from '../profile/client-profile.js';
import { generateInstanceTag, isValidSenderTag } from '../instance-tag.js';
import { resolveLimits, type Limits } from '../limits.js';
import { OtrArgumentError, OtrDecodeError, OtrError, OtrLimitError, OtrStateError } from '../errors.js';
import { bytesToHex, equalBytes, utf8, wipe } from '../bytes.js';
import { resolvePolicy, type Policy } from './policy.js';
import { decodeState, encodeState, expect, type StateValue } from './state-codec.js';
import { callUnderWay, Conversation, refuseInsideOwnCall } from './conversation.js';
import type { OtrEvent, Outcome } from './events.js';
import { ACCOUNT_RECORD, conversationKey, conversationRecord, excessStep, peerOfKey, RecordBook, recordBatch } from './records.js';
import type { RecordChange, StoredRecord } from '../store/types.js';
import { LastSeenFingerprints } from './fingerprints.js';
import type { ConversationHost } from './host.js';
import { RecentDigests, TokenBucket } from './budget.js';
import { SharedBudget } from '../shared-budget.js';
import { PendingDakeIndex, type PendingEntry } from './pending-dakes.js';
import { evictLeastValuable, HOSTS, type RecordCandidate } from './record-bound.js';
import { createPrekeyProfile, DEFAULT_PREKEY_PROFILE_GRACE_SECONDS, isPrekeyProfileExpired } from '../prekey/prekey-profile.js';
import { generatePrekeyMessages } from '../prekey/prekey-message.js';
import type { PsClientLocal, PsRequest } from '../prekey-server/client.js';
import {
  addPrekeyProfile,
  addPrekeys,
  decodePrekeyOwnerState,
  encodePrekeyOwnerState,
  EMPTY_PREKEY_OWNER_STATE,
  ownerPrekeyIds,
  prunePrekeyOwnerState,
  type PrekeyOwnerState,
} from '../prekey/owner-store.js';

export interface AccountOptions {
  /** Our account identifier as peers know it (e.g. "alice@example.org"); it is bound into every DAKE (phi). */
  accountId: string | Uint8Array;
  /** Defaults to the backend chosen by `init()`. */
  backend?: CryptoBackend;
  /** Defaults to the platform CSPRNG. Inject a seeded source for reproducible tests. */
  random?: RandomSource;
  /** Milliseconds since the Unix epoch. Defaults to Date.now. */
  clock?: () => number;
  policy?: Partial<Policy>;
  limits?: Partial<Limits>;
  /** The 57-byte secret of the long-term identity key; generated when absent. */
  identitySecret?: Uint8Array;
  /** Our instance tag (>= 0x100); generated when absent. */
  instanceTag?: number;
  /**
   * The public half (57 bytes, a valid Ed448 point) of a forging key whose secret the host chose to keep
   * (otrv4.md §Forger Keys: saving the forging key is an option for users, off by default). The account never
   * sees the secret: make the pair with `generateForgingKey` (otr4/forge) and keep the secret apart — offline,
   * as the spec suggests; on this device it would let whoever seizes it impersonate peers to this account
   * (docs/deniability.md §Keeping the forging key). Absent (the default): the account makes a forging key and
   * wipes its secret at once, so nobody can use it.
   */
  forgingPublicKey?: Uint8Array;
  /**
   * The OTRv3 DSA key. With `policy.allowV3` (the default) and no key given, the account is OTRv3-capable
   * and the key (1024-bit DSA: 0.1–0.5 s) is generated lazily, when an OTRv3 AKE first needs it, or ahead of
   * time by `prepareV3()` (docs/performance.md §Cheap accounts). Pass `null` to run without OTRv3.
   */
  dsaKey?: DsaPrivateKey | null;
  /** Client profile lifetime in seconds (default one week, as otrr). */
  profileLifetimeSeconds?: number;
}

const PROFILE_LIFETIME_SECONDS = 7 * 24 * 3600;
/** Renew our profile when less than this is left, so peers never see an expired one. */
const PROFILE_RENEW_BEFORE_SECONDS = 24 * 3600;
const ACCOUNT_STATE_KIND = 'account';

interface AccountKeys {
  readonly identity: Ed448KeyPair;
  readonly forgingKey: Uint8Array;
  readonly instanceTag: number;
  /** Null until made (lazily) for an OTRv3-capable account, or for good when the account is not one. */
  dsaKey: DsaPrivateKey | null;
  /** Whether the account speaks OTRv3 at all (its DSA key may not be made yet). */
  readonly v3Capable: boolean;
  profile: ClientProfile;
}

export class Account implements ConversationHost {
  readonly accountId: Uint8Array;
  readonly backend: CryptoBackend;
  readonly random: RandomSource;
  readonly clock: () => number;
  readonly policy: Policy;
  readonly limits: Readonly<Limits>;
  private readonly keys: AccountKeys;
  private readonly lifetime: number;
  private readonly conversations = new Map<string, Conversation>();
  /** The secrets of our published prekeys (each used once) and prekey profiles, for offline conversations. */
  private prekeyOwner: PrekeyOwnerState = EMPTY_PREKEY_OWNER_STATE;
  /**
   * The fingerprint trust store (persisted): every fingerprint seen per peer with its trust, and the one last
   * seen (takeover and downgrade detection). Verify or revoke by hand with `fingerprints.verify(peer, fp)` /
   * `fingerprints.revoke(peer, fp)` (docs/trust.md).
   */
  readonly fingerprints: LastSeenFingerprints;
  /** Unauthenticated DAKE work of all peers together (limits.dakeBudgetAccount*); runtime only. */
  private readonly dakeBudget: TokenBucket;
  /** Partial fragmented messages of all conversations together (limits.maxAccountFragmentChars); runtime only. */
  readonly fragmentBudget: SharedBudget;
  /** Early data messages of all conversations together (limits.maxAccountEarlyDataBytes); runtime only. */
  readonly earlyDataBudget: SharedBudget;
  /** Pending DAKEs peers started, per conversation (limits.maxAccountPendingDakes; pending-dakes.ts); runtime only. */
  private readonly pendingDakes: PendingDakeIndex;
  /** Digests of Identity messages already answered (runtime only): a replay is answered at most once. */
  private readonly answeredIdentities: RecentDigests;
  /** Generations, dormant (undecoded) conversations and pending changes of the account's records. */
  private readonly book: RecordBook;
  /**
   * What the account knew of conversations it unloaded (limits.maxAccountConversations ranks them without
   * reading their records): when each was last written and what it was worth. Runtime only, like the rest
   * of the ranking; dropped when the conversation is decoded again or forgotten.
   */
  private readonly unloadedRecords = new Map<string, { seq: number; value: number }>();

  private constructor(o: AccountOptions, keys: AccountKeys, fingerprints?: LastSeenFingerprints) {
    this.accountId = typeof o.accountId === 'string' ? utf8(o.accountId) : Uint8Array.from(o.accountId);
    this.backend = o.backend ?? getBackend();
    this.random = o.random ?? systemRandom;
    this.clock = o.clock ?? Date.now;
    this.policy = resolvePolicy(o.policy, keys.v3Capable ? undefined : { allowV3: false });
    this.limits = resolveLimits(o.limits);
    this.lifetime = o.profileLifetimeSeconds ?? PROFILE_LIFETIME_SECONDS;
    this.keys = keys;
    this.fingerprints = fingerprints ?? new LastSeenFingerprints(this.limits.maxTrustPeers, this.limits.maxFingerprintsPerPeer, this.limits.maxTrustStoreBytes);
    this.dakeBudget = new TokenBucket(this.limits.dakeBudgetAccountBurst, this.limits.dakeBudgetAccountPerSecond);
    this.fragmentBudget = new SharedBudget(this.limits.maxAccountFragmentChars);
    this.earlyDataBudget = new SharedBudget(this.limits.maxAccountEarlyDataBytes);
    this.answeredIdentities = new RecentDigests(this.limits.maxRememberedIdentities);
    this.pendingDakes = new PendingDakeIndex(this.limits.maxAccountPendingDakes);
    this.book = new RecordBook({
      limits: this.limits,
      encodeAccountRecord: () => this.encode(false, false),
      // A call on one conversation changes at most that peer's entries (and those of a call nested in it, which
      // marks the account itself): any change to the trust store will do.
      fingerprintRevision: () => this.fingerprints.revisionOfAll,
      evictConversations: (excess, batch, keep, events) => this.evictConversations(excess, batch, keep, events),
    });
  }

  /**
   * limits.maxAccountConversations (record-bound.ts): a call created a record past the bound. Every record the
   * account knows of is ranked — live conversations as they are, unloaded ones as they were when unloaded,
   * attached ones by a guess from the trust store (decoded when their turn comes) — and the least valuable
   * are forgotten: keys wiped, records deleted with this call's changes, a `conversation-evicted` event each.
   */
  private evictConversations(excess: number, batch: number, keep: (peer: string) => boolean, events: OtrEvent[]): void {
    // Records only listed (not loaded since open) are not candidates here: their generation is unknown, so no
    // delete can be handed out for them. The helper loads those that rank first beforehand (recordsToLoad).
    const candidates = this.recordCandidates(keep);
    evictLeastValuable(candidates, excess, batch, {
      settle: (peer) => this.settledValue(peer),
      evict: (peer) => {
        const c = this.conversations.get(peer);
        if (c !== undefined) {
          if (callUnderWay(c)) return false;
          c.evicted = true;
        }
        this.dropConversation(peer);
        events.push({ type: 'conversation-evicted', peer });
        return true;
      },
    });
  }

  /** An attached record's real worth, decoded now (undefined: it does not decode, and is refused on every use). */
  private settledValue(peer: string): number | undefined {
    try {
      return this.recordValue(peer, this.conversation(peer));
    } catch (e) {
      if (e instanceof OtrError) return undefined;
      throw e;
    }
  }

  /** Every record the account could evict now but those `keep` names (record-bound.ts), unranked. */
  private recordCandidates(keep: (peer: string) => boolean): RecordCandidate[] {
    const candidates: RecordCandidate[] = [];
    for (const [peer, c] of this.conversations)
      if (!keep(peer) && this.book.generation(conversationKey(peer)) > 0) candidates.push({ peer, value: this.recordValue(peer, c), seq: c.recordSeq, provisional: false });
    for (const peer of this.book.unloadedPeers) {
      const known = this.unloadedRecords.get(peer);
      if (!keep(peer)) candidates.push({ peer, value: known?.value ?? this.guessedValue(peer), seq: known?.seq ?? 0, provisional: false });
    }
    for (const peer of this.book.dormantPeers) {
      if (keep(peer) || this.book.generation(conversationKey(peer)) === 0) continue;
      const known = this.unloadedRecords.get(peer);
      candidates.push({ peer, value: known?.value ?? this.guessedValue(peer), seq: known?.seq ?? 0, provisional: known === undefined });
    }
    return candidates;
  }

  /**
   * @internal (account-store.ts) The store's listing of the account's records at open: the conversation
   * records among them count against limits.maxAccountConversations before they are loaded (a restart used to
   * forget them until each was used again, so a flood could leave the bound's worth of records per restart).
   */
  listRecords(keys: readonly string[]): void {
    for (const key of keys) {
      const peer = peerOfKey(key);
      if (peer !== undefined && !this.conversations.has(peer)) this.book.list(peer);
    }
    this.book.endListing();
  }

  /**
   * @internal (account-store.ts) The store's listing of this account's records will be asked for (the account was
   * opened from the store); listRecords ends it. A record deleted until then — while the listing is under way (a
   * forget, an eviction), or before it, its delete not yet committed when the store answered — may still be in the
   * listing, and is not listed again.
   */
  listingExpected(): void {
    this.book.beginListing();
  }

  /**
   * @internal (account-store.ts) Whether `peer`'s record is in the store and nothing of it here (unloaded, or
   * listed at open): a read of it that finds this false afterwards raced its eviction or forget.
   */
  recordInStoreOnly(peer: string): boolean {
    return this.book.isUnloaded(peer) || this.book.isListed(peer) || this.recordDeletePending(peer);
  }

  /**
   * @internal (account-store.ts) The account forgot the conversation with `peer` (forget, an eviction, or it
   * came to hold nothing) and the store did not take the delete of its record (commitFailed): the delete goes
   * with the next changes, and the row the store still holds must not be attached again — that brought a
   * forgotten session back, or (the delete carried by another call meanwhile) attached a record the store no
   * longer had (attacks/s12-failed-delete). The peer starts afresh: its first record is written over the row.
   */
  recordDeletePending(peer: string): boolean {
    return !this.hasConversation(peer) && this.book.deletePending(conversationKey(peer));
  }

  /** @internal (account-store.ts) A listed record was looked for and is gone (deleted since the listing). */
  unlistRecord(peer: string): void {
    this.book.unlist(peer);
  }

  /**
   * @internal (account-store.ts) The listed records (not loaded since open) that the records still to be written
   * would evict: the helper loads them first (and asks again until this is empty), so that the eviction, which
   * runs inside a call, knows their generations. Still to be written: `peer`'s first record, and that of every
   * live conversation without one — a conversation handed out below the bound (the user opens two chats) writes
   * its first record later, when the account may be at its bound; counted only at its own hand-out, its
   * eviction found nothing of the store's strangers loaded and took the host's contact
   * (attacks/s12-records-ranking); so are the `handingOut` other conversations the helper is handing out at
   * the same time. The attached records among the least valuable are decoded here (settled,
   * as the eviction would): one worth more than its guess makes room for the next. Empty unless that passes the
   * bound and listed records remain — in a flood, once per batch of evictions (records.ts boundRecords evicts a
   * 64th of the bound at a time). Far over the bound, a call takes a step of the excess (records.ts excessStep),
   * so only that step is loaded: the helper used to read the whole excess before handing out one conversation
   * (attacks/s12-review-over-bound).
   */
  recordsToLoad(peer: string, handingOut = 0): string[] {
    const max = this.limits.maxAccountConversations;
    const count = this.book.conversationRecordCount;
    if (this.book.listedCount === 0 || this.book.generation(conversationKey(peer)) > 0 || this.book.isListed(peer)) return [];
    // Live conversations without a record: every conversation minus those with one (the records counted but
    // listed, unloaded or attached). O(1); a failed delete still pending makes it low by one, harmlessly.
    const withRecord = count - this.book.listedCount - this.book.unloadedCount - this.book.dormantCount;
    // And the other conversations the helper is handing out meanwhile (`handingOut`: not live yet).
    const unwritten = Math.max(0, this.conversations.size - withRecord) + handingOut;
    const excess = count + unwritten + 1 - max;
    if (excess <= 0) return [];
    // Ranked once per batch: new JIDs sending what creates no record (garbage) while the account is at its bound
    // would otherwise rank every record for each of them (each is one more unwritten conversation: the excess
    // grows by one, and what the last ranking loaded past it covers the next ones).
    const at = this.loadedFor;
    if (at.count === count && at.listed === this.book.listedCount && excess <= at.upTo) return [];
    // What the calls writing those records evict: the excess and a batch; far over the bound, a step per call.
    const step = excessStep(max, unwritten + 1);
    const farOver = excess > step;
    const want = farOver ? step : excess + recordBatch(max);
    const candidates = this.recordCandidates((p) => p === peer);
    for (const listed of this.book.listedPeers) if (listed !== peer) candidates.push({ peer: listed, value: this.guessedValue(listed), seq: 0, provisional: false });
    const load: string[] = [];
    // The same walk as the eviction's, evicting nothing: what it would take, attached records settled on the way.
    // Only a record decoded as the host's makes room for the next: one below (a session a guess took for a
    // stranger's) is a record the call may evict as well as any the store still holds below the host's. Made room
    // for too, each round decoded what the last loaded and loaded the next, until every record a flood left
    // with its peer forgotten by the trust store was read and decoded for one hand-out
    // (attacks/s13-review-load-cascade: 24 of 24 for an excess of 1; up to the bound, 20,000, at the defaults).
    evictLeastValuable(candidates, want, 0, {
      settle: (p) => {
        const real = this.settledValue(p);
        return real !== undefined && real >= HOSTS ? real : undefined;
      },
      evict: (p) => {
        if (this.book.isListed(p)) load.push(p);
        return true;
      },
    });
    // Far over the bound every call takes the same step, whatever the excess: nothing to load for it covers them all.
    if (load.length === 0) this.loadedFor = { count, listed: this.book.listedCount, upTo: farOver ? excess : want };
    else at.count = -1;
    return load;
  }

  /**
   * recordsToLoad found nothing left to load for an excess up to `upTo` at this state of the records (count and
   * listed count): the least valuable records that many are loaded already.
   */
  private loadedFor = { count: -1, listed: -1, upTo: -1 };

  /**
   * What a conversation's record is worth keeping (record-bound.ts): a peer the trust store counts as the user's
   * (a contact the user wrote to, or a key verified or revoked: isUsers, persisted in the account record) makes it
   * the host's, whatever the conversation itself still remembers after a restart (its own marks are runtime only).
   */
  private recordValue(peer: string, c: Conversation): number {
    return this.fingerprints.isUsers(peer) ? 2 : c.recordValue();
  }

  /** The lower bound of an undecoded record's worth, from the trust store alone. */
  private guessedValue(peer: string): number {
    return this.fingerprints.isUsers(peer) ? 2 : this.fingerprints.get(peer) !== undefined ? 1 : 0;
  }

  /** @internal One token of unauthenticated DAKE work from the account's bucket (false: throttled). */
  spendDakeBudget(nowMs: number): boolean {
    return this.dakeBudget.take(nowMs);
  }

  /** @internal A digest of an Identity message from `peer` (16 bytes of SHAKE-256 over peer id and bytes, hex). */
  identityDigest(peer: Uint8Array, bytes: Uint8Array): string {
    const len = Uint8Array.of(peer.length >>> 24, peer.length >>> 16, peer.length >>> 8, peer.length);
    return bytesToHex(this.backend.shake256([len, peer, bytes], 16));
  }

  /** @internal Whether an Identity with this digest was already processed (a replay). */
  identitySeen(digest: string): boolean {
    return this.answeredIdentities.has(digest);
  }

  /** @internal Remembers that an Identity with this digest has been processed (it is not processed again). */
  rememberIdentity(digest: string): void {
    this.answeredIdentities.add(digest);
  }

  /**
   * @internal (Conversation) A peer's message made `peer`'s conversation hold one more pending DAKE. Past
   * limits.maxAccountPendingDakes, other conversations' pending DAKEs are dropped, oldest first, strangers'
   * before anyone's (pending-dakes.ts); the records that changes go with `out` (the call's flush carries every
   * conversation touched and every record deleted).
   */
  pendingDakeStarted(out: Outcome, peer: string, unbound: boolean): void {
    const index = this.pendingDakes;
    // What the conversation holds now, not one more than before: a DAKE that replaced a pending one must not
    // count twice (attacks/s11-review-pending-count). At most maxInstancesPerConversation + 2 instances' worth.
    const c = this.conversations.get(peer);
    index.added(peer, unbound, c === undefined ? (index.get(peer)?.count ?? 0) + 1 : c.peerDakes(true));
    if (index.over) index.evict(peer, (victim, entry, strangersOnly) => this.evictPeerDakes(out, victim, entry, strangersOnly));
  }

  /**
   * One entry of the pending-DAKE index asked to give back its DAKEs (pending-dakes.ts evict). The first pass
   * (`strangersOnly`) spares only what is the user's — a contact or a peer with a verified or revoked key
   * (fingerprints.isUsers), a conversation holding a queued message or a policy of its own — and takes anyone
   * else's oldest first, sessions or not. It spared every peer the trust store knew: a hostile server completed
   * a DAKE from each of its JIDs first, and then a newcomer's first DAKE, however young, went before every
   * older DAKE of the flood (attacks/s11-review-known-flood).
   */
  private evictPeerDakes(out: Outcome, peer: string, entry: PendingEntry, strangersOnly: boolean): void {
    const index = this.pendingDakes;
    const known = this.fingerprints.get(peer) !== undefined;
    const users = this.fingerprints.isUsers(peer);
    if (this.book.isUnloaded(peer)) {
      // Its record is in the store, not in memory. One that held nothing but such DAKEs when it was unloaded is
      // deleted at the generation it was unloaded with (a store holding anything newer refuses: CONFLICT). Any
      // other stays as it is (a contact's: its DAKEs expire when it is next used) and is no longer counted.
      if (entry.unloadedStranger && !known) {
        this.book.forgetUnloaded(peer);
        this.unloadedRecords.delete(peer);
        out.events.push({ type: 'dakes-evicted', peer, count: entry.count });
        index.forget(peer);
      } else if (!strangersOnly || (known && !users)) index.forget(peer); // a known peer's not the user's: no longer counted
      return;
    }
    let c = this.conversations.get(peer);
    if (c === undefined && this.book.hasDormant(peer)) {
      // Attached, not decoded yet: decoded now (one conversation per eviction, bounded like the DAKE it drops).
      try {
        c = this.conversation(peer);
      } catch (e) {
        if (!(e instanceof OtrError)) throw e;
        index.forget(peer); // a record that does not decode is refused on every use: nothing of it runs
        return;
      }
    }
    if (c === undefined) return index.forget(peer); // forgotten meanwhile
    if (callUnderWay(c)) return; // its own call is under way (a host callback): left alone
    if (c.peerDakes(entry.unbound) === 0) return index.forget(peer); // completed or expired meanwhile: nothing to drop
    if (strangersOnly && (users || c.holdsUsersRequest())) return;
    const count = c.dropPeerDakes(entry.unbound);
    index.forget(peer);
    // Written with this call's changes (deleted if nothing is left: records.ts).
    this.book.touch(c);
    out.events.push({ type: 'dakes-evicted', peer, count });
  }

  /** A new account with fresh keys (or the given ones). */
  static create(o: AccountOptions): Account {
    checkOptions(o);
    const backend = o.backend ?? getBackend();
    const random = o.random ?? systemRandom;
    const clock = o.clock ?? Date.now;
    const secret = o.identitySecret ? Uint8Array.from(o.identitySecret) : random(57);
    const identity = ed448KeyPair(backend, secret);
    // The forging key: only its public half is needed (otrv4.md §Forger Keys). Ours unless the host kept one
    // (forgingPublicKey): the secret is dropped at once.
    let forgingKey: Uint8Array;
    if (o.forgingPublicKey !== undefined) {
      // Copied before it is checked: the host's array could change after (shared memory).
      forgingKey = Uint8Array.from(o.forgingPublicKey);
      if (!backend.pointIsValid(forgingKey)) throw new OtrArgumentError('forgingPublicKey must be a valid Ed448 point');
    } else {
      const forging = generateEcdh(backend, random);
      wipe(forging.secret);
      forgingKey = forging.public;
    }
    const instanceTag = o.instanceTag ?? generateInstanceTag(random);
    // No DSA key is generated here (it costs 0.1–0.5 s): an account allowing OTRv3 is only "v3 capable" until
    // an OTRv3 AKE needs the key (prepareV3). Queries and whitespace tags advertise 3 meanwhile.
    const wantsV3 = resolvePolicy(o.policy).allowV3;
    const dsaKey = o.dsaKey ?? null;
    const v3Capable = dsaKey !== null || (o.dsaKey === undefined && wantsV3);
    const keys: AccountKeys = { identity, forgingKey, instanceTag, dsaKey, v3Capable, profile: undefined as unknown as ClientProfile };
    const account = new Account({ ...o, backend, random, clock }, keys);
    keys.profile = account.makeProfile();
    return account;
  }

  /**
   * The profile carries the DSA key and the transitional signature once the key exists, and versions "4"
   * before: otrr refuses a profile whose versions contain '3' without a transitional signature
   * (interpretations.md §otrr validation), so "34" is advertised only with the key (docs/performance.md).
   */
  private makeProfile(): ClientProfile {
    const k = this.keys;
    return createClientProfile(this.backend, {
      ownerTag: k.instanceTag,
      identitySecret: k.identity.secret,
      identityKeyPair: k.identity,
      forgingKey: k.forgingKey,
      versions: k.dsaKey ? '34' : '4',
      expiry: expiryFromNow(this.clock(), this.lifetime),
      ...(k.dsaKey ? { dsaKey: k.dsaKey, random: this.random } : {}),
    });
  }

  /** Our client profile, renewed (re-signed with a new expiry) when it is close to expiring. */
  get clientProfile(): ClientProfile {
    if (needsRenewal(this.keys.profile, this.clock(), PROFILE_RENEW_BEFORE_SECONDS)) {
      this.keys.profile = this.makeProfile();
      this.book.markAccount();
    }
    return this.keys.profile;
  }

  get instanceTag(): number {
    return this.keys.instanceTag;
  }

  /** The identity key pair (secret included): for the DAKE and profile signing inside the library. */
  get identity(): Ed448KeyPair {
    return this.keys.identity;
  }

  private checkedSigner: CheckedSigner | undefined;

  /**
   * The identity key pair as the DAKEs' ring signatures use it, G·scalar = H checked once per account object
   * (on the first DAKE, so making or restoring an account stays cheap) instead of in every signature
   * (docs/performance.md §The interactive DAKE's time). A pair that does not match is refused here, with the
   * error a ring signature would raise.
   */
  get identitySigner(): CheckedSigner {
    const id = this.keys.identity;
    return (this.checkedSigner ??= checkSigningKey(this.backend, id.scalar, id.publicKey));
  }

  /** The OTRv3 DSA key if it has been made (never makes it: see prepareV3). */
  get dsaKey(): DsaPrivateKey | null {
    return this.keys.dsaKey;
  }

  /** Whether this account speaks OTRv3 (advertises it, answers v3-only peers); its key may not exist yet. */
  get v3Capable(): boolean {
    return this.keys.v3Capable;
  }

  /**
   * The OTRv3 DSA key, made now if it was not yet (1024-bit DSA: 0.1–0.5 s). The library calls this when an
   * OTRv3 AKE first needs the key; hosts may call it ahead of time (e.g. in a worker). Making the key re-issues
   * the client profile with the key and its transitional signature, so the account's record changes: persist
   * it afterwards (serialize()). Throws OtrStateError for an account without OTRv3 (`dsaKey: null`).
   */
  prepareV3(): DsaPrivateKey {
    const k = this.keys;
    if (k.dsaKey) return k.dsaKey;
    if (!k.v3Capable) throw new OtrStateError('this account was created without OTRv3 (dsaKey: null)');
    k.dsaKey = dsaGenerateKey(this.random);
    k.profile = this.makeProfile();
    return k.dsaKey;
  }

  /** Our OTRv4 fingerprint (56 bytes) — what peers compare out of band. */
  get fingerprintBytes(): Uint8Array {
    return profileFingerprint(this.backend, this.clientProfile);
  }

  get fingerprint(): string {
    return bytesToHex(this.fingerprintBytes);
  }

  /**
   * A publication for a prekey server (otrv4.md §Publishing Prekey Ensembles; otrv4-prekey-server.md), so
   * peers can start conversations while we are offline: our client profile, a prekey profile (a new one when
   * none stays valid for at least a day), and `count` new prekey messages. Pass it as the request of
   * `runServerRequest(backend, random, transport, account.prekeyServerLocal(identity), server, request)`; it
   * carries the secrets the server's proofs need. The secrets also stay in the account (persisted by
   * serialize()) until a Non-Interactive-Auth message uses one — once.
   */
  prekeyPublication(count: number): PsRequest & { kind: 'publish' } {
    const now = this.clock();
    const dayAhead = now + PROFILE_RENEW_BEFORE_SECONDS * 1000;
    // Profiles past expiry and grace are dropped (their secrets wiped) before a new one is added.
    let state = prunePrekeyOwnerState(this.prekeyOwner, now, DEFAULT_PREKEY_PROFILE_GRACE_SECONDS);
    let current = state.profiles.find((p) => !isPrekeyProfileExpired(p.profile, dayAhead, 0));
    if (!current) {
      const made = createPrekeyProfile(this.backend, this.random, {
        ownerTag: this.keys.instanceTag,
        identitySecret: this.keys.identity.secret,
        expiry: expiryFromNow(now, this.lifetime),
      });
      current = { profile: made.profile, sharedPrekeySecret: made.sharedPrekeySecret };
      state = addPrekeyProfile(state, current);
    }
    const batch = generatePrekeyMessages(this.backend, this.random, this.keys.instanceTag, count, ownerPrekeyIds(state));
    this.prekeyOwner = addPrekeys(state, batch, now, this.limits.maxOwnerPrekeys);
    this.book.markAccount();
    return { kind: 'publish', clientProfile: this.clientProfile, prekeyProfile: current, prekeys: batch };
  }

  /** Who we are to a prekey server, under our network identity (e.g. the bare JID). */
  prekeyServerLocal(identity: string): PsClientLocal {
    return { identity, instanceTag: this.keys.instanceTag, profile: this.clientProfile, identityScalar: this.keys.identity.scalar };
  }

  /** @internal The prekey secrets, for the non-interactive DAKE in Conversation. */
  get prekeyOwnerState(): PrekeyOwnerState {
    return this.prekeyOwner;
  }

  /** @internal Replaces the prekey secrets after a Non-Interactive-Auth consumed one. */
  setPrekeyOwnerState(s: PrekeyOwnerState): void {
    this.prekeyOwner = s;
    this.book.markAccount();
  }

  /** The conversation with `peerId` (created on first use). `peerId` is bound into the DAKE like accountId. */
  conversation(peerId: string): Conversation {
    if (typeof peerId !== 'string' || peerId.length === 0) throw new OtrArgumentError('peerId must be a non-empty string');
    let c = this.conversations.get(peerId);
    if (!c) {
      if (this.book.isUnloaded(peerId)) throw new OtrStateError('that conversation was unloaded: attach its record again before using it');
      if (this.book.isListed(peerId)) throw new OtrStateError('that conversation has a record in the store: attach it before using it');
      // A record attached but not decoded yet (lazy restore): decoded now, on first use.
      const build = (state: StateValue | undefined) => (state === undefined ? new Conversation(this, peerId) : Conversation.fromState(this, peerId, state));
      c = this.book.takeDormant(peerId, build) ?? new Conversation(this, peerId);
      this.live(c);
    }
    return c;
  }

  private live(c: Conversation): void {
    // Unloaded by this process and decoded again: it keeps its place in the idle order.
    const known = this.unloadedRecords.get(c.peerId);
    if (known !== undefined) {
      c.recordSeq = known.seq;
      this.unloadedRecords.delete(c.peerId);
    }
    this.book.instrument(c);
    this.book.adopt(c);
    this.conversations.set(c.peerId, c);
    // Restored or attached with pending DAKEs its peer started: counted (a restart forgets the index).
    this.pendingDakes.seen(c.peerId, c.peerDakes(false), false);
  }

  /** The peers we have conversations with (decoded or not). */
  get peers(): string[] {
    return [...this.conversations.keys(), ...this.book.dormantPeers];
  }

  // ------------------------------------------------------------------ records (docs/persistence.md)

  /**
   * Restores an account from its `account` record (lazy: conversations are attached with attachRecord and
   * decoded when first used). `generation` is the record's, as the store holds it.
   */
  static fromRecord(record: { bytes: Uint8Array; generation: number }, o: Omit<AccountOptions, 'accountId' | 'identitySecret' | 'instanceTag' | 'dsaKey' | 'forgingPublicKey'> = {}): Account {
    const account = Account.restore(record.bytes, o);
    account.book.setGeneration(ACCOUNT_RECORD, record.generation);
    account.book.loadedAccount(record.bytes);
    // A trust store brought within lower limits (session 16): the record is written again, within them.
    const trimmed = account.fingerprints.trimmedOnRestore;
    if (trimmed.peers + trimmed.fingerprints > 0) account.book.markAccount();
    return account;
  }

  /**
   * Attaches a conversation record loaded from a store (key `conv:<peer>`); it is decoded when the
   * conversation is first used. Replaces nothing: a conversation already in use keeps its state.
   */
  attachRecord(record: { key: string; bytes: Uint8Array; generation: number }): void {
    const peer = peerOfKey(record?.key);
    if (peer === undefined) throw new OtrArgumentError('attachRecord takes a conversation record (key conv:<peer>)');
    if (!(record.bytes instanceof Uint8Array)) throw new OtrArgumentError('record bytes must be a Uint8Array');
    if (this.conversations.has(peer)) throw new OtrArgumentError('that conversation is already in use');
    this.book.addDormant(peer, record.bytes, record.generation);
  }

  /** Whether the conversation with `peer` is decoded (in use) or attached. */
  hasConversation(peer: string): boolean {
    return this.conversations.has(peer) || this.book.hasDormant(peer);
  }

  /**
   * Drops the conversation with `peer` from memory (keys wiped); its record stays in the store. A bridge
   * unloads idle conversations to bound its heap; using the conversation again needs its record attached
   * (StoredAccount.conversation loads it). Refused (OtrLimitError) while it has uncommitted changes.
   */
  unload(peer: string): void {
    const c = this.conversations.get(peer);
    if (!c) return;
    refuseInsideOwnCall(c, 'unload'); // before the book encodes it: a refused unload leaves the book as it was
    this.book.unload(peer, c);
    // Whether its record can be deleted unread if its pending DAKEs are evicted (nothing else in it).
    const pending = this.pendingDakes.get(peer);
    if (pending) pending.unloadedStranger = c.holdsOnlyPeerDakes(pending.unbound);
    if (this.book.isUnloaded(peer)) this.unloadedRecords.set(peer, { seq: c.recordSeq, value: this.recordValue(peer, c) });
    c.wipeAll();
    this.conversations.delete(peer);
  }

  /**
   * @internal (the pool's worker) The caller does not keep the records an Outcome hands out (it transfers their
   * buffers): the account keeps copies of its own to tell a call that changes nothing (records.ts keepCopies).
   */
  keepRecordCopies(): void {
    this.book.keepCopies();
  }

  /** @internal (account-store.ts) The store holds `generation` of `key` (after a rollback was resolved). */
  resyncRecord(key: string, generation: number): void {
    this.book.setGeneration(key, generation);
  }

  /**
   * @internal (account-store.ts) A commit of `changes` failed before the store took it (busy, I/O, a dropped
   * connection; not a conflict): the store still holds generation `stored(key)` of each record. Those records
   * go again, whole, with the next changes, at the generation after the store's — otherwise every later commit
   * of them would come a generation ahead and be refused (attacks/s7-transient-commit). A failed delete is
   * retried by forgetting again; one the account made itself (a conversation left holding nothing: a
   * stranger's pending DAKE expired or evicted) goes again with the next changes, as does the delete of a
   * conversation the account no longer has (evicted: limits.maxAccountConversations; or forgotten).
   */
  commitFailed(changes: readonly RecordChange[], stored: (key: string) => number): void {
    for (const c of changes) {
      if (c.bytes === null) {
        const peer = peerOfKey(c.key);
        const conv = peer === undefined ? undefined : this.conversations.get(peer);
        // Also a delete of a conversation the account no longer has at all (evicted by maxAccountConversations or
        // forgotten): without it the store would keep a record the account no longer counts.
        if (conv?.holdsNothing() || (conv === undefined && peer !== undefined && !this.hasConversation(peer) && !this.book.isUnloaded(peer) && !this.book.isListed(peer)))
          this.book.deleteAgain(c.key, stored(c.key));
        else if (conv !== undefined) {
          // Written since the delete was handed out (it held nothing, and the peer wrote again while the delete was
          // in flight): that record was based on no record, but the store still holds one. Its next write goes on
          // top of the store's (a write already handed out is refused once: CONFLICT); left as it was, every later
          // write was refused (attacks/s12-failed-delete).
          this.book.setGeneration(c.key, stored(c.key));
          this.book.touch(conv, true);
        }
        continue;
      }
      this.book.setGeneration(c.key, stored(c.key));
      if (c.key === ACCOUNT_RECORD) this.book.markAccount();
      else {
        const peer = peerOfKey(c.key);
        const conv = peer === undefined ? undefined : this.conversations.get(peer);
        if (conv) this.book.touch(conv, true);
      }
    }
  }

  /** The generation of a record as this account last loaded or handed it out (0: none). */
  recordGeneration(key: string): number {
    return this.book.generation(key);
  }

  /**
   * Changes not carried by an Outcome: the account record after prekeyPublication(), a profile renewal or
   * trust set by hand (fingerprints.verify/revoke), and any conversation whose call threw. With `all`, every live conversation and the account record are
   * written again (moving from serialize() to a record store).
   */
  changes(o: { all?: boolean } = {}): RecordChange[] {
    // Trust set by hand (fingerprints.verify/revoke) changes the account record outside any call: compared here.
    if (o.all || this.book.generation(ACCOUNT_RECORD) === 0) this.book.markAccount();
    else this.book.checkAccount();
    if (o.all) {
      this.book.markAccount();
      for (const c of this.conversations.values()) this.book.touch(c, true);
    }
    return this.book.flush([]);
  }

  /**
   * Every record of the account as it stands now — the account record, each live conversation's record, each
   * attached (undecoded) record as attached — each at the generation last handed out or loaded. A snapshot:
   * nothing is handed out and no generation moves (`changes()` is what hands out). `Account.fromRecord` and
   * `attachRecord` on these rebuild the account (the worker pool reloads accounts this way). Fresh copies, the
   * caller's to keep or wipe. A live conversation with changes not handed out yet is written as it is now, at
   * its last generation: those changes still go with the next `changes()` or outcome.
   */
  records(): StoredRecord[] {
    const out: StoredRecord[] = [{ key: ACCOUNT_RECORD, generation: this.book.generation(ACCOUNT_RECORD), bytes: this.encode(false, false) }];
    for (const [peer, c] of this.conversations) {
      const key = conversationKey(peer);
      out.push({ key, generation: this.book.generation(key), bytes: conversationRecord(c) });
    }
    for (const peer of this.book.dormantPeers) {
      const key = conversationKey(peer);
      out.push({ key, generation: this.book.generation(key), bytes: this.book.dormantBytes(peer)!.slice() });
    }
    return out;
  }

  /**
   * Forgets the conversation with `peer`: every key wiped, the conversation gone from the account, and its
   * record deleted — the returned outcome's `changed` holds the delete (commit it). A later
   * conversation(peer) starts afresh.
   */
  forget(peer: string): Outcome {
    if (typeof peer !== 'string' || peer.length === 0) throw new OtrArgumentError('peerId must be a non-empty string');
    this.dropConversation(peer);
    return { toSend: [], messages: [], events: [], changed: this.book.flush([]) };
  }

  /** The conversation with `peer` gone from the account: keys wiped, its record's delete pending in the book, every index told. */
  private dropConversation(peer: string): void {
    const c = this.conversations.get(peer);
    c?.wipeAll();
    this.conversations.delete(peer);
    this.book.forget(peer, c);
    this.pendingDakes.forget(peer);
    this.unloadedRecords.delete(peer);
  }

  /**
   * The whole account — keys, profile, every conversation — as versioned bytes. Contains secrets: store it
   * safely. Attached records not decoded yet travel as the bytes they are (restore() attaches them again), so
   * one that does not decode (a hostile disk) never stops the account from being saved (docs/persistence.md).
   */
  serialize(): Uint8Array {
    const full = this.encode(false);
    if (full.length <= this.limits.maxStateBytes) return full;
    // Never write what restore() refuses. What an unauthenticated peer can add (pending DAKEs awaiting Auth-I)
    // is left out first: those peers simply start again. Then attached records that can never be used (they do
    // not decode into a conversation: refused on every use) — the store still holds them. The rest is state
    // the host asked for: never left out.
    const trimmed = this.encode(true);
    if (trimmed.length <= this.limits.maxStateBytes) return trimmed;
    const usable = this.encode(true, true, new Set(this.book.dormantPeers.filter((peer) => !this.dormantDecodes(peer))));
    if (usable.length <= this.limits.maxStateBytes) return usable;
    throw new OtrLimitError(`account state of ${usable.length} bytes exceeds limits.maxStateBytes (${this.limits.maxStateBytes}): raise it`);
  }

  /** Whether an attached record would decode into a conversation on first use (built, then wiped). */
  private dormantDecodes(peer: string): boolean {
    try {
      const state = this.book.peekDormant(peer);
      if (state !== undefined) Conversation.fromState(this, peer, state).wipeAll();
      return true;
    } catch (e) {
      if (e instanceof OtrError) return false;
      throw e;
    }
  }

  private encode(withoutUnauthenticated: boolean, withConversations = true, leftOut: ReadonlySet<string> = new Set()): Uint8Array {
    const k = this.keys;
    const live = withConversations ? [...this.conversations].map(([peer, c]) => ({ peer, c, state: c.toState(withoutUnauthenticated) })) : [];
    const value: StateValue = {
      accountId: this.accountId,
      identitySecret: k.identity.secret,
      forgingKey: k.forgingKey,
      instanceTag: k.instanceTag,
      profile: k.profile.encoded,
      dsa: k.dsaKey ? { p: k.dsaKey.p, q: k.dsaKey.q, g: k.dsaKey.g, y: k.dsaKey.y, x: k.dsaKey.x } : null,
      // OTRv3-capable with the key not yet made (absent in older states: capable iff a key is present).
      v3: k.v3Capable,
      lifetime: this.lifetime,
      prekeys: encodePrekeyOwnerState(this.prekeyOwner),
      conversations: live.map(({ peer, state }) => ({ peer, state })),
      // Attached, not decoded: their record bytes, untouched (decoded on first use after restore, as before).
      attached: withConversations ? this.book.dormantPeers.filter((peer) => !leftOut.has(peer)).map((peer) => ({ peer, record: this.book.dormantBytes(peer)! })) : [],
      fingerprints: this.fingerprints.toValue(),
      // The records' generations travel with the whole account, so a restored copy commits where it left off.
      generations: withConversations ? this.generationsValue(leftOut) : undefined,
    };
    try {
      return encodeState(ACCOUNT_STATE_KIND, value);
    } finally {
      for (const { c, state } of live) c.wipeState(state);
    }
  }

  /** A record left out carries no generation: a fresh conversation over it in a restored copy fails CONFLICT. */
  private generationsValue(leftOut: ReadonlySet<string>): StateValue {
    const peers = [...this.conversations.keys(), ...this.book.dormantPeers.filter((p) => !leftOut.has(p))];
    const keys = [ACCOUNT_RECORD, ...peers.map(conversationKey)];
    return keys.map((key) => ({ key, generation: this.book.generation(key) })).filter((g) => g.generation > 0);
  }

  /**
   * Restores an account from `serialize()` output. Options supply what is not persisted (backend, random,
   * clock, policy, limits); `accountId` is taken from the state. Throws OtrDecodeError for anything that is
   * not a well-formed account state.
   */
  static restore(bytes: Uint8Array, o: Omit<AccountOptions, 'accountId' | 'identitySecret' | 'instanceTag' | 'dsaKey' | 'forgingPublicKey'> = {}): Account {
    const limits = resolveLimits(o.limits);
    const v = expect.record(decodeState(ACCOUNT_STATE_KIND, bytes, limits.maxStateBytes), 'account');
    const backend = o.backend ?? getBackend();
    const keys = restoreKeys(backend, v);
    const accountId = expect.bytes(v.accountId, 'accountId');
    if (accountId.length === 0) throw new OtrDecodeError('state: empty accountId');
    const lifetime = expect.uint(v.lifetime, 'lifetime', 0xffffffff);
    if (lifetime === 0) throw new OtrDecodeError('state: zero profile lifetime');
    const seen = LastSeenFingerprints.fromValue(v.fingerprints, limits.maxTrustPeers, limits.maxFingerprintsPerPeer, limits.maxTrustStoreBytes);
    const account = new Account({ ...o, backend, accountId, profileLifetimeSeconds: lifetime }, keys, seen);
    if (v.prekeys !== undefined && v.prekeys !== null) account.prekeyOwner = decodePrekeyOwnerState(expect.bytes(v.prekeys, 'prekeys'));
    for (const entry of expect.array(v.conversations, 'conversations', 1 << 20)) {
      const e = expect.record(entry, 'conversation');
      const peer = expect.string(e.peer, 'conversation.peer');
      if (peer.length === 0) throw new OtrDecodeError('state: empty peer id');
      if (account.conversations.has(peer)) throw new OtrDecodeError('state: duplicated conversation');
      account.live(Conversation.fromState(account, peer, e.state));
    }
    // Attached records (absent in older states): attached again as they were, decoded on first use.
    if (v.attached !== undefined && v.attached !== null) {
      for (const entry of expect.array(v.attached, 'attached', 1 << 20)) {
        const e = expect.record(entry, 'attached record');
        const peer = expect.string(e.peer, 'attached.peer');
        if (peer.length === 0) throw new OtrDecodeError('state: empty peer id');
        if (account.hasConversation(peer)) throw new OtrDecodeError('state: duplicated conversation');
        account.book.addDormant(peer, expect.bytes(e.record, 'attached.record'), 0);
      }
    }
    if (v.generations !== undefined && v.generations !== null) {
      for (const entry of expect.array(v.generations, 'generations', 1 << 20)) {
        const g = expect.record(entry, 'generations[]');
        const key = expect.string(g.key, 'generations.key');
        // Only the account's and those of conversations the state holds, as serialize() writes them: any other
        // counted as a record against maxAccountConversations that nothing could evict (attacks/s12-review-ghost-generations).
        const peer = peerOfKey(key);
        if (key !== ACCOUNT_RECORD && (peer === undefined || !account.hasConversation(peer))) throw new OtrDecodeError('state: a record generation of no conversation the state holds');
        account.book.setGeneration(key, expect.uint(g.generation, 'generations.generation'));
      }
    }
    return account;
  }
}

/**
 * The account's keys from a state value, every one checked against the others (a typed OtrDecodeError
 * otherwise): the identity secret must give the profile's identity key, the forging key and the instance tag
 * must be the profile's, the profile's signature must verify, and the DSA key must be within bounds (no
 * p = 0, no g = 0: those used to throw from receive() or hang dsaSign) with y = g^x and match the profile's
 * transitional key. A state whose halves disagree would sign with one key while peers verify another.
 */
function restoreKeys(backend: CryptoBackend, v: Record<string, StateValue | undefined>): AccountKeys {
  const instanceTag = expect.uint(v.instanceTag, 'instanceTag', 0xffffffff);
  if (!isValidSenderTag(instanceTag)) throw new OtrDecodeError('state: invalid instance tag');
  const identity = ed448KeyPair(backend, expect.bytes(v.identitySecret, 'identitySecret', 57));
  const forgingKey = expect.bytes(v.forgingKey, 'forgingKey', 57);
  if (!backend.pointIsValid(forgingKey)) throw new OtrDecodeError('state: forging key is not a valid point');
  const profile = decodeClientProfile(expect.bytes(v.profile, 'profile'));
  if (!equalBytes(profile.identityKey, identity.publicKey)) throw new OtrDecodeError('state: identity secret does not match the client profile');
  if (!equalBytes(profile.forgingKey, forgingKey)) throw new OtrDecodeError('state: forging key does not match the client profile');
  if (profile.ownerTag !== instanceTag) throw new OtrDecodeError('state: instance tag does not match the client profile');
  if (!ed448Verify(backend, profile.identityKey, profileSignedBytes(profile), profile.signature))
    throw new OtrDecodeError('state: client profile signature does not verify');
  let dsaKey: DsaPrivateKey | null = null;
  if (v.dsa !== null && v.dsa !== undefined) {
    const d = expect.record(v.dsa, 'dsa');
    dsaKey = { p: expect.bigint(d.p, 'dsa.p'), q: expect.bigint(d.q, 'dsa.q'), g: expect.bigint(d.g, 'dsa.g'), y: expect.bigint(d.y, 'dsa.y'), x: expect.bigint(d.x, 'dsa.x') };
    if (!dsaPrivateKeyIsConsistent(dsaKey)) throw new OtrDecodeError('state: DSA key is out of bounds or inconsistent');
    const t = profile.dsaKey;
    if (!t || t.p !== dsaKey.p || t.q !== dsaKey.q || t.g !== dsaKey.g || t.y !== dsaKey.y)
      throw new OtrDecodeError('state: DSA key does not match the client profile');
  } else if (profile.dsaKey) throw new OtrDecodeError('state: the client profile has a DSA key the state lacks');
  const v3Flag = v.v3 === undefined || v.v3 === null ? dsaKey !== null : expect.boolean(v.v3, 'v3');
  if (dsaKey && !v3Flag) throw new OtrDecodeError('state: a DSA key on an account without OTRv3');
  return { identity, forgingKey, instanceTag, dsaKey, v3Capable: v3Flag, profile };
}

function checkOptions(o: AccountOptions): void {
  if (!o || (typeof o.accountId !== 'string' && !(o.accountId instanceof Uint8Array)))
    throw new OtrArgumentError('accountId must be a string or bytes');
  if (o.accountId.length === 0) throw new OtrArgumentError('accountId must not be empty');
  if (o.identitySecret !== undefined && (!(o.identitySecret instanceof Uint8Array) || o.identitySecret.length !== 57))
    throw new OtrArgumentError('identitySecret must be 57 bytes');
  if (o.instanceTag !== undefined && !isValidSenderTag(o.instanceTag)) throw new OtrArgumentError('instanceTag must be >= 0x100');
  if (o.forgingPublicKey !== undefined && (!(o.forgingPublicKey instanceof Uint8Array) || o.forgingPublicKey.length !== 57))
    throw new OtrArgumentError('forgingPublicKey must be 57 bytes');
}
