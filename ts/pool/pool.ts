/**
 * OtrPool: accounts sharded over worker threads, for hosts (bridges, servers) that run many conversations.
 * Every protocol call runs in the worker that holds the account and returns the same `Outcome` data an
 * in-process Conversation returns; the main thread only routes, batches and keeps checkpoints, so it never
 * blocks on a DAKE, a ratchet step or key generation.
 *
 * Invariants (docs/pool.md has the full contract):
 *   - one home: an account is in exactly one worker; moving or reloading it goes through its records (or its serialized bytes);
 *   - order: calls for one account run in the order they were made (one FIFO per worker, and an account's
 *     calls are held while it moves), so a conversation's calls are never reordered;
 *   - no hang: every call settles — with its result, its typed OtrError, or an OtrPoolError (timeout, worker
 *     exit, closed, overloaded);
 *   - a rejected OtrPoolError call had no effect: its worker's state was replaced by the last checkpoint (crash,
 *     timeout, failed persist) or it never ran.
 *
 * Checkpoints: with `checkpoints: 'records'` (the default) each call brings back the records it changed (an
 * Outcome's `changed`) and the pool keeps every account's records as its reload point (record-set.ts); the call
 * resolves after `onRecords(accountId, changes)` (if given) resolved. With 'every-call' (chosen by giving
 * `onCheckpoint`) each call brings back the whole account's bytes and resolves after `onCheckpoint(accountId,
 * bytes)`. Either way a host that transmits `toSend` after the promise resolves never sends from a state it
 * has not stored (docs/persistence.md's rule), and a crashed worker's accounts reload from what the pool kept.
 */
import { availableParallelism } from 'node:os';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
// Only the error classes and types of the core, never its entry ('../index.js'): the main thread of a pool runs no
// protocol code, and the entry would load all of it there (and the WASM backend's bytes): +5 MB of this thread's
// heap, measured (3.2 → 8.2 MB after importing the pool), which every major collection of the host marks again.
import { copyBytes } from '../bytes.js';
import { OtrArgumentError, OtrDecodeError, OtrError, OtrStateError } from '../errors.js';
import type { BackendName, Outcome, PrekeyEnsemble, SendOptions, Policy } from '../index.js';
import { ACCOUNT_RECORD, CONVERSATION_RECORD_PREFIX, type RecordChange, type StoredRecord } from '../store/types.js';
import { ownCopy } from '../store/validate.js';
import { OtrPoolError } from './errors.js';
import { fromWireError, type AccountInfo, type AccountSettings, type CallResult, type ConversationInfo, type ConversationMethod, type CreateOptions, type WorkerCall } from './protocol.js';
import { WorkerSlot, type PendingCall } from './slot.js';
import { CheckpointBuffer } from './checkpoint-buffer.js';
import { RecordSet } from './record-set.js';
import { ResultPacer } from './result-pacer.js';
import { resolveLimits } from '../limits.js';

export interface PoolOptions {
  /** Worker threads (default: the machine's available parallelism). */
  workers?: number;
  /** Each worker's `init()` backend (default 'auto': the best the worker's runtime passes a self-test with). */
  backend?: BackendName | 'auto';
  /**
   * A module (URL or absolute file path) imported by every worker; its `environment(accountId)` may return
   * `{ random, clock }` for the account (seeded tests, a host's own clock). Default: platform CSPRNG, Date.now.
   */
  environment?: string | URL;
  /**
   * What the pool keeps to reload an account (a crashed worker, a move, a revert):
   * - 'records' (the default): the account's records, as a record store would hold them — each call hands back
   *   only the records it changed (the Outcome's `changed`), so a call costs O(what changed), not a whole
   *   `serialize()`; `onRecords` sees them.
   * - 'every-call' (the default when `onCheckpoint` is given): the whole account's bytes after each call that
   *   may change it; `onCheckpoint` sees them.
   * - 'manual': only checkpoint(), createAccount() and unload() produce bytes; a crash reverts to the last one.
   */
  checkpoints?: 'records' | 'every-call' | 'manual';
  /**
   * checkpoints 'every-call' only: called with the whole account's bytes after each call that may change it, in
   * order per account; the call's promise waits for it (store, then transmit).
   */
  onCheckpoint?: (accountId: string, bytes: Uint8Array) => void | Promise<void>;
  /**
   * checkpoints 'records' only: called with the records each call changed (each at its next generation: the
   * argument of `RecordStore.commit`), in order per account, only when something changed; the call's promise
   * waits for it (commit, then transmit). The changes are the same objects as the Outcome's `changed`.
   * Their bytes may be views into one buffer per batch (result-batch.ts) that also holds other accounts'
   * records and decrypted messages: hand on the view's own range, never its `.buffer`, and copy a row before
   * a structured clone or transfer (which would carry the whole buffer; the SQLite worker store copies).
   */
  onRecords?: (accountId: string, changes: readonly RecordChange[]) => void | Promise<void>;
  /**
   * Most calls per postMessage (default 8). A batch's results are settled in one stretch of the main thread
   * and none of them leaves the worker before the whole batch ran, so small batches keep both short: a
   * conversation's next step (a DAKE's next message, a reply) reaches its worker sooner.
   */
  maxBatchCalls?: number;
  /**
   * Batches sent to one worker and not yet answered (default 8: one running, seven ready behind it; with
   * maxBatchCalls 8, up to 64 calls queued in the worker, so it keeps working while this thread is late).
   */
  maxInFlight?: number;
  /** A call that has not settled after this long is rejected with reason 'timeout' (default 30 s). */
  callTimeoutMs?: number;
  /**
   * How long (ms, default 1) one turn of the event loop may spend settling answered batches and running what
   * they resolve synchronously before the rest waits for the next turns (at least one batch per turn; 0: one
   * batch per turn). Node hands over every message waiting on a worker's port at once: without a bound, the
   * batches that piled up while this thread was busy would all settle in one stretch (session 10).
   */
  settleBudgetMs?: number;
  /** Times in a row a worker may fail to start before its slot is declared dead (default 3). */
  maxRestarts?: number;
  /** Calls waiting or running in the whole pool before new ones are refused as 'overloaded' (default 100,000). */
  maxQueuedCalls?: number;
  /** Characters of message text waiting or running before new calls are refused (default 256 Mi). */
  maxQueuedChars?: number;
  /**
   * The host's back-pressure point: `admit()` waits while this many calls are outstanding (submitted and not
   * settled). Default: twice what the workers' pipelines hold (2 × workers × maxBatchCalls × maxInFlight: 256
   * with two workers), enough to keep every worker fed. Calls made without `admit()` are not held back (they
   * count, and `maxQueuedCalls` still refuses beyond its bound).
   */
  maxOutstandingCalls?: number;
  /**
   * How much lower than the main thread the workers run (a nice increment, 0–19; Linux only, where a thread
   * can be reniced alone; ignored elsewhere). Default 10: when a worker and the event loop are both ready, the
   * event loop runs first, so it settles results and sends the next batch without waiting behind its own
   * workers (the pool's CPU is theirs either way). 0 leaves them at the process's priority.
   */
  workerNice?: number;
  /**
   * V8 limits per worker (node:worker_threads ResourceLimits), each a number of MB within the bounds of
   * `RESOURCE_LIMIT_BOUNDS` (checked at start(): outside them Node either ignores the value silently or ends
   * the host's whole process while the worker starts). Measured in session 15: the workers' young generation
   * size does not change bridge.pool's CPU (docs/pool.md), so the default is Node's.
   */
  resourceLimits?: import('node:worker_threads').ResourceLimits;
}

