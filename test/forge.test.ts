/**
 * The forging toolkit (ts/forge; otrv4.md §Forging Transcripts) against this library's honest receivers:
 * - Parse: every message of a real conversation (Account/Conversation API) and OTRv3 messages, to fields;
 *   hostile input gives typed errors;
 * - the MAC keys a real conversation reveals are exactly the keys that authenticate its read messages, and
 *   with them a third party's modified / re-MACed message is accepted by an honest receiver holding the keys
 *   (a restored copy of Bob from before the message); without them, or with another message's key, it is not;
 * - Read and Forge and Show MAC Key from a chain key;
 * - forged DAKEs accepted by the honest DAKE functions the Conversation uses (impersonate responder with the
 *   initiator's ephemeral y; impersonate initiator with the responder's forging key), a forged
 *   Non-Interactive-Auth and forged messages "from Alice" accepted by Bob's own Conversation, and a complete
 *   transcript forged with no secret at all, every signature verifying;
 * - forged ring signatures are as uniform as honest ones (test/helpers/uniformity.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../ts/index.js';
import { BACKENDS, WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { ALICE_ID, BOB_ID, makePair, T0, type Pair } from './helpers/session-pair.js';
import { describe, rejected, scalarTests, type ChiSquare } from './helpers/uniformity.js';
import { bytesToHex, equalBytes, fromUtf8, utf8 } from '../ts/bytes.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import { OtrArgumentError, OtrError } from '../ts/errors.js';
import { armour, dearmour } from '../ts/codec/armour.js';
import {
  findMacKey,
  forgeAuthI,
  forgeAuthR,
  forgeIdentity,
  forgeInteractiveDake,
  forgeNonInteractiveAuth,
  forgeTranscript,
  falsePrekeyEnsemble,
  formatParsed,
  macKeyMatches,
  modifyDataMessage,
  parseWire,
  readAndForge,
  remacMessage,
  revealedMacKeys,
  showMacKey,
  type ForgeParty,
} from '../ts/forge/index.js';
import { DAKE_IDLE, receiveAuthI, receiveAuthR, receiveIdentity, startDake, type DakeLocal } from '../ts/ake/index.js';
import { authITranscript, authRTranscript, type PhiParty } from '../ts/ake/transcript.js';
import { ringVerify } from '../ts/crypto/ring-sig.js';
import { decodeAuthI, decodeAuthR, decodeIdentity } from '../ts/wire/dake.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { decryptDataMessage, encryptDataMessage, messageEncKey, type RatchetState } from '../ts/ratchet/index.js';
import { generateEcdh } from '../ts/crypto/ecdh.js';
import { ed448KeyPair } from '../ts/crypto/eddsa.js';
import { createClientProfile, expiryFromNow } from '../ts/profile/client-profile.js';
import { validateEnsemble } from '../ts/prekey/ensemble.js';
import { addPrekeyProfile, addPrekeys, EMPTY_PREKEY_OWNER_STATE } from '../ts/prekey/owner-store.js';
import { receiveNonInteractiveAuth } from '../ts/offline/dake.js';
import { encodeMessage as encodeV3 } from '../ts/v3/messages.js';
import { MessageTypeV3 } from '../ts/wire/header.js';

const texts = (outs: { messages: { text: string }[] }[]) => outs.flatMap((o) => o.messages.map((m) => m.text));

/** A real conversation through the Account API, every wire string recorded in order. */
function conversation(be: CryptoBackend, seed: number) {
  const p = makePair(be, seed);
  const wire: string[] = [];
  const deliver = (to: 'a' | 'b', strings: readonly string[]) => {
    const outs = [];
    let queue = strings.map((s) => ({ to, s }));
    while (queue.length) {
      const next: typeof queue = [];
      for (const m of queue) {
        wire.push(m.s);
        const r = (m.to === 'a' ? p.a : p.b).receive(m.s);
        outs.push(r);
        for (const t of r.toSend) next.push({ to: m.to === 'a' ? 'b' : 'a', s: t });
      }
      queue = next;
    }
    return outs;
  };
  return { p, wire, deliver };
}

const party = (acc: Account, id: string): ForgeParty => ({ profile: acc.clientProfile, accountId: id });
const localOf = (acc: Account, peer: string): DakeLocal => ({
  instanceTag: acc.instanceTag,
  profile: acc.clientProfile,
  identityScalar: acc.identity.scalar,
  accountId: acc.accountId,
  peerAccountId: utf8(peer),
});

