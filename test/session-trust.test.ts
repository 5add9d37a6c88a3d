/**
 * The fingerprint trust store (issue 13, item 1): every fingerprint seen per peer with first/last seen and
 * trust; `fingerprint-new`, `fingerprint-changed`, `verified` on SMP success; verify/revoke by hand;
 * policy.refuseUnverifiedChange; persisted, bounded and validated on restore. Both backends.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, OtrArgumentError, OtrDecodeError, type OtrEvent } from '../ts/index.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { decodeState, encodeState } from '../ts/session/state-codec.js';
import { LastSeenFingerprints } from '../ts/session/fingerprints.js';
import { ALICE_ID, BOB_ID, establish, makePair, pump, type Pair } from './helpers/session-pair.js';

const evs = (outs: { events: OtrEvent[] }[]) => outs.flatMap((o) => o.events);

/** Someone else claiming to be Bob (own keys), under `tag`. */
function impostor(p: Pair, tag: number, be: (typeof BACKENDS)[number], seed = 700) {
  const acct = Account.create({ accountId: BOB_ID, backend: be, random: seededRandom(seed), clock: p.clock, dsaKey: null, instanceTag: tag });
  return { acct, conv: acct.conversation(ALICE_ID) };
}

for (const be of BACKENDS) {
  test(`first DAKE: fingerprint-new (unverified) on both sides; first and last seen recorded [${be.name}]`, () => {
    const p = makePair(be, 300);
    const log = pump(p.a, p.b, p.a.start());
    const atA = evs(log.a).find((e) => e.type === 'fingerprint-new');
    const atB = evs(log.b).find((e) => e.type === 'fingerprint-new');
    assert.ok(atA && atA.type === 'fingerprint-new' && atA.fingerprint === p.bob.fingerprint && atA.trust === 'unverified' && atA.version === 4);
    assert.ok(atB && atB.type === 'fingerprint-new' && atB.fingerprint === p.alice.fingerprint);
    assert.not.ok(evs(log.a).some((e) => e.type === 'fingerprint-changed'), 'the first key is no change');
    const known = p.a.fingerprints;
    assert.is(known.length, 1);
    assert.equal(known[0], { fingerprint: p.bob.fingerprint, version: 4, firstSeen: p.clock(), lastSeen: p.clock(), trust: 'unverified' });
    // Again later: not new, last seen moves, first seen stays.
    const first = p.clock();
    p.clock.advance(5000);
    const again = pump(p.b, p.a, p.b.startDake());
    assert.not.ok(evs(again.b).some((e) => e.type === 'fingerprint-new' || e.type === 'fingerprint-changed'));
    assert.equal([p.a.fingerprints[0]!.firstSeen, p.a.fingerprints[0]!.lastSeen], [first, first + 5000]);
  });

  test(`SMP success marks the session's fingerprint verified-smp (event 'verified'); a failure does not [${be.name}]`, () => {
    const p = makePair(be, 301);
    establish(p);
    const fail = pump(p.a, p.b, p.a.startSmp('one'));
    pump(p.b, p.a, p.b.answerSmp('two'));
    assert.not.ok(evs([...fail.a, ...fail.b]).some((e) => e.type === 'verified'));
    assert.is(p.alice.fingerprints.trustOf(BOB_ID, p.bob.fingerprint), 'unverified');
    pump(p.a, p.b, p.a.startSmp('same', 'q?'));
    const log = pump(p.b, p.a, p.b.answerSmp('same'));
    const all = [...evs(log.a), ...evs(log.b)];
    const vA = all.find((e) => e.type === 'verified' && e.fingerprint === p.bob.fingerprint);
    const vB = all.find((e) => e.type === 'verified' && e.fingerprint === p.alice.fingerprint);
    assert.ok(vA && vB, JSON.stringify(all.map((e) => e.type)));
    assert.is(p.alice.fingerprints.trustOf(BOB_ID, p.bob.fingerprint), 'verified-smp');
    assert.is(p.bob.fingerprints.trustOf(ALICE_ID, p.alice.fingerprint), 'verified-smp');
  });

  test(`verify and revoke by hand; hex forms users copy are accepted; garbage is refused [${be.name}]`, () => {
    const p = makePair(be, 302);
    establish(p);
    const fp = p.bob.fingerprint;
    p.a.verifyFingerprint();
    assert.is(p.a.fingerprints[0]!.trust, 'verified-hand');
    const spaced = fp.toUpperCase().replace(/(.{8})/g, '$1 ');
    p.alice.fingerprints.revoke(BOB_ID, spaced);
    assert.is(p.alice.fingerprints.trustOf(BOB_ID, fp), 'revoked');
    assert.throws(() => p.alice.fingerprints.verify(BOB_ID, 'abc'), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => p.alice.fingerprints.verify('', fp), (e: unknown) => e instanceof OtrArgumentError);
    // A fingerprint verified before it is ever seen (read off a card) is not "new" trust-wise: it arrives verified.
    const q = makePair(be, 303);
    q.alice.fingerprints.verify(BOB_ID, q.bob.fingerprint);
    const log = pump(q.a, q.b, q.a.start());
    const n = evs(log.a).find((e) => e.type === 'fingerprint-new');
    assert.ok(n && n.type === 'fingerprint-new' && n.trust === 'verified-hand');
  });

  test(`refuseUnverifiedChange: a changed unverified key gets no session; the old one survives; verifying lets it in [${be.name}]`, () => {
    const p = makePair(be, 304, { policy: { refuseUnverifiedChange: true } });
    establish(p);
    const honest = p.a.ssid;
    const m = impostor(p, p.bob.instanceTag, be);
    const log = pump(m.conv, p.a, m.conv.startDake());
    const ev = evs(log.b);
    const refused = ev.find((e) => e.type === 'session-refused');
    assert.ok(refused && refused.type === 'session-refused' && refused.reason === 'changed-unverified' && refused.previous === p.bob.fingerprint && refused.fingerprint === m.acct.fingerprint);
    assert.ok(ev.some((e) => e.type === 'fingerprint-changed'));
    assert.not.ok(ev.some((e) => e.type === 'encrypted' || e.type === 'session-replaced'));
    // The impostor was told goodbye (disconnect on the refused session) and Alice's session with Bob goes on.
    assert.is(m.conv.state, 'FINISHED');
    assert.is(p.a.ssid, honest);
    assert.equal(pump(p.b, p.a, p.b.send('still you')).b.flatMap((o) => o.messages.map((x) => x.text)), ['still you']);
    // The refused key did not become the last seen one: a second try is refused again.
    const again = m;
    assert.ok(evs(pump(again.conv, p.a, again.conv.startDake()).b).some((e) => e.type === 'session-refused'));
    // Once the user verified it (e.g. Bob really has a new key), it is accepted.
    p.alice.fingerprints.verify(BOB_ID, m.acct.fingerprint);
    const ok = evs(pump(again.conv, p.a, again.conv.startDake()).b);
    assert.ok(ok.some((e) => e.type === 'encrypted' && e.peerFingerprint === m.acct.fingerprint), JSON.stringify(ok.map((e) => e.type)));
    assert.is(p.alice.fingerprints.get(BOB_ID)?.v4, m.acct.fingerprint);
  });

  test(`refuseUnverifiedChange: a revoked key is refused even unchanged; without the policy it is only reported [${be.name}]`, () => {
    const p = makePair(be, 305, { policy: { refuseUnverifiedChange: true } });
    establish(p);
    p.a.revokeFingerprint();
    const ev = evs(pump(p.b, p.a, p.b.startDake()).b);
    assert.ok(ev.some((e) => e.type === 'session-refused' && e.reason === 'revoked'));
    const q = makePair(be, 306);
    establish(q);
    const m = impostor(q, q.bob.instanceTag, be, 701);
    const ev2 = evs(pump(m.conv, q.a, m.conv.startDake()).b);
    assert.ok(ev2.some((e) => e.type === 'fingerprint-changed') && ev2.some((e) => e.type === 'fingerprint-new') && ev2.some((e) => e.type === 'encrypted'));
    assert.equal(q.a.fingerprints.map((k) => k.fingerprint).sort(), [q.bob.fingerprint, m.acct.fingerprint].sort());
  });

  test(`the trust store survives serialize/restore with trust and times [${be.name}]`, () => {
    const p = makePair(be, 307);
    establish(p);
    p.a.verifyFingerprint();
    const r = Account.restore(p.alice.serialize(), { backend: be, clock: p.clock });
    assert.equal(r.fingerprints.list(BOB_ID), p.alice.fingerprints.list(BOB_ID));
    assert.is(r.fingerprints.trustOf(BOB_ID, p.bob.fingerprint), 'verified-hand');
  });
}

