/**
 * Versioned binary persistence of the v3 session state. The state is plain data (numbers, bigints, strings,
 * byte arrays, arrays, records, null, booleans), so it is written with one small tagged encoder built on the
 * wire codecs, and read back with a depth and size bound and then checked against the state's schema: restoring
 * hostile bytes gives an OtrDecodeError, never a half-typed object.
 *
 * Layout: "OTR3S" ‖ BYTE format version ‖ tagged value.
 */
import { bigToBytesBE, bytesToBigBE, fromUtf8, utf8 } from '../bytes.js';
import { Reader, Writer } from '../codec/primitives.js';
import { OtrDecodeError, OtrLimitError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';

const MAGIC = utf8('OTR3S');
export const STATE_FORMAT_VERSION = 1;
const MAX_DEPTH = 24;

const enum T {
  Null = 0,
  False = 1,
  True = 2,
  Num = 3,
  BigPos = 4,
  BigNeg = 5,
  Str = 6,
  Bytes = 7,
  Arr = 8,
  Obj = 9,
}

function put(w: Writer, v: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new OtrLimitError('state nested too deeply');
  if (v === null || v === undefined) w.byte(T.Null);
  else if (v === false) w.byte(T.False);
  else if (v === true) w.byte(T.True);
  else if (typeof v === 'number') {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v);
    w.byte(T.Num).raw(b);
  } else if (typeof v === 'bigint') w.byte(v < 0n ? T.BigNeg : T.BigPos).data(v === 0n ? new Uint8Array(0) : bigToBytesBE(v < 0n ? -v : v));
  else if (typeof v === 'string') w.byte(T.Str).data(utf8(v));
  else if (v instanceof Uint8Array) w.byte(T.Bytes).data(v);
  else if (Array.isArray(v)) {
    w.byte(T.Arr).int(v.length);
    for (const x of v) put(w, x, depth + 1);
  } else if (typeof v === 'object') {
    const keys = Object.keys(v as object)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort();
    w.byte(T.Obj).int(keys.length);
    for (const k of keys) {
      w.data(utf8(k));
      put(w, (v as Record<string, unknown>)[k], depth + 1);
    }
  } else throw new OtrDecodeError(`cannot persist a ${typeof v}`, 'INVALID_ARGUMENT');
}

function get(r: Reader, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new OtrDecodeError('state nested too deeply');
  const tag = r.byte();
  switch (tag) {
    case T.Null:
      return null;
    case T.False:
      return false;
    case T.True:
      return true;
    case T.Num:
      return new DataView(r.raw(8).buffer).getFloat64(0);
    case T.BigPos:
      return bytesToBigBE(r.data('bigint'));
    case T.BigNeg:
      return -bytesToBigBE(r.data('bigint'));
    case T.Str:
      try {
        return fromUtf8(r.data('string'));
      } catch {
        throw new OtrDecodeError('invalid UTF-8 in state');
      }
    case T.Bytes:
      return r.data('bytes');
    case T.Arr: {
      const n = r.int();
      if (n > r.remaining) throw new OtrDecodeError('array longer than the state');
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(get(r, depth + 1));
      return out;
    }
    case T.Obj: {
      const n = r.int();
      if (n > r.remaining) throw new OtrDecodeError('record longer than the state');
      const out: Record<string, unknown> = Object.create(null);
      for (let i = 0; i < n; i++) {
        let k: string;
        try {
          k = fromUtf8(r.data('key', 64));
        } catch (e) {
          if (e instanceof OtrDecodeError) throw e;
          throw new OtrDecodeError('invalid UTF-8 in state key');
        }
        if (k in out) throw new OtrDecodeError('duplicate key in state');
        out[k] = get(r, depth + 1);
      }
      return { ...out };
    }
    default:
      throw new OtrDecodeError(`unknown state tag ${tag}`);
  }
}

export function encodeState(v: unknown): Uint8Array {
  const w = new Writer(4096).raw(MAGIC).byte(STATE_FORMAT_VERSION);
  put(w, v, 0);
  return w.finish();
}

export function decodeState(bytes: Uint8Array, maxBytes: number = DEFAULT_LIMITS.maxStateBytes): unknown {
  if (!(bytes instanceof Uint8Array)) throw new OtrDecodeError('state must be a Uint8Array', 'INVALID_ARGUMENT');
  if (bytes.length > maxBytes) throw new OtrLimitError('serialised state larger than maxStateBytes');
  const r = new Reader(bytes, maxBytes);
  const magic = r.raw(MAGIC.length, 'magic');
  if (!magic.every((b, i) => b === MAGIC[i])) throw new OtrDecodeError('not a serialised OTRv3 state');
  const version = r.byte();
  if (version !== STATE_FORMAT_VERSION) throw new OtrDecodeError(`unsupported state format version ${version}`);
  const v = get(r, 0);
  r.end('state');
  return v;
}

// ---- schema check ----

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