// ------------------------------------------------------------------------------- parse

test('parse: every string of a real conversation, to its fields; JSON and text forms', () => {
  const { p, wire, deliver } = conversation(WASM, 1);
  deliver('b', p.a.start().toSend);
  deliver('b', p.a.send('hello Bob').toSend);
  deliver('a', p.b.send('hi Alice').toSend);
  const kinds = wire.map((w) => parseWire(w).kind);
  assert.equal(kinds.slice(0, 4), ['query message', 'OTRv4 Identity', 'OTRv4 Auth-R', 'OTRv4 Auth-I']);
  assert.equal(kinds.slice(4), ['OTRv4 Data', 'OTRv4 Data']);
  const id = parseWire(wire[1]!).fields as Record<string, any>;
  assert.is(id.senderTag, p.bob.instanceTag);
  assert.is(id.profile.identityKey, bytesToHex(p.bob.clientProfile.identityKey));
  assert.is(id.y, bytesToHex(decodeIdentity(dearmour(wire[1]!)).y));
  const authR = parseWire(wire[2]!).fields as Record<string, any>;
  assert.equal(Object.keys(authR.sigma), ['c1', 'r1', 'c2', 'r2', 'c3', 'r3']);
  assert.is(authR.sigma.c1 + authR.sigma.r1, bytesToHex(decodeAuthR(dearmour(wire[2]!)).sigma.subarray(0, 114)));
  const data = parseWire(wire[5]!).fields as Record<string, any>;
  assert.ok(Array.isArray(data.revealedMacs));
  assert.is(data.ciphertext, bytesToHex(decodeDataMessage(dearmour(wire[5]!)).ciphertext));
  for (const w of wire) {
    const parsed = parseWire(w);
    assert.equal(JSON.parse(JSON.stringify(parsed)), parsed, 'pure JSON');
    assert.ok(formatParsed(parsed).startsWith(parsed.kind));
  }
  assert.is(parseWire('just text').kind, 'plaintext');
  assert.is(parseWire('?OTR Error: ERROR_1: oops').kind, 'error message');
});

test('parse: OTRv3 messages; hostile input is a typed error', () => {
  const dhKey = armour(encodeV3({ type: MessageTypeV3.dhKey, senderTag: 0x101, receiverTag: 0x202, gy: 5n }));
  const pd = parseWire(dhKey);
  assert.is(pd.kind, 'OTRv3 D-H Key');
  assert.equal(pd.fields, { senderTag: 0x101, receiverTag: 0x202, gy: '5' });
  const commit = armour(encodeV3({ type: MessageTypeV3.dhCommit, senderTag: 0x101, receiverTag: 0, encGx: new Uint8Array(196).fill(1), hashGx: new Uint8Array(32).fill(2) }));
  assert.is(parseWire(commit).kind, 'OTRv3 D-H Commit');
  for (const bad of ['?OTR:AAAA.', '?OTR:AAQ2AAABAQ==.', '?OTR:AAQD' + 'A'.repeat(40) + '.', '?OTR|zz|']) {
    try {
      parseWire(bad);
      assert.unreachable(`accepted ${bad}`);
    } catch (e) {
      assert.ok(e instanceof OtrError, `typed error for ${bad}: ${e}`);
    }
  }
});

// ------------------------------------------------------------------------------- revealed MAC keys

