/**
 * Pins of what held in the review of session 15's first wave ([s15-review2], docs/security.md):
 *
 *  - Early data pass-over (session/early-keys.ts): a queued message refused cheaply — addressed to instance 0,
 *    a message id past maxSkip, cut short after its ratchet key — returns "passed" from onData and so neither
 *    stops the loop nor uses up the one pass-over; these pins show it also does no ratchet work, so mixing such
 *    messages between 100 forgeries under keys of their own still costs at most two failed ratchet steps. Each
 *    such refusal still answers with an error message and counts toward a repair DAKE (healAfterUnreadable):
 *    exactly what the same messages cost sent right after the Auth-I, so the queue gives an injector nothing.
 *  - endedMacKeys (session/ended-mac-keys.ts): the kept keys' bytes are wiped when they are handed over and
 *    published, when the record sheds them (state-trimmed) and when the conversation is forgotten.
 *  - forgingPublicKey (Account.create): the identity, a point of small order and a non-canonical encoding are
 *    refused typed (pointIsValid: on the curve, canonical, prime-order subgroup, not the identity); the host's
 *    array changed after create() does not change the profile; restore ignores the option (the record's key
 *    stays, checked against the profile).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { OtrArgumentError } from '../../ts/errors.js';
import { generateForgingKey } from '../../ts/forge/index.js';
import { WASM } from '../helpers/backends.js';
import { countingBackend } from '../helpers/counting-backend.js';
import { establish, makePair, type Pair } from '../helpers/session-pair.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { decodeDataMessage, encodeDataMessage } from '../../ts/wire/data.js';
import { generateEcdh } from '../../ts/crypto/ecdh.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, pump, testClock } from '../helpers/session-pair.js';

const counted = countingBackend(WASM);
const be = counted.backend;

/** A new DAKE up to Bob's Auth-I (held back) after Alice's old session with Bob ended on her side. */
function scene(seed: number): { p: Pair; authI: string } {
  const p = makePair(be, seed);
  establish(p);
  p.a.end();
  const identity = p.b.startDake().toSend;
  const authR = identity.flatMap((m) => p.a.receive(m).toSend);
  const authI = authR.flatMap((m) => p.b.receive(m).toSend);
  if (authI.length !== 1) throw new Error('no Auth-I');
  return { p, authI: authI[0]! };
}

function queue(p: Pair, msgs: readonly string[]): void {
  for (const m of msgs) {
    const kept = p.a.receive(m);
    if (kept.toSend.length || kept.events.some((e) => e.type === 'unreadable')) throw new Error(`early message not kept: ${JSON.stringify(kept.events)}`);
  }
}

function rekeyed(m: string, key: Uint8Array, id = 999): string {
  const d = decodeDataMessage(dearmour(m).slice());
  return armour(encodeDataMessage({ ...d, messageId: id, ecdh: key }));
}

/** Cheap refusals under ratchet key `key` (ratchet 0): to instance 0, past maxSkip, cut short after the key. */
function cheap(m: string, key: Uint8Array): string[] {
  const d = decodeDataMessage(dearmour(m).slice());
  const toZero = armour(encodeDataMessage({ ...d, ecdh: key, receiverTag: 0 }));
  const pastSkip = armour(encodeDataMessage({ ...d, ecdh: key, messageId: 5000 }));
  const full = encodeDataMessage({ ...d, ecdh: key });
  const cut = armour(full.subarray(0, 11 + 1 + 4 + 4 + 4 + 57 + 3));
  return [toZero, pastSkip, cut];
}

function keys(n: number, seed: number): Uint8Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => generateEcdh(WASM, random).public);
}

test('early data: cheap refusals cost no ratchet work, and between 100 forgeries keep the bound of two failed steps', () => {
  const one = (() => {
    const { p, authI } = scene(15_2101);
    queue(p, [rekeyed(p.b.send('m').toSend[0]!, keys(1, 1)[0]!)]);
    return counted.measure(() => p.a.receive(authI));
  })();
  const none = (() => {
    const { p, authI } = scene(15_2103);
    const m = p.b.send('m').toSend[0]!;
    queue(p, keys(20, 2).flatMap((k) => cheap(m, k)));
    return counted.measure(() => p.a.receive(authI));
  })();
  const auth = (() => {
    const { p, authI } = scene(15_2105);
    return counted.measure(() => p.a.receive(authI));
  })();
  // The same 60 refusals sent after the Auth-I: what an injector gets without the early queue (an error message
  // each, and a repair DAKE once healAfterUnreadable come in a row, rate-limited by the heal bucket).
  const direct = (() => {
    const { p, authI } = scene(15_2103);
    const m = p.b.send('m').toSend[0]!;
    p.a.receive(authI);
    const msgs = keys(20, 2).flatMap((k) => cheap(m, k));
    return counted.measure(() => msgs.map((x) => p.a.receive(x)));
  })();
  assert.is(none.costs.modPow3072 - auth.costs.modPow3072, direct.costs.modPow3072, '60 cheap refusals in the queue: no DH ratchet step (only the repair DAKE, as sent directly)');
  assert.is(none.costs.ed448Mul - auth.costs.ed448Mul, direct.costs.ed448Mul, '60 cheap refusals in the queue: no ECDH beyond the repair DAKE');
  assert.is(none.result.toSend.length, direct.result.reduce((n, o) => n + o.toSend.length, 0), 'one answer each, as sent directly');
  const mixed = (() => {
    const { p, authI } = scene(15_2107);
    const m = p.b.send('m').toSend[0]!;
    const ks = keys(100, 3);
    queue(p, ks.flatMap((k, n) => [...cheap(m, ks[(n + 1) % ks.length]!), rekeyed(m, k)]));
    return counted.measure(() => p.a.receive(authI));
  })();
  assert.ok(one.costs.modPow3072 > auth.costs.modPow3072, 'one forgery costs a DH ratchet step');
  const over = (c: typeof one, k: 'modPow3072' | 'ed448Mul') => c.costs[k] - none.costs[k];
  const step = (k: 'modPow3072' | 'ed448Mul') => one.costs[k] - auth.costs[k];
  assert.ok(over(mixed, 'modPow3072') <= 2 * step('modPow3072'), `3072-bit exponentiations past the refusals: ${over(mixed, 'modPow3072')} vs one forgery's ${step('modPow3072')}`);
  assert.ok(over(mixed, 'ed448Mul') <= 2 * step('ed448Mul'), `Ed448 multiplications past the refusals: ${over(mixed, 'ed448Mul')} vs one forgery's ${step('ed448Mul')}`);
});

