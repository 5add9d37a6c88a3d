/**
 * hostile.*: the most expensive message of each type an UNAUTHENTICATED peer can send, through
 * Conversation.receive() of a victim, per backend (issue 10: no single such message may cost more CPU than one
 * honest DAKE step; compare `dake.interactive` / 2 in protocol.ts). Each case is built so it can repeat: the
 * victim's state after a refused message is the state before it, and the replay cache and DAKE budget are
 * set out of the way (they would make repeats cheap — the point is the cost of ONE message).
 *   hostile.identity       a valid Identity (own key, transitional DSA key and signature: the full responder
 *                          step, Auth-R made), a fresh one each time under one attacker tag;
 *   hostile.identity.bigp  an Identity whose signed profile carries a DSA p of 1 Mbit (13.5 s before the
 *                          bounded reader; now refused while decoding);
 *   hostile.auth-r         an Auth-R to our pending Identity with a valid profile and a forged ring signature
 *                          (profile, points, DH values and the ring verification all run);
 *   hostile.auth-i         an Auth-I with a forged ring signature to a DAKE we answered;
 *   hostile.nia            a Non-Interactive-Auth with a forged ring signature against our published prekey;
 *   hostile.data           a data message that starts a new DH ratchet, MAC forged (ECDH and 3072-bit DH run
 *                          before the MAC check fails).
 */
import type { BenchCase, BenchContext, Impl } from '../harness.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import { Account } from '../../ts/session/account.js';
import type { Conversation } from '../../ts/session/conversation.js';
import { systemRandom } from '../../ts/crypto/random.js';
import { ed448KeyPair } from '../../ts/crypto/eddsa.js';
import { generateEcdh } from '../../ts/crypto/ecdh.js';
import { dsaGenerateKey, type DsaPrivateKey } from '../../ts/crypto/dsa.js';
import { createClientProfile, expiryFromNow, signClientProfile } from '../../ts/profile/client-profile.js';
import { startDake, type DakeLocal } from '../../ts/ake/interactive.js';
import { sendNonInteractiveAuth } from '../../ts/offline/dake.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { utf8 } from '../../ts/bytes.js';
import type { Limits } from '../../ts/limits.js';

export const ALICE = 'alice@example.org';
export const BOB = 'bob@example.org';
/** Out of the way: every message is fully processed (the budget and the replay cache are tested elsewhere). */
export const OPEN_LIMITS = { dakeBudgetPeerBurst: 1e9, dakeBudgetAccountBurst: 1e9, maxRememberedIdentities: 1 };

let dsa: DsaPrivateKey | undefined;
export function dsaKey(): DsaPrivateKey {
  return (dsa ??= dsaGenerateKey(systemRandom));
}

function attacker(b: CryptoBackend, tag: number, withDsa: boolean): DakeLocal {
  const secret = systemRandom(57);
  const profile = createClientProfile(b, {
    ownerTag: tag,
    identitySecret: secret,
    forgingKey: generateEcdh(b, systemRandom).public,
    versions: withDsa ? '34' : '4',
    expiry: expiryFromNow(Date.now(), 86400),
    ...(withDsa ? { dsaKey: dsaKey(), random: systemRandom } : {}),
  });
  return { instanceTag: tag, profile, identityScalar: ed448KeyPair(b, secret).scalar, accountId: utf8(BOB), peerAccountId: utf8(ALICE) };
}

/** A live account (Alice) and its conversation with Bob; `limits` add to OPEN_LIMITS (hostile-v3.ts). */
export function victim(b: CryptoBackend, limits: Partial<Limits> = {}): { acct: Account; conv: Conversation } {
  const acct = Account.create({ accountId: ALICE, backend: b, dsaKey: dsaKey(), limits: { ...OPEN_LIMITS, ...limits } });
  return { acct, conv: acct.conversation(BOB) };
}

export function cycle(msgs: string[]): () => string {
  let i = 0;
  return () => msgs[i++ % msgs.length]!;
}

export function forge(text: string, fromEnd: number): string {
  const m = dearmour(text);
  m[m.length - fromEnd]! ^= 0x01;
  return armour(m);
}

