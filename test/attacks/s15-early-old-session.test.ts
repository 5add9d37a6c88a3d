/**
 * Attack / robustness (session 15): early data behind a message of the peer's previous session. Alice's
 * session with Bob is gone (she ended it; a lost state is the same), Bob starts a new DAKE and keeps writing:
 * one message still on the old session in its ratchet 0, then, after his Auth-I, the new session's first
 * messages. Alice keeps all of them as early data (they overtook the Auth-I). At the Auth-I she read them until
 * the first that failed to authenticate (session 13, test/attacks/s13-dos-early-replay) — the old session's,
 * which can never authenticate under the new keys — and dropped the new session's messages behind it.
 *
 * The peer's ratchet 0 is one ECDH key per session, and the new session's early messages all carry it (Bob
 * cannot step past ratchet 0 before he reads one of Alice's, and she has sent none), so one key group that
 * fails before anything was read may be the previous session's: its messages are passed over, once; the
 * rest are read. A forgery under the new session's key, a second failing key group, or a failure after the
 * first message read still stop the loop, and the work stays within two failed ratchet steps however many
 * forgeries are queued (counted on the backend, never timed).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { countingBackend } from '../helpers/counting-backend.js';
import { establish, makePair, texts, type Pair } from '../helpers/session-pair.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { decodeDataMessage, encodeDataMessage } from '../../ts/wire/data.js';
import { generateEcdh } from '../../ts/crypto/ecdh.js';
import { seededRandom } from '../helpers/rng.js';

const counted = countingBackend(WASM);
const be = counted.backend;

interface Scene {
  p: Pair;
  /** Bob's message of the old session, in its ratchet 0 (never delivered). */
  old: string;
  /** Bob's Auth-I of the new DAKE, held back. */
  authI: string;
}

/** The old session up, one of Bob's ratchet-0 messages held back, Alice's side gone, a new DAKE up to the Auth-I. */
function scene(seed: number): Scene {
  const p = makePair(be, seed);
  establish(p); // Bob is the Auth-I sender: his first messages are his ratchet 0
  const old = p.b.send('old session').toSend[0]!;
  p.a.end(); // Alice's session is gone; her goodbye never reaches Bob
  const identity = p.b.startDake().toSend;
  const authR = identity.flatMap((m) => p.a.receive(m).toSend);
  const authI = authR.flatMap((m) => p.b.receive(m).toSend);
  if (authI.length !== 1 || p.b.state !== 'ENCRYPTED_MESSAGES') throw new Error('no Auth-I');
  return { p, old, authI: authI[0]! };
}

/** Queued at Alice as early data (kept, nothing answered). */
function queue(p: Pair, msgs: readonly string[]): void {
  for (const m of msgs) {
    const kept = p.a.receive(m);
    if (kept.toSend.length || kept.events.some((e) => e.type === 'unreadable')) throw new Error(`early message not kept: ${JSON.stringify(kept.events)}`);
  }
}

/** `m` with its authenticator broken (message id `id`: as many chain steps as a forger can make it cost). */
function broken(m: string, id?: number): string {
  const d = decodeDataMessage(dearmour(m).slice());
  const authenticator = d.authenticator.slice();
  authenticator[0]! ^= 1;
  return armour(encodeDataMessage({ ...d, messageId: id ?? d.messageId, authenticator }));
}

/** `m` under another (valid) ECDH key: what a forger who makes up its own ratchet key sends. */
function rekeyed(m: string, key: Uint8Array, id = 999): string {
  const d = decodeDataMessage(dearmour(m).slice());
  return armour(encodeDataMessage({ ...d, messageId: id, ecdh: key }));
}

/** Distinct valid ECDH public keys, for forgeries under ratchet keys of their own. */
function keys(n: number): Uint8Array[] {
  const random = seededRandom(0x15_e4);
  return Array.from({ length: n }, () => generateEcdh(WASM, random).public);
}

