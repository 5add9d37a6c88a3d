/**
 * Attack (session 15, a host's action: a limit raised, then lowered). A host that ran with maxMacKeysToReveal or
 * maxStoredMessageKeys above 4,000 and then went back to the defaults could not restore the records the library
 * wrote under the higher limit: restore refused any list longer than max(limit, 4,000), so Account.restore()
 * threw and every conversation of the account was lost. The same for the conversation's endedMacKeys (refused
 * past max(limit, default)). Now a restore keeps what the current limits allow — the entries the library itself
 * would keep, chosen by the live trimming code (the newest MAC keys; the newest stored skipped keys, the dropped
 * ones' MAC keys queued for revealing as when the store overflows) — wipes the rest, and tells the host with a
 * `state-trimmed` event on the conversation's first outcome. A hostile record far over any bound is trimmed with
 * work bounded by the limits, not by its size (counted: SHAKE-256 calls).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Conversation, type OtrEvent } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { ALICE_ID, establish, makePair, type Pair } from '../helpers/session-pair.js';
import { dearmour } from '../../ts/codec/armour.js';
import { decodeDataMessage } from '../../ts/wire/data.js';
import { messageMacKey } from '../../ts/ratchet/keys.js';
import { DEFAULT_LIMITS, type Limits } from '../../ts/limits.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import type { RatchetState } from '../../ts/ratchet/state.js';

const be = WASM;
const KEY = 64;

/** Bob's account restored from its serialisation under `limits` (the defaults when empty). */
function restoreBob(p: Pair, limits: Partial<Limits> = {}, backend: CryptoBackend = be): { account: Account; conv: Conversation } {
  let bob: Account;
  try {
    bob = Account.restore(p.bob.serialize(), { backend, clock: p.clock, limits });
  } catch (e) {
    assert.unreachable(`restore refused the library's own record: ${(e as Error).message}`);
    throw e;
  }
  return { account: bob, conv: bob.conversation(ALICE_ID) };
}

const ratchetOf = (c: Conversation): RatchetState => [...(c as unknown as { instances: Map<number, { ratchet: RatchetState | null }> }).instances.values()][0]!.ratchet!;
const stateOf = (c: Conversation) => c.toState() as Record<string, unknown>;
const revealedBy = (wire: string): Uint8Array => decodeDataMessage(dearmour(wire)).revealedMacs;
const trims = (events: readonly OtrEvent[]) => events.filter((e) => e.type === 'state-trimmed');

/** Equal bytes, else a short message (uvu's diff of two 64 KB arrays takes minutes). */
function sameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.length !== expected.length) assert.unreachable(`${what}: ${actual.length} bytes, expected ${expected.length}`);
  const at = actual.findIndex((x, n) => x !== expected[n]);
  if (at >= 0) assert.unreachable(`${what}: differs at byte ${at} (key ${Math.floor(at / KEY)})`);
}

/** Whether the bytes of `q`'s buffer before its view — where the dropped oldest keys were — are all zero. */
function droppedWiped(q: Uint8Array): boolean {
  return new Uint8Array(q.buffer, 0, q.byteOffset).every((x) => x === 0) && q.byteOffset > 0;
}

test('MAC keys to reveal saved under maxMacKeysToReveal 5,000 restore under the default: the newest kept, the rest wiped, the host told', () => {
  // revealMacKeysAt: Infinity — a one-way reader queues keys as it did before session 16 (s16-reveal).
  const limits = { maxMacKeysToReveal: 5000, revealMacKeysAt: Infinity };
  const p = makePair(be, 1531, { limits });
  establish(p);
  p.a.receive(p.b.send('hi').toSend[0]!);
  for (let i = 0; i < 4500; i++) assert.is(p.b.receive(p.a.send(`m${i}`).toSend[0]!).messages.length, 1);
  const saved = ratchetOf(p.b).macKeysToReveal.slice();
  assert.ok(saved.length / KEY >= 4500);
  const { account: bobAccount, conv: b } = restoreBob(p);
  const q = ratchetOf(b).macKeysToReveal;
  // As a receive over the bound trims (ratchet/receive.ts queueReveals): the newest 3/4 of the limit.
  const kept = Math.floor((DEFAULT_LIMITS.maxMacKeysToReveal * 3) / 4);
  assert.is(q.length / KEY, kept);
  sameBytes(q, saved.subarray(saved.length - kept * KEY), 'the newest keys, in order');
  assert.ok(droppedWiped(q), 'the dropped keys wiped');
  // A re-serialisation is within the new bound (and restores again).
  const again = Account.restore(bobAccount.serialize(), { backend: be, clock: p.clock });
  assert.is(ratchetOf(again.conversation(ALICE_ID)).macKeysToReveal.length / KEY, kept);
  // The conversation goes on, and its next message reveals exactly the kept keys.
  const out = b.send('answer');
  assert.equal(trims(out.events), [{ type: 'state-trimmed', instance: ratchetOwner(b), what: 'mac-keys', count: saved.length / KEY - kept }]);
  sameBytes(revealedBy(out.toSend[0]!), saved.subarray(saved.length - kept * KEY), 'revealed');
  assert.equal(p.a.receive(out.toSend[0]!).messages.map((m) => m.text), ['answer']);
  assert.equal(trims(b.send('more').events), [], 'told once');
});

