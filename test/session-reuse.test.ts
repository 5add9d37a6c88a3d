/**
 * The session's side of the per-message reuse (session 7): every data message is received with
 * `transientPlaintext` (the ratchet may hand a view of its reused buffer), so the session must decode the
 * text, copy the TLVs and wipe the plaintext before anything else runs. After every receive — text, padded,
 * extra-key, SMP and disconnect TLVs, a message from a host callback — the reused places are zero and the
 * received texts and events are what they were.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Outcome } from '../ts/index.js';
import { makePair, pump } from './helpers/session-pair.js';
import { BACKENDS } from './helpers/backends.js';
import { openPlacesForTests } from '../ts/ratchet/receive.js';
import { sealPlacesForTests } from '../ts/ratchet/send.js';

const texts = (o: Outcome): string[] => o.messages.map((m) => m.text);
const allZero = () => [...openPlacesForTests(), ...sealPlacesForTests()].every((p) => p.every((x) => x === 0));

for (const be of BACKENDS) {
  test(`received plaintexts leave no byte in the reused places: texts, padding, extra keys, SMP, disconnect [${be.name}]`, () => {
    const { a, b } = makePair(be, 71, { policy: { paddingBlock: 256 } });
    pump(a, b, a.start());
    const secret = 'the secret plan ✓ '.repeat(20);
    for (let i = 0; i < 4; i++) {
      const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
      const got = to.receive(from.send(`${secret}${i}`).toSend[0]!);
      assert.equal(texts(got), [`${secret}${i}`]);
      assert.ok(allZero(), `zero after message ${i}`);
    }
    const extra = b.receive(a.send('with a key', { extraKey: { context: Uint8Array.of(0, 0, 0, 1), data: Uint8Array.of(9, 9) } }).toSend[0]!);
    assert.equal(texts(extra), ['with a key']);
    assert.ok(extra.events.some((e) => e.type === 'extra-key'));
    assert.ok(allZero(), 'zero after an extra-key message');
    const smp = pump(a, b, a.startSmp('answer', 'question?'));
    pump(b, a, b.answerSmp('answer'), smp);
    assert.ok([...smp.a, ...smp.b].flatMap((o) => o.events).some((e) => e.type === 'smp' && e.status === 'succeeded'));
    assert.ok(allZero(), 'zero after SMP');
    const end = b.receive(a.end().toSend[0]!);
    assert.ok(end.events.some((e) => e.type === 'finished'));
    assert.ok(allZero(), 'zero after the disconnect TLV');
  });
}

test.run();
