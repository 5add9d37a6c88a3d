/**
 * The record book's last record of each conversation (ts/session/records.ts, RecordBook.last): what the next call's
 * record is compared with, so that a call that changes nothing writes nothing. Since session 8 it is the very
 * array the last change handed out (no second copy per call). What must hold:
 *   - every Outcome carries exactly the record a full encode gives (growing, shrinking);
 *   - a change handed out is never written or wiped by the account afterwards — not by later calls, nor by
 *     unload, forget or a failed commit — whatever the caller still holds it for;
 *   - a call that changes nothing still writes nothing after the record grew and shrank (the compare is right);
 *   - a caller that wipes its change after the commit gets one extra write, never a lost one;
 *   - the book's own copies (a record as loaded, or a fresh conversation's) are wiped when dropped;
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

const NOW = 1_750_000_000_000;
const clock = () => NOW;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The book's `last` map (private; read here to check what it compares with). */
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

/** The record the outcome carries for `conv` equals a full encode of it now, and is what the book compares with. */
function carries(out: Outcome, account: Account, conv: Conversation, what: string): Uint8Array {
  const rec = out.changed?.find((c) => c.key === `conv:${conv.peerId}`);
  assert.ok(rec?.bytes, `${what}: a record is written`);
  const full = conversationRecord(conv);
  assert.is(hex(rec.bytes), hex(full), `${what}: the change is the full encoding`);
  assert.ok(lastOf(account, conv.peerId) === rec.bytes, `${what}: the book compares with the change handed out`);
  return rec.bytes;
}

const GARBAGE = '?OTR:AAQD' + 'A'.repeat(40) + '.';

test('a growing, then shrinking record: every change is the full encoding, and none changes after it was handed out', () => {
  const { a, b, ca, cb } = pair(21);
  const handed: { bytes: Uint8Array; hex: string }[] = [];
  const keep = (bytes: Uint8Array) => handed.push({ bytes, hex: hex(bytes) });
  let sizes: number[] = [];
  // One way: Bob's record grows by a queued MAC key per message.
  for (let i = 0; i < 40; i++) {
    const sent = ca.send(`m${i}`);
    keep(carries(sent, a, ca, `alice send ${i}`));
    const got = cb.receive(sent.toSend[0]!);
    assert.is(got.messages[0]?.text, `m${i}`);
    keep(carries(got, b, cb, `bob receive ${i}`));
    sizes.push(lastOf(b, 'alice@x')!.length);
  }
  assert.ok(sizes[39]! > sizes[0]! + 30 * 60, `bob's record grew (${sizes[0]} → ${sizes[39]})`);
  // Garbage changes nothing: no write.
  assert.equal(cb.receive(GARBAGE).changed, []);
  // Bob answers in a new sending chain: his queue is revealed, his record shrinks.
  const reply = revealing(a, b, ca, cb);
  keep(carries(reply, b, cb, 'bob reply'));
  assert.ok(lastOf(b, 'alice@x')!.length < sizes[39]!, 'the record shrank');
  keep(carries(ca.receive(reply.toSend[0]!), a, ca, 'alice receive'));
  assert.equal(cb.receive(GARBAGE).changed, []);
  // And grows again from there.
  sizes = [];
  for (let i = 0; i < 5; i++) {
    const sent = ca.send(`n${i}`);
    keep(carries(cb.receive(sent.toSend[0]!), b, cb, `bob receive again ${i}`));
  }
  // Unloading and forgetting leave every change handed out as it was (they are the caller's).
  b.unload('alice@x');
  a.forget('bob@x');
  for (const [n, h] of handed.entries()) assert.is(hex(h.bytes), h.hex, `change ${n} unchanged`);
});

test("a change wiped by its caller after the commit costs one extra write, never a lost one", () => {
  const { a, b, ca, cb } = pair(31);
  for (let i = 0; i < 3; i++) cb.receive(ca.send(`m${i}`).toSend[0]!);
  const sent = ca.send('wiped after commit');
  const got = cb.receive(sent.toSend[0]!);
  const rec = carries(got, b, cb, 'bob receive');
  rec.fill(0); // the caller wipes its copy once the store took it
  // A call that changes nothing now writes the record again (unchanged state, next generation): nothing is lost.
  const again = cb.receive(GARBAGE).changed ?? [];
  assert.is(again.length, 1, 'one write');
  assert.is(hex(again[0]!.bytes!), hex(conversationRecord(cb)), 'the record as it is');
  // From there on, an unchanged call writes nothing again, and a real change is still written.
  assert.equal(cb.receive(GARBAGE).changed, []);
  carries(cb.receive(ca.send('next').toSend[0]!), b, cb, 'bob receive next');
  void a;
});

