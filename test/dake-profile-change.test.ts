/**
 * Our client profile may change while a DAKE we started is in flight: the OTRv3 DSA key is made lazily (by
 * another conversation's OTRv3 AKE, or the host's prepareV3()), which re-issues the profile with the key and
 * its transitional signature; and a profile close to expiry is renewed when next read. The peer signed its
 * Auth-R over the profile we sent in our Identity message, so that is the one the DAKE must verify and sign
 * with. Before the fix we used the account's current profile: such a DAKE failed once (BAD_SIGNATURE on the
 * Auth-R) and had to be retried. Now it completes, and later DAKEs carry the new profile.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../ts/index.js';
import { decodeIdentity } from '../ts/wire/dake.js';
import { dearmour } from '../ts/codec/armour.js';
import { equalBytes } from '../ts/bytes.js';
import { WASM as be } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { ALICE_ID, BOB_ID, pump, testClock } from './helpers/session-pair.js';

const HOUR = 3600 * 1000;

function pair(seed: number, bobV3: boolean, bobLifetimeSeconds?: number) {
  const clock = testClock();
  const alice = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(seed), clock, dsaKey: null });
  // Bob OTRv3-capable with the key not made yet (dsaKey undefined), or without OTRv3.
  const bob = Account.create({ accountId: BOB_ID, backend: be, random: seededRandom(seed + 1), clock, ...(bobV3 ? {} : { dsaKey: null }), ...(bobLifetimeSeconds ? { profileLifetimeSeconds: bobLifetimeSeconds } : {}) });
  return { clock, alice, bob, a: alice.conversation(BOB_ID), b: bob.conversation(ALICE_ID) };
}

/** Bob's Identity message (through Alice's query), then `change` before Alice's Auth-R reaches him. */
function dakeAcrossChange(p: ReturnType<typeof pair>, change: () => void) {
  const query = p.a.start();
  const identity = p.b.receive(query.toSend[0]!);
  assert.is(identity.toSend.length, 1, 'Bob answers with his Identity');
  const sentProfile = p.bob.clientProfile.encoded;
  change();
  assert.not.ok(equalBytes(p.bob.clientProfile.encoded, sentProfile), 'test premise: the profile changed mid-DAKE');
  const log = pump(p.b, p.a, identity);
  const refused = [...log.a, ...log.b].flatMap((o) => o.events).filter((e) => e.type === 'ignored' || e.type === 'unreadable');
  assert.equal(refused, [], 'nothing refused');
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
  const m = pump(p.a, p.b, p.a.send('hi across the change'));
  assert.equal(m.b.flatMap((o) => o.messages.map((x) => x.text)), ['hi across the change']);
}

test('the DSA key made mid-DAKE (profile re-issued) does not fail the DAKE', () => {
  const p = pair(10, true);
  dakeAcrossChange(p, () => p.bob.prepareV3());
});

test('a profile renewed mid-DAKE does not fail the DAKE; the next DAKE carries the renewed profile', () => {
  // A 25-hour profile: after an hour it has less than a day left (renewed when next read) and the DAKE, an hour
  // old, is still well within pendingDakeExpiryMs.
  const p = pair(20, false, 25 * 3600);
  dakeAcrossChange(p, () => p.clock.advance(HOUR + 1000));
  const renewed = p.bob.clientProfile.encoded;
  // A new DAKE (Alice queries again): Bob's Identity carries the renewed profile.
  const identity = p.b.receive(p.a.start().toSend[0]!);
  assert.is(identity.toSend.length, 1);
  assert.ok(equalBytes(decodeIdentity(dearmour(identity.toSend[0]!)).profile.encoded, renewed), 'the new Identity carries the current profile');
});

test.run();
