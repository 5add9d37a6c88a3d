/**
 * OTRv3 fragments (otrv3-protocol.html §Fragmentation). Parsing and formatting are the shared codec's
 * (ts/codec/fragment.ts reads and writes the v3 syntax "?OTR|sender|receiver,k,n,piece,"); what is v3's own is
 * the reassembly rule — per remote instance, one message at a time, pieces strictly in order, any other
 * fragment or message from that instance resetting it — and the sending side's split.
 *
 * Linear: a fragment costs its own length (its piece is appended to a list; the list is joined once, when
 * the last piece arrives), never a copy of what is already held. Bounded by maxFragmentsPerMessage and
 * maxMessageChars per message, and by maxPendingFragmentedMessages and maxPendingFragmentChars for all the
 * remote instances of one conversation together (the oldest partial message is dropped first). Transient:
 * a partial message is unauthenticated input, never persisted (a restart drops it; it is resent or lost).
 */
import { type FragmentV3, FRAGMENT_PREFIX, formatFragmentV3 } from '../codec/fragment.js';
import { OtrArgumentError, OtrLimitError } from '../errors.js';
import type { Limits } from '../limits.js';
import { FRAGMENT_PIECE_COST, type BudgetHolder, type SharedBudget } from '../shared-budget.js';

/** One message being reassembled from one remote instance. */
interface Partial {
  /** Pieces received so far: k of n. */
  k: number;
  n: number;
  pieces: string[];
  chars: number;
}

/** The partial messages of one conversation, one per remote instance (oldest first). */
export class FragmentTable implements BudgetHolder {
  private readonly partials = new Map<number, Partial>();
  private held = 0;
  /** Characters appended in all (a work counter: tests assert reassembly is linear by it). */
  charsAppended = 0;

  /** `budget`: the account's (limits.maxAccountFragmentChars, shared-budget.ts). */
  constructor(
    private readonly limits: Limits,
    private readonly budget?: SharedBudget,
  ) {}

  /** Partial messages and the characters they hold. */
  get pending(): { messages: number; chars: number } {
    return { messages: this.partials.size, chars: this.held };
  }

  /**
   * Adds a fragment by the spec's (K, N, F) rule; returns the whole message when its last piece arrives,
   * else null. Throws OtrLimitError (dropping that instance's partial message) when a limit would be passed.
   */
  add(f: FragmentV3): string | null {
    const L = this.limits;
    if (f.total > L.maxFragmentsPerMessage) {
      this.forget(f.senderTag);
      throw new OtrLimitError('too many fragments for one message');
    }
    let p = this.partials.get(f.senderTag);
    if (f.index === 1) {
      this.forget(f.senderTag);
      while (this.partials.size >= L.maxPendingFragmentedMessages) this.dropOldest();
      p = { k: 0, n: f.total, pieces: [], chars: 0 };
      this.partials.set(f.senderTag, p);
    } else if (!p || f.total !== p.n || f.index !== p.k + 1) {
      this.forget(f.senderTag);
      return null;
    }
    if (p.chars + f.piece.length > L.maxMessageChars || f.piece.length > L.maxPendingFragmentChars) {
      this.forget(f.senderTag);
      throw new OtrLimitError('reassembled message longer than maxMessageChars');
    }
    // Room for this piece: older partial messages (of other instances) go first.
    while (this.held + f.piece.length > L.maxPendingFragmentChars) {
      const oldest = this.partials.keys().next().value as number;
      if (oldest === f.senderTag) {
        this.forget(f.senderTag);
        throw new OtrLimitError('fragments held exceed maxPendingFragmentChars');
      }
      this.forget(oldest);
    }
    // ... and in the account's, by dropping other conversations' partial messages.
    this.budget?.grow(this, f.piece.length + FRAGMENT_PIECE_COST);
    p.pieces.push(f.piece);
    p.k = f.index;
    p.chars += f.piece.length;
    this.held += f.piece.length;
    this.charsAppended += f.piece.length;
    if (p.k < p.n) return null;
    const whole = p.pieces.join('');
    this.forget(f.senderTag);
    return whole;
  }

  /** Forgets the partial message of one remote instance (it sent an unfragmented message, §Receiving Fragments). */
  forget(senderTag: number): void {
    const p = this.partials.get(senderTag);
    if (!p) return;
    this.held -= p.chars;
    this.partials.delete(senderTag);
    this.budget?.changed(this, -(p.chars + p.pieces.length * FRAGMENT_PIECE_COST));
  }

  /** Forgets every partial message (untagged input arrived). */
  clear(): void {
    this.partials.clear();
    this.budget?.writeOff(this);
    this.held = 0;
  }

  /** For the account's budget: drops the oldest partial message. */
  dropOldest(): boolean {
    const oldest = this.partials.keys().next().value;
    if (oldest === undefined) return false;
    this.forget(oldest);
    return true;
  }
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