function ratchetOwner(c: Conversation): number {
  return [...(c as unknown as { instances: Map<number, unknown> }).instances.keys()][0]!;
}

test('stored skipped keys saved under maxStoredMessageKeys 5,000 restore under the default: the newest kept, the dropped ones revealed as on overflow', () => {
  const limits = { maxStoredMessageKeys: 5000, maxSkip: 5000, maxConversationStateBytes: 4 << 20 };
  const p = makePair(be, 1532, { limits });
  establish(p);
  p.a.receive(p.b.send('hi').toSend[0]!);
  const held = Array.from({ length: 4100 }, (_, i) => p.a.send(`m${i}`).toSend[0]!);
  assert.is(p.b.receive(p.a.send('last').toSend[0]!).messages.length, 1);
  const savedSkipped = ratchetOf(p.b).skipped.map((e) => e.mkEnc.slice());
  const savedQueue = ratchetOf(p.b).macKeysToReveal.length / KEY;
  assert.is(savedSkipped.length, 4100);
  const { conv: b } = restoreBob(p);
  const r = ratchetOf(b);
  assert.is(r.skipped.length, DEFAULT_LIMITS.maxStoredMessageKeys);
  sameBytes(r.skipped[0]!.mkEnc, savedSkipped[3100]!, 'the newest stored keys kept');
  // The 3,100 dropped keys' MAC keys were queued as an overflowing store queues them, and the queue then bounded
  // as every receive bounds it: the newest 750 are those of m2350..m3099.
  const out = b.send('answer');
  const expected = Array.from({ length: 750 }, (_, n) => messageMacKey(be, savedSkipped[2350 + n]!));
  const revealed = revealedBy(out.toSend[0]!);
  assert.is(revealed.length, 750 * KEY);
  for (let n = 0; n < 750; n++) sameBytes(revealed.subarray(n * KEY, (n + 1) * KEY), expected[n]!, `key ${n}`);
  assert.equal(trims(out.events), [
    { type: 'state-trimmed', instance: ratchetOwner(b), what: 'skipped-keys', count: 3100 },
    { type: 'state-trimmed', instance: ratchetOwner(b), what: 'mac-keys', count: savedQueue + 3100 - 750 },
  ]);
  assert.equal(p.a.receive(out.toSend[0]!).messages.map((m) => m.text), ['answer']);
  // The kept stored keys still read their late messages; the dropped ones do not.
  assert.equal(b.receive(held[3100]!).messages.map((m) => m.text), ['m3100']);
  assert.equal(b.receive(held[4099]!).messages.map((m) => m.text), ['m4099']);
  assert.equal(b.receive(held[3099]!).messages, []);
});

