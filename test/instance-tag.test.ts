import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  acceptInboundTags,
  formatInstanceTag,
  generateInstanceTag,
  isValidInstanceTag,
  isValidReceiverTag,
  isValidSenderTag,
  receiverTagMatches,
} from '../ts/instance-tag.js';
import { OtrArgumentError } from '../ts/errors.js';
import { seededRandom } from './helpers/rng.js';

test('validity: 0 or >= 0x100; sender tags >= 0x100', () => {
  for (const t of [0, 0x100, 0x101, 0xffffffff]) assert.ok(isValidInstanceTag(t), String(t));
  for (const t of [1, 0xff, -1, 0x100000000, 1.5, NaN]) assert.not.ok(isValidInstanceTag(t), String(t));
  assert.not.ok(isValidSenderTag(0));
  assert.not.ok(isValidSenderTag(0xff));
  assert.ok(isValidSenderTag(0x100));
  assert.ok(isValidReceiverTag(0));
  assert.not.ok(isValidReceiverTag(0x80));
});

test('generation draws from the injected source and never returns a reserved tag', () => {
  const rnd = seededRandom(7);
  for (let i = 0; i < 2000; i++) {
    const t = generateInstanceTag(rnd);
    assert.ok(t >= 0x100 && t <= 0xffffffff);
  }
  // A source whose first draws are reserved values is re-drawn, not clamped.
  const draws = [Uint8Array.of(0, 0, 0, 0x42), Uint8Array.of(0, 0, 0, 0xff), Uint8Array.of(0, 0, 1, 0)];
  assert.is(generateInstanceTag(() => draws.shift()!), 0x100);
  // Deterministic: the same seed gives the same tag.
  assert.is(generateInstanceTag(seededRandom(99)), generateInstanceTag(seededRandom(99)));
  assert.throws(() => generateInstanceTag((n) => new Uint8Array(n)), (e: unknown) => e instanceof OtrArgumentError);
});

test('receiver tag: non-zero must be ours; zero only where allowed (Identity)', () => {
  const ours = 0x12345678;
  assert.ok(receiverTagMatches(ours, ours, false));
  assert.not.ok(receiverTagMatches(ours + 1, ours, true));
  assert.ok(receiverTagMatches(0, ours, true));
  assert.not.ok(receiverTagMatches(0, ours, false));
  assert.not.ok(receiverTagMatches(0x50, ours, true));
  assert.ok(acceptInboundTags(0x100, ours, ours, false));
  assert.not.ok(acceptInboundTags(0xff, ours, ours, false));
  assert.not.ok(acceptInboundTags(0x100, 0, ours, false));
});

test('formatting is 8 lowercase hex digits', () => {
  assert.is(formatInstanceTag(0x100), '00000100');
  assert.is(formatInstanceTag(0xd7ba32d8), 'd7ba32d8');
  assert.throws(() => formatInstanceTag(-1), (e: unknown) => e instanceof OtrArgumentError);
});

test.run();