/**
 * What `resourceLimits` may hold, in MB, inclusive. Node passes these to V8 unchecked (Node 20, measured in
 * session 15): a value that is not a number, or a misspelt key, is ignored without a word; a stack below
 * ~0.3 MB ends the host's process while the worker bootstraps (an uncatchable RangeError), and so does a code
 * range V8 cannot reserve (1e9 MB: a fatal OOM); a stack of 1e6 MB fails thread creation with an untyped
 * EAGAIN. The bounds keep each limit where a worker can start and run the library (a 1 MB stack runs it:
 * test/attacks/s15-pool-resource-limits; an 8 MB old generation does not even start one, 16 does) and far
 * from what the address space can give. An old generation too small for the accounts a worker holds is the
 * host's choice, and fails typed: the worker ends (`worker-exit`, its accounts reloaded) or cannot start
 * (`worker-start`).
 */
export const RESOURCE_LIMIT_BOUNDS: Readonly<Record<keyof import('node:worker_threads').ResourceLimits, readonly [number, number]>> = Object.freeze({
  maxYoungGenerationSizeMb: [1, 4096],
  maxOldGenerationSizeMb: [32, 1 << 20],
  codeRangeSizeMb: [0, 512],
  stackSizeMb: [1, 64],
});

export interface PoolStats {
  workers: { index: number; threadId: number; running: boolean; backend: string | undefined; nice: number | undefined; accounts: number; pending: number; restarts: number; dead: boolean }[];
  accounts: number;
  /** Calls waiting or running. */
  pending: number;
  calls: number;
  batches: number;
  /** The longest stretch of synchronous pool work on the calling thread, in ms (routing, batching, results). */
  maxSyncMs: number;
  /** The 99th percentile of those stretches, in ms. */
  p99SyncMs: number;
  /** Their 99.9th percentile, in ms (on a shared machine the maximum is often the OS not running the thread). */
  p999SyncMs: number;
  /** Their sum, in ms: the pool's own cost on the calling thread. */
  totalSyncMs: number;
}

/** An account's reload point: its records ('records') or its whole bytes (the other modes), overwritten in place. */
type Holder = CheckpointBuffer | RecordSet;

interface AccountEntry {
  readonly id: string;
  slot: WorkerSlot;
  settings: AccountSettings;
  /** The latest state received (what a crashed worker's replacement reloads). */
  checkpoint: Holder | undefined;
  /** The latest state the hook accepted (what a failed persist reverts to); without a hook, `checkpoint` itself. */
  durable: Holder | undefined;
  /** Grows on every revert; results of calls sent under an older epoch are withheld. */
  epoch: number;
  /** Calls made while the account moves between workers; they follow it. */
  held: PendingCall[] | null;
  /** The end of this account's onCheckpoint chain (results are released in order behind it). */
  tail: Promise<void> | null;
  unloading: boolean;
}

type Resolved = Required<Pick<PoolOptions, 'checkpoints' | 'workerNice' | 'maxBatchCalls' | 'maxInFlight' | 'callTimeoutMs' | 'maxRestarts' | 'settleBudgetMs' | 'maxQueuedCalls' | 'maxQueuedChars'>> & PoolOptions;

const DEFAULTS: Resolved = {
  checkpoints: 'records',
  workerNice: 10,
  maxBatchCalls: 8,
  maxInFlight: 8,
  callTimeoutMs: 30_000,
  maxRestarts: 3,
  settleBudgetMs: 1,
  maxQueuedCalls: 100_000,
  maxQueuedChars: 256 << 20,
};

const WORKER_URL = new URL('./worker.js', import.meta.url);

export class OtrPool {
  private readonly slots: WorkerSlot[] = [];
  /**
   * Answered batches of all workers settle through one pacer, at most settleBudgetMs of them per turn of the
   * event loop (result-pacer.ts): the main thread's stretch of settling does not grow with the pool's size.
   */
  private readonly pacer: ResultPacer;
  private readonly accounts = new Map<string, AccountEntry>();
  private readonly o: Resolved;
  private pending = 0;
  private pendingChars = 0;
  /** Hosts waiting in admit() (resolvers, in order) and how to refuse each if the pool closes. */
  private admitWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  /**
   * admit() answers given this turn whose call has not been submitted yet. Counted against the bound so that
   * hosts admitted together cannot all pass it, and dropped at the end of the turn (a host that was admitted
   * but made no call gives its room back: otherwise the waiters behind it would hang on an idle pool).
   */
  private granted = 0;
  private grantSweepDue = false;
  private get maxOutstanding(): number {
    return this.o.maxOutstandingCalls ?? 2 * this.slots.length * this.o.maxBatchCalls * this.o.maxInFlight;
  }
  private calls = 0;
  private sync: RecordableHistogram = createHistogram();
  private syncTotal = 0;
  private closing = false;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  private constructor(o: PoolOptions) {
    // An option given as undefined keeps its default.
    const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as PoolOptions;
    this.o = { ...DEFAULTS, ...given };
    // onCheckpoint's contract is whole-account bytes: giving it (and no mode) chooses the mode that makes them.
    if (given.checkpoints === undefined && given.onCheckpoint) this.o.checkpoints = 'every-call';
    this.records = this.o.checkpoints === 'records';
    this.pacer = new ResultPacer(this.o.settleBudgetMs, (fn) => this.timed(fn));
    this.hook = this.records ? this.o.onRecords : this.o.onCheckpoint;
  }

  /** checkpoints: 'records'. */
  private readonly records: boolean;
  /** The persistence hook of the mode (onRecords or onCheckpoint), if any. */
  private readonly hook: ((accountId: string, x: never) => void | Promise<void>) | undefined;

