/**
 * The DAKE signing with an identity key pair checked once (ring-sig.ts checkSigningKey; DakeLocal.identitySigner;
 * Account.identitySigner): the same wire bytes and ratchets as signing with the bare scalar, two fixed-base
 * products (the per-signature G·secret checks) fewer per DAKE, and a pair that does not match still refused
 * before anything is signed (docs/performance.md §The interactive DAKE's time).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CryptoBackend, RingSignCommitArgs } from '../ts/backend/types.js';
import { HYBRID, JS, WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { bytesToHex, utf8 } from '../ts/bytes.js';
import { OtrArgumentError } from '../ts/errors.js';
import { ed448KeyPair } from '../ts/crypto/eddsa.js';
import { checkSigningKey } from '../ts/crypto/ring-sig.js';
import { createClientProfile } from '../ts/profile/client-profile.js';
import { DAKE_IDLE, receiveAuthI, receiveAuthR, receiveIdentity, startDake, type DakeLocal } from '../ts/ake/index.js';
import { makePair, establish } from './helpers/session-pair.js';

const NOW_MS = 1_700_000_000_000;
const EXPIRY = BigInt(NOW_MS / 1000 + 7 * 24 * 3600);

function makeLocal(b: CryptoBackend, rnd: (n: number) => Uint8Array, tag: number, account: string, peer: string): DakeLocal {
  const identity = ed448KeyPair(b, rnd(57));
  const forging = ed448KeyPair(b, rnd(57));
  const profile = createClientProfile(b, { ownerTag: tag, identitySecret: identity.secret, forgingKey: forging.publicKey, versions: '4', expiry: EXPIRY });
  return { instanceTag: tag, profile, identityScalar: identity.scalar, accountId: utf8(account), peerAccountId: utf8(peer) };
}

/** The backend with pointMulBase counted and the fused ring-sign call's secretChecked flags recorded. */
function counting(b: CryptoBackend) {
  const r = { mulBase: 0, flags: [] as boolean[], backend: b };
  r.backend = {
    ...b,
    pointMulBase: (k: Uint8Array) => (r.mulBase++, b.pointMulBase(k)),
    ...(b.ringSignCommitments ? { ringSignCommitments: (a: RingSignCommitArgs) => (r.flags.push(a.secretChecked === true), b.ringSignCommitments!(a)) } : {}),
  };
  return r;
}

/** One DAKE, both sides, with one seeded stream (as a transcript test would): messages, SSIDs and first chains. */
function run(b: CryptoBackend, seed: number, withSigner: boolean) {
  const rnd = seededRandom(seed);
  let bob = makeLocal(b, rnd, 0x0b0b0b0b, 'bob@example.org', 'alice@example.org');
  let alice = makeLocal(b, rnd, 0x0a0a0a0a, 'alice@example.org', 'bob@example.org');
  if (withSigner) {
    bob = { ...bob, identitySigner: checkSigningKey(b, bob.identityScalar, bob.profile.identityKey) };
    alice = { ...alice, identitySigner: checkSigningKey(b, alice.identityScalar, alice.profile.identityKey) };
  }
  const c = counting(b);
  const s1 = startDake(c.backend, rnd, bob);
  const s2 = receiveIdentity(c.backend, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
  const s3 = receiveAuthR(c.backend, rnd, bob, s1.state, s2.message!, NOW_MS);
  const s4 = receiveAuthI(c.backend, alice, s2.state, s3.message!);
  const out = [s1.message!, s2.message!, s3.message!, s3.established!.ssid, s4.established!.ssid, s4.established!.ratchet.sendChain!, s3.established!.ratchet.rootKey];
  return { hex: out.map(bytesToHex), mulBase: c.mulBase, flags: c.flags };
}

test('with the checked identity key pair the DAKE sends the same bytes and derives the same keys, two G·secret fewer', () => {
  for (const b of [WASM, JS, HYBRID]) {
    const plain = run(b, 71, false);
    const checked = run(b, 71, true);
    assert.equal(checked.hex, plain.hex, b.name);
    if (b.ringSignCommitments) {
      // Fused backends compute G·secret inside the signing call: now told to skip it, in both signatures.
      assert.equal(plain.flags, [false, false], `${b.name} bare scalar`);
      assert.equal(checked.flags, [true, true], `${b.name} checked pair`);
      assert.is(checked.mulBase, plain.mulBase, b.name);
    } else {
      assert.is(plain.mulBase - checked.mulBase, 2, `${b.name}: one G·secret per ring signature saved`);
    }
  }
});

test('a signer that is not our profile identity key is refused at every DAKE entry point, before anything is signed', () => {
  for (const b of [WASM, JS]) {
    const rnd = seededRandom(72);
    const bob = makeLocal(b, rnd, 0x0b0b0b0b, 'bob@example.org', 'alice@example.org');
    const alice = makeLocal(b, rnd, 0x0a0a0a0a, 'alice@example.org', 'bob@example.org');
    // A genuinely checked pair, but someone else's: the DAKE must not sign as it.
    const other = ed448KeyPair(b, rnd(57));
    const foreign = checkSigningKey(b, other.scalar, other.publicKey);
    const badBob: DakeLocal = { ...bob, identitySigner: foreign };
    const badAlice: DakeLocal = { ...alice, identitySigner: foreign };
    const isArg = (e: unknown) => e instanceof OtrArgumentError && /identity signer/.test(e.message);
    assert.throws(() => startDake(b, rnd, badBob), isArg);
    const s1 = startDake(b, rnd, bob);
    assert.throws(() => receiveIdentity(b, rnd, badAlice, DAKE_IDLE, s1.message!, NOW_MS), isArg);
    const s2 = receiveIdentity(b, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
    assert.throws(() => receiveAuthR(b, rnd, badBob, s1.state, s2.message!, NOW_MS), isArg);
    // The states were left as they were: the honest sides still finish.
    const s3 = receiveAuthR(b, rnd, bob, s1.state, s2.message!, NOW_MS);
    assert.ok(receiveAuthI(b, alice, s2.state, s3.message!).established);
  }
});

test('Account: the identity key pair is checked once and reused by its conversations; a pair spoilt in memory is refused before signing', () => {
  const c = counting(WASM);
  const p = makePair(c.backend, 73);
  const s1 = p.alice.identitySigner;
  assert.is(p.alice.identitySigner, s1, 'checked once, then the same object');
  assert.is(bytesToHex(s1.publicKey), bytesToHex(p.alice.clientProfile.identityKey));
  establish(p);
  assert.equal(c.flags, [true, true], 'both signatures of a session DAKE skip G·secret');

  // A key pair whose scalar no longer gives the profile's identity key (corrupted memory, a bug): the first
  // DAKE's check refuses it with the ring signature's error, and no DAKE message is signed with it.
  const q = makePair(WASM, 74);
  q.bob.identity.scalar[0]! ^= 1;
  assert.throws(() => q.bob.identitySigner, (e: unknown) => e instanceof OtrArgumentError && /does not match/.test(e.message));
});

test.run();