test('a message of the peer\'s previous session ahead of the early data does not drop it', () => {
  const { p, old, authI } = scene(15_001);
  const fresh = ['new 1', 'new 2', 'new 3'].map((t) => p.b.send(t).toSend[0]!);
  queue(p, [old, ...fresh]);
  const out = p.a.receive(authI);
  assert.equal(texts([out]), ['new 1', 'new 2', 'new 3']);
  assert.not.ok(out.events.some((e) => e.type === 'ignored' && /dropped after one/.test(e.reason)), JSON.stringify(out.events));
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  assert.equal(texts(p.b.send('after').toSend.map((m) => p.a.receive(m))), ['after']);
  assert.equal(texts(p.a.send('back').toSend.map((m) => p.b.receive(m))), ['back']);
});

test('old-session messages between and after the new ones are passed over too, the new ones read in order', () => {
  const { p, old, authI } = scene(15_002);
  const sameOldKey = broken(old, 7); // another message under the old session's ratchet-0 key
  const fresh = ['a', 'b'].map((t) => p.b.send(t).toSend[0]!);
  queue(p, [old, fresh[0]!, sameOldKey, fresh[1]!, old]);
  const out = p.a.receive(authI);
  assert.equal(texts([out]), ['a', 'b']);
  assert.not.ok(out.events.some((e) => e.type === 'ignored' && /dropped after one/.test(e.reason)), JSON.stringify(out.events));
});

test('a forgery under the new session\'s key still stops the loop', () => {
  const { p, authI } = scene(15_003);
  const fresh = ['x', 'y', 'z'].map((t) => p.b.send(t).toSend[0]!);
  queue(p, [broken(fresh[0]!, 999), ...fresh]);
  const out = p.a.receive(authI);
  assert.equal(texts([out]), []);
  assert.ok(out.events.some((e) => e.type === 'ignored' && /3 early data messages dropped after one/.test(e.reason)), JSON.stringify(out.events));
});

test('a second failing key group stops the loop; a failure after the first message read stops it', () => {
  {
    const { p, old, authI } = scene(15_004);
    const fresh = ['x', 'y'].map((t) => p.b.send(t).toSend[0]!);
    const [k] = keys(1);
    queue(p, [old, rekeyed(fresh[0]!, k!), ...fresh]);
    const out = p.a.receive(authI);
    assert.equal(texts([out]), []);
    assert.ok(out.events.some((e) => e.type === 'ignored' && /2 early data messages dropped after one/.test(e.reason)), JSON.stringify(out.events));
  }
  {
    const { p, old, authI } = scene(15_005);
    const fresh = ['x', 'y'].map((t) => p.b.send(t).toSend[0]!);
    // Read first, then a forgery under the new key: it stops the loop even with another key behind it.
    queue(p, [fresh[0]!, broken(p.b.send('f').toSend[0]!, 999), old, fresh[1]!]);
    const out = p.a.receive(authI);
    assert.equal(texts([out]), ['x']);
    assert.ok(out.events.some((e) => e.type === 'ignored' && /2 early data messages dropped after one/.test(e.reason)), JSON.stringify(out.events));
  }
});

test('forgeries under 100 keys of their own cost at most two failed ratchet steps', () => {
  const one = (() => {
    const { p, authI } = scene(15_006);
    const m = p.b.send('m').toSend[0]!;
    queue(p, [broken(m, 999)]);
    return counted.measure(() => p.a.receive(authI));
  })();
  const many = (() => {
    const { p, authI } = scene(15_007);
    const m = p.b.send('m').toSend[0]!;
    queue(p, keys(100).map((k) => rekeyed(m, k)));
    return counted.measure(() => p.a.receive(authI));
  })();
  const twice = (x: number) => x * 2 * 1.1;
  assert.ok(many.costs.modPow3072 <= 2 * one.costs.modPow3072, `3072-bit exponentiations: ${many.costs.modPow3072} vs ${one.costs.modPow3072}`);
  assert.ok(many.costs.keccakBytes <= twice(one.costs.keccakBytes), `Keccak bytes: ${many.costs.keccakBytes} vs ${one.costs.keccakBytes}`);
  assert.ok(many.costs.ed448Mul <= 2 * one.costs.ed448Mul, `Ed448 multiplications: ${many.costs.ed448Mul} vs ${one.costs.ed448Mul}`);
  assert.ok(many.result.events.some((e) => e.type === 'ignored' && /98 early data messages dropped after one/.test(e.reason)), JSON.stringify(many.result.events));
});

test.run();
