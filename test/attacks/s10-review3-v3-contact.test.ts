/**
 * Attack (session 10, hostile review of limits.maxAccountPendingDakes): a contact's OTRv3 conversation after
 * its session ended holds no OTRv3 session but still holds `lastTarget` — the version and instance our last
 * send went to, from which a later switch is reported (`version-switched`, `instance-switched`: never silent,
 * docs/security.md). A D-H Commit in that conversation (unauthenticated: anyone speaking as the contact's JID)
 * is a pending AKE the bound may evict; evicting it dropped the OTRv3 state and the conversation then "held
 * nothing" (holdsNothing ignored lastTarget), so its record was DELETED and the next restart forgot the target.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM as be } from '../helpers/backends.js';
import { AppliedRecords } from '../helpers/applied-records.js';
import { ALICE_ID } from '../helpers/session-pair.js';
import { attackerIdentity, makeAttacker, makeV34Pair, mallory, pumpV3 } from './attacker.js';

test("a contact's ended OTRv3 conversation keeps its record (its last target) when a D-H Commit in it is evicted", () => {
  const p = makeV34Pair(be, 1900, { limits: { maxAccountPendingDakes: 1 } });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  const peer = 'v3contact@example.org';
  const conv = p.alice.conversation(peer);
  const m = mallory(be, p.clock, 1901);
  for (const o of pumpV3(conv, m, m.startAke().toSend)) store.commit(o);
  assert.is(conv.version, 3, 'an OTRv3 session');
  const sent = conv.send('hello');
  store.commit(sent);
  for (const t of sent.toSend) m.receive(t);
  const ended = conv.end();
  store.commit(ended);
  for (const t of ended.toSend) m.receive(t);
  assert.is(conv.toState() !== null && (conv.toState() as { lastTarget: unknown }).lastTarget !== null, true, 'the last target is kept after the end');
  // A new D-H Commit in that conversation (the contact's, or a server's speaking as the contact): answered, pending.
  const commit = mallory(be, p.clock, 1902).startAke().toSend;
  const answered = conv.receive(commit[0]!);
  store.commit(answered);
  assert.is(answered.toSend.length, 1);
  // One stranger's Identity passes the bound (1): the contact's AKE is the only other one, evicted in the second pass.
  p.clock.advance(1000);
  const x = makeAttacker(be, { tag: 0x5500_0001, seed: 9990, nowMs: p.clock() });
  const out = p.alice.conversation('stranger@evil.example').receive(attackerIdentity(be, x, 'stranger@evil.example', ALICE_ID));
  store.commit(out);
  assert.ok(out.events.some((e) => e.type === 'dakes-evicted' && e.peer === peer), "the contact's pending AKE was evicted");
  assert.ok(store.rows.has('conv:' + peer), "the contact's record is kept: it holds the last target");
  assert.equal((conv.toState() as { lastTarget: unknown }).lastTarget, { version: 3, instance: (conv.toState() as { lastTarget: { instance: number } }).lastTarget.instance });
});

test.run();
