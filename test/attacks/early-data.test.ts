/**
 * Attack: memory and persisted state an unauthenticated peer can grow (issue 10, "Memory and persisted state
 * an attacker can grow"). Data messages that arrive before Auth-I were kept raw, bounded by count but not
 * bytes, never aged until an Auth-I, and persisted: six 786 KB messages made serialize() 4.5 MiB and
 * Account.restore() then refused the whole account. Now early data is bounded by bytes and age, kept in memory
 * only, and serialize() never produces bytes restore() refuses — tested with the worst case every limit allows.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import { armour } from '../../ts/codec/armour.js';
import { formatFragmentV4 } from '../../ts/codec/fragment.js';
import { WASM } from '../helpers/backends.js';
import { ALICE_ID, BOB_ID, makePair, texts, type Pair } from '../helpers/session-pair.js';
import { testDsaKey } from '../interop/v3-pair.js';
import { attackerLocal, makeBloatedAttacker } from './attacker.js';
import { startDake } from '../../ts/ake/interactive.js';

const be = WASM;

/** A data-message-typed blob from `sender` to `receiver`: stored raw while a DAKE awaits Auth-I. */
function fakeData(sender: number, receiver: number, size: number, fill: number): string {
  const m = new Uint8Array(size).fill(fill);
  m.set([0x00, 0x04, 0x03, sender >>> 24, sender >>> 16, sender >>> 8, sender, receiver >>> 24, receiver >>> 16, receiver >>> 8, receiver], 0);
  return armour(m);
}

/** Bob started a DAKE; Alice answered and awaits Auth-I. Returns Bob's Auth-I, not yet delivered. */
function pendingAuthI(p: Pair): string[] {
  const authR = p.b.startDake().toSend.flatMap((m) => p.a.receive(m).toSend);
  assert.is(p.a.state, 'WAITING_AUTH_I');
  return authR.flatMap((m) => p.b.receive(m).toSend);
}

const restore = (p: Pair, bytes: Uint8Array, limits = {}) => Account.restore(bytes, { backend: be, random: p.randA, clock: p.clock, limits });

test('six 760 KB "data messages" before Auth-I: the saved state stays small and restorable, the DAKE completes', () => {
  const p = makePair(be, 80);
  const authI = pendingAuthI(p);
  const before = p.alice.serialize().length;
  for (let i = 0; i < 6; i++) p.a.receive(fakeData(p.bob.instanceTag, p.alice.instanceTag, 760_000, i));
  const saved = p.alice.serialize();
  assert.ok(saved.length < before + 1024, `state grew from ${before} to ${saved.length} bytes`);
  const again = restore(p, saved);
  const a2 = again.conversation(BOB_ID);
  for (const m of authI) a2.receive(m);
  assert.is(a2.state, 'ENCRYPTED_MESSAGES');
});

test('genuine early data: bounded by count and bytes (the newest kept), aged out, and never persisted', () => {
  // Count: with room for two, the newest two of three are read after Auth-I.
  let p = makePair(be, 81, { limits: { maxEarlyDataMessages: 2 } });
  let authI = pendingAuthI(p);
  let early = ['e1', 'e2', 'e3'].map((t) => p.b.send(t).toSend[0]!);
  for (const m of early) assert.equal(p.a.receive(m).messages, []);
  assert.equal(texts(authI.map((m) => p.a.receive(m))), ['e2', 'e3']);
  // Bytes: with room for one message (543 bytes each), only the newest is read.
  p = makePair(be, 82, { limits: { maxEarlyDataBytes: 1000 } });
  authI = pendingAuthI(p);
  early = ['f1', 'f2', 'f3'].map((t) => p.b.send(t).toSend[0]!);
  for (const m of early) p.a.receive(m);
  assert.equal(texts(authI.map((m) => p.a.receive(m))), ['f3']);
  // Age: older than policy.earlyDataRetentionMs when the next one arrives or Auth-I comes: dropped.
  p = makePair(be, 83);
  authI = pendingAuthI(p);
  p.a.receive(p.b.send('old').toSend[0]!);
  p.clock.advance(p.a.policy.earlyDataRetentionMs + 1);
  p.a.receive(p.b.send('new').toSend[0]!);
  assert.equal(texts(authI.map((m) => p.a.receive(m))), ['new']);
  // Never persisted: a restart between the early message and Auth-I loses it (the peer is unauthenticated).
  p = makePair(be, 84);
  authI = pendingAuthI(p);
  p.a.receive(p.b.send('lost on restart').toSend[0]!);
  const a2 = restore(p, p.alice.serialize()).conversation(BOB_ID);
  assert.equal(texts(authI.map((m) => a2.receive(m))), []);
  assert.is(a2.state, 'ENCRYPTED_MESSAGES');
});

