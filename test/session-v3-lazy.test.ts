/**
 * Cheap accounts (issue 14 item 3): an account allowing OTRv3 makes its DSA key only when an OTRv3 AKE needs
 * it. Nothing here measures time: a DSA key needs far more randomness than the rest of an account (the primes'
 * candidates and the secret), so the randomness drawn and `account.dsaKey` say whether one was made.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../ts/index.js';
import { V3Conversation } from '../ts/v3/index.js';
import { OtrStateError } from '../ts/errors.js';
import { createClientProfile, decodeClientProfile } from '../ts/profile/client-profile.js';
import { ed448KeyPair } from '../ts/crypto/eddsa.js';
import { generateEcdh } from '../ts/crypto/ecdh.js';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { testDsaKey, BOB_TAG } from './interop/v3-pair.js';

const now = () => 1_700_000_000_000;

/** A seeded source that counts the bytes drawn. */
function counting(seed: number): { random: (n: number) => Uint8Array; drawn: () => number } {
  const inner = seededRandom(seed);
  let total = 0;
  return {
    random: (n) => {
      total += n;
      return inner(n);
    },
    drawn: () => total,
  };
}

function lazyAlice(seed = 1) {
  const c = counting(seed);
  const alice = Account.create({ accountId: 'alice', backend: WASM, random: c.random, clock: now });
  return { alice, drawn: c.drawn };
}

function v3Bob() {
  return new V3Conversation({ backend: WASM, dsaKey: testDsaKey(0xb0b), instanceTag: BOB_TAG, random: seededRandom(2), now });
}

function pump(conv: ReturnType<Account['conversation']>, bob: V3Conversation, first: string[]): Outcome[] {
  const seen: Outcome[] = [];
  let toBob = first;
  for (let guard = 0; toBob.length && guard < 20; guard++) {
    const toAlice = toBob.flatMap((m) => bob.receive(m).toSend);
    toBob = [];
    for (const m of toAlice) {
      const r = conv.receive(m);
      seen.push(r);
      toBob.push(...r.toSend);
    }
  }
  return seen;
}

test('create with the default policy makes no DSA key: v3 capable, profile "4" without a DSA key', () => {
  const { alice, drawn } = lazyAlice();
  assert.is(alice.policy.allowV3, true);
  assert.is(alice.v3Capable, true);
  assert.is(alice.dsaKey, null);
  // identity secret (57) + forging key (57) + instance tag (4): a DSA key would draw kilobytes.
  assert.ok(drawn() < 256, `drew ${drawn()} bytes`);
  assert.is(alice.clientProfile.versions, '4');
  assert.is(alice.clientProfile.dsaKey, undefined);
  assert.is(alice.clientProfile.transitionalSignature, undefined);
});

test('advertising OTRv3 (query, whitespace tag, a v4 DAKE) does not make the key', () => {
  const { alice, drawn } = lazyAlice();
  const before = drawn();
  const conv = alice.conversation('bob');
  assert.ok(conv.start().toSend[0]!.startsWith('?OTRv34?'));
  const tagged = alice.conversation('carol');
  tagged.setPolicy({ sendWhitespaceTag: true });
  const plain = tagged.send('hi');
  assert.ok(plain.toSend.length === 1 && plain.toSend[0] !== 'hi', 'a whitespace tag was added');
  // A whole OTRv4 DAKE and a message with another lazy account.
  const bobAcct = Account.create({ accountId: 'bob4', backend: WASM, random: seededRandom(9), clock: now });
  const a = alice.conversation('bob4');
  const b = bobAcct.conversation('alice');
  let toB = a.start().toSend;
  for (let i = 0; i < 10 && toB.length; i++) {
    const toA = toB.flatMap((m) => b.receive(m).toSend);
    toB = toA.flatMap((m) => a.receive(m).toSend);
  }
  assert.is(a.state, 'ENCRYPTED_MESSAGES');
  assert.is(a.version, 4);
  assert.is(alice.dsaKey, null);
  assert.is(bobAcct.dsaKey, null);
  assert.ok(drawn() - before < 4096, `drew ${drawn() - before} bytes`);
});

test('a v3-only peer answering our query: the key is made then, the profile re-issued with it', () => {
  const { alice } = lazyAlice(3);
  const fp = alice.fingerprint;
  const conv = alice.conversation('bob');
  const bob = v3Bob();
  const log = pump(conv, bob, conv.start().toSend);
  assert.ok(log.flatMap((o) => o.events).some((e) => e.type === 'encrypted' && e.version === 3));
  assert.is(conv.version, 3);
  const key = alice.dsaKey;
  assert.ok(key, 'the key exists now');
  const p = alice.clientProfile;
  assert.is(p.versions, '34');
  assert.is(p.dsaKey!.y, key!.y);
  assert.ok(p.transitionalSignature);
  assert.is(alice.fingerprint, fp, 'the OTRv4 fingerprint does not depend on the DSA key');
  assert.equal(bob.receive(conv.send('over v3').toSend[0]!).toUser, ['over v3']);
  // Made once: a second v3 peer uses the same key.
  const conv2 = alice.conversation('dave');
  pump(conv2, v3Bob(), conv2.start().toSend);
  assert.is(conv2.version, 3);
  assert.is(alice.dsaKey, key);
});

