/**
 * The record book's copy of each conversation's last record (ts/session/records.ts, RecordBook.remember): kept
 * in a buffer with room past its end, so that the receiving side of a one-way stream — whose record grows by
 * one queued MAC key per message until it sends — is not reallocated on every message. What must hold:
 *   - every Outcome carries exactly the record a full encode gives (growing, shrinking, in place or not);
 *   - a call that changes nothing still writes nothing after the record grew and shrank (the compare is right);
 *   - the room past the record is zero whenever the book holds it (a shrink clears the bytes it gave up), so
 *     wiping the view (unload, forget) wipes every byte of state the buffer held;
 *   - a buffer far bigger than its record (after a long queue was revealed) is given back;
 *   - a record that cannot be written (over its bound, nothing to shed) stays pending, never silently dropped.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM as be } from './helpers/backends.js';
import { Account } from '../ts/session/account.js';
import { conversationRecord } from '../ts/session/records.js';
import type { Conversation } from '../ts/session/conversation.js';
import type { Outcome } from '../ts/session/events.js';
import { seededRandom } from './helpers/rng.js';
import { OtrLimitError } from '../ts/errors.js';

const NOW = 1_750_000_000_000;
const clock = () => NOW;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The book's `last` map (private; read here to check the room it keeps). */
function lastOf(account: Account, peer: string): Uint8Array | undefined {
  return (account as unknown as { book: { last: Map<string, Uint8Array> } }).book.last.get(peer);
}

function pair(seed: number) {
  const a = Account.create({ accountId: 'alice@x', backend: be, clock, dsaKey: null, random: seededRandom(seed) });
  const b = Account.create({ accountId: 'bob@x', backend: be, clock, dsaKey: null, random: seededRandom(seed + 1) });
  const ca = a.conversation('bob@x');
  const cb = b.conversation('alice@x');
  let q: { to: Conversation; text: string }[] = ca.start().toSend.map((text) => ({ to: cb, text }));
  while (q.length) {
    const next: typeof q = [];
    for (const m of q) for (const text of m.to.receive(m.text).toSend) next.push({ to: m.to === cb ? ca : cb, text });
    q = next;
  }
  assert.is(ca.state, 'ENCRYPTED_MESSAGES');
  return { a, b, ca, cb };
}

/**
 * Bob's first message after a one-way stream that starts a new sending chain of his (so it reveals his queued MAC
 * keys; his very first chain reveals nothing): he answers, Alice answers back, then this message.
 */
function revealing(a: Account, b: Account, ca: Conversation, cb: Conversation): Outcome {
  carries(ca.receive(cb.send('back').toSend[0]!), a, ca, 'alice receives bob');
  carries(cb.receive(ca.send('again').toSend[0]!), b, cb, 'bob receives alice');
  return cb.send('back again');
}

/** The record the outcome carries for `conv` equals a full encode of it now, and the book holds the same bytes. */
function carries(out: Outcome, account: Account, conv: Conversation, what: string): void {
  const rec = out.changed?.find((c) => c.key === `conv:${conv.peerId}`);
  assert.ok(rec?.bytes, `${what}: a record is written`);
  const full = conversationRecord(conv);
  assert.is(hex(rec.bytes), hex(full), `${what}: the change is the full encoding`);
  const last = lastOf(account, conv.peerId)!;
  assert.is(hex(last), hex(full), `${what}: the book compares against the full encoding`);
  // The room past the record is zero.
  const room = new Uint8Array(last.buffer, last.byteOffset + last.length, last.buffer.byteLength - last.byteOffset - last.length);
  assert.ok(room.every((x) => x === 0), `${what}: the room past the record is zero`);
}

