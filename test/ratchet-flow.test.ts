/**
 * The double ratchet end to end between two in-process parties (ts/ratchet/): alternating senders, long
 * one-way runs, out-of-order and late delivery, maxSkip, replays, forgeries (state unchanged byte for byte),
 * revealed MAC keys, the stored-key bound and age expiry. Runs once per backend.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CryptoBackend } from '../ts/backend/types.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRatchetPair } from './helpers/ratchet-pair.js';
import { kdf } from '../ts/crypto/kdf.js';
import { Usage } from '../ts/crypto/usage.js';
import { bytesToHex, equalBytes, utf8, fromUtf8 } from '../ts/bytes.js';
import { OtrCryptoError, OtrDecodeError, OtrError, OtrLimitError, OtrStateError } from '../ts/errors.js';
import { DEFAULT_LIMITS } from '../ts/limits.js';
import { decodeDataMessage, splitRevealedMacs } from '../ts/wire/data.js';
import { macKeyCount } from '../ts/ratchet/mac-queue.js';
import {
  decryptDataMessage,
  encryptDataMessage,
  expireSkippedKeys,
  isDhStep,
  wipeRatchetState,
  type RatchetLimits,
  type RatchetState,
} from '../ts/ratchet/index.js';

const ALICE_TAG = 0x101;
const BOB_TAG = 0x202;

/** Every byte and number of a state, so "unchanged" means byte for byte. */
function snapshot(s: RatchetState): string {
  return JSON.stringify(s, (_k, v) => (v instanceof Uint8Array ? 'hex:' + bytesToHex(v) : v));
}

interface Party {
  name: string;
  state: RatchetState;
  tag: number;
  peerTag: number;
}

function makePair(b: CryptoBackend, seed: number): { alice: Party; bob: Party; rnd: (n: number) => Uint8Array } {
  const { alice, bob, rnd } = seededRatchetPair(b, seed);
  return {
    alice: { name: 'alice', state: alice, tag: ALICE_TAG, peerTag: BOB_TAG },
    bob: { name: 'bob', state: bob, tag: BOB_TAG, peerTag: ALICE_TAG },
    rnd,
  };
}

function send(b: CryptoBackend, rnd: (n: number) => Uint8Array, p: Party, text: string, revealAll = false): { bytes: Uint8Array; esk: Uint8Array } {
  const r = encryptDataMessage(b, rnd, p.state, utf8(text), { senderTag: p.tag, receiverTag: p.peerTag, revealAll, extraKey: true });
  p.state = r.state;
  return { bytes: r.message, esk: r.esk! };
}

function recv(b: CryptoBackend, p: Party, bytes: Uint8Array, now = 0, limits?: RatchetLimits): { text: string; esk: Uint8Array; source: string } {
  const r = decryptDataMessage(b, p.state, decodeDataMessage(bytes), { now, limits, extraKey: true });
  p.state = r.state;
  return { text: fromUtf8(r.plaintext), esk: r.esk!, source: r.source };
}

/** Receiving `bytes` must throw `cls` (with `code` if given) and leave the state exactly as it was. */
function rejects(b: CryptoBackend, p: Party, bytes: Uint8Array, cls: new (...a: any[]) => OtrError, code?: string, now = 0, limits?: RatchetLimits): void {
  const before = snapshot(p.state);
  const state = p.state;
  try {
    decryptDataMessage(b, state, decodeDataMessage(bytes), { now, limits });
    assert.unreachable('message was accepted');
  } catch (e) {
    if (!(e instanceof cls)) throw e;
    if (code) assert.is((e as OtrError).code, code);
  }
  assert.is(p.state, state);
  assert.is(snapshot(p.state), before, 'state changed by a rejected message');
}

