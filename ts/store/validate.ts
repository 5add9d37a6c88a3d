/**
 * The checks every store makes at its two boundaries, so that each backend stays a thin mapping onto its
 * database:
 *   - on the way in (`checkCommit`): the caller's changes — key and account id sizes, generations that are
 *     positive safe integers, record sizes, no key twice in one commit. A wrong argument is an
 *     OtrArgumentError; a size over the limits table (ts/limits.ts) is an OtrLimitError. Nothing is written.
 *   - on the way out (`checkRow`): what the disk or database handed back, which may be hostile (edited,
 *     truncated, from another program): a generation that is not a positive safe integer, bytes that are not
 *     bytes, or bigger than the limit, is an OtrDecodeError naming the record, never a crash and never a
 *     half-read record.
 */
import { OtrArgumentError, OtrDecodeError, OtrLimitError, OtrStateError, OtrStoreConflictError } from '../errors.js';
import type { Limits } from '../limits.js';
import type { RecordChange, StoredRecord } from './types.js';
import { copyBytes } from '../bytes.js';

/** The subset of the limits table the stores read. */
export type StoreLimits = Pick<Limits, 'maxRecordBytes' | 'maxRecordKeyBytes' | 'maxRecordsPerAccount' | 'maxChangesPerCommit'>;

const utf8 = new TextEncoder();

/** UTF-8 length without allocating for the common all-ASCII case. */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return utf8.encode(s).length;
  return s.length;
}

export function checkName(value: unknown, what: string, limits: StoreLimits): string {
  if (typeof value !== 'string' || value.length === 0) throw new OtrArgumentError(`${what} must be a non-empty string`);
  if (value.length > limits.maxRecordKeyBytes || utf8Length(value) > limits.maxRecordKeyBytes)
    throw new OtrLimitError(`${what} is longer than maxRecordKeyBytes (${limits.maxRecordKeyBytes})`);
  return value;
}

/** Every store call starts here: refused once the store is closed (OtrStateError). */
export function checkOpen(closed: boolean): void {
  if (closed) throw new OtrStateError('the store is closed');
}

/** The arguments of `load(accountId, key)` (`key` omitted: of `keys(accountId)`). */
export function checkLoad(accountId: unknown, key: unknown, limits: StoreLimits): void {
  checkName(accountId, 'accountId', limits);
  if (key !== undefined) checkName(key, 'record key', limits);
}

export function isGeneration(g: unknown): g is number {
  return typeof g === 'number' && Number.isSafeInteger(g) && g >= 1;
}

/**
 * checkOpen + checkCommit for a commit whose arrays were handed over (COMMIT_OWNED, ./owned.ts): the store
 * owns them even when it refuses the commit, so they are wiped before the error leaves.
 */
export function checkHandedOver(closed: boolean, accountId: string, changes: readonly RecordChange[], limits: StoreLimits): void {
  try {
    checkOpen(closed);
    checkCommit(accountId, changes, limits);
  } catch (e) {
    wipeRows(changes);
    throw e;
  }
}

/** The generation of a delete of a record at Number.MAX_SAFE_INTEGER: the only change past it a commit takes. */
const LAST_DELETE = Number.MAX_SAFE_INTEGER + 1;

/** Validates a commit before any store touches its database. */
export function checkCommit(accountId: unknown, changes: unknown, limits: StoreLimits): readonly RecordChange[] {
  checkName(accountId, 'accountId', limits);
  if (!Array.isArray(changes)) throw new OtrArgumentError('changes must be an array');
  if (changes.length > limits.maxChangesPerCommit)
    throw new OtrLimitError(`a commit of ${changes.length} changes exceeds maxChangesPerCommit (${limits.maxChangesPerCommit})`);
  // Duplicate keys: a commit of one change (every message's) cannot have any, so no Set is made for it.
  const seen = changes.length > 1 ? new Set<string>() : undefined;
  for (let i = 0; i < changes.length; i++) {
    const c: unknown = changes[i];
    if (typeof c !== 'object' || c === null) throw new OtrArgumentError('a change must be an object');
    const { key, generation, bytes } = c as RecordChange;
    checkName(key, 'record key', limits);
    if (seen !== undefined) {
      if (seen.has(key)) throw new OtrArgumentError(`record ${JSON.stringify(key)} appears twice in one commit`);
      seen.add(key);
    }
    // A delete names the generation after the one it expects, so the record at the last safe generation (a row
    // a database writer set there: forget() must still remove it) is deleted at 2^53, exact in a double.
    if (!isGeneration(generation) && !(bytes === null && generation === LAST_DELETE))
      throw new OtrArgumentError(`generation of ${JSON.stringify(key)} must be a positive safe integer`);
    if (bytes === null && generation === 1)
      throw new OtrArgumentError(`deleting ${JSON.stringify(key)} at generation 1 deletes nothing (a delete expects the record to exist)`);
    if (bytes !== null) {
      if (!(bytes instanceof Uint8Array)) throw new OtrArgumentError(`bytes of ${JSON.stringify(key)} must be a Uint8Array or null`);
      // A view of a transferred buffer reads as empty but is no empty record, and copying it throws a bare
      // TypeError (attacks/s14-review-detached-rows).
      if (bytes.length === 0 && isDetached(bytes)) throw new OtrArgumentError(`bytes of ${JSON.stringify(key)} were transferred away (a detached buffer)`);
      if (bytes.length > limits.maxRecordBytes)
        throw new OtrLimitError(`record ${JSON.stringify(key)} of ${bytes.length} bytes exceeds maxRecordBytes (${limits.maxRecordBytes})`);
    }
  }
  return changes as readonly RecordChange[];
}