for (const be of BACKENDS) {
  test(`the MAC keys a real conversation reveals are exactly those that let a third party forge its read messages [${be.name}]`, () => {
    const { p, wire, deliver } = conversation(be, 2);
    deliver('b', p.a.start().toSend);
    const bobBefore = p.bob.serialize(); // Bob's state before he reads Alice's messages: the honest receiver holding the keys
    const a1 = p.a.send('meet me at 5pm').toSend;
    const a2 = p.a.send('bring the documents').toSend;
    assert.equal(texts(deliver('b', [...a1, ...a2])), ['meet me at 5pm', 'bring the documents']);
    // Keys are revealed in the first message of the next DH ratchet of the side that read them.
    const b1 = p.b.send('ok').toSend; // still on the DAKE's first chains: reveals nothing yet
    assert.equal(texts(deliver('a', b1)), ['ok']);
    const a3 = p.a.send('see you').toSend; // Alice's new ratchet: reveals the key of Bob's "ok"
    deliver('b', a3);
    const b2 = p.b.send('bye').toSend; // Bob's new ratchet: reveals the keys of all three messages he read
    deliver('a', b2);
    const data = [a1[0]!, a2[0]!, b1[0]!, a3[0]!, b2[0]!];
    const w1 = data[0]!;
    const w2 = data[1]!;
    const w5 = data[4]!;

    // Exactly: every revealed key authenticates exactly one message, and every message read before the
    // reader's next ratchet has its key revealed.
    const revealed = wire.flatMap((w) => (parseWire(w).kind === 'OTRv4 Data' ? revealedMacKeys(w) : []));
    const owners = (keys: Uint8Array[]) => keys.map((k) => data.filter((m) => macKeyMatches(be, m, k)).map((m) => data.indexOf(m)));
    assert.equal(owners(revealed).map((o) => o.length), revealed.map(() => 1), 'each revealed key authenticates exactly one message');
    assert.equal(owners(revealedMacKeys(data[3]!)), [[2]]);
    assert.equal(owners(revealedMacKeys(data[4]!)), [[0], [1], [3]]);
    for (const i of [0, 1, 2, 3]) assert.ok(findMacKey(be, data[i]!, wire), `message ${i}'s key is in the transcript`);
    assert.is(findMacKey(be, w5, wire), undefined, 'the last message: its reader has not ratcheted, its key is still secret');

    const k1 = findMacKey(be, w1, wire)!;
    assert.is(remacMessage(be, w1, k1), w1, 're-MAC with the revealed key reproduces the original exactly');
    // Modify Data Message: "5pm" guessed at offset 11, replaced by "6pm", re-MACed with the revealed key.
    const forged = modifyDataMessage(be, w1, { offset: 11, oldText: '5pm', newText: '6pm', macKey: k1 });
    const fresh = () => Account.restore(bobBefore, { backend: be, random: seededRandom(9), clock: p.clock }).conversation(ALICE_ID);
    assert.equal(texts([fresh().receive(forged)]), ['meet me at 6pm'], 'honest receiver holding the keys accepts the forgery');
    // Without the MAC key, or with another message's revealed key, the same change is refused.
    const unmaced = modifyDataMessage(be, w1, { offset: 11, oldText: '5pm', newText: '6pm' });
    const r0 = fresh().receive(unmaced);
    assert.equal(texts([r0]), []);
    const wrong = modifyDataMessage(be, w1, { offset: 11, oldText: '5pm', newText: '6pm', macKey: findMacKey(be, w2, wire)! });
    assert.equal(texts([fresh().receive(wrong)]), []);
    // ReMAC Message with a compromised key: a ciphertext bit flipped, re-MACed, accepted (as garbled text).
    const flipped = modifyDataMessage(be, w2, { offset: 0, oldText: 'b', newText: 'B', macKey: findMacKey(be, w2, wire)! });
    const rb = fresh();
    rb.receive(w1);
    assert.equal(texts([rb.receive(flipped)]), ['Bring the documents']);

    // Ending the session reveals the rest: then the last message is forgeable too.
    deliver('b', p.a.end().toSend);
    assert.ok(findMacKey(be, w5, wire), "Alice's disconnect message reveals the last MAC key");
    assert.throws(() => modifyDataMessage(be, w1, { offset: 11, oldText: '5pm', newText: '6 pm' }), (e: unknown) => e instanceof OtrArgumentError);
  });
}

test('data-message tools: anything but a well-formed OTRv4 data message, and wrong key sizes, are typed errors', () => {
  const be = WASM;
  const { p, wire, deliver } = conversation(be, 12);
  deliver('b', p.a.start().toSend);
  const w = p.a.send('x').toSend[0]!;
  const k = new Uint8Array(64);
  const bad = [wire[1]!, '?OTRv4?', 'hello', '?OTR:AAQD.', w.slice(0, 60) + '.', '?OTR:' + 'A'.repeat(200000) + '.'];
  const ops: ((x: string) => unknown)[] = [
    (x) => revealedMacKeys(x),
    (x) => remacMessage(be, x, k),
    (x) => modifyDataMessage(be, x, { offset: 0, oldText: 'x', newText: 'y', macKey: k }),
    (x) => readAndForge(be, x, { messageKey: k }),
    (x) => macKeyMatches(be, x, k),
  ];
  for (const x of bad)
    for (const op of ops)
      assert.throws(() => op(x), (e: unknown) => e instanceof OtrError, `${x.slice(0, 20)}`);
  for (const n of [0, 63, 65]) {
    assert.throws(() => remacMessage(be, w, new Uint8Array(n)), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => showMacKey(be, new Uint8Array(n)), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => readAndForge(be, w, { chainKey: new Uint8Array(n) }), (e: unknown) => e instanceof OtrArgumentError);
  }
  assert.throws(() => modifyDataMessage(be, w, { offset: 5, oldText: 'x', newText: 'y' }), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => modifyDataMessage(be, w, { offset: -1, oldText: 'x', newText: 'y' }), (e: unknown) => e instanceof OtrArgumentError);
});

