/**
 * One place in the pool: a worker thread, the calls waiting for it, and the batches it is running. When the
 * thread dies (crash, process.exit, a terminate after a timeout) the slot rejects the calls it was running,
 * starts a replacement, and asks the pool (`reloads`) for the calls that bring its accounts back — they go to
 * the front of the queue, ahead of every call that had not been sent yet, so the order per account holds.
 *
 * Batching. Calls queue here and leave in batches of at most `maxBatchCalls`, with at most `maxInFlight`
 * batches sent and unanswered: while the worker is busy the next batch fills up (more calls per round trip
 * under load), and an idle worker gets a call at the next microtask (no added latency when quiet).
 */
import { Worker } from 'node:worker_threads';
import { OtrPoolError, type PoolFailure } from './errors.js';
import type { BatchReply, BatchRequest, CallResult, WorkerCall, WorkerConfig, WorkerMessage } from './protocol.js';
import type { ResultPacer } from './result-pacer.js';
import { unpackResults } from './result-batch.js';

export interface PendingCall {
  readonly call: WorkerCall;
  readonly accountId: string;
  /** performance.now() after which the call, if still waiting to be sent, is rejected with reason 'timeout'. */
  readonly deadline: number;
  /** Characters of text the call carries (for the pool's memory bound). */
  readonly chars: number;
  readonly transfer?: ArrayBuffer[];
  /** Set when the call is sent: the account's epoch then (see pool.ts, persist-failed). */
  epoch?: number;
  settle(r: CallResult): void;
  fail(e: OtrPoolError): void;
}

export interface SlotHooks {
  /** Calls that reload this slot's accounts into a fresh worker (front of the queue). */
  reloads(slot: WorkerSlot): PendingCall[];
  /** A call leaves for the worker. */
  sent(c: PendingCall): void;
  /** Measures a synchronous stretch of pool work on this thread (for stats().maxSyncMs). */
  timed<T>(fn: () => T): T;
  /** The slot could not start a worker `maxRestarts` times in a row: it is dead. */
  dead(slot: WorkerSlot): void;
  /** The pool's one pacer: answered batches settle through it, for a bounded time per turn (result-pacer.ts). */
  readonly pacer: ResultPacer;
}

export interface SlotOptions {
  url: URL;
  config: WorkerConfig;
  maxBatchCalls: number;
  maxInFlight: number;
  callTimeoutMs: number;
  maxRestarts: number;
  resourceLimits?: import('node:worker_threads').ResourceLimits;
  /** Makes the worker thread (tests plant a constructor that throws, as `new Worker` does when no thread can be had). */
  makeWorker?: (url: URL, options: import('node:worker_threads').WorkerOptions) => Worker;
}

const newWorker = (url: URL, options: import('node:worker_threads').WorkerOptions): Worker => new Worker(url, options);

/** The longest wait before trying again to make a worker thread that could not be made. */
const MAX_RETRY_DELAY_MS = 5000;

/** What the calls a worker took with it are rejected with, by why it ended. */
const EXIT_MESSAGES: Partial<Record<PoolFailure, string>> = {
  'worker-exit': 'the worker running the call exited',
  timeout: 'the call timed out; its worker was replaced',
  internal: "the worker's answer could not be read; it was replaced and its accounts reloaded",
  closed: 'the worker running the call exited',
};

interface Batch {
  readonly calls: PendingCall[];
  /** Armed only while this batch is the one the worker runs (the first unanswered one). */
  timer?: ReturnType<typeof setTimeout>;
}

export class WorkerSlot {
  readonly index: number;
  queue: PendingCall[] = [];
  private worker!: Worker;
  private ready = false;
  private readonly inFlight = new Map<number, Batch>();
  /** Calls whose batch was answered and waits in the pacer to be settled. */
  private settling = 0;
  private nextBatch = 1;
  private flushScheduled = false;
  /** Why the current worker is being ended by us (timeout, close), so its exit is not read as a crash. */
  private ending: PoolFailure | undefined;
  private startFailures = 0;
  /** A replacement worker waits for this timer: the last one could not be made (spawn). */
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  /** How many times this slot replaced its worker. */
  restarts = 0;
  /** Batches sent. */
  batches = 0;
  /** Accounts the pool routes here (kept by the pool). */
  accounts = 0;
  backend: string | undefined;
  /** The nice value the current worker thread runs at (Linux), or undefined. */
  nice: number | undefined;
  threadId = -1;
  dead = false;
  /** A worker thread of this slot is alive (false after close() or while a replacement starts). */
  running = false;

  constructor(
    index: number,
    private readonly o: SlotOptions,
    private readonly hooks: SlotHooks,
  ) {
    this.index = index;
  }

  /** The current worker's event-loop utilization (cumulative since it started): how busy the pool keeps it. */
  utilization(): import('node:perf_hooks').EventLoopUtilization | undefined {
    return this.running ? this.worker.performance.eventLoopUtilization() : undefined;
  }