test("the book's own copies (a fresh conversation's record, a record as loaded) are wiped when dropped", () => {
  const a = Account.create({ accountId: 'alice@x', backend: be, clock, dsaKey: null, random: seededRandom(33) });
  const conv = a.conversation('bob@x');
  const own = lastOf(a, 'bob@x')!;
  assert.ok(own.some((x) => x !== 0), 'the fresh record is held');
  assert.equal(conv.receive(GARBAGE).changed, [], 'a fresh conversation that changes nothing writes nothing');
  a.unload('bob@x');
  assert.ok(own.every((x) => x === 0), 'unload wiped the own copy');
  // A record attached as loaded: the book's own copy too, wiped when a change replaces it.
  const { a: a2, ca } = pair(35);
  const rec = conversationRecord(ca);
  a2.unload('bob@x');
  a2.attachRecord({ key: 'conv:bob@x', bytes: rec, generation: a2.recordGeneration('conv:bob@x') });
  const loaded = a2.conversation('bob@x');
  const held = lastOf(a2, 'bob@x')!;
  assert.is(hex(held), hex(rec), 'the loaded record is what the book compares with');
  assert.ok(held !== rec, 'a copy of the caller\'s bytes');
  const out = loaded.send('after load');
  assert.ok(out.changed?.some((c) => c.key === 'conv:bob@x'), 'the send writes the record');
  assert.ok(held.every((x) => x === 0), 'the loaded copy was wiped when the change replaced it');
});

test('keepRecordCopies (the pool worker): changes detached by a transfer cost no write; the own copy keeps zero room and is wiped', () => {
  const { a, b, ca, cb } = pair(37);
  a.keepRecordCopies();
  b.keepRecordCopies();
  const detach = (bytes: Uint8Array) => void structuredClone(bytes.buffer, { transfer: [bytes.buffer as ArrayBuffer] });
  let sizes: number[] = [];
  for (let i = 0; i < 40; i++) {
    const sent = ca.send(`m${i}`);
    const got = cb.receive(sent.toSend[0]!);
    for (const [out, acc, conv, what] of [[sent, a, ca, 'alice'], [got, b, cb, 'bob']] as const) {
      const rec = out.changed!.find((c) => c.key === `conv:${conv.peerId}`)!;
      assert.is(hex(rec.bytes!), hex(conversationRecord(conv)), `${what} ${i}: the full encoding`);
      const last = lastOf(acc, conv.peerId)!;
      assert.ok(last !== rec.bytes && last.buffer !== rec.bytes!.buffer, `${what} ${i}: the book keeps a copy of its own`);
      assert.is(hex(last), hex(rec.bytes!));
      const room = new Uint8Array(last.buffer, last.byteOffset + last.length, last.buffer.byteLength - last.byteOffset - last.length);
      assert.ok(room.every((x) => x === 0), `${what} ${i}: the room past the record is zero`);
      detach(rec.bytes!);
    }
    sizes.push(lastOf(b, 'alice@x')!.length);
  }
  assert.ok(sizes[39]! > sizes[0]! + 30 * 60, 'bob\'s record grew');
  assert.equal(cb.receive(GARBAGE).changed, [], 'an unchanged call writes nothing though every change was detached');
  ca.receive(cb.send('back').toSend[0]!);
  cb.receive(ca.send('again').toSend[0]!);
  const reply = cb.send('back again'); // a new sending chain of Bob's: his queued MAC keys are revealed
  assert.ok(lastOf(b, 'alice@x')!.length < sizes[39]!, 'the record shrank');
  const held = lastOf(b, 'alice@x')!;
  assert.equal(cb.receive(GARBAGE).changed, []);
  b.unload('alice@x');
  assert.ok(new Uint8Array(held.buffer).every((x) => x === 0), 'unload wiped the own copy and its room');
  void reply;
});

