/**
 * Attack (session 13, cost of hostile input): early data replayed at Auth-I. Data messages that overtake the
 * Auth-I are kept (up to maxEarlyDataMessages, 100) and read when it comes. Keeping one costs nothing; reading a
 * forged one costs what any forged data message costs — up to maxSkip (1,000) chain steps and a DH ratchet
 * before its MAC fails (0.64 of a DAKE step, docs/security.md "Measured"). Anyone who starts a DAKE with us (one
 * token of the DAKE budget: the Identity) could queue 100 forged early messages and then send its Auth-I, which
 * is not budgeted (it must not be: a forged Auth-I flood would starve the honest one): ONE message then cost
 * 100 forged data messages' work in one synchronous call (~64 DAKE steps), and answered each with an error
 * message and, from the third, a repair DAKE.
 *
 * Now the replay stops at the first early message that does not authenticate: the rest are dropped (one
 * `ignored` event). An honest peer's early messages all authenticate; an injector who gets a forgery in first
 * can make the ones behind it dropped, which it could already do by pushing them out of the bounded queue.
 * Counted on the backend, never timed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { countingBackend, type Costs } from '../helpers/counting-backend.js';
import type { Outcome } from '../../ts/index.js';
import { makePair, texts, type Pair } from '../helpers/session-pair.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { decodeDataMessage, encodeDataMessage } from '../../ts/wire/data.js';

const counted = countingBackend(WASM);
const be = counted.backend;

/** Bob (the DAKE's initiator) has the Auth-I ready and holds it back; his session is up, Alice's not yet. */
function authIHeldBack(seed: number): { p: Pair; authI: string } {
  const p = makePair(be, seed);
  const identity = p.b.startDake().toSend;
  const authR = identity.flatMap((m) => p.a.receive(m).toSend);
  const authI = authR.flatMap((m) => p.b.receive(m).toSend);
  if (authI.length !== 1 || p.b.state !== 'ENCRYPTED_MESSAGES') throw new Error('no Auth-I');
  return { p, authI: authI[0]! };
}

/** Bob's next data message made as costly as a forger can make it: maxSkip − 1 keys skipped, MAC broken. */
function forged(p: Pair, text: string): string {
  const m = decodeDataMessage(dearmour(p.b.send(text).toSend[0]!).slice());
  const authenticator = m.authenticator.slice();
  authenticator[0]! ^= 1;
  return armour(encodeDataMessage({ ...m, messageId: 999, authenticator }));
}

function withEarly(seed: number, forgedCount: number, honestFirst = 0): { cost: { result: Outcome; costs: Costs }; p: Pair } {
  const { p, authI } = authIHeldBack(seed);
  const early: string[] = [];
  for (let i = 0; i < honestFirst; i++) early.push(p.b.send(`early ${i}`).toSend[0]!);
  for (let i = 0; i < forgedCount; i++) early.push(forged(p, `x${i}`));
  for (const m of early) {
    const kept = p.a.receive(m);
    if (kept.toSend.length || kept.events.some((e) => e.type === 'unreadable')) throw new Error(`early message not kept: ${JSON.stringify(kept.events)}`);
  }
  return { cost: counted.measure(() => p.a.receive(authI)), p };
}

test('Auth-I with 100 forged early messages costs what it costs with one', () => {
  const one = withEarly(13_100, 1).cost;
  const many = withEarly(13_101, 100).cost;
  assert.is(one.result.toSend.length <= 1, true);
  assert.ok(
    many.costs.keccakBytes <= one.costs.keccakBytes * 1.1,
    `Keccak bytes: ${many.costs.keccakBytes} with 100 forged early messages, ${one.costs.keccakBytes} with one`,
  );
  assert.ok(many.costs.modPow3072 <= one.costs.modPow3072, `3072-bit exponentiations: ${many.costs.modPow3072} vs ${one.costs.modPow3072}`);
  assert.ok(many.costs.ed448Mul <= one.costs.ed448Mul, `Ed448 multiplications: ${many.costs.ed448Mul} vs ${one.costs.ed448Mul}`);
  assert.ok(many.result.toSend.length <= one.result.toSend.length, `${many.result.toSend.length} messages sent back`);
  assert.ok(many.result.events.some((e) => e.type === 'ignored'), 'the dropped early messages are reported');
});

test('honest early messages are all read; the session works after forged ones', () => {
  const { cost, p } = withEarly(13_102, 3, 5);
  assert.equal(texts([cost.result]), ['early 0', 'early 1', 'early 2', 'early 3', 'early 4']);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  assert.equal(texts(p.b.send('after').toSend.map((m) => p.a.receive(m))), ['after']);
  assert.equal(texts(p.a.send('back').toSend.map((m) => p.b.receive(m))), ['back']);
});

test('a duplicated honest early message (refused before any work) does not stop the ones after it', () => {
  const { p, authI } = authIHeldBack(13_103);
  const [m0, m1] = [p.b.send('one').toSend[0]!, p.b.send('two').toSend[0]!];
  for (const m of [m0, m0, m1]) p.a.receive(m);
  const out = p.a.receive(authI);
  assert.equal(texts([out]), ['one', 'two']);
  assert.not.ok(out.events.some((e) => e.type === 'ignored'), JSON.stringify(out.events));
});

test.run();
