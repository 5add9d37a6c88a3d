/**
 * Review (session 15) of session 14's deniability changes, as a hostile peer and a third party who records the
 * wire would attack them: OTRv4's `inheritMacKeys` (a new DAKE on a live session hands the old session's MAC
 * keys to the new one, which reveals them) and `sayGoodbye` (end(), expiry, an offline start after an online
 * session reveal the stored skipped keys' MAC keys too), and OTRv3's `keepNewest` / `inheritRevealsV3`.
 *
 * The danger of revealing a MAC key is the converse of the deniability it buys: once revealed, ANYONE can
 * authenticate a message under it. So a key may be revealed only when no message under it can be accepted any
 * more. These tests take each revealed key from the wire (the forger's own tool, otr4/forge) and use it: the
 * genuine message replayed, and the message altered and re-MACed with the revealed key, are delivered to the
 * party that revealed it — never shown, the session intact. They also pin what the changes must keep: the queue
 * bounded by maxMacKeysToReveal however many sessions are replaced (so the record stays restorable), and the
 * keys to reveal byte-identical across a save and restore.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Outcome } from '../../ts/index.js';
import { Conversation } from '../../ts/session/conversation.js';
import { findMacKey, modifyDataMessage } from '../../ts/forge/index.js';
import { WASM } from '../helpers/backends.js';
import { ALICE_ID, BOB_ID, establish, makePair, type Pair } from '../helpers/session-pair.js';
import { prekeyWorld } from '../helpers/prekey-world.js';
import { fetchEnsembles, runServerRequest } from '../../ts/prekey-server/index.js';
import { bytesToHex } from '../../ts/bytes.js';
import { encryptedPair, pump as pumpV3, type Side } from '../interop/v3-pair.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { hmacSha1 } from '../../ts/v3/crypto.js';
import { type DataMsg, decodeMessage, encodeDataAuthenticated, encodeMessage } from '../../ts/v3/messages.js';
import { V3Conversation } from '../../ts/v3/index.js';
import { dhKeyPairV3 } from '../../ts/v3/group.js';
import { seededRandom } from '../helpers/rng.js';

const be = WASM;

// ---- OTRv4 ----------------------------------------------------------------------------------------------

/** Bob's side of the wire: everything he sends is recorded (the forger's material) and delivered to Alice. */
function recorder(p: Pair) {
  const sent: string[] = [];
  const deliver = (strings: readonly string[], toBob: boolean): void => {
    let q = strings.map((text) => ({ toBob, text }));
    for (let guard = 0; q.length; guard++) {
      if (guard > 100) throw new Error('did not settle');
      const next: typeof q = [];
      for (const m of q) {
        if (!m.toBob) sent.push(m.text);
        const r = (m.toBob ? p.b : p.a).receive(m.text);
        for (const t of r.toSend) next.push({ toBob: !m.toBob, text: t });
      }
      q = next;
    }
  };
  return { sent, bobSays: (o: Outcome) => deliver(o.toSend, false), toBob: (s: readonly string[]) => deliver(s, true) };
}

/** Alice writes m1, m2, m3 after a round trip; Bob reads m1 and m3 (m2 held back: a stored skipped key). */
function heldBack(seed: number) {
  const p = makePair(be, seed);
  establish(p);
  const w = recorder(p);
  w.bobSays(p.b.send('hello'));
  const one = (t: string) => p.a.send(t).toSend[0]!;
  const m = { m1: one('one'), m2: one('two'), m3: one('three') };
  w.toBob([m.m1, m.m3]);
  return { p, w, m };
}

/** Delivers `wire` straight to Bob (an injection: nothing of his answer goes anywhere) and returns what he showed. */
function injectToBob(p: Pair, wire: string): string[] {
  return p.b.receive(wire).messages.map((x) => x.text);
}

/** Every old message and a forgery made with its revealed key: none is shown to Bob. */
function assertNothingForgeable(p: Pair, sent: readonly string[], m: Record<string, string>, texts: Record<string, string>): number {
  let forged = 0;
  for (const [name, wire] of Object.entries(m)) {
    assert.equal(injectToBob(p, wire), [], `${name} replayed after its key was revealed`);
    const key = findMacKey(be, wire, sent);
    if (!key) continue;
    const text = texts[name]!;
    const fake = modifyDataMessage(be, wire, { offset: 0, oldText: text, newText: 'X'.repeat(text.length), macKey: key });
    assert.equal(injectToBob(p, fake), [], `${name} altered and re-MACed with its revealed key`);
    forged++;
  }
  return forged;
}

