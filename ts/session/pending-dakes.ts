/**
 * The account's index of pending DAKEs that peers started (issue 12, "bounded state"; limits.maxAccountPendingDakes).
 * A pending DAKE — an Identity we answered with Auth-R, or a peer's query we answered with our Identity — is
 * ~2.9 KB of its conversation's record and lives pendingDakeExpiryMs (24 h), checked only when that
 * conversation is used. Each conversation bounds its own (maxInstancesPerConversation), but a peer with many
 * identities (a hostile XMPP server's JIDs) opened one conversation per identity: ~345,000 records a day at the
 * account's DAKE budget, until the store refused new records and the account could take no new contact.
 *
 * The index keeps, per conversation, how many such DAKEs it held at its last admission (least recently
 * started first). When the total passes the bound, the account (account.ts evictPendingDakes) drops whole
 * conversations' pending DAKEs, oldest first: strangers' (not the user's: no contact, verified or revoked key
 * in the trust store, no queued message or policy of its own — account.ts) in a first pass, anyone's in a second; the conversation that is growing is
 * never emptied by its own admission (its own bound covers it: the model of shared-budget.ts).
 *
 * Counts are not decremented when a DAKE completes or expires: an entry may count more than its conversation
 * holds (never less, as every admission sets it to what the conversation then holds). Evicting such an entry
 * costs nothing and frees its count; so the real number of pending DAKEs the index knows of never passes the
 * bound. An admission *sets* the count rather than adding one: added up, an Identity that replaced a pending
 * DAKE counted one more each time, and a conversation whose own count passed the bound — never evicted by
 * its own admission — then evicted every other conversation's DAKEs on each of its admissions
 * (attacks/s11-review-pending-count). Runtime only (see
 * docs/security.md: a restart forgets it; the conversations decoded after it are counted again).
 */

/** What the index knows of one conversation's pending DAKEs started by its peer. */
export interface PendingEntry {
  /** The DAKEs its conversation held at its last admission (an upper bound on what it holds now). */
  count: number;
  /** One of them is the unbound Identity we sent in answer to the peer's query (not an instance's). */
  unbound: boolean;
  /**
   * Set when the conversation was unloaded (its record stays in the store): whether that record held nothing
   * but pending DAKEs peers started. Such a record can be deleted without decoding it (its generation is
   * known: a store holding anything else refuses the delete).
   */
  unloadedStranger?: boolean;
}

/** What the account does with one entry when the index is over its bound. */
export type EvictPeer = (peer: string, entry: PendingEntry, strangersOnly: boolean) => void;

export class PendingDakeIndex {
  private readonly entries = new Map<string, PendingEntry>();
  private total = 0;

  constructor(private readonly max: number) {}

  /** Pending DAKEs counted for every conversation together. */
  get count(): number {
    return this.total;
  }

  /** Whether the total is past the bound. */
  get over(): boolean {
    return this.total > this.max;
  }

  /** The entry of `peer`, if it has one. */
  get(peer: string): PendingEntry | undefined {
    return this.entries.get(peer);
  }

  /**
   * `peer`'s conversation admitted a pending DAKE its peer started and now holds `holds` of them; its entry
   * becomes the most recent.
   */
  added(peer: string, unbound: boolean, holds: number): void {
    const e = this.entries.get(peer);
    this.entries.delete(peer);
    this.entries.set(peer, { count: holds, unbound: unbound || (e?.unbound ?? false) });
    this.total += holds - (e?.count ?? 0);
  }

  /**
   * A conversation decoded (restored, attached) with `count` such DAKEs: counted as the most recent, unless the
   * index knows it already (a conversation unloaded and attached again keeps its place).
   */
  seen(peer: string, count: number, unbound: boolean): void {
    if (count <= 0 || this.entries.has(peer)) return;
    this.entries.set(peer, { count, unbound });
    this.total += count;
  }

  /** `peer`'s entry goes (its DAKEs dropped, completed, or its conversation forgotten). */
  forget(peer: string): void {
    const e = this.entries.get(peer);
    if (!e) return;
    this.total -= e.count;
    this.entries.delete(peer);
  }

  /**
   * Brings the total back to the bound: `evict` is asked about entries oldest first — strangers only in a
   * first pass, anyone in a second — and is expected to forget() those it empties. `keep` (the conversation
   * whose admission passed the bound) is never asked.
   */
  evict(keep: string, evict: EvictPeer): void {
    for (const strangersOnly of [true, false]) {
      // The Map itself, no copy (this runs on every admission past the bound): evict() deletes entries as it
      // goes, which a Map iterator tolerates, and adds none.
      for (const [peer, entry] of this.entries) {
        if (!this.over) return;
        if (peer !== keep) evict(peer, entry, strangersOnly);
      }
    }
  }
}