// ------------------------------------------------------------------------------- read and forge

test('Read and Forge from a chain key; Show MAC Key; the forgery is read by the honest ratchet', () => {
  for (const be of BACKENDS) {
    const rnd = seededRandom(30);
    const p = makePair(be, 3);
    const d = forgeInteractiveDake(be, rnd, { initiator: party(p.bob, BOB_ID), responder: party(p.alice, ALICE_ID) });
    let bob: RatchetState = d.initiator.ratchet;
    let alice: RatchetState = d.responder.ratchet;
    const sendOpts = { senderTag: p.bob.instanceTag, receiverTag: p.alice.instanceTag };
    // Bob's first message makes his first sending step (ratchet/init.ts leaves it due after the DAKE); the
    // chain key of his second message is then in his state.
    const first = encryptDataMessage(be, rnd, bob, utf8('hello'), sendOpts);
    bob = first.state;
    alice = decryptDataMessage(be, alice, decodeDataMessage(first.message), { now: T0 }).state;
    const chain = (bob.sendingStepDue ? null : bob.sendChain)!;
    assert.ok(chain, 'the Auth-I sender has a sending chain');
    const ck = chain.slice();
    const sent = encryptDataMessage(be, rnd, bob, utf8('I will pay you back'), sendOpts);
    bob = sent.state;
    const w = armour(sent.message);
    const read = readAndForge(be, w, { chainKey: ck });
    assert.is(read.text, 'I will pay you back');
    assert.ok(read.authentic);
    const mk = messageEncKey(be, ck);
    assert.ok(equalBytes(showMacKey(be, mk), read.macKey));
    const viaMk = readAndForge(be, w, { messageKey: mk, newText: 'I will never pay you back, not ever' });
    assert.is(viaMk.text, 'I will pay you back');
    const got = decryptDataMessage(be, alice, decodeDataMessage(dearmour(viaMk.forged!)), { now: T0 });
    alice = got.state;
    assert.is(fromUtf8(got.plaintext), 'I will never pay you back, not ever');
    assert.throws(() => readAndForge(be, w, {}), (e: unknown) => e instanceof OtrArgumentError);
    assert.not.ok(readAndForge(be, w, { chainKey: new Uint8Array(64) }).authentic);
  }
});

// ------------------------------------------------------------------------------- forged DAKEs

test('impersonate the responder: with his own ephemeral y, Bob forges an Auth-R from Alice that his honest DAKE accepts', () => {
  for (const be of BACKENDS) {
    const p = makePair(be, 4);
    const rnd = seededRandom(40);
    const bobLocal = localOf(p.bob, ALICE_ID);
    const s = startDake(be, rnd, bobLocal);
    const forged = forgeAuthR(be, rnd, {
      identity: armour(s.message!),
      responder: party(p.alice, ALICE_ID),
      initiatorAccountId: BOB_ID,
      signer: { secret: s.state.y.secret, public: s.state.y.public },
    });
    const done = receiveAuthR(be, rnd, bobLocal, s.state, dearmour(forged.message), T0);
    assert.ok(done.established && done.message, 'honest receiveAuthR accepted the forged Auth-R');
    assert.is(bytesToHex(done.established.ssid), bytesToHex(forged.established.ssid));
    // Session keys are shared: forged "Alice" writes, honest Bob reads; Bob writes, forged Alice reads.
    const toBob = encryptDataMessage(be, rnd, forged.established.ratchet, utf8('signed: Alice'), { senderTag: p.alice.instanceTag, receiverTag: p.bob.instanceTag });
    const bobRead = decryptDataMessage(be, done.established.ratchet, decodeDataMessage(toBob.message), { now: T0 });
    assert.is(fromUtf8(bobRead.plaintext), 'signed: Alice');
    // Bob's honest Auth-I verifies against the forger's t_I.
    const m = decodeAuthR(dearmour(forged.message));
    assert.ok(ringVerify(be, [p.bob.clientProfile.identityKey, p.alice.clientProfile.forgingKey, m.x], decodeAuthI(done.message).sigma, forged.authITranscript));
  }
});

