/**
 * Attack (session 14, deniability audit): a judge is handed the wire transcript of a conversation and asked
 * whether Alice wrote a message. The message is deniable towards third parties only if its MAC key was
 * published (otrv4.md §Revealing MAC Keys, §Forging Transcripts): then anyone could have altered it and
 * re-MACed it. The receiver (Bob) must therefore put on the wire, eventually, the MAC key of every data
 * message of Alice's that was made under his session — received in order, out of order, or not at all
 * (stored skipped keys are derived and revealed when the store is deleted: §Session Expiration) — however
 * the session ends: `end()`, expiry, or a new DAKE that replaces the session on the same instance.
 *
 * The check is the judge's own tool: `findMacKey` (otr4/forge) looks for a revealed key in everything Bob
 * sent that authenticates the message. Found means forgeable by anyone.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { aliceWrites, JudgeWire, outOfOrder as outOfOrderBy, unrevealed as unrevealedBy } from '../helpers/judge-wire.js';

const be = WASM;
const unrevealed = (w: JudgeWire, m: Record<string, string>) => unrevealedBy(be, w, m);

const outOfOrder = (seed: number) => outOfOrderBy(be, seed);

test("end(): Bob's disconnect reveals the MAC keys of the messages he read and of the one still missing (its stored key)", () => {
  const { p, w, m } = outOfOrder(1401);
  w.bobSays(p.b.end());
  assert.equal(unrevealed(w, m), []);
});

test('expiry: the disconnect reveals the MAC keys of the messages read and of the stored skipped key', () => {
  const { p, w, m } = outOfOrder(1402);
  p.clock.advance(p.bob.policy.sessionExpiryMs);
  w.bobSays(p.b.poll());
  assert.is(p.b.state, 'FINISHED');
  assert.equal(unrevealed(w, m), []);
});

test('a skipped key used later: its MAC key is revealed in the next ratchet like the others', () => {
  const { p, w, m } = outOfOrder(1403);
  w.toBob([m.m2!]);
  // Bob answers (a new sending chain of his: it reveals his queue), Alice answers, Bob again.
  w.bobSays(p.b.send('got them'));
  w.toBob([aliceWrites(p.a, 'good')]);
  w.bobSays(p.b.send('bye for now'));
  assert.equal(unrevealed(w, m), []);
});

test("a new DAKE replaces the session on the same instance: the old session's MAC keys are still revealed", () => {
  const { p, w, m } = outOfOrder(1404);
  // Alice restarts (a new DAKE under the same instance tags): Bob's old session, with three keys to reveal
  // (m1 and m3 read, m2's stored), is replaced.
  w.toBob(p.a.startDake().toSend);
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
  // The new session runs on and ends as usual.
  w.bobSays(p.b.send('new session'));
  w.toBob([aliceWrites(p.a, 'yes')]);
  w.bobSays(p.b.send('and again'));
  w.bobSays(p.b.end());
  assert.equal(unrevealed(w, m), []);
});

test('a session replaced right before it ends: end() still reveals the old keys (in the disconnect)', () => {
  const { p, w, m } = outOfOrder(1405);
  w.toBob(p.a.startDake().toSend);
  w.bobSays(p.b.end());
  assert.equal(unrevealed(w, m), []);
});

test.run();
