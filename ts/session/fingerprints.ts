/**
 * The account's fingerprint trust store: per peer, every long-term fingerprint seen (first and last seen), its
 * trust, and the one last seen per protocol version (v4: the client profile's fingerprint; v3: the DSA key's
 * SHA-1 fingerprint).
 *
 * Only fingerprints of completed (authenticated) DAKEs are recorded, so an unauthenticated peer cannot write
 * here. It tells the session layer: that a fingerprint is new for this peer (`fingerprint-new`), that the
 * peer's key changed (`fingerprint-changed`), whether a changed key may be used (policy.refuseUnverifiedChange),
 * and that we have seen the peer speak OTRv4 (an OTRv3 offer from them afterwards is a possible downgrade).
 * Persisted with the account and validated on restore; bounded by limits.maxTrustPeers and
 * limits.maxFingerprintsPerPeer (docs/trust.md says what is evicted first).
 */
import { expect, type StateValue } from './state-codec.js';
import { OtrArgumentError, OtrDecodeError, OtrLimitError } from '../errors.js';
import { utf8 } from '../bytes.js';
import type { ProtocolVersion, Trust } from './events.js';

export type { Trust };

const TRUSTS: readonly Trust[] = ['unverified', 'verified-smp', 'verified-hand', 'revoked'];

export interface KnownFingerprint {
  /** Lowercase hex: 112 digits for v4, 40 for v3. */
  readonly fingerprint: string;
  readonly version: ProtocolVersion;
  /** Clock times (ms) of the first and the most recent completed DAKE with this key. */
  firstSeen: number;
  lastSeen: number;
  trust: Trust;
}

export interface SeenFingerprints {
  v4?: string;
  v3?: string;
}

interface PeerEntry {
  last: SeenFingerprints;
  known: KnownFingerprint[];
  /** Changes whenever `known` does (an entry added, evicted, seen again, its trust set); 0: never changed here. */
  revision: number;
  /** What this entry adds to the account record, over-estimated (sizeOf): counted against limits.maxTrustStoreBytes. */
  size: number;
  /**
   * The user wrote to this peer in an encrypted session (markContact): a contact, forgotten only after every
   * stranger. No peer can make this happen from its side, whatever number of identities it has.
   */
  contact: boolean;
  /** keepRank when last counted (reranked): which of the store's `byRank` maps holds this peer. */
  rank: number;
}

/**
 * An upper estimate of the bytes one peer's entry takes in the account record: the state codec writes each
 * field with its name, each string with a tag and length, each time as a float. Measured with it: 379 bytes
 * for a 30-character peer with one OTRv4 key (this says 406), 2,652 with sixteen keys (this says 2,758);
 * test/attacks/s10-review-trust-store.test.ts checks it stays above what serialize() writes.
 */
function sizeOf(peer: string, e: PeerEntry): number {
  let n = 64 + utf8(peer).length;
  if (e.last.v4 !== undefined) n += 8 + e.last.v4.length;
  if (e.last.v3 !== undefined) n += 8 + e.last.v3.length;
  for (const k of e.known) n += 80 + k.fingerprint.length;
  if (e.contact) n += 16; // "contact" (DATA) and a boolean: 12 bytes written
  return n;
}

/** Whether forgetting this peer would lose a decision of the user's (a verified or revoked key). */
function holdsTrust(e: PeerEntry): boolean {
  return e.known.some((k) => k.trust !== 'unverified');
}

/**
 * The order peers are forgotten in when the store is full (lowest first, least recently seen first within
 * each): strangers, then contacts the user wrote to (their last-seen keys are all that tells a takeover from
 * a first contact, since most users never verify: session 11, attacks/s11-review-trust-flood), then peers
 * holding a decision of the user's.
 */
function keepRank(e: PeerEntry): number {
  return holdsTrust(e) ? RANK_DECISION : e.contact ? 1 : 0;
}

/** The keepRank of a peer holding a verified or revoked key: never forgotten by a restore (session 16). */
const RANK_DECISION = 2;

