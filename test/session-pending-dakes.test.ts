/**
 * The account's index of pending DAKEs peers started (ts/session/pending-dakes.ts): counts, order (least
 * recently started first), the two eviction passes (strangers, then anyone), and the conversation whose
 * admission passed the bound never asked to give its DAKEs back. The account's use of it is
 * test/attacks/s10-dake-flood-account.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PendingDakeIndex, type PendingEntry } from '../ts/session/pending-dakes.js';

/** Evicts every entry asked about whose peer is in `strangers` (first pass) or any (second pass); logs the asks. */
function evictor(index: PendingDakeIndex, strangers: ReadonlySet<string>, log: string[]) {
  return (peer: string, _e: PendingEntry, strangersOnly: boolean) => {
    log.push(`${strangersOnly ? 's' : 'a'}:${peer}`);
    if (!strangersOnly || strangers.has(peer)) index.forget(peer);
  };
}

test('counts admissions per conversation; the most recently started is last', () => {
  const ix = new PendingDakeIndex(10);
  ix.added('a', false, 1);
  ix.added('b', true, 1);
  ix.added('a', false, 2);
  assert.is(ix.count, 3);
  assert.equal(ix.get('a'), { count: 2, unbound: false });
  assert.equal(ix.get('b'), { count: 1, unbound: true });
  // 'a' was started last: with a bound of 0 and no one kept, 'b' is asked first.
  const log: string[] = [];
  const small = new PendingDakeIndex(0);
  small.added('a', false, 1);
  small.added('b', false, 1);
  small.added('a', false, 2);
  small.evict('none', evictor(small, new Set(['a', 'b']), log));
  assert.equal(log, ['s:b', 's:a']);
  assert.is(small.count, 0);
  ix.forget('a');
  assert.is(ix.count, 1);
  ix.forget('a');
  assert.is(ix.count, 1, 'forgetting twice changes nothing');
});

test('an admission sets the count to what the conversation holds: a replaced DAKE is not counted twice (s11)', () => {
  const ix = new PendingDakeIndex(3);
  ix.added('other', false, 1);
  for (let i = 0; i < 10; i++) ix.added('one', false, 1); // ten Identities to one instance: it holds one
  assert.equal(ix.get('one'), { count: 1, unbound: false });
  assert.is(ix.count, 2);
  assert.not.ok(ix.over);
  ix.added('one', true, 3);
  ix.added('one', false, 2); // one completed meanwhile: counted down at the next admission; unbound kept
  assert.equal(ix.get('one'), { count: 2, unbound: true });
  assert.is(ix.count, 3);
});

test('strangers go in the first pass, contacts only in the second, the growing conversation never', () => {
  const ix = new PendingDakeIndex(2);
  for (const peer of ['contact', 'x', 'y', 'growing']) ix.added(peer, false, 1);
  assert.ok(ix.over);
  const log: string[] = [];
  ix.evict('growing', evictor(ix, new Set(['x', 'y']), log));
  assert.equal(log, ['s:contact', 's:x', 's:y']);
  assert.is(ix.count, 2);
  assert.ok(ix.get('contact') && ix.get('growing'));
  // No stranger left: the contact goes in the second pass; the growing one is kept even over the bound.
  ix.added('growing', false, 2);
  const log2: string[] = [];
  ix.evict('growing', evictor(ix, new Set(), log2));
  assert.equal(log2, ['s:contact', 'a:contact']);
  assert.equal(ix.get('growing'), { count: 2, unbound: false });
  assert.ok(!ix.over);
});

test('a conversation decoded with pending DAKEs is counted once; one the index knows keeps its place', () => {
  const ix = new PendingDakeIndex(10);
  ix.seen('restored', 3, false);
  ix.seen('empty', 0, false);
  assert.is(ix.count, 3);
  assert.is(ix.get('empty'), undefined);
  ix.added('later', false, 1);
  ix.seen('restored', 5, false);
  assert.is(ix.count, 4, 'known already: not counted again');
  const log: string[] = [];
  const tight = new PendingDakeIndex(0);
  tight.seen('restored', 1, false);
  tight.added('later', false, 1);
  tight.seen('restored', 1, false);
  tight.evict('none', evictor(tight, new Set(['restored', 'later']), log));
  assert.equal(log, ['s:restored', 's:later']);
});

test.run();
