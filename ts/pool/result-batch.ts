/**
 * A worker's answer to a batch, packed (session 12): the results of the usual calls — a conversation call whose
 * Outcome has no events (a data message sent or received: nearly every call of a bridge) — travel as bytes in
 * one ArrayBuffer per batch, transferred, and the main thread builds the same `Outcome` objects from them; any
 * other result (an error, an Outcome with events, account operations) travels structured-cloned beside it, as
 * before.
 *
 * Why: the main thread of a pool only routes and settles, and what it allocates per call is what its young
 * collections copy and promote while calls are in flight (docs/pool.md, sessions 10–12). A structured clone
 * of an Outcome builds its object graph through V8's generic deserializer and gives every changed record its
 * own ArrayBuffer (each a backing store that the collectors must track and free); here a record's bytes are a
 * view into the batch's one buffer, and each object is made once, in its final shape.
 *
 * The bytes come from another thread of this process, but they are still input: `unpackResults` checks every
 * tag, length, count and number against the bytes it has and refuses anything else with OtrDecodeError (the
 * pool then treats the worker as broken: slot.ts), never a bare exception, never a read past the buffer.
 *
 * Layout (little-endian): u32 count, then per call one tag byte — 0: the result is `results[i]` (structured);
 * 1: an Outcome —
 *   u32 n, n × string                                       toSend
 *   u32 n, n × (string text, u8 flags, u32 instance)        messages; flags: 1 encrypted, 2 version 4, 4 version 3
 *   u32 n, n × (string key, f64 generation, i32 length, bytes)   changed; length −1: bytes null (a deletion)
 * A string is u8 kind (0: one byte per character, 1: UTF-16LE code units, so any string comes back exactly,
 * lone surrogates included), u32 byte length, the bytes.
 */
import { Buffer } from 'node:buffer';
import { OtrDecodeError } from '../errors.js';
import type { Outcome, ReceivedMessage } from '../session/events.js';
import type { RecordChange } from '../store/types.js';
import type { CallResult } from './protocol.js';

const STRUCTURED = 0;
const OUTCOME = 1;
const ENCRYPTED = 1;
const V4 = 2;
const V3 = 4;
const LATIN1 = 0;
const UTF16 = 1;

/** The keys an Outcome may have to be packed (anything else: structured, so nothing is lost). */
const OUTCOME_KEYS = 4;

/**
 * Whether `value` is an Outcome this format carries exactly: the four arrays of an Outcome and nothing else,
 * no events (their many shapes go structured), every message of ReceivedMessage's shape, every change a
 * record change. Checked in the worker, so the main thread never rebuilds something else than was sent.
 */
export function packable(value: unknown): value is Outcome & { changed: RecordChange[] } {
  if (value === null || typeof value !== 'object') return false;
  const o = value as Outcome;
  let keys = 0;
  for (const _ in o) keys++;
  if (keys !== OUTCOME_KEYS || !Array.isArray(o.toSend) || !Array.isArray(o.messages) || !Array.isArray(o.events) || !Array.isArray(o.changed)) return false;
  if (o.events.length !== 0) return false;
  for (let i = 0; i < o.toSend.length; i++) if (typeof o.toSend[i] !== 'string') return false;
  for (let i = 0; i < o.messages.length; i++) {
    const m = o.messages[i] as ReceivedMessage;
    if (m === null || typeof m !== 'object' || typeof m.text !== 'string' || typeof m.encrypted !== 'boolean') return false;
    if (!Number.isInteger(m.instance) || m.instance < 0 || m.instance > 0xffffffff) return false;
    let n = 0;
    for (const _ in m) n++;
    if (n !== ('version' in m ? 4 : 3) || ('version' in m && m.version !== 3 && m.version !== 4)) return false;
  }
  for (let i = 0; i < o.changed.length; i++) {
    const c = o.changed[i]!;
    if (c === null || typeof c !== 'object' || typeof c.key !== 'string' || !Number.isSafeInteger(c.generation)) return false;
    if (c.bytes !== null && !(c.bytes instanceof Uint8Array)) return false;
  }
  return true;
}