  /** Starts the workers (each loads and self-tests its backend); resolves when all are ready. */
  static async start(options: PoolOptions = {}): Promise<OtrPool> {
    const pool = new OtrPool(checkOptions(options));
    const n = options.workers ?? availableParallelism();
    const environment = options.environment === undefined ? undefined : toUrl(options.environment);
    for (let i = 0; i < n; i++) {
      pool.slots.push(
        new WorkerSlot(
          i,
          {
            url: WORKER_URL,
            config: { backend: pool.o.backend ?? 'auto', checkpoints: pool.o.checkpoints, nice: pool.o.workerNice, ...(environment ? { environment } : {}) },
            maxBatchCalls: pool.o.maxBatchCalls,
            maxInFlight: pool.o.maxInFlight,
            callTimeoutMs: pool.o.callTimeoutMs,
            maxRestarts: pool.o.maxRestarts,
            ...(pool.o.resourceLimits ? { resourceLimits: pool.o.resourceLimits } : {}),
          },
          {
            reloads: (s) => pool.reloads(s),
            sent: (c) => pool.onSent(c),
            timed: (fn) => pool.timed(fn),
            dead: (s) => pool.onDead(s),
            pacer: pool.pacer,
          },
        ),
      );
    }
    try {
      await Promise.all(pool.slots.map((s) => s.start()));
    } catch (e) {
      await Promise.all(pool.slots.map((s) => s.close()));
      throw e;
    }
    const every = Math.max(20, Math.min(1000, pool.o.callTimeoutMs / 4));
    pool.sweeper = setInterval(() => pool.timed(() => pool.sweep()), every);
    pool.sweeper.unref();
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /**
   * Resolves when the pool has room for more work: fewer than `maxOutstandingCalls` calls outstanding (at once
   * if so; otherwise in turn, first come first served, one waiter per call that settles). A host that awaits
   * it before taking the next event off its transports (reading a socket, dequeuing a job) keeps what it holds
   * in flight bounded — the messages, calls and results alive at once on this thread, which is what V8 must
   * copy in each young collection and promotes into long major collections when it grows (docs/pool.md,
   * "Back-pressure"). A call already admitted may make follow-up calls (the replies a DAKE step produces)
   * without awaiting again: those finish work already taken in. Rejects only when the pool closes ('closed').
   */
  admit(): Promise<void> {
    if (this.closing) return closedError();
    if (this.admitWaiters.length === 0 && this.pending + this.granted < this.maxOutstanding) {
      this.grant();
      return RESOLVED;
    }
    return new Promise<void>((resolve, reject) => this.admitWaiters.push({ resolve, reject }));
  }

  /** Counts one admit() answer until its call is submitted or the turn ends. */
  private grant(): void {
    this.granted++;
    if (this.grantSweepDue) return;
    this.grantSweepDue = true;
    setImmediate(() => {
      this.grantSweepDue = false;
      this.granted = 0; // unused answers give their room back
      this.admitWaiting();
    });
  }

  /** Admits waiters, first come first served, while there is room. */
  private admitWaiting(): void {
    while (!this.closing && this.admitWaiters.length > 0 && this.pending + this.granted < this.maxOutstanding) {
      this.grant();
      this.admitWaiters.shift()!.resolve();
    }
  }

  /** Outstanding calls (submitted, not settled) and hosts waiting in admit(). */
  get outstanding(): { calls: number; waiting: number } {
    return { calls: this.pending, waiting: this.admitWaiters.length };
  }

  /**
   * A new account, its keys generated in a worker (the DSA key of the default policy takes up to half a
   * second: never on this thread). `policy` and `limits` are remembered and passed again on every reload.
   */
  createAccount(options: CreateOptions): Promise<AccountInfo> {
    return this.guarded(() => {
      if (this.closing) return closedError();
      if (!options || typeof options.accountId !== 'string' || options.accountId.length === 0)
        return Promise.reject(new OtrArgumentError('accountId must be a non-empty string'));
      if (this.accounts.has(options.accountId)) return Promise.reject(new OtrArgumentError('an account with this id is already in the pool'));
      let opts: CreateOptions;
      try {
        opts = structuredClone(options);
      } catch {
        return Promise.reject(new OtrArgumentError('account options must be plain data (no functions or class instances)'));
      }
      const entry = this.addEntry(opts.accountId, this.leastLoaded(), { policy: opts.policy, limits: opts.limits });
      return this.submit<AccountInfo>(entry, { op: 'create', account: entry.id, options: opts }).catch((e) => {
        if (!entry.checkpoint) this.removeEntry(entry);
        throw e;
      });
    });
  }

  /**
   * Brings an account back from `account.serialize()` / `unload()` / a checkpoint, under its id (which must be
   * the account's own id: bytes of another account are refused).
   */
  loadAccount(accountId: string, bytes: Uint8Array, settings: AccountSettings = {}): Promise<AccountInfo> {
    return this.guarded(() => {
      if (this.closing) return closedError();
      if (typeof accountId !== 'string' || accountId.length === 0) return Promise.reject(new OtrArgumentError('accountId must be a non-empty string'));
      if (!(bytes instanceof Uint8Array)) return Promise.reject(new OtrArgumentError('account state must be a Uint8Array'));
      if (this.accounts.has(accountId)) return Promise.reject(new OtrArgumentError('an account with this id is already in the pool'));
      let s: AccountSettings;
      try {
        s = structuredClone({ policy: settings.policy, limits: settings.limits });
      } catch {
        return Promise.reject(new OtrArgumentError('settings must be plain data'));
      }
      // The worker's restore would refuse it too (same error), after a clone of all of it and a round trip.
      let maxStateBytes: number;
      try {
        maxStateBytes = resolveLimits(s.limits).maxStateBytes;
      } catch (e) {
        return Promise.reject(e);
      }
      if (bytes.length > maxStateBytes) return Promise.reject(new OtrDecodeError(`state of ${bytes.length} bytes exceeds the limit`));
      const copy = copyBytes(bytes); // not slice(): a Node Buffer's is a view of the caller's memory
      const entry = this.addEntry(accountId, this.leastLoaded(), s);
      return this.submit<AccountInfo>(entry, { op: 'load', account: accountId, bytes: copy, settings: s }, copy.length).then(
        (info) => {
          // (checkpoints 'records': the worker's snapshot of the records set the holders when it settled.)
          if (!entry.checkpoint) {
            this.keepCheckpoint(entry, copy);
            if (this.hook) this.keepDurable(entry, copy); // it came from the host's storage
          }
          copy.fill(0); // kept as a copy in the account's checkpoint buffer
          return info;
        },
        (e) => {
          if (!entry.checkpoint) this.removeEntry(entry);
          copy.fill(0); // a refused state (keys, sessions) is not kept here either
          throw e;
        },
      );
    });
  }

  /**
   * Brings an account back from its records (checkpoints 'records'): the `account` record and any number of
   * `conv:<peer>` records, as a record store holds them (`RecordStore.load` / `keys`) or as `lastRecords()`
   * returned them. The account record must be this account's; conversation records are attached undecoded
   * and decoded when first used (one that does not decode is refused on use, the others work). Checked here
   * before anything crosses a thread: shapes (OtrArgumentError), sizes and counts against `limits`
   * (OtrDecodeError). The records stay the caller's (copied).
   */
  loadAccountRecords(accountId: string, records: readonly StoredRecord[], settings: AccountSettings = {}): Promise<AccountInfo> {
    return this.guarded(() => {
      if (this.closing) return closedError();
      if (!this.records) return Promise.reject(new OtrStateError("loadAccountRecords needs checkpoints: 'records'"));
      if (typeof accountId !== 'string' || accountId.length === 0) return Promise.reject(new OtrArgumentError('accountId must be a non-empty string'));
      if (this.accounts.has(accountId)) return Promise.reject(new OtrArgumentError('an account with this id is already in the pool'));
      let s: AccountSettings;
      try {
        s = structuredClone({ policy: settings?.policy, limits: settings?.limits });
      } catch {
        return Promise.reject(new OtrArgumentError('settings must be plain data'));
      }
      let copies: StoredRecord[];
      try {
        copies = checkedRecordCopies(records, resolveLimits(s.limits));
      } catch (e) {
        return Promise.reject(e);
      }
      const chars = copies.reduce((n, r) => n + r.bytes.length, 0);
      const kept = new RecordSet(copies);
      const entry = this.addEntry(accountId, this.leastLoaded(), s);
      const call: WorkerCall = { op: 'loadRecords', account: accountId, records: copies, settings: s };
      return this.submit<AccountInfo>(entry, call, chars, copies.map((r) => r.bytes.buffer as ArrayBuffer)).then(
        (info) => {
          if (!entry.checkpoint) {
            entry.checkpoint = kept;
            entry.durable = this.hook ? RecordSet.from(kept) : kept; // it came from the host's storage
          } else kept.wipe();
          return info;
        },
        (e) => {
          kept.wipe();
          if (!entry.checkpoint) this.removeEntry(entry);
          throw e;
        },
      );
    });
  }

  /** A handle on the conversation of `accountId` with `peerId`; its methods mirror Conversation's, async. */
  conversation(accountId: string, peerId: string): PoolConversation {
    return new PoolConversation(this, accountId, peerId);
  }

  /**
   * Serializes the account now (in its worker) and returns the whole account's bytes. With 'every-call' and
   * 'manual' they become its checkpoint; with 'records' the changes not handed out yet (if any) go to the
   * account's records (and onRecords) first.
   */
  checkpoint(accountId: string): Promise<Uint8Array> {
    return this.guarded(() => {
      const entry = this.entry(accountId);
      if (entry instanceof Promise) return entry as Promise<never>;
      if (this.records) return this.submit<Uint8Array>(entry, { op: 'checkpoint', account: accountId });
      return this.submit<void>(entry, { op: 'checkpoint', account: accountId }).then(() => {
        // Gone meanwhile (unloaded, dropped after a failed reload): its holders were zeroed, nothing to copy.
        if (!entry.checkpoint) throw new OtrPoolError('unknown-account', 'the account left the pool before its checkpoint was read', accountId);
        return (entry.checkpoint as CheckpointBuffer).copy();
      });
    });
  }

  /**
   * The last whole-account bytes the pool holds for the account (a copy), if any: checkpoints 'every-call' and
   * 'manual'. With 'records' the pool holds records, not bytes: OtrStateError (use lastRecords(), or
   * checkpoint() for bytes made now).
   */
  lastCheckpoint(accountId: string): Uint8Array | undefined {
    if (this.records) throw new OtrStateError("the pool keeps records (checkpoints: 'records'): use lastRecords() or checkpoint()");
    return (this.accounts.get(accountId)?.checkpoint as CheckpointBuffer | undefined)?.copy();
  }

  /**
   * The account's records as the pool holds them (checkpoints 'records'): copies, the account record first,
   * each at its generation — what loadAccountRecords() takes back. Undefined for an unknown account.
   */
  lastRecords(accountId: string): StoredRecord[] | undefined {
    if (!this.records) throw new OtrStateError("the pool keeps whole-account bytes (checkpoints: 'every-call' / 'manual'): use lastCheckpoint()");
    return (this.accounts.get(accountId)?.checkpoint as RecordSet | undefined)?.records();
  }

  /** Removes the account from its worker and the pool; resolves with its bytes (Account.restore or loadAccount). */
  unload(accountId: string): Promise<Uint8Array> {
    return this.guarded(() => {
      const entry = this.entry(accountId);
      if (entry instanceof Promise) return entry as Promise<never>;
      entry.unloading = true;
      return this.submit<Uint8Array>(entry, { op: 'unload', account: accountId }).then(
        (bytes) => {
          this.removeEntry(entry);
          return bytes;
        },
        (e) => {
          entry.unloading = false;
          throw e;
        },
      );
    });
  }

  /**
   * Moves the account to worker `index`: unloaded from its worker (serialized), loaded in the other. Calls
   * made meanwhile wait and follow it, in order.
   */
  move(accountId: string, index: number): Promise<void> {
    return this.guarded(() => {
      const entry = this.entry(accountId);
      if (entry instanceof Promise) return entry as Promise<never>;
      const target = this.slots[index];
      if (!Number.isInteger(index) || !target) return Promise.reject(new OtrArgumentError('no worker with this index'));
      if (entry.held) return Promise.reject(new OtrStateError('the account is already moving'));
      if (target === entry.slot) return Promise.resolve();
      if (this.records) return this.moveRecords(entry, target);
      const unload = this.submit<Uint8Array>(entry, { op: 'unload', account: accountId });
      entry.held = [];
      return unload.then(
        async (bytes) => {
          // The account is out of every worker now: load it into the target whatever the store says.
          this.keepCheckpoint(entry, bytes);
          entry.slot.accounts--;
          target.accounts++;
          entry.slot = target;
          target.enqueue(this.reloadCall(entry));
          releaseHeld(entry, target);
          if (!this.o.onCheckpoint) return void bytes.fill(0); // copied into the checkpoint buffer
          try {
            await this.o.onCheckpoint(accountId, bytes);
            this.keepDurable(entry, bytes);
          } catch {
            throw new OtrPoolError('persist-failed', 'the account moved, but onCheckpoint failed to store its bytes', accountId);
          }
        },
        (e) => {
          releaseHeld(entry, entry.slot);
          throw e;
        },
      );
    });
  }

  /**
   * move() with checkpoints 'records': the worker hands out what is pending (as changes, settled like any
   * call's: kept, and through onRecords) and drops the account; the target loads it from the records.
   */
  private moveRecords(entry: AccountEntry, target: WorkerSlot): Promise<void> {
    const unload = this.submit<undefined>(entry, { op: 'unload', account: entry.id, records: true });
    entry.held = [];
    return unload.then(
      () => {
        entry.slot.accounts--;
        target.accounts++;
        entry.slot = target;
        target.enqueue(this.reloadCall(entry));
        releaseHeld(entry, target);
      },
      (e) => {
        // Refused (a persist failed: the revert already queued the account's reload in its worker) or lost
        // with its worker (the replacement reloads it): either way it is still at home.
        releaseHeld(entry, entry.slot);
        throw e;
      },
    );
  }

  /** The index of the worker holding the account, or undefined. */
  workerOf(accountId: string): number | undefined {
    return this.accounts.get(accountId)?.slot.index;
  }

  /** The ids of every account in the pool. */
  get accountIds(): string[] {
    return [...this.accounts.keys()];
  }

  stats(): PoolStats {
    return {
      workers: this.slots.map((s) => ({ index: s.index, threadId: s.threadId, running: s.running, backend: s.backend, nice: s.nice, accounts: s.accounts, pending: s.pendingCalls, restarts: s.restarts, dead: s.dead })),
      accounts: this.accounts.size,
      pending: this.pending,
      calls: this.calls,
      batches: this.slots.reduce((n, s) => n + s.batches, 0),
      maxSyncMs: this.sync.count ? this.sync.max / 1e6 : 0,
      p99SyncMs: this.sync.count ? this.sync.percentile(99) / 1e6 : 0,
      p999SyncMs: this.sync.count ? this.sync.percentile(99.9) / 1e6 : 0,
      totalSyncMs: this.syncTotal,
    };
  }

  /**
   * Each worker's event-loop utilization so far (node:perf_hooks; undefined while a worker restarts). The delta
   * over an interval near 1 means the pool kept that worker busy for all of it.
   */
  workerUtilization(): (import('node:perf_hooks').EventLoopUtilization | undefined)[] {
    return this.slots.map((s) => s.utilization());
  }

  /** Forgets the synchronous stretches measured so far (benches measure one phase at a time). */
  resetSyncStats(): void {
    this.sync.reset();
    this.syncTotal = 0;
  }

  /**
   * Refuses new calls, lets the calls already made finish (up to `timeoutMs`, default the call timeout), then
   * ends the workers. Calls still unsettled then are rejected with reason 'closed'.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const waiters = this.admitWaiters;
    this.admitWaiters = [];
    for (const w of waiters) w.reject(new OtrPoolError('closed', 'the pool is closed'));
    const wait = options.timeoutMs ?? this.o.callTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(this.slots.map((s) => s.drained())), new Promise<void>((r) => (timer = setTimeout(r, wait)))]);
    clearTimeout(timer);
    if (this.sweeper) clearInterval(this.sweeper);
    for (const e of this.accounts.values()) this.failHeld(e, () => true, 'closed', 'the pool is closed');
    await Promise.all(this.slots.map((s) => s.close()));
    for (const e of this.accounts.values()) dropHolders(e);
    this.accounts.clear();
  }

  // ------------------------------------------------------------------ conversation calls

  /** @internal Runs Conversation[method](...args) in the account's worker. */
  callConversation<T>(accountId: string, peer: string, method: ConversationMethod, args: unknown[]): Promise<T> {
    // guarded() and timed() written out: this runs once per call, and their closures were garbage per call on the
    // host's thread (session 12). Same contract: a promise whatever happens, typed, and the stretch measured.
    const t = performance.now();
    try {
      const entry = this.entry(accountId);
      if (entry instanceof Promise) return entry as Promise<never>;
      if (typeof peer !== 'string' || peer.length === 0) return Promise.reject(new OtrArgumentError('peerId must be a non-empty string'));
      let chars = peer.length;
      for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (typeof a === 'string') chars += a.length;
        else if (a instanceof Uint8Array) chars += a.length;
      }
      return this.submit<T>(entry, { op: 'conv', account: accountId, peer, method, args }, chars);
    } catch (e) {
      return rejectedArgument(e);
    } finally {
      this.recordSync(t);
    }
  }

