/**
 * Attack (session 16 review of 267236b: a host slip, then a hostile peer). The trust store's last-seen key of a
 * peer is what tells a takeover from a first contact: a DAKE under another key is `fingerprint-changed`, refused
 * under policy.refuseUnverifiedChange (attacks/s11-review-trust-flood). A restore under a lowered
 * maxFingerprintsPerPeer, never forgetting a verified or revoked key, forgot an unverified last-seen key — its mark
 * with it — whenever the peer's decisions and that key were over the bound: the live store, at the same bound,
 * forgets a decision before a last-seen key. Afterwards a hijacker's key for that peer came up
 * `fingerprint-new`, not `fingerprint-changed`, and refuseUnverifiedChange let the session through. Now a restore
 * forgets a last-seen key only where the live store would (the peer holds no decision: nothing else can go);
 * when the peer's decisions and its last-seen keys alone exceed the bound, it refuses (OtrLimitError naming
 * maxFingerprintsPerPeer), nothing dropped, as for the decisions alone.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OtrLimitError } from '../../ts/errors.js';
import { LastSeenFingerprints } from '../../ts/session/fingerprints.js';
import { judgeFingerprint } from '../../ts/session/trust.js';
import type { StateValue } from '../../ts/session/state-codec.js';
import { seededRandom } from '../helpers/rng.js';

const rnd = seededRandom(16_2230);
const v4 = () => Buffer.from(rnd(56)).toString('hex');
const v3 = () => Buffer.from(rnd(20)).toString('hex');
const BOB = 'bob@example.org';

type Key = { fp: string; trust: string; at: number };

function bob(keys: readonly Key[], last: { v4?: string; v3?: string }): StateValue[] {
  return [{ peer: BOB, v4: last.v4 ?? null, v3: last.v3 ?? null, known: keys.map((k) => ({ fp: k.fp, first: k.at, last: k.at, trust: k.trust })) }];
}

/** What a hijacker's DAKE with a new key meets, refuseUnverifiedChange on. */
function hijack(store: LastSeenFingerprints): ReturnType<typeof judgeFingerprint> {
  return judgeFingerprint(store, BOB, 0x1234_5678, 4, v4(), 1_000, true);
}

const overLimit = (e: unknown) => e instanceof OtrLimitError && /maxFingerprintsPerPeer \(3\)/.test(e.message);

test('three verified keys and the unverified last-seen one, restored under 3: refused, not the takeover signal forgotten', () => {
  const last = v4();
  const keys: Key[] = [
    { fp: v4(), trust: 'verified-hand', at: 1 },
    { fp: v4(), trust: 'verified-smp', at: 2 },
    { fp: v4(), trust: 'revoked', at: 3 },
    { fp: last, trust: 'unverified', at: 4 },
  ];
  const record = bob(keys, { v4: last });
  // Under the bound it was written with, a hijacker's key is a change, refused.
  const whole = LastSeenFingerprints.fromValue(record, 100, 16);
  const before = hijack(whole);
  assert.is(before.refuse, 'changed-unverified');
  assert.throws(() => LastSeenFingerprints.fromValue(record, 100, 3), overLimit);
});

test('the same with an unverified key to spare: it goes, the last-seen key and its mark stay, a hijacker is refused', () => {
  const last = v4();
  const keys: Key[] = [
    { fp: v4(), trust: 'unverified', at: 1 },
    { fp: v4(), trust: 'verified-hand', at: 2 },
    { fp: v4(), trust: 'revoked', at: 3 },
    { fp: last, trust: 'unverified', at: 4 },
  ];
  const store = LastSeenFingerprints.fromValue(bob(keys, { v4: last }), 100, 3);
  assert.is(store.get(BOB)?.v4, last);
  assert.equal(store.trimmedOnRestore, { peers: 0, fingerprints: 1 });
  assert.is(hijack(store).refuse, 'changed-unverified');
});

test('both last-seen keys (OTRv4 and OTRv3) beside a decision over the bound: refused', () => {
  const lastV4 = v4();
  const lastV3 = v3();
  const keys: Key[] = [
    { fp: v4(), trust: 'verified-hand', at: 1 },
    { fp: v4(), trust: 'verified-hand', at: 2 },
    { fp: lastV3, trust: 'unverified', at: 3 },
    { fp: lastV4, trust: 'unverified', at: 4 },
  ];
  assert.throws(() => LastSeenFingerprints.fromValue(bob(keys, { v4: lastV4, v3: lastV3 }), 100, 3), overLimit);
});

test('what held: no decision, two last-seen keys under a bound of 1 — the older goes, as the live store forgets it', () => {
  const lastV4 = v4();
  const lastV3 = v3();
  const keys: Key[] = [
    { fp: lastV3, trust: 'unverified', at: 1 },
    { fp: lastV4, trust: 'unverified', at: 2 },
  ];
  const store = LastSeenFingerprints.fromValue(bob(keys, { v4: lastV4, v3: lastV3 }), 100, 1);
  assert.equal(store.get(BOB), { v4: lastV4 });
  // The live store at the same bound, seeing the same two keys in the same order, holds the same.
  const live = new LastSeenFingerprints(100, 1);
  live.observe(BOB, 3, lastV3, 1);
  live.observe(BOB, 4, lastV4, 2);
  assert.equal(live.toValue(), store.toValue());
});

test('what held: a verified last-seen key is a decision, kept whatever the bound', () => {
  const last = v4();
  const keys: Key[] = [
    { fp: v4(), trust: 'unverified', at: 1 },
    { fp: last, trust: 'verified-hand', at: 2 },
  ];
  const store = LastSeenFingerprints.fromValue(bob(keys, { v4: last }), 100, 1);
  assert.equal(store.get(BOB), { v4: last });
  assert.is(hijack(store).refuse, 'changed-unverified');
});

test.run();
