/**
 * Attack (session 11): a hostile disk (or a record written under a larger maxTrustStoreBytes) hands restore an
 * account record whose trust store holds thousands of peers over the byte bound. Restore trims it as a growing
 * store would be trimmed. Found by the session-11 review: the trim scanned the whole store once per peer it
 * forgot whenever no stranger was left to forget, so its cost was quadratic in the number of peers (bounded
 * only by maxStateBytes): 9,000 contacts took 332 ms, 9,000 verified peers 419 ms, on every restore. The same
 * scan ran for each new identity admitted at the bound, past every contact older than the first stranger.
 *
 * Asserted here without timing: the module counts the peers it looks at while choosing whom to forget
 * (evictionWork); a trim of n peers must look at O(n) of them. The result must stay the one the old trim
 * gave (test/trust-trim-differential.test.ts compares the two on random records and call sequences).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { OtrLimitError } from '../../ts/errors.js';
import { LastSeenFingerprints, evictionWork } from '../../ts/session/fingerprints.js';
import type { StateValue } from '../../ts/session/state-codec.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { makePair } from '../helpers/session-pair.js';

const PEERS = 9_000;
const BOUND = DEFAULT_LIMITS.maxTrustStoreBytes;

type Kind = 'stranger' | 'contact' | 'verified';

/** A trust store's record as toValue() writes it: one OTRv4 key per peer, of the given kinds in order. */
function hostileStore(kinds: (i: number) => Kind, seed: number): StateValue[] {
  const rnd = seededRandom(seed);
  const out: StateValue[] = [];
  for (let i = 0; i < PEERS; i++) {
    const fp = Buffer.from(rnd(56)).toString('hex');
    const kind = kinds(i);
    out.push({
      peer: `m${i}@evil.example.net`,
      v4: fp,
      v3: null,
      known: [{ fp, first: 1 + i, last: 1 + i, trust: kind === 'verified' ? 'verified-hand' : 'unverified' }],
      contact: kind === 'contact' ? true : undefined,
    });
  }
  return out;
}

/** Restores `record` under the default bound; returns the store and the peers looked at while trimming. */
function restore(record: StateValue[]): { store: LastSeenFingerprints; examined: number } {
  const before = evictionWork.peersExamined;
  const store = LastSeenFingerprints.fromValue(record, DEFAULT_LIMITS.maxTrustPeers, DEFAULT_LIMITS.maxFingerprintsPerPeer, BOUND);
  return { store, examined: evictionWork.peersExamined - before };
}

const index = (peer: string) => Number(/^m(\d+)@/.exec(peer)![1]);

// Session 16: a restore no longer forgets a verified peer (a decision of the user's): 9,000 of them over the
// byte bound are refused with OtrLimitError naming it, nothing dropped, after work as linear as the trim's.
test('9,000 peers, every one verified, over the byte bound: refused naming the limit, each peer looked at a bounded number of times', () => {
  const before = evictionWork.peersExamined;
  assert.throws(() => restore(hostileStore(() => 'verified', 3102)), (e: unknown) => e instanceof OtrLimitError && /maxTrustStoreBytes/.test(e.message));
  const examined = evictionWork.peersExamined - before;
  assert.ok(examined <= 3 * PEERS, `looked at ${examined} peers`);
});

for (const kind of ['contact'] as const) {
  test(`9,000 peers, every one a contact, over the byte bound: the oldest are forgotten, each peer looked at a bounded number of times`, () => {
    const { store, examined } = restore(hostileStore(() => kind, 3101));
    const kept = store.peers.map(index);
    assert.ok(kept.length > 1_000 && kept.length < PEERS, `kept ${kept.length} peers`);
    // The same ones the old trim kept: the most recent, in record order.
    assert.equal(kept, Array.from({ length: kept.length }, (_, k) => PEERS - kept.length + k));
    assert.ok(store.isUsers(`m${PEERS - 1}@evil.example.net`));
    assert.ok(examined <= 3 * PEERS, `looked at ${examined} peers to forget ${PEERS - kept.length} (quadratic: tens of millions)`);
  });
}

