/**
 * The schema check of a restored v3 session state. The bytes themselves are the shared versioned state
 * encoding (ts/session/state-codec.ts, kind "otrv3"); this module checks that what it decoded has exactly
 * the state's shape, so restoring hostile bytes gives an OtrDecodeError, never a half-typed object.
 */
import { OtrDecodeError } from '../errors.js';

export type Schema =
  | 'num'
  | 'int'
  | 'big'
  | 'bytes'
  | 'str'
  | 'bool'
  | { lit: string | number }
  | { opt: Schema }
  | { arr: Schema; max: number }
  | { obj: Record<string, Schema> }
  | { union: Schema[] };

function matches(v: unknown, s: Schema): boolean {
  if (s === 'num') return typeof v === 'number' && Number.isFinite(v);
  if (s === 'int') return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  if (s === 'big') return typeof v === 'bigint';
  if (s === 'bytes') return v instanceof Uint8Array;
  if (s === 'str') return typeof v === 'string';
  if (s === 'bool') return typeof v === 'boolean';
  if ('lit' in s) return v === s.lit;
  if ('opt' in s) return v === null || matches(v, s.opt);
  if ('arr' in s) return Array.isArray(v) && v.length <= s.max && v.every((x) => matches(x, s.arr));
  if ('union' in s) return s.union.some((u) => matches(v, u));
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(s.obj);
  if (Object.keys(o).some((k) => !keys.includes(k))) return false;
  return keys.every((k) => matches(o[k] ?? null, s.obj[k]!));
}

/** Throws OtrDecodeError unless `v` has the shape `s`. */
export function checkSchema<T>(v: unknown, s: Schema, what: string): T {
  if (!matches(v, s)) throw new OtrDecodeError(`${what} does not have the expected shape`);
  return v as T;
}