const P = (1n << 448n) - (1n << 224n) - 1n;
/** The 57-byte encoding of y (little-endian) with x's sign bit clear. */
function encodeY(y: bigint): Uint8Array {
  const out = new Uint8Array(57);
  for (let i = 0; i < 57; i++) out[i] = Number((y >> BigInt(8 * i)) & 0xffn);
  return out;
}

test('forgingPublicKey: the identity, a point of order 2 and non-canonical encodings are refused, typed', () => {
  const clock = testClock();
  const bad = { identity: encodeY(1n), orderTwo: encodeY(P - 1n), identityNonCanonical: encodeY(P + 1n), orderFourNonCanonical: encodeY(P) };
  for (const [what, key] of Object.entries(bad)) {
    assert.throws(
      () => Account.create({ accountId: 'a@example', backend: WASM, clock, dsaKey: null, random: seededRandom(1521), forgingPublicKey: key }),
      (e: unknown) => e instanceof OtrArgumentError,
      what,
    );
  }
});

test("forgingPublicKey: the host's array changed after create() changes nothing; restore keeps the record's key", () => {
  const clock = testClock();
  const pair = generateForgingKey(WASM, seededRandom(1522));
  const given = pair.public.slice();
  const a = Account.create({ accountId: 'a@example', backend: WASM, clock, dsaKey: null, random: seededRandom(1523), forgingPublicKey: given });
  given.fill(0);
  assert.equal([...a.clientProfile.forgingKey], [...pair.public]);
  const other = generateForgingKey(WASM, seededRandom(1524)).public;
  const r = Account.restore(a.serialize(), { backend: WASM, clock, forgingPublicKey: other } as Parameters<typeof Account.restore>[1]);
  assert.equal([...r.clientProfile.forgingKey], [...pair.public], 'the option is not taken on restore (types leave it out)');
  assert.equal([...r.serialize()], [...a.serialize()], 'restored byte for byte');
});

/** Bob after reading 3 of Alice's messages and her disconnect: a view of the MAC keys he keeps. */
function keptView(seed: number): { p: Pair; view: Uint8Array } {
  const p = makePair(WASM, seed);
  establish(p);
  for (let i = 0; i < 3; i++) p.b.receive(p.a.send(`m${i}`).toSend[0]!);
  pump(p.a, p.b, p.a.end());
  assert.is(p.b.state, 'FINISHED');
  const view = (p.b as unknown as { endedMacKeys: Uint8Array }).endedMacKeys;
  assert.ok(view.length >= 3 * 64 && view.some((x) => x !== 0), 'Bob keeps MAC keys');
  return { p, view };
}

test('endedMacKeys: wiped once published by the next session, when shed, and when forgotten', () => {
  {
    const { p, view } = keptView(15_2111);
    pump(p.a, p.b, p.a.startDake());
    assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
    pump(p.b, p.a, p.b.send('new session'));
    pump(p.a, p.b, p.a.send('yes'));
    pump(p.b, p.a, p.b.send('and again')); // a new sending chain: reveals what the ratchet queued
    assert.ok(view.every((x) => x === 0), 'published: the kept bytes are wiped');
    assert.is((p.b as unknown as { endedMacKeys: Uint8Array }).endedMacKeys.length, 0);
  }
  {
    const { p, view } = keptView(15_2113);
    const shed = p.b as unknown as { shedState(events: unknown[]): boolean };
    while (shed.shedState([]));
    assert.ok(view.every((x) => x === 0), 'shed: wiped');
  }
  {
    const { p, view } = keptView(15_2115);
    p.bob.forget(ALICE_ID);
    assert.ok(view.every((x) => x === 0), 'forgotten: wiped');
  }
});

test.run();