function casesFor(b: CryptoBackend, impl: Impl): BenchCase[] {
  const out: BenchCase[] = [];
  // Identity: a pool of distinct valid Identities from one attacker tag (each replaces the last pending DAKE).
  {
    const v = victim(b);
    const x = attacker(b, 0x6000_0001, true);
    const next = cycle(Array.from({ length: 8 }, () => armour(startDake(b, systemRandom, x, 0).message!)));
    out.push({ name: 'hostile.identity', impl, fn: () => v.conv.receive(next()) });
  }
  // Identity with a megabit DSA p, the profile validly Ed448-signed by the attacker.
  {
    const v = victim(b);
    const secret = systemRandom(57);
    const k = dsaKey();
    const profile = signClientProfile(
      b,
      {
        ownerTag: 0x6000_0002,
        identityKey: ed448KeyPair(b, secret).publicKey,
        forgingKey: generateEcdh(b, systemRandom).public,
        versions: '34',
        expiry: expiryFromNow(Date.now(), 86400),
        // p = 2kq + 1: odd and q | p − 1, so the old structural check went on to g^q mod p over a megabit.
        dsaKey: { p: 2n * ((1n << 999_999n) / k.q) * k.q + 1n, q: k.q, g: 2n, y: 3n },
        transitionalSignature: systemRandom(40),
      },
      secret,
    );
    const local: DakeLocal = { instanceTag: 0x6000_0002, profile, identityScalar: ed448KeyPair(b, secret).scalar, accountId: utf8(BOB), peerAccountId: utf8(ALICE) };
    const next = cycle(Array.from({ length: 4 }, () => armour(startDake(b, systemRandom, local, 0).message!)));
    out.push({ name: 'hostile.identity.bigp', impl, fn: () => v.conv.receive(next()) });
  }
  // Auth-R with a forged ring signature, to our pending (unbound) Identity.
  {
    const v = victim(b);
    const ours = v.conv.startDake().toSend[0]!;
    const bobAcct = Account.create({ accountId: BOB, backend: b, dsaKey: null, limits: OPEN_LIMITS });
    const authR = bobAcct.conversation(ALICE).receive(ours).toSend[0]!;
    // sigma sits before ecdh0 (57) and dh0 (4 + 384): flip one byte inside it.
    const forged = forge(authR, 57 + 388 + 10);
    out.push({ name: 'hostile.auth-r', impl, fn: () => v.conv.receive(forged) });
  }
  // Auth-I with a forged ring signature, to a DAKE we answered.
  {
    const v = victim(b);
    const bobAcct = Account.create({ accountId: BOB, backend: b, dsaKey: null, limits: OPEN_LIMITS });
    const bob = bobAcct.conversation(ALICE);
    const authR = bob.startDake().toSend.flatMap((m) => v.conv.receive(m).toSend);
    const authI = authR.flatMap((m) => bob.receive(m).toSend)[0]!;
    const forged = forge(authI, 10);
    out.push({ name: 'hostile.auth-i', impl, fn: () => v.conv.receive(forged) });
  }
  // Non-Interactive-Auth with a forged ring signature, against our published prekey.
  {
    const v = victim(b);
    const pub = v.acct.prekeyPublication(1);
    const ensemble = { clientProfile: pub.clientProfile!, prekeyProfile: pub.prekeyProfile!.profile, prekeyMessage: pub.prekeys![0]!.message };
    const x = attacker(b, 0x6000_0003, false);
    const nia = sendNonInteractiveAuth(b, systemRandom, x, ensemble, Date.now()).message;
    // sigma is followed by the prekey id (4), the Auth MAC (64), ecdh0 (57) and dh0 (4 + 384): flip a byte inside sigma.
    const m = nia.slice();
    m[m.length - 388 - 57 - 64 - 4 - 10]! ^= 1;
    const forged = armour(m);
    out.push({ name: 'hostile.nia', impl, fn: () => v.conv.receive(forged) });
  }
  // A data message that starts a new DH ratchet, MAC forged, on an established session.
  {
    const v = victim(b);
    const bobAcct = Account.create({ accountId: BOB, backend: b, dsaKey: null, limits: OPEN_LIMITS });
    const bob = bobAcct.conversation(ALICE);
    for (const m of v.conv.start().toSend) for (const r of bob.receive(m).toSend) for (const s of v.conv.receive(r).toSend) for (const t of bob.receive(s).toSend) v.conv.receive(t);
    // Ping-pong until Bob's next message carries a DH key (every third ratchet), then forge its MAC.
    let forged = '';
    for (let i = 0; i < 6 && !forged; i++) {
      v.conv.receive(bob.send(`x${i}`).toSend[0]!);
      const nxt = bob.send(`y${i}`).toSend[0]!;
      bob.receive(v.conv.send(`z${i}`).toSend[0]!);
      const bytes = dearmour(nxt);
      if (bytes.length > 400) forged = forge(nxt, 1 + 4);
    }
    const msg = forged || forge(bob.send('fallback').toSend[0]!, 5);
    out.push({ name: 'hostile.data', impl, fn: () => v.conv.receive(msg) });
  }
  return out;
}

export function cases(ctx: BenchContext): BenchCase[] {
  return [...casesFor(ctx.wasm, 'wasm'), ...casesFor(ctx.js, 'js')];
}