  // ------------------------------------------------------------------ routing and settling

  private entry(accountId: string): AccountEntry | Promise<never> {
    if (this.closing) return closedError();
    const e = typeof accountId === 'string' ? this.accounts.get(accountId) : undefined;
    if (!e || e.unloading) return Promise.reject(new OtrPoolError('unknown-account', 'no such account in the pool', typeof accountId === 'string' ? accountId : undefined));
    return e;
  }

  private addEntry(id: string, slot: WorkerSlot, settings: AccountSettings): AccountEntry {
    const e: AccountEntry = { id, slot, settings, checkpoint: undefined, durable: undefined, epoch: 0, held: null, tail: null, unloading: false };
    this.accounts.set(id, e);
    slot.accounts++;
    return e;
  }

  private removeEntry(e: AccountEntry): void {
    if (this.accounts.get(e.id) !== e) return;
    this.accounts.delete(e.id);
    dropHolders(e);
    e.slot.accounts--;
  }

  /** The live slot with the fewest accounts (new accounts go there). */
  private leastLoaded(): WorkerSlot {
    let best: WorkerSlot | undefined;
    for (const s of this.slots) if (!s.dead && (!best || s.accounts < best.accounts)) best = s;
    return best ?? this.slots[0]!;
  }

  private submit<T>(entry: AccountEntry, call: WorkerCall, chars = 0, transfer?: ArrayBuffer[]): Promise<T> {
    if (this.pending + 1 > this.o.maxQueuedCalls || this.pendingChars + chars > this.o.maxQueuedChars)
      return Promise.reject(new OtrPoolError('overloaded', 'too many calls are waiting; retry later', entry.id));
    if (entry.slot.dead) return Promise.reject(new OtrPoolError('worker-start', 'the worker holding this account could not be restarted', entry.id));
    this.pending++;
    if (this.granted > 0) this.granted--; // an admitted host's call: its answer now counts as the call
    this.pendingChars += chars;
    this.calls++;
    let c!: SubmittedCall;
    const promise = new Promise<T>((resolve, reject) => {
      c = new SubmittedCall(this.callHost, entry, call, chars, performance.now() + this.o.callTimeoutMs, resolve as (v: unknown) => void, reject);
    });
    if (transfer) c.transfer = transfer;
    if (entry.held) entry.held.push(c);
    else entry.slot.enqueue(c);
    return promise;
  }

