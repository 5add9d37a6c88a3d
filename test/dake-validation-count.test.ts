/**
 * How many group checks one interactive DAKE makes (docs/performance.md §Validation in the DAKE): every
 * point and DH value from the peer is validated once where it enters, and later uses take the marked values
 * (ts/crypto/validated.ts) instead of checking again. The backend is wrapped to record each pointIsValid and
 * legendre call with its argument, so a regression in either direction fails here: a lost check (a peer
 * value used without ever being validated) or a duplicate one (the count grows back). Auth-I checks nothing:
 * the peer values kept in the awaiting-auth-i state were validated when the Identity brought them, and a
 * state restored from storage is checked by the restore (session/persist.ts dakeFromValue) before it is marked.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CryptoBackend, DhGroupName } from '../ts/backend/types.js';
import { BACKENDS, HYBRID } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { bigToBytesBE, bytesToHex, utf8 } from '../ts/bytes.js';
import { DH_GROUPS } from '../ts/crypto/dh-groups.js';
import { OtrCryptoError } from '../ts/errors.js';
import { ed448KeyPair } from '../ts/crypto/eddsa.js';
import { createClientProfile } from '../ts/profile/client-profile.js';
import { decodeAuthR, decodeIdentity, encodeIdentity } from '../ts/wire/dake.js';
import { DAKE_IDLE, receiveAuthI, receiveAuthR, receiveIdentity, startDake, type DakeLocal } from '../ts/ake/index.js';
import { dakeFromValue, dakeToValue } from '../ts/session/persist.js';
import type { StateValue } from '../ts/session/state-codec.js';
import { OtrDecodeError } from '../ts/errors.js';

const NOW_MS = 1_700_000_000_000;
const EXPIRY = BigInt(NOW_MS / 1000 + 7 * 24 * 3600);

interface Recorder {
  readonly backend: CryptoBackend;
  points: string[];
  dh: string[];
}

/** The backend with pointIsValid and legendre recorded (hex of the argument; DH values without leading zeros). */
function recording(b: CryptoBackend): Recorder {
  const r: Recorder = { backend: b, points: [], dh: [] };
  const wrapped: CryptoBackend = Object.create(b);
  Object.assign(wrapped, {
    pointIsValid: (p: Uint8Array) => {
      r.points.push(bytesToHex(p));
      return b.pointIsValid(p);
    },
    legendre: (g: DhGroupName, x: Uint8Array) => {
      r.dh.push(bytesToHex(x).replace(/^(00)+/, ''));
      return b.legendre(g, x);
    },
  });
  (r as { backend: CryptoBackend }).backend = wrapped;
  return r;
}

function makeLocal(b: CryptoBackend, rnd: (n: number) => Uint8Array, tag: number, account: string, peer: string): DakeLocal {
  const identitySecret = rnd(57);
  const forging = ed448KeyPair(b, rnd(57));
  const profile = createClientProfile(b, { ownerTag: tag, identitySecret, forgingKey: forging.publicKey, versions: '4', expiry: EXPIRY });
  return { instanceTag: tag, profile, identityScalar: ed448KeyPair(b, identitySecret).scalar, accountId: utf8(account), peerAccountId: utf8(peer) };
}

/** Bob and Alice (in that order) drawn from one seeded source, which the test goes on drawing from. */
function parties(b: CryptoBackend, seed: number): { rnd: (n: number) => Uint8Array; bob: DakeLocal; alice: DakeLocal } {
  const rnd = seededRandom(seed);
  const bob = makeLocal(b, rnd, 0x0b0b0b0b, 'bob@example.org', 'alice@example.org');
  const alice = makeLocal(b, rnd, 0x0a0a0a0a, 'alice@example.org', 'bob@example.org');
  return { rnd, bob, alice };
}

/** The encoding of the point of order 2, (0, -1): y = p - 1. */
function order2Point(): Uint8Array {
  const order2 = new Uint8Array(57).fill(0xff);
  order2[0] = 0xfe;
  order2[28] = 0xfe;
  order2[56] = 0;
  return order2;
}

const hex = (x: Uint8Array): string => bytesToHex(x).replace(/^(00)+/, '');
const sorted = (xs: readonly string[]): string[] => [...xs].sort();

