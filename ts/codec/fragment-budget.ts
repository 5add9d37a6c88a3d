/**
 * The characters of incomplete fragmented messages held by every conversation of one account together
 * (limits.maxAccountFragmentChars). Each conversation's tables (the OTRv4 FragmentReassembler, the OTRv3
 * FragmentTable) bound themselves by maxPendingFragmentChars; without this, a peer with many identities (an
 * XMPP account costs nothing) multiplied that bound by the number of conversations it opened.
 *
 * When a table is about to hold more and the account's total would pass the bound, the partial messages of
 * the other tables are dropped, least recently grown table first (a flood from many peers evicts the flood's
 * own oldest pieces before a quiet conversation's). The growing table itself is never emptied here: its own
 * per-conversation bound covers it, so the total never passes max(maxAccountFragmentChars,
 * maxPendingFragmentChars). A table dropped without releasing (a conversation object thrown away) is drained
 * like any other when room is needed, so nothing can pin the budget.
 */

/** A table of partial messages the budget can ask to give back room. */
export interface FragmentHolder {
  /** Drops the holder's least recently updated partial message (releasing its characters); false if none. */
  dropOldestPartial(): boolean;
}

export class FragmentBudget {
  private total = 0;
  /** Holders holding something, least recently grown first (a holder that grows is moved to the end). */
  private readonly holders = new Set<FragmentHolder>();

  constructor(private readonly maxChars: number) {}

  /** Characters held by every holder together. */
  get heldChars(): number {
    return this.total;
  }

  /** `holder` is about to hold `chars` more: drops other holders' partial messages until the total has room. */
  makeRoom(holder: FragmentHolder, chars: number): void {
    this.holders.delete(holder);
    this.holders.add(holder);
    // Set iteration tolerates the deletions release() makes as holders empty.
    for (const other of this.holders) {
      if (this.total + chars <= this.maxChars) return;
      if (other === holder) continue;
      while (this.total + chars > this.maxChars && other.dropOldestPartial());
    }
  }

  /** `holder` now holds `delta` more characters (negative: released); `holdsAny`: whether it holds any now. */
  changed(holder: FragmentHolder, delta: number, holdsAny: boolean): void {
    this.total += delta;
    if (!holdsAny) this.holders.delete(holder);
    else if (!this.holders.has(holder)) this.holders.add(holder);
  }
}
