/**
 * Review of session 6's reused send buffers (wire/tlv.ts joinTextPlaintext's shared plaintext buffer,
 * wire/data.ts' reused draft): a secret must never be left in a shared buffer on an error path, and nothing
 * handed to the caller may be a view of a buffer the next send overwrites.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { joinTextPlaintext } from '../../ts/wire/tlv.js';
import { draftDataMessageSized } from '../../ts/wire/data.js';
import { OtrArgumentError } from '../../ts/errors.js';
import { wipe } from '../../ts/bytes.js';

/** The whole shared plaintext buffer, as an attacker with a heap view of it would see it. */
function sharedBuffer(): Uint8Array {
  const probe = joinTextPlaintext('', [], 0);
  return new Uint8Array(probe.plaintext.buffer);
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

test('attack: a bad padding block (NaN, negative: a stored per-peer policy override) leaves no text in the shared buffer', () => {
  const secret = 'attack at dawn, the password is hunter2';
  const bytes = new TextEncoder().encode(secret);
  // NaN slips past the "might it not fit" bound (every comparison with NaN is false) and -1 shrinks it: both
  // reach the shared buffer, and paddingTlv refuses the block only after the text was encoded into it.
  for (const block of [NaN, -1, -4096, 2.5]) {
    assert.throws(() => joinTextPlaintext(secret, [], block), (e: unknown) => e instanceof OtrArgumentError, `block ${block}`);
    assert.not.ok(contains(sharedBuffer(), bytes), `block ${block}: the refused plaintext was left in the shared buffer`);
  }
});

test('safe: a sealed reused draft is overwritten by the next one, so only the armoured string may be kept', () => {
  const header = {
    senderTag: 0x100,
    receiverTag: 0x200,
    flags: 0,
    previousChainLength: 0,
    ratchetId: 1,
    messageId: 0,
    ecdh: new Uint8Array(57).fill(7),
    dh: new Uint8Array(0),
    revealedMacs: new Uint8Array(0),
  };
  const a = draftDataMessageSized(header, 10, true);
  a.ciphertext.fill(0xaa);
  const ma = a.seal(new Uint8Array(64).fill(1));
  const copyA = ma.slice();
  const b = draftDataMessageSized({ ...header, messageId: 1 }, 10, true);
  // The fresh draft's ciphertext and authenticator start zero even though the buffer held A's.
  assert.ok(b.ciphertext.every((x) => x === 0));
  b.ciphertext.fill(0xbb);
  b.seal(new Uint8Array(64).fill(2));
  assert.is(ma.buffer, b.authenticated.buffer, 'reuse is what the option asks for');
  assert.not.equal(Array.from(ma), Array.from(copyA), 'a kept view of A now shows B: callers must encode at once');
  // Without reuse, the message is the caller's own.
  const c = draftDataMessageSized(header, 10, false);
  assert.is.not(c.authenticated.buffer, ma.buffer);
  wipe(copyA);
});

test.run();