  /** What every SubmittedCall reports back to (one object for the pool, not closures per call). */
  private readonly callHost: CallHost = {
    settle: (entry, c, r, resolve, reject) => this.settle(entry, c, r, resolve, reject),
    release: (chars) => {
      this.pending--;
      this.pendingChars -= chars;
      // One waiter per call that leaves: the next event a host takes in replaces the call that settled.
      this.admitWaiting();
    },
  };

  private settle(entry: AccountEntry, c: PendingCall, r: CallResult, resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
    if (!r.ok) {
      reject(r.error.internal ? new OtrPoolError('internal', 'the worker failed unexpectedly; the account was reverted to its last checkpoint', entry.id) : fromWireError(r.error));
      return;
    }
    // (No closures on this path: it runs once per call.)
    if (isStale(c, entry)) return reject(withheldError(entry));
    if (r.snapshot) this.keepSnapshot(entry, r.snapshot);
    // What the hook is given: the call's changed records ('records'), or the account's bytes (the other modes).
    const records = r.records;
    const bytes: RecordChange[] | Uint8Array | undefined = this.records ? records : r.checkpoint;
    if (records) this.keepRecords(entry, records);
    else if (r.checkpoint) this.keepCheckpoint(entry, r.checkpoint);
    const hook = this.hook;
    if (!hook) {
      // Copied into the account's holder (durable too without a hook): a transferred whole-account buffer is
      // garbage now, so it dies young instead of being retained until the account's next call (see
      // checkpoint-buffer.ts). It holds the whole account: zeroed, not left to the collector. (Changed records
      // are the Outcome's `changed`: the caller's.)
      r.checkpoint?.fill(0);
      return resolve(r.value);
    }
    // With a persistence hook, results are released in call order, each after its checkpoint is stored.
    // What becomes durable is copied before the hook sees the changes: they are the host's (the Outcome's
    // `changed`), which it may wipe or reuse once stored, and the pool reverts to its durable copy.
    const staged = records ? ownCopy(records) : undefined;
    const prev = entry.tail ?? Promise.resolve();
    const step = prev.then(async () => {
      if (isStale(c, entry)) {
        if (staged) wipeStaged(staged);
        return reject(withheldError(entry));
      }
      if (!bytes) return resolve(r.value);
      try {
        // A store that never answers must not hang the call: past the call's deadline it counts as failed.
        await deadlineRace(Promise.resolve(hook(entry.id, bytes as never)), c.deadline - performance.now());
      } catch {
        if (staged) wipeStaged(staged);
        this.revert(entry);
        const what = this.records ? 'onRecords' : 'onCheckpoint';
        return reject(new OtrPoolError('persist-failed', `${what} failed: the outputs were withheld and the account reverted`, entry.id));
      }
      if (!staged) this.keepDurable(entry, bytes as Uint8Array);
      else {
        if (entry.durable) (entry.durable as RecordSet).apply(staged);
        else entry.durable = new RecordSet(staged);
        wipeStaged(staged);
      }
      resolve(r.value);
    });
    entry.tail = step;
    void step.then(() => {
      if (entry.tail === step) entry.tail = null;
    });
  }

