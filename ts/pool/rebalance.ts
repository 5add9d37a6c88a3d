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

/**
 * A backlog longer than this is not scanned (the scan is a synchronous stretch of the host, O(queue): ~1,000
 * calls, tens of µs); a host that admits its work (`admit()`) keeps queues far shorter.
 */
export const STEAL_SCAN_MAX = 1024;
/** After an attempt that moved something the next waits this long (ms); after one that found nothing, longer. */
export const STEAL_INTERVAL_MS = 1;
export const STEAL_BACKOFF_MS = 5;

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
  readonly call: { readonly op: string; readonly method?: string; readonly args?: readonly unknown[] };
}

/**
 * A call's rough cost, in units of a data message sent or received (~0.1–0.3 ms of a worker), read from what the
 * host can see without running it: a DAKE or SMP step (a 3072-bit DH step, a ring signature: 10–20 ms) is
 * HEAVY. A receive is heavy unless its text is an OTRv4 data message ("?OTR:AAQD": version 4, type 3) or no OTR
 * message at all; a query ("?OTRv…") is heavy (its answer is an Identity message). A guess, never trusted for
 * anything but this choice: a host's odd text costs at worst a move that was not worth it.
 */
export const LIGHT = 1;
export const HEAVY = 20;
/**
 * What a move costs the worker that takes the account, in the same units: measured (session 14, hybrid backend)
 * ~0.8 ms to rebuild the account from its records and ~0.6 ms more for the first call (its conversation decoded),
 * against ~0.1–0.2 ms for a data message on a live account.
 */
export const MOVE_COST = 6;

export function callCost(call: QueuedCall['call']): number {
  switch (call.method) {
    case 'startDake':
    case 'sendOffline':
    case 'startSmp':
    case 'answerSmp':
      return HEAVY;
    case 'receive': {
      const text = call.args?.[0];
      if (typeof text !== 'string' || !text.startsWith('?OTR')) return LIGHT;
      if (text.startsWith('?OTR:AAQ')) return text.charCodeAt(8) === 0x44 /* D */ ? LIGHT : HEAVY;
      return text.startsWith('?OTRv') ? HEAVY : LIGHT;
    }
    default:
      return LIGHT;
  }
}

/**
 * Which accounts of a backlog `queue` (calls waiting on the host, in send order) go to the idle worker: taken
 * from the back (what would wait longest) while the cost picked is below half the queue's (the idle worker gets
 * work, the busy one keeps some) and fewer than `maxAccounts` accounts are picked. An account is taken only if its queued calls together cost at least twice a move (so the
 * idle worker gains more than the move costs it), every one of them is a conversation call (a queued load,
 * unload or checkpoint of it is the pool's own sequence: left alone), and `movable(id)` says so. Returns the
 * accounts' ids in the order chosen.
 */
export function chooseSteal(queue: readonly QueuedCall[], maxAccounts: number, movable: (accountId: string) => boolean): string[] {
  // Each account's queued cost; -1: not to be moved.
  const cost = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < queue.length; i++) {
    const c = queue[i]!;
    const one = callCost(c.call);
    all += one;
    const before = cost.get(c.accountId) ?? 0;
    if (before >= 0) cost.set(c.accountId, c.call.op === 'conv' ? before + one : -1);
  }
  const wantCost = all / 2;
  const chosen = new Set<string>();
  let picked = 0;
  for (let i = queue.length - 1; i >= 0 && picked < wantCost && chosen.size < maxAccounts; i--) {
    const id = queue[i]!.accountId;
    const total = cost.get(id)!;
    if (total < 2 * MOVE_COST || chosen.has(id)) continue;
    if (!movable(id)) {
      cost.set(id, -1); // asked once per attempt
      continue;
    }
    chosen.add(id);
    picked += total;
  }
  return [...chosen];
}
