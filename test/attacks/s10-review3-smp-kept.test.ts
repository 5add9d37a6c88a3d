/**
 * Attack (session 10, hostile review of limits.maxAccountPendingDakes): a contact with a session and an SMP
 * under way restarts its DAKE (or a server speaking as the contact's JID sends an Identity): that pending DAKE
 * is the contact's, and past the bound it is evicted in the second pass. Only the DAKE may go: the session,
 * the SMP exchange and the record stay, and the SMP then completes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { OtrEvent } from '../../ts/index.js';
import { WASM as be } from '../helpers/backends.js';
import { AppliedRecords } from '../helpers/applied-records.js';
import { ALICE_ID, BOB_ID, establish, makePair } from '../helpers/session-pair.js';
import { attackerIdentity, makeAttacker } from './attacker.js';

test("a contact's pending DAKE evicted during an SMP: the session, the SMP and the record stay; the SMP completes", () => {
  const p = makePair(be, 1960, { limits: { maxAccountPendingDakes: 1 } });
  const store = new AppliedRecords();
  establish(p);
  for (const r of p.alice.records()) store.rows.set(r.key, { generation: r.generation, bytes: r.bytes });
  const ask = p.a.startSmp('our secret');
  store.commit(ask);
  // An Identity arrives as Bob (a fresh instance of his JID): Alice answers it, a pending DAKE of Bob's.
  p.clock.advance(1000);
  const x = makeAttacker(be, { tag: 0x5800_0001, seed: 9970, nowMs: p.clock() });
  const answered = p.a.receive(attackerIdentity(be, x, BOB_ID, ALICE_ID));
  store.commit(answered);
  assert.is(answered.toSend.length, 1);
  // A stranger passes the bound: Bob's pending DAKE is the only other one, evicted in the second pass.
  p.clock.advance(1000);
  const y = makeAttacker(be, { tag: 0x5800_0002, seed: 9971, nowMs: p.clock() });
  const out = p.alice.conversation('stranger@evil.example').receive(attackerIdentity(be, y, 'stranger@evil.example', ALICE_ID));
  store.commit(out);
  assert.ok(out.events.some((e) => e.type === 'dakes-evicted' && e.peer === BOB_ID), "Bob's pending DAKE was evicted");
  assert.ok(store.rows.has('conv:' + BOB_ID), "Bob's record stays");
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  // The SMP goes on to the end.
  let toB = ask.toSend;
  const events: OtrEvent[] = [];
  for (let round = 0; round < 4 && toB.length; round++) {
    const toA = toB.flatMap((m) => {
      const o = p.b.receive(m);
      if (o.events.some((e) => e.type === 'smp' && e.status === 'asked')) return p.b.answerSmp('our secret').toSend.concat(o.toSend);
      return o.toSend;
    });
    toB = toA.flatMap((m) => {
      const o = p.a.receive(m);
      store.commit(o);
      events.push(...o.events);
      return o.toSend;
    });
  }
  assert.ok(events.some((e) => e.type === 'smp' && e.status === 'succeeded'), `SMP events: ${JSON.stringify(events.filter((e) => e.type === 'smp'))}`);
});

test.run();
