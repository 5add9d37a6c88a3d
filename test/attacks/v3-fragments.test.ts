/**
 * OTRv3 fragment reassembly under attack (issue 10, "Memory and persisted state an attacker can grow"): it
 * used to clone the whole v3 state, growing buffer included, on every fragment (4,096 fragments took
 * seconds). Reassembly must cost each fragment its own length: asserted by counting work (state copies
 * and characters buffered), never by timing — timing is the bench's job. And it is bounded: fragments from
 * many forged instances hold at most the limits, and cannot break another instance's message.
 */
import { serialize } from 'node:v8';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveLimits } from '../../ts/limits.js';
import { FRAGMENT_V3_OVERHEAD, fragmentV3 } from '../../ts/v3/fragment.js';
import { JS } from '../helpers/backends.js';
import { ALICE_TAG, BOB_TAG, encryptedPair } from '../interop/v3-pair.js';

/** Counts whole-state copies (the v3 layer copies a context with structuredClone) and their encoded size. */
function countCopies<T>(fn: () => T): { result: T; copies: number; bytes: number } {
  const original = globalThis.structuredClone;
  let copies = 0;
  let bytes = 0;
  globalThis.structuredClone = ((v: unknown, o?: StructuredSerializeOptions) => {
    copies++;
    bytes += serialize(v).length;
    return original(v, o);
  }) as typeof structuredClone;
  try {
    return { result: fn(), copies, bytes };
  } finally {
    globalThis.structuredClone = original;
  }
}

/** Alice sends Bob one message split into about `n` fragments; returns the work Bob did on them. */
function reassemble(n: number): { fragments: number; chars: number; copiesBeforeLast: number; bytesCopied: number; appended: number } {
  const { a, b } = encryptedPair(JS);
  const text = 'y'.repeat(n * 24);
  const whole = a.conv.send(text).toSend[0]!;
  const frags = fragmentV3(whole, Math.ceil(whole.length / n) + FRAGMENT_V3_OVERHEAD, ALICE_TAG, BOB_TAG);
  const before = b.conv.fragmentCharsAppended;
  const head = countCopies(() => frags.slice(0, -1).map((f) => b.conv.receive(f)));
  for (const r of head.result) assert.equal(r.toUser, []);
  const last = countCopies(() => b.conv.receive(frags[frags.length - 1]!));
  assert.equal(last.result.toUser, [text]);
  return {
    fragments: frags.length,
    chars: whole.length,
    copiesBeforeLast: head.copies,
    bytesCopied: head.bytes + last.bytes,
    appended: b.conv.fragmentCharsAppended - before,
  };
}

test('reassembly is linear: a fragment costs its own length, never a copy of the state or of what is held', () => {
  const small = reassemble(256);
  const large = reassemble(4096);
  assert.ok(large.fragments >= 3900, `${large.fragments} fragments`);
  for (const w of [small, large]) {
    // No whole-state copy per fragment: only the completed message is processed as a transaction.
    assert.is(w.copiesBeforeLast, 0, `state copies while buffering ${w.fragments} fragments`);
    // Each piece is buffered once: characters appended = the message's characters.
    assert.is(w.appended, w.chars);
  }
  // The one transaction at the end copies a context of constant size, whatever the fragment count.
  assert.ok(large.bytesCopied <= small.bytesCopied + 256, `${small.bytesCopied} vs ${large.bytesCopied} bytes copied`);
});

test('forged fragments from other instances neither break nor mix into the honest message', () => {
  const { a, b } = encryptedPair(JS);
  const whole = a.conv.send('z'.repeat(500)).toSend[0]!;
  const frags = fragmentV3(whole, 100, ALICE_TAG, BOB_TAG);
  const forged = (i: number, k: number, n: number): string => `?OTR|${(0x6666_0100 + i).toString(16)}|${BOB_TAG.toString(16)},${String(k).padStart(5, '0')},${String(n).padStart(5, '0')},QUFB,`;
  const shown: string[] = [];
  frags.forEach((f, i) => {
    // Before each honest piece: a forged first piece, and a forged out-of-order piece, from other instances.
    shown.push(...b.conv.receive(forged(i, 1, 3)).toUser);
    shown.push(...b.conv.receive(forged(i + 100, 2, 9)).toUser);
    shown.push(...b.conv.receive(f).toUser);
  });
  assert.equal(shown, ['z'.repeat(500)]);
});

test('fragments from many instances are bounded by the limits (count and characters)', () => {
  const limits = { maxPendingFragmentedMessages: 8, maxPendingFragmentChars: 4000 };
  const { b } = encryptedPair(JS, { limits });
  const L = resolveLimits(limits);
  for (let i = 0; i < 200; i++) {
    const piece = 'A'.repeat(100 + (i % 7) * 300);
    b.conv.receive(`?OTR|${(0x7000_0100 + i).toString(16)}|${BOB_TAG.toString(16)},00001,00003,${piece},`);
    const p = b.conv.pendingFragments;
    assert.ok(p.messages <= L.maxPendingFragmentedMessages, `${p.messages} partial messages`);
    assert.ok(p.chars <= L.maxPendingFragmentChars, `${p.chars} characters held`);
  }
  // One instance cannot exceed the per-message bound either.
  const r = b.conv.receive(`?OTR|7fff0100|${BOB_TAG.toString(16)},00001,00002,${'B'.repeat(5000)},`);
  assert.ok(r.events.some((e) => e.type === 'ignored'));
  assert.ok(b.conv.pendingFragments.chars <= L.maxPendingFragmentChars);
});

test.run();
