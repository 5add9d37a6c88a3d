/**
 * Sessions that heal (issue 13): the bookkeeping behind a conversation repairing a broken session by itself.
 * It counts unreadable data messages per remote instance, keeps the user messages the peer has not shown it
 * read (to re-send them on the new session), remembers which instances have a repair DAKE under way, and
 * spends a token bucket so that an adversary who injects ERROR_1 or garbage cannot make us run DAKEs without
 * end (limits.healBurst / healPerSecond / healRetryMs). Runtime state only: a restart forgets it (docs/trust.md).
 *
 * "Confirmed" is a heuristic the protocol forces (OTR has no receipts): a message counts as read once the
 * peer's instance sends us a readable data message after it.
 */
import type { Limits } from '../limits.js';
import { TokenBucket } from './budget.js';

export type HealReason = 'peer-error' | 'unreadable' | 'expired';

/** What the healer knows of one remote instance (absent: nothing — the usual case on the receiving side). */
interface Health {
  /** Unreadable data messages in a row. */
  unreadable: number;
  /** User messages sent since the peer last showed it reads us (oldest first), or null. */
  unconfirmed: string[] | null;
  /** The repair DAKE under way, if any. */
  pending: { since: number; reason: HealReason; resent: number } | null;
  /** We expired the session (a new message restarts it instead of being refused). */
  expired: boolean;
}

export class Healer {
  private readonly bucket: TokenBucket;
  /**
   * One record per remote instance that has something to remember. One map, not one per kind: every data
   * message asks (healing, sent, readable), and over thousands of live sessions each table asked is a cold
   * cache line; the record goes when nothing is left in it.
   */
  private readonly byInstance = new Map<number, Health>();

  constructor(private readonly limits: Limits) {
    this.bucket = new TokenBucket(limits.healBurst, limits.healPerSecond);
  }

  private health(instance: number): Health {
    let h = this.byInstance.get(instance);
    if (h === undefined) {
      h = { unreadable: 0, unconfirmed: null, pending: null, expired: false };
      this.byInstance.set(instance, h);
    }
    return h;
  }

  /** Drops `h` once it holds nothing. */
  private tidy(instance: number, h: Health): void {
    if (h.unreadable === 0 && h.unconfirmed === null && h.pending === null && !h.expired) this.byInstance.delete(instance);
  }

  /** Conversation.prefetch's part: every instance's record (counts and lengths only; the sum means nothing). */
  prefetch(): number {
    let n = this.byInstance.size;
    for (const h of this.byInstance.values()) n += h.unreadable + (h.unconfirmed === null ? 0 : h.unconfirmed.length);
    return n;
  }

  /** A user message went out to `instance`: kept (bounded, oldest dropped) until the peer shows it reads us. */
  sent(instance: number, text: string): void {
    if (this.limits.maxUnconfirmedMessages <= 0) return;
    const h = this.health(instance);
    const list = (h.unconfirmed ??= []);
    list.push(text);
    while (list.length > this.limits.maxUnconfirmedMessages) list.shift();
  }

  /** A readable data message came from `instance`: what we sent before it was read, and the session works. */
  readable(instance: number): void {
    const h = this.byInstance.get(instance);
    if (h === undefined) return;
    h.unconfirmed = null;
    h.unreadable = 0;
    this.tidy(instance, h);
  }

  /** An unreadable data message came from `instance` (with a session): true once there were enough in a row. */
  unreadableFrom(instance: number): boolean {
    const h = this.health(instance);
    h.unreadable++;
    return h.unreadable >= this.limits.healAfterUnreadable;
  }

  /** Whether a repair DAKE is under way for `instance` (send() then queues instead of using the broken session). */
  healing(instance: number): boolean {
    const h = this.byInstance.get(instance);
    return h !== undefined && h.pending !== null;
  }

  /**
   * Asks to start a repair of `instance` at `nowMs`: `pending` if one is under way and younger than
   * limits.healRetryMs, `throttled` if the bucket is empty, else `started` — with the unconfirmed messages
   * to queue for the new session (taken out of here).
   */
  begin(instance: number, reason: HealReason, nowMs: number): { step: 'pending' } | { step: 'throttled' } | { step: 'started'; resend: string[] } {
    const p = this.byInstance.get(instance)?.pending ?? null;
    if (p && nowMs - p.since < this.limits.healRetryMs) return { step: 'pending' };
    if (!this.bucket.take(nowMs)) return { step: 'throttled' };
    const h = this.health(instance);
    const resend = h.unconfirmed ?? [];
    h.pending = { since: nowMs, reason: p?.reason ?? reason, resent: (p?.resent ?? 0) + resend.length };
    h.unreadable = 0;
    h.unconfirmed = null;
    return { step: 'started', resend };
  }

  /** A session came up on `instance`: the repair (if any) is over; returns its reason and how many messages it re-sends. */
  completed(instance: number): { reason: HealReason; resent: number } | undefined {
    const p = this.byInstance.get(instance)?.pending ?? null;
    this.forget(instance);
    return p ? { reason: p.reason, resent: p.resent } : undefined;
  }

  /** We expired the session on `instance` (otrv4.md §Session Expiration). */
  markExpired(instance: number): void {
    this.health(instance).expired = true;
  }

  wasExpired(instance: number): boolean {
    return this.byInstance.get(instance)?.expired === true;
  }

  /** Everything about `instance` is forgotten (evicted, ended). */
  forget(instance: number): void {
    this.byInstance.delete(instance);
  }
}
