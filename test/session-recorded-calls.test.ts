/**
 * The recorded calls of conversations (ts/session/records.ts, RecordBook.instrument): since session 11 one set of
 * functions for every account, shared by all conversations (the conversation is `this` and names its book), instead
 * of eleven closures per conversation. What must hold:
 *   - each call records the conversation it was called on, in that conversation's own account, and only that one;
 *   - a recorded call detached from its conversation (or on anything that neither is nor wraps an instrumented
 *     conversation) is refused with OtrStateError before anything moves (the per-conversation closures ignored
 *     `this`, so such a call used to work on the closure's own conversation); through a wrapper (a Proxy,
 *     Object.create) it runs on the wrapped conversation (attacks/s11-review3-proxied-calls);
 *   - a conversation created after others is recorded the same way.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM as be } from './helpers/backends.js';
import { Account } from '../ts/session/account.js';
import type { Conversation } from '../ts/session/conversation.js';
import { seededRandom } from './helpers/rng.js';
import { pump } from './helpers/session-pair.js';
import { OtrStateError } from '../ts/errors.js';

const NOW = 1_750_000_000_000;
const clock = () => NOW;

function account(id: string, seed: number): Account {
  return Account.create({ accountId: id, backend: be, clock, dsaKey: null, random: seededRandom(seed) });
}

/** Runs the DAKE between two conversations (the shared pump delivers until both sides are quiet). */
/** The conversation records an outcome wrote (the account record goes too with the first message to a peer: the contact mark). */
const convKeys = (o: { changed?: { key: string }[] }) => (o.changed ?? []).map((ch) => ch.key).filter((k) => k !== 'account');

function establish(x: Conversation, y: Conversation): void {
  pump(x, y, x.start());
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
    assert.equal(convKeys(first), ['conv:bob@x'], 'a send to bob writes bob\'s record only');
    const second = ac.send(`to carol ${i}`);
    assert.equal(convKeys(second), ['conv:carol@x'], 'a send to carol writes carol\'s record only');
  }
  assert.is(ab.send, ac.send, 'one function for every conversation, not one per conversation');
  assert.is(ab.send, b.conversation('alice@x').send, 'and for every account');
  // A conversation made later is recorded the same way.
  const ad = a.conversation('dave@x');
  const out = ad.start();
  assert.ok(out.toSend.length > 0);
  assert.is(ad.start, ab.start);
});

test('a recorded call detached from its conversation is refused and changes nothing; on another conversation it records that one', () => {
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
  assert.throws(() => (send as (this: unknown, t: string) => unknown).call({ keysUsed: 0 }, 'not a conversation'), (e: unknown) => e instanceof OtrStateError);
  assert.equal(a.changes(), [], 'nothing recorded for alice');
  assert.equal(b.changes(), [], 'nothing recorded for bob');
  assert.equal(ab.toState(), before, 'alice\'s state did not move');
  // The shared function called on Bob's conversation is Bob's call, recorded in Bob's account only.
  const crossed = send.call(ba, 'from bob');
  assert.equal(convKeys(crossed), ['conv:alice@x'], 'bob\'s record');
  assert.equal(a.changes(), [], 'nothing recorded for alice');
  assert.is(ab.receive(crossed.toSend[0]!).messages[0]?.text, 'from bob');
  // The conversation still works when called properly.
  const out = ab.send('proper');
  assert.equal(convKeys(out), ['conv:bob@x']);
  assert.is(ba.receive(out.toSend[0]!).messages[0]?.text, 'proper');
});

test.run();