  /** Puts the account back to its last durable checkpoint: a reload ahead of its calls not yet sent. */
  private revert(entry: AccountEntry): void {
    entry.epoch++;
    // The checkpoint given up is newer than the durable one (keys, ratchets): zeroed, not left to the collector.
    if (entry.checkpoint !== entry.durable) entry.checkpoint?.wipe();
    entry.checkpoint = entry.durable ? cloneHolder(entry.durable) : undefined;
    // Never stored at all (its creation's checkpoint failed): take it out of its worker and the pool.
    const reload: PendingCall = entry.durable ? this.reloadCall(entry) : this.dropCall(entry);
    if (!entry.durable) this.removeEntry(entry);
    // Ahead of everything not yet sent to the account's worker — a move's unload included, so a move never
    // carries the withheld state along.
    entry.slot.enqueueFront([reload]);
  }

  /** A pool-internal unload whose bytes are thrown away. */
  private dropCall(entry: AccountEntry): PendingCall {
    return { call: { op: 'unload', account: entry.id }, accountId: entry.id, deadline: Infinity, chars: 0, settle: () => {}, fail: () => {} };
  }

  /** A pool-internal load of the account's checkpoint; nobody waits on it (a later call's failure tells). */
  private reloadCall(entry: AccountEntry): PendingCall {
    // Copies of its own, transferred: the worker restores from them (and may keep views into them).
    let call: WorkerCall;
    let transfer: ArrayBuffer[];
    const held = entry.checkpoint!;
    if (held instanceof RecordSet) {
      const records = held.records();
      call = { op: 'loadRecords', account: entry.id, records, settings: entry.settings };
      transfer = records.map((r) => r.bytes.buffer as ArrayBuffer);
    } else {
      const bytes = held.copy();
      call = { op: 'load', account: entry.id, bytes, settings: entry.settings };
      transfer = [bytes.buffer as ArrayBuffer];
    }
    return {
      call,
      accountId: entry.id,
      deadline: Infinity,
      chars: 0,
      transfer,
      settle: (r) => {
        if (!r.ok) this.removeEntry(entry);
      },
      fail: () => {},
    };
  }

  /** `bytes` (copied) become the account's latest checkpoint; without a hook they are durable at once. */
  private keepCheckpoint(entry: AccountEntry, bytes: Uint8Array): void {
    if (entry.checkpoint) (entry.checkpoint as CheckpointBuffer).set(bytes);
    else entry.checkpoint = new CheckpointBuffer(bytes);
    if (!this.hook) entry.durable = entry.checkpoint;
  }

  /** onCheckpoint stored `bytes` (copied): what a failed persist reverts to. Only with a hook. */
  private keepDurable(entry: AccountEntry, bytes: Uint8Array): void {
    if (entry.durable && entry.durable !== entry.checkpoint) (entry.durable as CheckpointBuffer).set(bytes);
    else entry.durable = new CheckpointBuffer(bytes);
  }

  /**
   * A call's changed records (copied in) move the account's records forward; without a hook they are durable at
   * once. With a hook, a new account has no durable records until its first ones are stored (a failed first
   * store drops the account: revert finds no durable state).
   */
  private keepRecords(entry: AccountEntry, changes: readonly RecordChange[]): void {
    if (entry.checkpoint) (entry.checkpoint as RecordSet).apply(changes);
    else entry.checkpoint = new RecordSet(changes);
    if (!this.hook) entry.durable = entry.checkpoint;
  }

  /** Every record of an account loaded from whole bytes (checkpoints 'records'): stored already, so durable too. */
  private keepSnapshot(entry: AccountEntry, snapshot: readonly StoredRecord[]): void {
    if (entry.checkpoint !== entry.durable) entry.durable?.wipe();
    entry.checkpoint?.wipe();
    const set = new RecordSet(snapshot);
    entry.checkpoint = set;
    entry.durable = this.hook ? RecordSet.from(set) : set;
    for (const r of snapshot) r.bytes.fill(0); // transferred copies of the whole account's state: ours, garbage now
  }

  private onSent(c: PendingCall): void {
    c.epoch = this.accounts.get(c.accountId)?.epoch ?? 0;
  }

  private reloads(slot: WorkerSlot): PendingCall[] {
    const out: PendingCall[] = [];
    for (const e of this.accounts.values()) if (e.slot === slot && e.checkpoint && !e.unloading) out.push(this.reloadCall(e));
    return out;
  }

  private onDead(slot: WorkerSlot): void {
    for (const e of this.accounts.values()) if (e.slot === slot) this.failHeld(e, () => true, 'worker-start', 'the worker holding this account could not be restarted');
  }

  private failHeld(e: AccountEntry, pred: (c: PendingCall) => boolean, reason: 'timeout' | 'closed' | 'worker-start', message: string): void {
    if (!e.held) return;
    const keep: PendingCall[] = [];
    for (const c of e.held) (pred(c) ? c.fail(new OtrPoolError(reason, message, e.id)) : keep.push(c));
    e.held = keep;
  }

  /** Rejects calls that waited past their deadline without being sent (a running batch has its own timer). */
  private sweep(): void {
    const now = performance.now();
    const late = (c: PendingCall) => c.deadline <= now;
    for (const s of this.slots) if (s.queue.some(late)) s.rejectQueued(late, 'timeout', 'the call waited too long for its worker');
    for (const e of this.accounts.values()) if (e.held?.some(late)) this.failHeld(e, late, 'timeout', 'the call waited too long for its account to move');
  }

  /**
   * timed() for the methods that return a promise: whatever the host passed, the answer is that promise. An
   * argument that throws when read (a Proxy, a getter, a value whose conversion throws) used to throw out of the
   * call (session 8, test/attacks/s8-pool.test.ts); it is a rejection now, typed: the host's own error is not
   * passed on (it is not ours to classify, and its message may carry anything).
   */
  private guarded<T>(fn: () => Promise<T>): Promise<T> {
    return this.timed(() => {
      try {
        return fn();
      } catch (e) {
        return rejectedArgument(e);
      }
    });
  }

  private timed<T>(fn: () => T): T {
    const t = performance.now();
    try {
      return fn();
    } finally {
      this.recordSync(t);
    }
  }