// ---- bounds and restore validation (pure, no backend)

const FP = (n: number) => n.toString(16).padStart(112, '0');

test('bounded: at most maxFingerprintsPerPeer per peer (unverified first, revocations kept) and maxTrustPeers peers', () => {
  const s = new LastSeenFingerprints(3, 4);
  s.revoke('bob', FP(1));
  s.verify('bob', FP(2));
  for (let i = 3; i < 20; i++) s.observe('bob', 4, FP(i), i);
  const list = s.list('bob');
  assert.is(list.length, 4);
  assert.is(s.trustOf('bob', FP(1)), 'revoked', 'a revocation is not forgotten for unverified keys');
  assert.is(s.trustOf('bob', FP(2)), 'verified-hand');
  assert.ok(list.some((k) => k.fingerprint === FP(19)), 'the last seen key is kept');
  for (const peer of ['c', 'd', 'e', 'f']) s.observe(peer, 4, FP(5), 1);
  assert.is(s.peers.length, 3);
});

test('every change the account record carries moves revisionOfAll (the record book compares it around each call)', () => {
  const s = new LastSeenFingerprints();
  const moved = (what: string, f: () => void) => {
    const before = s.revisionOfAll;
    f();
    assert.ok(s.revisionOfAll !== before, `${what} moves the revision`);
  };
  const still = (what: string, f: () => void) => {
    const before = s.revisionOfAll;
    f();
    assert.is(s.revisionOfAll, before, `${what} leaves the revision`);
  };
  moved('a first fingerprint', () => s.observe('bob', 4, FP(1), 5));
  moved('a second one', () => s.observe('bob', 4, FP(2), 5));
  // Back to the first at the same clock: its known entry is unchanged, but the last seen one is not, and the
  // account record holds which one was last seen (the next fingerprint-changed event is decided against it).
  moved('the first one again, at the same time', () => s.observe('bob', 4, FP(1), 5));
  assert.equal(s.get('bob'), { v4: FP(1) });
  still('the same one again', () => s.observe('bob', 4, FP(1), 5));
  moved('trust set by hand', () => s.verify('bob', FP(1)));
  moved('another peer', () => s.observe('carol', 4, FP(3), 6));
});

