/**
 * The persistence format: a small, strict, self-describing binary encoding for plain-data state (the
 * ratchet, DAKE, SMP and conversation states are plain objects of numbers, strings, booleans, bigints,
 * byte arrays, arrays and records — no classes, no closures), wrapped in a versioned envelope.
 *
 *   envelope = "OTR4STATE" || BYTE format version || DATA(kind) || value
 *   value    = BYTE tag || body
 *     0x00 null | 0x01 false | 0x02 true | 0x03 number (8-byte IEEE-754 BE) | 0x04 string (DATA, UTF-8)
 *     0x05 bytes (DATA) | 0x06 bigint (BYTE sign, DATA magnitude BE) | 0x07 array (INT n, n values)
 *     0x08 record (INT n, n × (DATA key UTF-8, value)), keys sorted so equal states encode equally
 *
 * Built on the wire codec's Reader/Writer, so truncation and oversized fields raise OtrDecodeError; nesting
 * depth, element counts and total size are bounded (limits.ts maxStateBytes), so a corrupt or hostile
 * state file cannot exhaust memory or the stack. Semantic validation is the job of each layer's restore.
 */
import { Reader, Writer } from '../codec/primitives.js';
import { OtrDecodeError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { bytesToBigBE, copyBytes, equalBytes, fromUtf8, utf8 } from '../bytes.js';

export type StateValue =
  | null
  | boolean
  | number
  | string
  | bigint
  | Uint8Array
  | readonly StateValue[]
  | { readonly [key: string]: StateValue | undefined };

const MAGIC = utf8('OTR4STATE');
export const STATE_FORMAT_VERSION = 1;
const MAX_DEPTH = 32;

const enum Tag {
  Null = 0,
  False = 1,
  True = 2,
  Number = 3,
  String = 4,
  Bytes = 5,
  BigInt = 6,
  Array = 7,
  Record = 8,
}

// Every call of a conversation re-encodes its record (ts/session/records.ts), so the encoder's per-value costs
// are on the per-message path: one scratch for numbers (Writer.raw copies it), and record keys — field names,
// a small fixed set — UTF-8 encoded once. The cache is bounded: keys that are data (none today) cannot grow it.
const NUMBER_BYTES = new Uint8Array(8);
const NUMBER_VIEW = new DataView(NUMBER_BYTES.buffer);
const KEY_CACHE = new Map<string, Uint8Array>();
const KEY_CACHE_MAX = 1024;

/** A key as written in a record: DATA (INT length, UTF-8). */
function keyBytes(k: string): Uint8Array {
  let b = KEY_CACHE.get(k);
  if (b === undefined) {
    const u = utf8(k);
    b = new Uint8Array(4 + u.length);
    new DataView(b.buffer).setUint32(0, u.length);
    b.set(u, 4);
    if (KEY_CACHE.size < KEY_CACHE_MAX) KEY_CACHE.set(k, b);
  }
  return b;
}

/**
 * The sorted order of a record's keys, by shape: the states encoded are the same few object shapes again
 * and again (a ratchet, an instance, a key pair...), whose Object.keys come in the same order each time, so
 * the sort and the keys' encodings are looked up (by first key, checked key by key) instead of redone.
 */
interface KeyOrder {
  readonly keys: readonly string[];
  /** Indexes into `keys`, in sorted key order. */
  readonly order: readonly number[];
  /** Each sorted key as written (keyBytes). */
  readonly written: readonly Uint8Array[];
}
const ORDER_CACHE = new Map<string, KeyOrder[]>();
let orderCount = 0;
const ORDER_CACHE_MAX = 256;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function keyOrder(keys: string[]): KeyOrder {
  const first = keys.length > 0 ? keys[0]! : '';
  const known = ORDER_CACHE.get(first);
  if (known) for (const o of known) if (sameKeys(o.keys, keys)) return o;
  // Same comparison as keys.sort(): UTF-16 code units.
  const order = keys.map((_, i) => i).sort((x, y) => (keys[x]! < keys[y]! ? -1 : keys[x]! > keys[y]! ? 1 : 0));
  const o: KeyOrder = { keys, order, written: order.map((i) => keyBytes(keys[i]!)) };
  if (orderCount < ORDER_CACHE_MAX) {
    orderCount++;
    if (known) known.push(o);
    else ORDER_CACHE.set(first, [o]);
  }
  return o;
}

function writeValue(w: Writer, v: StateValue | undefined, depth: number): void {
  if (depth > MAX_DEPTH) throw new OtrDecodeError('state nested too deeply', 'INVALID_ARGUMENT');
  if (v === null || v === undefined) w.byte(Tag.Null);
  else if (v === false) w.byte(Tag.False);
  else if (v === true) w.byte(Tag.True);
  else if (typeof v === 'number') {
    NUMBER_VIEW.setFloat64(0, v);
    w.byte(Tag.Number).raw(NUMBER_BYTES);
  } else if (typeof v === 'string') w.byte(Tag.String).utf8Data(v);
  else if (typeof v === 'bigint') {
    const neg = v < 0n;
    let hex = (neg ? -v : v).toString(16);
    if (hex.length % 2) hex = '0' + hex;
    const mag = hex === '00' ? new Uint8Array(0) : Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
    w.byte(Tag.BigInt).byte(neg ? 1 : 0).data(mag);
  } else if (v instanceof Uint8Array) w.byte(Tag.Bytes).data(v);
  else if (Array.isArray(v)) {
    w.byte(Tag.Array).int(v.length);
    for (let i = 0; i < v.length; i++) writeValue(w, v[i], depth + 1);
  } else if (typeof v === 'object') {
    // Sorted so equal states encode equally; fields holding undefined are left out (not counted).
    const r = v as Record<string, StateValue | undefined>;
    const keys = Object.keys(r);
    const o = keyOrder(keys);
    let n = 0;
    for (let i = 0; i < keys.length; i++) if (r[keys[i]!] !== undefined) n++;
    w.byte(Tag.Record).int(n);
    for (let i = 0; i < o.order.length; i++) {
      const x = r[keys[o.order[i]!]!];
      if (x === undefined) continue;
      w.raw(o.written[i]!);
      writeValue(w, x, depth + 1);
    }
  } else throw new OtrDecodeError(`cannot persist a value of type ${typeof v}`, 'INVALID_ARGUMENT');
}

/** A DATA field holding UTF-8; invalid UTF-8 is a decode error like any other. */
function readUtf8(r: Reader, what: string, max?: number): string {
  const raw = r.data(what, max);
  try {
    return fromUtf8(raw);
  } catch {
    throw new OtrDecodeError(`invalid UTF-8 in state ${what}`);
  }
}

function readValue(r: Reader, depth: number): StateValue {
  if (depth > MAX_DEPTH) throw new OtrDecodeError('state nested too deeply');
  const tag = r.byte();
  switch (tag) {
    case Tag.Null:
      return null;
    case Tag.False:
      return false;
    case Tag.True:
      return true;
    case Tag.Number:
      return new DataView(r.raw(8).buffer).getFloat64(0);
    case Tag.String:
      return readUtf8(r, 'string');
    case Tag.Bytes:
      return r.data('bytes');
    case Tag.BigInt: {
      const sign = r.byte();
      if (sign > 1) throw new OtrDecodeError('bad bigint sign');
      // In one linear step: a byte at a time, `(n << 8n) | b` copied the growing number each time — quadratic in
      // a length only the record's bytes bound (a hostile 256 KiB magnitude: 35 s of CPU; attacks/s16-review2-state-bigint).
      const n = bytesToBigBE(r.data('bigint'));
      return sign ? -n : n;
    }
    case Tag.Array: {
      const n = r.int();
      if (n > r.remaining) throw new OtrDecodeError('array length exceeds the state size');
      const out: StateValue[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(r, depth + 1));
      return out;
    }
    case Tag.Record: {
      const n = r.int();
      if (n > r.remaining) throw new OtrDecodeError('record size exceeds the state size');
      const out: Record<string, StateValue> = {};
      for (let i = 0; i < n; i++) {
        const key = readUtf8(r, 'key', 256);
        if (key === '__proto__' || Object.prototype.hasOwnProperty.call(out, key))
          throw new OtrDecodeError('duplicate or reserved key in state record');
        out[key] = readValue(r, depth + 1);
      }
      return out;
    }
    default:
      throw new OtrDecodeError(`unknown state tag ${tag}`);
  }
}

// The encoder's one writer, reused (a fresh 4 KiB buffer per call cost more than the encoding), in secret mode
// and cleared after each use, so no state is left in it between calls. One grown past SCRATCH_KEEP by a large
// state (a whole account) is dropped rather than kept. SCRATCH_KEEP covers a conversation record at the
// MAC-key queue's bound (1,000 keys: ~67 KB, the receiver of a one-way stream writes one per message): at
// 64 KiB that writer was dropped after every call and grown again from 4 KiB (five doublings, ~250 KB
// allocated, copied and wiped per message).
const SCRATCH_KEEP = 256 * 1024;
let scratch: Writer | undefined = new Writer(4096, true);

/**
 * Encodes `value` under a `kind` label and hands `use` a view of the encoding, valid only during the call: the
 * bytes are zeroed when `use` returns. For a caller that compares the encoding before keeping it (a record
 * that did not change is not copied at all); `use` must copy what it keeps.
 */
export function withEncodedState<T>(kind: string, value: StateValue, use: (encoded: Uint8Array) => T): T {
  return withWrittenState(kind, (w) => writeValue(w, value, 0), use);
}

/**
 * As withEncodedState, for a value written by `write` (with the put* writers and `schema` below) rather than
 * built first: the per-call conversation record (ts/session/records.ts), whose bytes must be exactly those of
 * encoding the value toState() builds — the tests pin that (test/session-record-bytes.test.ts).
 */
export function withWrittenState<T>(kind: string, write: (w: Writer) => void, use: (encoded: Uint8Array) => T): T {
  const w = scratch ?? new Writer(4096, true);
  scratch = undefined;
  try {
    w.raw(MAGIC).byte(STATE_FORMAT_VERSION).utf8Data(kind);
    write(w);
    return use(w.view());
  } finally {
    w.clear();
    if (w.capacity <= SCRATCH_KEEP) scratch = w;
  }
}

// Writers of single values, each writing what writeValue writes for that value: for encoders that write a
// known shape directly (no intermediate value, no key sorting at run time).
export const putNull = (w: Writer): void => void w.byte(Tag.Null);
export const putBoolean = (w: Writer, v: boolean): void => void w.byte(v ? Tag.True : Tag.False);
export function putNumber(w: Writer, v: number): void {
  NUMBER_VIEW.setFloat64(0, v);
  w.byte(Tag.Number).raw(NUMBER_BYTES);
}
export const putString = (w: Writer, v: string): void => void w.byte(Tag.String).utf8Data(v);
export const putBytes = (w: Writer, v: Uint8Array): void => void w.byte(Tag.Bytes).data(v);
/** Bytes, or null as the value toState() builds holds null. */
export const putOptionalBytes = (w: Writer, v: Uint8Array | null): void => (v === null ? putNull(w) : putBytes(w, v));
export function putArray<T>(w: Writer, items: readonly T[], each: (w: Writer, item: T) => void): void {
  w.byte(Tag.Array).int(items.length);
  for (let i = 0; i < items.length; i++) each(w, items[i]!);
}
/** An array of the `count` items `items` yields (a Map's values, without copying them into an array first). */
export function putIterable<T>(w: Writer, count: number, items: Iterable<T>, each: (w: Writer, item: T) => void): void {
  w.byte(Tag.Array).int(count);
  let n = 0;
  for (const item of items) {
    each(w, item);
    n++;
  }
  if (n !== count) throw new OtrDecodeError('state: an array changed size while written', 'INVALID_ARGUMENT');
}
/** Any value, by the generic encoder (for the rare or small parts of a shape written directly). */
export const putValue = (w: Writer, v: StateValue): void => writeValue(w, v, 1);

/**
 * The encoding of a constant value, made once (for a value written often, such as an idle DAKE): written
 * with putEncoded. Never for values holding secrets (the bytes are kept).
 */
export function encodeConstant(v: StateValue): Uint8Array {
  const w = new Writer(64);
  writeValue(w, v, 1);
  return w.finish();
}
export const putEncoded = (w: Writer, encoded: Uint8Array): void => void w.raw(encoded);

/**
 * A writer for records of one fixed shape: `fields` maps each key to the writer of its value (every field is
 * always written, as a record whose values are never undefined). Keys are sorted and encoded once, here, in
 * the order writeValue sorts them, so the bytes are those of the equivalent plain record.
 */
export function schema<T>(fields: Readonly<Record<string, (w: Writer, v: T) => void>>): (w: Writer, v: T) => void {
  return schemaWithTail(fields, []).head; // no tail: the head writes the whole record
}

/**
 * `schema(fields)` cut in two before the fields named in `tailKeys`, which must be the last ones in key order:
 * `head` writes the record's start (its tag and field count, all fields counted) and every field before them,
 * `tail` writes them (key names included). head then tail writes exactly what the schema writes; a caller that
 * keeps a tail's bytes while its values stay the same writes head then those bytes (ts/session/persist.ts).
 */
export function schemaWithTail<T>(
  fields: Readonly<Record<string, (w: Writer, v: T) => void>>,
  tailKeys: readonly string[],
): { head: (w: Writer, v: T) => void; tail: (w: Writer, v: T) => void } {
  const names = Object.keys(fields);
  const order = keyOrder(names);
  const n = names.length;
  const cut = n - tailKeys.length;
  const sorted = order.order.map((i) => names[i]!);
  if (cut < 0 || tailKeys.some((k, i) => sorted[cut + i] !== k)) throw new Error(`schemaWithTail: ${tailKeys.join(', ')} are not the last fields in key order`);
  const written = order.written;
  const writers = order.order.map((i) => fields[names[i]!]!);
  return {
    head: (w, v) => {
      w.byte(Tag.Record).int(n);
      for (let i = 0; i < cut; i++) {
        w.raw(written[i]!);
        writers[i]!(w, v);
      }
    },
    tail: (w, v) => {
      for (let i = cut; i < n; i++) {
        w.raw(written[i]!);
        writers[i]!(w, v);
      }
    },
  };
}

/** Serialises `value` under a `kind` label ("conversation", "account", ...). */
export function encodeState(kind: string, value: StateValue): Uint8Array {
  // The state holds ratchet and long-term secrets: no copy of it is left behind in the writer's buffer.
  return withEncodedState(kind, value, copyBytes);
}

/** Parses an envelope written by encodeState; throws OtrDecodeError for anything else. */
export function decodeState(kind: string, bytes: Uint8Array, maxBytes = DEFAULT_LIMITS.maxStateBytes): StateValue {
  if (!(bytes instanceof Uint8Array)) throw new OtrDecodeError('state must be a Uint8Array', 'INVALID_ARGUMENT');
  if (bytes.length > maxBytes) throw new OtrDecodeError(`state of ${bytes.length} bytes exceeds the limit`);
  const r = new Reader(bytes, maxBytes);
  const magic = r.raw(MAGIC.length, 'magic');
  if (!equalBytes(magic, MAGIC)) throw new OtrDecodeError('not an otr4 state');
  const version = r.byte();
  if (version !== STATE_FORMAT_VERSION) throw new OtrDecodeError(`unsupported state format version ${version}`);
  const k = readUtf8(r, 'kind', 64);
  if (k !== kind) throw new OtrDecodeError(`state holds a ${k}, not a ${kind}`);
  const v = readValue(r, 0);
  r.end('state');
  return v;
}

/**
 * Typed readers for restore(): each checks the shape of a decoded value and throws OtrDecodeError naming
 * the field, so a state that decodes but has the wrong shape never produces a half-built object.
 */
export const expect = {
  record(v: StateValue | undefined, what: string): Record<string, StateValue | undefined> {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array || Array.isArray(v))
      throw new OtrDecodeError(`state: ${what} must be a record`);
    return v as Record<string, StateValue | undefined>;
  },
  array(v: StateValue | undefined, what: string, max = Infinity): readonly StateValue[] {
    if (!Array.isArray(v)) throw new OtrDecodeError(`state: ${what} must be an array`);
    if (v.length > max) throw new OtrDecodeError(`state: ${what} has too many entries`);
    return v;
  },
  bytes(v: StateValue | undefined, what: string, length?: number): Uint8Array {
    if (!(v instanceof Uint8Array)) throw new OtrDecodeError(`state: ${what} must be bytes`);
    if (length !== undefined && v.length !== length) throw new OtrDecodeError(`state: ${what} must be ${length} bytes`);
    return v;
  },
  optionalBytes(v: StateValue | undefined, what: string, length?: number): Uint8Array | undefined {
    return v === null || v === undefined ? undefined : expect.bytes(v, what, length);
  },
  uint(v: StateValue | undefined, what: string, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
      throw new OtrDecodeError(`state: ${what} must be an integer in [0, ${max}]`);
    return v;
  },
  number(v: StateValue | undefined, what: string): number {
    if (typeof v !== 'number' || Number.isNaN(v)) throw new OtrDecodeError(`state: ${what} must be a number`);
    return v;
  },
  string(v: StateValue | undefined, what: string, allowed?: readonly string[]): string {
    if (typeof v !== 'string') throw new OtrDecodeError(`state: ${what} must be a string`);
    if (allowed && !allowed.includes(v)) throw new OtrDecodeError(`state: ${what} has an unknown value`);
    return v;
  },
  boolean(v: StateValue | undefined, what: string): boolean {
    if (typeof v !== 'boolean') throw new OtrDecodeError(`state: ${what} must be a boolean`);
    return v;
  },
  bigint(v: StateValue | undefined, what: string): bigint {
    if (typeof v !== 'bigint') throw new OtrDecodeError(`state: ${what} must be a bigint`);
    return v;
  },
};
