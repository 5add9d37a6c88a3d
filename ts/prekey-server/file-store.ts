/**
 * The embedded durable store without a database: the in-memory StoreIndex plus an append-only log (Node only:
 * node:fs, no native modules). Each operation is one record (the state codec, kind "prekey-store-op") in a
 * checksummed frame (log-frames.ts), appended and fsync'ed before the operation's promise resolves, so
 * everything the server acknowledged (a Success message, a handed-out ensemble) survives a crash. Operations
 * are applied to the index at once, in call order (so concurrent `take`s never hand out one prekey twice), and
 * logged in that same order; records queued while a write is in flight are written together with one fsync
 * (group commit). One process only: two processes on one log would each hand out the same prekeys, so `open`
 * takes a lock file (`prekeys.lock`, created exclusively, holding the owner's pid) and refuses while a live
 * process holds it; a lock left by a dead process (kill -9) is taken over.
 *
 * On open, the log is replayed. Only a torn final frame (a crash mid-append, never acknowledged) is cut off;
 * damage anywhere else is corruption and the store refuses to open (OtrStoreCorruptError, nothing on disk
 * changed) unless `onCorruption: 'quarantine'`, which renames the log aside and starts empty — losing the
 * stored prekeys (publishers re-publish when their storage status runs low) but never handing one out twice.
 * Replay is idempotent (a publication skips ids it already holds, a take of a missing id does nothing), which
 * is what makes compaction safe: when the log grows past `compactFactor` times the live data, the index is
 * written as a fresh log to a temporary file, fsync'ed, renamed over the old one and the directory fsync'ed —
 * at every instant either the old or the new complete log is on disk.
 *
 * The log's size is bounded (limits.maxPrekeyLogBytes): on open its size on disk is checked before a byte of
 * it is read, and a larger log is refused like corruption (OtrStoreTooLargeError, naming the size and the
 * limit; `onCorruption: 'quarantine'` moves it aside), so a hostile disk or a runaway file cannot make the
 * server read gigabytes at start. The store never writes a log it would refuse: a batch that would take the
 * log past the limit is written as a compaction instead (the snapshot already holds its operations), and a
 * publication whose bytes the live data cannot hold under the limit is refused (OtrLimitError: the publisher
 * gets a Failure and may retry once prekeys were handed out).
 *
 * If a write or fsync fails the store refuses every later operation (the index may be ahead of the disk);
 * restart to recover from the log.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { OtrDecodeError, OtrError, OtrLimitError, OtrStateError } from '../errors.js';
import { decodeState, encodeState, expect, type StateValue } from '../session/state-codec.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { encodeFrame, LOG_MAGIC, scanLog } from './log-frames.js';
import { StoreIndex, type PrekeyStore, type PublicationRecord, type StoreLimits, type StoredEnsemble, type StoredProfile, type TakeRecord } from './store.js';

const LOG = 'prekeys.log';
const KIND = 'prekey-store-op';
/** Largest record: a publication of 1000 prekeys is ~0.5 MB; anything larger in the log is corruption. */
const MAX_RECORD = 16 << 20;

type Op = { readonly op: 'publish'; readonly identity: string; readonly record: PublicationRecord } | { readonly op: 'take'; readonly identity: string; readonly take: TakeRecord };

function profileValue(p: StoredProfile | undefined): StateValue {
  return p ? { bytes: p.bytes, expiry: p.expiry } : null;
}

function encodeOp(o: Op): Uint8Array {
  const v: StateValue =
    o.op === 'publish'
      ? {
          op: 'publish',
          identity: o.identity,
          tag: o.record.instanceTag,
          cp: profileValue(o.record.clientProfile),
          pp: profileValue(o.record.prekeyProfile),
          prekeys: o.record.prekeys.map((p) => ({ id: p.id, bytes: p.bytes })),
        }
      : { op: 'take', identity: o.identity, taken: o.take.taken.map((t) => [t.instanceTag, t.id]) };
  return encodeState(KIND, v);
}

function readProfile(v: StateValue | undefined, what: string): StoredProfile | undefined {
  if (v === null || v === undefined) return undefined;
  const r = expect.record(v, what);
  return { bytes: expect.bytes(r.bytes, `${what} bytes`), expiry: expect.bigint(r.expiry, `${what} expiry`) };
}

