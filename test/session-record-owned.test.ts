/**
 * A record that changed for certain (the call used a message key) is written straight into the array its
 * Outcome hands out (ts/session/records.ts encodeChanged, state-codec writtenStateOwned), not copied out of the
 * shared scratch encoder. What must hold, on a one-way stream (the receiver's record grows by one queued MAC key
 * per message) and on the reply that reveals the queue (it shrinks):
 *   - the bytes are exactly a full encode of the conversation now;
 *   - any room past the array's end in its buffer is zero (no state of this record or another past the view);
 *   - no two changes share a buffer (each is the caller's alone), and a later call never writes into an earlier one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM as be } from './helpers/backends.js';
import { establish, makePair } from './helpers/session-pair.js';
import { conversationRecord } from '../ts/session/records.js';
import type { Conversation } from '../ts/session/conversation.js';
import type { Outcome } from '../ts/session/events.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function pair(seed: number) {
  const p = makePair(be, seed);
  establish(p);
  return { ca: p.a, cb: p.b };
}

/** The change `out` carries for `conv`, checked: a full encode's bytes, zero past its end, a buffer of its own. */
function owned(out: Outcome, conv: Conversation, seen: Set<ArrayBufferLike>, what: string): Uint8Array {
  const rec = out.changed?.find((c) => c.key === `conv:${conv.peerId}`)?.bytes;
  assert.ok(rec, `${what}: a record is written`);
  assert.is(hex(rec), hex(conversationRecord(conv)), `${what}: the bytes of a full encode`);
  const past = new Uint8Array(rec.buffer, rec.byteOffset + rec.length);
  assert.ok(past.every((x) => x === 0), `${what}: the room past the record is zero`);
  assert.not.ok(seen.has(rec.buffer), `${what}: a buffer no earlier change has`);
  seen.add(rec.buffer);
  return rec;
}

test('a one-way stream and the reply that reveals its queue: every change is a full encode in a buffer of its own', () => {
  const { ca, cb } = pair(71);
  const seen = new Set<ArrayBufferLike>();
  const kept: [Uint8Array, string][] = [];
  for (let i = 0; i < 40; i++) {
    const keys = cb.keysUsed;
    const sent = ca.send(`m${i}`);
    kept.push([owned(sent, ca, seen, `alice send ${i}`), '']);
    const got = cb.receive(sent.toSend[0]!);
    assert.is(cb.keysUsed, keys + 1, 'the receive used a message key (written for certain)');
    kept.push([owned(got, cb, seen, `bob receive ${i}`), '']);
  }
  for (const k of kept) k[1] = hex(k[0]);
  const grown = kept[kept.length - 1]![0].length;
  // Bob replies: a new chain of his reveals the queue, so his record shrinks.
  const reply = cb.send('back');
  const shrunk = owned(reply, cb, seen, 'bob reply');
  owned(ca.receive(reply.toSend[0]!), ca, seen, 'alice receives the reply');
  const again = ca.send('again');
  owned(again, ca, seen, 'alice again');
  const revealed = cb.receive(again.toSend[0]!);
  owned(revealed, cb, seen, 'bob receives again');
  const last = owned(cb.send('back again'), cb, seen, 'bob reveals');
  assert.ok(last.length < grown, 'the record shrank once the queue was revealed');
  assert.ok(shrunk.length > 0);
  // Later calls never wrote into a change handed out before.
  for (const [bytes, was] of kept) assert.is(hex(bytes), was, 'a change handed out is unchanged');
});

test.run();