test('the OTRv3 state bytes a record is made from are zeroed once encoded (per call and in serialize)', () => {
  const { alice } = lazyAlice(5);
  const conv = alice.conversation('bob');
  const bob = v3Bob();
  pump(conv, bob, conv.start().toSend);
  assert.is(conv.version, 3);
  // Every copy of the OTRv3 state's bytes, whoever makes it: the per-call record writer (Conversation.writeState)
  // and serialize() (toState) both take them from the OTRv3 conversation's serialize().
  const made: Uint8Array[] = [];
  const v3conv = (conv as unknown as { v3conv: { serialize(): Uint8Array } }).v3conv;
  const serialize = v3conv.serialize.bind(v3conv);
  v3conv.serialize = () => {
    const b = serialize();
    made.push(b);
    return b;
  };
  const out = conv.send('over v3');
  assert.ok(out.changed!.some((c) => c.key === 'conv:bob'), 'the call wrote the record');
  alice.serialize();
  assert.ok(made.length >= 2, `${made.length}`);
  for (const b of made) assert.ok(b.length > 0 && b.every((x) => x === 0), 'an OTRv3 state copy left unwiped');
});

test('a v3-only peer starting (its ?OTRv3? query): we make the key and answer', () => {
  const { alice } = lazyAlice(4);
  const conv = alice.conversation('bob');
  const bob = v3Bob();
  const first = conv.receive('?OTRv3?');
  assert.ok(alice.dsaKey, 'answering a v3 query starts an OTRv3 AKE');
  pump(conv, bob, first.toSend);
  assert.is(conv.version, 3);
  assert.is(conv.state, 'ENCRYPTED_MESSAGES');
});

test('persistence: a capable account without its key restores capable; with its key, restores the key', () => {
  const { alice } = lazyAlice(5);
  const before = alice.serialize();
  const r1 = Account.restore(before, { backend: WASM, random: seededRandom(6), clock: now });
  assert.is(r1.v3Capable, true);
  assert.is(r1.policy.allowV3, true);
  assert.is(r1.dsaKey, null);
  assert.ok(r1.conversation('bob').start().toSend[0]!.startsWith('?OTRv34?'));
  // The restored account falls back to v3 and makes its key then.
  const conv = r1.conversation('bob');
  pump(conv, v3Bob(), conv.start().toSend);
  assert.is(conv.version, 3);
  const key = r1.dsaKey!;
  const after = r1.serialize();
  const r2 = Account.restore(after, { backend: WASM, clock: now });
  assert.is(r2.dsaKey!.x, key.x);
  assert.is(decodeClientProfile(r2.clientProfile.encoded).versions, '34');
  assert.is(r2.conversation('bob').version, 3, 'the v3 session survives');
});

test('an account without OTRv3 stays without: prepareV3 refuses, queries offer 4 only, restore keeps it off', () => {
  const none = Account.create({ accountId: 'n', backend: WASM, random: seededRandom(7), clock: now, dsaKey: null });
  assert.is(none.v3Capable, false);
  assert.is(none.policy.allowV3, false);
  assert.throws(() => none.prepareV3(), (e: unknown) => e instanceof OtrStateError);
  assert.ok(none.conversation('x').start().toSend[0]!.startsWith('?OTRv4?'));
  const r = Account.restore(none.serialize(), { backend: WASM, clock: now });
  assert.is(r.v3Capable, false);
  assert.is(r.policy.allowV3, false);
  // Policy off at creation: not capable either.
  const off = Account.create({ accountId: 'o', backend: WASM, random: seededRandom(8), clock: now, policy: { allowV3: false } });
  assert.is(off.v3Capable, false);
  assert.is(off.dsaKey, null);
});

test('prepareV3 ahead of time: the key once, the profile re-issued, persisted', () => {
  const { alice } = lazyAlice(10);
  const k = alice.prepareV3();
  assert.is(alice.prepareV3(), k);
  assert.is(alice.clientProfile.versions, '34');
  const r = Account.restore(alice.serialize(), { backend: WASM, clock: now });
  assert.is(r.dsaKey!.y, k.y);
});

test('a profile signed with the held key pair is byte-identical; a key pair of another secret is not used', () => {
  const r = seededRandom(11);
  const secret = r(57);
  const other = ed448KeyPair(WASM, r(57));
  const forgingKey = generateEcdh(WASM, r).public;
  const base = { ownerTag: 0x1000, identitySecret: secret, forgingKey, versions: '4', expiry: 2_000_000_000n };
  const plain = createClientProfile(WASM, base);
  assert.equal(createClientProfile(WASM, { ...base, identityKeyPair: ed448KeyPair(WASM, secret) }).encoded, plain.encoded);
  assert.equal(createClientProfile(WASM, { ...base, identityKeyPair: other }).encoded, plain.encoded);
});

test.run();