const TEXTS = { m1: 'one', m2: 'two', m3: 'three' };

test('OTRv4, a new DAKE replaces the session: no old message, genuine or re-MACed with its revealed key, is accepted', () => {
  const { p, w, m } = heldBack(1501);
  // Before anything is revealed: the old session's keys are gone, m2 (whose key was stored) is not read.
  w.toBob(p.a.startDake().toSend);
  assert.equal(injectToBob(p, m.m2), [], 'm2 read after its session was replaced');
  // The new session runs until Bob's queue (the old keys with it) is on the wire.
  w.bobSays(p.b.send('new'));
  w.toBob(p.a.send('yes').toSend);
  w.bobSays(p.b.send('again'));
  assert.is(assertNothingForgeable(p, w.sent, m, TEXTS), 3, 'all three keys were revealed (s14-deny) and used');
  // The new session is intact: Alice's next message is read.
  const r = p.b.receive(p.a.send('still here').toSend[0]!);
  assert.equal(r.messages.map((x) => x.text), ['still here']);
});

test('OTRv4, end() and expiry: the keys the disconnect reveals authenticate nothing Bob accepts afterwards', () => {
  for (const how of ['end', 'expiry'] as const) {
    const { p, w, m } = heldBack(how === 'end' ? 1502 : 1503);
    if (how === 'end') w.bobSays(p.b.end());
    else {
      p.clock.advance(p.bob.policy.sessionExpiryMs);
      w.bobSays(p.b.poll());
    }
    assert.is(assertNothingForgeable(p, w.sent, m, TEXTS), 3, how);
  }
});

test('OTRv4, an offline start after an online session: the goodbye reveals every key, none is usable after', async () => {
  const { p, w, m } = heldBack(1504);
  // Alice publishes prekeys; Bob, with the online session up (m2's key stored), starts an offline one with them.
  const { transport, info } = prekeyWorld(be, 1504);
  const pub = await runServerRequest(be, p.alice.random, transport(ALICE_ID), p.alice.prekeyServerLocal(ALICE_ID), info, p.alice.prekeyPublication(1));
  assert.equal(pub, { kind: 'success' });
  const f = await fetchEnsembles(transport(BOB_ID), p.bob.instanceTag, ALICE_ID);
  if (f.kind !== 'ensembles') throw new Error('no ensembles');
  w.bobSays(p.b.sendOffline(f.ensembles, 'offline now'));
  assert.is(assertNothingForgeable(p, w.sent, m, TEXTS), 3, "the goodbye revealed the three keys (s14-deny's sayGoodbye)");
});

/** Bob's instance for Alice's tag (white-box: the ratchet's queue of MAC keys to reveal). */
function bobsQueue(c: Conversation): string {
  const insts = [...(c as unknown as { instances: Map<number, { ratchet: { macKeysToReveal: Uint8Array } | null }> }).instances.values()];
  return insts.map((i) => (i.ratchet ? bytesToHex(i.ratchet.macKeysToReveal) : '-')).join('|');
}

test('OTRv4: the keys a replaced session handed on are byte-identical after a save and restore', () => {
  const { p, w } = heldBack(1505);
  w.toBob(p.a.startDake().toSend);
  const before = bobsQueue(p.b);
  assert.is(before.length, 3 * 128, 'three inherited keys queued (m1 and m3 read, m2 stored)');
  const restored = Conversation.fromState(p.bob as never, p.b.peerId ?? BOB_ID, p.b.toState());
  assert.is(bobsQueue(restored), before);
});

test('OTRv4: sessions replaced again and again, each with keys to hand on, keep the queue at maxMacKeysToReveal', () => {
  const cap = 8;
  const p = makePair(be, 1506, { limits: { maxMacKeysToReveal: cap } });
  establish(p);
  const w = recorder(p);
  for (let round = 0; round < 6; round++) {
    w.bobSays(p.b.send(`round ${round}`));
    const sent = [0, 1, 2, 3, 4].map((i) => p.a.send(`r${round} m${i}`).toSend[0]!);
    w.toBob([sent[4]!]); // four stored skipped keys and one read: five keys to hand on
    w.toBob(p.a.startDake().toSend);
    const held = bobsQueue(p.b).length / 128;
    assert.ok(held <= cap, `round ${round}: ${held} keys queued, cap ${cap}`);
    Conversation.fromState(p.bob as never, p.b.peerId ?? BOB_ID, p.b.toState());
  }
});

// ---- OTRv3 ----------------------------------------------------------------------------------------------

