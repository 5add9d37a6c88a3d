/**
 * Attack (session 16, a host's action: the trust store's limits lowered). An account record whose trust store
 * held more peers than maxTrustPeers, or a peer with more keys than maxFingerprintsPerPeer, was refused
 * (OtrDecodeError): the account could not open at all. And over a lowered maxTrustStoreBytes the restore trimmed,
 * forgetting peers the user had verified, silently, once strangers and contacts were gone. Now (docs/trust.md,
 * session 16) a restore trims what can be trimmed in the growing store's own order — strangers, then contacts,
 * least recently seen first; a peer's unverified keys before its last-seen one — and never a verified or
 * revoked key: when the user's decisions alone exceed the lowered limit, restore refuses with OtrLimitError
 * naming it, the record untouched (raise the limit and everything is there). What was trimmed is told
 * (fingerprints.trimmedOnRestore) and the account record is written again. Hostile lists stay linear (counted:
 * peers looked at while choosing whom to forget).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { OtrLimitError } from '../../ts/errors.js';
import { LastSeenFingerprints, evictionWork } from '../../ts/session/fingerprints.js';
import type { StateValue } from '../../ts/session/state-codec.js';
import type { Limits } from '../../ts/limits.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, testClock } from '../helpers/session-pair.js';

const clock = testClock();
const rnd = seededRandom(16_300);
const v4 = () => Buffer.from(rnd(56)).toString('hex');

function account(limits: Partial<Limits> = {}): Account {
  return Account.create({ accountId: ALICE_ID, backend: be, clock, random: seededRandom(16_301), dsaKey: null, limits });
}

function restoreUnder(bytes: Uint8Array, limits: Partial<Limits>): Account {
  return Account.restore(bytes, { backend: be, clock, random: seededRandom(16_302), limits });
}

type Kind = 'stranger' | 'contact' | 'verified' | 'revoked';

/** Alice's account with one peer per kind given, seen in that order (the first least recently). */
function withPeers(kinds: readonly Kind[], limits: Partial<Limits> = {}): Account {
  const a = account(limits);
  kinds.forEach((kind, i) => {
    const peer = `${kind}${i}@example.org`;
    const fp = v4();
    a.fingerprints.observe(peer, 4, fp, 1 + i);
    if (kind === 'contact') a.fingerprints.markContact(peer);
    if (kind === 'verified') a.fingerprints.verify(peer, fp);
    if (kind === 'revoked') a.fingerprints.revoke(peer, fp);
  });
  return a;
}

test('40 peers saved under maxTrustPeers 50 restore under 25: the oldest strangers forgotten, every decision kept, told; a round trip keeps it', () => {
  const kinds: Kind[] = Array.from({ length: 40 }, (_, i) => (['stranger', 'contact', 'verified', 'stranger'] as const)[i % 4]!);
  const saved = withPeers(kinds, { maxTrustPeers: 50 }).serialize();
  const restored = restoreUnder(saved, { maxTrustPeers: 25 });
  const peers = restored.fingerprints.peers;
  assert.is(peers.length, 25);
  assert.ok(kinds.every((k, i) => k === 'stranger' || peers.includes(`${k}${i}@example.org`)), 'every contact and verified peer kept');
  const strangers = kinds.flatMap((k, i) => (k === 'stranger' ? [`stranger${i}@example.org`] : []));
  assert.equal(peers.filter((p) => p.startsWith('stranger')), strangers.slice(15), 'the 15 least recently seen strangers went');
  assert.equal(restored.fingerprints.trimmedOnRestore, { peers: 15, fingerprints: 0 });

  const again = restoreUnder(restored.serialize(), { maxTrustPeers: 25 });
  assert.equal(again.fingerprints.peers, peers);
  assert.equal(again.fingerprints.trimmedOnRestore, { peers: 0, fingerprints: 0 });
  assert.equal(again.serialize(), restored.serialize());
});

test('a peer\'s keys over a lowered maxFingerprintsPerPeer: unverified ones go, oldest first; its verified and revoked keys never, nor beside them its last-seen one', () => {
  const a = account();
  const peer = 'bob@example.org';
  const keys = Array.from({ length: 6 }, v4);
  keys.forEach((fp, i) => a.fingerprints.observe(peer, 4, fp, 1 + i));
  a.fingerprints.verify(peer, keys[1]!);
  a.fingerprints.verify(peer, keys[3]!, 'verified-smp');
  a.fingerprints.revoke(peer, keys[4]!);
  // keys[5] is the last seen; keys[0] and keys[2] are plain unverified.
  const saved = a.serialize();
  const listed = (x: Account) => x.fingerprints.list(peer).map((k) => k.fingerprint).sort();

  const four = restoreUnder(saved, { maxFingerprintsPerPeer: 4 });
  assert.equal(listed(four), [keys[1], keys[3], keys[4], keys[5]].sort());
  assert.is(four.fingerprints.get(peer)?.v4, keys[5]);
  assert.equal(four.fingerprints.trimmedOnRestore, { peers: 0, fingerprints: 2 });
  assert.equal(restoreUnder(four.serialize(), { maxFingerprintsPerPeer: 4 }).serialize(), four.serialize(), 'round trip');

  // Three decisions and the last-seen key: neither goes (session 16 review: the last-seen key is what makes a
  // hijacker's key a refused change, attacks/s16-review2-trust-last-seen) — refused, naming the limit.
  assert.throws(() => restoreUnder(saved, { maxFingerprintsPerPeer: 3 }), (e: unknown) => e instanceof OtrLimitError && /maxFingerprintsPerPeer \(3\)/.test(e.message));
  assert.throws(() => restoreUnder(saved, { maxFingerprintsPerPeer: 2 }), (e: unknown) => e instanceof OtrLimitError && /maxFingerprintsPerPeer/.test(e.message));
});

