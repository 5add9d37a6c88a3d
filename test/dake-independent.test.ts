/**
 * An independent re-derivation of one DAKE + first data messages, straight from interpretations.md §3–§6,
 * with node:crypto (SHAKE-256, ChaCha20), @noble/curves (Ed448 points) and BigInt (the 3072-bit group) —
 * none of the library's KDF, ring-signature, ratchet or codec code. It checks the bytes our DAKE and
 * ratchet produce: phi and t (through the ring signatures), K / SSID / prev_root, the seeding of §5, MKenc /
 * MKmac / the authenticator / ChaCha20 of §6. Both sides using the same wrong formula would pass the flow
 * tests; they cannot pass this one.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createCipheriv, createHash } from 'node:crypto';
import { ed448 } from '@noble/curves/ed448.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { bytesToBigBE, bytesToBigLE, bytesToHex, bigToBytesBE, bigToBytesLE, concatBytes, equalBytes, fromUtf8, utf8 } from '../ts/bytes.js';
import { MODP3072 } from '../ts/crypto/dh-groups.js';
import { ed448KeyPair } from '../ts/crypto/eddsa.js';
import { createClientProfile } from '../ts/profile/client-profile.js';
import { decodeAuthI, decodeAuthR, decodeIdentity } from '../ts/wire/dake.js';
import { DAKE_IDLE, receiveAuthI, receiveAuthR, receiveIdentity, startDake, type DakeAwaitingAuthR, type DakeLocal } from '../ts/ake/index.js';
import { encryptDataMessage, type RatchetState } from '../ts/ratchet/index.js';
import { decodeDataMessage } from '../ts/wire/data.js';

const NOW_MS = 1_700_000_000_000;
const Point = ed448.Point;
const Q = Point.Fn.ORDER;

// ---- independent primitives ----
const H = (usage: number, parts: Uint8Array[], n: number): Uint8Array => {
  const h = createHash('shake256', { outputLength: n });
  h.update(utf8('OTRv4'));
  h.update(Uint8Array.of(usage));
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const mpi = (v: Uint8Array) => {
  let i = 0;
  while (i < v.length && v[i] === 0) i++;
  return concatBytes(u32(v.length - i), v.subarray(i));
};
const data = (v: Uint8Array) => concatBytes(u32(v.length), v);
const ecdhI = (secretLE: Uint8Array, pub: Uint8Array) => Point.fromBytes(pub).multiply(bytesToBigLE(secretLE) % Q).toBytes();
function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let r = 1n;
  base %= m;
  while (exp > 0n) {
    if (exp & 1n) r = (r * base) % m;
    base = (base * base) % m;
    exp >>= 1n;
  }
  return r;
}
const dhI = (secret: Uint8Array, pub: Uint8Array) => bigToBytesBE(modPow(bytesToBigBE(pub), bytesToBigBE(secret), MODP3072.p));
const mixed = (kEcdh: Uint8Array, kDh: Uint8Array) => H(0x03, [kEcdh, H(0x01, [kDh], 32)], 64);
const chacha = (key: Uint8Array, msg: Uint8Array) => {
  const c = createCipheriv('chacha20', key.subarray(0, 32), new Uint8Array(16)); // 4-byte LE counter 0 || 12-byte zero nonce
  return new Uint8Array(Buffer.concat([c.update(msg), c.final()]));
};

/** RVrf per interpretations.md §4, on noble points. */
function ringVerifyI(ring: Uint8Array[], sigma: Uint8Array, m: Uint8Array): boolean {
  const sc = (k: number) => bytesToBigLE(sigma.subarray(57 * k, 57 * (k + 1))) % Q;
  const c = [sc(0), sc(2), sc(4)];
  const r = [sc(1), sc(3), sc(5)];
  const T = ring.map((A, i) => {
    const g = r[i]! === 0n ? Point.ZERO : Point.BASE.multiply(r[i]!);
    const a = c[i]! === 0n ? Point.ZERO : Point.fromBytes(A).multiply(c[i]!);
    return g.add(a).toBytes();
  });
  const qLE = bigToBytesLE(Q, 57);
  const ch = bytesToBigLE(H(0x1a, [Point.BASE.toBytes(), qLE, ...ring, ...T, data(m)], 57)) % Q;
  return ch === (c[0]! + c[1]! + c[2]!) % Q;
}