const data = (wire: string): DataMsg => decodeMessage(dearmour(wire)) as DataMsg;

/** The 20-byte keys `sent` reveals. */
function revealedV3(sent: readonly string[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const w of sent) {
    let d: DataMsg;
    try {
      d = data(w);
    } catch {
      continue;
    }
    if (d.type !== 3 || !d.oldMacKeys) continue;
    for (let o = 0; o < d.oldMacKeys.length; o += 20) out.push(d.oldMacKeys.subarray(o, o + 20));
  }
  return out;
}

/** `wire` with its first ciphertext byte flipped and MACed again under `key`. */
function remacV3(wire: string, key: Uint8Array): string {
  const m = data(wire);
  const encMsg = m.encMsg.slice();
  encMsg[0]! ^= 0x20;
  const fields = { ...m, encMsg };
  const mac = hmacSha1(be, key, encodeDataAuthenticated(fields)).subarray(0, 20);
  return armour(encodeMessage({ ...fields, mac, authenticated: encodeDataAuthenticated(fields) }));
}

function keyOf(keys: readonly Uint8Array[], wire: string): Uint8Array | undefined {
  const m = data(wire);
  return keys.find((k) => bytesToHex(hmacSha1(be, k, m.authenticated).subarray(0, 20)) === bytesToHex(m.mac));
}

/** What `to` shows for `wire` delivered straight (its answers dropped). */
const showV3 = (to: Side, wire: string): string[] => to.conv.receive(wire).toUser;

test('OTRv3, keys retired in a running session and handed on by a refresh: nothing under them is accepted once revealed', () => {
  const { a, b } = encryptedPair(be, {}, 1507);
  const bobSent: string[] = [];
  const bobSays = (s: string[]) => {
    bobSent.push(...s);
    pumpV3(b, a, s);
  };
  const m1 = a.conv.send('one').toSend[0]!;
  pumpV3(a, b, [m1]);
  bobSays(b.conv.send('ack').toSend);
  const m2 = a.conv.send('two').toSend[0]!;
  pumpV3(a, b, [m2]); // retires the pair m1 used: its key waits for Bob's next message
  const m3 = a.conv.send('three').toSend[0]!;
  pumpV3(a, b, [m3]);
  // A refresh: the keys m2 and m3 verified are handed to the new keys (s14-deny), then revealed.
  pumpV3(a, b, a.conv.start().toSend);
  bobSays(b.conv.send('after').toSend);
  const keys = revealedV3(bobSent);
  let forged = 0;
  for (const [name, wire] of Object.entries({ m1, m2, m3 })) {
    assert.equal(showV3(b, wire), [], `${name} replayed`);
    const k = keyOf(keys, wire);
    if (!k) continue;
    assert.equal(showV3(b, remacV3(wire, k)), [], `${name} re-MACed with its revealed key`);
    forged++;
  }
  assert.is(forged, 3, 'the three keys were revealed and tried');
  // The refreshed session is intact.
  const r = b.conv.receive(a.conv.send('still').toSend[0]!);
  assert.equal(r.toUser, ['still']);
  assert.is(b.conv.msgstate, 'encrypted');
});

/** Hostile Alice: advances her own key as if Bob had acknowledged it (one retired key of his per message). */
function advanceAlice(a: Side, rnd: ReturnType<typeof seededRandom>): void {
  const keys = a.conv.state.keys!;
  keys.ourPrev = keys.ourCur;
  keys.ourCur = dhKeyPairV3(be, rnd);
  keys.ourKeyid++;
}

test('OTRv3: the keys to reveal stay within the cap across many retires and refreshes, and restore byte-identical', () => {
  for (const cap of [0, 1, 3]) {
    const { a, b } = encryptedPair(be, { limits: { maxMacKeysToReveal: cap } }, 1508 + cap);
    const rnd = seededRandom(cap);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 6; i++) {
        for (const m of a.conv.send(`r${round} m${i}`).toSend) b.conv.receive(m);
        advanceAlice(a, rnd);
      }
      pumpV3(a, b, a.conv.start().toSend); // a refresh hands the keys on
      const pending = b.conv.state.keys!.pendingReveal;
      assert.ok(pending.length <= Math.max(1, cap) * 20, `cap ${cap}, round ${round}: ${pending.length / 20} keys`);
      const restored = V3Conversation.restore(b.opts, b.conv.serialize());
      assert.is(bytesToHex(restored.state.keys!.pendingReveal), bytesToHex(pending), `cap ${cap}: byte-identical after restore`);
    }
  }
});

test.run();
