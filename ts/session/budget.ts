/**
 * A token bucket for work done on behalf of peers that have not authenticated yet (issue 10, "One message
 * must not cost seconds of CPU"). Each DAKE step we run before the peer has proven anything (answering an
 * Identity, verifying an Auth-R, Auth-I or Non-Interactive-Auth, an OTRv3 AKE message) costs one token;
 * tokens come back at a steady rate up to a burst. The clock is injected (the account's), so the bucket is
 * a pure function of the times it is asked at; it is runtime state only (a restart refills it).
 */
export class TokenBucket {
  private tokens: number;
  private last: number | undefined;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.tokens = burst;
  }

  /** Takes one token at time `nowMs` if one is left; false means the work must not be done. */
  take(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether a token is available now (without taking it). */
  has(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= 1;
  }

  private refill(nowMs: number): void {
    if (this.last !== undefined && nowMs > this.last) this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.last) / 1000) * this.perSecond);
    // A clock that goes backwards refills nothing (and cannot be used to mint tokens).
    if (this.last === undefined || nowMs > this.last) this.last = nowMs;
  }
}

/**
 * A bounded set of recently seen message digests (insertion order; the oldest is forgotten first): how a
 * byte-identical replayed Identity message is answered at most once.
 */
export class RecentDigests {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  has(digest: string): boolean {
    return this.seen.has(digest);
  }

  /** Records `digest`; returns false if it was already there (a replay). */
  add(digest: string): boolean {
    if (this.seen.has(digest)) return false;
    this.seen.add(digest);
    while (this.seen.size > this.max) {
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
    return true;
  }
}
