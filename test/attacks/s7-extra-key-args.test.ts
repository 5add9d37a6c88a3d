/**
 * Session 7 review: send(text, { extraKey: { context, data } }) with `data` that is not bytes. The TLV 7 value
 * was built with `new Uint8Array(4 + data.length)` and `value.set(data, 4)`: a number gave a bare RangeError,
 * and a string, an array, an array-like or a wider typed array was silently turned into other bytes (a string
 * "abc" became three zero bytes) — sent to the peer, who derived the key for data the host never meant.
 * Refused now (OtrArgumentError), nothing sent, the session unharmed; absent data (undefined, null) stays empty.
 * The same for startSmp's question (a number was sent as "5", an object as "[object Object]").
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OtrError } from '../../ts/errors.js';
import { WASM } from '../helpers/backends.js';
import { makePair, establish } from '../helpers/session-pair.js';

test('attack: extra-key data that is not a Uint8Array is refused typed before anything is sent', () => {
  const p = makePair(WASM, 2101);
  establish(p);
  const context = Uint8Array.of(1, 2, 3, 4);
  for (const data of [5, 'abc', [1, 2, 3], { length: 3 }, new Uint16Array([0x1234, 0x5678]), new Int8Array([-1]), new Uint8ClampedArray(2)] as unknown[]) {
    let thrown: unknown;
    try {
      p.a.send('with a key', { extraKey: { context, data: data as Uint8Array } });
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof OtrError && thrown.code === 'INVALID_ARGUMENT', `${Object.prototype.toString.call(data)}: ${String(thrown)}`);
  }
  // Bytes and absent data still work, and the session is in step.
  for (const data of [Uint8Array.of(7, 8, 9), undefined, null as unknown as undefined]) {
    const out = p.a.send('keyed', { extraKey: { context, data } });
    const got = p.b.receive(out.toSend[0]!);
    assert.equal(got.messages.map((m) => m.text), ['keyed']);
    const ev = got.events.find((e) => e.type === 'extra-key') as { data: Uint8Array } | undefined;
    assert.equal([...ev!.data], data ? [...data] : []);
  }
});

test('attack: an SMP question that is not a string is refused typed (it was sent as its string form), nothing sent', () => {
  const p = makePair(WASM, 2102);
  establish(p);
  for (const question of [5, {}, ['q'], Uint8Array.of(0x41)] as unknown[]) {
    let thrown: unknown;
    try {
      p.a.startSmp('answer', question as string);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof OtrError && thrown.code === 'INVALID_ARGUMENT', `${Object.prototype.toString.call(question)}: ${String(thrown)}`);
  }
  const out = p.a.startSmp('answer', 'the question');
  const got = p.b.receive(out.toSend[0]!);
  assert.ok(got.events.some((e) => e.type === 'smp' && (e as { question?: string }).question === 'the question'), 'a string question still goes');
});

test.run();
