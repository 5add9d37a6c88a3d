/**
 * Feeding an idle worker (session 14): which waiting calls move to a worker that has run dry while another has
 * a backlog, and how often that may happen.
 *
 * Why: an account lives in one worker, so a worker whose accounts have nothing to do idles while the other's
 * accounts queue (a burst of DAKEs on one worker's accounts, a run of replies). The calls waiting on the host
 * for an account that has nothing running in its worker can go elsewhere if the account goes with them: the
 * pool holds the account's records (everything its worker handed out), so the idle worker loads it from those
 * at once, without a round trip through the busy worker (whose queue the unload of an ordinary move() would wait
 * behind). Only accounts whose records are known complete move (pool.ts, `stealable`).
 *
 * Bounds, so a bridge's accounts do not wander: a move costs a reload (the account record decoded, its
 * conversations attached dormant and decoded again on first use) and a drop in the worker left; an account that
 * moved stays put for `cooldownMs`, and the whole pool makes at most `movesPerSecond` such moves (a token bucket
 * with a quarter-second burst).
 */

/** At most this many calls are looked at in a backlog per attempt: the scan is a synchronous stretch of the host. */
export const STEAL_SCAN_MAX = 4096;
/** After an attempt, the next waits this long (ms): a backlog with nothing movable is not rescanned per call. */
export const STEAL_INTERVAL_MS = 1;

/** A token bucket of moves: `rate` per second, up to a quarter second's worth at once (at least one). */
export class MoveBudget {
  private tokens: number;
  private last: number;
  private readonly burst: number;

  constructor(
    private readonly rate: number,
    now: number,
  ) {
    this.burst = Math.max(1, Math.ceil(rate / 4));
    this.tokens = this.burst;
    this.last = now;
  }

  /** Moves that may happen now. */
  available(now: number): number {
    if (this.rate === 0) return 0;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    return Math.floor(this.tokens);
  }

  spend(n: number): void {
    this.tokens -= n;
  }
}

/** The part of a queued call the choice reads. */
export interface QueuedCall {
  readonly accountId: string;
  readonly call: { readonly op: string };
}

/**
 * Which accounts of a backlog `queue` (calls waiting on the host, in send order) go to the idle worker: taken
 * from the back (what would wait longest) while fewer than `wantCalls` of their calls are picked and fewer than
 * `maxAccounts` accounts; an account is taken only if `movable(id)` says so and every call of it in the queue is
 * a conversation call (a queued load, unload or checkpoint of it is the pool's own sequence: left alone).
 * Returns the accounts' ids in the order chosen.
 */
export function chooseSteal(queue: readonly QueuedCall[], wantCalls: number, maxAccounts: number, movable: (accountId: string) => boolean): string[] {
  const fixed = new Set<string>();
  for (let i = 0; i < queue.length; i++) if (queue[i]!.call.op !== 'conv') fixed.add(queue[i]!.accountId);
  const chosen = new Set<string>();
  let calls = 0;
  for (let i = queue.length - 1; i >= 0 && calls < wantCalls; i--) {
    const id = queue[i]!.accountId;
    if (chosen.has(id)) {
      calls++;
      continue;
    }
    if (chosen.size >= maxAccounts) continue;
    if (fixed.has(id)) continue;
    if (!movable(id)) {
      fixed.add(id); // asked once per attempt
      continue;
    }
    chosen.add(id);
    calls++;
  }
  return [...chosen];
}