function decodeOp(bytes: Uint8Array): Op {
  const r = expect.record(decodeState(KIND, bytes, MAX_RECORD), 'record');
  const op = expect.string(r.op, 'op', ['publish', 'take']) as 'publish' | 'take';
  const identity = expect.string(r.identity, 'identity');
  if (op === 'publish') {
    const cp = readProfile(r.cp, 'client profile');
    const pp = readProfile(r.pp, 'prekey profile');
    const record: PublicationRecord = {
      instanceTag: expect.uint(r.tag, 'tag', 0xffffffff),
      prekeys: expect.array(r.prekeys, 'prekeys').map((p) => {
        const e = expect.record(p, 'prekey');
        return { id: expect.uint(e.id, 'id', 0xffffffff), bytes: expect.bytes(e.bytes, 'prekey bytes') };
      }),
      ...(cp ? { clientProfile: cp } : {}),
      ...(pp ? { prekeyProfile: pp } : {}),
    };
    return { op, identity, record };
  }
  const taken = expect.array(r.taken, 'taken').map((t) => {
    const pair = expect.array(t, 'taken entry', 2);
    return { instanceTag: expect.uint(pair[0], 'tag', 0xffffffff), id: expect.uint(pair[1], 'id', 0xffffffff) };
  });
  return { op, identity, take: { taken } };
}

function frame(record: Uint8Array): Uint8Array {
  return encodeFrame(record);
}

/** The log is damaged somewhere other than a torn final frame: the store refuses to open. */
export class OtrStoreCorruptError extends OtrDecodeError {
  constructor(
    readonly path: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`prekey store log ${path} is corrupt at byte ${offset} (${reason}); refusing to open it and changing nothing. Restore it from a backup, or move it aside (onCorruption: 'quarantine') to start empty`);
    this.name = 'OtrStoreCorruptError';
  }
}

/**
 * The log on disk is larger than limits.maxPrekeyLogBytes: refused before it is read (a log this store wrote
 * never is). A kind of corruption, so `onCorruption: 'quarantine'` applies to it too.
 */
export class OtrStoreTooLargeError extends OtrStoreCorruptError {
  constructor(
    path: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(path, 0, 'too large');
    this.message = `prekey store log ${path} is ${size} bytes, over limits.maxPrekeyLogBytes (${limit}); refusing to read it and changing nothing. Raise the limit if the log is genuine, restore it from a backup, or move it aside (onCorruption: 'quarantine') to start empty`;
    this.name = 'OtrStoreTooLargeError';
  }
}

/**
 * The whole log, its size checked before anything is read (from the open file, so a rename in between cannot
 * swap in another); empty if there is none.
 */
async function readBoundedLog(path: string, limit: number): Promise<Uint8Array> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Uint8Array(0);
    throw e;
  }
  try {
    const { size } = await fh.stat();
    if (size > limit) throw new OtrStoreTooLargeError(path, size, limit);
    const buf = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await fh.read(buf, at, size - at, at);
      if (bytesRead === 0) break; // shrunk since stat: what was read is the log
      at += bytesRead;
    }
    return at === size ? buf : buf.subarray(0, at);
  } finally {
    await fh.close();
  }
}

/** Replays a scanned log; a checksummed record that does not decode is corruption too. */
function readLog(path: string, buf: Uint8Array): { ops: Op[]; good: number; torn: boolean; needsMagic: boolean } {
  const scan = scanLog(buf, MAX_RECORD);
  if (scan.kind === 'corrupt') throw new OtrStoreCorruptError(path, scan.offset, scan.reason);
  const ops: Op[] = [];
  for (const r of scan.records) {
    try {
      ops.push(decodeOp(r));
    } catch (e) {
      if (e instanceof OtrError) throw new OtrStoreCorruptError(path, -1, `a record with a good check does not decode: ${e.message}`);
      throw e;
    }
  }
  return { ops, good: scan.good, torn: scan.torn, needsMagic: scan.needsMagic };
}

/**
 * Rebuilds the index from the log, each publication checked against the limits as it was when written. A log
 * this server wrote replays within them (the same records in the same order, under the same limits); one that
 * does not was written by something else (or the limits were lowered since): corruption, so that a forged log
 * cannot make the server hold (and serve) more than its limits allow.
 */
function replay(path: string, index: StoreIndex, ops: readonly Op[]): void {
  for (const op of ops) {
    if (op.op === 'take') {
      index.applyTake(op.identity, op.take);
      continue;
    }
    try {
      index.checkPublish(op.identity, op.record);
    } catch (e) {
      if (e instanceof OtrError) throw new OtrStoreCorruptError(path, -1, `the log holds more than the limits allow (${e.message}; were the limits lowered?)`);
      throw e;
    }
    index.applyPublish(op.identity, op.record);
  }
}