  /** Counts a synchronous stretch of pool work that started at `t` (performance.now()). */
  private recordSync(t: number): void {
    const d = performance.now() - t;
    this.syncTotal += d;
    this.sync.record(Math.max(1, Math.round(d * 1e6)));
  }
}

interface CallHost {
  settle(entry: AccountEntry, c: PendingCall, r: CallResult, resolve: (v: unknown) => void, reject: (e: unknown) => void): void;
  release(chars: number): void;
}

/**
 * A call made through submit(), settled once (its result, or a failure, whichever comes first). One object per
 * call with its methods on the prototype: the host thread makes one per call, and per-call closures are what a
 * flood of calls keeps alive while they wait.
 */
class SubmittedCall implements PendingCall {
  epoch?: number;
  /** Buffers the call hands to the worker (loadAccountRecords' copies), transferred rather than cloned. */
  transfer?: ArrayBuffer[];
  private done = false;

  constructor(
    private readonly host: CallHost,
    private readonly entry: AccountEntry,
    readonly call: WorkerCall,
    readonly chars: number,
    readonly deadline: number,
    private readonly resolve: (v: unknown) => void,
    private readonly reject: (e: unknown) => void,
  ) {}

  get accountId(): string {
    return this.entry.id;
  }

  settle(r: CallResult): void {
    if (this.finish()) this.host.settle(this.entry, this, r, this.resolve, this.reject);
  }

  fail(e: OtrPoolError): void {
    if (this.finish()) this.reject(e);
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.host.release(this.chars);
    return true;
  }
}

/** A conversation of an account in the pool: Conversation's calls, each returning a Promise of the same data. */
export class PoolConversation {
  constructor(
    private readonly pool: OtrPool,
    readonly accountId: string,
    readonly peerId: string,
  ) {}

  private call<T>(method: ConversationMethod, args: unknown[] = []): Promise<T> {
    return this.pool.callConversation<T>(this.accountId, this.peerId, method, args);
  }

  start(): Promise<Outcome> {
    return this.call('start');
  }
  startDake(instance?: number): Promise<Outcome> {
    if (instance !== undefined && !Number.isInteger(instance)) return Promise.reject(new OtrArgumentError('instance must be an integer'));
    return this.call('startDake', instance === undefined ? [] : [instance]);
  }
  /**
   * Starts the conversation with a peer who is offline, from the prekey ensembles a prekey server returned
   * (fetchEnsembles runs on this thread: it is I/O). The ensembles are plain data and are cloned to the worker.
   */
  sendOffline(ensembles: readonly PrekeyEnsemble[], text?: string): Promise<Outcome> {
    if (!Array.isArray(ensembles)) return Promise.reject(new OtrArgumentError('ensembles must be an array'));
    if (text !== undefined && typeof text !== 'string') return Promise.reject(new OtrArgumentError('text must be a string'));
    const e = cloneArg(ensembles);
    return e instanceof OtrArgumentError ? Promise.reject(e) : this.call('sendOffline', text === undefined ? [e] : [e, text]);
  }
  send(text: string, options?: SendOptions): Promise<Outcome> {
    if (typeof text !== 'string') return Promise.reject(new OtrArgumentError('message must be a string'));
    if (options === undefined) return this.call('send', [text]);
    const o = cloneArg(options);
    return o instanceof OtrArgumentError ? Promise.reject(o) : this.call('send', [text, o]);
  }
  receive(text: string): Promise<Outcome> {
    if (typeof text !== 'string') return Promise.reject(new OtrArgumentError('received message must be a string'));
    return this.call('receive', [text]);
  }
  end(): Promise<Outcome> {
    return this.call('end');
  }
  poll(): Promise<Outcome> {
    return this.call('poll');
  }
  startSmp(answer: string | Uint8Array, question?: string): Promise<Outcome> {
    if (typeof answer !== 'string' && !(answer instanceof Uint8Array)) return Promise.reject(new OtrArgumentError('SMP answer must be a string or bytes'));
    if (question !== undefined && typeof question !== 'string') return Promise.reject(new OtrArgumentError('SMP question must be a string'));
    return this.call('startSmp', question === undefined ? [answer] : [answer, question]);
  }
  answerSmp(answer: string | Uint8Array): Promise<Outcome> {
    if (typeof answer !== 'string' && !(answer instanceof Uint8Array)) return Promise.reject(new OtrArgumentError('SMP answer must be a string or bytes'));
    return this.call('answerSmp', [answer]);
  }
  abortSmp(): Promise<Outcome> {
    return this.call('abortSmp');
  }
  setPolicy(p: Partial<Policy>): Promise<void> {
    const o = cloneArg(p);
    return o instanceof OtrArgumentError ? Promise.reject(o) : this.call('setPolicy', [o]);
  }
  /** state, version, ssid, peerFingerprint, instanceTags, currentInstance — read in the worker. */
  info(): Promise<ConversationInfo> {
    return this.call('info');
  }
}

/** Plain data only: a function or class instance in options would make the whole batch fail to post. */
function cloneArg<T>(v: T): T | OtrArgumentError {
  try {
    return structuredClone(v);
  } catch {
    return new OtrArgumentError('options must be plain data');
  }
}

/**
 * Zeroes an account's checkpoint holders as it leaves the pool (unload, a refused load or reload, close): they
 * hold the whole account, long-term keys included. What was handed out before is a copy (CheckpointBuffer.copy).
 */
function dropHolders(e: AccountEntry): void {
  e.checkpoint?.wipe();
  e.durable?.wipe();
  e.checkpoint = undefined;
  e.durable = undefined;
}

function cloneHolder(h: Holder): Holder {
  return h instanceof RecordSet ? RecordSet.from(h) : CheckpointBuffer.from(h);
}

/**
 * Copies of records a host hands to loadAccountRecords, checked before they cross a thread (they may come from
 * a hostile disk): an array of at most limits.maxRecordsPerAccount records; each a { key, generation, bytes }
 * with a safe non-negative generation and bytes within limits.maxStateBytes; exactly one `account` record;
 * every other key `conv:<peer>` with a non-empty peer; no key twice. The bytes themselves are the session
 * layer's to judge (the account record on load, each conversation record when first used).
 */