for (const b of BACKENDS) {
  const t = suite(`ratchet flow [${b.name}]`);

  t('Alice may send first on the seeded chain; Bob may send first, his first sending step made by that message', () => {
    const { alice, bob, rnd } = makePair(b, 1);
    assert.is(alice.state.i, 0);
    // Bob's first sending step is left due by init.ts (made when he first sends): i = 0, no sending chain.
    assert.equal([bob.state.i, bob.state.sendingStepDue, bob.state.sendChain, bob.state.recvRatchetId], [0, true, null, 0]);
    const m = send(b, rnd, alice, 'hello from alice');
    const h = decodeDataMessage(m.bytes);
    assert.is(h.ratchetId, 0);
    assert.is(h.messageId, 0);
    assert.ok(h.dh.length > 0, 'ratchet id 0 carries the DH key');
    const r = recv(b, bob, m.bytes);
    assert.is(r.text, 'hello from alice');
    assert.ok(equalBytes(r.esk, m.esk), 'both ends derive the same extra symmetric key');

    const p2 = makePair(b, 2);
    const m2 = send(b, p2.rnd, p2.bob, 'hello from bob');
    assert.is(decodeDataMessage(m2.bytes).ratchetId, 0);
    assert.equal([p2.bob.state.i, p2.bob.state.j, p2.bob.state.sendingStepDue], [1, 1, false]);
    assert.is(recv(b, p2.alice, m2.bytes).text, 'hello from bob');
  });

  t("Bob's due first step: Alice's ratchet-0 messages before and after it arrive on the chain, and it reveals no MAC keys (as the step at initialisation could not)", () => {
    const { alice, bob, rnd } = makePair(b, 11);
    const early = [send(b, rnd, alice, 'a0'), send(b, rnd, alice, 'a1'), send(b, rnd, alice, 'a2')];
    assert.is(recv(b, bob, early[0]!.bytes).source, 'chain');
    assert.is(recv(b, bob, early[2]!.bytes).source, 'chain'); // a1's key is stored as skipped
    assert.is(bob.state.i, 0, 'receiving on chain 0 does not make the step');
    const m = send(b, rnd, bob, 'b0');
    const h = decodeDataMessage(m.bytes);
    assert.equal([h.ratchetId, h.messageId, h.previousChainLength, h.revealedMacs.length], [0, 0, 0, 0]);
    assert.ok(h.dh.length > 0, 'the step at i = 0 is a DH step');
    // After the step, Alice's late ratchet-0 message still opens (from the skipped store).
    assert.is(recv(b, bob, early[1]!.bytes).text, 'a1');
    assert.is(recv(b, alice, m.bytes).text, 'b0');
    // The MAC keys Bob queued go with his next new sending chain, as before.
    const a = send(b, rnd, alice, 'a3');
    assert.is(decodeDataMessage(a.bytes).ratchetId, 1);
    assert.is(recv(b, bob, a.bytes).source, 'new-ratchet');
    const m2 = decodeDataMessage(send(b, rnd, bob, 'b1').bytes);
    assert.equal([m2.ratchetId, m2.messageId], [2, 0]);
    assert.ok(m2.revealedMacs.length >= 3 * 64, 'the three ratchet-0 MAC keys (and a3\'s) are revealed now');
  });

  t("Bob's due first step: a message of a ratchet Alice cannot have made yet is refused, Bob's state unchanged", () => {
    const { alice, bob, rnd } = makePair(b, 12);
    // Alice's ratchet 1 exists only after she received Bob's first message; forge the order by stepping a copy.
    const p = makePair(b, 12);
    const fromBob = send(b, p.rnd, p.bob, 'b0');
    recv(b, p.alice, fromBob.bytes);
    const ahead = send(b, p.rnd, p.alice, 'ratchet 1');
    assert.is(decodeDataMessage(ahead.bytes).ratchetId, 1);
    rejects(b, bob, ahead.bytes, OtrStateError);
    void alice;
    void rnd;
  });

  t('alternating senders: a new ratchet every message, DH keys exactly every third ratchet', () => {
    const { alice, bob, rnd } = makePair(b, 3);
    let expectId = 0;
    for (let n = 0; n < 14; n++) {
      const [from, to] = n % 2 === 0 ? [bob, alice] : [alice, bob];
      const text = `message ${n} from ${from.name}`;
      const m = send(b, rnd, from, text);
      const h = decodeDataMessage(m.bytes);
      assert.is(h.ratchetId, expectId, `ratchet id of message ${n}`);
      assert.is(h.messageId, 0);
      assert.is(h.dh.length > 0, isDhStep(h.ratchetId), 'DH key present iff ratchet id % 3 == 0');
      if (h.ratchetId > 0) assert.ok(h.revealedMacs.length >= 64, 'first message of a new ratchet reveals MAC keys');
      const r = recv(b, to, m.bytes);
      assert.is(r.text, text);
      assert.is(r.source, 'new-ratchet');
      expectId++;
    }
    assert.is(alice.state.i, bob.state.i);
  });

  t('long one-way runs and replies', () => {
    const { alice, bob, rnd } = makePair(b, 4);
    for (let round = 0; round < 3; round++) {
      for (let n = 0; n < 40; n++) assert.is(recv(b, bob, send(b, rnd, alice, `a${round}.${n}`).bytes).text, `a${round}.${n}`);
      for (let n = 0; n < 25; n++) assert.is(recv(b, alice, send(b, rnd, bob, `b${round}.${n}`).bytes).text, `b${round}.${n}`);
    }
    assert.is(alice.state.skipped.length, 0);
    assert.is(bob.state.skipped.length, 0);
  });

  t('out-of-order delivery within maxSkip, across a ratchet boundary; each key used once', () => {
    const { alice, bob, rnd } = makePair(b, 5);
    // Bob speaks first so that Alice's messages below are on a stepped chain.
    recv(b, alice, send(b, rnd, bob, 'hi').bytes);
    const batch1 = Array.from({ length: 8 }, (_, n) => ({ text: `x${n}`, bytes: send(b, rnd, alice, `x${n}`).bytes }));
    // Bob receives 5 first (skipping 0..4), then replies; Alice answers with a new ratchet.
    assert.is(recv(b, bob, batch1[5]!.bytes).text, 'x5');
    assert.is(bob.state.skipped.length, 5);
    recv(b, alice, send(b, rnd, bob, 'reply').bytes);
    const batch2 = Array.from({ length: 3 }, (_, n) => ({ text: `y${n}`, bytes: send(b, rnd, alice, `y${n}`).bytes }));
    // The new ratchet arrives before the rest of the old one: pn = 8, so keys 6 and 7 are stored too.
    assert.is(recv(b, bob, batch2[1]!.bytes).text, 'y1');
    assert.is(bob.state.skipped.length, 5 + 2 + 1);
    for (const n of [7, 0, 3, 1, 6, 2, 4]) {
      const r = recv(b, bob, batch1[n]!.bytes);
      assert.is(r.text, `x${n}`);
      assert.is(r.source, 'skipped');
    }
    assert.is(recv(b, bob, batch2[0]!.bytes).text, 'y0');
    assert.is(recv(b, bob, batch2[2]!.bytes).text, 'y2');
    assert.is(bob.state.skipped.length, 0);
    // Every one of those keys was single-use.
    for (const m of [...batch1, ...batch2]) rejects(b, bob, m.bytes, OtrStateError, 'STATE');
  });

  t('a message that would skip more than maxSkip keys is rejected without changing the state', () => {
    const { alice, bob, rnd } = makePair(b, 6);
    const limits: RatchetLimits = { ...DEFAULT_LIMITS, maxSkip: 5 };
    const msgs = Array.from({ length: 8 }, (_, n) => send(b, rnd, alice, `m${n}`).bytes);
    rejects(b, bob, msgs[6]!, OtrLimitError, 'LIMIT_EXCEEDED', 0, limits);
    rejects(b, bob, msgs[7]!, OtrLimitError, 'LIMIT_EXCEEDED', 0, limits);
    assert.is(recv(b, bob, msgs[5]!, 0, limits).text, 'm5'); // exactly maxSkip skipped: allowed
    assert.is(recv(b, bob, msgs[7]!, 0, limits).text, 'm7');
  });

  t("maxSkip counts the old chain's unreceived tail plus the new chain's skipped keys", () => {
    const { alice, bob, rnd } = makePair(b, 61);
    const limits: RatchetLimits = { ...DEFAULT_LIMITS, maxSkip: 5 };
    for (let n = 0; n < 4; n++) send(b, rnd, alice, `lost${n}`); // ratchet 0, never delivered
    recv(b, alice, send(b, rnd, bob, 'r').bytes, 0, limits);
    const t = Array.from({ length: 4 }, (_, n) => send(b, rnd, alice, `t${n}`).bytes); // ratchet 1, pn = 4
    assert.is(decodeDataMessage(t[0]!).previousChainLength, 4);
    rejects(b, bob, t[3]!, OtrLimitError, 'LIMIT_EXCEEDED', 0, limits); // 4 + 3 > 5
    rejects(b, bob, t[2]!, OtrLimitError, 'LIMIT_EXCEEDED', 0, limits); // 4 + 2 > 5
    assert.is(recv(b, bob, t[1]!, 0, limits).text, 't1'); // 4 + 1 = 5
    assert.is(bob.state.skipped.length, 5);
    assert.is(recv(b, bob, t[3]!, 0, limits).text, 't3');
  });

  t('replayed and duplicate messages are rejected with a typed error, state unchanged', () => {
    const { alice, bob, rnd } = makePair(b, 7);
    const m0 = send(b, rnd, alice, 'once').bytes;
    recv(b, bob, m0);
    rejects(b, bob, m0, OtrStateError, 'STATE');
    const r0 = send(b, rnd, bob, 'reply').bytes;
    recv(b, alice, r0);
    rejects(b, alice, r0, OtrStateError, 'STATE'); // a replayed new-ratchet message: no receiving step due
    const m1 = send(b, rnd, alice, 'again').bytes;
    recv(b, bob, m1);
    rejects(b, bob, m1, OtrStateError, 'STATE');
    rejects(b, bob, m0, OtrStateError, 'STATE'); // from a chain that is gone
  });

  t('forged header, ciphertext or authenticator: rejected, state byte-for-byte unchanged', () => {
    const { alice, bob, rnd } = makePair(b, 8);
    recv(b, alice, send(b, rnd, bob, 'start').bytes);
    const good = send(b, rnd, alice, 'the real message').bytes; // a new ratchet for Bob
    const goodSame = send(b, rnd, alice, 'second on the chain').bytes;
    const authLen = decodeDataMessage(good).authenticated.length;
    // Bytes 11.. (flags onwards) through the authenticator; flipping the revealed-MAC DATA is not authenticated.
    const positions = [11, 12, 16, 20, 24, 30, 80, 84, authLen - 1, authLen + 5, authLen + 63];
    for (const msg of [good, goodSame]) {
      const len = decodeDataMessage(msg).authenticated.length;
      for (const pos of positions) {
        const at = pos >= authLen ? len + (pos - authLen) : Math.min(pos, len - 1);
        const forged = msg.slice();
        forged[at]! ^= 0x04;
        let decoded;
        try {
          decoded = decodeDataMessage(forged);
        } catch (e) {
          assert.instance(e, OtrError); // a structural break is also a typed rejection
          continue;
        }
        const before = snapshot(bob.state);
        try {
          decryptDataMessage(b, bob.state, decoded, { now: 0 });
          assert.unreachable(`forgery at byte ${at} accepted`);
        } catch (e) {
          assert.instance(e, OtrError, `byte ${at}: ${(e as Error).message}`);
        }
        assert.is(snapshot(bob.state), before, `state changed by a forgery at byte ${at}`);
      }
    }
    // A forged authenticator on an otherwise perfect message is specifically BAD_MAC.
    const forged = good.slice();
    forged[authLen + 10]! ^= 1;
    rejects(b, bob, forged, OtrCryptoError, 'BAD_MAC');
    assert.is(recv(b, bob, good).text, 'the real message');
    assert.is(recv(b, bob, goodSame).text, 'second on the chain');
  });

  t('every single-bit flip of a data message is rejected with a typed error, the state unchanged', () => {
    const { alice, bob, rnd } = makePair(b, 15);
    recv(b, alice, send(b, rnd, bob, 'b').bytes);
    recv(b, bob, send(b, rnd, alice, 'a0').bytes); // Bob is now on Alice's ratchet 1
    const msg = send(b, rnd, alice, 'a1: the message under attack').bytes;
    assert.is(decodeDataMessage(msg).revealedMacs.length, 0, 'no unauthenticated revealed-MAC bytes to flip');
    const before = snapshot(bob.state);
    const m = msg.slice();
    let rejected = 0;
    for (let i = 0; i < m.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        m[i]! ^= 1 << bit;
        try {
          decryptDataMessage(b, bob.state, decodeDataMessage(m), { now: 0 });
          assert.unreachable(`flip of byte ${i} bit ${bit} accepted`);
        } catch (e) {
          if (!(e instanceof OtrError)) throw e;
          rejected++;
        }
        m[i]! ^= 1 << bit;
      }
    }
    assert.is(rejected, msg.length * 8);
    assert.is(snapshot(bob.state), before);
    assert.is(recv(b, bob, msg).text, 'a1: the message under attack');
  });

  t('structural rules: DH key iff ratchet id % 3 == 0, first message of a ratchet reveals MACs', () => {
    const { alice, bob, rnd } = makePair(b, 9);
    const m = decodeDataMessage(send(b, rnd, alice, 'x').bytes);
    const noDh = { ...m, dh: new Uint8Array(0) };
    assert.throws(() => decryptDataMessage(b, bob.state, noDh, { now: 0 }), (e: unknown) => e instanceof OtrDecodeError);
    recv(b, alice, send(b, rnd, bob, 'y').bytes);
    const m1 = decodeDataMessage(send(b, rnd, alice, 'z').bytes);
    assert.is(m1.ratchetId, 1);
    const noReveal = { ...m1, revealedMacs: new Uint8Array(0) };
    assert.throws(() => decryptDataMessage(b, bob.state, noReveal, { now: 0 }), (e: unknown) => e instanceof OtrDecodeError);
    const withDh = { ...m1, dh: alice.state.ourDh.public };
    assert.throws(() => decryptDataMessage(b, bob.state, withDh, { now: 0 }), (e: unknown) => e instanceof OtrDecodeError);
  });

  t('revealed MAC keys are the MAC keys of the messages received, in the next new ratchet', () => {
    const { alice, bob, rnd } = makePair(b, 10);
    // Bob's first chain was stepped at initialisation: the MAC keys of Alice's first-chain messages wait
    // for his next sending step. Here Bob speaks first, so Alice's next messages are a new ratchet for him.
    const first = send(b, rnd, alice, 'first').bytes;
    recv(b, bob, first);
    assert.is(decodeDataMessage(send(b, rnd, bob, 'no step').bytes).revealedMacs.length, 0);
    recv(b, alice, send(b, rnd, bob, 'b').bytes);
    const sent = Array.from({ length: 3 }, (_, n) => send(b, rnd, alice, `r${n}`).bytes);
    for (const m of sent) recv(b, bob, m);
    const reply = decodeDataMessage(send(b, rnd, bob, 'reply').bytes);
    const revealed = splitRevealedMacs(reply.revealedMacs);
    assert.is(revealed.length, 4);
    revealed.shift(); // the first-chain message's key, queued earlier
    sent.forEach((bytes, n) => {
      const d = decodeDataMessage(bytes);
      const mac = kdf(b, Usage.authenticator, [revealed[n]!, d.authenticated], 64);
      assert.ok(equalBytes(mac, d.authenticator), `revealed key ${n} authenticates message ${n}`);
    });
    // Only the first message of the chain reveals; the queue is empty afterwards.
    const next = decodeDataMessage(send(b, rnd, bob, 'more').bytes);
    assert.is(next.revealedMacs.length, 0);
    assert.is(macKeyCount(bob.state.macKeysToReveal), 0);
  });

  t('revealAll attaches pending MAC keys without a new ratchet (the disconnect message)', () => {
    const { alice, bob, rnd } = makePair(b, 13);
    const b0 = send(b, rnd, bob, 'b0').bytes;
    const b1 = send(b, rnd, bob, 'b1').bytes;
    recv(b, alice, b0);
    const a0 = decodeDataMessage(send(b, rnd, alice, 'a0').bytes);
    assert.is(a0.revealedMacs.length, 64);
    recv(b, alice, b1); // same chain of Bob's: queued, no sending step due
    assert.is(macKeyCount(alice.state.macKeysToReveal), 1);
    const a1 = decodeDataMessage(send(b, rnd, alice, 'a1').bytes);
    assert.is(a1.revealedMacs.length, 0);
    const a2 = decodeDataMessage(send(b, rnd, alice, 'bye', true).bytes);
    assert.is(a2.revealedMacs.length, 64);
    const d1 = decodeDataMessage(b1);
    assert.ok(equalBytes(kdf(b, Usage.authenticator, [a2.revealedMacs, d1.authenticated], 64), d1.authenticator));
    assert.is(macKeyCount(alice.state.macKeysToReveal), 0);
  });

  t('stored skipped keys: bounded (oldest dropped and revealed), expired by age, single use', () => {
    const { alice, bob, rnd } = makePair(b, 11);
    const limits: RatchetLimits = { maxSkip: 50, maxStoredMessageKeys: 4, maxStoredMessageKeyAgeMs: 1000, maxMacKeysToReveal: 1000 };
    const msgs = Array.from({ length: 10 }, (_, n) => send(b, rnd, alice, `s${n}`).bytes);
    recv(b, bob, msgs[9]!, 0, limits); // skips 0..8: only 5..8 fit
    assert.equal(bob.state.skipped.map((e) => e.messageId), [5, 6, 7, 8]);
    // The dropped keys' MACs (0..4) and the used one (9) are queued for revealing.
    assert.is(macKeyCount(bob.state.macKeysToReveal), 6);
    for (const n of [0, 4]) rejects(b, bob, msgs[n]!, OtrStateError, 'STATE', 10, limits);
    assert.is(recv(b, bob, msgs[6]!, 500, limits).text, 's6');
    // Past the age limit, the rest expire (on the next receive, or by the timer function).
    rejects(b, bob, msgs[7]!, OtrStateError, 'STATE', 1001, limits);
    const queued = macKeyCount(bob.state.macKeysToReveal);
    const expired = expireSkippedKeys(b, bob.state, 1001, limits);
    assert.is(expired.skipped.length, 0);
    assert.is(macKeyCount(expired.macKeysToReveal), queued + 3);
    assert.is(expireSkippedKeys(b, expired, 1002, limits), expired, 'nothing to expire returns the same state');
    bob.state = expired;
    rejects(b, bob, msgs[5]!, OtrStateError, 'STATE', 1001, limits);
  });

  t('the MAC-key queue is bounded: one-way traffic never grows it past maxMacKeysToReveal', () => {
    const { alice, bob, rnd } = makePair(b, 14);
    const limits: RatchetLimits = { ...DEFAULT_LIMITS, maxMacKeysToReveal: 8 };
    recv(b, alice, send(b, rnd, bob, 'start').bytes);
    const sent: Uint8Array[] = [];
    for (let n = 0; n < 30; n++) {
      sent.push(send(b, rnd, alice, `m${n}`).bytes);
      recv(b, bob, sent[n]!, 0, limits);
      assert.ok(macKeyCount(bob.state.macKeysToReveal) <= 8);
    }
    // What is revealed is the newest keys, in order: the last one authenticates the last message.
    const reveal = splitRevealedMacs(decodeDataMessage(send(b, rnd, bob, 'reply').bytes).revealedMacs);
    const last = decodeDataMessage(sent[29]!);
    assert.ok(equalBytes(kdf(b, Usage.authenticator, [reveal[reveal.length - 1]!, last.authenticated], 64), last.authenticator));
  });

  t('wipeRatchetState zeroes every secret', () => {
    const { alice, rnd } = makePair(b, 12);
    send(b, rnd, alice, 'x');
    const s = alice.state;
    wipeRatchetState(s);
    for (const a of [s.rootKey, s.sendChain!, s.braceKey]) assert.ok(a.every((x) => x === 0));
  });

  t.run();
}