test('restore refuses malformed trust entries (typed) and reads the older last-seen-only form', () => {
  const s = new LastSeenFingerprints();
  s.observe('bob', 4, FP(7), 10);
  const good = s.toValue() as unknown as Record<string, unknown>[];
  const roundTrip = (v: unknown) => LastSeenFingerprints.fromValue(decodeState('t', encodeState('t', v as never), 1 << 20));
  assert.equal(roundTrip(good).list('bob'), s.list('bob'));
  const bad = (f: (e: Record<string, unknown>) => void) => {
    const copy = structuredClone(good);
    f(copy[0]!);
    assert.throws(() => roundTrip(copy), (e: unknown) => e instanceof OtrDecodeError);
  };
  bad((e) => ((e.known as Record<string, unknown>[])[0]!.trust = 'trusted-by-mallory'));
  bad((e) => ((e.known as Record<string, unknown>[])[0]!.fp = 'zz'));
  bad((e) => ((e.known as Record<string, unknown>[])[0]!.first = 20));
  bad((e) => (e.known = [...(e.known as unknown[]), (e.known as unknown[])[0]]));
  bad((e) => (e.known = []));
  bad((e) => (e.peer = ''));
  bad((e) => (e.known = Array.from({ length: 17 }, (_, i) => ({ fp: FP(i + 100), first: 0, last: 0, trust: 'unverified' }))));
  const old = LastSeenFingerprints.fromValue([{ peer: 'bob', v4: FP(9), v3: null }]);
  assert.equal(old.list('bob'), [{ fingerprint: FP(9), version: 4, firstSeen: 0, lastSeen: 0, trust: 'unverified' }]);
  assert.ok(old.seenV4('bob'));
});

test.run();