test('a growing, then shrinking record: every change is the full encoding, the room stays zero', () => {
  const { a, b, ca, cb } = pair(21);
  let sizes: number[] = [];
  // One way: Bob's record grows by a queued MAC key per message (past the room, so it is also reallocated).
  for (let i = 0; i < 40; i++) {
    const sent = ca.send(`m${i}`);
    carries(sent, a, ca, `alice send ${i}`);
    const got = cb.receive(sent.toSend[0]!);
    assert.is(got.messages[0]?.text, `m${i}`);
    carries(got, b, cb, `bob receive ${i}`);
    sizes.push(lastOf(b, 'alice@x')!.length);
  }
  assert.ok(sizes[39]! > sizes[0]! + 30 * 60, `bob's record grew (${sizes[0]} → ${sizes[39]})`);
  // Garbage changes nothing: no write, even though `last` is a view with room.
  assert.equal(cb.receive('?OTR:AAQD' + 'A'.repeat(40) + '.').changed, []);
  // Bob answers in a new sending chain: his queue is revealed, his record shrinks (in place, the freed bytes
  // zeroed, or given back).
  const reply = revealing(a, b, ca, cb);
  carries(reply, b, cb, 'bob reply');
  assert.ok(lastOf(b, 'alice@x')!.length < sizes[39]!, 'the record shrank');
  carries(ca.receive(reply.toSend[0]!), a, ca, 'alice receive');
  assert.equal(cb.receive('?OTR:AAQD' + 'A'.repeat(40) + '.').changed, []);
  // And grows again from there.
  sizes = [];
  for (let i = 0; i < 5; i++) {
    const sent = ca.send(`n${i}`);
    carries(cb.receive(sent.toSend[0]!), b, cb, `bob receive again ${i}`);
  }
});

test('a buffer more than twice its record is given back; wiping the view on unload wipes every byte held', () => {
  const { a, b, ca, cb } = pair(31);
  for (let i = 0; i < 60; i++) cb.receive(ca.send(`m${i}`).toSend[0]!);
  const grown = lastOf(b, 'alice@x')!;
  const big = grown.buffer;
  const reply = revealing(a, b, ca, cb); // reveals the 60 queued MAC keys: the record loses ~4 KB
  carries(reply, b, cb, 'bob reply');
  const shrunk = lastOf(b, 'alice@x')!;
  assert.ok(shrunk.buffer !== big, 'a buffer over twice the record is not kept');
  assert.ok(new Uint8Array(big).every((x) => x === 0), 'the buffer given back was wiped');
  // Unload wipes what the book held: the whole buffer, room included, is zero.
  const held = lastOf(b, 'alice@x')!;
  b.unload('alice@x');
  assert.ok(new Uint8Array(held.buffer).every((x) => x === 0), 'unload wiped the record and its room');
  void a;
});

test('a record over its bound with nothing left to shed stays pending: every later flush refuses it again', () => {
  const a = Account.create({ accountId: 'alice@x', backend: be, clock, dsaKey: null, random: seededRandom(41), limits: { maxConversationStateBytes: 200 } });
  const conv = a.conversation('bob@x');
  // A query writes no state; a message queued under requireEncryption does, and it cannot fit in 200 bytes.
  conv.setPolicy({ requireEncryption: true });
  assert.throws(() => conv.send('queued'), (e: Error) => e instanceof OtrLimitError);
  // The change was not handed out: it is still pending, so the next flush meets the same refusal (it is
  // never silently dropped), and the conversation cannot be unloaded with it.
  assert.throws(() => a.changes(), (e: Error) => e instanceof OtrLimitError);
  assert.throws(() => a.unload('bob@x'), (e: Error) => e instanceof OtrLimitError);
});

test('a flush that refuses one record hands out none of the others: they stay pending at their generation', () => {
  const a = Account.create({ accountId: 'alice@x', backend: be, clock, dsaKey: null, random: seededRandom(43), limits: { maxConversationStateBytes: 240 } });
  a.changes(); // the account record: handed out, so the flushes below carry conversations only
  const bob = a.conversation('bob@x');
  const carol = a.conversation('carol@x');
  const book = (a as unknown as { book: { touch(c: Conversation, force?: boolean): void; generation(k: string): number } }).book;
  // A fresh conversation's record fits in 240 bytes; one with a policy set (state, never shed) does not.
  // Bob's record is pending first (forced: written though unchanged), then Carol's call queues a message that
  // cannot fit: the flush of her call meets Bob's record before hers, and must not hand his out either.
  book.touch(bob, true);
  const before = book.generation('conv:bob@x');
  carol.setPolicy({ requireEncryption: true });
  assert.throws(() => carol.send('queued'), (e: Error) => e instanceof OtrLimitError);
  assert.is(book.generation('conv:bob@x'), before, "bob's generation did not move without his record");
  assert.is(lastOf(a, 'bob@x'), undefined, "bob's record is not remembered as handed out");
  // Once Carol is gone, the next flush (forget's) carries Bob's record at the generation after the store's.
  const rec = a.forget('carol@x').changed?.find((c) => c.key === 'conv:bob@x');
  assert.ok(rec?.bytes, "bob's record is still pending");
  assert.is(rec!.generation, before + 1);
  assert.is(hex(rec!.bytes!), hex(conversationRecord(bob)));
});

test.run();