for (const b0 of [...BACKENDS, HYBRID]) {
  const t = suite(`DAKE validation count [${b0.name}]`);

  t('each peer value is validated once, where it enters; 8 point checks and 4 Legendre symbols per DAKE', () => {
    const { rnd, bob, alice } = parties(b0, 7);
    const rec = recording(b0);
    const b = rec.backend;

    const s1 = startDake(b, rnd, bob);
    assert.equal([rec.points.length, rec.dh.length], [0, 0], 'Identity: our own keys are not checked');
    const id = decodeIdentity(s1.message!);

    // Alice receives Identity: Bob's H and F (profile), Y and his first ECDH key; B and his first DH value.
    rec.points = [];
    rec.dh = [];
    const s2 = receiveIdentity(b, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
    assert.equal(sorted(rec.points), sorted([id.profile.identityKey, id.profile.forgingKey, id.y, id.ecdhFirst].map(hex)));
    assert.equal(sorted(rec.dh), sorted([id.b, id.dhFirst].map(hex)));
    const ar = decodeAuthR(s2.message!);

    // Bob receives Auth-R: Alice's H and F, X and her first ECDH key; A and her first DH value. Nothing of his own.
    rec.points = [];
    rec.dh = [];
    const s3 = receiveAuthR(b, rnd, bob, s1.state, s2.message!, NOW_MS);
    assert.ok(s3.established);
    assert.equal(sorted(rec.points), sorted([ar.profile.identityKey, ar.profile.forgingKey, ar.x, ar.ecdhFirst].map(hex)));
    assert.equal(sorted(rec.dh), sorted([ar.a, ar.dhFirst].map(hex)));

    // Alice receives Auth-I: the peer values her state kept were validated on receipt of the Identity.
    rec.points = [];
    rec.dh = [];
    const s4 = receiveAuthI(b, alice, s2.state, s3.message!);
    assert.ok(s4.established);
    assert.equal([rec.points.length, rec.dh.length], [0, 0], 'Auth-I: nothing checked again');
  });

  t('a restored awaiting-auth-i state is checked once by the restore (H, first ECDH key, first DH value), then Auth-I checks nothing', () => {
    const { rnd, bob, alice } = parties(b0, 9);
    const s1 = startDake(b0, rnd, bob);
    const id = decodeIdentity(s1.message!);
    const s2 = receiveIdentity(b0, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
    const s3 = receiveAuthR(b0, rnd, bob, s1.state, s2.message!, NOW_MS);
    const rec = recording(b0);
    const restored = dakeFromValue(rec.backend, dakeToValue(s2.state));
    assert.equal(sorted(rec.points), sorted([id.profile.identityKey, id.ecdhFirst].map(hex)));
    assert.equal(rec.dh, [hex(id.dhFirst)]);
    rec.points = [];
    rec.dh = [];
    const s4 = receiveAuthI(rec.backend, alice, restored, s3.message!);
    assert.ok(s4.established);
    assert.equal([rec.points.length, rec.dh.length], [0, 0]);
    assert.equal(bytesToHex(s4.established!.ssid), bytesToHex(s3.established!.ssid));
  });

  t('a restored awaiting-auth-i state with an invalid peer value is refused by the restore (OtrDecodeError)', () => {
    const { rnd, bob, alice } = parties(b0, 10);
    const s2 = receiveIdentity(b0, rnd, alice, DAKE_IDLE, startDake(b0, rnd, bob).message!, NOW_MS);
    const good = dakeToValue(s2.state) as Record<string, StateValue>;
    // A point of order 2 ((0, -1)); DH values out of range (1, p - 1) and in range but not a residue (p - 2:
    // p = 7 mod 8, so -1 is a non-residue and 2 a residue).
    const order2 = order2Point();
    const { p } = DH_GROUPS.modp3072;
    // The profile with its identity key (found by value in the exact encoding) replaced by the torsion point.
    const profileBytes = (good.peerProfile as Uint8Array).slice();
    const at = bytesToHex(profileBytes).indexOf(bytesToHex(s2.state.kind === 'awaiting-auth-i' ? s2.state.peerProfile.identityKey : new Uint8Array(57)));
    assert.ok(at >= 0 && at % 2 === 0);
    profileBytes.set(order2, at / 2);
    for (const [field, bad] of [
      ['theirEcdh0', order2],
      ['theirDh0', Uint8Array.of(1)],
      ['theirDh0', bigToBytesBE(p - 1n, 384)],
      ['theirDh0', bigToBytesBE(p - 2n, 384)],
      ['peerProfile', profileBytes],
    ] as const) {
      const v = { ...good, [field]: bad };
      assert.throws(() => dakeFromValue(b0, v), (e: unknown) => e instanceof OtrDecodeError && /not a valid point|not in the group/.test(e.message), `${field} ${bytesToHex(bad).slice(0, 16)}`);
    }
    assert.is(dakeFromValue(b0, good).kind, 'awaiting-auth-i');
  });

  t('a bad peer value is still refused at entry, before any use', () => {
    const { rnd, bob, alice } = parties(b0, 8);
    const s1 = startDake(b0, rnd, bob);
    const id = decodeIdentity(s1.message!);
    // A torsion Y (the point of order 2, (0, -1): y = p - 1) and a DH value out of range (1).
    const order2 = order2Point();
    const badY = encodeIdentity({ senderTag: id.senderTag, receiverTag: id.receiverTag, profile: id.profile, y: order2, b: id.b, ecdhFirst: id.ecdhFirst, dhFirst: id.dhFirst });
    const rec = recording(b0);
    let err: unknown;
    try {
      receiveIdentity(rec.backend, rnd, alice, DAKE_IDLE, badY, NOW_MS);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof OtrCryptoError && err.code === 'INVALID_POINT', String(err));
    const badFirst = encodeIdentity({ senderTag: id.senderTag, receiverTag: id.receiverTag, profile: id.profile, y: id.y, b: id.b, ecdhFirst: id.ecdhFirst, dhFirst: Uint8Array.of(1) });
    err = undefined;
    try {
      receiveIdentity(rec.backend, rnd, alice, DAKE_IDLE, badFirst, NOW_MS);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof OtrCryptoError && err.code === 'INVALID_DH_VALUE', String(err));
  });

  t.run();
}
