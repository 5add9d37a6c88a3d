/**
 * A bound on what the tables of many conversations hold together, for state kept from peers that have not
 * authenticated: partial fragmented messages (limits.maxAccountFragmentChars: each conversation's OTRv4
 * reassembler and OTRv3 table) and early data messages (limits.maxAccountEarlyDataBytes: each instance's).
 * Each table bounds itself per conversation or instance; without this, a peer with many identities (an XMPP
 * account costs nothing) multiplied that bound by the number of conversations it opened.
 *
 * When a holder is about to hold more and the total would pass the bound, the other holders give back room,
 * least recently grown first (a flood from many peers evicts the flood's own oldest entries before a quiet
 * conversation's). The growing holder itself is never emptied here: its own bound covers it, so the total
 * never passes the larger of the two bounds.
 *
 * The budget keeps its own count per holder, so a holder emptied or thrown away without telling it (a table
 * cleared in place, a conversation object dropped) cannot pin room: when asked for room and found empty, its
 * count is written off.
 */

/**
 * What one held fragment piece costs the account's fragment budget beyond its characters: the table's entry
 * for it (~28 bytes measured per one-character piece in a Map). Without it, one-character pieces held ~29
 * times the characters counted (test/attacks/s10-review-fragment-budget.test.ts).
 */
export const FRAGMENT_PIECE_COST = 32;

/** What one early data message costs the account's early-data budget beyond its bytes (its record and view). */
export const EARLY_MESSAGE_COST = 128;

/** A table the budget can ask to give back room. */
export interface BudgetHolder {
  /** Drops the holder's oldest entry, telling the budget how much it released; false if it holds none. */
  dropOldest(): boolean;
}

export class SharedBudget {
  private total = 0;
  /** What each holder holding something was counted for, least recently grown first. */
  private readonly held = new Map<BudgetHolder, number>();

  constructor(private readonly max: number) {}

  /** What every holder holds together (as counted). */
  get heldTotal(): number {
    return this.total;
  }

  /** `holder` is about to hold `amount` more: other holders give back room until the total has it. */
  makeRoom(holder: BudgetHolder, amount: number): void {
    // Map iteration tolerates the deletions changed() and writeOff() make as holders empty.
    for (const other of this.held.keys()) {
      if (this.total + amount <= this.max) return;
      if (other === holder) continue;
      while (this.total + amount > this.max && this.held.has(other)) if (!other.dropOldest()) this.writeOff(other);
    }
  }

  /**
   * `holder` is about to hold `amount` more: room made (makeRoom), then counted (changed). The one call every
   * growing table makes, so room is never made without the growth being counted, or counted without room.
   * makeRoom never empties `holder` itself, so counting before the table adds its entry is the same.
   */
  grow(holder: BudgetHolder, amount: number): void {
    this.makeRoom(holder, amount);
    this.changed(holder, amount);
  }

  /** `holder` now holds `delta` more (negative: released). A holder that grows becomes the most recent. */
  changed(holder: BudgetHolder, delta: number): void {
    const before = this.held.get(holder);
    if (before === undefined && delta <= 0) return; // written off meanwhile: nothing left counted for it
    const now = (before ?? 0) + delta;
    if (now <= 0) {
      this.writeOff(holder);
      return;
    }
    this.total += delta;
    if (delta > 0) this.held.delete(holder); // re-inserted last: the most recently grown
    this.held.set(holder, now);
  }

  /** Forgets what `holder` was counted for (it holds nothing any more, whatever it was counted for). */
  writeOff(holder: BudgetHolder): void {
    const n = this.held.get(holder);
    if (n === undefined) return;
    this.total -= n;
    this.held.delete(holder);
  }
}
