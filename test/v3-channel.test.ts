/**
 * OTRv3 over an adversarial channel: a few thousand messages both ways through a network that drops,
 * duplicates and reorders. The protocol assumes in-order delivery and rejects what it cannot read; the
 * property here is that nothing is ever delivered wrongly (only texts that were sent, each at most once, by the
 * other side), that the session never breaks, and that most messages arrive.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { encryptedPair, type Side } from './interop/v3-pair.js';

test('drops, duplicates and reorders over 2,000 messages: nothing wrong or duplicated is delivered', () => {
  // errorStartAke off: an unreadable message then only draws an error, not a fresh AKE whose own messages the
  // channel would drop (that restart loop is the protocol's, not a property of the data path under test).
  const { a, b } = encryptedPair(WASM, { policy: { errorStartAke: false } });
  const rnd = seededRandom(2024);
  const r = (): number => rnd(1)[0]! / 256;
  const inflight: { to: Side; text: string }[] = [];
  const sent = new Set<string>();
  const delivered = new Map<Side, string[]>([
    [a, []],
    [b, []],
  ]);
  let messages = 0;
  let from = a;
  while (messages < 2000) {
    // Bursts in one direction (key rotation needs the other side to answer now and then).
    if (r() < 0.04) from = from === a ? b : a;
    const to = from === a ? b : a;
    const text = `${from === a ? 'A' : 'B'}#${messages++}`;
    sent.add(text);
    for (const m of from.conv.send(text).toSend) inflight.push({ to, text: m });
    // The network: deliver a few in-flight messages, each possibly dropped, duplicated or swapped.
    while (inflight.length > (r() < 0.5 ? 0 : 3)) {
      let i = 0;
      if (inflight.length > 1 && r() < 0.1) i = 1; // reorder
      const [msg] = inflight.splice(i, 1);
      if (r() < 0.1) continue; // drop
      const copies = r() < 0.1 ? 2 : 1; // duplicate
      for (let c = 0; c < copies; c++) {
        const res = msg!.to.conv.receive(msg!.text);
        delivered.get(msg!.to)!.push(...res.toUser);
        for (const x of res.toSend) inflight.push({ to: msg!.to === a ? b : a, text: x });
        for (const e of res.events) assert.not.ok(e.type === 'finished' || e.type === 'plaintext' || e.type === 'encrypted');
      }
    }
  }
  for (const [side, got] of delivered) {
    const seen = new Set<string>();
    for (const t of got) {
      assert.ok(sent.has(t), `delivered a text never sent: ${t}`);
      assert.not.ok(seen.has(t), `delivered twice: ${t}`);
      assert.is(t[0], side === a ? 'B' : 'A');
      seen.add(t);
    }
  }
  const total = delivered.get(a)!.length + delivered.get(b)!.length;
  assert.ok(total > 2000 * 0.6, `only ${total} of 2000 delivered`);
  assert.is(a.conv.msgstate, 'encrypted');
  assert.is(b.conv.msgstate, 'encrypted');
  // And the conversation still works in order afterwards.
  const last = b.conv.receive(a.conv.send('final').toSend[0]!);
  assert.equal(last.toUser, ['final']);
});

test.run();
