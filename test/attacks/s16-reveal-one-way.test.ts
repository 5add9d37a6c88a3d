/**
 * Attack (session 16): a side that only reads (a bot feed relayed by a bridge, a peer that talks while we
 * listen) queued the 64-byte MAC key of every message it read until it next spoke, up to maxMacKeysToReveal
 * (1,000): its conversation record grew to ~66 KB, every message cost the store a ~66 KB write, and the messages
 * stayed unforgeable by third parties (weaker deniability). Now a read that leaves limits.revealMacKeysAt keys
 * queued is answered by an empty IGNORE_UNREADABLE data message (a heartbeat) that publishes them. Only a
 * message read (authenticated) queues a key, and the heartbeat empties the queue: a peer gets at most one
 * heartbeat per revealMacKeysAt of its messages we read; forged, replayed or unreadable input never gets one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import type { Conversation } from '../../ts/session/conversation.js';
import type { Outcome } from '../../ts/session/events.js';
import { decodeDataWire, findMacKey, revealedMacKeys } from '../../ts/forge/data.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { WASM } from '../helpers/backends.js';
import { establish, makePair, type Pair } from '../helpers/session-pair.js';

const be = WASM;
const T = DEFAULT_LIMITS.revealMacKeysAt;
// The time heartbeat (policy.heartbeatMs) out of the way: the test clock does not move, but make it explicit.
const QUIET_CLOCK = { policy: { heartbeatMs: Number.MAX_SAFE_INTEGER } };

/** The OTRv4 data messages among what a call sends (not OTR error messages, not DAKE messages). */
function dataMessagesOf(o: Outcome): string[] {
  return o.toSend.filter((w) => {
    try {
      decodeDataWire(w);
      return true;
    } catch {
      return false;
    }
  });
}

function recordBytes(o: Outcome): number {
  return Math.max(0, ...(o.changed ?? []).filter((c) => c.key.startsWith('conv:') && c.bytes).map((c) => c.bytes!.length));
}

interface OneWay {
  sent: string[];
  heartbeats: { afterRead: number; wire: string }[];
  maxRecord: number;
}

/** `n` messages from `from` to `to`; each heartbeat `to` sends is delivered back and must show nothing. */
function oneWay(from: Conversation, to: Conversation, n: number): OneWay {
  const r: OneWay = { sent: [], heartbeats: [], maxRecord: 0 };
  for (let i = 0; i < n; i++) {
    const wire = from.send(`feed item ${i} `.padEnd(100, '.')).toSend;
    assert.is(wire.length, 1);
    r.sent.push(wire[0]!);
    const got = to.receive(wire[0]!);
    assert.equal(got.messages.map((m) => m.text), [`feed item ${i} `.padEnd(100, '.')]);
    r.maxRecord = Math.max(r.maxRecord, recordBytes(got));
    for (const hb of dataMessagesOf(got)) {
      r.heartbeats.push({ afterRead: i + 1, wire: hb });
      // The sender reads it as nothing: no text, no event, no answer (a spec heartbeat).
      const back = from.receive(hb);
      assert.equal(back.messages, []);
      assert.equal(back.events, []);
      assert.equal(back.toSend, []);
    }
    assert.equal(got.toSend.length, dataMessagesOf(got).length, 'nothing else is sent');
  }
  return r;
}

function checkPublished(r: OneWay, threshold: number): void {
  // Exactly one heartbeat per `threshold` messages read, each right at the threshold.
  assert.equal(r.heartbeats.map((h) => h.afterRead), Array.from({ length: Math.floor(r.sent.length / threshold) }, (_, k) => (k + 1) * threshold));
  for (const h of r.heartbeats) assert.is(revealedMacKeys(h.wire).length, threshold);
  // Every message's MAC key is published by the heartbeat that follows it, at most `threshold` reads later.
  for (let i = 0; i + threshold <= r.sent.length; i++) {
    const by = r.heartbeats.filter((h) => h.afterRead <= i + threshold).map((h) => h.wire);
    assert.ok(findMacKey(be, r.sent[i]!, by), `message ${i}'s MAC key published within ${threshold} reads`);
  }
}

function pair(seed: number, limits?: Record<string, number>): Pair {
  const p = makePair(be, seed, { ...QUIET_CLOCK, limits });
  establish(p);
  return p;
}