test('9,000 peers mixed (verified, contact, stranger in turn): strangers go first, then the oldest contacts; the work stays linear', () => {
  const kinds: Kind[] = ['verified', 'contact', 'stranger'];
  const { store, examined } = restore(hostileStore((i) => kinds[i % 3]!, 3103));
  const kept = store.peers.map(index);
  const verified = kept.filter((i) => i % 3 === 0);
  const contacts = kept.filter((i) => i % 3 === 1);
  const strangers = kept.filter((i) => i % 3 === 2);
  assert.is(verified.length, PEERS / 3, 'every verified peer is kept');
  // The last peer of the record (a stranger) is the one being added when the last trim runs: never forgotten by it.
  assert.equal(strangers, [PEERS - 1], 'the only stranger left is the last one restored');
  assert.ok(contacts.length > 0 && contacts.length < PEERS / 3, `kept ${contacts.length} contacts`);
  assert.is(contacts[0], PEERS - 2 - 3 * (contacts.length - 1), 'the contacts kept are the most recent ones');
  assert.ok(examined <= 3 * PEERS, `looked at ${examined} peers (quadratic: tens of millions)`);
});

test('through Account.restore: a record written under a larger bound, 9,000 contacts, restores trimmed with linear work', () => {
  const p = makePair(be, 3110, { limits: { maxTrustStoreBytes: 16 << 20, maxStateBytes: 16 << 20 } });
  const rnd = seededRandom(3111);
  for (let i = 0; i < PEERS; i++) {
    const peer = `m${i}@evil.example.net`;
    p.alice.fingerprints.observe(peer, 4, Buffer.from(rnd(56)).toString('hex'), 1 + i);
    p.alice.fingerprints.markContact(peer);
  }
  const saved = p.alice.serialize();
  assert.ok(saved.length < DEFAULT_LIMITS.maxStateBytes, 'the record is one the default limits accept');
  const before = evictionWork.peersExamined;
  const again = Account.restore(saved, { backend: be, random: seededRandom(3112), clock: p.clock });
  const examined = evictionWork.peersExamined - before;
  const kept = again.fingerprints.peers;
  assert.ok(kept.length > 1_000 && kept.length < PEERS, `kept ${kept.length} peers`);
  assert.ok(again.fingerprints.isContact(`m${PEERS - 1}@evil.example.net`), 'the most recent contact is kept');
  assert.is(again.fingerprints.get('m0@evil.example.net'), undefined, 'the oldest contact went first');
  assert.ok(examined <= 3 * PEERS, `looked at ${examined} peers`);
});

test('a flood of new identities at the bound, behind 4,000 contacts: each admission looks at a few peers, not every contact', () => {
  // Contacts the user wrote to long ago sit first in the store's use order; before session 11 every new
  // identity admitted at the bound scanned past all of them to find the stranger to forget.
  const store = new LastSeenFingerprints(DEFAULT_LIMITS.maxTrustPeers, DEFAULT_LIMITS.maxFingerprintsPerPeer, BOUND);
  const rnd = seededRandom(3113);
  const hex = () => Buffer.from(rnd(56)).toString('hex');
  for (let i = 0; i < 4_000; i++) {
    store.observe(`c${i}@example.org`, 4, hex(), i);
    store.markContact(`c${i}@example.org`);
  }
  for (let i = 0; i < 2_000; i++) store.observe(`w${i}@evil.example.net`, 4, hex(), 10_000 + i);
  const full = store.peers.length;
  const before = evictionWork.peersExamined;
  const FLOOD = 3_000;
  for (let i = 0; i < FLOOD; i++) store.observe(`m${i}@evil.example.net`, 4, hex(), 20_000 + i);
  const examined = evictionWork.peersExamined - before;
  assert.ok(store.peers.length <= full + 1, 'the store stayed at its bound');
  assert.ok(store.peers.filter((p) => p.startsWith('c')).length === 4_000, 'every contact is kept');
  assert.ok(examined <= 6 * FLOOD, `looked at ${examined} peers for ${FLOOD} admissions (a scan each: ~12 million)`);
});

test.run();
