/**
 * OTRv3 protocol behaviour between two of our own conversations, once per backend: the AKE in both roles with
 * the commit race and restarts, key rotation and MAC-key revelation, replay rejection, SMP aborts and cheating
 * proofs, TLV parsing, fragment reassembly rules.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bytesToBigBE, utf8 } from '../ts/bytes.js';
import { armour } from '../ts/codec/armour.js';
import { dsaFingerprint } from '../ts/crypto/dsa.js';
import { dearmour } from '../ts/codec/armour.js';
import { resolveLimits } from '../ts/limits.js';
import { Tlv } from '../ts/v3/constants.js';
import { FLAG_IGNORE_UNREADABLE } from '../ts/wire/data.js';
import { hmacSha1 } from '../ts/v3/crypto.js';
import { FragmentTable, fragmentV3 } from '../ts/v3/fragment.js';
import { type DataMsg, decodeMessage, encodeDataAuthenticated, encodeMessage } from '../ts/v3/messages.js';
import { smpReceive, smpStart } from '../ts/v3/smp.js';
import { contextOf } from '../ts/v3/instances.js';
import { seededRandom } from './helpers/rng.js';
import { decodePlaintext, encodePlaintext } from '../ts/v3/tlv.js';
import { type FragmentV3, parseFragment } from '../ts/codec/fragment.js';
import { BACKENDS } from './helpers/backends.js';
import { encryptedPair, eventsOf, makeSide, pump } from './interop/v3-pair.js';
import { MessageTypeV3 } from '../ts/wire/header.js';

const decodeData = (text: string): DataMsg => {
  const m = decodeMessage(dearmour(text));
  if (m.type !== MessageTypeV3.data) throw new Error('not a data message');
  return m;
};

for (const backend of BACKENDS) {
  const t = (name: string, fn: () => void): void => test(`[${backend.name}] ${name}`, fn);

  t('AKE in both roles: same ssid, each side has the other fingerprint, bold halves opposite', () => {
    const { a, b } = encryptedPair(backend);
    const ea = eventsOf(a, 'encrypted')[0]!;
    const eb = eventsOf(b, 'encrypted')[0]!;
    assert.equal(ea.ssid, eb.ssid);
    assert.is(ea.ssidBoldFirst, !eb.ssidBoldFirst);
    assert.is(eb.ssidBoldFirst, true); // Bob committed, so Bob sent the Reveal Signature
    assert.equal(a.conv.peerFingerprint, dsaFingerprint(b.opts.dsaKey));
    assert.equal(b.conv.peerFingerprint, dsaFingerprint(a.opts.dsaKey));
    assert.equal(ea.fingerprint, dsaFingerprint(b.opts.dsaKey));
    assert.equal(a.conv.state.theirTag, b.conv.state.ourTag);
    assert.equal(b.conv.state.theirTag, a.conv.state.ourTag);
  });

  t('commit race: both send a D-H Commit at once and still agree on one AKE', () => {
    const a = makeSide(backend, 'alice');
    const b = makeSide(backend, 'bob');
    const ca = a.conv.startAke().toSend;
    const cb = b.conv.startAke().toSend;
    // Deliver both commits "simultaneously", then let the replies flow.
    const ra = a.conv.receive(cb[0]!);
    const rb = b.conv.receive(ca[0]!);
    const hashA = bytesToBigBE((decodeMessage(dearmour(ca[0]!)) as { hashGx: Uint8Array }).hashGx);
    const hashB = bytesToBigBE((decodeMessage(dearmour(cb[0]!)) as { hashGx: Uint8Array }).hashGx);
    // The higher hash resends its commit; the lower one answers with a D-H Key.
    const [hi, lo] = hashA > hashB ? [ra, rb] : [rb, ra];
    assert.is(decodeMessage(dearmour(hi.toSend[0]!)).type, MessageTypeV3.dhCommit);
    assert.is(decodeMessage(dearmour(lo.toSend[0]!)).type, MessageTypeV3.dhKey);
    pump(a, b, ra.toSend);
    pump(b, a, rb.toSend);
    assert.is(a.conv.msgstate, 'encrypted');
    assert.is(b.conv.msgstate, 'encrypted');
    assert.equal(a.conv.ssid, b.conv.ssid);
  });

  t('retransmissions: a repeated D-H Commit gets the same D-H Key; a repeated D-H Key the same Reveal Signature', () => {
    const a = makeSide(backend, 'alice');
    const b = makeSide(backend, 'bob');
    const commit = b.conv.startAke().toSend;
    const key1 = a.conv.receive(commit[0]!).toSend;
    const key2 = a.conv.receive(commit[0]!).toSend;
    assert.equal(key1, key2);
    const rev1 = b.conv.receive(key1[0]!).toSend;
    const rev2 = b.conv.receive(key1[0]!).toSend;
    assert.equal(rev1, rev2);
    pump(b, a, rev1);
    assert.is(a.conv.msgstate, 'encrypted');
    assert.is(b.conv.msgstate, 'encrypted');
  });

  t('a new AKE while encrypted refreshes the keys; a forged Reveal Signature is ignored', () => {
    const { a, b } = encryptedPair(backend);
    const oldSsid = a.conv.ssid;
    pump(a, b, a.conv.startAke().toSend);
    assert.is(eventsOf(b, 'encrypted').pop()!.refreshed, true);
    assert.not.equal(a.conv.ssid, oldSsid);
    pump(a, b, a.conv.send('after refresh').toSend);
    assert.equal(b.user, ['after refresh']);

    // Forgery: Mallory (another DSA key) answers Alice's D-H Key in Bob's name with Bob's tag.
    const m = makeSide(backend, 'bob', { dsaKey: makeSide(backend, 'alice').opts.dsaKey }, 7);
    const commit = m.conv.startAke().toSend;
    const key = b.conv.receive(commit[0]!).toSend; // Bob answers a commit, now awaiting a Reveal Signature
    const rev = m.conv.receive(key[0]!).toSend;
    // Flip a byte inside the encrypted signature: MAC fails, Bob ignores it and stays encrypted with Alice.
    const bytes = dearmour(rev[0]!);
    bytes[bytes.length - 30]! ^= 1;
    // The AKE runs in the context of the instance Mallory named, beside Alice's session (in the commit race
    // with Bob's earlier commit to anyone, or answering Mallory's): the forgery leaves it where it was.
    const before = contextOf(b.conv.peerState, m.opts.instanceTag)!.auth.kind;
    assert.is.not(before, 'none');
    const r = b.conv.receive(armour(bytes));
    assert.equal(r.toSend, []);
    if (before === 'awaitingRevealSig') assert.is(r.events[0]?.type, 'ignored');
    assert.is(contextOf(b.conv.peerState, m.opts.instanceTag)!.auth.kind, before);
    assert.is(b.conv.msgstate, 'encrypted');
    assert.is(b.conv.current, a.opts.instanceTag);
  });

  t('key rotation, counters and MAC-key revelation', () => {
    const { a, b } = encryptedPair(backend);
    const first = a.conv.send('one').toSend[0]!;
    const m1 = decodeData(first);
    pump(a, b, [first]);
    assert.equal(b.user, ['one']);
    // Within one key pair the counter increases.
    const m2 = decodeData(a.conv.send('two').toSend[0]!);
    assert.is(m2.senderKeyid, m1.senderKeyid);
    assert.ok(bytesToBigBE(m2.ctr) > bytesToBigBE(m1.ctr));
    // Ping-pong until Bob forgets the key pair he verified m1 with: he then reveals that MAC key.
    const revealed: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) {
      const fromB = b.conv.send(`b${i}`).toSend;
      for (const x of fromB) {
        const d = decodeData(x);
        for (let o = 0; o < d.oldMacKeys.length; o += 20) revealed.push(d.oldMacKeys.slice(o, o + 20));
      }
      pump(b, a, fromB);
      pump(a, b, a.conv.send(`a${i}`).toSend);
    }
    assert.ok(revealed.length > 0, 'no MAC keys revealed');
    assert.ok(
      revealed.some((k) => hmacSha1({}, k, m1.authenticated).every((x, i) => x === m1.mac[i])),
      'the MAC key of the first message was revealed',
    );
    assert.ok(a.conv.state.keys!.ourKeyid >= 4 && b.conv.state.keys!.ourKeyid >= 4);
  });

  t('replays are rejected; a stale message under the same key pair is rejected; nothing is delivered twice', () => {
    const { a, b } = encryptedPair(backend);
    const x1 = a.conv.send('first').toSend[0]!;
    const x2 = a.conv.send('second').toSend[0]!;
    pump(a, b, [x2]);
    pump(a, b, [x1]); // lower counter under the same keys: rejected
    pump(a, b, [x2]); // replay
    assert.equal(b.user, ['second']);
    assert.is(eventsOf(b, 'unreadable').length, 2);
  });

  t('IGNORE_UNREADABLE: undecryptable heartbeats are dropped silently, others answered with an error', () => {
    const { a, b } = encryptedPair(backend);
    const c = makeSide(backend, 'bob', {}, 3);
    const ab = a.conv.send('hello').toSend[0]!;
    const m = decodeData(ab);
    const authenticated = encodeDataAuthenticated({ ...m, flags: FLAG_IGNORE_UNREADABLE });
    const flagged = armour(encodeMessage({ ...m, flags: FLAG_IGNORE_UNREADABLE, authenticated }));
    // c is not in a private conversation: the flagged message is ignored, the normal one draws an error.
    assert.equal(c.conv.receive(flagged).toSend, []);
    const r = c.conv.receive(ab);
    assert.ok(r.toSend[0]?.startsWith('?OTR Error:'));
    // An error message makes the receiver (errorStartAke) send a query.
    assert.ok(a.conv.receive(r.toSend[0]!).toSend[0]?.startsWith('?OTRv3?'));
    void b;
  });

  t('SMP: abort, unexpected messages and tampered proofs end in EXPECT1 with an abort', () => {
    const { a, b } = encryptedPair(backend);
    pump(a, b, a.conv.startSmp('s', 'q').toSend);
    assert.is(b.conv.state.smp.kind, 'awaitingAnswer');
    pump(a, b, a.conv.abortSmp().toSend);
    assert.is(b.conv.state.smp.kind, 'expect1');
    assert.is(eventsOf(b, 'smpAborted').length, 1);

    const env = { backend, random: seededRandom(42) };
    const start = smpStart(env, 12345n, null);
    const body = start.send[0]!.value;
    // Each of the six MPIs of SMP1, tampered in its last byte: every one must be caught.
    let offset = 4;
    for (let i = 0; i < 6; i++) {
      const n = new DataView(body.buffer, body.byteOffset).getUint32(offset);
      const bad = body.slice();
      bad[offset + 4 + n - 1]! ^= 0x01;
      const r = smpReceive(env, { kind: 'expect1' }, { type: Tlv.smp1, value: bad });
      assert.is(r.smp.kind, 'expect1', `MPI ${i}`);
      assert.is(r.outcome?.type, 'smpError', `MPI ${i}`);
      assert.equal(r.send.map((x) => x.type), [Tlv.smpAbort]);
      offset += 4 + n;
    }
    // The untampered one is accepted.
    assert.is(smpReceive(env, { kind: 'expect1' }, start.send[0]!).outcome?.type, 'smpRequest');
    // An SMP2 while expecting SMP1: abort.
    const r2 = smpReceive(env, { kind: 'expect1' }, { type: Tlv.smp2, value: body });
    assert.is(r2.outcome?.type, 'smpError');
    // Wrong MPI count and truncated bodies: typed, abort.
    for (const v of [body.subarray(0, 10), Uint8Array.of(0, 0, 0, 7), new Uint8Array(0)]) {
      const r = smpReceive(env, { kind: 'expect1' }, { type: Tlv.smp1, value: v });
      assert.is(r.outcome?.type, 'smpError');
    }
  });

  t('instance tags: messages for another instance or from an unbound one are reported and change nothing', () => {
    const { a, b } = encryptedPair(backend);
    const m = decodeData(a.conv.send('for bob').toSend[0]!);
    const before = b.conv.serialize();
    const cases: [number, number][] = [
      [m.senderTag, 0x7777_0000],
      [0x7777_0000, m.receiverTag],
    ];
    for (const [senderTag, receiverTag] of cases) {
      const authenticated = encodeDataAuthenticated({ ...m, senderTag, receiverTag });
      const r = b.conv.receive(armour(encodeMessage({ ...m, senderTag, receiverTag, authenticated })));
      assert.equal(r.events.map((e) => e.type), ['otherInstance']);
      assert.equal(r.toUser, []);
    }
    // Tags below 0x100 are malformed.
    const low = encodeDataAuthenticated({ ...m, senderTag: 0xff });
    assert.is(b.conv.receive(armour(encodeMessage({ ...m, senderTag: 0xff, authenticated: low }))).events[0]?.type, 'ignored');
    assert.equal(b.conv.serialize(), before);
  });

  t('whitespace tag and plaintext handling between two of our conversations', () => {
    const a = makeSide(backend, 'alice', { policy: { sendWhitespaceTag: true } });
    const b = makeSide(backend, 'bob');
    pump(a, b, a.conv.send('hi').toSend);
    assert.equal(b.user, ['hi']);
    assert.is(a.conv.msgstate, 'encrypted');
    // Plaintext while encrypted is shown, with a warning event.
    const r = a.conv.receive('in the clear');
    assert.equal(r.toUser, ['in the clear']);
    assert.equal(r.events.map((e) => e.type), ['unencrypted']);
  });

  t('TLVs: padding dropped, truncated tail ignored, unknown types reported', () => {
    const p = encodePlaintext(utf8('hi'), [
      { type: Tlv.padding, value: new Uint8Array(5) },
      { type: 0x4242, value: Uint8Array.of(1, 2) },
    ]);
    const d = decodePlaintext(Uint8Array.from([...p, 0, 9, 0, 10, 1]));
    assert.equal(d.message, utf8('hi'));
    assert.equal(
      d.tlvs.map((t) => t.type),
      [Tlv.padding, 0x4242],
    );
    const many = encodePlaintext(new Uint8Array(0), Array.from({ length: 70 }, () => ({ type: 0, value: new Uint8Array(0) })));
    assert.throws(() => decodePlaintext(many, 64), (e: Error) => (e as { code?: string }).code === 'LIMIT_EXCEEDED');
  });
}

test('two clients of the peer answer our commit to anyone: each gets its own session; a held message goes to the first', () => {
  const a = makeSide(BACKENDS[0]!, 'alice', { policy: { requireEncryption: true } });
  const b1 = makeSide(BACKENDS[0]!, 'bob');
  const b2 = makeSide(BACKENDS[0]!, 'bob', { instanceTag: 0x2222_0300 }, 2);
  const commit = a.conv.startAke().toSend;
  // Typed before the AKE: held (requireEncryption), sent once an instance is encrypted.
  const held = a.conv.send('held for the first');
  assert.ok(held.toSend.every((t) => t.startsWith('?OTRv3?')));
  pump(b1, a, commit.flatMap((t) => b1.conv.receive(t).toSend));
  assert.equal(b1.user, ['held for the first']);
  assert.is(a.conv.current, b1.opts.instanceTag);
  // The second client answers the same commit later: its own context, its own AKE, reported as a switch.
  const before = a.events.length;
  pump(b2, a, commit.flatMap((t) => b2.conv.receive(t).toSend));
  assert.is(b2.conv.msgstate, 'encrypted');
  assert.equal(b2.user, [], 'the held message went to the first client only');
  assert.equal(a.conv.instances.map((i) => i.msgstate), ['encrypted', 'encrypted']);
  assert.is(a.conv.current, b2.opts.instanceTag);
  const changed = a.events.slice(before).filter((e) => e.type === 'instanceChanged');
  assert.equal(changed.map((e) => [e.from, e.to]), [[b1.opts.instanceTag, b2.opts.instanceTag]]);
  // Both sessions work.
  pump(a, b1, a.conv.send('to one', b1.opts.instanceTag).toSend);
  pump(a, b2, a.conv.send('to two').toSend);
  assert.equal(b1.user, ['held for the first', 'to one']);
  assert.equal(b2.user, ['to two']);
});

test('v3 TLV numbers (otrv3-protocol.html): 0-6 shared with v4, 7 = SMP1Q, 8 = extra symmetric key', () => {
  assert.equal({ ...Tlv }, { padding: 0, disconnected: 1, smp1: 2, smp2: 3, smp3: 4, smp4: 5, smpAbort: 6, smp1q: 7, extraSymKey: 8 });
});

test('fragments: in-order reassembly, anything else resets, limits hold', () => {
  const L = resolveLimits();
  const msg = '?OTR:' + 'A'.repeat(300) + '.';
  const frags = fragmentV3(msg, 100, 0x100, 0x200).map((f) => parseFragment(f) as FragmentV3);
  assert.ok(frags.every((f) => f.version === 3));
  let fb = new FragmentTable(L);
  let out: string | null = null;
  for (const f of frags) out = fb.add(f);
  assert.is(out, msg);
  assert.equal(fb.pending, { messages: 0, chars: 0 });
  // Out of order: reset, nothing delivered.
  fb = new FragmentTable(L);
  assert.is(fb.add(frags[0]!), null);
  assert.is(fb.add(frags[2]!), null);
  assert.equal(fb.pending, { messages: 0, chars: 0 });
  // Another instance's fragments do not disturb this one's.
  assert.is(fb.add(frags[0]!), null);
  assert.is(fb.add({ ...frags[1]!, senderTag: 0x300 }), null);
  assert.is(fb.pending.messages, 1);
  for (const f of frags.slice(1)) out = fb.add(f);
  assert.is(out, msg);
  // Too many fragments for the limit.
  assert.throws(() => new FragmentTable(L).add({ ...frags[0]!, total: 5000 }), (e: Error) => (e as { code?: string }).code === 'LIMIT_EXCEEDED');
});

test.run();
