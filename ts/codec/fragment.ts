/**
 * Fragments (otrv4.md §Fragmentation; interpretations.md §7).
 *
 *   v4: ?OTR|IIIIIIII|SSSSSSSS|RRRRRRRR,kkkkk,nnnnn,piece,     identifier, sender tag, receiver tag in hex
 *   v3: ?OTR|SSSSSSSS|RRRRRRRR,kkkkk,nnnnn,piece,              (otrv3-protocol.html §Fragmentation)
 *
 * We send lowercase 8-digit hex and 5-digit zero-padded decimal; we accept 1–8 hex digits of either case
 * (as otr4j does) and 1–5 decimal digits. The piece runs from after the total's comma up to the final ','.
 * Illegal index/total (0, index > total, > 65535) are rejected at parse time, so no later code sees them.
 *
 * `FragmentReassembler` rebuilds v4 messages. Interleaved fragments of several messages are kept apart by
 * (sender tag, identifier); every buffer and the sum of them are bounded by ts/limits.ts, and when a limit
 * would be crossed the least recently updated incomplete message is evicted, so hostile fragments can cost
 * at most the configured memory. OTRv3 fragments are only parsed here: their in-order reassembly belongs to
 * the v3 code.
 */
import { OtrArgumentError, OtrDecodeError, OtrLimitError } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { formatInstanceTag, isValidReceiverTag, isValidSenderTag } from '../instance-tag.js';
import type { RandomSource } from '../crypto/random.js';
import { FRAGMENT_PIECE_COST, type BudgetHolder, type SharedBudget } from '../shared-budget.js';

export const FRAGMENT_PREFIX = '?OTR|';
const MAX_INDEX = 0xffff;

export interface FragmentV4 {
  readonly version: 4;
  readonly identifier: number;
  readonly senderTag: number;
  readonly receiverTag: number;
  /** 1-based. */
  readonly index: number;
  readonly total: number;
  readonly piece: string;
}

export interface FragmentV3 {
  readonly version: 3;
  readonly senderTag: number;
  readonly receiverTag: number;
  readonly index: number;
  readonly total: number;
  readonly piece: string;
}

export type Fragment = FragmentV4 | FragmentV3;

export function isFragment(text: string): boolean {
  return text.startsWith(FRAGMENT_PREFIX);
}

/** A tiny cursor over the fragment header: each read is bounded, so parsing is linear and allocation-free. */
class Cursor {
  pos: number;
  constructor(
    readonly s: string,
    start: number,
  ) {
    this.pos = start;
  }

  hex(): number {
    let v = 0;
    const start = this.pos;
    while (this.pos < this.s.length && this.pos - start < 9) {
      const c = this.s.charCodeAt(this.pos);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) break;
      v = v * 16 + d;
      this.pos++;
    }
    const n = this.pos - start;
    if (n < 1 || n > 8) throw new OtrDecodeError('fragment: expected 1-8 hex digits');
    return v;
  }

  dec(): number {
    let v = 0;
    const start = this.pos;
    while (this.pos < this.s.length && this.pos - start < 6) {
      const c = this.s.charCodeAt(this.pos);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      this.pos++;
    }
    const n = this.pos - start;
    if (n < 1 || n > 5) throw new OtrDecodeError('fragment: expected 1-5 decimal digits');
    return v;
  }

  expect(ch: string): void {
    if (this.s[this.pos] !== ch) throw new OtrDecodeError(`fragment: expected '${ch}'`);
    this.pos++;
  }

  peek(): string | undefined {
    return this.s[this.pos];
  }
}

/**
 * Parses a v4 or v3 fragment. Throws OtrDecodeError on bad syntax, illegal index/total or invalid tags, and
 * OtrLimitError for a fragment longer than `maxFragmentChars`.
 */
