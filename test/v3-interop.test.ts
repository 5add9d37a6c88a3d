/**
 * OTRv3 against the reference implementation: libotr 4.1.x (Debian's libotr5-dev) through the small C peer in
 * test/interop/peer.c. If the peer cannot be built (packages missing), the first test fails with the compiler
 * output: this suite never skips. CI installs the packages listed in .ci/apt-packages.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bytesToHex, hexToBytes } from '../ts/bytes.js';
import { dsaFingerprint, dsaGenerateKey } from '../ts/crypto/dsa.js';
import { V3Conversation, type V3Event, type V3Options } from '../ts/v3/index.js';
import { JS, WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { LibotrPeer, buildPeer } from './interop/libotr-peer.js';
import { dearmour } from '../ts/codec/armour.js';
import { v3RevealedIn } from './helpers/v3-reveal.js';
import { type DataMsg, decodeMessage } from '../ts/v3/messages.js';
import { MessageTypeV3 } from '../ts/wire/header.js';

const built = buildPeer();
const dsaKey = dsaGenerateKey(seededRandom(0x0715));
const OUR_TAG = 0x5a73a599;

let clock = 1_700_000_000_000;
function options(over: Partial<V3Options> = {}): V3Options {
  return { backend: WASM, dsaKey, instanceTag: OUR_TAG, now: () => clock, ...over };
}

interface Log {
  tsUser: string[];
  tsEvents: V3Event[];
  peerUser: string[];
  peerEvents: string[];
  peerOther: string[];
  /** Every message each side put on the wire, in order. */
  tsWire: string[];
  peerWire: string[];
}
const newLog = (): Log => ({ tsUser: [], tsEvents: [], peerUser: [], peerEvents: [], peerOther: [], tsWire: [], peerWire: [] });

/** Delivers messages both ways until both sides are quiet. */
async function exchange(conv: V3Conversation, peer: LibotrPeer, toPeer: string[], toTs: string[], log: Log): Promise<void> {
  for (let round = 0; toPeer.length || toTs.length; round++) {
    if (round > 40) throw new Error('conversation does not settle');
    const nextPeer: string[] = [];
    const nextTs: string[] = [];
    for (const m of toPeer) {
      log.tsWire.push(m);
      const o = await peer.cmd('recv ' + m);
      nextTs.push(...o.send);
      log.peerUser.push(...o.user);
      log.peerEvents.push(...o.events);
      log.peerOther.push(...o.other);
    }
    for (const m of toTs) {
      log.peerWire.push(m);
      const r = conv.receive(m);
      nextPeer.push(...r.toSend);
      log.tsUser.push(...r.toUser);
      log.tsEvents.push(...r.events);
    }
    toPeer = nextPeer;
    toTs = nextTs;
  }
}

async function peerCmd(conv: V3Conversation, peer: LibotrPeer, line: string, log: Log): Promise<void> {
  const o = await peer.cmd(line);
  log.peerUser.push(...o.user);
  log.peerEvents.push(...o.events);
  log.peerOther.push(...o.other);
  await exchange(conv, peer, [], o.send, log);
}

/** The data messages among `wire` (libotr's, unfragmented). */
const dataMessages = (wire: readonly string[]): DataMsg[] => wire.map((w) => decodeMessage(dearmour(w))).filter((m): m is DataMsg => m.type === MessageTypeV3.data);

const ofType = <T extends V3Event['type']>(log: Log, t: T): Extract<V3Event, { type: T }>[] =>
  log.tsEvents.filter((e): e is Extract<V3Event, { type: T }> => e.type === t);

/** Sets up an encrypted conversation; `who` says which side sends the D-H Commit. */
async function secure(who: 'libotr' | 'us', over: Partial<V3Options> = {}): Promise<{ conv: V3Conversation; peer: LibotrPeer; log: Log }> {
  const peer = await LibotrPeer.start();
  const conv = new V3Conversation(options(over));
  const log = newLog();
  if (who === 'libotr') await exchange(conv, peer, conv.start().toSend, [], log);
  else await peerCmd(conv, peer, 'query', log);
  return { conv, peer, log };
}

