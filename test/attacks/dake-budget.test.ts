/**
 * Attack: unauthenticated DAKE work (issue 10, "One message must not cost seconds of CPU"). Answering an
 * Identity costs ~26-37 ms (WASM); two alternating replayed Identity messages used to make us do it forever,
 * and 32 Identity messages from fresh instance tags evicted a legitimate pending DAKE. Now: a byte-identical
 * Identity is answered at most once; unauthenticated DAKE work spends a per-peer and a per-account token
 * bucket (ts/limits.ts) with a `throttled` event when it bites; a new unauthenticated DAKE never evicts a
 * pending one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, DEFAULT_LIMITS, type Outcome } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, BOB_ID, makePair, pump, testClock, texts } from '../helpers/session-pair.js';
import { attackerIdentity, makeAttacker } from './attacker.js';

const be = WASM;
const throttled = (o: Outcome, scope: 'peer' | 'account') => o.events.some((e) => e.type === 'throttled' && e.scope === scope);

test('two alternating replayed Identity messages are each answered once, then ignored', () => {
  const p = makePair(be, 40);
  // Two Identities of one attacker instance (the old filter only compared with the last one answered).
  const x = makeAttacker(be, { tag: 0x4000_0001, seed: 41, nowMs: p.clock() });
  const ix = attackerIdentity(be, x, BOB_ID, ALICE_ID);
  const iy = attackerIdentity(be, x, BOB_ID, ALICE_ID);
  assert.is.not(ix, iy);
  const answers: number[] = [];
  for (let i = 0; i < 20; i++) answers.push(p.a.receive(i % 2 ? iy : ix).toSend.length);
  assert.equal(answers, [1, 1, ...Array(18).fill(0)]);
  // The same replay in the middle of a real DAKE does not disturb it.
  const log = pump(p.b, p.a, p.b.startDake());
  assert.ok(log.a.length > 0);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  assert.equal(p.a.receive(ix).toSend, []);
  assert.equal(texts([p.b.receive(p.a.send('still fine').toSend[0]!)]), ['still fine']);
});

test('per-peer budget: fresh Identities beyond the burst are throttled (with an event), then allowed again as tokens return', () => {
  const p = makePair(be, 43, { limits: { dakeBudgetPeerBurst: 3, dakeBudgetPeerPerSecond: 0.5, maxInstancesPerConversation: 64 } });
  const identities = Array.from({ length: 6 }, (_, i) => attackerIdentity(be, makeAttacker(be, { tag: 0x4100_0000 + i, seed: 50 + i, nowMs: p.clock() }), BOB_ID, ALICE_ID));
  const outs = identities.slice(0, 5).map((m) => p.a.receive(m));
  assert.equal(outs.map((o) => o.toSend.length), [1, 1, 1, 0, 0]);
  assert.ok(throttled(outs[3]!, 'peer') && throttled(outs[4]!, 'peer'));
  // Two seconds later one token is back.
  p.clock.advance(2000);
  assert.is(p.a.receive(identities[5]!).toSend.length, 1);
});

test('an Identity dropped unread by the budget is answered when it comes again (it was not a replay)', () => {
  const p = makePair(be, 46, { limits: { dakeBudgetPeerBurst: 1, dakeBudgetPeerPerSecond: 1 } });
  const ids = Array.from({ length: 2 }, (_, i) => attackerIdentity(be, makeAttacker(be, { tag: 0x4500_0000 + i, seed: 210 + i, nowMs: p.clock() }), BOB_ID, ALICE_ID));
  assert.is(p.a.receive(ids[0]!).toSend.length, 1);
  assert.ok(throttled(p.a.receive(ids[1]!), 'peer'));
  p.clock.advance(1000);
  assert.is(p.a.receive(ids[1]!).toSend.length, 1);
  assert.equal(p.a.receive(ids[1]!).toSend, [], 'now it is a replay');
});

test('per-account budget: a flood spread over many peers is throttled as a whole', () => {
  const clock = testClock();
  const limits = { dakeBudgetAccountBurst: 5, dakeBudgetAccountPerSecond: 1 };
  const victim = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(60), clock, dsaKey: null, limits });
  const results: Outcome[] = [];
  for (let i = 0; i < 8; i++) {
    const peer = `peer${i}@example.org`;
    const x = makeAttacker(be, { tag: 0x4200_0000 + i, seed: 70 + i, nowMs: clock() });
    results.push(victim.conversation(peer).receive(attackerIdentity(be, x, peer, ALICE_ID)));
  }
  assert.equal(results.map((o) => o.toSend.length), [1, 1, 1, 1, 1, 0, 0, 0]);
  assert.ok(results.slice(5).every((o) => throttled(o, 'account')));
});

test('32 Identities from fresh instance tags do not evict a pending DAKE: the honest Auth-I still completes', () => {
  const n = DEFAULT_LIMITS.maxInstancesPerConversation;
  const p = makePair(be, 44, { limits: { dakeBudgetPeerBurst: 100, dakeBudgetAccountBurst: 100 } });
  // Bob starts; Alice answers with Auth-R and waits for Auth-I.
  const identity = p.b.startDake().toSend;
  const authR = identity.flatMap((m) => p.a.receive(m).toSend);
  assert.is(p.a.state, 'WAITING_AUTH_I');
  const refused: Outcome[] = [];
  for (let i = 0; i < n; i++) {
    const x = makeAttacker(be, { tag: 0x4300_0000 + i, seed: 100 + i, nowMs: p.clock() });
    refused.push(p.a.receive(attackerIdentity(be, x, BOB_ID, ALICE_ID)));
  }
  // The table filled up with the attacker's pending DAKEs; the later ones were refused, Bob's kept its slot.
  assert.ok(refused.slice(n - 1).every((o) => o.toSend.length === 0 && o.events.some((e) => e.type === 'ignored')));
  assert.ok(p.a.instanceTags.includes(p.bob.instanceTag));
  const authI = authR.flatMap((m) => p.b.receive(m).toSend);
  for (const m of authI) p.a.receive(m);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  assert.equal(texts([p.a.receive(p.b.send('made it').toSend[0]!)]), ['made it']);
});

test('the budget refills by the injected clock only, and a clock going backwards mints nothing', () => {
  const p = makePair(be, 45, { limits: { dakeBudgetPeerBurst: 1, dakeBudgetPeerPerSecond: 1 } });
  const ids = Array.from({ length: 3 }, (_, i) => attackerIdentity(be, makeAttacker(be, { tag: 0x4400_0000 + i, seed: 200 + i, nowMs: p.clock() }), BOB_ID, ALICE_ID));
  assert.is(p.a.receive(ids[0]!).toSend.length, 1);
  p.clock.advance(-10_000);
  assert.ok(throttled(p.a.receive(ids[1]!), 'peer'));
  p.clock.advance(10_000 + 1000);
  assert.is(p.a.receive(ids[2]!).toSend.length, 1);
});

test.run();
