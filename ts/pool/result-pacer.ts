/**
 * Spreads the settling of workers' result batches over turns of the event loop (session 10).
 *
 * Why: Node delivers every message waiting on a worker's port in one callback, so when the main thread was busy
 * or not scheduled for a moment, the batches that piled up — up to workers × maxInFlight of them — were all
 * settled in one turn, each with the host's continuations (the next call of every conversation). Measured on
 * bridge.pool (2 workers): up to 64 results in one turn, ~0.8 ms; the stretch grows with the number of workers
 * and the pipeline depth, so the main thread's longest block would grow with the pool. Here each turn settles at
 * most `perTurn` batches as they arrive and leaves the rest for the next turns (setImmediate: timers and I/O —
 * the host's sockets — run in between), first in, first out across all workers.
 *
 * Order: a batch settles in arrival order, after every batch that arrived before it, so results of one account
 * (one worker, batches answered in order) keep their order. A quiet pool loses nothing: a batch arriving while
 * nothing waits and the turn has budget left settles at once, in the port's callback, as before.
 */
export class ResultPacer {
  private readonly waiting: (() => void)[] = [];
  /** Batches settled since the last check phase. */
  private spent = 0;
  private scheduled = false;

  constructor(
    private readonly perTurn: number,
    /** Measures a synchronous stretch of pool work (stats().maxSyncMs). */
    private readonly timed: <T>(fn: () => T) => T,
  ) {}

  /** Settles a batch now if this turn has budget and nothing arrived before it waits; else queues it. */
  settle(batch: () => void): void {
    if (this.waiting.length === 0 && this.spent < this.perTurn) {
      this.spent++;
      this.schedule();
      batch();
      return;
    }
    this.waiting.push(batch);
    this.schedule();
  }

  /**
   * Settles every waiting batch at once. For a worker's exit and for close(): what arrived before is applied
   * first, so the account's reload point (set as each result settles) is current before reloads are made.
   */
  settleAll(): void {
    while (this.waiting.length > 0) this.waiting.shift()!();
  }

  get waitingBatches(): number {
    return this.waiting.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  private turn(): void {
    this.scheduled = false;
    this.spent = 0;
    if (this.waiting.length === 0) return;
    try {
      this.timed(() => {
        while (this.waiting.length > 0 && this.spent < this.perTurn) {
          this.spent++;
          this.waiting.shift()!();
        }
      });
    } finally {
      // (Also after a throw: the batches behind must not be stranded.) The budget used here counts for the
      // next poll phase too, so a turn settles at most 2 × perTurn batches; the next check phase resets it.
      this.schedule();
    }
  }
}
