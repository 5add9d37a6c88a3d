/**
 * The interactive DAKE (ts/ake/) between two in-process parties: a full handshake with equal SSIDs and
 * agreeing ratchets, tampering of every field of every message (typed error, receiver's state unchanged),
 * tag rules, simultaneous Identity messages, an Identity while awaiting Auth-I, a DAKE restart that leaves a
 * running ratchet alone. Runs once per backend.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CryptoBackend } from '../ts/backend/types.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { bytesToHex, equalBytes, fromUtf8, utf8 } from '../ts/bytes.js';
import { OtrCryptoError, OtrError, OtrStateError } from '../ts/errors.js';
import { ed448KeyPair } from '../ts/crypto/eddsa.js';
import { createClientProfile } from '../ts/profile/client-profile.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { decodeAuthR, decodeIdentity, RING_SIG_BYTES } from '../ts/wire/dake.js';
import {
  DAKE_IDLE,
  identityTieBreak,
  receiveAuthI,
  receiveAuthR,
  receiveIdentity,
  startDake,
  tieBreakWeWin,
  type DakeLocal,
  type DakeState,
} from '../ts/ake/index.js';
import { decryptDataMessage, encryptDataMessage, type RatchetState } from '../ts/ratchet/index.js';

const NOW_MS = 1_700_000_000_000;
const EXPIRY = BigInt(NOW_MS / 1000 + 7 * 24 * 3600);

function deepCopy<T>(v: T): T {
  return structuredClone(v);
}

function snapshot(s: unknown): string {
  return JSON.stringify(s, (_k, v) => (v instanceof Uint8Array ? 'hex:' + bytesToHex(v) : typeof v === 'bigint' ? v.toString() : v));
}

function makeLocal(b: CryptoBackend, rnd: (n: number) => Uint8Array, tag: number, account: string, peer: string): DakeLocal {
  const identitySecret = rnd(57);
  const forging = ed448KeyPair(b, rnd(57));
  const profile = createClientProfile(b, { ownerTag: tag, identitySecret, forgingKey: forging.publicKey, versions: '4', expiry: EXPIRY });
  return { instanceTag: tag, profile, identityScalar: ed448KeyPair(b, identitySecret).scalar, accountId: utf8(account), peerAccountId: utf8(peer) };
}

function parties(b: CryptoBackend, seed: number) {
  const rnd = seededRandom(seed);
  const bob = makeLocal(b, rnd, 0x0b0b0b0b, 'bob@example.org', 'alice@example.org');
  const alice = makeLocal(b, rnd, 0x0a0a0a0a, 'alice@example.org', 'bob@example.org');
  return { rnd, alice, bob };
}

/** Throws unless `fn` throws an OtrError; checks `state` is unchanged. */
function rejectsKeepingState(state: DakeState, fn: () => unknown, what: string): OtrError {
  const before = snapshot(state);
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof OtrError)) throw err ?? new Error(`${what}: accepted`);
  assert.is(snapshot(state), before, `${what}: state changed`);
  return err;
}

function talk(b: CryptoBackend, rnd: (n: number) => Uint8Array, from: { r: RatchetState; tag: number }, to: { r: RatchetState; tag: number }, text: string): void {
  const s = encryptDataMessage(b, rnd, from.r, utf8(text), { senderTag: from.tag, receiverTag: to.tag, extraKey: true });
  from.r = s.state;
  const d = decodeDataMessage(s.message);
  const r = decryptDataMessage(b, to.r, d, { now: 0, extraKey: true });
  to.r = r.state;
  assert.is(fromUtf8(r.plaintext), text);
  assert.ok(equalBytes(r.esk!, s.esk!));
}