function checkSecure(conv: V3Conversation, peer: LibotrPeer, log: Log, weCommitted: boolean): void {
  assert.is(conv.msgstate, 'encrypted');
  const enc = ofType(log, 'encrypted');
  assert.is(enc.length, 1);
  const gone = log.peerEvents.find((e) => e.startsWith('gone_secure '));
  assert.ok(gone, `libotr did not go secure: ${log.peerEvents.join(' | ')}`);
  const [, ssidHex, boldFirst, theirTag] = gone!.split(' ');
  // Same secure session id, and each side reads out the half that is its own.
  assert.is(ssidHex, bytesToHex(conv.ssid!));
  assert.is(boldFirst === '1', weCommitted ? false : true);
  assert.is(enc[0]!.ssidBoldFirst, weCommitted);
  assert.is(parseInt(theirTag!, 16), OUR_TAG);
  // Fingerprints: ours as libotr computes it, libotr's as we compute it.
  assert.is(log.peerEvents.find((e) => e.startsWith('new_fingerprint ')), `new_fingerprint ${bytesToHex(dsaFingerprint(dsaKey))}`);
  assert.is(bytesToHex(conv.peerFingerprint!), peer.fingerprint);
}

test('the libotr peer builds against libotr5-dev (npm test installs .ci/apt-packages)', () => {
  assert.ok(built.ok, `building test/interop/peer.c failed:\n${built.output}`);
});

test('AKE started by libotr: we send a query, libotr commits, both encrypted with the same ssid', async () => {
  const { conv, peer, log } = await secure('libotr');
  try {
    checkSecure(conv, peer, log, false);
    // Instance tags: libotr's messages carried its tag, ours carried ours.
    assert.is(conv.state.theirTag, peer.instanceTag);
  } finally {
    await peer.close();
  }
});

test('AKE started by us: libotr queries, we commit; messages both ways across many key rotations', async () => {
  const { conv, peer, log } = await secure('us');
  try {
    checkSecure(conv, peer, log, true);
    const sent: string[] = [];
    const received: string[] = [];
    for (let i = 0; i < 12; i++) {
      // Alternate single messages with bursts, so keys rotate in every pattern.
      const burst = i % 3 === 0 ? 3 : 1;
      for (let j = 0; j < burst; j++) {
        const text = `from us ${i}.${j} — ünïcödé ✓`;
        sent.push(text);
        await exchange(conv, peer, conv.send(text).toSend, [], log);
      }
      const reply = `from libotr ${i} <b>html</b>`;
      received.push(reply);
      await peerCmd(conv, peer, 'send ' + reply, log);
    }
    assert.equal(log.peerUser, sent);
    assert.equal(log.tsUser, received);
    assert.ok(conv.state.keys!.ourKeyid > 10, 'our keys rotated');
    assert.not.ok(log.peerEvents.some((e) => e.startsWith('msg ')), `libotr reported: ${log.peerEvents.join(' | ')}`);
    // Revealed MAC keys went out in our data messages (libotr ignores them, but they must parse).
    assert.ok(conv.state.keys!.theirKeyid > 10);
  } finally {
    await peer.close();
  }
});

test('whitespace-tagged plaintext makes libotr start the AKE', async () => {
  const peer = await LibotrPeer.start();
  const conv = new V3Conversation(options({ policy: { sendWhitespaceTag: true } }));
  const log = newLog();
  try {
    await exchange(conv, peer, conv.send('hello in the clear').toSend, [], log);
    assert.equal(log.peerUser, ['hello in the clear']);
    checkSecure(conv, peer, log, false);
  } finally {
    await peer.close();
  }
});

