/**
 * Session 9 review: fresh data messages up to 1 KiB are regions of a shared 8 KiB slab (wire/data.ts). A host
 * that transfers a message's buffer (detaching the slab), writes through a draft after sealing it, or abandons a
 * draft half-made must not corrupt another message, nor get a region twice.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { draftDataMessageSized, decodeDataMessage, type DataMessage } from '../../ts/wire/data.js';
import { bytesToHex } from '../../ts/bytes.js';
import { OtrArgumentError } from '../../ts/errors.js';
import { seededRandom } from '../helpers/rng.js';

const rnd = seededRandom(909);
const header: Omit<DataMessage, 'ciphertext' | 'authenticator'> = {
  senderTag: 0x101,
  receiverTag: 0x202,
  flags: 0,
  previousChainLength: 1,
  ratchetId: 4,
  messageId: 0,
  ecdh: rnd(57),
  dh: new Uint8Array(0),
  revealedMacs: new Uint8Array(0),
};

function message(id: number, ctLen: number): Uint8Array {
  const d = draftDataMessageSized({ ...header, messageId: id }, ctLen);
  d.ciphertext.fill(id & 0xff);
  return d.seal(new Uint8Array(64).fill(0xee));
}

test('a transferred (detached) slab: later messages are whole, in a fresh slab, and never overlap', () => {
  const first = message(1, 100);
  const sibling = message(2, 100);
  assert.is(sibling.buffer, first.buffer, 'two small messages share a slab');
  structuredClone(first.buffer, { transfer: [first.buffer] });
  assert.is(first.length, 0, 'the host detached the slab (and with it the sibling: documented)');
  const kept: { m: Uint8Array; hex: string }[] = [];
  for (let i = 0; i < 200; i++) {
    const m = message(i, (i * 53) % 900);
    assert.ok(m.length > 0 && m.buffer.byteLength > 0, `message ${i} lives in a buffer that is not detached`);
    kept.push({ m, hex: bytesToHex(m) });
  }
  for (const [i, k] of kept.entries()) {
    assert.is(bytesToHex(k.m), k.hex, `message ${i} intact`);
    assert.is(decodeDataMessage(k.m).messageId, i);
  }
});

test('writes through a sealed draft reach only its own message; a draft is sealed once; an abandoned one takes no one\'s region', () => {
  const d = draftDataMessageSized({ ...header, messageId: 7 }, 50);
  d.ciphertext.fill(7);
  const before = message(8, 40);
  const mine = d.seal(new Uint8Array(64));
  const after = message(9, 40);
  const hex = [bytesToHex(before), bytesToHex(after)];
  d.ciphertext.fill(0xff); // a host writing through the draft after sealing it
  assert.throws(() => d.seal(new Uint8Array(64)), (e: unknown) => e instanceof OtrArgumentError);
  assert.equal([bytesToHex(before), bytesToHex(after)], hex, 'the neighbours are untouched');
  assert.ok(mine.subarray(mine.length - 68 - 50, mine.length - 68).every((x) => x === 0xff), 'the write landed in its own message');
  // A draft abandoned (its seal refused): its region is never handed to another message.
  const abandoned = draftDataMessageSized({ ...header, messageId: 10 }, 30);
  assert.throws(() => abandoned.seal(new Uint8Array(63)), (e: unknown) => e instanceof OtrArgumentError);
  const next = message(11, 30);
  const a = abandoned.authenticated;
  const disjoint = next.buffer !== a.buffer || next.byteOffset >= a.byteOffset + a.length + 68 || next.byteOffset + next.length <= a.byteOffset;
  assert.ok(disjoint, 'the next message does not reuse the abandoned region');
});

test.run();
