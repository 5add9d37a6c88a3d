/**
 * Per-key token buckets with an injected clock, a monotonic one in the server (otrv4-prekey-server.md §Prekey
 * Server Requirements: draining another user's prekeys "can be partially mitigated using fetch rate limiting";
 * docs/prekey-server.md says what that does and does not achieve).
 *
 * Memory is bounded at `maxKeys` buckets, and the bound cannot be used to forget a bucket an attacker has
 * emptied (an LRU could be flushed by asking for many new keys, handing the victim's bucket back full):
 * - a bucket that has refilled to `burst` carries no information, so it may be dropped (pruned when the
 *   table is full, at most once per `pruneIntervalMs` so a full table does not cost a scan per request);
 * - a new key that finds the table still full shares one overflow bucket with every other such key: the
 *   system fails closed for newcomers (at the rate of one key) instead of open for the attacker.
 */
import { DEFAULT_LIMITS } from '../limits.js';
import { OtrArgumentError } from '../errors.js';

export interface RateLimitConfig {
  /** Requests allowed at once. */
  readonly burst: number;
  /** Tokens regained per second. */
  readonly perSecond: number;
  /** Buckets kept (default: limits.ts maxRateLimitKeys). */
  readonly maxKeys?: number;
  /** Least time between two prunes of a full table (default 1000 ms). */
  readonly pruneIntervalMs?: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly overflow: Bucket;
  private lastPruneMs = -Infinity;

  constructor(
    private readonly cfg: RateLimitConfig,
    private readonly now: () => number,
  ) {
    checkRateConfig(cfg);
    this.overflow = { tokens: cfg.burst, atMs: now() };
  }

  private refill(b: Bucket, now: number): void {
    b.tokens = Math.min(this.cfg.burst, b.tokens + (Math.max(0, now - b.atMs) / 1000) * this.cfg.perSecond);
    // Dated now even when the clock went back: dated at the later time, the bucket regained nothing until the
    // clock caught up — a server-wide budget emptied just before a step back of an hour refused everyone for that
    // hour (attacks/s14-review-prekey-budgets, when the server ran its buckets on the wall clock). The server now
    // passes a monotonic clock (attacks/s14-clock-prekey-server); this still holds for any clock a caller gives.
    // Time a step back skipped is not counted either way.
    b.atMs = now;
  }

  private prune(now: number): void {
    this.lastPruneMs = now;
    for (const [k, b] of this.buckets) {
      this.refill(b, now);
      if (b.tokens >= this.cfg.burst) this.buckets.delete(k);
    }
  }

  /** The bucket for `key`: its own, a new one if there is room, else the shared overflow bucket. */
  private bucket(key: string, now: number): Bucket {
    const have = this.buckets.get(key);
    if (have) return have;
    const max = this.cfg.maxKeys ?? DEFAULT_LIMITS.maxRateLimitKeys;
    if (this.buckets.size >= max && now - this.lastPruneMs >= (this.cfg.pruneIntervalMs ?? 1000)) this.prune(now);
    if (this.buckets.size >= max) return this.overflow;
    const b = { tokens: this.cfg.burst, atMs: now };
    this.buckets.set(key, b);
    return b;
  }

  /** Takes `n` tokens (default one) for `key`; false, taking none, when it has fewer left. */
  allow(key: string, n = 1): boolean {
    const now = this.now();
    const b = this.bucket(key, now);
    this.refill(b, now);
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  }

  /** Gives back `n` tokens `allow` just took for `key`: a later limit refused the request (allowAll). */
  refund(key: string, n = 1): void {
    const b = this.buckets.get(key) ?? this.overflow;
    b.tokens = Math.min(this.cfg.burst, b.tokens + n);
  }

  get size(): number {
    return this.buckets.size;
  }
}

/**
 * Every number of a rate configuration is a number, not NaN: NaN compares false with everything, so `tokens < n`
 * never refused and a NaN budget was no limit at all (session 14); `undefined` — a rate left out, or a limit a
 * config file left empty (it overrides the default in resolveLimits) — did the same through a refill of NaN
 * tokens, and a maxKeys of NaN never bounded the table (session 15, attacks/s15-review-prekey-config).
 * Infinity stays allowed: an explicit "no limit".
 */
function checkRateConfig(cfg: RateLimitConfig): void {
  const isNumber = (v: unknown) => typeof v === 'number' && !Number.isNaN(v);
  if (!isNumber(cfg.burst) || !isNumber(cfg.perSecond)) throw new OtrArgumentError('a rate limit must be a number (burst and perSecond)');
  if ((cfg.maxKeys !== undefined && !isNumber(cfg.maxKeys)) || (cfg.pruneIntervalMs !== undefined && !isNumber(cfg.pruneIntervalMs)))
    throw new OtrArgumentError('a rate limit\'s maxKeys and pruneIntervalMs must be numbers when given');
}

/** One charge of allowAll: `n` tokens of `key` in `limiter`. */
export type Charge = readonly [limiter: RateLimiter, key: string, n: number];

/**
 * Takes every charge or none: the index of the first charge refused (the ones before it are given back), or -1
 * when all were taken. A request one limit refuses spends nothing of the others — without it, a publisher the
 * server-wide budget refused during a flood had spent its own tokens too, and stayed refused by them after the
 * flood (attacks/s14-review-prekey-budgets).
 */
export function allowAll(charges: readonly Charge[]): number {
  for (let i = 0; i < charges.length; i++) {
    const [limiter, key, n] = charges[i]!;
    if (limiter.allow(key, n)) continue;
    for (let j = i - 1; j >= 0; j--) charges[j]![0].refund(charges[j]![1], charges[j]![2]);
    return i;
  }
  return -1;
}
