/**
 * The recorded calls of an account's conversations (ts/session/records.ts, RecordBook.instrument): since session 11
 * one set of functions per account, shared by all its conversations (the conversation is `this`), instead of eleven
 * closures per conversation. What must hold:
 *   - each call records the conversation it was called on, and only that one;
 *   - a recorded call detached from its conversation, or applied to a conversation of another account, is refused
 *     with OtrStateError before anything moves (the per-conversation closures ignored `this`, so such a call used
 *     to work on the closure's own conversation);
 *   - a conversation created after others (and one loaded again after unload) is recorded the same way.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM as be } from './helpers/backends.js';
import { Account } from '../ts/session/account.js';
import type { Conversation } from '../ts/session/conversation.js';
import { seededRandom } from './helpers/rng.js';
import { OtrStateError } from '../ts/errors.js';

const NOW = 1_750_000_000_000;
const clock = () => NOW;

function account(id: string, seed: number): Account {
  return Account.create({ accountId: id, backend: be, clock, dsaKey: null, random: seededRandom(seed) });
}

/** Runs the DAKE between two conversations until nothing is left to deliver. */
function establish(x: Conversation, y: Conversation): void {
  let q: { to: Conversation; text: string }[] = x.start().toSend.map((text) => ({ to: y, text }));
  while (q.length) {
    const next: typeof q = [];
    for (const m of q) for (const text of m.to.receive(m.text).toSend) next.push({ to: m.to === y ? x : y, text });
    q = next;
  }
  assert.is(x.state, 'ENCRYPTED_MESSAGES');
}

test('each recorded call records the conversation it was called on, and only that one', () => {
  const a = account('alice@x', 1);
  const b = account('bob@x', 2);
  const c = account('carol@x', 3);
  const ab = a.conversation('bob@x');
  const ac = a.conversation('carol@x');
  establish(ab, b.conversation('alice@x'));
  establish(ac, c.conversation('alice@x'));
  a.changes(); // what the DAKEs left pending
  for (let i = 0; i < 3; i++) {
    const first = ab.send(`to bob ${i}`);
    assert.equal(first.changed?.map((ch) => ch.key), ['conv:bob@x'], 'a send to bob writes bob\'s record only');
    const second = ac.send(`to carol ${i}`);
    assert.equal(second.changed?.map((ch) => ch.key), ['conv:carol@x'], 'a send to carol writes carol\'s record only');
  }
  assert.is(ab.send, ac.send, 'one function per account, not one per conversation');
  // A conversation made later is recorded the same way.
  const ad = a.conversation('dave@x');
  const out = ad.start();
  assert.ok(out.toSend.length > 0);
  assert.is(ad.start, ab.start);
});

test('a recorded call detached from its conversation, or on another account\'s, is refused and changes nothing', () => {
  const a = account('alice@x', 4);
  const b = account('bob@x', 5);
  const ab = a.conversation('bob@x');
  const ba = b.conversation('alice@x');
  establish(ab, ba);
  a.changes();
  b.changes();
  const before = ab.toState();
  const send = ab.send;
  assert.throws(() => send('detached'), (e: unknown) => e instanceof OtrStateError);
  assert.throws(() => (send as (this: unknown, t: string) => unknown).call(undefined, 'detached'), (e: unknown) => e instanceof OtrStateError);
  // Alice's recorded send applied to Bob's conversation: another book's, refused (it would record Bob's state in
  // Alice's book).
  assert.throws(() => send.call(ba, 'crossed'), (e: unknown) => e instanceof OtrStateError);
  assert.equal(a.changes(), [], 'nothing recorded for alice');
  assert.equal(b.changes(), [], 'nothing recorded for bob');
  assert.equal(ab.toState(), before, 'alice\'s state did not move');
  // The conversation still works when called properly.
  const out = ab.send('proper');
  assert.equal(out.changed?.map((ch) => ch.key), ['conv:bob@x']);
  assert.is(ba.receive(out.toSend[0]!).messages[0]?.text, 'proper');
});

test.run();