const LOCK = 'prekeys.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Takes the directory's lock file, or refuses (OtrStateError) while another live process holds it. */
async function lockDir(dir: string): Promise<void> {
  const path = join(dir, LOCK);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fsp.writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number.parseInt(await fsp.readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
      throw new OtrStateError(`prekey store ${dir} is in use by process ${pid} (the file log serves one process; use SQLite or PostgreSQL for several). If that process is not a prekey server, remove ${path}`);
    if (pid === process.pid) throw new OtrStateError(`prekey store ${dir} is already open in this process`);
    await fsp.unlink(path).catch(() => {}); // left by a process that died: take it over
  }
  throw new OtrStateError(`could not take the lock ${path}`);
}

async function syncDir(dir: string): Promise<void> {
  const d = await fsp.open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export interface FileStoreOptions {
  readonly limits?: StoreLimits;
  /** Compact when the log exceeds this many times the size of a fresh snapshot (default 4) ... */
  readonly compactFactor?: number;
  /** ... and at least this many bytes (default 1 MiB). */
  readonly compactMinBytes?: number;
  /**
   * A log damaged other than by a torn final frame: 'refuse' (default) throws OtrStoreCorruptError and changes
   * nothing; 'quarantine' renames it to `prekeys.log.corrupt-<ms>` and starts with an empty store.
   */
  readonly onCorruption?: 'refuse' | 'quarantine';
}

interface Pending {
  readonly bytes: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class FileStore implements PrekeyStore {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private failed: unknown = null;
  private closed = false;
  private logBytes: number;
  private liveBytes: number;
  /**
   * An upper bound of a fresh snapshot's size: exact after a compaction (or the log's size at open), plus every
   * publication frame since (takes only shrink the live data, so it stays a bound).
   */
  private liveBound: number;
  /** Prekeys were taken since liveBound was last exact (a compaction could free room). */
  private takenSinceCompaction = false;
  private compactRequested = false;

  private constructor(
    private readonly dir: string,
    private fh: fsp.FileHandle,
    readonly index: StoreIndex,
    logBytes: number,
    private readonly opts: Required<Omit<FileStoreOptions, 'limits' | 'onCorruption'>>,
    private readonly maxLogBytes: number,
  ) {
    this.logBytes = logBytes;
    this.liveBytes = logBytes;
    this.liveBound = logBytes;
  }

  /** Opens (creating if needed) the store in `dir`, replaying its log and cutting off a torn final frame. */
  static async open(dir: string, o: FileStoreOptions = {}): Promise<FileStore> {
    await fsp.mkdir(dir, { recursive: true });
    await lockDir(dir);
    try {
      return await FileStore.openLocked(dir, o);
    } catch (e) {
      await fsp.unlink(join(dir, LOCK)).catch(() => {});
      throw e;
    }
  }

  private static async openLocked(dir: string, o: FileStoreOptions): Promise<FileStore> {
    const path = join(dir, LOG);
    let index = new StoreIndex(o.limits ?? DEFAULT_LIMITS);
    const maxLogBytes = o.limits?.maxPrekeyLogBytes ?? DEFAULT_LIMITS.maxPrekeyLogBytes;
    let log: ReturnType<typeof readLog>;
    try {
      log = readLog(path, await readBoundedLog(path, maxLogBytes));
      replay(path, index, log.ops);
    } catch (e) {
      if (!(e instanceof OtrStoreCorruptError) || o.onCorruption !== 'quarantine') throw e;
      await fsp.rename(path, `${path}.corrupt-${Date.now()}`);
      await syncDir(dir);
      log = { ops: [], good: 0, torn: false, needsMagic: true };
      index = new StoreIndex(o.limits ?? DEFAULT_LIMITS);
    }
    const fh = await fsp.open(path, 'a+');
    if (log.torn || log.needsMagic) {
      await fh.truncate(log.good);
      if (log.needsMagic) await fh.write(LOG_MAGIC);
      await fh.sync();
      if (log.needsMagic) await syncDir(dir);
    }
    const size = log.needsMagic ? LOG_MAGIC.length : log.good;
    return new FileStore(dir, fh, index, size, { compactFactor: o.compactFactor ?? 4, compactMinBytes: o.compactMinBytes ?? 1 << 20 }, maxLogBytes);
  }

  private usable(): void {
    if (this.closed) throw new OtrStateError('store is closed');
    if (this.failed) throw new OtrStateError('store failed to write; restart to recover from the log');
  }

  /** Queues a framed record (empty: nothing to write) and resolves once it is on disk. */
  private append(bytes: Uint8Array): Promise<void> {
    const p = new Promise<void>((resolve, reject) => this.queue.push({ bytes, resolve, reject }));
    if (!this.flushing) this.flushing = this.flushLoop();
    return p;
  }

  /** Compacts in the write loop (never beside a write), resolving once the fresh log is in place. */
  private compactNow(): Promise<void> {
    this.compactRequested = true;
    return this.append(new Uint8Array(0));
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          let n = 0;
          for (const p of batch) n += p.bytes.length;
          if (this.compactRequested || this.logBytes + n > this.maxLogBytes) {
            // Every queued operation is already applied to the index, so the snapshot holds this batch: written
            // as a compaction, the log stays under the limit (the snapshot is within it: see liveBound).
            this.compactRequested = false;
            await this.compact();
          } else {
            const all = new Uint8Array(n);
            let o = 0;
            for (const p of batch) {
              all.set(p.bytes, o);
              o += p.bytes.length;
            }
            await this.fh.write(all);
            await this.fh.sync();
            this.logBytes += n;
          }
          for (const p of batch) p.resolve();
        } catch (e) {
          this.failed = e;
          for (const p of [...batch, ...this.queue]) p.reject(e);
          this.queue = [];
          return;
        }
        await this.maybeCompact();
      }
    } finally {
      this.flushing = null;
    }
  }

  private async maybeCompact(): Promise<void> {
    if (this.logBytes < this.opts.compactMinBytes || this.logBytes < this.opts.compactFactor * this.liveBytes) return;
    await this.compact();
  }

  /** Writes the index as a fresh log (the snapshot is taken at once, before the first await). */
  private async compact(): Promise<void> {
    const frames: Uint8Array[] = [LOG_MAGIC];
    let n = LOG_MAGIC.length;
    for (const { identity, record } of this.index.snapshot()) {
      const f = frame(encodeOp({ op: 'publish', identity, record }));
      frames.push(f);
      n += f.length;
    }
    // Exact now; publications applied while this compaction writes add to it as usual.
    this.liveBound = n;
    this.takenSinceCompaction = false;
    const tmp = join(this.dir, `${LOG}.tmp`);
    const out = await fsp.open(tmp, 'w');
    try {
      for (const f of frames) await out.write(f);
      await out.sync();
    } finally {
      await out.close();
    }
    await fsp.rename(tmp, join(this.dir, LOG));
    await syncDir(this.dir);
    await this.fh.close();
    this.fh = await fsp.open(join(this.dir, LOG), 'a+');
    this.logBytes = n;
    this.liveBytes = Math.max(n, 1);
  }

  async publish(identity: string, record: PublicationRecord): Promise<void> {
    this.usable();
    this.index.checkPublish(identity, record);
    const bytes = frame(encodeOp({ op: 'publish', identity, record }));
    if (this.liveBound + bytes.length > this.maxLogBytes) {
      // Room may have been freed by takes since the bound was exact: compact once to know (not again until
      // more prekeys are taken, so refused publications cannot make the store rewrite its log every time).
      if (this.takenSinceCompaction) {
        await this.compactNow();
        this.usable();
        this.index.checkPublish(identity, record); // others may have published while it ran
      }
      if (this.liveBound + bytes.length > this.maxLogBytes)
        throw new OtrLimitError(`the prekey store log would exceed limits.maxPrekeyLogBytes (${this.maxLogBytes} bytes)`);
    }
    this.index.applyPublish(identity, record);
    this.liveBound += bytes.length;
    await this.append(bytes);
  }

  async count(identity: string, instanceTag: number): Promise<number> {
    this.usable();
    return this.index.count(identity, instanceTag);
  }

  async take(identity: string, nowSeconds: bigint, max: number): Promise<StoredEnsemble[]> {
    this.usable();
    const chosen = this.index.selectTake(identity, nowSeconds, max);
    if (chosen.length === 0) return chosen;
    const take: TakeRecord = { taken: chosen.map((e) => ({ instanceTag: e.instanceTag, id: e.prekey.id })) };
    this.index.applyTake(identity, take);
    this.takenSinceCompaction = true;
    await this.append(frame(encodeOp({ op: 'take', identity, take })));
    return chosen;
  }

  /** Waits for queued writes, then closes the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing) await this.flushing;
    this.closed = true;
    await this.fh.close();
    await fsp.unlink(join(this.dir, LOCK)).catch(() => {});
  }

  /** The log's size in bytes (tests watch compaction with it). */
  get size(): number {
    return this.logBytes;
  }
}