function checkedRecordCopies(records: readonly StoredRecord[], limits: { maxRecordsPerAccount: number; maxStateBytes: number }): StoredRecord[] {
  if (!Array.isArray(records)) throw new OtrArgumentError('records must be an array');
  const n = records.length;
  if (n > limits.maxRecordsPerAccount) throw new OtrDecodeError(`${n} records exceed limits.maxRecordsPerAccount`);
  const seen = new Set<string>();
  let account = 0;
  // Each field is read once and the copy made from what was checked (a getter could answer differently twice),
  // by index up to the checked length (an array's own iterator could yield more); refused: the copies zeroed.
  const copies: StoredRecord[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const r = records[i];
      if (r === null || typeof r !== 'object') throw new OtrArgumentError('a record must be an object { key, generation, bytes }');
      const { key, generation, bytes } = r;
      if (typeof key !== 'string') throw new OtrArgumentError('record key must be a string');
      if (!Number.isSafeInteger(generation) || generation < 0) throw new OtrArgumentError('record generation must be a non-negative integer');
      if (!(bytes instanceof Uint8Array)) throw new OtrArgumentError('record bytes must be a Uint8Array');
      if (bytes.length > limits.maxStateBytes) throw new OtrDecodeError(`record of ${bytes.length} bytes exceeds the limit`);
      if (key === ACCOUNT_RECORD) account++;
      else if (!key.startsWith(CONVERSATION_RECORD_PREFIX) || key.length === CONVERSATION_RECORD_PREFIX.length) throw new OtrArgumentError('record key must be account or conv:<peer>');
      if (seen.has(key)) throw new OtrArgumentError('a record key appears twice');
      seen.add(key);
      copies.push({ key, generation, bytes: copyBytes(bytes) }); // own buffers, transferred (a Buffer's slice() is a view)
    }
    if (account !== 1) throw new OtrArgumentError('the records must hold the account record');
  } catch (e) {
    for (const c of copies) c.bytes.fill(0);
    throw e;
  }
  return copies;
}


function wipeStaged(staged: readonly RecordChange[]): void {
  for (const c of staged) c.bytes?.fill(0);
}

/** The call was sent before the account's last revert: its result must be withheld. */
function isStale(c: PendingCall, entry: AccountEntry): boolean {
  return (c.epoch ?? 0) < entry.epoch;
}

function withheldError(entry: AccountEntry): OtrPoolError {
  return new OtrPoolError('persist-failed', 'an earlier checkpoint of this account could not be stored; the account was reverted', entry.id);
}

/** `p`, or a rejection once `ms` have passed. */
function deadlineRace<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('deadline')), Math.max(1, Math.min(ms, 2 ** 31 - 1)));
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const RESOLVED = Promise.resolve();

/** What guarded() answers a throw with: an OtrError as it is, anything else (the host's own) as a typed refusal. */
function rejectedArgument(e: unknown): Promise<never> {
  return Promise.reject(e instanceof OtrError ? e : new OtrArgumentError(`an argument could not be read (${(e as Error)?.name ?? typeof e})`));
}

function closedError(): Promise<never> {
  return Promise.reject(new OtrPoolError('closed', 'the pool is closed'));
}

function toUrl(u: string | URL): string {
  if (u instanceof URL) return u.href;
  return u.startsWith('file:') ? u : pathToFileURL(u).href;
}

function checkOptions(o: PoolOptions): PoolOptions {
  if (o === null || typeof o !== 'object') throw new OtrArgumentError('pool options must be an object');
  const posInt = (v: unknown, name: string) => {
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1)) throw new OtrArgumentError(`${name} must be a positive integer`);
  };
  posInt(o.workers, 'workers');
  posInt(o.maxBatchCalls, 'maxBatchCalls');
  posInt(o.maxInFlight, 'maxInFlight');
  posInt(o.callTimeoutMs, 'callTimeoutMs');
  posInt(o.maxQueuedCalls, 'maxQueuedCalls');
  posInt(o.maxQueuedChars, 'maxQueuedChars');
  posInt(o.maxOutstandingCalls, 'maxOutstandingCalls');
  if (o.workerNice !== undefined && (!Number.isInteger(o.workerNice) || o.workerNice < 0 || o.workerNice > 19)) throw new OtrArgumentError('workerNice must be an integer from 0 to 19');
  if (o.settleBudgetMs !== undefined && (typeof o.settleBudgetMs !== 'number' || !Number.isFinite(o.settleBudgetMs) || o.settleBudgetMs < 0))
    throw new OtrArgumentError('settleBudgetMs must be a finite number >= 0');
  if (o.maxRestarts !== undefined && (!Number.isInteger(o.maxRestarts) || o.maxRestarts < 0)) throw new OtrArgumentError('maxRestarts must be an integer >= 0');
  if (o.checkpoints !== undefined && o.checkpoints !== 'records' && o.checkpoints !== 'every-call' && o.checkpoints !== 'manual') throw new OtrArgumentError("checkpoints must be 'records', 'every-call' or 'manual'");
  if (o.onCheckpoint !== undefined && typeof o.onCheckpoint !== 'function') throw new OtrArgumentError('onCheckpoint must be a function');
  if (o.onRecords !== undefined && typeof o.onRecords !== 'function') throw new OtrArgumentError('onRecords must be a function');
  // Each hook has its mode: whole-account bytes (onCheckpoint) or changed records (onRecords), never both.
  if (o.onCheckpoint && o.onRecords) throw new OtrArgumentError('give onCheckpoint (whole-account bytes) or onRecords (changed records), not both');
  if (o.onCheckpoint && o.checkpoints === 'records') throw new OtrArgumentError("onCheckpoint receives whole-account bytes: use checkpoints 'every-call', or onRecords");
  if (o.onRecords && o.checkpoints !== undefined && o.checkpoints !== 'records') throw new OtrArgumentError("onRecords needs checkpoints: 'records'");
  if (o.resourceLimits === undefined) return o;
  return { ...o, resourceLimits: checkResourceLimits(o.resourceLimits) };
}

/**
 * A copy of the host's worker limits, each checked against RESOURCE_LIMIT_BOUNDS: a plain object of own data
 * properties, known keys only, finite numbers within bounds. Copied so that every restart of a worker uses
 * what was checked here, whatever the host does to its object later.
 */
function checkResourceLimits(v: unknown): import('node:worker_threads').ResourceLimits {
  const refused = () => new OtrArgumentError('resourceLimits must be a plain object of numbers');
  let keys: (string | symbol)[];
  try {
    const proto = v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.getPrototypeOf(v) : undefined;
    if (proto !== Object.prototype && proto !== null) throw refused();
    keys = Reflect.ownKeys(v as object);
  } catch {
    throw refused(); // a Proxy's traps throwing included: no untyped error out of start()
  }
  const out: Record<string, number> = {};
  for (const key of keys) {
    const bounds = typeof key === 'string' && Object.hasOwn(RESOURCE_LIMIT_BOUNDS, key) ? RESOURCE_LIMIT_BOUNDS[key as keyof typeof RESOURCE_LIMIT_BOUNDS] : undefined;
    if (!bounds) throw new OtrArgumentError(`resourceLimits has an unknown key (known: ${Object.keys(RESOURCE_LIMIT_BOUNDS).join(', ')})`);
    let n: unknown;
    try {
      const d = Object.getOwnPropertyDescriptor(v, key);
      n = d && 'value' in d ? d.value : undefined; // a getter is not called: refused below
    } catch {
      throw refused();
    }
    if (typeof n !== 'number' || !Number.isFinite(n) || n < bounds[0] || n > bounds[1])
      throw new OtrArgumentError(`resourceLimits.${key as string} must be a number of MB from ${bounds[0]} to ${bounds[1]}`);
    out[key as string] = n;
  }
  return out;
}

/** Ends a move: the calls held while the account was between workers go, in order, to the slot it now lives in. */
function releaseHeld(entry: AccountEntry, slot: WorkerSlot): void {
  const held = entry.held ?? [];
  entry.held = null;
  for (const c of held) slot.enqueue(c);
}
