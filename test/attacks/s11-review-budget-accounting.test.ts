/**
 * Pin (session 11 review): the account's fragment budget (ts/shared-budget.ts) counts exactly what its tables
 * hold, whatever order hostile fragments come in. Several OTRv4 reassemblers and OTRv3 tables share one small
 * budget; seeded random fragments — new messages, duplicates, totals that disagree, pieces out of order, empty
 * and oversized pieces, completions, tables cleared in place — and after every step each table's count in the
 * budget is what it holds (characters + FRAGMENT_PIECE_COST per piece): no growth without release (a leak
 * that would pin room), no release twice (room that is not there), no table charged for another's entries.
 * Every table cleared at the end leaves the budget at 0.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FragmentReassembler } from '../../ts/codec/fragment.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { FRAGMENT_PIECE_COST, SharedBudget, type BudgetHolder } from '../../ts/shared-budget.js';
import { FragmentTable } from '../../ts/v3/fragment.js';
import { seededRandom } from '../helpers/rng.js';

const limits = { ...DEFAULT_LIMITS, maxFragmentsPerMessage: 6, maxPendingFragmentedMessages: 3, maxPendingFragmentChars: 40, maxMessageChars: 30 };

/** What a table really holds, read from its own state: characters and pieces. */
function held(t: BudgetHolder): number {
  if (t instanceof FragmentReassembler) {
    const buffers = (t as unknown as { buffers: Map<string, { pieces: Map<number, string>; chars: number }> }).buffers;
    let n = 0;
    for (const b of buffers.values()) n += b.chars + b.pieces.size * FRAGMENT_PIECE_COST;
    return n;
  }
  const partials = (t as unknown as { partials: Map<number, { pieces: string[]; chars: number }> }).partials;
  let n = 0;
  for (const p of partials.values()) n += p.chars + p.pieces.length * FRAGMENT_PIECE_COST;
  return n;
}

const counted = (b: SharedBudget, t: BudgetHolder): number => (b as unknown as { held: Map<BudgetHolder, number> }).held.get(t) ?? 0;

test('random hostile fragments into tables sharing one budget: every table counted exactly, 0 at the end', () => {
  for (const seed of [1, 2, 3, 4]) {
    const rnd = seededRandom(2500 + seed);
    const byte = () => rnd(1)[0]!;
    const budget = new SharedBudget(300);
    const v4 = [0, 1, 2].map(() => new FragmentReassembler(limits, budget));
    const v3 = [0, 1].map(() => new FragmentTable(limits, budget));
    const tables: BudgetHolder[] = [...v4, ...v3];
    for (let step = 0; step < 4000; step++) {
      const r = byte();
      const piece = 'x'.repeat(byte() % 17); // 0..16 characters, some past what one message may hold
      const total = 1 + (byte() % 6);
      const index = 1 + (byte() % (total + 1)); // sometimes past the total
      const senderTag = 0x100 + (byte() % 4);
      if (r < 150) {
        v4[byte() % v4.length]!.add({ version: 4, identifier: byte() % 5, senderTag, receiverTag: 0, index, total, piece });
      } else if (r < 245) {
        try {
          v3[byte() % v3.length]!.add({ version: 3, senderTag, receiverTag: 0, index, total, piece });
        } catch {
          // OtrLimitError: that instance's partial message dropped (checked below like any other step)
        }
      } else if (r < 250) v3[byte() % v3.length]!.forget(senderTag);
      else if (r < 253) v4[byte() % v4.length]!.clear();
      else v3[byte() % v3.length]!.clear();
      for (const [i, t] of tables.entries()) assert.is(counted(budget, t), held(t), `seed ${seed} step ${step}: table ${i} counted as it holds`);
      assert.is(budget.heldTotal, tables.reduce((n, t) => n + held(t), 0), `seed ${seed} step ${step}: the total is the sum`);
    }
    for (const t of v4) t.clear();
    for (const t of v3) t.clear();
    assert.is(budget.heldTotal, 0, `seed ${seed}: nothing left counted`);
  }
});

test.run();
