/**
 * Protocol-level costs on each backend, measured side by side:
 *   dake.interactive  — one full interactive DAKE, both sides (Identity, Auth-R, Auth-I, both ratchets seeded:
 *                        each side's identity key pair checked once beforehand, as an Account does;
 *                        Alice's sending chain made, Bob's first sending step left due until his first
 *                        message, as ratchet/init.ts does in every session; docs/performance.md §Bob's
 *                        first sending step);
 *   data.100 / data.4k — one data message sent and received (encode, MAC, ChaCha20, decode, verify, decrypt)
 *                        on an established chain: the per-message hot path, no ratchet step. The chain is
 *                        Alice's ratchet 1, like two chains in three without the 384-byte DH key in the
 *                        header (a ratchet-0 chain carries it in every message: a few µs more of hashing);
 *   ratchet.pingpong  — one message with the sender alternating, so every message is a new ratchet (an ECDH
 *                        step each, a 3072-bit DH step every third).
 * Randomness is the platform CSPRNG, as in production.
 */
import type { BenchCase, BenchContext } from '../harness.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import { systemRandom } from '../../ts/crypto/random.js';
import { ed448KeyPair } from '../../ts/crypto/eddsa.js';
import { createClientProfile } from '../../ts/profile/client-profile.js';
import { checkSigningKey } from '../../ts/crypto/ring-sig.js';
import { decodeDataMessage } from '../../ts/wire/data.js';
import { DAKE_IDLE, receiveAuthI, receiveAuthR, receiveIdentity, startDake, type DakeLocal } from '../../ts/ake/index.js';
import { decryptDataMessage, encryptDataMessage, type RatchetState } from '../../ts/ratchet/index.js';

const NOW_MS = Date.now();

function local(b: CryptoBackend, tag: number, acct: string, peer: string): DakeLocal {
  const identitySecret = systemRandom(57);
  const forgingKey = ed448KeyPair(b, systemRandom(57)).publicKey;
  const profile = createClientProfile(b, { ownerTag: tag, identitySecret, forgingKey, versions: '4', expiry: BigInt(Math.floor(NOW_MS / 1000) + 86400) });
  const enc = new TextEncoder();
  const identity = ed448KeyPair(b, identitySecret);
  // As a session's DakeLocal: the account checks its identity key pair once (Account.identitySigner), not per DAKE.
  const identitySigner = checkSigningKey(b, identity.scalar, identity.publicKey);
  return { instanceTag: tag, profile, identityScalar: identity.scalar, identitySigner, accountId: enc.encode(acct), peerAccountId: enc.encode(peer) };
}

function setup(b: CryptoBackend) {
  const bob = local(b, 0x0b0b, 'bob@example.org', 'alice@example.org');
  const alice = local(b, 0x0a0a, 'alice@example.org', 'bob@example.org');
  const handshake = () => {
    const s1 = startDake(b, systemRandom, bob);
    const s2 = receiveIdentity(b, systemRandom, alice, DAKE_IDLE, s1.message!, NOW_MS);
    const s3 = receiveAuthR(b, systemRandom, bob, s1.state, s2.message!, NOW_MS);
    const s4 = receiveAuthI(b, alice, s2.state, s3.message!);
    return { alice: s4.established!.ratchet, bob: s3.established!.ratchet };
  };
  const parties = handshake();
  const st: Record<'alice' | 'bob', RatchetState> = { alice: parties.alice, bob: parties.bob };
  const tags = { alice: alice.instanceTag, bob: bob.instanceTag };
  const one = (from: 'alice' | 'bob', plaintext: Uint8Array) => {
    const to = from === 'alice' ? 'bob' : 'alice';
    const s = encryptDataMessage(b, systemRandom, st[from], plaintext, { senderTag: tags[from], receiverTag: tags[to] });
    st[from] = s.state;
    const r = decryptDataMessage(b, st[to], decodeDataMessage(s.message), { now: NOW_MS });
    st[to] = r.state;
    return r.plaintext;
  };
  // Bob, then Alice speak once: Alice's current sending chain is ratchet 1 (no DH key in its messages).
  one('bob', new Uint8Array(1));
  one('alice', new Uint8Array(1));
  const p100 = new Uint8Array(100).fill(0x61);
  const p4k = new Uint8Array(4096).fill(0x61);
  let turn = 0;
  return {
    dake: handshake,
    data100: () => one('alice', p100),
    data4k: () => one('alice', p4k),
    pingpong: () => one(turn++ % 2 === 0 ? 'bob' : 'alice', p100),
  };
}

export function cases(ctx: BenchContext): BenchCase[] {
  const w = setup(ctx.wasm);
  const j = setup(ctx.js);
  const h = ctx.hybrid ? setup(ctx.hybrid) : undefined;
  const hybrid: BenchCase[] = h
    ? [
        { name: 'dake.interactive', impl: 'hybrid', fn: h.dake },
        { name: 'data.100', impl: 'hybrid', fn: h.data100 },
        { name: 'data.4k', impl: 'hybrid', fn: h.data4k },
        { name: 'ratchet.pingpong', impl: 'hybrid', fn: h.pingpong },
      ]
    : [];
  return [
    ...hybrid,
    { name: 'dake.interactive', impl: 'wasm', fn: w.dake },
    { name: 'dake.interactive', impl: 'js', fn: j.dake },
    { name: 'data.100', impl: 'wasm', fn: w.data100 },
    { name: 'data.100', impl: 'js', fn: j.data100 },
    { name: 'data.4k', impl: 'wasm', fn: w.data4k },
    { name: 'data.4k', impl: 'js', fn: j.data4k },
    { name: 'ratchet.pingpong', impl: 'wasm', fn: w.pingpong },
    { name: 'ratchet.pingpong', impl: 'js', fn: j.pingpong },
  ];
}
