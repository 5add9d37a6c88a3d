/**
 * A hostile peer for the attack suites: it holds its own keys (anyone can make a valid client profile) and
 * crafts OTRv4 messages with whatever fields it likes, signed where a signature is needed so that only the
 * check under test can refuse them. Nothing here is a test by itself.
 */
import type { CryptoBackend } from '../../ts/backend/types.js';
import { ed448KeyPair, type Ed448KeyPair } from '../../ts/crypto/eddsa.js';
import { generateEcdh } from '../../ts/crypto/ecdh.js';
import type { DsaPublicKey } from '../../ts/crypto/dsa.js';
import { expiryFromNow, signClientProfile, type ClientProfile } from '../../ts/profile/client-profile.js';
import { startDake, type DakeLocal } from '../../ts/ake/interactive.js';
import { armour } from '../../ts/codec/armour.js';
import { utf8 } from '../../ts/bytes.js';
import { seededRandom } from '../helpers/rng.js';

export interface Attacker {
  readonly tag: number;
  readonly identity: Ed448KeyPair;
  readonly profile: ClientProfile;
  readonly random: (n: number) => Uint8Array;
}

export interface AttackerOptions {
  tag: number;
  seed: number;
  nowMs: number;
  /** A transitional DSA key to put in the profile (with a meaningless transitional signature). */
  dsaKey?: DsaPublicKey;
}

/** An attacker with a validly Ed448-signed client profile of its own. */
export function makeAttacker(b: CryptoBackend, o: AttackerOptions): Attacker {
  const random = seededRandom(o.seed);
  const identity = ed448KeyPair(b, random(57));
  const forging = generateEcdh(b, random);
  const profile = signClientProfile(
    b,
    {
      ownerTag: o.tag,
      identityKey: identity.publicKey,
      forgingKey: forging.public,
      versions: o.dsaKey ? '34' : '4',
      expiry: expiryFromNow(o.nowMs, 7 * 24 * 3600),
      ...(o.dsaKey ? { dsaKey: o.dsaKey, transitionalSignature: random(40) } : {}),
    },
    identity.secret,
  );
  return { tag: o.tag, identity, profile, random };
}

/** The attacker's DAKE identity towards `victimId` as `claimedId`. */
export function attackerLocal(a: Attacker, claimedId: string, victimId: string): DakeLocal {
  return { instanceTag: a.tag, profile: a.profile, identityScalar: a.identity.scalar, accountId: utf8(claimedId), peerAccountId: utf8(victimId) };
}

/** A fresh, valid Identity message from the attacker (armoured), addressed to `receiverTag` (0: anyone). */
export function attackerIdentity(b: CryptoBackend, a: Attacker, claimedId: string, victimId: string, receiverTag = 0): string {
  const r = startDake(b, a.random, attackerLocal(a, claimedId, victimId), receiverTag);
  return armour(r.message!);
}

// ------------------------------------------------------------------ OTRv3-capable pairs (downgrade suites)

import { Account, type Outcome } from '../../ts/index.js';
import type { Conversation } from '../../ts/session/conversation.js';
import type { Limits } from '../../ts/limits.js';
import type { Policy } from '../../ts/session/policy.js';
import { V3Conversation } from '../../ts/v3/index.js';
import { testDsaKey } from '../interop/v3-pair.js';
import { pump, testClock, type TestClock } from '../helpers/session-pair.js';

export interface V34Pair {
  clock: TestClock;
  alice: Account;
  bob: Account;
  a: Conversation;
  b: Conversation;
}

/** Alice and Bob, both allowing OTRv3 and OTRv4 (each with a DSA key). */
export function makeV34Pair(b: CryptoBackend, seed: number, o: { policy?: Partial<Policy>; limits?: Partial<Limits> } = {}): V34Pair {
  const clock = testClock();
  const common = { backend: b, clock, policy: o.policy, limits: o.limits };
  const alice = Account.create({ accountId: 'alice@example.org', random: seededRandom(seed), dsaKey: testDsaKey(0xa11ce), ...common });
  const bob = Account.create({ accountId: 'bob@example.org', random: seededRandom(seed + 1), dsaKey: testDsaKey(0xb0b), ...common });
  return { clock, alice, bob, a: alice.conversation('bob@example.org'), b: bob.conversation('alice@example.org') };
}