test('one way, 300 messages, each direction: a heartbeat every revealMacKeysAt reads publishes them; the record stays bounded', () => {
  for (const dir of ['a->b', 'b->a'] as const) {
    const p = pair(dir === 'a->b' ? 11 : 13);
    const r = dir === 'a->b' ? oneWay(p.a, p.b, 300) : oneWay(p.b, p.a, 300);
    checkPublished(r, T);
    // The queue never holds more than T keys (64 bytes each): ~3 KB of record besides it.
    assert.ok(r.maxRecord < 3200 + T * 64, `${dir}: largest record ${r.maxRecord} bytes`);
    // The session goes on both ways after it.
    const back = dir === 'a->b' ? p.a.receive(p.b.send('reply').toSend[0]!) : p.b.receive(p.a.send('reply').toSend[0]!);
    assert.equal(back.messages.map((m) => m.text), ['reply']);
  }
});

test('a lowered maxMacKeysToReveal is the threshold when below revealMacKeysAt: no key is dropped unpublished', () => {
  const p = pair(17, { maxMacKeysToReveal: 10 });
  checkPublished(oneWay(p.a, p.b, 45), 10);
});

test('revealMacKeysAt: Infinity sends no such heartbeat (the queue grows to maxMacKeysToReveal as before)', () => {
  const p = pair(19, { revealMacKeysAt: Infinity, maxMacKeysToReveal: 50 });
  const r = oneWay(p.a, p.b, 60);
  assert.equal(r.heartbeats, []);
});

test('forged, replayed and unreadable data messages never trigger a heartbeat; the next message read does', () => {
  const p = pair(23);
  const r = oneWay(p.a, p.b, T - 1);
  assert.equal(r.heartbeats, []);
  const real = p.a.send('the threshold message').toSend[0]!;
  const bytes = dearmour(real);
  const forgeries: string[] = [];
  // A bit flipped in the ciphertext, the authenticator, the revealed-keys field's length, the ECDH key; with and
  // without IGNORE_UNREADABLE (the flags byte follows the 11-byte header).
  for (const at of [bytes.length - 70, bytes.length - 10, bytes.length - 1, 40]) {
    for (const quiet of [false, true]) {
      const f = bytes.slice();
      f[at] = f[at]! ^ 1;
      if (quiet) f[11] = f[11]! | 1;
      forgeries.push(armour(f));
    }
  }
  forgeries.push(r.sent[0]!, r.sent[T - 2]!); // replays of messages read
  for (const f of forgeries) assert.equal(dataMessagesOf(p.b.receive(f)), [], 'no heartbeat for input not read');
  const got = p.b.receive(real);
  assert.equal(got.messages.map((m) => m.text), ['the threshold message']);
  assert.is(dataMessagesOf(got).length, 1, 'the T-th message read is answered');
  assert.is(revealedMacKeys(dataMessagesOf(got)[0]!).length, T);
});

test('the existing time heartbeat and a message we send reveal the queue as before: the count starts again', () => {
  const p = pair(29);
  oneWay(p.a, p.b, 20);
  // Bob speaks: his new sending chain reveals the 20 queued keys; the next heartbeat comes T reads later.
  const said = p.b.send('hello').toSend[0]!;
  assert.is(revealedMacKeys(said).length, 0, "Bob's first sending chain reveals nothing (spec), so the keys wait");
  p.a.receive(said);
  const r = oneWay(p.a, p.b, T + 5);
  // 20 + T + 5 reads, Bob's first chain revealed none: the first heartbeat comes when the queue reaches T.
  assert.equal(r.heartbeats.map((h) => h.afterRead), [T - 20]);
  assert.is(revealedMacKeys(r.heartbeats[0]!.wire).length, T);
});

test('keys of skipped messages dropped from the store count too, but never more than one heartbeat per message read', () => {
  // A peer whose messages skip many (lost, or withheld on purpose): their keys are stored, and past
  // maxStoredMessageKeys the oldest are dropped and their MAC keys queued — many keys for one message read.
  const p = pair(31, { revealMacKeysAt: 8, maxStoredMessageKeys: 4 });
  let reads = 0;
  let heartbeats = 0;
  for (let round = 0; round < 30; round++) {
    let last = '';
    for (let k = 0; k < 10; k++) last = p.a.send(`m${round}.${k}`).toSend[0]!; // nine withheld, one delivered
    const got = p.b.receive(last);
    assert.equal(got.messages.map((m) => m.text), [`m${round}.9`]);
    reads++;
    const hbs = dataMessagesOf(got);
    assert.ok(hbs.length <= 1, 'at most one heartbeat per read');
    heartbeats += hbs.length;
    for (const hb of hbs) assert.equal(p.a.receive(hb).events, []);
  }
  assert.ok(heartbeats > 0 && heartbeats <= reads, `${heartbeats} heartbeats for ${reads} reads`);
});

test.run();
