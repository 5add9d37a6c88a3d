/**
 * Attack (session 13 review, outside session 12's range): the pool and the memory store "copy" what a host hands
 * them with `bytes.slice()` — and a Node Buffer's slice() is a VIEW of the same memory, not a copy. A host's
 * bytes are very often Buffers (`fs.readFile`, a database driver, `Buffer.from(base64)`), so:
 *   - `pool.loadAccountRecords` (documented "the records stay the caller's (copied)") transferred the caller's
 *     own ArrayBuffers to the worker: every record Buffer the host held came back detached (length 0);
 *   - `pool.loadAccount` zeroed the caller's state Buffer after the load (meant for its own copy);
 *   - `MemoryStore.commit` kept a view of the caller's Buffer as the stored row: the caller reusing its buffer
 *     rewrote the row, and the store's wipe of a replaced row zeroed the caller's memory.
 * Now each copies with copyBytes (a new Uint8Array of its own).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { OtrPool } from '../../ts/pool/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID } from '../helpers/session-pair.js';

/** A Buffer with an ArrayBuffer of its own (as fs.readFile returns), holding `bytes`. */
function ownBuffer(bytes: Uint8Array): Buffer {
  const b = Buffer.alloc(bytes.length);
  b.set(bytes);
  return b;
}

const account = () => Account.create({ accountId: ALICE_ID, backend: be, dsaKey: null, random: seededRandom(1399) });

test("pool.loadAccountRecords with Buffers: the caller's records stay as they were (not detached, not zeroed)", async () => {
  const records = account().records().map((r) => ({ key: r.key, generation: 1, bytes: ownBuffer(r.bytes) }));
  const before = records.map((r) => Uint8Array.from(r.bytes));
  const pool = await OtrPool.start({ workers: 1 });
  try {
    await pool.loadAccountRecords(ALICE_ID, records);
    records.forEach((r, i) => assert.equal(Uint8Array.from(r.bytes), before[i], `record ${r.key}: the caller's bytes are left as they were`));
  } finally {
    await pool.close();
  }
});

test("pool.loadAccount with a Buffer: the caller's state stays as it was", async () => {
  const state = ownBuffer(account().serialize());
  const before = Uint8Array.from(state);
  const pool = await OtrPool.start({ workers: 1, checkpoints: 'every-call' });
  try {
    await pool.loadAccount(ALICE_ID, state);
    assert.equal(Uint8Array.from(state), before, "the caller's state is left as it was (before: zeroed)");
  } finally {
    await pool.close();
  }
});

test("MemoryStore.commit with a Buffer: the stored row is the store's own, whatever the caller does with its buffer", async () => {
  const store = new MemoryStore();
  const bytes = Buffer.from('an account record, kept by the store');
  await store.commit(ALICE_ID, [{ key: 'account', generation: 1, bytes }]);
  bytes.fill(0x41); // the caller reuses its buffer
  const row = await store.load(ALICE_ID, 'account');
  assert.is(Buffer.from(row!.bytes).toString(), 'an account record, kept by the store', 'the stored row is not the caller\'s memory');
  // A replaced row is wiped by the store: never the caller's buffer.
  const next = ownBuffer(new TextEncoder().encode('the next record'));
  await store.commit(ALICE_ID, [{ key: 'account', generation: 2, bytes: next }]);
  await store.commit(ALICE_ID, [{ key: 'account', generation: 3, bytes: new Uint8Array([1]) }]);
  assert.is(next.toString(), 'the next record', "the store's wipe of the replaced row left the caller's buffer alone");
});

test.run();
