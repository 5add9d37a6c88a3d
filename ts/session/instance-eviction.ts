/**
 * Which of a conversation's remote instances go first when there are too many (limits.maxInstancesPerConversation):
 * one ranking, used by the live admission (Conversation.admit) and by a restore under a lower limit than the
 * record was written with (Conversation.fromState), so a restore keeps exactly what the live bound would keep.
 *
 * It ranks by fields that are cheap to read both in a live instance and in a not yet validated record (a tag, two
 * booleans, a time): a restore ranks every instance of the record by them first and validates only the kept ones
 * (each costs Ed448 checks, a Legendre symbol and a profile decode), so a hostile record of thousands of instances
 * costs the limit's worth of checks, not thousands (session 16, attacks/s16-restore-instances).
 */

/** What the ranking reads of one instance. */
export interface EvictionFields {
  readonly peerTag: number;
  /** It holds an encrypted session (a ratchet), finished or not. */
  readonly hasSession: boolean;
  /** The session ended (the peer's TLV 1, or expired). */
  readonly finished: boolean;
  /** When a new ECDH key last entered the ratchet. */
  readonly lastKeyAt: number;
}

/**
 * The instances other than `current`, in the order they are forgotten, first first: those holding no encrypted
 * session (a DAKE at most: the cheapest to lose), oldest admitted first; then finished sessions, oldest admitted
 * first; then the rest, least recently keyed first (ties: oldest admitted first). The current instance is never
 * in it: `send()` uses it. `items` is in admission order (a Map's, or the record's, which is written from it).
 * Taking the first of this order again and again is what admit() did with find/find/sort on what was left: the
 * removal of one never changes the order of the others.
 */
export function evictionOrder<T>(items: Iterable<T>, current: number, fields: (item: T) => EvictionFields): T[] {
  const noSession: T[] = [];
  const finished: T[] = [];
  const live: { item: T; at: number }[] = [];
  for (const item of items) {
    const f = fields(item);
    if (f.peerTag === current) continue;
    if (!f.hasSession) noSession.push(item);
    else if (f.finished) finished.push(item);
    else live.push({ item, at: f.lastKeyAt });
  }
  // Array.prototype.sort is stable: equal times keep admission order.
  live.sort((x, y) => x.at - y.at);
  return [...noSession, ...finished, ...live.map((x) => x.item)];
}

/**
 * The most instances the live bound lets a conversation hold under `limit`: admit() makes room while the table is
 * at the limit, but never by evicting the current instance, so with a limit of 1 or less (nothing refuses 0) the
 * current instance and the newest one are both held (attacks/s14-review-restore-instances); above, the limit
 * itself (rounded up: `size >= 2.5` stops at 3).
 */
export function mostInstancesHeld(limit: number, holdsCurrent: boolean): number {
  const bound = Math.max(Math.ceil(limit), 1);
  return bound + (bound === 1 && holdsCurrent ? 1 : 0);
}
