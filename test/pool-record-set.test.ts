/**
 * The pool's per-account record holder (ts/pool/record-set.ts): one buffer per record, overwritten in place.
 * Records hold keys and ratchets, so what the set no longer holds must be zero (a replaced record's tail, a
 * deleted record, everything on wipe), and what leaves it must be a copy a later change cannot reach.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RecordSet } from '../ts/pool/record-set.js';
import type { CheckpointBuffer } from '../ts/pool/checkpoint-buffer.js';
import { OtrPool } from '../ts/pool/index.js';

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
/** The set's private buffers, read for the test only. */
const buffers = (s: RecordSet) => [...(s as unknown as { held: Map<string, { buf: CheckpointBuffer }> }).held.values()].map((h) => (h.buf as unknown as { buf: Uint8Array }).buf);
const zero = (b: Uint8Array) => b.every((x) => x === 0);

test('changes replace their record in place, at their generation; deletes zero and drop it; the account record comes first', () => {
  const s = new RecordSet([
    { key: 'conv:b', generation: 1, bytes: bytes(100, 1) },
    { key: 'account', generation: 1, bytes: bytes(50, 2) },
  ]);
  const [convBuf] = buffers(s);
  s.apply([{ key: 'conv:b', generation: 2, bytes: bytes(60, 3) }]);
  assert.is(buffers(s)[0], convBuf, 'same buffer, overwritten in place');
  assert.ok(convBuf!.subarray(60).every((x) => x === 0), 'the longer record leaves nothing behind');
  assert.equal(s.records().map((r) => [r.key, r.generation, r.bytes.length]), [['account', 1, 50], ['conv:b', 2, 60]]);
  s.apply([{ key: 'conv:b', generation: 3, bytes: null }]);
  assert.ok(zero(convBuf!), 'a deleted record is zeroed');
  assert.equal(s.records().map((r) => r.key), ['account']);
  assert.is(s.size, 1);
  assert.is(s.byteLength, 50);
});

test('copies are independent of later changes; from() makes a set that changes apart; wipe() zeroes all', () => {
  const s = new RecordSet([{ key: 'account', generation: 4, bytes: bytes(40, 9) }]);
  const out = s.records();
  const twin = RecordSet.from(s);
  s.apply([{ key: 'account', generation: 5, bytes: bytes(40, 8) }]);
  assert.equal(out[0]!.bytes, bytes(40, 9));
  assert.equal(twin.records()[0], { key: 'account', generation: 4, bytes: bytes(40, 9) });
  const held = buffers(s);
  s.wipe();
  assert.is(s.size, 0);
  assert.ok(held.every(zero));
  // The input buffers stay the caller's (copied in).
  const input = bytes(10, 7);
  const t = new RecordSet([{ key: 'account', generation: 1, bytes: input }]);
  input.fill(1);
  assert.equal(t.records()[0]!.bytes, bytes(10, 7));
});

/** The pool's holders of one account (private), read for the test only. */
function holders(pool: OtrPool, id: string): { checkpoint: RecordSet; durable: RecordSet } {
  return (pool as unknown as { accounts: Map<string, { checkpoint: RecordSet; durable: RecordSet }> }).accounts.get(id)!;
}

test('the pool zeroes the records it lets go: unload, the set a failed commit supersedes, close', async () => {
  let fail = false;
  const pool = await OtrPool.start({
    workers: 1,
    backend: 'wasm',
    onRecords: () => {
      if (fail) throw new Error('disk full');
    },
  });
  try {
    for (const id of ['a', 'b', 'c']) await pool.createAccount({ accountId: id, dsaKey: null });
    const a = holders(pool, 'a');
    const aBufs = [...buffers(a.checkpoint), ...buffers(a.durable)];
    assert.ok(aBufs.length === 2 && !aBufs.some(zero), 'the holders held the account');
    await pool.unload('a');
    assert.ok(aBufs.every(zero), 'unload zeroed the account records');
    // A failed commit reverts to the stored records: the newer set it drops is zeroed.
    await pool.conversation('c', 'x').startDake(); // a first conversation record (a DAKE in progress), stored
    const superseded = buffers(holders(pool, 'c').checkpoint);
    fail = true;
    await pool.conversation('c', 'y').startDake().then(
      () => assert.unreachable('the commit failed'),
      (e: Error) => assert.match(e.message, /onRecords failed/),
    );
    fail = false;
    assert.ok(superseded.every(zero), 'the superseded records were zeroed');
    const left = [...buffers(holders(pool, 'b').checkpoint), ...buffers(holders(pool, 'c').checkpoint), ...buffers(holders(pool, 'c').durable)];
    await pool.close();
    assert.ok(left.every(zero), 'close zeroed every record held');
  } finally {
    await pool.close();
  }
});

test.run();