test('impersonate the initiator: with her forging key, Alice forges Identity + Auth-I from Bob that her honest DAKE accepts', () => {
  for (const be of BACKENDS) {
    const p = makePair(be, 5);
    const rnd = seededRandom(50);
    const forging = generateEcdh(be, rnd);
    const identitySecret = rnd(57);
    const profile = createClientProfile(be, { ownerTag: 0x4a11ce00, identitySecret, forgingKey: forging.public, versions: '4', expiry: expiryFromNow(T0) });
    const aliceLocal: DakeLocal = { instanceTag: 0x4a11ce00, profile, identityScalar: ed448KeyPair(be, identitySecret).scalar, accountId: utf8(ALICE_ID), peerAccountId: utf8(BOB_ID) };
    const id = forgeIdentity(be, rnd, party(p.bob, BOB_ID));
    const r = receiveIdentity(be, rnd, aliceLocal, DAKE_IDLE, dearmour(id.message), T0);
    const i = forgeAuthI(be, rnd, { identity: id, authR: armour(r.message!), responderAccountId: ALICE_ID, signer: forging });
    const done = receiveAuthI(be, aliceLocal, r.state, dearmour(i.message));
    assert.ok(done.established, 'honest receiveAuthI accepted the forged Auth-I');
    assert.is(bytesToHex(done.established.ssid), bytesToHex(i.established.ssid));
    // Without a ring member's secret it cannot be done: Alice's identity key is not in Auth-I's ring.
    assert.throws(
      () => forgeAuthI(be, rnd, { identity: id, authR: armour(r.message!), responderAccountId: ALICE_ID, signer: { secret: aliceLocal.identityScalar, public: profile.identityKey } }),
      (e: unknown) => e instanceof OtrArgumentError,
    );
  }
});

test("non-interactive: Bob, with his own prekey secret, forges a conversation 'from Alice' that his own Conversation accepts", () => {
  for (const be of BACKENDS) {
    const p: Pair = makePair(be, 6);
    const rnd = seededRandom(60);
    const pub = p.bob.prekeyPublication(2);
    const prekeys = pub.prekeys!;
    const prekey = prekeys[0]!;
    const ensemble = { clientProfile: p.bob.clientProfile, prekeyProfile: pub.prekeyProfile!.profile, prekeyMessage: prekey.message };
    const forged = forgeNonInteractiveAuth(be, rnd, { sender: party(p.alice, ALICE_ID), ensemble, receiverAccountId: BOB_ID, signer: prekey.ecdh });
    const r1 = p.b.receive(forged.message);
    assert.ok(r1.events.some((e) => e.type === 'encrypted'), 'Bob accepted the forged Non-Interactive-Auth');
    const msg = encryptDataMessage(be, rnd, forged.established.ratchet, utf8('I, Alice, confess'), { senderTag: p.alice.instanceTag, receiverTag: p.bob.instanceTag });
    assert.equal(texts([p.b.receive(armour(msg.message))]), ['I, Alice, confess']);
    assert.is(p.b.ssid, bytesToHex(forged.established.ssid));
    // The honest form (Alice's own key) is accepted the same way: the receiver cannot tell the two apart.
    const honest = forgeNonInteractiveAuth(be, rnd, {
      sender: party(p.alice, ALICE_ID),
      ensemble: { ...ensemble, prekeyMessage: prekeys[1]!.message },
      receiverAccountId: BOB_ID,
      signer: { secret: p.alice.identity.scalar, public: p.alice.clientProfile.identityKey },
    });
    const bob2 = Account.restore(p.bob.serialize(), { backend: be, random: seededRandom(61), clock: p.clock }).conversation(ALICE_ID);
    assert.ok(bob2.receive(honest.message).events.some((e) => e.type === 'encrypted'));
  }
});

