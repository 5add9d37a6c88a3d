/**
 * Attack (session 16 review of 267236b; a record written under higher limits, or by a hostile disk, with a host
 * that tells its user what a restore forgot). trimmedOnRestore is documented as the peers forgotten and the keys
 * forgotten "of peers it kept". A peer whose keys were cut to a lowered maxFingerprintsPerPeer and which was then
 * forgotten itself (a lowered maxTrustPeers or maxTrustStoreBytes, or left out for want of room) was counted
 * twice: as a peer, and each of its cut keys again — a host summing the two told its user of keys forgotten that
 * belonged to no peer it kept. Its keys now go with it: counted once, as the peer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LastSeenFingerprints } from '../../ts/session/fingerprints.js';
import type { StateValue } from '../../ts/session/state-codec.js';
import { seededRandom } from '../helpers/rng.js';

const rnd = seededRandom(16_2220);
const fp = () => Buffer.from(rnd(56)).toString('hex');

/** A stranger with `keys` unverified keys, the last one last seen. */
function stranger(name: string, keys: number, extra: Record<string, StateValue> = {}): StateValue {
  const known = Array.from({ length: keys }, (_, i) => ({ fp: fp(), first: 1 + i, last: 1 + i, trust: 'unverified' }));
  return { peer: name, v4: known.at(-1)!.fp, v3: null, known, ...extra };
}

function decided(name: string): StateValue {
  const key = fp();
  return { peer: name, v4: key, v3: null, known: [{ fp: key, first: 1, last: 1, trust: 'verified-hand' }] };
}

test('a peer cut to maxFingerprintsPerPeer, then forgotten for maxTrustPeers: one peer, no keys', () => {
  const s = LastSeenFingerprints.fromValue([stranger('a@example.org', 6), stranger('b@example.org', 1)], 1, 2);
  assert.equal(s.peers, ['b@example.org']);
  assert.equal(s.trimmedOnRestore, { peers: 1, fingerprints: 0 });
});

test('a peer cut, then left out for want of room beside the decisions: one peer, no keys', () => {
  const s = LastSeenFingerprints.fromValue([decided('v@example.org'), stranger('a@example.org', 6)], 1, 2);
  assert.equal(s.peers, ['v@example.org']);
  assert.equal(s.trimmedOnRestore, { peers: 1, fingerprints: 0 });
});

test('a peer cut, then forgotten for maxTrustStoreBytes: one peer, no keys; a kept peer\'s cut keys still counted', () => {
  // Two keys a peer kept (~600 bytes by the estimate): room for one such peer under 700.
  const s = LastSeenFingerprints.fromValue([stranger('a@example.org', 5), stranger('b@example.org', 4)], 100, 2, 700);
  assert.equal(s.peers, ['b@example.org']);
  assert.equal(s.trimmedOnRestore, { peers: 1, fingerprints: 2 }, "b's two cut keys, not a's three");
});

test('what held: keys cut from peers kept are counted, each once', () => {
  const s = LastSeenFingerprints.fromValue([stranger('a@example.org', 5), stranger('b@example.org', 3)], 100, 2);
  assert.equal(s.peers, ['a@example.org', 'b@example.org']);
  assert.equal(s.trimmedOnRestore, { peers: 0, fingerprints: 4 });
});

test.run();