export function parseFragment(text: string, maxFragmentChars: number = DEFAULT_LIMITS.maxFragmentChars): Fragment {
  if (typeof text !== 'string') throw new OtrArgumentError('fragment must be a string');
  if (text.length > maxFragmentChars) throw new OtrLimitError(`fragment of ${text.length} characters exceeds ${maxFragmentChars}`);
  if (!isFragment(text)) throw new OtrDecodeError('not a fragment');
  const c = new Cursor(text, FRAGMENT_PREFIX.length);
  const first = c.hex();
  c.expect('|');
  const second = c.hex();
  let version: 3 | 4;
  let identifier = 0;
  let senderTag: number;
  let receiverTag: number;
  if (c.peek() === '|') {
    c.pos++;
    version = 4;
    identifier = first;
    senderTag = second;
    receiverTag = c.hex();
  } else {
    version = 3;
    senderTag = first;
    receiverTag = second;
  }
  c.expect(',');
  const index = c.dec();
  c.expect(',');
  const total = c.dec();
  c.expect(',');
  if (text.length - c.pos < 2 || text.charCodeAt(text.length - 1) !== 0x2c)
    throw new OtrDecodeError('fragment: missing piece or final comma');
  const piece = text.slice(c.pos, text.length - 1);
  if (index === 0 || total === 0 || index > total || total > MAX_INDEX)
    throw new OtrDecodeError(`fragment: illegal index ${index} of ${total}`);
  if (!isValidSenderTag(senderTag) || !isValidReceiverTag(receiverTag)) throw new OtrDecodeError('fragment: invalid instance tag');
  return version === 4
    ? { version, identifier, senderTag, receiverTag, index, total, piece }
    : { version, senderTag, receiverTag, index, total, piece };
}

const pad5 = (n: number): string => n.toString().padStart(5, '0');

/** Formats one v4 fragment exactly as we send it. */
export function formatFragmentV4(f: Omit<FragmentV4, 'version'>): string {
  return `${FRAGMENT_PREFIX}${formatInstanceTag(f.identifier)}|${formatInstanceTag(f.senderTag)}|${formatInstanceTag(
    f.receiverTag,
  )},${pad5(f.index)},${pad5(f.total)},${f.piece},`;
}

/** Formats one v3 fragment (libotr's form: 8 hex digits, 5-digit decimal). */
export function formatFragmentV3(f: Omit<FragmentV3, 'version'>): string {
  return `${FRAGMENT_PREFIX}${formatInstanceTag(f.senderTag)}|${formatInstanceTag(f.receiverTag)},${pad5(f.index)},${pad5(
    f.total,
  )},${f.piece},`;
}

/** Characters a v4 fragment adds around its piece: "?OTR|" 8 "|" 8 "|" 8 "," 5 "," 5 "," piece ",". */
export const FRAGMENT_V4_OVERHEAD = FRAGMENT_PREFIX.length + 8 + 1 + 8 + 1 + 8 + 1 + 5 + 1 + 5 + 1 + 1;