/**
 * One peer's keys in the order they are forgotten when it holds too many, first first: what costs least to
 * forget — unverified keys, least recently seen first; then verified or revoked ones (forgetting a revocation
 * makes that key "new" again); a last-seen key only when nothing else can go (a per-peer bound below three),
 * its mark with it. Until session 11 an unverified last-seen key went before any verified or revoked one, and
 * when the key added did not become the last seen in its place (a DAKE refused for its key, a verify() of a key
 * read out of band) the record kept a mark for a key it no longer listed, which restore() refuses
 * (attacks/s11-trust-last-seen). The growing store (add) and a restore under a lower bound (fromValue) use it.
 */
function keysInEvictionOrder(e: PeerEntry): KnownFingerprint[] {
  const last = new Set([e.last.v4, e.last.v3]);
  const order = (x: KnownFingerprint) => (last.has(x.fingerprint) ? 2 : x.trust === 'unverified' ? 0 : 1);
  return [...e.known].sort((a, b) => order(a) - order(b) || a.lastSeen - b.lastSeen);
}

function forgetKey(e: PeerEntry, victim: KnownFingerprint): void {
  e.known.splice(e.known.indexOf(victim), 1);
  if (e.last.v4 === victim.fingerprint) delete e.last.v4;
  if (e.last.v3 === victim.fingerprint) delete e.last.v3;
}

/**
 * A restore under a lower maxFingerprintsPerPeer than the record was written with (session 16): the keys the
 * growing store would forget first go, never one the user verified or revoked. Returns how many went; refuses
 * (OtrLimitError naming the limit, nothing dropped) when the user's decisions alone are more than it allows —
 * or the decisions and the peer's last-seen keys: the growing store forgets a decision before a last-seen key,
 * which a restore must not, and the last-seen key is what makes a hijacker's key `fingerprint-changed` (refused
 * under refuseUnverifiedChange) rather than `fingerprint-new` (attacks/s16-review2-trust-last-seen). A last-seen
 * key goes only where the growing store lets it go: the peer holds no decision, nothing else can.
 */
function keysWithinLimit(e: PeerEntry, maxPerPeer: number): number {
  // What the growing store can hold: add() makes room while the list is at the bound, so one key at least.
  const over = e.known.length - Math.max(Math.ceil(maxPerPeer), 1);
  if (over <= 0) return 0;
  const last = new Set([e.last.v4, e.last.v3]);
  const decisions = e.known.some((k) => k.trust !== 'unverified');
  const forgettable = keysInEvictionOrder(e).filter((k) => k.trust === 'unverified' && (!decisions || !last.has(k.fingerprint)));
  if (forgettable.length < over) {
    // Only a peer holding decisions gets here (else every key is forgettable): its last-seen keys count if they must.
    const unverified = e.known.filter((k) => k.trust === 'unverified').length;
    throw decisionsOverLimit('maxFingerprintsPerPeer', maxPerPeer, 'keys of one peer', unverified >= over ? ', with its keys last seen (which tell a changed key),' : '');
  }
  for (const k of forgettable.slice(0, over)) forgetKey(e, k);
  return over;
}

/**
 * The restore's refusal when the user's trust decisions alone exceed a lowered limit (docs/trust.md, session
 * 16): they are never dropped silently, and the record is left as it was, so the host raises the limit named
 * here and the account opens with everything.
 */
function decisionsOverLimit(limit: string, value: number, what: string, besides = ''): OtrLimitError {
  return new OtrLimitError(
    `the trust store's ${what} verified or revoked by the user${besides} exceed limits.${limit} (${value}): restore refused, nothing dropped; raise the limit (or unverify some under the old one)`,
  );
}

/** What one completed DAKE's fingerprint is to this peer. */
export interface Observation {
  entry: KnownFingerprint;
  /** Never seen for this peer before. */
  isNew: boolean;
  /** The fingerprint last seen for this peer and version, if it was a different one. */
  previous?: string;
}

/**
 * Work done choosing peers to forget: every peer looked at while picking one (evictPeer: the growing store and the restore trim).
 * Read by tests only, to show a trim or a flood of admissions is bounded without timing anything
 * (test/attacks/s11-trust-trim.test.ts).
 */
