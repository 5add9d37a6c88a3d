/**
 * Values read back from a database table (SQLite file, PostgreSQL server). The database is outside this
 * process: another program, a restore from a bad backup or an attacker with write access may have put
 * anything in a row. So every value is checked before it leaves the store, and a bad one is a typed error
 * (OtrLimitError when too large, OtrDecodeError otherwise) — never a TypeError, a wrong number or an
 * unbounded allocation. The size cap is applied in the query itself (`substr`/`substring` to cap + 1 bytes),
 * so a huge row is never read in full.
 */
import { OtrDecodeError, OtrLimitError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { StoreLimits } from './store.js';

/**
 * The largest encoding a store can hold: what one prekey-server message's base64 text decodes to at most.
 * Nothing the server accepted for storage was longer, so a longer row did not come from the server.
 */
export function storedBytesCap(limits: StoreLimits): number {
  return Math.floor(((limits.maxServerMessageChars ?? DEFAULT_LIMITS.maxServerMessageChars) * 3) / 4);
}

/** A BLOB/BYTEA value (Buffer from either driver), copied out, at most `cap` bytes. */
export function rowBytes(v: unknown, what: string, cap: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new OtrDecodeError(`stored ${what} is not bytes`);
  if (v.byteLength > cap) throw new OtrLimitError(`stored ${what} is larger than any the server accepts`);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

/** An INTEGER/BIGINT holding an instance tag or prekey id (uint32 on the wire); pg gives BIGINT as text. */
export function rowUint32(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'bigint' || (typeof v === 'string' && /^\d{1,10}$/.test(v)) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new OtrDecodeError(`stored ${what} is not a 32-bit unsigned integer`);
  return n;
}