test('forced fragmentation both ways (libotr mms 140, ours 120)', async () => {
  const { conv, peer, log } = await secure('libotr', { fragmentSize: 120 });
  try {
    await peer.cmd('mms 140');
    const long = (tag: string): string => Array.from({ length: 40 }, (_, i) => `${tag}-${i}`).join(' ');
    const ours = conv.send(long('ours'));
    assert.ok(ours.toSend.length > 3 && ours.toSend.every((f) => f.length <= 120 && f.startsWith('?OTR|')));
    await exchange(conv, peer, ours.toSend, [], log);
    assert.equal(log.peerUser, [long('ours')]);
    const o = await peer.cmd('send ' + long('theirs'));
    assert.ok(o.send.length > 3 && o.send.every((f) => f.startsWith('?OTR|')), 'libotr fragmented');
    await exchange(conv, peer, [], o.send, log);
    assert.equal(log.tsUser, [long('theirs')]);
  } finally {
    await peer.close();
  }
});

test('SMP with a question, both directions, matching and mismatching answers', async () => {
  const { conv, peer, log } = await secure('us');
  try {
    // We ask, libotr answers correctly.
    await exchange(conv, peer, conv.startSmp('the blue whale', 'Where did we meet?').toSend, [], log);
    assert.ok(log.peerEvents.includes('smp ask_answer Where did we meet?'), log.peerEvents.join(' | '));
    await peerCmd(conv, peer, 'smpans the blue whale', log);
    assert.ok(log.peerEvents.includes('smp success '), log.peerEvents.join(' | '));
    assert.equal(ofType(log, 'smpResult').map((e) => e.success), [true]);

    // We ask, libotr answers wrongly.
    await exchange(conv, peer, conv.startSmp('the blue whale', 'Again?').toSend, [], log);
    await peerCmd(conv, peer, 'smpans the red herring', log);
    assert.ok(log.peerEvents.includes('smp failure '), log.peerEvents.join(' | '));
    assert.equal(ofType(log, 'smpResult').map((e) => e.success), [true, false]);

    // libotr asks, we answer correctly, then wrongly.
    for (const [answer, expected] of [
      ['mellon', true],
      ['wrong', false],
    ] as const) {
      await peerCmd(conv, peer, 'smpq Speak friend\tmellon', log);
      const req = ofType(log, 'smpRequest').pop();
      assert.is(req?.question, 'Speak friend');
      await exchange(conv, peer, conv.respondSmp(answer).toSend, [], log);
      assert.is(ofType(log, 'smpResult').pop()?.success, expected);
      assert.ok(log.peerEvents.includes(expected ? 'smp success ' : 'smp failure '));
    }
    assert.not.ok(log.peerEvents.some((e) => e.startsWith('smp cheated') || e.startsWith('smp error')));
  } finally {
    await peer.close();
  }
});

test('extra symmetric key: both sides derive the same key, in both directions', async () => {
  const { conv, peer, log } = await secure('libotr');
  try {
    await exchange(conv, peer, conv.send('warm up').toSend, [], log);
    const use = conv.useExtraKey(0x1234, hexToBytes('cafe01'));
    assert.ok(use.key && use.key.length === 32);
    await exchange(conv, peer, use.toSend, [], log);
    assert.ok(log.peerEvents.includes(`symkey ${0x1234} cafe01 ${bytesToHex(use.key!)}`), log.peerEvents.join(' | '));

    const o = await peer.cmd('symkey 7 0badf00d');
    const theirKey = o.other.find((l) => l.startsWith('symkey '))?.slice(7);
    assert.ok(theirKey, o.other.join(' | '));
    await exchange(conv, peer, [], o.send, log);
    const ev = ofType(log, 'extraKey').pop();
    assert.is(ev?.use, 7);
    assert.is(bytesToHex(ev!.useData), '0badf00d');
    assert.is(bytesToHex(ev!.key), theirKey);
  } finally {
    await peer.close();
  }
});

