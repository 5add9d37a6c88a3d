/**
 * The framing of the FileStore's append-only log, and the one decision that matters when reading it back:
 * which damage is a torn final append (a crash mid-write, never acknowledged: cut it off) and which is
 * corruption (a flipped bit, an overwritten block, a foreign file: refuse to start, because cutting there
 * would silently drop acknowledged publications and the removals that keep a prekey from being handed out twice).
 *
 *   log    = MAGIC (8 bytes "OTR4PKL\x01") || frame*
 *   frame  = INT length || 4-byte header check || record (length bytes) || 8-byte record check
 *   header check = SHA-256("hdr" || INT length)[0..4]     — so a flipped bit in a length is caught by itself
 *   record check = SHA-256(INT length || record)[0..8]
 *
 * A damaged frame at offset X is a torn final frame only when the damage can be nothing else:
 * - fewer bytes remain than a header, or the header check fails and every byte from X to the end of the file
 *   is zero (the file was extended but the data never landed);
 * - the header is valid and the frame runs past the end of the file (the write stopped part-way);
 * - the header is valid, the frame fits, its record check fails, and the file is all zero bytes from inside
 *   this frame's record (or earlier) to its end, the whole record check included (the tail never landed: a
 *   crash after the size grew, before the data did; a real check is eight zero bytes with odds 2^-64).
 * Anything else — a bad header followed by non-zero bytes, a bad record check with non-zero bytes after it,
 * a good check over a record that does not decode — is corruption.
 */
import { createHash } from 'node:crypto';

export const LOG_MAGIC = Uint8Array.from([0x4f, 0x54, 0x52, 0x34, 0x50, 0x4b, 0x4c, 0x01]); // "OTR4PKL" 1
const HEADER = 8;
const CHECK = 8;

function sha(parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function be32(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

const HDR_TAG = new TextEncoder().encode('hdr');

function headerCheck(len: Uint8Array): Uint8Array {
  return sha([HDR_TAG, len]).subarray(0, 4);
}

function recordCheck(len: Uint8Array, record: Uint8Array): Uint8Array {
  return sha([len, record]).subarray(0, CHECK);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function encodeFrame(record: Uint8Array): Uint8Array {
  const len = be32(record.length);
  const out = new Uint8Array(HEADER + record.length + CHECK);
  out.set(len, 0);
  out.set(headerCheck(len), 4);
  out.set(record, HEADER);
  out.set(recordCheck(len, record), HEADER + record.length);
  return out;
}

export type LogScan =
  | { readonly kind: 'ok'; readonly records: Uint8Array[]; readonly good: number; readonly torn: boolean; readonly needsMagic: boolean }
  | { readonly kind: 'corrupt'; readonly offset: number; readonly reason: string };

/** Where the file's trailing run of zero bytes starts (buf.length if it does not end in a zero). */
function zeroTailStart(buf: Uint8Array): number {
  let z = buf.length;
  while (z > 0 && buf[z - 1] === 0) z--;
  return z;
}

/**
 * Reads every frame. `good` is the length of the intact prefix (the magic plus whole frames); `torn` says a
 * torn final frame follows it (to be cut). `needsMagic`: the file is empty or a torn prefix of the magic.
 * `maxRecord` bounds a frame's length (a larger one is corruption).
 */
export function scanLog(buf: Uint8Array, maxRecord: number): LogScan {
  const records: Uint8Array[] = [];
  // An empty file, or a crash while the magic itself was written (a prefix of it, or zeros).
  if (buf.length < LOG_MAGIC.length) {
    const prefix = buf.every((x, i) => x === LOG_MAGIC[i]) || buf.every((x) => x === 0);
    return prefix ? { kind: 'ok', records, good: 0, torn: buf.length > 0, needsMagic: true } : { kind: 'corrupt', offset: 0, reason: 'not a prekey-store log' };
  }
  if (!same(buf.subarray(0, LOG_MAGIC.length), LOG_MAGIC)) {
    if (buf.every((x) => x === 0)) return { kind: 'ok', records, good: 0, torn: true, needsMagic: true };
    return { kind: 'corrupt', offset: 0, reason: 'not a prekey-store log of this format (bad magic)' };
  }
  const zeroFrom = zeroTailStart(buf);
  let x = LOG_MAGIC.length;
  while (x < buf.length) {
    const torn = (): LogScan => ({ kind: 'ok', records, good: x, torn: true, needsMagic: false });
    const remaining = buf.length - x;
    if (remaining < HEADER) return torn();
    const len = buf.subarray(x, x + 4);
    if (!same(headerCheck(len), buf.subarray(x + 4, x + HEADER))) {
      if (zeroFrom <= x) return torn();
      return { kind: 'corrupt', offset: x, reason: 'frame header check fails' };
    }
    const n = ((len[0]! << 24) | (len[1]! << 16) | (len[2]! << 8) | len[3]!) >>> 0;
    if (n > maxRecord) return { kind: 'corrupt', offset: x, reason: `frame of ${n} bytes exceeds the largest record` };
    const end = x + HEADER + n + CHECK;
    if (end > buf.length) return torn();
    const record = buf.subarray(x + HEADER, x + HEADER + n);
    if (!same(recordCheck(len, record), buf.subarray(x + HEADER + n, end))) {
      if (zeroFrom <= x + HEADER + n) return torn();
      return { kind: 'corrupt', offset: x, reason: 'frame record check fails' };
    }
    records.push(record);
    x = end;
  }
  return { kind: 'ok', records, good: x, torn: false, needsMagic: false };
}