test('False Prekey Ensemble: Bob makes an ensemble he never published and a message from Alice against it; the honest receiver accepts', () => {
  for (const be of BACKENDS) {
    const p = makePair(be, 9);
    const rnd = seededRandom(90);
    const f = falsePrekeyEnsemble(be, rnd, { clientProfile: p.bob.clientProfile, identitySecret: p.bob.identity.secret, expiry: expiryFromNow(T0) });
    validateEnsemble(be, f.ensemble, { nowMs: T0 }); // a valid ensemble, like a published one
    const forged = forgeNonInteractiveAuth(be, rnd, { sender: party(p.alice, ALICE_ID), ensemble: f.ensemble, receiverAccountId: BOB_ID, signer: f.prekey.ecdh });
    const owner = addPrekeys(addPrekeyProfile(EMPTY_PREKEY_OWNER_STATE, f.prekeyProfile), [f.prekey], T0);
    const got = receiveNonInteractiveAuth(be, localOf(p.bob, ALICE_ID), owner, dearmour(forged.message), T0);
    assert.is(bytesToHex(got.established.ssid), bytesToHex(forged.established.ssid));
    assert.is(bytesToHex(got.established.peerProfile.encoded), bytesToHex(p.alice.clientProfile.encoded), 'accepted as from Alice');
  }
});

test('a whole transcript forged with no secret at all: every signature verifies, every message reads, MAC keys are revealed', () => {
  const be = WASM;
  const p = makePair(be, 7);
  const t = forgeTranscript(be, seededRandom(70), {
    initiator: party(p.bob, BOB_ID),
    responder: party(p.alice, ALICE_ID),
    messages: [
      { from: 'initiator', text: 'did you get the files?' },
      { from: 'responder', text: 'yes, all of them' },
      { from: 'initiator', text: 'good' },
    ],
    nowMs: T0,
  });
  assert.is(t.wire.length, 6);
  const [idW, rW, iW] = t.wire;
  const id = decodeIdentity(dearmour(idW!));
  const r = decodeAuthR(dearmour(rW!));
  const bob: PhiParty = { tag: id.senderTag, ecdh0: id.ecdhFirst, dh0: id.dhFirst, accountId: utf8(BOB_ID) };
  const alice: PhiParty = { tag: r.senderTag, ecdh0: r.ecdhFirst, dh0: r.dhFirst, accountId: utf8(ALICE_ID) };
  const keys = { bobProfile: id.profile.encoded, aliceProfile: r.profile.encoded, y: id.y, x: r.x, b: id.b, a: r.a };
  assert.ok(ringVerify(be, [id.profile.forgingKey, r.profile.identityKey, id.y], r.sigma, authRTranscript(be, keys, alice, bob)), 'Auth-R verifies as Alice');
  assert.ok(ringVerify(be, [id.profile.identityKey, r.profile.forgingKey, r.x], decodeAuthI(dearmour(iW!)).sigma, authITranscript(be, keys, alice, bob)), 'Auth-I verifies as Bob');
  assert.ok(findMacKey(be, t.wire[3]!, t.wire), "Bob's first message's MAC key is revealed by the reply chain");
  assert.is(parseWire(t.wire[5]!).kind, 'OTRv4 Data');
});

test('forged ring signatures are as uniform as honest ones: forged Auth-R (signed with y) pass the same tests', () => {
  const be = WASM;
  const p = makePair(be, 8);
  const rnd = seededRandom(80);
  const id = forgeIdentity(be, rnd, party(p.bob, BOB_ID));
  const sigs: Uint8Array[] = [];
  for (let i = 0; i < 48; i++) {
    const f = forgeAuthR(be, rnd, { identity: id.message, responder: party(p.alice, ALICE_ID), initiatorAccountId: BOB_ID, signer: { secret: id.y.secret, public: id.y.public } });
    sigs.push(decodeAuthR(dearmour(f.message)).sigma);
  }
  const tests: ChiSquare[] = [];
  ['c1', 'r1', 'c2', 'r2', 'c3', 'r3'].forEach((n, k) => tests.push(...scalarTests(`forged Auth-R ${n}`, sigs.map((s) => s.subarray(57 * k, 57 * (k + 1))), 3, 4)));
  if (process.env.OTR_PRINT_FIGURES === '1') console.log(describe(tests));
  // Slot 3's values are computed (it signed), slots 1 and 2's drawn: all six positions look the same.
  assert.is(rejected(tests).length, 0, describe(rejected(tests)));
});

test.run();
