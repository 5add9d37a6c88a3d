/**
 * Counters per request class for the operator's log: what the server answered, refused and handed out, and
 * which limits bit. Fed with the core's answers (ServerReply without the bytes); `take()` returns the counts
 * since the last call and starts again, `total` keeps the whole run. Plain numbers: no identities, no bytes.
 */
import type { RateLimiterName, RequestClass, ServerReply } from './server.js';

export interface ClassCounts {
  /** Answered with the protocol's reply (for publish: Success; a Failure counts as failed). */
  ok: number;
  /** A Failure message (publish / storage-status) or a refusal without a protocol reply. */
  failed: number;
}

export interface StatsSnapshot {
  requests: Record<RequestClass, ClassCounts>;
  /** Ensembles handed out, and retrievals that found none. */
  ensembles: number;
  emptyFetches: number;
  /** Refusals per limiter (server.ts RateLimiterName): the server-wide budgets apart from the per-key ones. */
  rateLimited: Record<RateLimiterName, number>;
  prekeysLow: number;
  /** Requests the store failed, and the last failure's message (the operator's first clue). */
  storeErrors: number;
  lastStoreError?: string;
}

function empty(): StatsSnapshot {
  const c = (): ClassCounts => ({ ok: 0, failed: 0 });
  return {
    requests: { dake1: c(), dake3: c(), publish: c(), 'storage-status': c(), fetch: c(), invalid: c() },
    ensembles: 0,
    emptyFetches: 0,
    rateLimited: { publish: 0, 'publish-server': 0, 'publish-prekeys-server': 0, requester: 0, target: 0, pending: 0 },
    prekeysLow: 0,
    storeErrors: 0,
  };
}

function add(s: StatsSnapshot, r: Omit<ServerReply, 'reply'> & { readonly replied: boolean }): void {
  const c = s.requests[r.request ?? 'invalid'];
  if (r.replied && !r.error) c.ok++;
  else c.failed++;
  if (r.request === 'fetch' && r.replied && !r.error) {
    if ((r.handedOut ?? 0) > 0) s.ensembles += r.handedOut!;
    else s.emptyFetches++;
  }
  for (const e of r.events ?? []) {
    if (e.type === 'rate-limited') s.rateLimited[e.limiter]++;
    else if (e.type === 'prekeys-low') s.prekeysLow++;
    else {
      s.storeErrors++;
      s.lastStoreError = e.message;
    }
  }
}

export class ServerStats {
  private current = empty();
  readonly total = empty();

  record(r: Omit<ServerReply, 'reply'> & { readonly replied: boolean }): void {
    add(this.current, r);
    add(this.total, r);
  }

  /** The counts since the previous call. */
  take(): StatsSnapshot {
    const out = this.current;
    this.current = empty();
    return out;
  }
}
