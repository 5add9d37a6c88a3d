/**
 * A peer id mismatch is visible (issue 13, item 4): the account ids bound into the DAKE (phi) must be equal
 * on both sides byte for byte. When a host names the peer otherwise (a full JID with resource instead of the
 * bare JID), the ring signature fails after everything else validated: a `peer-id-mismatch` event names the
 * likely cause instead of a silent hang in WAITING_AUTH_R. Both backends.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../ts/index.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { ALICE_ID, BOB_ID, pump, testClock } from './helpers/session-pair.js';

for (const be of BACKENDS) {
  test(`a resource in the peer id: the DAKE fails with peer-id-mismatch naming both ids [${be.name}]`, () => {
    const clock = testClock();
    const alice = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(900), clock, dsaKey: null });
    const bob = Account.create({ accountId: BOB_ID, backend: be, random: seededRandom(901), clock, dsaKey: null });
    const a = alice.conversation(`${BOB_ID}/phone`); // the host forgot to strip the resource
    const b = bob.conversation(ALICE_ID);
    const log = pump(b, a, b.startDake());
    const all = [...log.a, ...log.b].flatMap((o) => o.events);
    const m = all.find((e) => e.type === 'peer-id-mismatch');
    assert.ok(m && m.type === 'peer-id-mismatch', JSON.stringify(all.map((e) => e.type)));
    assert.is(m.step, 'auth-r');
    assert.equal([m.ourId, m.peerId], [BOB_ID, ALICE_ID], "reported by Bob, whose Identity was answered under other ids");
    assert.not.ok(all.some((e) => e.type === 'encrypted'));
  });

  test(`matching ids: no peer-id-mismatch; a forged Auth-R from nobody we wait for is only ignored [${be.name}]`, () => {
    const clock = testClock();
    const alice = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(902), clock, dsaKey: null });
    const bob = Account.create({ accountId: BOB_ID, backend: be, random: seededRandom(903), clock, dsaKey: null });
    const log = pump(bob.conversation(ALICE_ID), alice.conversation(BOB_ID), bob.conversation(ALICE_ID).startDake());
    const all = [...log.a, ...log.b].flatMap((o) => o.events);
    assert.ok(all.some((e) => e.type === 'encrypted'));
    assert.not.ok(all.some((e) => e.type === 'peer-id-mismatch'));
  });
}

test.run();
