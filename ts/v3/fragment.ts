/**
 * OTRv3 fragments (otrv3-protocol.html §Fragmentation). Parsing and formatting are the shared codec's
 * (ts/codec/fragment.ts reads and writes the v3 syntax "?OTR|sender|receiver,k,n,piece,"); what is v3's own is
 * the reassembly rule — one message at a time, pieces strictly in order, any other fragment or message
 * resetting the buffer — and the sending side's split. Bounded by limits.maxFragmentsPerMessage and
 * maxMessageChars.
 */
import { type FragmentV3, FRAGMENT_PREFIX, formatFragmentV3 } from '../codec/fragment.js';
import { OtrArgumentError, OtrLimitError } from '../errors.js';
import type { Limits } from '../limits.js';

export interface FragmentBuffer {
  k: number;
  n: number;
  buf: string;
}

export const emptyFragmentBuffer = (): FragmentBuffer => ({ k: 0, n: 0, buf: '' });

/**
 * Adds a fragment to the buffer (mutating it) by the spec's (K, N, F) rule; returns the whole message when
 * its last piece arrives, else null.
 */
export function accumulate(fb: FragmentBuffer, f: FragmentV3, limits: Limits): string | null {
  if (f.total > limits.maxFragmentsPerMessage) {
    Object.assign(fb, emptyFragmentBuffer());
    throw new OtrLimitError('too many fragments for one message');
  }
  if (f.index === 1) {
    fb.k = 1;
    fb.n = f.total;
    fb.buf = f.piece;
  } else if (f.total === fb.n && f.index === fb.k + 1) {
    if (fb.buf.length + f.piece.length > limits.maxMessageChars) {
      Object.assign(fb, emptyFragmentBuffer());
      throw new OtrLimitError('reassembled message longer than maxMessageChars');
    }
    fb.k = f.index;
    fb.buf += f.piece;
  } else {
    Object.assign(fb, emptyFragmentBuffer());
    return null;
  }
  if (fb.n > 0 && fb.k === fb.n) {
    const out = fb.buf;
    Object.assign(fb, emptyFragmentBuffer());
    return out;
  }
  return null;
}

/** Characters a v3 fragment adds around its piece: "?OTR|" 8 "|" 8 "," 5 "," 5 "," piece ",". */
export const FRAGMENT_V3_OVERHEAD = FRAGMENT_PREFIX.length + 8 + 1 + 8 + 1 + 5 + 1 + 5 + 1 + 1;

/** Splits an encoded message into v3 fragments of at most `maxChars` characters (unsplit if it fits). */
export function fragmentV3(message: string, maxChars: number, senderTag: number, receiverTag: number): string[] {
  if (message.length <= maxChars) return [message];
  const pieceLen = maxChars - FRAGMENT_V3_OVERHEAD;
  if (pieceLen < 1) throw new OtrArgumentError(`fragment size must exceed the ${FRAGMENT_V3_OVERHEAD}-character overhead`);
  const total = Math.ceil(message.length / pieceLen);
  if (total > 0xffff) throw new OtrArgumentError('message needs more than 65535 fragments');
  const out: string[] = [];
  for (let i = 0; i < total; i++) {
    const piece = message.slice(i * pieceLen, (i + 1) * pieceLen);
    out.push(formatFragmentV3({ senderTag, receiverTag, index: i + 1, total, piece }));
  }
  return out;
}
