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
