/**
 * The account's bound on its conversation records (limits.maxAccountConversations; session 11). Session 10
 * bounded the records that hold only pending DAKEs (pending-dakes.ts); every other conversation kept its
 * record — plaintext from a stranger (whitespace advertising stops, and that is persisted), a DAKE completed
 * from a JID a hostile server controls — bounded only by the store's maxRecordsPerAccount. Past that the store
 * refuses every commit that adds a record, and a refused record goes again with the next outcome of any
 * conversation (account.commitFailed): the whole account was locked (attacks/s11-records-flood).
 *
 * When a call creates a record past the bound, the account ranks the records it knows of and forgets the
 * least valuable: by value first (Conversation.recordValue: a stranger's record without a session, then a
 * session nobody here asked for, then the host's), least recently written first within a value. What the
 * account knows of a record it has not decoded (attached by a lazy restore) is only a guess from the trust
 * store, always the record's lower bound (a key the user verified or revoked: the host's; a fingerprint seen:
 * a session once); such a record is decoded when its turn comes, and goes back in the ranking at its real
 * value if that is higher. Each record is decoded at most once this way (it stays decoded).
 *
 * Not a PendingDakeIndex or a SharedBudget: those keep an order updated as entries grow, which for records
 * would be a map update on every message. Here the order is read from a stamp on the conversation
 * (recordSeq, one field write per record written) and ranked only when the bound is passed, in batches
 * (records.ts boundRecords), so the data path pays one integer comparison.
 */

/** One record the account could forget. */
export interface RecordCandidate {
  readonly peer: string;
  /** 0 a stranger's (no session), 1 a session nobody here asked for, 2 the host's (Conversation.recordValue). */
  value: number;
  /** When it was last written (Conversation.recordSeq; 0: not written by this process, the idlest). */
  readonly seq: number;
  /** `value` is a guess (an attached record not decoded yet): settled before it is evicted. */
  provisional: boolean;
}

export interface RecordEvictor {
  /** Decodes a provisional candidate: its real value (undefined: it does not decode, and goes as the least valuable). */
  settle(peer: string): number | undefined;
  /** Forgets the conversation and deletes its record; false when it must be left alone (its own call is under way). */
  evict(peer: string): boolean;
}

const byValueThenIdle = (a: RecordCandidate, b: RecordCandidate) => a.value - b.value || a.seq - b.seq;

/** The host's (Conversation.recordValue 2). */
export const HOSTS = 2;

/**
 * Forgets `required` of `candidates`, least valuable first, then up to `batch` more — never the host's unless
 * `required` itself reached them. The batch only spares the next calls a ranking; after a restart the store's
 * listed records are not candidates, and a batch that went on to the host's conversations evicted them with
 * strangers' records still in the store (attacks/s11-review2-bound). It does take sessions nobody asked for
 * after strangers: stopping there would rank on every call of a plaintext flood into an account a DAKE flood
 * filled. Returns how many went.
 *
 * Decodes (settles) at most `required + batch` provisional candidates ranked below the host's, as many as it
 * may forget. A guess is the trust store's, which forgets the peers a flood pushes out, so a hostile server's
 * sessions can all be guessed strangers and each be found worth more once decoded: without the cap one call
 * decoded every such record before evicting anything (attacks/s12-review-settle-flood: 15,000 at the default
 * bound, 0.2–0.3 s of CPU for one stranger's plaintext, all of them left decoded). Past it, the provisional ones not visited yet rank as
 * the host's, first among them, for this call: the batch passes them, the excess takes them before any record
 * known to be the host's, decoding each (one found to be the host's goes after the others not yet decoded —
 * only the user's own actions make such records, no peer's); later calls settle them in turn.
 */
export function evictLeastValuable(candidates: RecordCandidate[], required: number, batch: number, evictor: RecordEvictor): number {
  candidates.sort(byValueThenIdle);
  let evicted = 0;
  let settles = required + batch;
  /** Provisional candidates ranked as the host's once `settles` ran out (unknownFrom): their worth is not known. */
  let unknown: Set<RecordCandidate> | undefined;
  /** The batch beyond `required` stops above this: the host's only if `required` reached them. */
  let ceiling = HOSTS - 1;
  for (let i = 0; i < candidates.length && evicted < required + batch; i++) {
    const c = candidates[i]!;
    // Ranked: every later one is worth at least as much (a guess is a lower bound: nothing is decoded for it).
    if (evicted >= required && c.value > ceiling) break;
    if (c.provisional) {
      if (settles === 0 && unknown === undefined) {
        unknown = unknownFrom(candidates, i);
        i--; // the candidate now at i is the next one not yet visited
        continue;
      }
      if (!unknown?.has(c)) settles--;
      c.provisional = false;
      const real = evictor.settle(c.peer);
      if (real !== undefined && (real > c.value || (real === HOSTS && unknown?.delete(c)))) {
        // Worth more than guessed (or the host's after all): back in the ranking at its place among those not yet visited.
        c.value = real;
        candidates.splice(i, 1);
        let at = i;
        while (at < candidates.length && byValueThenIdle(candidates[at]!, c) <= 0) at++;
        candidates.splice(at, 0, c);
        i--; // the candidate now at i is the next one not yet visited
        continue;
      }
      if (real !== undefined) c.value = real; // below the host's rank unknownFrom gave it
    }
    if (evictor.evict(c.peer)) {
      evicted++;
      if (c.value > ceiling) ceiling = c.value;
    }
  }
  return evicted;
}

/**
 * No decoding left in this call: the provisional candidates from `from` on rank as the host's, first among
 * them (what is not known to be the host's goes before what is), ranked again once. Returns them.
 */
function unknownFrom(candidates: RecordCandidate[], from: number): Set<RecordCandidate> {
  const unknown = new Set<RecordCandidate>();
  const rest = candidates.splice(from);
  for (const c of rest)
    if (c.provisional) {
      c.value = HOSTS;
      unknown.add(c);
    }
  rest.sort(unknownFirst);
  for (const c of rest) candidates.push(c);
  return unknown;
}

const unknownFirst = (a: RecordCandidate, b: RecordCandidate) => a.value - b.value || Number(b.provisional) - Number(a.provisional) || a.seq - b.seq;
