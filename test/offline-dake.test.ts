/**
 * The non-interactive DAKE end to end, on both backends: Bob publishes, Alice writes to him while he is offline
 * (Non-Interactive-Auth plus data messages), Bob comes back, verifies, reads every message, and both continue
 * both ways. Also: reuse of a prekey refused, every field tampered (typed error, owner state unchanged),
 * wrong instance, persistence of the owner state across the exchange, grace periods, and a client profile
 * renewed between Alice's fetch and Bob's return.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CryptoBackend } from '../ts/backend/types.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { bytesToHex, equalBytes, fromUtf8, utf8 } from '../ts/bytes.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { createClientProfile, expiryFromNow } from '../ts/profile/client-profile.js';
import { decryptDataMessage, encryptDataMessage, type RatchetState } from '../ts/ratchet/index.js';
import { decodePrekeyOwnerState, encodePrekeyOwnerState, type PrekeyOwnerState } from '../ts/prekey/index.js';
import { decodeNonInteractiveAuth, encodeNonInteractiveAuth, receiveNonInteractiveAuth, sendNonInteractiveAuth } from '../ts/offline/index.js';
import { makeParty, makePublisher, NOW_MS } from './prekey-fixtures.test.js';
import { rejects } from './helpers/rejects.js';

const BOB_TAG = 0x0b0b0b0b;
const ALICE_TAG = 0x0a0a0a0a;

function setup(b: CryptoBackend, seed: number, prekeys = 3) {
  const rnd = seededRandom(seed);
  const bob = makePublisher(b, rnd, BOB_TAG, prekeys, 'bob@example.org', 'alice@example.org');
  const alice = makeParty(b, rnd, ALICE_TAG, 'alice@example.org', 'bob@example.org');
  return { rnd, bob, alice };
}

function send(b: CryptoBackend, rnd: (n: number) => Uint8Array, s: RatchetState, text: string, from: number, to: number) {
  return encryptDataMessage(b, rnd, s, utf8(text), { senderTag: from, receiverTag: to });
}

function read(b: CryptoBackend, s: RatchetState, msg: Uint8Array) {
  const r = decryptDataMessage(b, s, decodeDataMessage(msg), { now: NOW_MS });
  return { state: r.state, text: fromUtf8(r.plaintext) };
}

function snapshotOwner(s: PrekeyOwnerState): string {
  return bytesToHex(encodePrekeyOwnerState(s));
}

for (const b of BACKENDS) {
  const t = suite(`offline DAKE [${b.name}]`);

  t('full offline flow: Alice writes while Bob is offline; both continue both ways', () => {
    const { rnd, bob, alice } = setup(b, 11);
    // Alice fetched Bob's ensemble from the server (fixtures) and writes.
    const sent = sendNonInteractiveAuth(b, rnd, alice.local, bob.ensembles[1]!, NOW_MS);
    let as = sent.established.ratchet;
    const offline: Uint8Array[] = [];
    for (const text of ['hello Bob', 'are you there?', '']) {
      const r = send(b, rnd, as, text, ALICE_TAG, BOB_TAG);
      as = r.state;
      offline.push(r.message);
    }
    // Bob comes back an hour later: persisted owner state, restored.
    const restored = decodePrekeyOwnerState(encodePrekeyOwnerState(bob.owner));
    const got = receiveNonInteractiveAuth(b, bob.local, restored, sent.message, NOW_MS + 3600_000);
    assert.ok(equalBytes(got.established.ssid, sent.established.ssid), 'same SSID');
    assert.is(sent.established.ssidBoldHalf, 'first');
    assert.is(got.established.ssidBoldHalf, 'second');
    assert.is(got.established.peerTag, ALICE_TAG);
    assert.is(sent.established.peerTag, BOB_TAG);
    assert.ok(equalBytes(got.established.peerProfile.encoded, alice.profile.encoded));
    assert.is(got.ownerState.prekeys.length, 2, 'the used prekey is gone');
    assert.not.ok(got.ownerState.prekeys.some((p) => p.id === bob.ensembles[1]!.prekeyMessage.id));
    let bs = got.established.ratchet;
    const texts: string[] = [];
    for (const m of offline) {
      const r = read(b, bs, m);
      bs = r.state;
      texts.push(r.text);
    }
    assert.equal(texts, ['hello Bob', 'are you there?', '']);
    // Now both ways, several turns (new ratchets each time, DH steps included).
    for (let turn = 0; turn < 5; turn++) {
      const r1 = send(b, rnd, bs, `bob ${turn}`, BOB_TAG, ALICE_TAG);
      bs = r1.state;
      const a1 = read(b, as, r1.message);
      as = a1.state;
      assert.is(a1.text, `bob ${turn}`);
      const r2 = send(b, rnd, as, `alice ${turn}`, ALICE_TAG, BOB_TAG);
      as = r2.state;
      const b2 = read(b, bs, r2.message);
      bs = b2.state;
      assert.is(b2.text, `alice ${turn}`);
    }
  });

  t('out-of-order offline messages are read (skipped keys)', () => {
    const { rnd, bob, alice } = setup(b, 12);
    const sent = sendNonInteractiveAuth(b, rnd, alice.local, bob.ensembles[0]!, NOW_MS);
    let as = sent.established.ratchet;
    const msgs: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) {
      const r = send(b, rnd, as, `m${i}`, ALICE_TAG, BOB_TAG);
      as = r.state;
      msgs.push(r.message);
    }
    let bs = receiveNonInteractiveAuth(b, bob.local, bob.owner, sent.message, NOW_MS).established.ratchet;
    for (const i of [2, 0, 3, 1]) {
      const r = read(b, bs, msgs[i]!);
      bs = r.state;
      assert.is(r.text, `m${i}`);
    }
  });

  t('a prekey is used once: the same Non-Interactive-Auth again is refused; other prekeys still work', () => {
    const { rnd, bob, alice } = setup(b, 13);
    const sent = sendNonInteractiveAuth(b, rnd, alice.local, bob.ensembles[0]!, NOW_MS);
    const first = receiveNonInteractiveAuth(b, bob.local, bob.owner, sent.message, NOW_MS);
    const e = rejects(() => receiveNonInteractiveAuth(b, bob.local, first.ownerState, sent.message, NOW_MS), 'STATE');
    assert.match(e.message, /already used|unknown/);
    // A second sender (or Alice again) with another ensemble is fine.
    const carol = makeParty(b, rnd, 0x0c0c0c0c, 'carol@example.org', 'bob@example.org');
    const sent2 = sendNonInteractiveAuth(b, rnd, carol.local, bob.ensembles[2]!, NOW_MS);
    const bobForCarol = { ...bob.local, peerAccountId: utf8('carol@example.org') };
    const second = receiveNonInteractiveAuth(b, bobForCarol, first.ownerState, sent2.message, NOW_MS);
    assert.is(second.ownerState.prekeys.length, 1);
    // Persisted after consumption: the restored state refuses the first message too.
    const restored = decodePrekeyOwnerState(encodePrekeyOwnerState(second.ownerState));
    rejects(() => receiveNonInteractiveAuth(b, bob.local, restored, sent.message, NOW_MS), 'STATE');
  });

  t('every field tampered: typed error, owner state unchanged, prekey not burnt', () => {
    const { rnd, bob, alice } = setup(b, 14);
    const sent = sendNonInteractiveAuth(b, rnd, alice.local, bob.ensembles[0]!, NOW_MS);
    const m = decodeNonInteractiveAuth(sent.message);
    const before = snapshotOwner(bob.owner);
    const flip = (a: Uint8Array, i = 5) => {
      const c = a.slice();
      c[i]! ^= 0x01;
      return c;
    };
    const variants: Record<string, Uint8Array> = {
      x: encodeNonInteractiveAuth({ ...m, x: flip(m.x) }),
      a: encodeNonInteractiveAuth({ ...m, a: flip(m.a, 100) }),
      sigma: encodeNonInteractiveAuth({ ...m, sigma: flip(m.sigma, 60) }),
      prekeyId: encodeNonInteractiveAuth({ ...m, prekeyId: bob.ensembles[1]!.prekeyMessage.id }),
      authMac: encodeNonInteractiveAuth({ ...m, authMac: flip(m.authMac) }),
      ecdhFirst: encodeNonInteractiveAuth({ ...m, ecdhFirst: flip(m.ecdhFirst) }),
      dhFirst: encodeNonInteractiveAuth({ ...m, dhFirst: flip(m.dhFirst, 200) }),
      senderTag: encodeNonInteractiveAuth({ ...m, senderTag: m.senderTag + 1 }),
    };
    const expected: Record<string, string> = { sigma: 'BAD_SIGNATURE', authMac: 'BAD_MAC', prekeyId: 'BAD_MAC', senderTag: 'MALFORMED' };
    for (const [field, bytes] of Object.entries(variants)) {
      rejects(() => receiveNonInteractiveAuth(b, bob.local, bob.owner, bytes, NOW_MS), expected[field]);
      assert.is(snapshotOwner(bob.owner), before, `${field}: owner state changed`);
    }
    // Every 37th byte of the whole message, flipped: never accepted, always typed.
    for (let i = 0; i < sent.message.length; i += 37) {
      rejects(() => receiveNonInteractiveAuth(b, bob.local, bob.owner, flip(sent.message, i), NOW_MS));
    }
    assert.is(snapshotOwner(bob.owner), before);
    // And the untampered message still works afterwards.
    receiveNonInteractiveAuth(b, bob.local, bob.owner, sent.message, NOW_MS);
  });

  t('wrong instance, wrong account ids, and the sender-side checks', () => {
    const { rnd, bob, alice } = setup(b, 15);
    const sent = sendNonInteractiveAuth(b, rnd, alice.local, bob.ensembles[0]!, NOW_MS);
    const m = decodeNonInteractiveAuth(sent.message);
    rejects(() => receiveNonInteractiveAuth(b, bob.local, bob.owner, encodeNonInteractiveAuth({ ...m, receiverTag: 0x999 }), NOW_MS), 'STATE');
    // phi binds the account ids: Bob thinking the peer is someone else breaks the MAC.
    rejects(() => receiveNonInteractiveAuth(b, { ...bob.local, peerAccountId: utf8('mallory@example.org') }, bob.owner, sent.message, NOW_MS), 'BAD_MAC');
    // Alice's client profile expired by the time Bob reads (strict by default), accepted with a grace period.
    const late = NOW_MS + 8 * 24 * 3600_000;
    rejects(() => receiveNonInteractiveAuth(b, bob.local, bob.owner, sent.message, late, { prekeyProfileGraceSeconds: 2 * 86400 }), 'EXPIRED');
    receiveNonInteractiveAuth(b, bob.local, bob.owner, sent.message, late, { prekeyProfileGraceSeconds: 2 * 86400, peerProfileGraceSeconds: 2 * 86400 });
  });

  t("Bob's own prekey profile: usable within the grace period, refused after it", () => {
    const { rnd, bob, alice } = setup(b, 16);
    const sent = sendNonInteractiveAuth(b, rnd, alice.local, bob.ensembles[0]!, NOW_MS);
    const week = 7 * 24 * 3600_000;
    const opts = { peerProfileGraceSeconds: 30 * 86400 };
    // Half a day past expiry: within the default one-day grace.
    receiveNonInteractiveAuth(b, bob.local, bob.owner, sent.message, NOW_MS + week + 12 * 3600_000, opts);
    // Two days past: the shared prekey secret may no longer be used.
    rejects(() => receiveNonInteractiveAuth(b, bob.local, bob.owner, sent.message, NOW_MS + week + 2 * 86400_000, opts), 'STATE');
  });

  t("Bob renewed his client profile after Alice fetched: the previous one still verifies", () => {
    const { rnd, bob, alice } = setup(b, 17);
    const sent = sendNonInteractiveAuth(b, rnd, alice.local, bob.ensembles[0]!, NOW_MS);
    const renewed = createClientProfile(b, {
      ownerTag: BOB_TAG,
      identitySecret: bob.identitySecret,
      forgingKey: bob.profile.forgingKey,
      versions: '4',
      expiry: expiryFromNow(NOW_MS + 86400_000),
    });
    const now = { ...bob.local, profile: renewed };
    rejects(() => receiveNonInteractiveAuth(b, now, bob.owner, sent.message, NOW_MS), 'BAD_MAC');
    const got = receiveNonInteractiveAuth(b, { ...now, previousProfiles: [bob.profile] }, bob.owner, sent.message, NOW_MS);
    assert.ok(equalBytes(got.established.ssid, sent.established.ssid));
  });

  t('a forged sender: a valid MAC needs the prekey secrets, a ring signature by a non-member fails', () => {
    const { rnd, bob, alice } = setup(b, 18);
    // Mallory claims Alice's profile but signs with her own key: she cannot make a ring signature that
    // verifies for {F_b, H_a, Y}, and her MAC key (from X) is fine, so the ring signature is what fails.
    const mallory = makeParty(b, rnd, ALICE_TAG, 'alice@example.org', 'bob@example.org');
    const forged = { ...mallory.local, profile: alice.profile };
    rejects(() => sendNonInteractiveAuth(b, rnd, forged, bob.ensembles[0]!, NOW_MS), 'INVALID_ARGUMENT');
    // Splice Alice's profile into Mallory's honest message: the MAC (over t, which hashes the profile) fails.
    const honest = sendNonInteractiveAuth(b, rnd, mallory.local, bob.ensembles[0]!, NOW_MS);
    const spliced = encodeNonInteractiveAuth({ ...decodeNonInteractiveAuth(honest.message), profile: alice.profile });
    rejects(() => receiveNonInteractiveAuth(b, bob.local, bob.owner, spliced, NOW_MS), 'BAD_MAC');
  });

  t.run();
}