  /** Starts the first worker; resolves when it is ready (rejects if it cannot start). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => this.spawn(resolve, reject));
  }

  get pendingCalls(): number {
    let n = this.queue.length + this.settling;
    for (const b of this.inFlight.values()) n += b.calls.length;
    return n;
  }

  enqueue(c: PendingCall): void {
    this.queue.push(c);
    this.schedule();
  }

  enqueueFront(cs: PendingCall[]): void {
    this.queue.unshift(...cs);
    this.schedule();
  }

  /** Resolves when nothing is queued or running. */
  drained(): Promise<void> {
    if (this.pendingCalls === 0) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  /** Rejects every queued call for which `pred` holds (timeouts, close). */
  rejectQueued(pred: (c: PendingCall) => boolean, reason: PoolFailure, message: string): void {
    const keep: PendingCall[] = [];
    for (const c of this.queue) {
      if (pred(c)) c.fail(new OtrPoolError(reason, message, c.accountId));
      else keep.push(c);
    }
    this.queue = keep;
    this.checkDrained();
  }

  /** Ends the worker for good (after the pool drained it, or gave up waiting). */
  async close(): Promise<void> {
    this.closed = true;
    this.ending = 'closed';
    clearTimeout(this.retryTimer);
    this.hooks.pacer.settleAll(); // answered calls settle with their results, not as 'closed'
    this.rejectQueued(() => true, 'closed', 'the pool is closed');
    this.failInFlight('closed', 'the pool closed before the call completed');
    if (this.worker) await this.worker.terminate();
    this.running = false;
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.hooks.timed(() => this.flush());
    });
  }

  private flush(): void {
    while (this.ready && this.queue.length > 0 && this.inFlight.size < this.o.maxInFlight) {
      const calls = this.queue.splice(0, this.o.maxBatchCalls);
      const id = this.nextBatch++;
      const transfer: ArrayBuffer[] = [];
      for (const c of calls) {
        this.hooks.sent(c);
        if (c.transfer) transfer.push(...c.transfer);
      }
      const batch: Batch = { calls };
      this.inFlight.set(id, batch);
      if (this.inFlight.size === 1) this.arm(id, batch);
      const msg: BatchRequest = { kind: 'batch', id, calls: calls.map((c) => c.call) };
      this.batches++;
      try {
        this.worker.postMessage(msg, transfer);
      } catch {
        // The pool clones arguments up front, so this is a bug; fail the batch rather than lose it silently.
        this.inFlight.delete(id);
        clearTimeout(batch.timer);
        for (const c of calls) c.fail(new OtrPoolError('internal', 'a call could not be sent to its worker', c.accountId));
        this.checkDrained();
      }
    }
  }

  /**
   * The batch the worker runs now may take `callTimeoutMs`. Only the first unanswered batch is timed (the
   * worker runs batches one after another), so time spent queued behind another batch, or CPU a busy machine
   * did not give, never counts against a batch that has not started.
   */
  private arm(id: number, b: Batch): void {
    b.timer = setTimeout(() => this.onTimeout(id), this.o.callTimeoutMs);
  }

  private spawn(onReady?: () => void, onFail?: (e: Error) => void): void {
    this.ready = false;
    this.ending = undefined;
    let w: Worker;
    try {
      w = (this.o.makeWorker ?? newWorker)(this.o.url, { workerData: this.o.config, ...(this.o.resourceLimits ? { resourceLimits: this.o.resourceLimits } : {}) });
    } catch (e) {
      // `new Worker` throws at once when no thread can be had (EAGAIN at the process's thread limit, memory).
      // A replacement is made in the old worker's 'exit' listener, where a throw was the host's uncaught
      // exception (session 15). It counts as a failed start; the next try waits, since a tight loop would not
      // give the process its threads back.
      if (this.startFailed(`: ${(e as Error)?.message ?? String(e)}`, onFail)) this.retryLater();
      return;
    }
    this.worker = w;
    let started = false;
    w.on('message', (m: WorkerMessage) =>
      this.hooks.timed(() => {
        // A worker whose answer could not be read is being replaced: nothing more of it is taken (see refuse()).
        if (w !== this.worker || this.ending === 'internal') return dropAnswer(m);
        if (m.kind === 'ready') {
          started = true;
          this.ready = true;
          this.running = true;
          this.startFailures = 0;
          this.backend = m.backend;
          this.nice = m.nice;
          this.threadId = w.threadId;
          onReady?.();
          this.flush();
        } else if (m.kind === 'result') this.onResult(m);
      }),
    );
    // 'error' (an uncaught exception in the worker) is always followed by 'exit'; handle the death there.
    let startError = '';
    w.on('error', (e) => {
      // Before 'ready' this is a start-up failure (module, backend): worth naming. After, it is a crash whose
      // message could quote state, so it is not kept.
      if (!started) startError = `: ${e?.message ?? e}`;
    });
    w.on('exit', () =>
      this.hooks.timed(() => {
        if (w !== this.worker) return;
        this.running = false;
        if (this.closed) return;
        // Results the worker sent before it died settle first: they set the reload points the reloads use.
        this.hooks.pacer.settleAll();
        const reason = this.ending ?? 'worker-exit';
        this.failInFlight(reason, EXIT_MESSAGES[reason] ?? EXIT_MESSAGES['worker-exit']!);
        if (!started && !this.startFailed(startError, onFail)) return;
        this.restarts++;
        // The replacement starts with the reloads of this slot's accounts, before any waiting call. (A worker
        // that never started ran nothing: the reloads queued for it are still at the front.)
        if (started) this.queue.unshift(...this.hooks.reloads(this));
        this.spawn();
      }),
    );
  }

  /**
   * A worker did not start: it exited before 'ready', or could not be made. The first worker's failure rejects
   * start() (`onFail`); a replacement's counts, and past `maxRestarts` in a row the slot is dead and its queued
   * calls fail. True when the slot should try again.
   */
  private startFailed(detail: string, onFail?: (e: Error) => void): boolean {
    this.startFailures++;
    if (onFail) {
      onFail(new OtrPoolError('worker-start', `the pool worker failed to start${detail}`));
      return false;
    }
    if (this.startFailures > this.o.maxRestarts) {
      this.dead = true;
      this.rejectQueued(() => true, 'worker-start', 'the pool worker could not be restarted');
      this.hooks.dead(this);
      return false;
    }
    return true;
  }

  /** Tries again to make a replacement worker, after 100 ms per failure in a row (at most MAX_RETRY_DELAY_MS). */
  private retryLater(): void {
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.hooks.timed(() => {
        this.restarts++;
        this.spawn();
      });
    }, Math.min(MAX_RETRY_DELAY_MS, 100 * this.startFailures));
  }

  private onResult(m: BatchReply): void {
    const b = this.inFlight.get(m.id);
    if (!b) return dropAnswer(m);
    let results: readonly (CallResult | null)[];
    try {
      // Read now, in arrival order, so a malformed answer is found before any later batch of this worker settles.
      if (m.packed !== undefined) results = unpackResults(m.packed, m.results, b.calls.length);
      else if (Array.isArray(m.results)) results = m.results;
      else throw new Error('no results');
    } catch {
      dropAnswer(m);
      return this.refuse();
    }
    const id = m.id;
    this.inFlight.delete(id);
    clearTimeout(b.timer);
    const next = this.inFlight.entries().next();
    if (!next.done && !next.value[1].timer) this.arm(next.value[0], next.value[1]);
    // The worker has room again now, whenever its results settle.
    this.flush();
    this.settling += b.calls.length;
    this.hooks.pacer.settle(() => {
      this.settling -= b.calls.length;
      b.calls.forEach((c, i) => {
        const r = results[i];
        c.settle(r ?? { ok: false, error: { name: 'Error', code: 'STATE', message: 'missing result', internal: true } });
      });
      this.checkDrained();
    });
  }

  /**
   * The worker's answer could not be read (result-batch.ts refused it): the worker is broken, and its state has
   * moved on past what this thread holds. It is ended like a timed-out one — what it was running fails with
   * `internal`, nothing more it sends is taken, and its accounts reload from the checkpoints held here — so a
   * call rejected with an OtrPoolError still had no effect.
   */
  private refuse(): void {
    if (this.ending) return;
    this.ending = 'internal';
    void this.worker.terminate();
  }

  private onTimeout(id: number): void {
    if (!this.inFlight.has(id) || this.ending) return;
    // A synchronous worker cannot be interrupted: end it. Its exit rejects what it was running and reloads.
    this.ending = 'timeout';
    void this.worker.terminate();
  }

  private failInFlight(reason: PoolFailure, message: string): void {
    for (const b of this.inFlight.values()) {
      clearTimeout(b.timer);
      for (const c of b.calls) c.fail(new OtrPoolError(reason, message, c.accountId));
    }
    this.inFlight.clear();
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.pendingCalls !== 0 || this.drainWaiters.length === 0) return;
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }
}

/**
 * An answer the slot does not take (refused as malformed, sent by a worker being replaced, for a batch it no
 * longer holds): its packed buffer may hold account records in the clear and decrypted messages (a packed
 * Outcome's `changed` and `messages`), so it is zeroed, not left to the collector (attacks/s13-review-dropped-answer).
 */
function dropAnswer(m: WorkerMessage): void {
  const packed = (m as Partial<BatchReply> | null)?.packed;
  if (packed instanceof ArrayBuffer && packed.byteLength > 0) new Uint8Array(packed).fill(0);
}
