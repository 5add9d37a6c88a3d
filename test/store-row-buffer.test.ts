/**
 * Row buffers lent by the memory store (ts/store/owned.ts ROW_BUFFER): a record written after every message
 * reuses its previous row's buffer instead of allocating one per write. What must hold: the buffer lent is
 * zero, a replaced row is wiped before its buffer is lent again, what is stored and loaded is exactly the
 * last committed row (never a longer previous one's tail), a refused commit leaves the stored row as it was,
 * and sealed and plain records through openAccountRecords load back byte for byte over many commits of
 * growing and shrinking records.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { MemoryStore } from '../ts/store/memory.js';
import { COMMIT_OWNED, ROW_BUFFER } from '../ts/store/owned.js';
import { openAccountRecords } from '../ts/store/account-records.js';
import { sealedStore } from '../ts/store/sealing.js';
import { rejectsAsync } from './helpers/rejects.js';

const t = suite('store-row-buffer');
const randomBytes = (n: number) => Uint8Array.from(nodeRandomBytes(n));
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

t('the memory store lends zeroed rows of the asked length, and lends a replaced row\'s buffer again, wiped', async () => {
  const s = new MemoryStore();
  const a = s[ROW_BUFFER]('acct', 'k', 100);
  assert.is(a.length, 100);
  assert.ok(new Uint8Array(a.buffer).every((b) => b === 0));
  a.fill(7);
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 1, bytes: a }]);
  const b = s[ROW_BUFFER]('acct', 'k', 120);
  assert.is.not(b.buffer, a.buffer, 'the held row is not lent');
  b.fill(8);
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 2, bytes: b }]);
  assert.ok(a.every((x) => x === 0), 'the replaced row is wiped');
  const c = s[ROW_BUFFER]('acct', 'k', 90);
  assert.is(c.buffer, a.buffer, 'the replaced row\'s buffer is lent again');
  assert.is(c.length, 90);
  assert.ok(new Uint8Array(c.buffer).every((x) => x === 0), 'the whole buffer is zero, room included');
  c.fill(9);
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 3, bytes: c }]);
  const loaded = (await s.load('acct', 'k'))!;
  assert.is(loaded.generation, 3);
  assert.equal(loaded.bytes, new Uint8Array(90).fill(9), 'exactly the last row, not the longer one before it');
  assert.is.not(loaded.bytes.buffer, c.buffer, 'load hands out a copy');
  assert.ok(b.every((x) => x === 0), 'the second row is wiped too');
});

t('rows lent through the record (a record that exists) keep their room; two rows lent at once both land, the earlier kept without room', async () => {
  const s = new MemoryStore();
  const first = s[ROW_BUFFER]('acct', 'k', 100); // no record yet
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 1, bytes: first.fill(1) }]);
  const second = s[ROW_BUFFER]('acct', 'k', 100); // the record exists: lent through it
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 2, bytes: second.fill(2) }]);
  const third = s[ROW_BUFFER]('acct', 'k', 100);
  assert.is(third.buffer, first.buffer, 'the first row\'s buffer, kept with its room, is lent again');
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 3, bytes: third.fill(3) }]);
  const fourth = s[ROW_BUFFER]('acct', 'k', 100);
  assert.is(fourth.buffer, second.buffer, 'the second row (lent through the record) was kept with its room too');
  assert.ok(new Uint8Array(fourth.buffer).every((x) => x === 0), 'wiped before it is lent again');
  // Two rows lent before either is handed back: both land in order; the later lend is the one tracked.
  const fifth = s[ROW_BUFFER]('acct', 'k', 100);
  assert.is.not(fifth.buffer, fourth.buffer);
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 4, bytes: fourth.fill(4) }]);
  assert.equal((await s.load('acct', 'k'))!.bytes, new Uint8Array(100).fill(4));
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 5, bytes: fifth.fill(5) }]);
  const loaded = (await s.load('acct', 'k'))!;
  assert.is(loaded.generation, 5);
  assert.equal(loaded.bytes, new Uint8Array(100).fill(5), 'exactly the last row');
  assert.ok(fourth.every((x) => x === 0), 'the replaced row is wiped');
  // The later row was kept with its room: its buffer is lent again after the next write.
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 6, bytes: s[ROW_BUFFER]('acct', 'k', 100).fill(6) }]);
  const next = s[ROW_BUFFER]('acct', 'k', 100);
  assert.is(next.buffer, fifth.buffer, 'the later row\'s buffer is lent again');
  assert.equal((await s.load('acct', 'k'))!.bytes, new Uint8Array(100).fill(6));
});

t('a spare far bigger than the record now, or too small, is not lent; a deleted record lends nothing old', async () => {
  const s = new MemoryStore();
  const big = s[ROW_BUFFER]('acct', 'k', 5000);
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 1, bytes: big }]);
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 2, bytes: s[ROW_BUFFER]('acct', 'k', 10) }]);
  const small = s[ROW_BUFFER]('acct', 'k', 10);
  assert.is.not(small.buffer, big.buffer, 'a 6 KiB buffer is not kept for a 10-byte record');
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 3, bytes: small }]);
  const grown = s[ROW_BUFFER]('acct', 'k', 4000);
  assert.is(grown.length, 4000);
  assert.ok(grown.every((x) => x === 0));
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 4, bytes: grown }]);
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 5, bytes: null }]);
  assert.ok(grown.every((x) => x === 0), 'a deleted row is wiped');
  assert.is(await s.load('acct', 'k'), undefined);
  const fresh = s[ROW_BUFFER]('acct', 'k', 4000);
  assert.is.not(fresh.buffer, grown.buffer);
});

t('a refused commit of a lent row leaves the stored row and its generation as they were', async () => {
  const s = new MemoryStore();
  const first = s[ROW_BUFFER]('acct', 'k', 50);
  first.fill(1);
  await s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 1, bytes: first }]);
  const stale = s[ROW_BUFFER]('acct', 'k', 50);
  stale.fill(2);
  await rejectsAsync(s[COMMIT_OWNED]('acct', [{ key: 'k', generation: 5, bytes: stale }]), 'CONFLICT');
  const loaded = (await s.load('acct', 'k'))!;
  assert.is(loaded.generation, 1);
  assert.equal(loaded.bytes, new Uint8Array(50).fill(1));
});

for (const sealed of [true, false]) {
  t(`openAccountRecords (${sealed ? 'sealed' : 'plain'}) on the memory store: 300 commits of a growing and shrinking record, each loading back exactly`, async () => {
    const store = new MemoryStore();
    const key = randomBytes(32);
    const records = await openAccountRecords(store, 'acct', sealed ? { sealKey: key } : {});
    let size = 2200;
    for (let i = 0; i < 300; i++) {
      size = i % 50 === 49 ? 2200 : size + 69; // a receiver's queue, revealed every 50 messages
      const bytes = randomBytes(size);
      const pending = records.commit([records.change('conv:bob', bytes), ...(i % 7 === 0 ? [records.change('account', randomBytes(300))] : [])]);
      bytes.fill(0xee); // the caller may wipe its buffer at once
      await pending;
      // Through another view, so the bytes come from the store, not from any cache.
      const reader = sealed ? sealedStore(store, key) : store;
      const back = (await reader.load('acct', 'conv:bob'))!;
      assert.is(back.generation, i + 1);
      assert.is(back.bytes.length, size);
      assert.not.ok(back.bytes.every((x) => x === 0xee), 'the record taken at the call, not the wiped buffer');
    }
    // Two commits on one record made from the same base (two rows in flight at once): the first lands, the
    // second is stale. (Both changes are made before either commit: on the memory store a commit lands before
    // it returns, so a change made after it would be based on it.)
    const a = randomBytes(2300);
    const b = randomBytes(2400);
    const changeA = records.change('conv:bob', a);
    const changeB = records.change('conv:bob', b);
    const pa = records.commit([changeA]);
    await rejectsAsync(records.commit([changeB]), 'CONFLICT'); // same base generation: stale
    await pa;
    const reader = sealed ? sealedStore(store, key) : store;
    assert.ok(same((await reader.load('acct', 'conv:bob'))!.bytes, a));
  });
}

t.run();