/** A fresh 32-bit fragment identifier from the injected randomness. */
export function randomFragmentIdentifier(random: RandomSource): number {
  const b = random(4);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export interface FragmentOptions {
  /** Unique per fragmented message for as long as its fragments are in flight (see randomFragmentIdentifier). */
  readonly identifier: number;
  readonly senderTag: number;
  readonly receiverTag: number;
}

/**
 * Splits an encoded message into v4 fragments of at most `maxChars` characters each. A message that already
 * fits is returned unfragmented (one element, the message itself). Fragments are never fragmented.
 */
export function fragmentMessage(message: string, maxChars: number, o: FragmentOptions): string[] {
  if (typeof message !== 'string' || message.length === 0) throw new OtrArgumentError('message must be a non-empty string');
  if (isFragment(message)) throw new OtrArgumentError('a fragment cannot be fragmented');
  if (!Number.isInteger(maxChars) || maxChars <= 0) throw new OtrArgumentError('maxChars must be a positive integer');
  if (message.length <= maxChars) return [message];
  const pieceLen = maxChars - FRAGMENT_V4_OVERHEAD;
  if (pieceLen < 1) throw new OtrArgumentError(`maxChars must exceed the ${FRAGMENT_V4_OVERHEAD}-character fragment overhead`);
  const total = Math.ceil(message.length / pieceLen);
  if (total > MAX_INDEX) throw new OtrArgumentError('message needs more than 65535 fragments');
  if (!isValidSenderTag(o.senderTag) || !isValidReceiverTag(o.receiverTag)) throw new OtrArgumentError('invalid instance tag');
  const out: string[] = [];
  for (let i = 0; i < total; i++) {
    const piece = message.slice(i * pieceLen, (i + 1) * pieceLen);
    out.push(formatFragmentV4({ identifier: o.identifier, senderTag: o.senderTag, receiverTag: o.receiverTag, index: i + 1, total, piece }));
  }
  return out;
}

export type ReassemblyResult =
  | { readonly status: 'complete'; readonly message: string }
  | { readonly status: 'pending' }
  | { readonly status: 'rejected'; readonly reason: string };

interface PendingMessage {
  readonly total: number;
  readonly pieces: Map<number, string>;
  chars: number;
}

/**
 * Reassembles v4 fragments, one instance per conversation. Bounded by `maxFragmentsPerMessage`,
 * `maxFragmentChars` (per fragment, checked by parseFragment and again here on the piece),
 * `maxPendingFragmentedMessages`, `maxPendingFragmentChars` (the sum of held pieces) and `maxMessageChars`
 * (one reassembled message). Rules (otrv4.md §Receiving Fragments): a duplicate index is dropped and the
 * buffer kept; a fragment whose total disagrees with its buffer's discards the buffer and itself; a complete
 * message is returned and its buffer freed. The receiver-tag check is the caller's (it knows our tag).
 */
export class FragmentReassembler implements BudgetHolder {
  private readonly limits: Limits;
  /** Insertion order = least recently updated first (entries are re-inserted on update). */
  private readonly buffers = new Map<string, PendingMessage>();
  private held = 0;

  /** `budget`: the account's (limits.maxAccountFragmentChars, shared-budget.ts); none for a lone reassembler. */
  constructor(limits?: Partial<Limits>, private readonly budget?: SharedBudget) {
    this.limits = { ...DEFAULT_LIMITS, ...(limits ?? {}) };
  }

  /** Characters currently held across all incomplete messages. */
  get heldChars(): number {
    return this.held;
  }

  get pendingMessages(): number {
    return this.buffers.size;
  }

  clear(): void {
    this.buffers.clear();
    this.budget?.writeOff(this);
    this.held = 0;
  }

  private drop(key: string): void {
    const b = this.buffers.get(key);
    if (!b) return;
    this.held -= b.chars;
    this.buffers.delete(key);
    this.budget?.changed(this, -(b.chars + b.pieces.size * FRAGMENT_PIECE_COST));
  }

  private evictOldest(): void {
    const oldest = this.buffers.keys().next();
    if (!oldest.done) this.drop(oldest.value);
  }

  /** For the account's budget: drops the least recently updated incomplete message. */
  dropOldest(): boolean {
    if (this.buffers.size === 0) return false;
    this.evictOldest();
    return true;
  }

  add(f: FragmentV4): ReassemblyResult {
    const L = this.limits;
    if (f.total > L.maxFragmentsPerMessage) return { status: 'rejected', reason: `more than ${L.maxFragmentsPerMessage} fragments` };
    if (f.piece.length > L.maxFragmentChars) return { status: 'rejected', reason: 'fragment too large' };
    if (f.index < 1 || f.index > f.total) return { status: 'rejected', reason: 'illegal index' };
    if (f.total === 1) return this.finish(f.piece);
    const key = `${f.senderTag}/${f.identifier}`;
    let buf = this.buffers.get(key);
    if (buf && buf.total !== f.total) {
      this.drop(key);
      return { status: 'rejected', reason: 'total differs from earlier fragments: message discarded' };
    }
    if (buf?.pieces.has(f.index)) return { status: 'rejected', reason: 'duplicate fragment' };
    const grown = (buf?.chars ?? 0) + f.piece.length;
    if (grown > L.maxMessageChars || grown > L.maxPendingFragmentChars) {
      this.drop(key);
      return { status: 'rejected', reason: 'reassembled message would exceed the size limit: message discarded' };
    }
    if (buf) {
      this.buffers.delete(key); // re-inserted below: most recently updated goes last
    } else {
      buf = { total: f.total, pieces: new Map(), chars: 0 };
      while (this.buffers.size >= L.maxPendingFragmentedMessages) this.evictOldest();
    }
    // Make room in the total budget by evicting other messages, oldest first.
    while (this.held + f.piece.length > L.maxPendingFragmentChars && this.buffers.size > 0) this.evictOldest();
    // ... and in the account's, by evicting other conversations' (this message is out of `buffers` meanwhile).
    // (Each piece costs its table entry too: one-character pieces must not hold far more than is counted.)
    this.budget?.grow(this, f.piece.length + FRAGMENT_PIECE_COST);
    buf.pieces.set(f.index, f.piece);
    buf.chars += f.piece.length;
    this.held += f.piece.length;
    this.buffers.set(key, buf);
    if (buf.pieces.size < buf.total) return { status: 'pending' };
    this.drop(key);
    const parts: string[] = new Array(buf.total);
    for (let i = 1; i <= buf.total; i++) parts[i - 1] = buf.pieces.get(i)!;
    return this.finish(parts.join(''));
  }

  private finish(message: string): ReassemblyResult {
    if (isFragment(message)) return { status: 'rejected', reason: 'a reassembled message is itself a fragment' };
    return { status: 'complete', message };
  }
}
