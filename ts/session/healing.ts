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

export class Healer {
  private readonly bucket: TokenBucket;
  private readonly unreadable = new Map<number, number>();
  private readonly unconfirmed = new Map<number, string[]>();
  private readonly pending = new Map<number, { since: number; reason: HealReason; resent: number }>();
  /** Instances whose session we expired (a new message restarts them instead of being refused). */
  private readonly expired = new Set<number>();

  constructor(private readonly limits: Limits) {
    this.bucket = new TokenBucket(limits.healBurst, limits.healPerSecond);
  }

  /** A user message went out to `instance`: kept (bounded, oldest dropped) until the peer shows it reads us. */
  sent(instance: number, text: string): void {
    if (this.limits.maxUnconfirmedMessages <= 0) return;
    const list = this.unconfirmed.get(instance) ?? [];
    list.push(text);
    while (list.length > this.limits.maxUnconfirmedMessages) list.shift();
    this.unconfirmed.set(instance, list);
  }

  /** A readable data message came from `instance`: what we sent before it was read, and the session works. */
  readable(instance: number): void {
    this.unconfirmed.delete(instance);
    this.unreadable.delete(instance);
  }

  /** An unreadable data message came from `instance` (with a session): true once there were enough in a row. */
  unreadableFrom(instance: number): boolean {
    const n = (this.unreadable.get(instance) ?? 0) + 1;
    this.unreadable.set(instance, n);
    return n >= this.limits.healAfterUnreadable;
  }

  /** Whether a repair DAKE is under way for `instance` (send() then queues instead of using the broken session). */
  healing(instance: number): boolean {
    return this.pending.has(instance);
  }

  /**
   * Asks to start a repair of `instance` at `nowMs`: `pending` if one is under way and younger than
   * limits.healRetryMs, `throttled` if the bucket is empty, else `started` — with the unconfirmed messages
   * to queue for the new session (taken out of here).
   */
  begin(instance: number, reason: HealReason, nowMs: number): { step: 'pending' } | { step: 'throttled' } | { step: 'started'; resend: string[] } {
    const p = this.pending.get(instance);
    if (p && nowMs - p.since < this.limits.healRetryMs) return { step: 'pending' };
    if (!this.bucket.take(nowMs)) return { step: 'throttled' };
    const resend = this.unconfirmed.get(instance) ?? [];
    this.pending.set(instance, { since: nowMs, reason: p?.reason ?? reason, resent: (p?.resent ?? 0) + resend.length });
    this.unreadable.delete(instance);
    this.unconfirmed.delete(instance);
    return { step: 'started', resend };
  }

  /** A session came up on `instance`: the repair (if any) is over; returns its reason and how many messages it re-sends. */
  completed(instance: number): { reason: HealReason; resent: number } | undefined {
    const p = this.pending.get(instance);
    this.forget(instance);
    return p ? { reason: p.reason, resent: p.resent } : undefined;
  }

  /** We expired the session on `instance` (otrv4.md §Session Expiration). */
  markExpired(instance: number): void {
    this.expired.add(instance);
  }

  wasExpired(instance: number): boolean {
    return this.expired.has(instance);
  }

  /** Everything about `instance` is forgotten (evicted, ended). */
  forget(instance: number): void {
    this.expired.delete(instance);
    this.pending.delete(instance);
    this.unreadable.delete(instance);
    this.unconfirmed.delete(instance);
  }
}
