/**
 * Attack (session 10, hostile review): answering a query now spends the DAKE budget. An honest client that
 * re-sends its query (no answer seen yet, a reconnect) must not be throttled for it: while our Identity is
 * out, a query is answered with the same bytes, for nothing; the DAKE then completes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LIMITS } from '../../ts/index.js';
import { WASM as be } from '../helpers/backends.js';
import { makePair } from '../helpers/session-pair.js';

test("a peer's query re-sent many times at once costs one token and is answered every time with the same Identity", () => {
  const p = makePair(be, 1950);
  const answers = Array.from({ length: 4 * DEFAULT_LIMITS.dakeBudgetPeerBurst }, () => p.a.receive('?OTRv4?'));
  assert.ok(answers.every((o) => o.toSend.length === 1 && !o.events.some((e) => e.type === 'throttled')), 'never throttled');
  assert.ok(answers.every((o) => o.toSend[0] === answers[0]!.toSend[0]), 'the same Identity each time');
  // Bob's client takes one of them (the others are byte-identical: ignored), and the DAKE completes.
  const authR = answers.flatMap((o) => p.b.receive(o.toSend[0]!).toSend);
  for (const m of authR.flatMap((m) => p.a.receive(m).toSend)) p.b.receive(m);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
});

test.run();