export const evictionWork = { peersExamined: 0 };

/** Hex lengths: a v4 fingerprint is 56 bytes, a v3 (SHA-1) one 20. */
const HEX = { v4: /^[0-9a-f]{112}$/, v3: /^[0-9a-f]{40}$/ } as const;

export function isVerified(t: Trust | undefined): boolean {
  return t === 'verified-smp' || t === 'verified-hand';
}

export class LastSeenFingerprints {
  private readonly byPeer = new Map<string, PeerEntry>();
  /**
   * The same peers split by keepRank, each map in byPeer's order (least recently used first): the peer to forget
   * is the first of the lowest non-empty one, found without a scan. Before session 11 evictPeer scanned byPeer,
   * passing every contact and verified peer before the first stranger: a peer looked at per contact for each
   * new identity admitted at the bound, and per peer for each one forgotten on restore (quadratic).
   */
  private readonly byRank = [new Map<string, PeerEntry>(), new Map<string, PeerEntry>(), new Map<string, PeerEntry>()] as const;
  /** The entry last in byPeer's order (the last one used or restored): a change of its rank puts it last in byRank too. */
  private newest: PeerEntry | undefined;
  /** The last revision handed out: revisions are unique across peers, so an evicted and re-added peer never repeats one. */
  private revisions = 0;
  /** The sum of the entries' sizes (sizeOf). */
  private bytes = 0;
  /** Set while fromValue restores: the limit an eviction is for (evictPeer then spares the user's decisions). */
  private restoring: { limit: string; value: number } | null = null;
  private readonly trimmed = { peers: 0, fingerprints: 0 };
  /**
   * While fromValue restores: the keys it cut from each peer admitted (keysWithinLimit). A peer forgotten later in
   * the same restore takes its count back out of trimmed.fingerprints, the keys "of peers it kept" (it was counted
   * as a peer and again per cut key: attacks/s16-review2-trust-counts).
   */
  private cutOnRestore: Map<PeerEntry, number> | null = null;