for (const b of BACKENDS) {
  const t = suite(`interactive DAKE [${b.name}]`);

  function handshake(seed: number) {
    const { rnd, alice, bob } = parties(b, seed);
    const s1 = startDake(b, rnd, bob);
    const s2 = receiveIdentity(b, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
    const s3 = receiveAuthR(b, rnd, bob, s1.state, s2.message!, NOW_MS);
    const s4 = receiveAuthI(b, alice, s2.state, s3.message!);
    return { rnd, alice, bob, s1, s2, s3, s4 };
  }

  t('full handshake: equal SSIDs, both ratchets agree in both directions', () => {
    const { rnd, alice, bob, s3, s4 } = handshake(1);
    const eb = s3.established!;
    const ea = s4.established!;
    assert.ok(equalBytes(ea.ssid, eb.ssid));
    assert.is(ea.ssid.length, 8);
    assert.is(ea.ssidBoldHalf, 'first'); // Alice sent Auth-R
    assert.is(eb.ssidBoldHalf, 'second');
    assert.is(ea.peerTag, bob.instanceTag);
    assert.is(eb.peerTag, alice.instanceTag);
    assert.ok(equalBytes(ea.peerProfile.encoded, bob.profile.encoded));
    assert.is(s3.state.kind, 'idle');
    assert.is(s4.state.kind, 'idle');
    const A = { r: ea.ratchet, tag: alice.instanceTag };
    const B = { r: eb.ratchet, tag: bob.instanceTag };
    talk(b, rnd, A, B, 'alice first');
    talk(b, rnd, A, B, 'alice second');
    talk(b, rnd, B, A, 'bob');
    talk(b, rnd, A, B, 'alice again');
    talk(b, rnd, B, A, 'bob again');
  });

  t('Bob may send first right after Auth-I', () => {
    const { rnd, alice, bob, s3, s4 } = handshake(2);
    const A = { r: s4.established!.ratchet, tag: alice.instanceTag };
    const B = { r: s3.established!.ratchet, tag: bob.instanceTag };
    talk(b, rnd, B, A, 'bob first');
    talk(b, rnd, A, B, 'alice reply');
  });

  t('the SSID is KDF(0x04, K, 8) of the same K on both sides (a DH step over ECDH(x,Y) and DH(a,B))', () => {
    // Indirectly: both sides agree, and an SSID is 8 bytes of KDF output, never the raw K.
    const { s3, s4 } = handshake(3);
    assert.not.ok(equalBytes(s3.established!.ssid, new Uint8Array(8)));
    assert.ok(equalBytes(s3.established!.ssid, s4.established!.ssid));
  });

  t('tampered Identity: rejected by Alice, or (an unauthenticated value changed) by Bob at Auth-R', () => {
    const { rnd, alice, bob } = parties(b, 4);
    const s1 = startDake(b, rnd, bob);
    const id = s1.message!;
    const d = decodeIdentity(id);
    const profLen = d.profile.encoded.length;
    // Header fields, profile (count, a field, the signature), Y, B, ecdh0, dh0.
    const fields: [string, number][] = [
      ['version', 1], ['type', 2], ['sender tag', 6], ['receiver tag', 10], ['profile count', 14], ['profile field', 30],
      ['profile signature', 11 + profLen - 3], ['Y', 11 + profLen + 5], ['B', 11 + profLen + 57 + 10],
      ['ecdh0', id.length - 384 - 4 - 20], ['dh0', id.length - 7],
    ];
    for (const [what, pos] of fields) {
      const forged = id.slice();
      forged[pos]! ^= 0x02;
      let step;
      try {
        step = receiveIdentity(b, rnd, alice, DAKE_IDLE, forged, NOW_MS);
      } catch (e) {
        assert.instance(e, OtrError, what);
        continue;
      }
      // Alice could not tell: Bob's Auth-R verification must fail, with his state intact.
      rejectsKeepingState(s1.state, () => receiveAuthR(b, rnd, bob, s1.state, step.message!, NOW_MS), `Identity ${what}`);
    }
  });

  t('tampered Auth-R: every field rejected with a typed error, Bob\'s state unchanged', () => {
    const { rnd, alice, bob } = parties(b, 5);
    const s1 = startDake(b, rnd, bob);
    const s2 = receiveIdentity(b, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
    const ar = s2.message!;
    const profLen = decodeAuthR(ar).profile.encoded.length;
    const xAt = 11 + profLen;
    const aAt = xAt + 57;
    const sigmaAt = ar.length - (4 + 384) - 57 - RING_SIG_BYTES;
    const fields: [string, number][] = [
      ['version', 0], ['type', 2], ['sender tag', 5], ['receiver tag', 9], ['profile field', 20], ['profile signature', xAt - 1],
      ['X', xAt + 3], ['A', aAt + 100], ['sigma c1', sigmaAt], ['sigma r2', sigmaAt + 3 * 57 + 1], ['sigma r3', sigmaAt + 5 * 57 + 20],
      ['ecdh0', ar.length - 389 - 30], ['dh0', ar.length - 1],
    ];
    for (const [what, pos] of fields) {
      const forged = ar.slice();
      forged[pos]! ^= 0x40;
      rejectsKeepingState(s1.state, () => receiveAuthR(b, rnd, bob, s1.state, forged, NOW_MS), `Auth-R ${what}`);
    }
    // A bit flip in sigma is specifically a signature failure.
    const forged = ar.slice();
    forged[sigmaAt + 100]! ^= 1;
    const e = rejectsKeepingState(s1.state, () => receiveAuthR(b, rnd, bob, s1.state, forged, NOW_MS), 'sigma');
    assert.instance(e, OtrCryptoError);
    assert.is(e.code, 'BAD_SIGNATURE');
    // The genuine message still completes.
    assert.ok(receiveAuthR(b, rnd, bob, s1.state, ar, NOW_MS).established);
  });

  t('tampered Auth-I: every field rejected, Alice\'s state unchanged; then the real one completes', () => {
    const { rnd, alice, bob } = parties(b, 6);
    const s1 = startDake(b, rnd, bob);
    const s2 = receiveIdentity(b, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
    const s3 = receiveAuthR(b, rnd, bob, s1.state, s2.message!, NOW_MS);
    const ai = s3.message!;
    for (const pos of [0, 2, 4, 8, 11, 11 + 56, 11 + 57, 11 + 200, ai.length - 1]) {
      const forged = ai.slice();
      forged[pos]! ^= 0x10;
      rejectsKeepingState(s2.state, () => receiveAuthI(b, alice, s2.state, forged), `Auth-I byte ${pos}`);
    }
    rejectsKeepingState(s2.state, () => receiveAuthI(b, alice, s2.state, ai.subarray(0, ai.length - 1)), 'truncated Auth-I');
    assert.ok(receiveAuthI(b, alice, s2.state, ai).established);
  });

  t('sampled single-bit flips of Auth-R and Auth-I: always a typed error, the receiver\'s state unchanged', () => {
    const { rnd, alice, bob } = parties(b, 12);
    const s1 = startDake(b, rnd, bob);
    const s2 = receiveIdentity(b, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
    const s3 = receiveAuthR(b, rnd, bob, deepCopy(s1.state), s2.message!, NOW_MS);
    const flips = (msg: Uint8Array, stride: number, fn: (m: Uint8Array) => unknown, state: DakeState) => {
      const m = msg.slice();
      for (let i = 0; i < m.length; i += stride) {
        const bit = i % 8;
        m[i]! ^= 1 << bit;
        rejectsKeepingState(state, () => fn(m), `flip of byte ${i} bit ${bit}`);
        m[i]! ^= 1 << bit;
      }
    };
    flips(s2.message!, 89, (m) => receiveAuthR(b, rnd, bob, s1.state, m, NOW_MS), s1.state);
    flips(s3.message!, 23, (m) => receiveAuthI(b, alice, s2.state, m), s2.state);
  });

  t('wrong-state and wrong-instance messages are typed errors that change nothing', () => {
    const { rnd, alice, bob } = parties(b, 7);
    const s1 = startDake(b, rnd, bob);
    const s2 = receiveIdentity(b, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
    // Auth-R in the wrong state; Auth-I without Auth-R.
    assert.instance(rejectsKeepingState(s2.state, () => receiveAuthR(b, rnd, alice, s2.state, s2.message!, NOW_MS), 'Auth-R to Alice'), OtrStateError);
    const s3 = receiveAuthR(b, rnd, bob, s1.state, s2.message!, NOW_MS);
    assert.instance(rejectsKeepingState(DAKE_IDLE, () => receiveAuthI(b, alice, DAKE_IDLE, s3.message!), 'Auth-I when idle'), OtrStateError);
    // An Auth-R addressed to another instance.
    const other = { ...bob, instanceTag: 0x0c0c0c0c };
    assert.throws(() => receiveAuthR(b, rnd, other, s1.state, s2.message!, NOW_MS), (e: unknown) => e instanceof OtrError);
    // A profile whose owner tag differs from the sender tag (otr4j's rule) is refused.
    const { alice: a2 } = parties(b, 8);
    const mismatched: DakeLocal = { ...bob, profile: a2.profile };
    assert.throws(() => startDake(b, rnd, mismatched), (e: unknown) => e instanceof OtrError);
    // An expired peer profile.
    const late = NOW_MS + 8 * 24 * 3600 * 1000;
    const e = rejectsKeepingState(DAKE_IDLE, () => receiveIdentity(b, rnd, alice, DAKE_IDLE, s1.message!, late), 'expired');
    assert.is(e.code, 'EXPIRED');
  });

  t('simultaneous Identity messages: the higher SHAKE-256(MPI(B)) keeps its DAKE, the other answers', () => {
    const { rnd, alice, bob } = parties(b, 9);
    const sa = startDake(b, rnd, alice);
    const sb = startDake(b, rnd, bob);
    const aWins = tieBreakWeWin(identityTieBreak(b, decodeIdentity(sa.message!).b), identityTieBreak(b, decodeIdentity(sb.message!).b));
    const [winner, loser] = aWins ? [{ l: alice, s: sa }, { l: bob, s: sb }] : [{ l: bob, s: sb }, { l: alice, s: sa }];
    // The winner ignores the loser's Identity and resends its own, keeping its state.
    const w1 = receiveIdentity(b, rnd, winner.l, winner.s.state, loser.s.message!, NOW_MS);
    assert.is(w1.state, winner.s.state);
    assert.ok(equalBytes(w1.message!, winner.s.message!));
    // The loser answers the winner's Identity with an Auth-R.
    const l1 = receiveIdentity(b, rnd, loser.l, loser.s.state, winner.s.message!, NOW_MS);
    assert.is(l1.state.kind, 'awaiting-auth-i');
    const w2 = receiveAuthR(b, rnd, winner.l, w1.state, l1.message!, NOW_MS);
    const l2 = receiveAuthI(b, loser.l, l1.state, w2.message!);
    assert.ok(equalBytes(w2.established!.ssid, l2.established!.ssid));
    // The tie-break hash is plain SHAKE-256 over the MPI, no "OTRv4" prefix.
    const B = decodeIdentity(sa.message!).b;
    const mpi = new Uint8Array(4 + B.length);
    new DataView(mpi.buffer).setUint32(0, B.length);
    mpi.set(B, 4);
    assert.ok(equalBytes(identityTieBreak(b, B), b.shake256([mpi], 32)));
  });

  t('an Identity while awaiting Auth-I is handled as new: fresh keys, the old Auth-R is void', () => {
    const { rnd, alice, bob } = parties(b, 10);
    const s1 = startDake(b, rnd, bob);
    const s2 = receiveIdentity(b, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
    const s1b = startDake(b, rnd, bob, alice.instanceTag);
    const s2b = receiveIdentity(b, rnd, alice, s2.state, s1b.message!, NOW_MS);
    assert.is(s2b.state.kind, 'awaiting-auth-i');
    assert.not.ok(equalBytes(decodeAuthR(s2b.message!).x, decodeAuthR(s2.message!).x));
    const s3b = receiveAuthR(b, rnd, bob, s1b.state, s2b.message!, NOW_MS);
    assert.ok(receiveAuthI(b, alice, s2b.state, s3b.message!).established);
  });

  t('a DAKE restart leaves a running ratchet untouched until the new one completes', () => {
    const { rnd, alice, bob, s3, s4 } = handshake(11);
    const A = { r: s4.established!.ratchet, tag: alice.instanceTag };
    const B = { r: s3.established!.ratchet, tag: bob.instanceTag };
    talk(b, rnd, A, B, 'before');
    const before = snapshot(A.r);
    const n1 = startDake(b, rnd, bob, alice.instanceTag);
    const n2 = receiveIdentity(b, rnd, alice, DAKE_IDLE, n1.message!, NOW_MS);
    assert.is(snapshot(A.r), before);
    talk(b, rnd, B, A, 'during'); // the old session still works
    const n3 = receiveAuthR(b, rnd, bob, n1.state, n2.message!, NOW_MS);
    const n4 = receiveAuthI(b, alice, n2.state, n3.message!);
    assert.not.ok(equalBytes(n3.established!.ssid, s3.established!.ssid));
    talk(b, rnd, { r: n4.established!.ratchet, tag: alice.instanceTag }, { r: n3.established!.ratchet, tag: bob.instanceTag }, 'after');
  });

  t.run();
}