/** Whether the string is all ASCII (then one byte per character): Buffer's native scan, no copy. */
function oneByte(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') === s.length;
}

function stringSize(s: string): number {
  return 5 + (oneByte(s) ? s.length : 2 * s.length);
}

function outcomeSize(o: Outcome & { changed: RecordChange[] }): number {
  let n = 12;
  for (const s of o.toSend) n += stringSize(s);
  for (const m of o.messages) n += stringSize(m.text) + 5;
  for (const c of o.changed) n += stringSize(c.key) + 12 + (c.bytes ? c.bytes.length : 0);
  return n;
}

/**
 * Packs a batch's results: `outcomes[i]` set (a packable Outcome, see `packable`) packs call i; otherwise call
 * i's result is `structured[i]`, sent beside. Returns the buffer (to transfer) and the structured array, null
 * where packed.
 */
export function packResults(results: readonly (CallResult | undefined)[], outcomes: readonly (Outcome | undefined)[]): { packed: ArrayBuffer; structured: (CallResult | null)[] } {
  let size = 4;
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i];
    size += 1 + (o ? outcomeSize(o as Outcome & { changed: RecordChange[] }) : 0);
  }
  const packed = new ArrayBuffer(size);
  const w = new Writer(packed);
  const structured: (CallResult | null)[] = [];
  w.u32(outcomes.length);
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i] as (Outcome & { changed: RecordChange[] }) | undefined;
    if (!o) {
      w.u8(STRUCTURED);
      structured.push(results[i] ?? null);
      continue;
    }
    structured.push(null);
    w.u8(OUTCOME);
    w.u32(o.toSend.length);
    for (const s of o.toSend) w.str(s);
    w.u32(o.messages.length);
    for (const m of o.messages) {
      w.str(m.text);
      w.u8((m.encrypted ? ENCRYPTED : 0) | (m.version === 4 ? V4 : m.version === 3 ? V3 : 0));
      w.u32(m.instance);
    }
    w.u32(o.changed.length);
    for (const c of o.changed) {
      w.str(c.key);
      w.f64(c.generation);
      if (c.bytes === null) w.i32(-1);
      else {
        w.i32(c.bytes.length);
        w.bytes(c.bytes);
      }
    }
  }
  if (w.at !== size) throw new Error('packResults: size mismatch'); // a bug here, caught by the worker's fallback
  return { packed, structured };
}

class Writer {
  at = 0;
  private readonly view: DataView;
  private readonly buf: Buffer;
  constructor(ab: ArrayBuffer) {
    this.view = new DataView(ab);
    this.buf = Buffer.from(ab);
  }
  u8(x: number): void {
    this.view.setUint8(this.at++, x);
  }
  u32(x: number): void {
    this.view.setUint32(this.at, x, true);
    this.at += 4;
  }
  i32(x: number): void {
    this.view.setInt32(this.at, x, true);
    this.at += 4;
  }
  f64(x: number): void {
    this.view.setFloat64(this.at, x, true);
    this.at += 8;
  }
  str(s: string): void {
    const one = oneByte(s);
    this.u8(one ? LATIN1 : UTF16);
    const n = one ? s.length : 2 * s.length;
    this.u32(n);
    if (n > 0) this.buf.write(s, this.at, n, one ? 'latin1' : 'utf16le');
    this.at += n;
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.at);
    this.at += b.length;
  }
}

/**
 * The results of a batch of `calls` calls from the worker's answer: packed Outcomes rebuilt (records' bytes are
 * views into `packed`), the others taken from `structured`. Throws OtrDecodeError on anything malformed.
 */
