/**
 * The pool's per-account checkpoint holder (ts/pool/checkpoint-buffer.ts): one buffer overwritten in place.
 * It holds whole accounts (keys, ratchets), so what it no longer holds must be zero, and what leaves it must
 * be a copy a later overwrite cannot reach (Account.restore may keep views into its input).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CheckpointBuffer } from '../ts/pool/checkpoint-buffer.js';
import { Account, init } from '../ts/index.js';
import { OtrPool } from '../ts/pool/index.js';

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
/** The holder's private buffer (what would stay in memory), read for the test only. */
const inner = (b: CheckpointBuffer) => (b as unknown as { buf: Uint8Array }).buf;

test('holds what was set last, at its exact length, and takes a copy of the input', () => {
  const input = bytes(100, 7);
  const b = new CheckpointBuffer(input);
  input.fill(9);
  assert.equal(b.length, 100);
  assert.equal(b.copy(), bytes(100, 7));
  b.set(bytes(120, 3));
  assert.equal(b.copy(), bytes(120, 3));
});

test('a shorter checkpoint zeroes the tail the longer one left', () => {
  const b = new CheckpointBuffer(bytes(200, 0xaa));
  const buf = inner(b);
  b.set(bytes(50, 0x55));
  assert.equal(inner(b), buf, 'same buffer, overwritten in place');
  assert.equal(b.copy(), bytes(50, 0x55));
  assert.ok(buf.subarray(50).every((x) => x === 0), 'no byte of the longer checkpoint is left behind');
});

test('growing past the capacity moves to a new buffer and zeroes the old one', () => {
  const b = new CheckpointBuffer(bytes(10, 0xcc));
  const old = inner(b);
  b.set(bytes(old.length + 1, 0xdd));
  assert.is.not(inner(b), old);
  assert.ok(old.every((x) => x === 0));
  assert.equal(b.copy(), bytes(old.length + 1, 0xdd));
});

test('copies are independent of later overwrites; from() makes a second holder; wipe() zeroes all', () => {
  const b = new CheckpointBuffer(bytes(64, 1));
  const c = b.copy();
  const twin = CheckpointBuffer.from(b);
  b.set(bytes(64, 2));
  assert.equal(c, bytes(64, 1));
  assert.equal(twin.copy(), bytes(64, 1), 'the twin changes apart');
  b.wipe();
  assert.is(b.length, 0);
  assert.ok(inner(b).every((x) => x === 0));
  assert.equal(b.copy(), new Uint8Array(0));
});

test('through the pool: checkpoints handed out are copies a later call does not touch, and each restores', async () => {
  await init({ backend: 'wasm' });
  const pool = await OtrPool.start({ workers: 1, backend: 'wasm', checkpoints: 'every-call' });
  try {
    await pool.createAccount({ accountId: 'a', dsaKey: null });
    await pool.createAccount({ accountId: 'b', dsaKey: null });
    const a = pool.conversation('a', 'b');
    const b = pool.conversation('b', 'a');
    let queue = (await a.start()).toSend.map((t) => [b, t] as const);
    while (queue.length) {
      const next: (readonly [typeof a, string])[] = [];
      for (const [dst, t] of queue) for (const x of (await dst.receive(t)).toSend) next.push([dst === b ? a : b, x]);
      queue = next;
    }
    const before = pool.lastCheckpoint('a')!;
    const kept = before.slice();
    const out = await a.send('hello');
    assert.is((await b.receive(out.toSend[0]!)).messages[0]?.text, 'hello');
    const after = pool.lastCheckpoint('a')!;
    assert.equal(before, kept, 'a copy handed out earlier is not overwritten by the next checkpoint');
    assert.not.equal(after, before, 'the account changed');
    assert.equal(await pool.checkpoint('a'), pool.lastCheckpoint('a'));
    for (const bytes of [before, after]) assert.equal(Account.restore(bytes).peers, ['b']);
  } finally {
    await pool.close();
  }
});

/** The pool's holders of one account (private), read for the test only. */
function holders(pool: OtrPool, id: string): { checkpoint: CheckpointBuffer | undefined; durable: CheckpointBuffer | undefined } {
  return (pool as unknown as { accounts: Map<string, { checkpoint: CheckpointBuffer | undefined; durable: CheckpointBuffer | undefined }> }).accounts.get(id)!;
}

const zero = (b: Uint8Array) => b.every((x) => x === 0);

test('the pool zeroes the holders it lets go: unload, close, and the checkpoint a failed persist supersedes', async () => {
  await init({ backend: 'wasm' });
  let fail = false;
  const pool = await OtrPool.start({
    workers: 1,
    backend: 'wasm',
    onCheckpoint: () => {
      if (fail) throw new Error('disk full');
    },
  });
  try {
    await pool.createAccount({ accountId: 'a', dsaKey: null });
    await pool.createAccount({ accountId: 'b', dsaKey: null });
    await pool.createAccount({ accountId: 'c', dsaKey: null });
    // Unload: the account leaves the pool with its bytes; nothing of it stays behind in the holders.
    const a = holders(pool, 'a');
    const aBufs = [inner(a.checkpoint!), inner(a.durable!)];
    assert.ok(!zero(aBufs[0]!), 'the holder held the account');
    const out = await pool.unload('a');
    assert.equal(Account.restore(out).peers, [], 'the unloaded bytes are intact');
    for (const b of aBufs) assert.ok(zero(b), 'unload zeroed the holders of the account');
    // A failed persist reverts to the durable checkpoint: the newer one it drops (keys included) is zeroed.
    const c = holders(pool, 'c');
    const superseded = inner(c.checkpoint!);
    fail = true;
    await pool.conversation('c', 'x').start().then(
      () => assert.unreachable('the persist failed'),
      (e: Error) => assert.match(e.message, /onCheckpoint failed/),
    );
    fail = false;
    assert.is.not(inner(holders(pool, 'c').checkpoint!), superseded, 'the account was reverted to a copy of the durable bytes');
    assert.ok(zero(superseded), 'the superseded checkpoint was zeroed');
    // Close: every holder still held is zeroed.
    const b = holders(pool, 'b');
    const left = [inner(b.checkpoint!), inner(b.durable!), inner(holders(pool, 'c').checkpoint!)];
    await pool.close();
    for (const x of left) assert.ok(zero(x), 'close zeroed the holders');
  } finally {
    await pool.close();
  }
});

test.run();
