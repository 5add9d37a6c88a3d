/**
 * Per-key token buckets with an injected clock (otrv4-prekey-server.md §Prekey Server Requirements: draining
 * another user's prekeys "can be partially mitigated using fetch rate limiting"). Memory is bounded: at most
 * `maxKeys` buckets, the least recently used dropped first (a dropped bucket comes back full, which only ever
 * errs towards serving).
 */
import { DEFAULT_LIMITS } from '../limits.js';

export interface RateLimitConfig {
  /** Requests allowed at once. */
  readonly burst: number;
  /** Tokens regained per second. */
  readonly perSecond: number;
  /** Buckets kept (default: limits.ts maxRateLimitKeys). */
  readonly maxKeys?: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    private readonly cfg: RateLimitConfig,
    private readonly now: () => number,
  ) {}

  /** Takes one token for `key`; false when it has none left. */
  allow(key: string): boolean {
    const now = this.now();
    const b = this.buckets.get(key);
    let tokens = this.cfg.burst;
    if (b) {
      tokens = Math.min(this.cfg.burst, b.tokens + (Math.max(0, now - b.atMs) / 1000) * this.cfg.perSecond);
      this.buckets.delete(key); // re-inserted below: the Map's order is the LRU order
    }
    const ok = tokens >= 1;
    this.buckets.set(key, { tokens: ok ? tokens - 1 : tokens, atMs: now });
    const max = this.cfg.maxKeys ?? DEFAULT_LIMITS.maxRateLimitKeys;
    while (this.buckets.size > max) this.buckets.delete(this.buckets.keys().next().value!);
    return ok;
  }

  get size(): number {
    return this.buckets.size;
  }
}