export function unpackResults(packed: unknown, structured: unknown, calls: number): CallResult[] {
  if (!(packed instanceof ArrayBuffer)) throw new OtrDecodeError('pool batch: no packed results');
  if (!Array.isArray(structured) || structured.length !== calls) throw new OtrDecodeError('pool batch: structured results do not match the calls');
  const r = new Reader(packed);
  if (r.u32() !== calls) throw new OtrDecodeError('pool batch: result count does not match the calls');
  const out = sized<CallResult>(calls);
  for (let i = 0; i < calls; i++) {
    const tag = r.u8();
    const s: unknown = structured[i];
    if (tag === STRUCTURED) {
      if (s === null || typeof s !== 'object' || typeof (s as CallResult).ok !== 'boolean') throw new OtrDecodeError('pool batch: a structured result is missing');
      out[i] = s as CallResult;
      continue;
    }
    if (tag !== OUTCOME || s !== null) throw new OtrDecodeError('pool batch: unknown result tag');
    // Arrays made at their final length: `[]` grown by push() would reserve room for 16 elements each.
    const toSend = sized<string>(r.count(5));
    for (let j = 0; j < toSend.length; j++) toSend[j] = r.str();
    const messages = sized<ReceivedMessage>(r.count(10));
    for (let j = 0; j < messages.length; j++) {
      const text = r.str();
      const flags = r.u8();
      const instance = r.u32();
      if (flags > (ENCRYPTED | V4) && flags !== V3 && flags !== (ENCRYPTED | V3)) throw new OtrDecodeError('pool batch: bad message flags');
      const encrypted = (flags & ENCRYPTED) !== 0;
      messages[j] = flags & V4 ? { text, encrypted, instance, version: 4 } : flags & V3 ? { text, encrypted, instance, version: 3 } : { text, encrypted, instance };
    }
    const changed = sized<RecordChange>(r.count(17));
    for (let j = 0; j < changed.length; j++) {
      const key = r.str();
      const generation = r.f64();
      if (!Number.isSafeInteger(generation)) throw new OtrDecodeError('pool batch: bad record generation');
      const len = r.i32();
      changed[j] = { key, generation, bytes: len === -1 ? null : r.view(len) };
    }
    out[i] = outcomeResult({ toSend, messages, events: [], changed });
  }
  if (!r.done) throw new OtrDecodeError('pool batch: trailing bytes');
  return out;
}

/**
 * The CallResult of a conversation call's Outcome, as the main thread settles it: its changed records named
 * beside it (`records`, the pool's reload point and the persistence hook's input) when there are any.
 */
export function outcomeResult(value: Outcome): CallResult {
  const changed = value.changed as RecordChange[];
  return changed.length > 0 ? { ok: true, value, records: changed } : { ok: true, value };
}

/** An array of `n` elements to be filled in (the empty one shares V8's empty backing store). */
function sized<T>(n: number): T[] {
  return n === 0 ? [] : new Array<T>(n);
}

class Reader {
  private at = 0;
  private readonly dv: DataView;
  private readonly buf: Buffer;
  constructor(private readonly ab: ArrayBuffer) {
    this.dv = new DataView(ab);
    this.buf = Buffer.from(ab);
  }
  get done(): boolean {
    return this.at === this.ab.byteLength;
  }
  private need(n: number): number {
    const at = this.at;
    if (n < 0 || n > this.ab.byteLength - at) throw new OtrDecodeError('pool batch: truncated');
    this.at = at + n;
    return at;
  }
  u8(): number {
    return this.dv.getUint8(this.need(1));
  }
  u32(): number {
    return this.dv.getUint32(this.need(4), true);
  }
  i32(): number {
    return this.dv.getInt32(this.need(4), true);
  }
  f64(): number {
    return this.dv.getFloat64(this.need(8), true);
  }
  /** A count of items that take at least `min` bytes each: refused when the rest cannot hold them. */
  count(min: number): number {
    const n = this.u32();
    if (n * min > this.ab.byteLength - this.at) throw new OtrDecodeError('pool batch: count exceeds the bytes');
    return n;
  }
  str(): string {
    const kind = this.u8();
    const n = this.u32();
    if (kind !== LATIN1 && (kind !== UTF16 || n % 2 !== 0)) throw new OtrDecodeError('pool batch: bad string');
    const at = this.need(n);
    return this.buf.toString(kind === LATIN1 ? 'latin1' : 'utf16le', at, at + n);
  }
  view(n: number): Uint8Array {
    return new Uint8Array(this.ab, this.need(n), n);
  }
}