test('heartbeats, persistence mid-conversation (JS backend after restore), and ending from either side', async () => {
  const { conv, peer, log } = await secure('us');
  try {
    await peerCmd(conv, peer, 'send before', log);
    // Restore our side from bytes, with the other backend, and carry on.
    const restored = V3Conversation.restore(options({ backend: JS }), conv.serialize());
    await exchange(restored, peer, restored.send('after restore').toSend, [], log);
    clock += 120_000; // long silence: our next receipt answers with a heartbeat
    await peerCmd(restored, peer, 'send wake up', log);
    assert.equal(log.tsUser, ['before', 'wake up']);
    assert.equal(log.peerUser, ['after restore']);
    assert.ok(log.peerEvents.some((e) => e.startsWith('msg 10 ')), `libotr saw no heartbeat: ${log.peerEvents.join(' | ')}`);

    // libotr ends: we go to FINISHED and refuse to send.
    await peerCmd(restored, peer, 'end', log);
    assert.is(restored.msgstate, 'finished');
    assert.ok(ofType(log, 'finished').length === 1);
    assert.equal(restored.send('too late').toSend, []);
    restored.end();
    assert.is(restored.msgstate, 'plaintext');

    // New AKE, then we end: libotr moves to FINISHED (msgstate 2).
    await exchange(restored, peer, restored.start().toSend, [], log);
    assert.is(restored.msgstate, 'encrypted');
    await exchange(restored, peer, restored.end().toSend, [], log);
    const st = await peer.cmd('status');
    assert.ok(st.other[0]?.startsWith('status 2 '), st.other.join(' | '));
  } finally {
    await peer.close();
  }
});

test("our disconnect reveals the MAC keys of libotr's messages under the key pairs in use: libotr reads it and finishes", async () => {
  const { conv, peer, log } = await secure('libotr');
  try {
    await peerCmd(conv, peer, 'send one', log);
    await peerCmd(conv, peer, 'send two', log);
    assert.equal(log.tsUser, ['one', 'two']);
    const bye = conv.end().toSend;
    assert.is(bye.length, 1);
    // libotr's two messages, under one key pair: their MAC key is in our disconnect (session 15).
    const theirs = dataMessages(log.peerWire);
    assert.ok(theirs.length >= 2);
    assert.ok(theirs.every((m) => v3RevealedIn(WASM, bye, m)), 'every message of libotr is authenticated by a revealed key');
    await exchange(conv, peer, bye, [], log);
    const st = await peer.cmd('status');
    assert.ok(st.other[0]?.startsWith('status 2 '), st.other.join(' | '));
  } finally {
    await peer.close();
  }
});

test("libotr ends: we keep the MAC keys of its last messages and our next session's first data message publishes them; libotr reads it", async () => {
  const { conv, peer, log } = await secure('libotr');
  try {
    await peerCmd(conv, peer, 'send one', log);
    await peerCmd(conv, peer, 'send two', log);
    await peerCmd(conv, peer, 'end', log);
    assert.is(conv.msgstate, 'finished');
    // Every data message libotr sent in that session (its disconnect among them).
    const old = dataMessages(log.peerWire);
    assert.ok(old.length >= 3);
    // A new session (libotr commits again), then our first data message.
    await exchange(conv, peer, conv.start().toSend, [], log);
    assert.is(conv.msgstate, 'encrypted');
    const hello = conv.send('hello again').toSend;
    assert.is(hello.length, 1);
    assert.ok(old.every((m) => v3RevealedIn(WASM, hello, m)), 'every message of the ended session is authenticated by a key our message publishes');
    await exchange(conv, peer, hello, [], log);
    assert.is(log.peerUser.at(-1), 'hello again', `libotr did not read it: ${log.peerEvents.join(' | ')}`);
    const st = await peer.cmd('status');
    assert.ok(st.other[0]?.startsWith('status 1 '), st.other.join(' | '));
  } finally {
    await peer.close();
  }
});

test.run();