test('verified and revoked peers alone over a lowered maxTrustPeers: refused naming the limit, and everything is there under the old one', () => {
  const kinds: Kind[] = ['verified', 'stranger', 'revoked', 'verified', 'contact', 'verified'];
  const saved = withPeers(kinds).serialize();
  // Four decisions: a bound of 4 trims the stranger and the contact; 3 cannot be met without one.
  assert.is(restoreUnder(saved, { maxTrustPeers: 4 }).fingerprints.peers.length, 4);
  assert.throws(() => restoreUnder(saved, { maxTrustPeers: 3 }), (e: unknown) => e instanceof OtrLimitError && /maxTrustPeers \(3\)/.test(e.message));
  assert.is(restoreUnder(saved, {}).fingerprints.peers.length, kinds.length);
});

test('verified peers alone over a lowered maxTrustStoreBytes: refused naming it, none forgotten; with strangers to forget, they go instead', () => {
  const verified = withPeers(Array.from({ length: 30 }, () => 'verified' as const));
  const mixed = withPeers(Array.from({ length: 60 }, (_, i) => (i % 2 ? 'verified' : 'stranger') as Kind));
  // ~410 bytes a peer (the store's estimate): 30 peers need ~12 KB.
  const bound = { maxTrustStoreBytes: 8_000 };
  assert.throws(() => restoreUnder(verified.serialize(), bound), (e: unknown) => e instanceof OtrLimitError && /maxTrustStoreBytes/.test(e.message));
  const roomy = restoreUnder(mixed.serialize(), { maxTrustStoreBytes: 14_000 });
  const kept = roomy.fingerprints.peers;
  assert.is(kept.filter((p) => p.startsWith('verified')).length, 30, 'every verified peer');
  assert.ok(roomy.fingerprints.trimmedOnRestore.peers > 0 && roomy.fingerprints.trimmedOnRestore.peers === 60 - kept.length);
});

test('through a record store: the trimmed account record is written again with the next changes', () => {
  const a = withPeers(['stranger', 'stranger', 'verified'], { maxTrustPeers: 10 });
  const record = a.records().find((r) => r.key === 'account')!;
  const opened = Account.fromRecord({ bytes: record.bytes, generation: 1 }, { backend: be, clock, random: seededRandom(16_303), limits: { maxTrustPeers: 2 } });
  assert.equal(opened.fingerprints.trimmedOnRestore, { peers: 1, fingerprints: 0 });
  const written = opened.changes().find((c) => c.key === 'account');
  assert.ok(written && written.bytes !== null, 'the account record is written');
  const reopened = Account.fromRecord({ bytes: written.bytes!, generation: 2 }, { backend: be, clock, random: seededRandom(16_304), limits: { maxTrustPeers: 2 } });
  assert.equal(reopened.fingerprints.peers, opened.fingerprints.peers);
});

test('hostile trust lists: 30,000 peers under maxTrustPeers 1,000 and one peer of 20,000 keys restore with linear work', () => {
  const peers: StateValue[] = Array.from({ length: 30_000 }, (_, i) => {
    const fp = v4();
    return { peer: `m${i}@evil.example.net`, v4: fp, v3: null, known: [{ fp, first: i, last: i, trust: 'unverified' }] };
  });
  const before = evictionWork.peersExamined;
  const store = LastSeenFingerprints.fromValue(peers, 1_000, 16);
  assert.is(store.peers.length, 1_000);
  assert.equal(store.trimmedOnRestore, { peers: 29_000, fingerprints: 0 });
  assert.ok(evictionWork.peersExamined - before <= 3 * 30_000, `looked at ${evictionWork.peersExamined - before} peers`);

  const keys = Array.from({ length: 20_000 }, (_, i) => ({ fp: v4(), first: i, last: i, trust: 'unverified' }));
  const one = LastSeenFingerprints.fromValue([{ peer: 'x@evil.example.net', v4: keys[keys.length - 1]!.fp, v3: null, known: keys }], 1_000, 16);
  assert.is(one.list('x@evil.example.net').length, 16);
  assert.equal(one.trimmedOnRestore, { peers: 0, fingerprints: 19_984 });
  assert.is(one.get('x@evil.example.net')?.v4, keys[keys.length - 1]!.fp, 'the newest and last-seen kept');
});

test.run();
