/**
 * The account-wide budget of state kept from unauthenticated peers (ts/shared-budget.ts): room is taken from
 * the least recently grown other holder, never from the one growing; a holder emptied without telling the
 * budget (cleared in place, thrown away) is written off when asked for room, so it cannot pin the budget.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SharedBudget, type BudgetHolder } from '../ts/shared-budget.js';

/** A holder of entries of given sizes, oldest first, that reports to `budget`. */
function holder(budget: SharedBudget) {
  const entries: number[] = [];
  const h: BudgetHolder & { entries: number[]; add(n: number): void } = {
    entries,
    add(n: number) {
      budget.makeRoom(h, n);
      entries.push(n);
      budget.changed(h, n);
    },
    dropOldest() {
      const n = entries.shift();
      if (n === undefined) return false;
      budget.changed(h, -n);
      return true;
    },
  };
  return h;
}

test('room comes from the least recently grown other holder, oldest entries first', () => {
  const budget = new SharedBudget(100);
  const [a, b, c] = [holder(budget), holder(budget), holder(budget)];
  a.add(30);
  b.add(30);
  a.add(10); // a grew last: b is now the least recently grown
  c.add(40);
  assert.equal([a.entries, b.entries, c.entries], [[30, 10], [], [40]]);
  assert.is(budget.heldTotal, 80);
  c.add(50); // a gives back its oldest (30), which is enough
  assert.equal([a.entries, c.entries], [[10], [40, 50]]);
  assert.is(budget.heldTotal, 100);
  c.add(10); // then its next
  assert.equal([a.entries, c.entries], [[], [40, 50, 10]]);
  assert.is(budget.heldTotal, 100);
});

test('the growing holder is never emptied by its own request: alone, it may pass the bound (its own bound covers it)', () => {
  const budget = new SharedBudget(50);
  const a = holder(budget);
  a.add(40);
  a.add(40);
  assert.equal(a.entries, [40, 40]);
  assert.is(budget.heldTotal, 80);
});

test('a holder emptied without telling is written off when room is needed; counts never go negative', () => {
  const budget = new SharedBudget(100);
  const [a, b] = [holder(budget), holder(budget)];
  a.add(60);
  a.entries.length = 0; // cleared in place, the budget not told
  b.add(70);
  assert.is(budget.heldTotal, 70, 'a written off');
  budget.changed(a, -60); // a late release of what was written off
  assert.is(budget.heldTotal, 70);
  budget.writeOff(b);
  budget.writeOff(b);
  assert.is(budget.heldTotal, 0);
});

test.run();
