/**
 * Attack (session 11, found by the trust-trim helper on main): a peer's key list is bounded
 * (limits.maxFingerprintsPerPeer, 16). Adding a key to a full list evicted an unverified *last-seen* key before
 * any verified or revoked one; when the new key did not become the last seen one in its place — `record()` of a
 * DAKE refused for its key (refuseUnverifiedChange), a `verify()`/`revoke()` of a fingerprint read out of band —
 * the account record kept a last-seen mark for a key it no longer listed, and restore() refused that record
 * ("last seen key is not among the known ones"): serialize() wrote what restore() refuses.
 *
 * Now a last-seen key is evicted only when nothing else can go (a per-peer bound below three), and then its mark
 * goes with it; the record always restores.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LastSeenFingerprints } from '../../ts/session/fingerprints.js';

const fp4 = (n: number) => n.toString(16).padStart(112, '0');
const fp3 = (n: number) => n.toString(16).padStart(40, '0');

function roundTrip(s: LastSeenFingerprints, perPeer: number): LastSeenFingerprints {
  return LastSeenFingerprints.fromValue(s.toValue(), 100, perPeer);
}

test('15 revoked keys and the last-seen one, then a DAKE refused for a 17th key: the record restores, the last seen key stays', () => {
  const s = new LastSeenFingerprints(100, 16);
  for (let i = 1; i <= 15; i++) s.revoke('bob', fp4(i));
  s.observe('bob', 4, fp4(100), 1000);
  s.record('bob', 4, fp4(101), 2000); // a session refused for its key: known, not adopted
  const back = roundTrip(s, 16);
  assert.is(back.get('bob')?.v4, fp4(100), 'the last seen key is still the last seen one');
  assert.ok(back.list('bob').some((k) => k.fingerprint === fp4(100)));
  assert.ok(back.list('bob').some((k) => k.fingerprint === fp4(101)), 'the new key is known');
  assert.is(back.list('bob').length, 16);
});

test('a full list of verified keys, both last-seen keys (v4 and v3) in it, then verify() of a key read out of band: restores', () => {
  const s = new LastSeenFingerprints(100, 16);
  s.observe('bob', 4, fp4(200), 1000);
  s.observe('bob', 3, fp3(300), 1000);
  for (let i = 1; i <= 14; i++) s.verify('bob', fp4(i));
  s.verify('bob', fp4(500));
  const back = roundTrip(s, 16);
  assert.is(back.get('bob')?.v4, fp4(200));
  assert.is(back.get('bob')?.v3, fp3(300));
  assert.is(back.trustOf('bob', fp4(500)), 'verified-hand');
});

test('a per-peer bound of one: the last seen key is evicted with its mark, and the record restores', () => {
  const s = new LastSeenFingerprints(100, 1);
  s.observe('bob', 4, fp4(1), 1000);
  s.record('bob', 4, fp4(2), 2000);
  const back = roundTrip(s, 1);
  assert.is(back.list('bob').length, 1);
  const last = back.get('bob')?.v4;
  assert.ok(last === undefined || back.list('bob').some((k) => k.fingerprint === last), 'no mark without its key');
});

test.run();