test('a call that used a message key is written without the compare; any other call is compared', () => {
  const { a, b, ca, cb } = pair(39);
  const book = (acc: Account) => (acc as unknown as { book: { last: Map<string, Uint8Array> } }).book;
  /** A copy of the last record whose length getter counts the reads (equalBytes reads it first). */
  const trap = (acc: Account, peer: string) => {
    const copy = lastOf(acc, peer)!.slice();
    const n = copy.length;
    const t = { reads: 0 };
    Object.defineProperty(copy, 'length', { get: () => (t.reads++, n) });
    book(acc).last.set(peer, copy);
    return t;
  };
  for (let i = 0; i < 3; i++) {
    const used = [ca.keysUsed, cb.keysUsed];
    const ta = trap(a, 'bob@x');
    const sent = ca.send(`m${i}`);
    carries(sent, a, ca, `alice send ${i}`);
    assert.is(ta.reads, 0, 'a send that sealed a message is not compared');
    assert.is(ca.keysUsed, used[0]! + 1);
    const tb = trap(b, 'alice@x');
    const got = cb.receive(sent.toSend[0]!);
    carries(got, b, cb, `bob receive ${i}`);
    assert.is(tb.reads, 0, 'a receive that opened a message is not compared');
    assert.is(cb.keysUsed, used[1]! + 1);
  }
  // Garbage and a replay use no key: compared, and nothing is written.
  const replay = ca.send('once');
  cb.receive(replay.toSend[0]!);
  for (const [what, text] of [['garbage', GARBAGE], ['a replay', replay.toSend[0]!]] as const) {
    const used = cb.keysUsed;
    const t = trap(b, 'alice@x');
    const out = cb.receive(text);
    assert.is(cb.keysUsed, used, `${what}: no key used`);
    assert.ok(t.reads > 0, `${what}: compared`);
    assert.ok(!out.changed?.some((c) => c.key === 'conv:alice@x'), `${what}: no record written`);
  }
});

// Until session 16 a record over its bound with nothing left to shed threw OtrLimitError and stayed pending, so
// every later flush of the account threw the same ([s16-review]: one conversation wedged the account). Now what
// is left when nothing can be shed is the host's own settings (shedState's last step ends the sessions): the
// record is written whatever the bound, the events tell what went (attacks/s16-shed-smp).
test('a record over its bound with nothing left to shed but the host settings is written: the account goes on', () => {
  const a = Account.create({ accountId: 'alice@x', backend: be, clock, dsaKey: null, random: seededRandom(41), limits: { maxConversationStateBytes: 200 } });
  const conv = a.conversation('bob@x');
  // A query writes no state; a message queued under requireEncryption does, and it cannot fit in 200 bytes.
  conv.setPolicy({ requireEncryption: true });
  const out = conv.send('queued');
  assert.ok(out.events.some((e) => e.type === 'state-trimmed' && e.what === 'queued-messages'), 'the queued message shed, told');
  const rec = out.changed?.find((c) => c.key === 'conv:bob@x');
  assert.ok(rec?.bytes, 'the record (the policy) handed out');
  assert.is(hex(rec!.bytes!), hex(conversationRecord(conv)));
  assert.not.throws(() => a.changes());
  assert.not.throws(() => a.unload('bob@x'));
});

test("a record only its host's settings hold over the bound does not stop another's record: both handed out", () => {
  const a = Account.create({ accountId: 'alice@x', backend: be, clock, dsaKey: null, random: seededRandom(43), limits: { maxConversationStateBytes: 240 } });
  a.changes(); // the account record: handed out, so the flushes below carry conversations only
  const bob = a.conversation('bob@x');
  const carol = a.conversation('carol@x');
  const book = (a as unknown as { book: { touch(c: Conversation, force?: boolean): void; generation(k: string): number } }).book;
  // Bob's record is pending (forced: written though unchanged); Carol's call queues a message her record
  // cannot fit with her policy: the queue is shed, her policy written over the bound, and Bob's goes too.
  book.touch(bob, true);
  const before = book.generation('conv:bob@x');
  carol.setPolicy({ requireEncryption: true });
  const out = carol.send('queued');
  const rec = out.changed?.find((c) => c.key === 'conv:bob@x');
  assert.ok(rec?.bytes, "bob's record handed out");
  assert.is(rec!.generation, before + 1);
  assert.is(hex(rec!.bytes!), hex(conversationRecord(bob)));
  assert.ok(out.changed?.some((c) => c.key === 'conv:carol@x' && c.bytes !== null));
});

test.run();
