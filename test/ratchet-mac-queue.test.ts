/**
 * The MAC-key queue as one buffer (ts/ratchet/mac-queue.ts): ratchet states are immutable values sharing
 * queue buffers, so only the view that owns a buffer writes in it. A stale state (or a clone, or a restored
 * queue) appending or trimming must never change a byte another state sees; the owner's appends are in
 * place; releasing wipes. And the representation must not change the wire: the reveal scenario's bytes are
 * pinned to main's before the change (same seed, same messages).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { appendMacKey, dropOldestMacKeys, MAC_KEY_BYTES, macKeyCount, macKeysFrom, macKeysOf, NO_MAC_KEYS, releaseMacKeys } from '../ts/ratchet/mac-queue.js';
import { BACKENDS } from './helpers/backends.js';
import { revealScenario } from './helpers/reveal-scenario.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { cloneRatchetState, wipeRatchetState } from '../ts/ratchet/index.js';
import { seededRatchetPair } from './helpers/ratchet-pair.js';

const key = (n: number) => new Uint8Array(MAC_KEY_BYTES).fill((n % 255) + 1);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const build = (n: number, from = NO_MAC_KEYS, first = 0) => {
  let q = from;
  for (let i = 0; i < n; i++) q = appendMacKey(q, key(first + i));
  return q;
};
const expectKeys = (q: Uint8Array, ids: number[], what: string) =>
  assert.equal(macKeysOf(q).map((k) => k[0]! - 1), ids.map((n) => n % 255), what);
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

test('appends: the keys concatenated, oldest first; the owner appends in place (amortised: few buffers)', () => {
  let q = NO_MAC_KEYS;
  const buffers = new Set<ArrayBufferLike>();
  for (let i = 0; i < 1000; i++) {
    const k = key(i);
    q = appendMacKey(q, k);
    buffers.add(q.buffer);
    assert.ok(k.every((x) => x === ((i % 255) + 1)), 'the appended key is copied, not taken');
  }
  assert.is(macKeyCount(q), 1000);
  assert.is(q.length, 64_000);
  expectKeys(q, range(0, 1000), 'every key in order');
  // Doubling from 16 keys: 16, 32, ... 2048 — 8 buffers for 1,000 keys, not one per key.
  assert.ok(buffers.size <= 8, `${buffers.size} buffers`);
  assert.throws(() => appendMacKey(q, new Uint8Array(63)), /64 bytes/);
  assert.is(NO_MAC_KEYS.length, 0, 'the shared empty queue is never written');
});

test('a stale state appending never changes a byte the newer state sees (nor its own)', () => {
  const s0 = build(5);
  const s1 = appendMacKey(s0, key(100)); // in place: s1 owns the buffer now
  assert.is(s1.buffer, s0.buffer);
  const before0 = hex(s0);
  const before1 = hex(s1);
  // The stale s0 appends: it no longer owns the tail, so it gets a fresh buffer.
  const fork = appendMacKey(s0, key(200));
  assert.is.not(fork.buffer, s1.buffer);
  assert.is(hex(s1), before1, 'the newer state is unchanged');
  assert.is(hex(s0), before0, 'the stale state is unchanged');
  expectKeys(fork, [0, 1, 2, 3, 4, 200], 'the fork has its own keys');
  // Both go on appending, each in its own buffer, without touching the other.
  const s2 = build(40, s1, 300);
  const f2 = build(40, fork, 500);
  expectKeys(s2, [0, 1, 2, 3, 4, 100, ...range(300, 340)], 'the owner line');
  expectKeys(f2, [0, 1, 2, 3, 4, 200, ...range(500, 540)], 'the fork line');
  // The owner line outgrew the shared buffer and moved: the buffer it consumed is wiped, so the stale s0 —
  // consumed too — now shows zeros, never another state's keys.
  assert.ok(s0.every((x) => x === 0), 'the stale view of a consumed buffer is wiped');
});

test('a stale state trimming or releasing never wipes the newer state\'s keys; the owner\'s trim wipes in place', () => {
  const s0 = build(10);
  const s1 = appendMacKey(s0, key(10));
  const before1 = hex(s1);
  // The stale s0 drops its 3 oldest: a copy, nothing of the shared bytes wiped.
  const t0 = dropOldestMacKeys(s0, 3);
  expectKeys(t0, range(3, 10), 'the stale line trimmed');
  assert.is.not(t0.buffer, s1.buffer);
  assert.is(hex(s1), before1, 'the owner keeps its keys');
  releaseMacKeys(s0);
  assert.is(hex(s1), before1, 'releasing a stale view wipes nothing of the owner');
  // The owner drops its 4 oldest: wiped in place, the rest stays owned (the next append is in place).
  const s2 = dropOldestMacKeys(s1, 4);
  assert.is(s2.buffer, s1.buffer);
  assert.ok(s1.subarray(0, 4 * MAC_KEY_BYTES).every((x) => x === 0), 'the dropped keys are wiped');
  expectKeys(s2, range(4, 11), 'the rest');
  const s3 = appendMacKey(s2, key(11));
  assert.is(s3.buffer, s2.buffer, 'still the owner: appended in place');
  expectKeys(s3, range(4, 12), 'after the trim');
  // Dropping everything (or more) releases the queue.
  assert.is(dropOldestMacKeys(s3, 99), NO_MAC_KEYS);
  assert.ok(new Uint8Array(s3.buffer).every((x) => x === 0), 'the whole buffer wiped');
  assert.is(dropOldestMacKeys(NO_MAC_KEYS, 3), NO_MAC_KEYS);
  const same = build(2);
  assert.is(dropOldestMacKeys(same, 0), same);
});

test('growth moves the owner to a fresh buffer and wipes the old one; release wipes the owner\'s buffer', () => {
  const q16 = build(16); // the first buffer holds 16 keys exactly
  const old = q16.buffer;
  const q17 = appendMacKey(q16, key(16));
  assert.is.not(q17.buffer, old);
  assert.ok(new Uint8Array(old).every((x) => x === 0), 'the consumed buffer is wiped');
  expectKeys(q17, range(0, 17), 'the keys moved');
  releaseMacKeys(q17);
  assert.ok(new Uint8Array(q17.buffer).every((x) => x === 0));
  // An array this module never made (a hand-built state) is wiped on release, as key arrays were.
  const loose = new Uint8Array(128).fill(7);
  releaseMacKeys(loose);
  assert.ok(loose.every((x) => x === 0));
});

test('macKeysFrom: an owned copy (restore, clone); refuses partial keys', () => {
  const src = build(3);
  const copy = macKeysFrom(src);
  assert.is(hex(copy), hex(src));
  assert.is.not(copy.buffer, src.buffer);
  const grown = appendMacKey(copy, key(3));
  assert.is(grown.buffer, copy.buffer, 'the copy owns its buffer');
  expectKeys(src, [0, 1, 2], 'the source untouched');
  assert.is(macKeysFrom(new Uint8Array(0)), NO_MAC_KEYS);
  assert.throws(() => macKeysFrom(new Uint8Array(65)), /64 bytes/);
});

for (const b of BACKENDS) {
  test(`[${b.name}] cloneRatchetState and wipeRatchetState: a clone's queue is its own`, () => {
    const { alice } = seededRatchetPair(b, 3);
    const s = { ...alice, macKeysToReveal: build(4) };
    const c = cloneRatchetState(s);
    assert.is(hex(c.macKeysToReveal), hex(s.macKeysToReveal));
    assert.is.not(c.macKeysToReveal.buffer, s.macKeysToReveal.buffer);
    wipeRatchetState(c);
    expectKeys(s.macKeysToReveal, [0, 1, 2, 3], 'the original keeps its keys');
    assert.ok(c.macKeysToReveal.every((x) => x === 0));
  });

  test(`[${b.name}] the wire is unchanged: queued, trimmed and revealed MAC keys give main's bytes`, () => {
    const wire = revealScenario(b, 77);
    assert.is(wire.length, 72);
    // sha-256 of the scenario's messages as main (before session 7, the queue as a list of arrays) wrote them.
    assert.is(createHash('sha256').update(wire.join('\n')).digest('hex'), 'a5f200db9defe90e533e67479aad33489b02b2338efbaf0ae1ee7863ac1af6aa');
    // And the scenario does reveal: trimmed runs (at most 12 keys), and the disconnect-style reveal.
    const revealed = wire.map((h) => decodeDataMessage(Uint8Array.from(Buffer.from(h, 'hex'))).revealedMacs.length / MAC_KEY_BYTES);
    assert.ok(revealed.filter((n) => n > 0).length >= 6, `reveals: ${revealed.join(',')}`);
    assert.ok(Math.max(...revealed) <= 12 && Math.max(...revealed) >= 9, `the bound: ${Math.max(...revealed)}`);
  });
}

test.run();
