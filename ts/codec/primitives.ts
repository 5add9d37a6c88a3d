/**
 * OTRv4 primitive encodings (otrv4.md §Data Types; interpretations.md §1): BYTE, SHORT, INT, LONG, DATA, MPI,
 * POINT, SCALAR, fixed byte strings. `Writer` builds messages; `Reader` decodes them and throws
 * `OtrDecodeError` on anything truncated, oversized or malformed — never a RangeError from a DataView.
 * Every variable-length field is bounded by a limit, so hostile lengths cannot make us allocate.
 */
import { OtrDecodeError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';

export const POINT_BYTES = 57;
const UTF8 = new TextEncoder();
export const SCALAR_BYTES = 57;
export const MAC_BYTES = 64;
export const ED448_SIGNATURE_BYTES = 114;

export class Writer {
  private buf: Uint8Array;
  private len = 0;

  /** With `secret`, a buffer outgrown is zeroed before it is dropped (see wipe). */
  constructor(
    initialCapacity = 256,
    private readonly secret = false,
  ) {
    this.buf = new Uint8Array(initialCapacity);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    if (this.secret) this.buf.fill(0);
    this.buf = next;
  }

  byte(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  short(v: number): this {
    this.ensure(2);
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  /** A SHORT written little-endian: only the Ed448 key-type prefixes (interpretations.md §1). */
  shortLE(v: number): this {
    this.ensure(2);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    return this;
  }

  int(v: number): this {
    this.ensure(4);
    this.buf[this.len++] = (v >>> 24) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  /** 8-byte big-endian two's complement (client-profile expiry is a signed 64-bit value). */
  long(v: bigint): this {
    const u = BigInt.asUintN(64, v);
    this.int(Number(u >> 32n));
    this.int(Number(u & 0xffffffffn));
    return this;
  }

  /** Raw bytes, no length prefix (POINT, SCALAR, MAC, signatures, fixed-size values). */
  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** DATA: INT length, then the bytes. */
  data(bytes: Uint8Array): this {
    return this.int(bytes.length).raw(bytes);
  }

  /** MPI: INT length, then the minimal big-endian magnitude (leading zero bytes stripped; zero is empty). */
  mpi(bigEndian: Uint8Array): this {
    let i = 0;
    while (i < bigEndian.length && bigEndian[i] === 0) i++;
    return this.data(bigEndian.subarray(i));
  }

  point(p: Uint8Array): this {
    if (p.length !== POINT_BYTES) throw new OtrDecodeError('POINT must be 57 bytes', 'INVALID_ARGUMENT');
    return this.raw(p);
  }

  scalar(s: Uint8Array): this {
    if (s.length !== SCALAR_BYTES) throw new OtrDecodeError('SCALAR must be 57 bytes', 'INVALID_ARGUMENT');
    return this.raw(s);
  }

  /**
   * DATA holding the UTF-8 of `s` (the bytes of TextEncoder.encode), written in place: a string kept as
   * state is encoded without a temporary copy. ASCII, the usual case, is copied char by char.
   */
  utf8Data(s: string): this {
    const n = s.length;
    this.ensure(4 + 3 * n); // UTF-8 needs at most 3 bytes per UTF-16 unit (4 per surrogate pair)
    const at = this.len + 4;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      this.buf[at + i] = c;
    }
    const written = i === n ? n : i + UTF8.encodeInto(s.slice(i), this.buf.subarray(at + i)).written;
    this.int(written);
    this.len += written;
    return this;
  }

  get length(): number {
    return this.len;
  }

  /** The size of the buffer held (a writer kept for reuse drops one grown too large). */
  get capacity(): number {
    return this.buf.length;
  }

  /** The bytes written so far, not copied: valid until the writer is written to, cleared or wiped. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /**
   * Zeroes the bytes written and empties the writer, keeping its buffer for reuse (a writer reused for
   * secrets: only what was written needs zeroing, as a secret writer's buffer is otherwise zero).
   */
  clear(): void {
    this.buf.fill(0, 0, this.len);
    this.len = 0;
  }

  /** The bytes written so far (a copy, so the writer can be reused or dropped). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /** Zeroes and empties the writer's own buffer: after finish() of an encoding that holds secrets. */
  wipe(): void {
    this.buf.fill(0);
    this.len = 0;
  }
}

export class Reader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly maxField: number = DEFAULT_LIMITS.maxFieldBytes,
  ) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.buf.length - this.pos) throw new OtrDecodeError(`truncated ${what}`);
  }

  byte(): number {
    this.need(1, 'BYTE');
    return this.buf[this.pos++]!;
  }

  short(): number {
    this.need(2, 'SHORT');
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  shortLE(): number {
    this.need(2, 'SHORT');
    const v = this.buf[this.pos]! | (this.buf[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }

  int(): number {
    this.need(4, 'INT');
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** 8-byte big-endian signed. */
  long(): bigint {
    const hi = BigInt(this.int());
    const lo = BigInt(this.int());
    return BigInt.asIntN(64, (hi << 32n) | lo);
  }

  /** `n` raw bytes (a copy: decoded messages never alias the input buffer). */
  raw(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    // Not this.buf.slice: on a Node Buffer (e.g. a state file read with fs) slice is a view into the input, and
    // often into Node's shared pool, so the result's .buffer/byteOffset would not be its own.
    const out = Uint8Array.prototype.slice.call(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  data(what = 'DATA', max = this.maxField): Uint8Array {
    const n = this.int();
    if (n > max) throw new OtrDecodeError(`${what} of ${n} bytes exceeds the limit of ${max}`);
    return this.raw(n, what);
  }

  /** MPI: accepts leading zeros on input (interpretations.md §1) and returns the minimal magnitude. */
  mpi(what = 'MPI', max = this.maxField): Uint8Array {
    const v = this.data(what, max);
    let i = 0;
    while (i < v.length && v[i] === 0) i++;
    return i === 0 ? v : v.slice(i);
  }

  point(): Uint8Array {
    return this.raw(POINT_BYTES, 'POINT');
  }

  scalar(): Uint8Array {
    return this.raw(SCALAR_BYTES, 'SCALAR');
  }

  /** Decoders call this last: trailing bytes make a message malformed. */
  end(what = 'message'): void {
    if (this.pos !== this.buf.length) throw new OtrDecodeError(`${this.buf.length - this.pos} trailing bytes after ${what}`);
  }
}

/** Convenience: encode with a fresh writer. */
export function encode(fn: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  fn(w);
  return w.finish();
}

/** Convenience: decode the whole buffer, rejecting trailing bytes. */
export function decodeAll<T>(bytes: Uint8Array, fn: (r: Reader) => T, what = 'message', maxField?: number): T {
  const r = new Reader(bytes, maxField);
  const v = fn(r);
  r.end(what);
  return v;
}