test("the conversation's endedMacKeys saved under maxMacKeysToReveal 5,000 restore under the default: the newest 1,000, published by the next session", () => {
  // revealMacKeysAt: Infinity — a one-way reader queues keys as it did before session 16 (s16-reveal).
  const limits = { maxMacKeysToReveal: 5000, revealMacKeysAt: Infinity };
  const p = makePair(be, 1533, { limits });
  establish(p);
  p.a.receive(p.b.send('hi').toSend[0]!);
  for (let i = 0; i < 4500; i++) assert.is(p.b.receive(p.a.send(`m${i}`).toSend[0]!).messages.length, 1);
  p.b.receive(p.a.end().toSend[0]!);
  assert.is(p.b.state, 'FINISHED');
  const ended = (stateOf(p.b).endedMacKeys as Uint8Array).slice();
  assert.ok(ended.length / KEY > 4500);
  const { conv: b } = restoreBob(p);
  const keep = DEFAULT_LIMITS.maxMacKeysToReveal;
  const q = (b as unknown as { endedMacKeys: Uint8Array }).endedMacKeys;
  // As a hand-over trims them (ended-mac-keys.ts keepEndedMacKeys): the newest maxMacKeysToReveal.
  sameBytes(q, ended.subarray(ended.length - keep * KEY), 'the newest ended keys');
  assert.ok(droppedWiped(q), 'the dropped keys wiped');
  // A new session: Bob's first revealing message publishes them ahead of its own.
  p.b = b;
  const first = b.receive(p.a.startDake().toSend[0]!);
  assert.equal(trims(first.events), [{ type: 'state-trimmed', instance: 0, what: 'mac-keys', count: ended.length / KEY - keep }]);
  for (const t of first.toSend) for (const o of p.a.receive(t).toSend) b.receive(o);
  assert.is(b.state, 'ENCRYPTED_MESSAGES');
  const sent = [b.send('new session').toSend[0]!];
  p.a.receive(sent[0]!);
  // Bob's answer to the message he reads: a heartbeat publishing his queue, over revealMacKeysAt (s16-reveal).
  for (const t of p.a.send('yes').toSend) sent.push(...b.receive(t).toSend);
  sent.push(b.send('and again').toSend[0]!);
  // Published as any queue is: the newest first to go out — the live bound (3/4 of the limit once a receive
  // passes it) may drop more of the oldest before that message, never a key the restore dropped.
  const all = sent.map(revealedBy);
  const has = (key: Uint8Array) => all.some((r) => {
    for (let o = 0; o < r.length; o += KEY) if (r.subarray(o, o + KEY).every((x, n) => x === key[n])) return true;
    return false;
  });
  const keyAt = (n: number) => ended.subarray(n * KEY, (n + 1) * KEY);
  const count = ended.length / KEY;
  assert.ok(has(keyAt(count - 1)) && has(keyAt(count - 500)), 'the newest ended keys published');
  assert.not.ok(has(keyAt(count - keep - 1)), 'a key the restore dropped is not');
});

test('a hostile record far over every bound is trimmed with work bounded by the limits, not by its size', () => {
  const p = makePair(be, 1534);
  establish(p);
  p.a.receive(p.b.send('hi').toSend[0]!);
  p.a.send('held back'); // one stored skipped key at Bob's, the model of the hostile ones
  assert.is(p.b.receive(p.a.send('next').toSend[0]!).messages.length, 1);
  const state = stateOf(p.b);
  const inst = (state.instances as Record<string, unknown>[])[0]!;
  const ratchet = inst.ratchet as Record<string, unknown>;
  const real = (ratchet.skipped as Record<string, unknown>[])[0]!;
  // 12,000 stored keys (the real one last), 12,000 MAC keys to reveal and 12,000 ended keys.
  const fakes = Array.from({ length: 11_999 }, (_, n) => ({ ...real, messageId: 100_000 + n, mkEnc: new Uint8Array(64).fill(1 + (n % 200)) }));
  const hostile = {
    ...state,
    endedMacKeys: new Uint8Array(12_000 * KEY).fill(3),
    instances: [{ ...inst, ratchet: { ...ratchet, skipped: [...fakes, real], macKeysToReveal: new Uint8Array(12_000 * KEY).fill(2) } }],
  };
  let shakes = 0;
  const counting: CryptoBackend = {
    ...be,
    shake256: (parts, size) => {
      shakes++;
      return be.shake256(parts, size);
    },
  };
  const host = Account.restore(p.bob.serialize(), { backend: counting, clock: p.clock });
  const fromState = (p.b.constructor as unknown as { fromState: (a: unknown, id: string, v: unknown) => Conversation }).fromState;
  shakes = 0;
  fromState(host, ALICE_ID, state as never);
  const base = shakes;
  shakes = 0;
  let c: Conversation;
  try {
    c = fromState(host, ALICE_ID, hostile as never);
  } catch (e) {
    assert.unreachable(`refused: ${(e as Error).message}`);
    throw e;
  }
  // At most one MAC key derived per key that can stay queued: 11,000 dropped stored keys cost ≤ 1,000.
  assert.ok(shakes - base <= DEFAULT_LIMITS.maxMacKeysToReveal, `${shakes - base} SHAKE-256 calls beyond a plain restore`);
  const r = ratchetOf(c!);
  assert.is(r.skipped.length, DEFAULT_LIMITS.maxStoredMessageKeys);
  assert.ok(r.macKeysToReveal.length / KEY <= DEFAULT_LIMITS.maxMacKeysToReveal);
  assert.is((c! as unknown as { endedMacKeys: Uint8Array }).endedMacKeys.length / KEY, DEFAULT_LIMITS.maxMacKeysToReveal);
});

test.run();
