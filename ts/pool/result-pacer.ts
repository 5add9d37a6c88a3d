/**
 * Bounds how long one turn of the event loop spends settling workers' result batches (session 10).
 *
 * Why: Node delivers every message waiting on a worker's port in one callback, so when the main thread was busy
 * or not scheduled for a moment, the batches that piled up — up to workers × maxInFlight of them — all settled in
 * one turn, each with the host's continuations (the next call of every conversation). Measured on bridge.pool
 * (2 workers): up to 64 results in one turn, ~0.8 ms; the stretch grows with the number of workers and the
 * pipeline depth. Here the port's callback settles batches while the turn has spent less than `budgetMs` since
 * its first (their continuations included: they run between the port's messages), and what is left waits and
 * settles one batch per later turn (setImmediate: timers and I/O — the host's sockets — run in between).
 *
 * Why a time budget and not a count: deferring costs memory — a result waiting for a later turn is alive across
 * a young collection and may be promoted (measured: a pacer settling one batch per turn raised the main
 * thread's GC per op under load). Within the budget nothing is deferred, so the usual turn is what it was.
 *
 * Order: a batch settles in arrival order, after every batch that arrived before it, so results of one account
 * (one worker, batches answered in order) keep their order.
 */
export class ResultPacer {
  private readonly waiting: (() => void)[] = [];
  /** When this turn's settling started (now()), or -1 if nothing settled since the last check phase. */
  private turnStart = -1;
  private scheduled = false;

  constructor(
    /** Time one turn may spend settling before the rest waits (ms); 0: one batch per turn. */
    private readonly budgetMs: number,
    /** Measures a synchronous stretch of pool work (stats().maxSyncMs). */
    private readonly timed: <T>(fn: () => T) => T,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Settles a batch now if nothing that arrived before it waits and the turn's budget lasts; else queues it. */
  settle(batch: () => void): void {
    if (this.waiting.length === 0 && this.budgetLeft()) {
      if (this.turnStart < 0) this.turnStart = this.now();
      this.schedule(); // the check phase ends the turn's budget
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

  private budgetLeft(): boolean {
    return this.turnStart < 0 || this.now() - this.turnStart < this.budgetMs;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  /**
   * The check phase: one waiting batch, then the next in the next iteration of the loop (its continuations,
   * which run after this callback, are not visible to a budget measured inside it; one batch is bounded).
   */
  private turn(): void {
    this.scheduled = false;
    this.turnStart = -1;
    if (this.waiting.length === 0) return;
    this.turnStart = this.now();
    try {
      this.timed(this.waiting.shift()!);
    } finally {
      // (Also after a throw: the batches behind must not be stranded.) The next check phase starts afresh.
      this.schedule();
    }
  }
}