function deepCopy<T>(v: T): T {
  return structuredClone(v);
}

for (const b of BACKENDS) {
  const t = suite(`DAKE + ratchet, independently re-derived [${b.name}]`);

  t('phi, t, ring signatures, SSID, seeding and the first data messages match interpretations.md', () => {
    const rnd = seededRandom(77);
    const mk = (tag: number, acct: string, peer: string): DakeLocal & { forging: Uint8Array } => {
      const identitySecret = rnd(57);
      const forging = ed448KeyPair(b, rnd(57)).publicKey;
      const profile = createClientProfile(b, { ownerTag: tag, identitySecret, forgingKey: forging, versions: '4', expiry: BigInt(NOW_MS / 1000 + 3600) });
      return { instanceTag: tag, profile, identityScalar: ed448KeyPair(b, identitySecret).scalar, accountId: utf8(acct), peerAccountId: utf8(peer), forging };
    };
    const bob = mk(0x1234_5678, 'bob@x', 'alice@y');
    const alice = mk(0x8765_4321, 'alice@y', 'bob@x');

    const s1 = startDake(b, rnd, bob);
    const bobDake = deepCopy(s1.state) as DakeAwaitingAuthR; // the secrets, before the DAKE wipes them
    const s2 = receiveIdentity(b, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
    const aliceDake = deepCopy(s2.state);
    assert.is(aliceDake.kind, 'awaiting-auth-i');
    if (aliceDake.kind !== 'awaiting-auth-i') return;
    const s3 = receiveAuthR(b, rnd, bob, s1.state, s2.message!, NOW_MS);
    const bobRatchet0: RatchetState = deepCopy(s3.established!.ratchet);
    const s4 = receiveAuthI(b, alice, s2.state, s3.message!);

    const id = decodeIdentity(s1.message!);
    const ar = decodeAuthR(s2.message!);
    const ai = decodeAuthI(s3.message!);
    // Y, B, X, A as sent.
    const [Y, B, X, A] = [id.y, id.b, ar.x, ar.a];

    // phi (sender of the signed message first, unsorted) and t.
    const phiR = concatBytes(u32(alice.instanceTag), u32(bob.instanceTag), ar.ecdhFirst, mpi(ar.dhFirst), id.ecdhFirst, mpi(id.dhFirst), data(utf8('alice@y')), data(utf8('bob@x')));
    const phiI = concatBytes(u32(bob.instanceTag), u32(alice.instanceTag), id.ecdhFirst, mpi(id.dhFirst), ar.ecdhFirst, mpi(ar.dhFirst), data(utf8('bob@x')), data(utf8('alice@y')));
    const tR = concatBytes(Uint8Array.of(0), H(0x05, [id.profile.encoded], 64), H(0x06, [ar.profile.encoded], 64), Y, X, mpi(B), mpi(A), H(0x07, [phiR], 64));
    const tI = concatBytes(Uint8Array.of(1), H(0x08, [id.profile.encoded], 64), H(0x09, [ar.profile.encoded], 64), Y, X, mpi(B), mpi(A), H(0x0a, [phiI], 64));
    assert.ok(ringVerifyI([bob.forging, alice.profile.identityKey, Y], ar.sigma, tR), 'Auth-R sigma over {F_b, H_a, Y} and t_R');
    assert.ok(ringVerifyI([bob.profile.identityKey, alice.forging, X], ai.sigma, tI), 'Auth-I sigma over {H_b, F_a, X} and t_I');
    assert.not.ok(ringVerifyI([bob.forging, alice.profile.identityKey, Y], ar.sigma, tI), 'the check can fail');
    assert.is(bytesToHex(aliceDake.authITranscript), bytesToHex(tI));

    // K from ECDH(y, X) and DH(b, A); SSID and prev_root.
    const K = mixed(ecdhI(bobDake.y.secret, X), dhI(bobDake.b.secret, A));
    const ssid = H(0x04, [K], 8);
    assert.is(bytesToHex(s3.established!.ssid), bytesToHex(ssid));
    assert.is(bytesToHex(s4.established!.ssid), bytesToHex(ssid));
    const prevRoot = H(0x0b, [K], 64);
    assert.is(bytesToHex(aliceDake.prevRoot), bytesToHex(prevRoot));

    // Seeding (§5): K0 over the first keys; root0 / chain0.
    const K0 = mixed(ecdhI(bobDake.ecdh0.secret, ar.ecdhFirst), dhI(bobDake.dh0.secret, ar.dhFirst));
    const root0 = H(0x12, [prevRoot, K0], 64);
    const chain0 = H(0x13, [prevRoot, K0], 64);
    // Bob's state after the DAKE: receiving on chain0, root0, his first sending step (a DH step) still due.
    assert.is(bytesToHex(bobRatchet0.rootKey), bytesToHex(root0));
    assert.is(bytesToHex(bobRatchet0.recvChain!), bytesToHex(chain0));
    assert.equal([bobRatchet0.i, bobRatchet0.sendingStepDue, bobRatchet0.sendChain, bobRatchet0.ourEcdh.secret, bobRatchet0.ourDh.secret], [0, true, null, null, null]);

    /** Opens a data message with chain key ck at its message id, all by hand (§6). */
    const open = (bytes: Uint8Array, ck: Uint8Array): string => {
      const f = (o: number) => ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
      const msgId = f(20);
      for (let n = 0; n < msgId; n++) ck = H(0x14, [ck], 64);
      let o = 24 + 57;
      o += 4 + f(o); // DH MPI
      const ctLen = f(o);
      const ct = bytes.subarray(o + 4, o + 4 + ctLen);
      const authEnd = o + 4 + ctLen;
      const mkEnc = H(0x15, [ck], 64);
      const mkMac = H(0x16, [mkEnc], 64);
      assert.is(bytesToHex(bytes.subarray(authEnd, authEnd + 64)), bytesToHex(H(0x18, [mkMac, bytes.subarray(0, authEnd)], 64)), 'authenticator');
      return fromUtf8(chacha(mkEnc, ct));
    };
    // Alice sends on chain0 (ratchet id 0), Bob on his stepped chain (also ratchet id 0).
    let aliceR = s4.established!.ratchet;
    let bobR = s3.established!.ratchet;
    const a0 = encryptDataMessage(b, rnd, aliceR, utf8('alice 0'), { senderTag: alice.instanceTag, receiverTag: bob.instanceTag, extraKey: true });
    aliceR = a0.state;
    const a1 = encryptDataMessage(b, rnd, aliceR, utf8('alice 1'), { senderTag: alice.instanceTag, receiverTag: bob.instanceTag, extraKey: true });
    const b0 = encryptDataMessage(b, rnd, bobR, utf8('bob 0'), { senderTag: bob.instanceTag, receiverTag: alice.instanceTag });
    bobR = b0.state;
    // Bob's first sending step, made by his first message: new keys against Alice's first keys.
    const K1 = mixed(ecdhI(bobR.ourEcdh.secret!, ar.ecdhFirst), dhI(bobR.ourDh.secret!, ar.dhFirst));
    const bobSend0 = H(0x13, [root0, K1], 64);
    assert.is(bytesToHex(bobR.rootKey), bytesToHex(H(0x12, [root0, K1], 64)));
    assert.equal([bobR.i, bobR.j, bobR.pn, bobR.sendingStepDue], [1, 1, 0, false]);
    assert.is(decodeDataMessage(b0.message).revealedMacs.length, 0, "Bob's first message reveals nothing");
    assert.is(open(a0.message, chain0), 'alice 0');
    assert.is(open(a1.message, chain0), 'alice 1');
    assert.is(open(b0.message, bobSend0), 'bob 0');
    // The extra symmetric key of a message: KDF(0x17, 0xFF || ck, 64).
    assert.is(bytesToHex(a1.esk!), bytesToHex(H(0x17, [Uint8Array.of(0xff), H(0x14, [chain0], 64)], 64)));
    assert.ok(equalBytes(a0.esk!, H(0x17, [Uint8Array.of(0xff), chain0], 64)));
  });

  t.run();
}
