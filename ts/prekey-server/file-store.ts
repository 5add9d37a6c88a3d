/**
 * The embedded durable store: the in-memory StoreIndex plus an append-only log (Node only: node:fs, no
 * native modules). Each operation is a record
 *
 *   frame = INT length || record (the state codec, kind "prekey-store-op") || 8-byte SHA-256 prefix
 *
 * appended and fsync'ed before the operation's promise resolves, so everything the server acknowledged (a
 * Success message, a handed-out ensemble) survives a crash. Operations are applied to the index at once, in
 * call order (so concurrent `take`s never hand out one prekey twice), and logged in that same order; records
 * queued while a write is in flight are written together with one fsync (group commit).
 *
 * On open, the log is replayed; a torn or corrupt tail (a crash mid-append, never acknowledged) is cut off.
 * Replay is idempotent (a publication skips ids it already holds, a take of a missing id does nothing), which
 * is what makes compaction safe: when the log grows past `compactFactor` times the live data, the index is
 * written as a fresh log to a temporary file, fsync'ed, renamed over the old one and the directory fsync'ed —
 * at every instant either the old or the new complete log is on disk.
 *
 * If a write or fsync fails the store refuses every later operation (the index may be ahead of the disk);
 * restart to recover from the log.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { OtrError, OtrStateError } from '../errors.js';
import { Reader, Writer } from '../codec/primitives.js';
import { decodeState, encodeState, expect, type StateValue } from '../session/state-codec.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { StoreIndex, type PrekeyStore, type PublicationRecord, type StoreLimits, type StoredEnsemble, type StoredProfile, type TakeRecord } from './store.js';

const LOG = 'prekeys.log';
const KIND = 'prekey-store-op';
const CHECK_BYTES = 8;
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

function checksum(record: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(record).digest().subarray(0, CHECK_BYTES));
}

function frame(record: Uint8Array): Uint8Array {
  return new Writer(record.length + 4 + CHECK_BYTES).int(record.length).raw(record).raw(checksum(record)).finish();
}

/** Parses frames until the end or the first bad one; returns the ops and the length of the good prefix. */
function parseLog(buf: Uint8Array): { ops: Op[]; good: number } {
  const ops: Op[] = [];
  let good = 0;
  const r = new Reader(buf, MAX_RECORD);
  while (r.remaining > 0) {
    try {
      const record = r.data('record', MAX_RECORD);
      const check = r.raw(CHECK_BYTES, 'checksum');
      const want = checksum(record);
      if (!want.every((x, i) => x === check[i])) break;
      ops.push(decodeOp(record));
      good = r.offset;
    } catch (e) {
      if (e instanceof OtrError) break;
      throw e;
    }
  }
  return { ops, good };
}

export interface FileStoreOptions {
  readonly limits?: StoreLimits;
  /** Compact when the log exceeds this many times the size of a fresh snapshot (default 4) ... */
  readonly compactFactor?: number;
  /** ... and at least this many bytes (default 1 MiB). */
  readonly compactMinBytes?: number;
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

  private constructor(
    private readonly dir: string,
    private fh: fsp.FileHandle,
    readonly index: StoreIndex,
    logBytes: number,
    private readonly opts: Required<Omit<FileStoreOptions, 'limits'>>,
  ) {
    this.logBytes = logBytes;
    this.liveBytes = logBytes;
  }

  /** Opens (creating if needed) the store in `dir`, replaying its log and cutting off a torn tail. */
  static async open(dir: string, o: FileStoreOptions = {}): Promise<FileStore> {
    await fsp.mkdir(dir, { recursive: true });
    const path = join(dir, LOG);
    const index = new StoreIndex(o.limits ?? DEFAULT_LIMITS);
    let buf: Uint8Array = new Uint8Array(0);
    try {
      buf = new Uint8Array(await fsp.readFile(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const { ops, good } = parseLog(buf);
    for (const op of ops) {
      if (op.op === 'publish') index.applyPublish(op.identity, op.record);
      else index.applyTake(op.identity, op.take);
    }
    const fh = await fsp.open(path, 'a+');
    if (good < buf.length) {
      await fh.truncate(good);
      await fh.sync();
    }
    return new FileStore(dir, fh, index, good, { compactFactor: o.compactFactor ?? 4, compactMinBytes: o.compactMinBytes ?? 1 << 20 });
  }

  private usable(): void {
    if (this.closed) throw new OtrStateError('store is closed');
    if (this.failed) throw new OtrStateError('store failed to write; restart to recover from the log');
  }

  /** Queues a record and resolves once it is on disk. */
  private append(op: Op): Promise<void> {
    const bytes = frame(encodeOp(op));
    const p = new Promise<void>((resolve, reject) => this.queue.push({ bytes, resolve, reject }));
    if (!this.flushing) this.flushing = this.flushLoop();
    return p;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          let n = 0;
          for (const p of batch) n += p.bytes.length;
          const all = new Uint8Array(n);
          let o = 0;
          for (const p of batch) {
            all.set(p.bytes, o);
            o += p.bytes.length;
          }
          await this.fh.write(all);
          await this.fh.sync();
          this.logBytes += n;
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
    const frames: Uint8Array[] = [];
    let n = 0;
    for (const { identity, record } of this.index.snapshot()) {
      const f = frame(encodeOp({ op: 'publish', identity, record }));
      frames.push(f);
      n += f.length;
    }
    const tmp = join(this.dir, `${LOG}.tmp`);
    const out = await fsp.open(tmp, 'w');
    try {
      for (const f of frames) await out.write(f);
      await out.sync();
    } finally {
      await out.close();
    }
    await fsp.rename(tmp, join(this.dir, LOG));
    const d = await fsp.open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    await this.fh.close();
    this.fh = await fsp.open(join(this.dir, LOG), 'a+');
    this.logBytes = n;
    this.liveBytes = Math.max(n, 1);
  }

  async publish(identity: string, record: PublicationRecord): Promise<void> {
    this.usable();
    this.index.checkPublish(identity, record);
    this.index.applyPublish(identity, record);
    await this.append({ op: 'publish', identity, record });
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
    await this.append({ op: 'take', identity, take });
    return chosen;
  }

  /** Waits for queued writes, then closes the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing) await this.flushing;
    this.closed = true;
    await this.fh.close();
  }

  /** The log's size in bytes (tests watch compaction with it). */
  get size(): number {
    return this.logBytes;
  }
}