  constructor(
    private readonly maxPeers = 100_000,
    private readonly maxPerPeer = 16,
    /** limits.maxTrustStoreBytes: the store's share of the account record (which restore bounds by maxStateBytes). */
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  /**
   * What the restore that made this store forgot to bring a record written under higher limits within the
   * account's (session 16): peers, and keys of peers it kept — all unverified, least valuable first as the
   * growing store forgets them; never a verified or revoked key (such a record is refused instead: docs/trust.md).
   * Zeros for a store not restored or restored whole. The account record is written again with the next changes.
   */
  get trimmedOnRestore(): { readonly peers: number; readonly fingerprints: number } {
    return { ...this.trimmed };
  }

  /** What we last saw for `peer`. */
  get(peer: string): SeenFingerprints | undefined {
    return this.byPeer.get(peer)?.last;
  }

  /** Whether `peer` has completed an OTRv4 DAKE with us (so it can speak v4). */
  seenV4(peer: string): boolean {
    return this.byPeer.get(peer)?.last.v4 !== undefined;
  }

  /** Every fingerprint seen for `peer` (copies), most recently seen first. */
  list(peer: string): KnownFingerprint[] {
    const e = this.byPeer.get(peer);
    return e ? e.known.map((k) => ({ ...k })).sort((a, b) => b.lastSeen - a.lastSeen) : [];
  }

  /**
   * A number that changes whenever `list(peer)` would: compared before and after a conversation call to tell
   * whether the call changed the account record, at the cost of a map lookup instead of copying the list.
   */
  revision(peer: string): number {
    return this.byPeer.get(peer)?.revision ?? 0;
  }

  /**
   * A number that changes whenever any peer's `revision` does (the last revision handed out): one field read,
   * where `revision(peer)` is a map lookup on a cold table (the record book compares it before and after every
   * conversation call).
   */
  get revisionOfAll(): number {
    return this.revisions;
  }

  /** The peers with at least one fingerprint. */
  get peers(): string[] {
    return [...this.byPeer.keys()];
  }

  /** The trust of `fingerprint` for `peer` (undefined if never seen). */
  trustOf(peer: string, fingerprint: string): Trust | undefined {
    return this.find(peer, normalise(fingerprint))?.trust;
  }

  /**
   * Marks `fingerprint` as checked by hand (the user compared it out of band). Allowed for a fingerprint never
   * seen yet (e.g. read from a business card): it is recorded, with first and last seen 0, until a DAKE shows it.
   */
  verify(peer: string, fingerprint: string, trust: 'verified-hand' | 'verified-smp' = 'verified-hand'): void {
    this.setTrust(peer, fingerprint, trust);
  }

  /** Withdraws trust: the fingerprint is no longer the peer's (a lost device, a wrong comparison). */
  revoke(peer: string, fingerprint: string): void {
    this.setTrust(peer, fingerprint, 'revoked');
  }

  /** Back to unverified (neither trusted nor refused). */
  unverify(peer: string, fingerprint: string): void {
    this.setTrust(peer, fingerprint, 'unverified');
  }

  private setTrust(peer: string, fingerprint: string, trust: Trust): void {
    if (typeof peer !== 'string' || peer.length === 0) throw new OtrArgumentError('peer must be a non-empty string');
    const fp = normalise(fingerprint);
    const version = HEX.v4.test(fp) ? 4 : HEX.v3.test(fp) ? 3 : 0;
    if (version === 0) throw new OtrArgumentError('not a fingerprint: 112 hex digits (OTRv4) or 40 (OTRv3)');
    const k = this.find(peer, fp) ?? this.add(peer, { fingerprint: fp, version, firstSeen: 0, lastSeen: 0, trust: 'unverified' });
    if (k.trust !== trust) this.changed(peer);
    k.trust = trust;
    this.reranked(peer, this.byPeer.get(peer)!);
  }

  /**
   * Records the fingerprint of a completed DAKE in the known list (first/last seen); `last` is left alone, so
   * a session refused for its key does not become the peer's "last seen" key (see adopt).
   */
  record(peer: string, version: ProtocolVersion, fingerprintHex: string, nowMs: number): Observation {
    const previousLast = this.byPeer.get(peer)?.last[version === 4 ? 'v4' : 'v3'];
    let entry = this.find(peer, fingerprintHex);
    const isNew = entry === undefined || entry.lastSeen === 0;
    if (!entry) entry = this.add(peer, { fingerprint: fingerprintHex, version, firstSeen: nowMs, lastSeen: nowMs, trust: 'unverified' });
    const lastSeen = Math.max(entry.lastSeen, nowMs);
    if ((entry.firstSeen === 0 && nowMs !== 0) || lastSeen !== entry.lastSeen) this.changed(peer);
    if (entry.firstSeen === 0) entry.firstSeen = nowMs;
    entry.lastSeen = lastSeen;
    return { entry, isNew, ...(previousLast !== undefined && previousLast !== fingerprintHex ? { previous: previousLast } : {}) };
  }

  /** Makes `fingerprintHex` the one last seen for `peer` and `version` (a session with it came up). */
  adopt(peer: string, version: ProtocolVersion, fingerprintHex: string): void {
    const e = this.entry(peer);
    const slot = version === 4 ? 'v4' : 'v3';
    // The account record holds the last seen one: a change is a change of that record too (before session 8 a
    // peer going back to a known key at the same clock reading moved no revision, so that was not written).
    if (e.last[slot] !== fingerprintHex) e.revision = ++this.revisions;
    e.last[slot] = fingerprintHex;
    this.resized(peer, e);
  }

  /**
   * Records and adopts at once; returns the previous fingerprint if it was different (undefined the first time
   * and when unchanged). Kept for callers that only need the last-seen record.
   */
  observe(peer: string, version: ProtocolVersion, fingerprintHex: string, nowMs = 0): string | undefined {
    const o = this.record(peer, version, fingerprintHex, nowMs);
    this.adopt(peer, version, fingerprintHex);
    return o.previous;
  }

  private find(peer: string, fp: string): KnownFingerprint | undefined {
    return this.byPeer.get(peer)?.known.find((k) => k.fingerprint === fp);
  }

  private entry(peer: string): PeerEntry {
    let e = this.byPeer.get(peer);
    if (!e) {
      if (this.byPeer.size >= this.maxPeers) this.evictPeer(peer);
      e = { last: {}, known: [], revision: 0, size: 0, contact: false, rank: 0 };
      this.byPeer.set(peer, e);
      this.byRank[0].set(peer, e);
      this.newest = e;
    } else {
      // Most recently used last: Map order is the eviction order.
      this.byPeer.delete(peer);
      this.byPeer.set(peer, e);
      this.byRank[e.rank]!.delete(peer);
      this.byRank[e.rank]!.set(peer, e);
      this.newest = e;
    }
    return e;
  }

  private add(peer: string, k: KnownFingerprint): KnownFingerprint {
    const e = this.entry(peer);
    if (e.known.length >= this.maxPerPeer) forgetKey(e, keysInEvictionOrder(e)[0]!);
    e.known.push(k);
    e.revision = ++this.revisions;
    this.resized(peer, e);
    return k;
  }

  /**
   * Counts `e`'s new size, then forgets other peers while the store is over maxBytes. Without a byte bound, the
   * completed DAKEs of many identities (~262 bytes each in the account record) made the account record pass
   * maxStateBytes at ~16,000 peers, below maxTrustPeers: serialize() then threw, and the record changes() handed
   * out was one no restore accepts (test/attacks/s10-review-trust-store.test.ts).
   */
  private resized(peer: string, e: PeerEntry): void {
    this.reranked(peer, e);
    const size = sizeOf(peer, e);
    this.bytes += size - e.size;
    e.size = size;
    while (this.bytes > this.maxBytes && this.byPeer.size > 1) this.evictPeer(peer);
  }

  /**
   * Moves `peer` to the byRank map of its keepRank if that changed. Its place there must be its place in
   * byPeer: the end if it is the peer last used (a first message sent right after its DAKE, the usual case);
   * otherwise somewhere inside, which a Map cannot insert at, so the new rank's map is refilled in byPeer's
   * order — a pass over the store, only when the user verifies, revokes or first writes to a peer not the
   * last one used, never for anything a peer does.
   */
  private reranked(peer: string, e: PeerEntry): void {
    const rank = keepRank(e);
    if (rank === e.rank) return;
    this.byRank[e.rank]!.delete(peer);
    e.rank = rank;
    const ranked = this.byRank[rank]!;
    if (e === this.newest) {
      ranked.set(peer, e);
      return;
    }
    ranked.clear();
    for (const [p, x] of this.byPeer) if (x.rank === rank) ranked.set(p, x);
  }

  /**
   * The user wrote to `peer` in an encrypted session (Conversation.send): the peer becomes a contact, which a
   * flood of strangers cannot push out of a full store (keepRank). Only a peer the store knows (a DAKE with it
   * completed); the account record changes once, the first time.
   */
  markContact(peer: string): void {
    const e = this.byPeer.get(peer);
    if (e === undefined || e.contact) return;
    e.contact = true;
    e.revision = ++this.revisions;
    this.resized(peer, e);
  }

  /** Whether the user wrote to `peer` in an encrypted session (markContact). */
  isContact(peer: string): boolean {
    return this.byPeer.get(peer)?.contact ?? false;
  }

  /**
   * Whether `peer` is the user's: a contact, or a peer with a verified or revoked key (keepRank above a
   * stranger's). What no peer can make itself, however many DAKEs it completes.
   */
  isUsers(peer: string): boolean {
    const e = this.byPeer.get(peer);
    return e !== undefined && keepRank(e) > 0;
  }

  private changed(peer: string): void {
    const e = this.byPeer.get(peer);
    if (e) e.revision = ++this.revisions;
  }

  /**
   * Forgets one peer other than `keep`: the least recently used of the lowest keepRank — a stranger, else a
   * contact the user wrote to, else one holding a verified or revoked key. A flood of new peers (every one an
   * unverified stranger) thus pushes out other strangers before any contact. (A host with more peers than the
   * bounds raises limits.maxTrustPeers and maxTrustStoreBytes.)
   */
  private evictPeer(keep: string): void {
    // A restore under lower limits (fromValue) spares the peers holding a decision of the user's (session 16).
    const ranks = this.restoring === null ? this.byRank.length : RANK_DECISION;
    for (let rank = 0; rank < ranks; rank++) {
      const ranked = this.byRank[rank]!;
      // At most two looked at per rank: `keep` is one peer.
      for (const [peer, e] of ranked) {
        evictionWork.peersExamined++;
        if (peer === keep) continue;
        this.forgetPeer(peer, e);
        return;
      }
    }
    if (this.restoring === null) return;
    // Restoring: the peer just read goes too if it holds no decision (nothing else can); else the decisions
    // alone are over the limit.
    const e = this.byPeer.get(keep);
    if (e === undefined || e.rank === RANK_DECISION) throw decisionsOverLimit(this.restoring.limit, this.restoring.value, 'peers');
    this.forgetPeer(keep, e);
  }

  private forgetPeer(peer: string, e: PeerEntry): void {
    this.bytes -= e.size;
    this.byPeer.delete(peer);
    this.byRank[e.rank]!.delete(peer);
    if (this.newest === e) this.newest = undefined;
    if (this.restoring !== null) {
      this.trimmed.peers++;
      this.trimmed.fingerprints -= this.cutOnRestore?.get(e) ?? 0;
    }
  }

  toValue(): StateValue {
    return [...this.byPeer].map(([peer, e]) => ({
      peer,
      v4: e.last.v4 ?? null,
      v3: e.last.v3 ?? null,
      known: e.known.map((k) => ({ fp: k.fingerprint, first: k.firstSeen, last: k.lastSeen, trust: k.trust })),
      // Written only when set: records of strangers stay as they were, and older records read as strangers.
      contact: e.contact ? true : undefined,
    }));
  }

  /**
   * Restores the store; throws OtrDecodeError on anything malformed. States written before the trust store
   * (entries without `known`) get one unverified entry per last-seen fingerprint. A record written under higher
   * limits than these (session 16) is brought within them as the growing store would be — its least valuable
   * peers and keys forgotten first (evictPeer, keysInEvictionOrder), counted in trimmedOnRestore — except that
   * no verified or revoked key is ever forgotten: when those alone are over a limit, OtrLimitError names it and
   * nothing is dropped. The lists' lengths need no bound of their own: decodeState checked the record's bytes.
   */
  static fromValue(v: StateValue | undefined, maxPeers = 100_000, maxPerPeer = 16, maxBytes = Number.POSITIVE_INFINITY): LastSeenFingerprints {
    const out = new LastSeenFingerprints(maxPeers, maxPerPeer, maxBytes);
    if (v === undefined || v === null) return out;
    out.cutOnRestore = new Map();
    try {
      out.restoreEntries(expect.array(v, 'fingerprints'));
    } finally {
      out.restoring = null;
      out.cutOnRestore = null;
    }
    return out;
  }

  private restoreEntries(list: readonly StateValue[]): void {
    const out = this;
    const { maxPeers, maxPerPeer, maxBytes } = this;
    // Every peer read, kept or not: byPeer no longer holds one a trim forgot, and a second copy of it was taken
    // as a new peer — a record refused under its own limits accepted under lower ones (attacks/s16-review2-trust-duplicates).
    const read = new Set<string>();
    for (const e of list) {
      const r = expect.record(e, 'fingerprints[]');
      const peer = expect.string(r.peer, 'fingerprints.peer');
      if (peer.length === 0) throw new OtrDecodeError('state: fingerprints: empty peer');
      const contact = r.contact === undefined || r.contact === null ? false : expect.boolean(r.contact, 'fingerprints.contact');
      const entry: PeerEntry = { last: {}, known: [], revision: 0, size: 0, contact, rank: 0 };
      for (const key of ['v4', 'v3'] as const) {
        if (r[key] === null || r[key] === undefined) continue;
        const hex = expect.string(r[key], `fingerprints.${key}`);
        if (!HEX[key].test(hex)) throw new OtrDecodeError(`state: fingerprints.${key} is not a fingerprint`);
        entry.last[key] = hex;
      }
      if (r.known === undefined || r.known === null) {
        for (const key of ['v4', 'v3'] as const) {
          const fp = entry.last[key];
          if (fp) entry.known.push({ fingerprint: fp, version: key === 'v4' ? 4 : 3, firstSeen: 0, lastSeen: 0, trust: 'unverified' });
        }
      } else {
        const fps = new Set<string>();
        for (const item of expect.array(r.known, 'fingerprints.known')) {
          const k = expect.record(item, 'fingerprints.known[]');
          const fp = expect.string(k.fp, 'fingerprints.known.fp');
          const version = HEX.v4.test(fp) ? 4 : HEX.v3.test(fp) ? 3 : 0;
          if (version === 0) throw new OtrDecodeError('state: fingerprints.known.fp is not a fingerprint');
          const trust = expect.string(k.trust, 'fingerprints.known.trust') as Trust;
          if (!TRUSTS.includes(trust)) throw new OtrDecodeError('state: fingerprints.known.trust is not a trust level');
          const first = expect.number(k.first, 'fingerprints.known.first');
          const last = expect.number(k.last, 'fingerprints.known.last');
          if (!(first >= 0 && last >= first)) throw new OtrDecodeError('state: fingerprints.known: bad first/last seen');
          // A set, not a scan: the list's length is bounded by the record's bytes only.
          if (fps.has(fp)) throw new OtrDecodeError('state: fingerprints.known: duplicated fingerprint');
          fps.add(fp);
          entry.known.push({ fingerprint: fp, version, firstSeen: first, lastSeen: last, trust });
        }
        for (const key of ['v4', 'v3'] as const) {
          const fp = entry.last[key];
          if (fp && !fps.has(fp)) throw new OtrDecodeError('state: fingerprints: last seen key is not among the known ones');
        }
      }
      const cut = keysWithinLimit(entry, maxPerPeer);
      if (read.has(peer)) throw new OtrDecodeError('state: fingerprints: duplicated peer');
      read.add(peer);
      entry.rank = keepRank(entry);
      // As entry() admits a new peer: room first, at the bound (never a decision's, nor the peer being read).
      // (The growing store holds one peer whatever the bound: entry() adds after making room.)
      if (out.byPeer.size > 0 && out.byPeer.size >= maxPeers) {
        out.restoring = { limit: 'maxTrustPeers', value: maxPeers };
        if (!out.evictOnRestore(entry)) continue;
      }
      // Counted once admitted (a peer left out is counted as a peer only), taken back if it is forgotten later.
      if (cut > 0) {
        out.trimmed.fingerprints += cut;
        out.cutOnRestore!.set(entry, cut);
      }
      out.byPeer.set(peer, entry);
      out.byRank[entry.rank]!.set(peer, entry);
      out.newest = entry;
      // Over the byte bound (a record written under a larger one, or by a hostile disk): trimmed as a growing
      // store would be, in record order (the order toValue wrote, least recently used first), the peer just read
      // last and a decision's never; one eviction is constant work (byRank), so the trim is linear in the record.
      out.restoring = { limit: 'maxTrustStoreBytes', value: maxBytes };
      out.resized(peer, entry);
    }
  }

  /**
   * Room for `entry` at maxTrustPeers while restoring: another peer without a decision forgotten, else `entry`
   * itself if it holds none (false: not admitted, counted), else OtrLimitError (the decisions alone fill it).
   */
  private evictOnRestore(entry: PeerEntry): boolean {
    if (this.byRank[0]!.size + this.byRank[1]!.size > 0) {
      this.evictPeer('');
      return true;
    }
    if (entry.rank === RANK_DECISION) throw decisionsOverLimit('maxTrustPeers', this.maxPeers, 'peers');
    this.trimmed.peers++;
    return false;
  }
}

/** Accepts the forms users copy: upper case, spaces, colons. */
function normalise(fingerprint: string): string {
  if (typeof fingerprint !== 'string') throw new OtrArgumentError('fingerprint must be a hex string');
  return fingerprint.replace(/[\s:]/g, '').toLowerCase();
}