/**
 * Everything an unauthenticated peer can make one conversation hold at once: every instance slot but the
 * session's taken by a pending DAKE whose profile is as large as the decoders allow, each with the most early
 * data the limits allow, and the most pending fragments.
 */
function worstCase(p: Pair): void {
  const L = p.alice.limits;
  const dsa = testDsaKey(0xbad);
  for (let i = 0; i < L.maxInstancesPerConversation - 1; i++) {
    const x = makeBloatedAttacker(be, { tag: 0x5000_0000 + i, seed: 300 + i, nowMs: p.clock(), dsa });
    const out: Outcome = p.a.receive(armour(startDake(be, x.random, attackerLocal(x, BOB_ID, ALICE_ID), 0).message!));
    assert.is(out.toSend.length, 1, `attacker ${i} answered`);
    for (let k = 0; k < L.maxEarlyDataMessages; k++) p.a.receive(fakeData(x.tag, p.alice.instanceTag, Math.floor(L.maxEarlyDataBytes / L.maxEarlyDataMessages), k));
  }
  for (let k = 0; k < L.maxPendingFragmentedMessages; k++) {
    const piece = 'A'.repeat(Math.floor(L.maxPendingFragmentChars / L.maxPendingFragmentedMessages) - 1);
    p.a.receive(formatFragmentV4({ identifier: 0x9000 + k, senderTag: 0x5000_0000, receiverTag: p.alice.instanceTag, index: 1, total: 2, piece }));
  }
}

test('worst case every limit allows: serialize() stays restorable, and the session survives', () => {
  const p = makePair(be, 85, { limits: { dakeBudgetPeerBurst: 1000, dakeBudgetAccountBurst: 1000, maxEarlyDataMessages: 4, maxEarlyDataBytes: 64 * 1024 } });
  p.a.receive(p.b.startDake().toSend[0]!); // (Bob's own pending DAKE, answered: one more pending slot)
  worstCase(p);
  const saved = p.alice.serialize();
  assert.ok(saved.length <= p.alice.limits.maxStateBytes);
  const again = restore(p, saved, p.alice.limits);
  assert.equal(again.serialize(), saved);
  assert.is(again.conversation(BOB_ID).instanceTags.length, p.alice.limits.maxInstancesPerConversation);
});

test('with maxStateBytes too small for the attackers\' pending DAKEs, serialize() leaves them out rather than write what restore() refuses', () => {
  const limits = { dakeBudgetPeerBurst: 1000, dakeBudgetAccountBurst: 1000, maxStateBytes: 24 * 1024 };
  const p = makePair(be, 86, { limits });
  // An honest session first (authenticated state that must survive).
  const authR = p.b.startDake().toSend.flatMap((m) => p.a.receive(m).toSend);
  for (const m of authR.flatMap((x) => p.b.receive(x).toSend)) p.a.receive(m);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  worstCase(p);
  const saved = p.alice.serialize();
  assert.ok(saved.length <= limits.maxStateBytes, `${saved.length} bytes`);
  const again = restore(p, saved, limits);
  const a2 = again.conversation(BOB_ID);
  assert.equal(a2.instanceTags, [p.bob.instanceTag], 'only the authenticated session was kept');
  assert.equal(texts([a2.receive(p.b.send('after restore').toSend[0]!)]), ['after restore']);
});

test.run();
