/**
 * Reference models of what a receiving conversation can still read, written from the spec's rules
 * (otrv4.md §Receiving Fragments, §When you receive a Data Message, §Deletion of Stored Message Keys) and
 * the limits table, independently of the library's code. The adversarial-channel suite asks them, for every
 * string that arrives, whether it must complete a message and whether that message must decrypt — so the
 * suite can assert exact delivery, not "most messages arrived".
 *
 * They see only public data: fragment headers, and the (ratchet id, message id, pn) of each data message.
 */
import type { Limits } from '../../ts/limits.js';

// ---------------------------------------------------------------------------------------------- fragments

export interface FragmentHeader {
  readonly identifier: number;
  readonly senderTag: number;
  readonly index: number;
  readonly total: number;
  readonly piece: string;
}

/** Splits "?OTR|id|sender|receiver,k,n,piece," (as our fragmenter writes it) without the library's parser. */
export function readFragmentHeader(text: string): FragmentHeader | undefined {
  const m = /^\?OTR\|([0-9a-f]{8})\|([0-9a-f]{8})\|([0-9a-f]{8}),(\d{5}),(\d{5}),([^,]*),$/.exec(text);
  if (!m) return undefined;
  return { identifier: parseInt(m[1]!, 16), senderTag: parseInt(m[2]!, 16), index: Number(m[4]), total: Number(m[5]), piece: m[6]! };
}

type ReassemblyLimits = Pick<Limits, 'maxPendingFragmentedMessages' | 'maxPendingFragmentChars' | 'maxMessageChars' | 'maxFragmentsPerMessage'>;

/**
 * The reassembly rules: pieces collected per (sender, identifier); a duplicate index is dropped; a total
 * that disagrees discards the buffer; a message that would exceed the size limits is discarded; a new
 * buffer beyond maxPendingFragmentedMessages, or a piece beyond maxPendingFragmentChars, evicts the least
 * recently updated incomplete messages first.
 */
export class ReassemblyModel {
  private readonly buffers = new Map<string, { total: number; pieces: Map<number, string>; chars: number }>();
  private held = 0;
  /** Incomplete messages evicted to make room (hostile or dead buffers, or live ones overtaken by eviction). */
  evicted = 0;

  constructor(private readonly L: ReassemblyLimits) {}

  get pending(): number {
    return this.buffers.size;
  }

  private drop(key: string): void {
    const b = this.buffers.get(key);
    if (!b) return;
    this.held -= b.chars;
    this.buffers.delete(key);
  }

  private evictOldest(): void {
    const k = this.buffers.keys().next();
    if (!k.done) {
      this.drop(k.value);
      this.evicted++;
    }
  }

  /** The reassembled text when `f` completes a message, else undefined. */
  add(f: FragmentHeader): string | undefined {
    const L = this.L;
    if (f.total > L.maxFragmentsPerMessage || f.index < 1 || f.index > f.total) return undefined;
    if (f.total === 1) return f.piece;
    const key = `${f.senderTag}/${f.identifier}`;
    let buf = this.buffers.get(key);
    if (buf && buf.total !== f.total) {
      this.drop(key);
      return undefined;
    }
    if (buf?.pieces.has(f.index)) return undefined;
    const grown = (buf?.chars ?? 0) + f.piece.length;
    if (grown > L.maxMessageChars || grown > L.maxPendingFragmentChars) {
      this.drop(key);
      return undefined;
    }
    if (buf) this.buffers.delete(key);
    else {
      buf = { total: f.total, pieces: new Map(), chars: 0 };
      while (this.buffers.size >= L.maxPendingFragmentedMessages) this.evictOldest();
    }
    while (this.held + f.piece.length > L.maxPendingFragmentChars && this.buffers.size > 0) this.evictOldest();
    buf.pieces.set(f.index, f.piece);
    buf.chars += f.piece.length;
    this.held += f.piece.length;
    this.buffers.set(key, buf);
    if (buf.pieces.size < buf.total) return undefined;
    this.drop(key);
    let s = '';
    for (let i = 1; i <= buf.total; i++) s += buf.pieces.get(i)!;
    return s;
  }
}

// ---------------------------------------------------------------------------------------------- ratchet keys

export interface DataHeader {
  readonly ratchetId: number;
  readonly messageId: number;
  /** The number of messages in the sender's previous sending chain. */
  readonly pn: number;
}

export type KeyVerdict =
  | { readonly ok: true; readonly from: 'stored' | 'new-ratchet' | 'chain' }
  | { readonly ok: false; readonly why: 'max-skip' | 'no-key' };

type KeyLimits = Pick<Limits, 'maxSkip' | 'maxStoredMessageKeys'>;

/**
 * Which message keys a receiver holds. A message decrypts iff its key is stored (then the key is used up),
 * or it is on the current receiving chain at or past the next expected id, or it starts the peer's next
 * ratchet; reaching it must not skip more than maxSkip keys (old-chain tail up to pn plus the new chain's
 * head). Skipped keys are stored oldest first and the oldest are deleted beyond maxStoredMessageKeys. The
 * clock is never advanced in these runs, so keys never age out.
 *
 * `recvRatchetId` starts at -1 for the side that received Auth-I (it has no receiving chain yet) and at 0 for
 * the side that sent it (it receives on the first chain, ratchet id 0, at once).
 */
export class KeyModel {
  private k = 0;
  private store: { r: number; m: number }[] = [];
  /** Stored keys deleted by the count limit while their message was still to come (or never came). */
  storeEvictions = 0;
  /** Highest ratchet id seen: ratchets advanced (DH steps every third, brace-key steps between). */
  maxRatchetId = -1;

  constructor(
    private recvRatchetId: number,
    private readonly L: KeyLimits,
  ) {}

  get stored(): number {
    return this.store.length;
  }

  private keep(entries: { r: number; m: number }[]): void {
    this.store.push(...entries);
    const excess = this.store.length - this.L.maxStoredMessageKeys;
    if (excess > 0) {
      this.store.splice(0, excess);
      this.storeEvictions += excess;
    }
  }

  receive(h: DataHeader): KeyVerdict {
    const at = this.store.findIndex((e) => e.r === h.ratchetId && e.m === h.messageId);
    if (at >= 0) {
      this.store.splice(at, 1);
      return { ok: true, from: 'stored' };
    }
    if (h.ratchetId > this.recvRatchetId) {
      // The peer's next ratchet: it can only have made one after reading our newest, so it follows ours.
      const tail = this.recvRatchetId >= 0 ? Math.max(0, h.pn - this.k) : 0;
      if (tail + h.messageId > this.L.maxSkip) return { ok: false, why: 'max-skip' };
      const added: { r: number; m: number }[] = [];
      for (let m = this.k; m < this.k + tail; m++) added.push({ r: this.recvRatchetId, m });
      for (let m = 0; m < h.messageId; m++) added.push({ r: h.ratchetId, m });
      this.keep(added);
      this.recvRatchetId = h.ratchetId;
      this.maxRatchetId = Math.max(this.maxRatchetId, h.ratchetId);
      this.k = h.messageId + 1;
      return { ok: true, from: 'new-ratchet' };
    }
    if (h.ratchetId !== this.recvRatchetId || h.messageId < this.k) return { ok: false, why: 'no-key' };
    if (h.messageId - this.k > this.L.maxSkip) return { ok: false, why: 'max-skip' };
    const added: { r: number; m: number }[] = [];
    for (let m = this.k; m < h.messageId; m++) added.push({ r: h.ratchetId, m });
    this.keep(added);
    this.k = h.messageId + 1;
    return { ok: true, from: 'chain' };
  }
}
