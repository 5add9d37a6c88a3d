/**
 * Attack (session 16 review of 267236b, the trust store restored under lower limits; a hostile or corrupt disk).
 * A record naming one peer twice is refused ("duplicated peer") — but only while the first copy is still in the
 * store: once a lowered maxTrustPeers or maxTrustStoreBytes had made the restore forget it, the second copy was
 * taken as a new peer. The same bytes were refused under the limits they were written with and accepted under
 * lower ones, the second copy silently replacing the first (whichever keys and contact mark it carried), and the
 * forgotten copy counted in trimmedOnRestore as a peer trimmed. A peer twice is now refused whatever the trim did.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OtrDecodeError } from '../../ts/errors.js';
import { LastSeenFingerprints } from '../../ts/session/fingerprints.js';
import type { StateValue } from '../../ts/session/state-codec.js';
import { seededRandom } from '../helpers/rng.js';

const rnd = seededRandom(16_2201);
const fp = () => Buffer.from(rnd(56)).toString('hex');

function peer(name: string, key = fp(), extra: Record<string, StateValue> = {}): StateValue {
  return { peer: name, v4: key, v3: null, known: [{ fp: key, first: 1, last: 1, trust: 'unverified' }], ...extra };
}

test('a peer twice is refused under the limits of its day', () => {
  const record = [peer('a@example.org'), peer('b@example.org'), peer('a@example.org')];
  assert.throws(() => LastSeenFingerprints.fromValue(record, 100, 16), (e: unknown) => e instanceof OtrDecodeError && /duplicated peer/.test(e.message));
});

test('a peer twice is refused under a lowered maxTrustPeers too, after the trim forgot its first copy', () => {
  const record = [peer('a@example.org'), peer('b@example.org'), peer('a@example.org', fp(), { contact: true })];
  assert.throws(() => LastSeenFingerprints.fromValue(record, 1, 16), (e: unknown) => e instanceof OtrDecodeError && /duplicated peer/.test(e.message));
});

test('a peer twice is refused when the restore left its first copy out (no room beside the decisions)', () => {
  const verified = fp();
  const decision: StateValue = { peer: 'v@example.org', v4: verified, v3: null, known: [{ fp: verified, first: 1, last: 1, trust: 'verified-hand' }] };
  const record = [decision, peer('a@example.org'), peer('a@example.org')];
  assert.throws(() => LastSeenFingerprints.fromValue(record, 1, 16), (e: unknown) => e instanceof OtrDecodeError && /duplicated peer/.test(e.message));
});

test('a peer twice is refused under a lowered maxTrustStoreBytes, after the byte trim forgot its first copy', () => {
  const record = [peer('a@example.org'), peer('b@example.org'), peer('a@example.org')];
  // Room for one entry of one key (~410 bytes by the estimate), not two.
  assert.throws(() => LastSeenFingerprints.fromValue(record, 100, 16, 500), (e: unknown) => e instanceof OtrDecodeError && /duplicated peer/.test(e.message));
});

test('what held: distinct peers trimmed under each bound restore, counted once each', () => {
  const record = [peer('a@example.org'), peer('b@example.org'), peer('c@example.org')];
  const byCount = LastSeenFingerprints.fromValue(record, 1, 16);
  assert.equal(byCount.peers, ['c@example.org']);
  assert.equal(byCount.trimmedOnRestore, { peers: 2, fingerprints: 0 });
  const byBytes = LastSeenFingerprints.fromValue(record, 100, 16, 500);
  assert.equal(byBytes.peers, ['c@example.org']);
  assert.equal(byBytes.trimmedOnRestore, { peers: 2, fingerprints: 0 });
});

test.run();