/** The two of them after an OTRv4 DAKE started by Alice's query. */
export function establishedV34(b: CryptoBackend, seed: number, o: { policy?: Partial<Policy>; limits?: Partial<Limits> } = {}): V34Pair {
  const p = makeV34Pair(b, seed, o);
  pump(p.a, p.b, p.a.start());
  if (p.a.version !== 4 || p.b.version !== 4) throw new Error('OTRv4 DAKE did not complete');
  return p;
}

export const MALLORY_TAG = 0x3333_0300;

/** Mallory: an OTRv3 client with a DSA key of her own, under her own instance tag. */
export function mallory(b: CryptoBackend, clock: () => number, seed = 77): V3Conversation {
  return new V3Conversation({ backend: b, dsaKey: testDsaKey(0x3a11), instanceTag: MALLORY_TAG, random: seededRandom(seed), now: clock });
}

/** Runs Mallory against `victim` until quiet; returns the victim's outcomes. */
export function pumpV3(victim: Conversation, m: V3Conversation, first: string[]): Outcome[] {
  const outs: Outcome[] = [];
  let toVictim = first;
  for (let guard = 0; toVictim.length && guard < 20; guard++) {
    const toM: string[] = [];
    for (const t of toVictim) {
      const r = victim.receive(t);
      outs.push(r);
      toM.push(...r.toSend);
    }
    toVictim = [];
    for (const t of toM) toVictim.push(...m.receive(t).toSend);
  }
  return outs;
}

// ------------------------------------------------------------------ the largest profile every bound allows

import { Writer } from '../../ts/codec/primitives.js';
import { bigToBytesBE, bytesToBigBE } from '../../ts/bytes.js';
import { dsaSign, DSA_MAX_P_BITS, DSA_Q_BYTES, type DsaPrivateKey } from '../../ts/crypto/dsa.js';
import { ed448Sign } from '../../ts/crypto/eddsa.js';
import { decodeClientProfile } from '../../ts/profile/client-profile.js';
import { encodeProfileFields } from '../../ts/profile/encoding.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';

function padded(v: bigint, len: number): Uint8Array {
  return bigToBytesBE(v, len);
}

/**
 * An attacker whose valid, signed client profile is as large as the decoders allow: the longest versions
 * string, and the DSA key's MPIs padded with leading zeros to the bounded reader's maxima (interpretations.md
 * §1 makes readers accept them; the signatures cover the bytes as sent). What a pending DAKE stores is then
 * the most an unauthenticated peer can make us keep.
 */
export function makeBloatedAttacker(b: CryptoBackend, o: { tag: number; seed: number; nowMs: number; dsa: DsaPrivateKey }): Attacker {
  const random = seededRandom(o.seed);
  const identity = ed448KeyPair(b, random(57));
  const forging = generateEcdh(b, random);
  const versions = '4' + '3'.repeat(DEFAULT_LIMITS.maxProfileVersionsBytes - 1);
  const base = { ownerTag: o.tag, identityKey: identity.publicKey, forgingKey: forging.public, versions, expiry: expiryFromNow(o.nowMs, 7 * 24 * 3600) };
  const maxP = DSA_MAX_P_BITS / 8;
  const w = new Writer(2048);
  w.raw(encodeProfileFields(base, 5));
  w.short(6).short(0).data(padded(o.dsa.p, maxP)).data(padded(o.dsa.q, DSA_Q_BYTES)).data(padded(o.dsa.g, maxP)).data(padded(o.dsa.y, maxP));
  const upTo6 = w.finish();
  const sig = dsaSign(o.dsa, bytesToBigBE(upTo6), random);
  const f = new Writer(2048);
  f.raw(upTo6).short(7).raw(bigToBytesBE(sig.r, DSA_Q_BYTES)).raw(bigToBytesBE(sig.s, DSA_Q_BYTES));
  const fields = f.finish();
  const e = new Writer(2048);
  e.int(7).raw(fields).raw(ed448Sign(b, identity.secret, fields));
  const profile = decodeClientProfile(e.finish());
  return { tag: o.tag, identity, profile, random };
}
