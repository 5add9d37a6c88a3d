/**
 * Attack (session 11 review): a flood of strangers erases what the trust store remembers of a contact.
 *
 * The trust store is bounded (maxTrustStoreBytes, ~5,000 peers with one key at the default; session 10), and
 * past the bound it forgot the least recently seen peer holding no verified or revoked key. A hostile XMPP
 * server completes DAKEs from as many JIDs of its domain as it likes (the account's DAKE budget: 4 a second,
 * ~21 minutes for 5,000): every unverified contact whose last DAKE is older than the flood was forgotten —
 * most users never verify, so for them the store's memory is all there is (trust on first use). The same
 * server then speaks as that contact with its own key: the session came up as `fingerprint-new` instead of
 * `fingerprint-changed` (the takeover event), policy.refuseUnverifiedChange did not refuse it, and the
 * contact's "seen speaking OTRv4" was gone, so an OTRv3 offer from it was no longer reported as a downgrade.
 *
 * Now a peer the user wrote to in an encrypted session (something no stranger can make happen) is a contact
 * in the store, persisted, and strangers are forgotten before any contact.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, BOB_ID, establish, events, makePair, pump, type Pair } from '../helpers/session-pair.js';

/** Room for a handful of peers with one OTRv4 key (~406 bytes each, fingerprints.ts sizeOf). */
const limits = { maxTrustStoreBytes: 2_500 };

/** `n` strangers (fresh keys, JIDs of the hostile domain) each complete a DAKE with Alice, one a second. */
function flood(p: Pair, n: number, seed: number): void {
  for (let i = 0; i < n; i++) {
    const m = Account.create({ accountId: `m${i}@evil.example.net`, backend: be, random: seededRandom(seed + i), clock: p.clock, dsaKey: null, limits });
    const mc = m.conversation(ALICE_ID);
    const ac = p.alice.conversation(`m${i}@evil.example.net`);
    pump(mc, ac, mc.start());
    assert.is(ac.state, 'ENCRYPTED_MESSAGES', `stranger ${i} completed its DAKE`);
    p.clock.advance(1_000);
  }
}

/** The hostile server speaks as Bob with its own key: Alice's outcomes of that DAKE. */
function impersonateBob(p: Pair, seed: number): Outcome[] {
  const eve = Account.create({ accountId: BOB_ID, backend: be, random: seededRandom(seed), clock: p.clock, dsaKey: null, limits });
  const ec = eve.conversation(ALICE_ID);
  return pump(ec, p.a, ec.start()).b;
}

function contactPair(seed: number, policy = {}): { p: Pair; bobFp: string } {
  const p = makePair(be, seed, { limits, policy });
  establish(p);
  // Alice wrote to Bob: he is her contact (unverified, as most are).
  const sent = p.a.send('hi bob');
  assert.equal(sent.toSend.map((t) => p.b.receive(t).messages.map((m) => m.text)).flat(), ['hi bob']);
  assert.ok(p.alice.fingerprints.isContact(BOB_ID), 'Bob is a contact');
  assert.ok(sent.changed?.some((c) => c.key === 'account'), 'the account record goes with the first message');
  assert.not.ok(p.a.send('again').changed?.some((c) => c.key === 'account'), 'and not with the next');
  return { p, bobFp: p.alice.fingerprints.get(BOB_ID)!.v4! };
}

test('a flood of strangers completing DAKEs does not erase a contact: the impersonator is a fingerprint change', () => {
  const { p, bobFp } = contactPair(2100);
  flood(p, 12, 2200);
  assert.is(p.alice.fingerprints.get(BOB_ID)?.v4, bobFp, "Bob's key is still the one last seen");
  assert.ok(p.alice.fingerprints.peers.length < 13, 'strangers were forgotten to keep the bound');
  const ev = events(impersonateBob(p, 2300));
  assert.ok(ev.some((e) => e.type === 'fingerprint-changed' && e.previous === bobFp), `fingerprint-changed reported (${ev.map((e) => e.type).join(', ')})`);
});

test('with refuseUnverifiedChange, the impersonator after the flood is refused', () => {
  const { p } = contactPair(2110, { refuseUnverifiedChange: true });
  flood(p, 12, 2210);
  const ev = events(impersonateBob(p, 2310));
  assert.ok(ev.some((e) => e.type === 'session-refused'), `session-refused (${ev.map((e) => e.type).join(', ')})`);
});

test('a contact survives serialize()/restore() and the account record: a flood after a restart forgets strangers first', () => {
  const { p, bobFp } = contactPair(2120);
  const again = Account.restore(p.alice.serialize(), { backend: be, random: seededRandom(2121), clock: p.clock, limits });
  const q = { ...p, alice: again, a: again.conversation(BOB_ID) };
  flood(q, 12, 2220);
  assert.is(again.fingerprints.get(BOB_ID)?.v4, bobFp, 'still known after the restart and the flood');
  assert.ok(again.fingerprints.seenV4(BOB_ID), 'still known to speak OTRv4 (a later OTRv3 offer is a downgrade)');
});

test('held: a peer merely seen (never written to) is still forgotten first, and contacts go last only among the unverified', () => {
  const p = makePair(be, 2130, { limits });
  establish(p); // a DAKE but no message from Alice: not a contact
  flood(p, 12, 2230);
  assert.is(p.alice.fingerprints.get(BOB_ID), undefined, 'a stranger-like peer was forgotten under the flood');
});

test.run();
