/**
 * Review of session 6's shared send buffers against re-entry: the host's clock and random source are called
 * in the middle of a send (the random source by a sending ratchet step, after the plaintext was assembled in
 * wire/tlv.ts' shared buffer; the clock after the message was laid out in wire/data.ts' reused draft, before
 * it is armoured). A host whose callback sends on another conversation from inside must not make either send
 * carry the other's text, nor lose it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Outcome } from '../../ts/index.js';
import type { Conversation } from '../../ts/session/conversation.js';
import { WASM } from '../helpers/backends.js';
import { makePair, establish } from '../helpers/session-pair.js';
import { hookedPair } from '../helpers/hooked-pair.js';

function texts(to: Conversation, out: Outcome): string[] {
  const got: string[] = [];
  for (const t of out.toSend) for (const m of to.receive(t).messages) got.push(m.text);
  return got;
}

test('attack: a send made from inside another send\'s clock or random callback: each message carries its own text', () => {
  const { a, b, arm, disarm, calls } = hookedPair(901, 902);
  const other = makePair(WASM, 903);
  establish(other);
  // Warm both directions so the next sends of each kind are on known paths.
  assert.equal(texts(b, a.send('warm a')), ['warm a']);
  assert.equal(texts(a, b.send('warm b')), ['warm b']);
  assert.equal(texts(other.b, other.a.send('warm other')), ['warm other']);
  // Every callback position of a send on the same chain and of a send that starts a new ratchet.
  let round = 0;
  for (const newRatchet of [false, true]) {
    if (newRatchet) assert.equal(texts(a, b.send('reply')), ['reply']);
    const before = calls();
    // Count the callbacks of one send of this kind first (the probe itself is a real message).
    assert.equal(texts(b, a.send('probe')), ['probe']);
    const n = calls() - before;
    let ran = 0;
    for (let at = 0; at < n; at++, round++) {
      if (newRatchet) assert.equal(texts(a, b.send(`reply ${round}`)), [`reply ${round}`]);
      let inner: Outcome | undefined;
      arm(() => {
        inner = other.a.send(`inner ${round}: for dave only`);
      }, at);
      const outer = a.send(`outer ${round}: for bob only`);
      disarm();
      const where = `${newRatchet ? 'new ratchet' : 'same chain'}, callback ${at} of ${n}`;
      if (inner === undefined) {
        // Fewer callbacks on this send than on the probe: the outer message still arrives, alone.
        assert.equal(texts(b, outer), [`outer ${round}: for bob only`], `${where}: the outer message`);
        continue;
      }
      ran++;
      assert.equal(texts(other.b, inner!), [`inner ${round}: for dave only`], `${where}: the inner message`);
      assert.equal(texts(b, outer), [`outer ${round}: for bob only`], `${where}: the outer message`);
    }
    assert.ok(ran >= 2, `${newRatchet ? 'new ratchet' : 'same chain'}: the hook ran inside ${ran} sends`);
  }
});

test.run();
