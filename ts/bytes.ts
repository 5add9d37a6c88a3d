/** Small byte helpers shared by every layer. Bytes in, bytes out: `Uint8Array` everywhere. */
import { OtrArgumentError } from './errors.js';

/** Asserts `value` is a Uint8Array (of `length` bytes when given); `title` names it in the error. */
export function abytes(value: unknown, length?: number, title = 'value'): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new OtrArgumentError(`${title} must be a Uint8Array`);
  if (length !== undefined && value.length !== length)
    throw new OtrArgumentError(`${title} must be ${length} bytes, got ${value.length}`);
  return value;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Constant-time equality for MACs, tags and records: the running time depends on the lengths and alignment only, never on the contents. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  let diff = 0;
  let i = 0;
  // Long arrays (records compared after every call, 2–3 KB) four bytes at a time where both are aligned;
  // short ones (MACs, keys) bytewise — a word view of a small array would force its bytes out of V8's heap.
  if (n >= WORD_COMPARE_MIN && (a.byteOffset & 3) === 0 && (b.byteOffset & 3) === 0) {
    const words = n >>> 2;
    const x = new Int32Array(a.buffer, a.byteOffset, words);
    const y = new Int32Array(b.buffer, b.byteOffset, words);
    for (let k = 0; k < words; k++) diff |= x[k]! ^ y[k]!;
    i = words << 2;
  }
  for (; i < n; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** From this length equalBytes compares words (as codec/nul.ts scans them). */
const WORD_COMPARE_MIN = 128;

/**
 * An own copy of `b`: new + set, several times faster than Uint8Array.prototype.slice on V8.
 *
 * The rule for bytes a host hands us (API arguments, store rows, transport input): when the library means to
 * keep, wipe, mutate or transfer its own copy, copy with copyBytes (or Uint8Array.from / new Uint8Array(b)),
 * never `b.slice()` — a Node Buffer overrides slice() as subarray(), so it returns a VIEW of the host's
 * memory: the host rewriting its buffer would change our state, and our wipe or transfer would zero or detach
 * the host's bytes. `.slice()` stays fine on arrays the library made itself. docs/security.md
 * "Session 13: Buffer views audit [s13-slices]" lists every site checked.
 */
export function copyBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

/** Overwrites secret buffers with zeros. */
export function wipe(...bufs: (Uint8Array | undefined | null)[]): void {
  for (const b of bufs) if (b) b.fill(0);
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new OtrArgumentError('invalid hex string');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

/** Big-endian unsigned bytes -> bigint. */
export function bytesToBigBE(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytesToHex(bytes));
}

/** Little-endian unsigned bytes -> bigint. */
export function bytesToBigLE(bytes: Uint8Array): bigint {
  const r = Uint8Array.from(bytes).reverse();
  return bytesToBigBE(r);
}

/** bigint -> big-endian bytes; minimal length (zero gives an empty array) unless `length` is given. */
export function bigToBytesBE(n: bigint, length?: number): Uint8Array {
  if (n < 0n) throw new OtrArgumentError('negative integer');
  let hex = n === 0n ? '' : n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  if (length !== undefined) {
    if (hex.length > 2 * length) throw new OtrArgumentError('integer too large for its field');
    hex = hex.padStart(2 * length, '0');
  }
  return hexToBytes(hex);
}

/** bigint -> little-endian bytes of exactly `length` bytes. */
export function bigToBytesLE(n: bigint, length: number): Uint8Array {
  return bigToBytesBE(n, length).reverse();
}

/** UTF-8 helpers (TextEncoder exists in Node and every browser). */
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
export const utf8 = (s: string): Uint8Array => enc.encode(s);
export const fromUtf8 = (b: Uint8Array): string => dec.decode(b);
