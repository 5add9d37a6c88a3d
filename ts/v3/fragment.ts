/**
 * OTRv3 fragments (otrv3-protocol.html §Fragmentation): "?OTR|sender|receiver,k,n,piece," with hex instance
 * tags and decimal k, n ≤ 65535. Reassembly is the spec's single-buffer rule (one message at a time, pieces in
 * order), bounded by limits.maxFragmentChars / maxFragmentsPerMessage / maxMessageChars.
 *
 * TODO(codec): the v4 codec engineer's ts/codec fragment parser also reads the v3 syntax; switch the parsing
 * half to it when it lands (the reassembly rule here is v3's own and stays).
 */
import { OtrArgumentError, OtrDecodeError, OtrLimitError } from '../errors.js';
import type { Limits } from '../limits.js';

export interface V3Fragment {
  senderTag: number;
  receiverTag: number;
  k: number;
  n: number;
  piece: string;
}

export interface FragmentBuffer {
  k: number;
  n: number;
  buf: string;
}

export const emptyFragmentBuffer = (): FragmentBuffer => ({ k: 0, n: 0, buf: '' });

const FRAGMENT_RE = /^\?OTR\|([0-9a-fA-F]{1,8})\|([0-9a-fA-F]{1,8}),(\d{1,5}),(\d{1,5}),([^,]+),$/;
export const FRAGMENT_PREFIX = '?OTR|';

/** Parses one v3 fragment; the whole text must be the fragment (libotr sends nothing around it). */
export function parseFragment(text: string, limits: Limits): V3Fragment {
  if (text.length > limits.maxFragmentChars) throw new OtrLimitError('fragment longer than maxFragmentChars');
  const m = FRAGMENT_RE.exec(text);
  if (!m) throw new OtrDecodeError('malformed OTRv3 fragment');
  const k = Number(m[3]);
  const n = Number(m[4]);
  if (k === 0 || n === 0 || k > n || n > 65535) throw new OtrDecodeError('illegal fragment index');
  if (n > limits.maxFragmentsPerMessage) throw new OtrLimitError('too many fragments for one message');
  return { senderTag: parseInt(m[1]!, 16) >>> 0, receiverTag: parseInt(m[2]!, 16) >>> 0, k, n, piece: m[5]! };
}

/**
 * Adds a fragment to the buffer (mutating it) per the spec's (K, N, F) rule; returns the whole message when
 * the last piece arrives.
 */
export function accumulate(fb: FragmentBuffer, f: V3Fragment, limits: Limits): string | null {
  if (f.k === 1) {
    fb.k = 1;
    fb.n = f.n;
    fb.buf = f.piece;
  } else if (f.n === fb.n && f.k === fb.k + 1) {
    if (fb.buf.length + f.piece.length > limits.maxMessageChars) {
      Object.assign(fb, emptyFragmentBuffer());
      throw new OtrLimitError('reassembled message longer than maxMessageChars');
    }
    fb.k = f.k;
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

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
const dec5 = (v: number): string => String(v).padStart(5, '0');
/** Characters a fragment adds around its piece: "?OTR|xxxxxxxx|xxxxxxxx,kkkkk,nnnnn," and the final ",". */
export const FRAGMENT_OVERHEAD = 36;

/** Splits `message` into fragments of at most `maxChars` characters each (libotr's layout, zero-padded). */
export function fragment(message: string, maxChars: number, senderTag: number, receiverTag: number): string[] {
  if (message.length <= maxChars) return [message];
  const pieceLen = maxChars - FRAGMENT_OVERHEAD;
  if (pieceLen < 1) throw new OtrArgumentError('fragment size too small for the fragment header');
  const n = Math.ceil(message.length / pieceLen);
  if (n > 65535) throw new OtrArgumentError('message needs more than 65535 fragments');
  const out: string[] = [];
  for (let k = 1; k <= n; k++) {
    const piece = message.slice((k - 1) * pieceLen, k * pieceLen);
    out.push(`${FRAGMENT_PREFIX}${hex8(senderTag)}|${hex8(receiverTag)},${dec5(k)},${dec5(n)},${piece},`);
  }
  return out;
}