/**
 * Turns what a database returned into a StoredRecord, refusing anything a hostile disk could put there.
 * `generation` must come back as a number or a bigint (a text column goes through generationFromText first).
 * `size` is the byte length the database reported before the bytes were fetched (stores ask for it first so
 * that an oversized row is never read into memory); `bytes` is undefined when the store did not fetch them.
 */
export function checkRow(key: string, generation: unknown, size: unknown, bytes: unknown, limits: StoreLimits): StoredRecord {
  const name = JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}...` : key);
  let g: unknown = generation;
  if (typeof g === 'bigint') g = g <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(g) : NaN;
  if (!isGeneration(g)) throw new OtrDecodeError(`stored record ${name} has an invalid generation`);
  if (typeof size === 'bigint') size = Number(size);
  if (typeof size === 'string') size = Number(size);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new OtrDecodeError(`stored record ${name} has no byte content`);
  if (size > limits.maxRecordBytes)
    throw new OtrLimitError(`stored record ${name} of ${size} bytes exceeds maxRecordBytes (${limits.maxRecordBytes})`);
  if (!(bytes instanceof Uint8Array) || bytes.length !== size) throw new OtrDecodeError(`stored record ${name} has no byte content`);
  // A copy in a plain Uint8Array: never hand out a database driver's Buffer (pooled, shared memory).
  return { key, generation: g, bytes: new Uint8Array(bytes) };
}

/** A generation a database returned as decimal text (pg's BIGINT): the bigint, or undefined if not canonical. */
export function generationFromText(s: unknown): bigint | undefined {
  return typeof s === 'string' && /^[1-9][0-9]{0,18}$/.test(s) ? BigInt(s) : undefined;
}

/** Refuses a listing of more keys than an account may hold (a hostile table must not exhaust memory). */
export function checkKeyCount(n: number, limits: StoreLimits): void {
  if (n > limits.maxRecordsPerAccount)
    throw new OtrLimitError(`the account has more than maxRecordsPerAccount (${limits.maxRecordsPerAccount}) records`);
}

/** A key listed by a database: a hostile table may hold anything in that column. */
export function checkStoredKey(key: unknown, limits: StoreLimits): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > limits.maxRecordKeyBytes || utf8Length(key) > limits.maxRecordKeyBytes)
    throw new OtrDecodeError('a stored record key is empty, not text or longer than maxRecordKeyBytes');
  return key;
}

/** The generation a change expects the store to hold (0: the record must not exist). */
export function expectedGeneration(change: RecordChange): number {
  return change.generation - 1;
}

/**
 * The one conflict error every store throws, so the message reads the same whatever the database. `found` is
 * the generation the store holds (0: no record) when the store knows it cheaply, undefined otherwise.
 */
export function conflict(change: RecordChange, found?: number): OtrStoreConflictError {
  const expected = expectedGeneration(change);
  const holds = found === undefined ? 'another state' : found === 0 ? 'no such record' : `generation ${found}`;
  return new OtrStoreConflictError(
    change.key,
    `cannot ${change.bytes === null ? 'delete' : 'write'} record ${JSON.stringify(change.key)} at generation ${change.generation}: ` +
      `expected the store to hold ${expected === 0 ? 'no such record' : `generation ${expected}`}, it holds ${holds} ` +
      `(another writer or a stale copy saved first)`,
  );
}

/** How many records a commit adds (creations minus deletions), given which keys exist now. */
export function netNewRecords(changes: readonly RecordChange[], exists: (key: string) => boolean): number {
  let n = 0;
  for (const c of changes) {
    if (c.bytes !== null && !exists(c.key)) n++;
    else if (c.bytes === null && exists(c.key)) n--;
  }
  return n;
}

/** Whether `b` views a detached (transferred) buffer: slice() validates its buffer, length and subarray() do not. */
function isDetached(b: Uint8Array): boolean {
  try {
    b.slice(0, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * Zeroes the bytes of every change (rows a store or the caller owns and does not keep). Rows already
 * transferred to another thread are detached, hold nothing here and are skipped (fill() would throw on them).
 */
export function wipeRows(changes: readonly RecordChange[]): void {
  for (let i = 0; i < changes.length; i++) {
    const bytes = changes[i]!.bytes;
    if (bytes !== null && bytes.byteLength > 0) bytes.fill(0);
  }
}

/** The changes with their bytes copied: for stores whose writes happen after an await. */
export function ownCopy(changes: readonly RecordChange[]): RecordChange[] {
  return changes.map((c) => ({ key: c.key, generation: c.generation, bytes: c.bytes && copyBytes(c.bytes) }));
}
