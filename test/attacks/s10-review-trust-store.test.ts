/**
 * Attack (session 10 review): the trust store against many identities. Every completed DAKE records the
 * peer's fingerprint in the account's trust store, which is persisted in the account record. A hostile XMPP
 * server can complete DAKEs from as many JIDs of its domain as it likes (each costs one token of the
 * account's DAKE budget: 4 a second, ~70 minutes for 16,000).
 *
 * Found: the store was bounded by count only (maxTrustPeers, 100,000), at ~262 bytes a peer in the account
 * record; at ~16,000 peers the record passed maxStateBytes (4 MiB): serialize() threw, and changes() handed
 * out an account record no restore accepts (and over maxRecordBytes, which stores refuse). Now the store is
 * bounded in bytes too (maxTrustStoreBytes), and a flood of new (unverified) peers pushes out unverified
 * peers first: the user's verified contacts stay.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, BOB_ID, establish, makePair } from '../helpers/session-pair.js';

test('20,000 identities complete a DAKE: the account record stays restorable and verified contacts are kept', () => {
  const p = makePair(be, 1800);
  establish(p);
  // Bob is a verified contact; Carol an unverified one seen long ago.
  const bobFp = p.a.fingerprints.find((f) => f.version === 4)!.fingerprint;
  p.alice.fingerprints.verify(BOB_ID, bobFp);
  const rnd = seededRandom(1801);
  const hex = () => Buffer.from(rnd(56)).toString('hex');
  p.alice.fingerprints.observe('carol@example.org', 4, hex(), 1);
  // What a completed DAKE records (judgeFingerprint: record, then adopt), for 20,000 identities.
  for (let k = 0; k < 20_000; k++) p.alice.fingerprints.observe(`m${k}@evil.example.net`, 4, hex(), 1_700_000_000_000 + k);
  const saved = p.alice.serialize();
  assert.ok(saved.length <= DEFAULT_LIMITS.maxStateBytes, `serialized ${saved.length} bytes`);
  const record = p.alice.changes().find((c) => c.key === 'account')!;
  assert.ok(record.bytes !== null && record.bytes.length <= DEFAULT_LIMITS.maxRecordBytes, 'the account record fits a store row');
  const again = Account.restore(saved, { backend: be, random: seededRandom(1802), clock: p.clock });
  assert.is(again.fingerprints.trustOf(BOB_ID, bobFp), 'verified-hand', 'the verified contact is kept');
  assert.is(again.fingerprints.get('carol@example.org'), undefined, 'an old unverified peer went first');
  assert.ok(again.fingerprints.get('m19999@evil.example.net')?.v4, 'the most recent peer is kept');
  // The restored account goes on: a conversation with Bob still reads him as verified.
  assert.ok(again.conversation(BOB_ID) !== undefined);
  void ALICE_ID;
});

test('a record written under a larger byte bound is trimmed on restore, not refused', () => {
  const p = makePair(be, 1810, { limits: { maxTrustStoreBytes: 1 << 20 } });
  const rnd = seededRandom(1811);
  for (let k = 0; k < 2_000; k++) p.alice.fingerprints.observe(`m${k}@evil.example.net`, 4, Buffer.from(rnd(56)).toString('hex'), k);
  const saved = p.alice.serialize();
  const small = Account.restore(saved, { backend: be, random: seededRandom(1812), clock: p.clock, limits: { maxTrustStoreBytes: 100_000 } });
  const kept = small.fingerprints.peers.length;
  assert.ok(kept > 0 && kept < 2_000, `kept ${kept} peers`);
  assert.ok(small.fingerprints.get('m1999@evil.example.net')?.v4, 'the most recent peers are the ones kept');
});

test('the byte estimate stays above what the store really writes (long non-ASCII peers, 16 keys each)', () => {
  const limits = { maxTrustStoreBytes: 200_000 };
  const p = makePair(be, 1820, { limits });
  const empty = p.alice.serialize().length;
  const rnd = seededRandom(1821);
  for (let k = 0; k < 200; k++) {
    const peer = `${'ü'.repeat(40)}-${k}@évil.example.net`;
    for (let f = 0; f < 16; f++) p.alice.fingerprints.record(peer, f % 2 === 0 ? 4 : 3, Buffer.from(rnd(f % 2 === 0 ? 56 : 20)).toString('hex'), k * 100 + f);
    p.alice.fingerprints.adopt(peer, 4, p.alice.fingerprints.list(peer).find((x) => x.version === 4)!.fingerprint);
    p.alice.fingerprints.revoke(peer, p.alice.fingerprints.list(peer)[0]!.fingerprint);
    p.alice.fingerprints.markContact(peer); // session 11: the contact mark is counted too
  }
  const grown = p.alice.serialize().length - empty;
  assert.ok(p.alice.fingerprints.peers.length < 200, 'peers were forgotten to stay within the bound');
  assert.ok(grown <= limits.maxTrustStoreBytes, `the store wrote ${grown} bytes under a ${limits.maxTrustStoreBytes}-byte bound`);
});

test.run();
