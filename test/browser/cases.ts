/**
 * The known-answer cases the browser pages must reproduce, made on the Node side: published vectors (RFC 8032
 * Ed448, FIPS 202 SHAKE-256, RFC 8439 ChaCha20) plus seeded random inputs whose expected outputs come from
 * node:crypto (OpenSSL), the project's trusted oracle, so the page is checked against an implementation
 * that shares no code with it. The page only computes (pages/suite.ts); every comparison happens in Node.
 */
import { createCipheriv, createDiffieHellman, createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { seededRandom } from '../helpers/rng.js';
import { bigToBytesBE, bytesToHex } from '../../ts/bytes.js';
import { DH_GROUPS } from '../../ts/crypto/dh-groups.js';
import type { PageCase } from './pages/ops.js';
import { opensslAead } from '../../ts/store/aead-openssl.js';

export interface ExpectedCase extends PageCase {
  expected: string;
}

/** RFC 8032 §7.4 (pure Ed448, empty context): "blank" and "1 octet". */
const RFC8032 = [
  {
    secret: '6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b',
    public: '5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180',
    message: '',
    signature:
      '533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd3980ff0d2028d4b18a9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4dbb61149f05a7363268c71d95808ff2e652600',
  },
  {
    secret: 'c4eab05d357007c632f3dbb48489924d552b08fe0c353a0d4a1f00acda2c463afbea67c5e8d2877c5e3bc397a659949ef8021e954e0a12274e',
    public: '43ba28f430cdff456ae531545f7ecd0ac834a55d9358c0372bfa0c6c6798c0866aea01eb00742802b8438ea4cb82169c235160627b4c3a9480',
    message: '03',
    signature:
      '26b8f91727bd62897af15e41eb43c377efb9c610d48f2335cb0bd0087810f4352541b143c4b981b7e18f62de8ccdf633fc1bf037ab7cd779805e0dbcc0aae1cbcee1afb2e027df36bc04dcecbf154336c19f0af7e0a6472905e799f1953d2a0ff3348ab21aa4adafd1d234441cf807c03a00',
  },
];

/** FIPS 202 (NIST SHA-3 examples): SHAKE-256 of the empty string, 512 output bits. */
const SHAKE_EMPTY_64 =
  '46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762fd75dc4ddd8c0f200cb05019d67b592f6fc821c49479ab48640292eacb3b7c4be';

/** RFC 8439 §2.4.2: the "sunscreen" encryption, counter 1. */
const RFC8439 = {
  key: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  nonce: '000000000000004a00000000',
  plaintext: utf8Hex("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."),
  ciphertext:
    '6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d',
};

function utf8Hex(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex');
}

/** PKCS#8 wrapping of a raw 57-byte Ed448 secret (RFC 8410), so OpenSSL can sign with it. */
function ed448PrivateKey(secret: Uint8Array) {
  const prefix = Buffer.from('3047020100300506032b6571043b0439', 'hex');
  return createPrivateKey({ key: Buffer.concat([prefix, secret]), format: 'der', type: 'pkcs8' });
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.subarray(i);
}

/**
 * Every case for one page run: `perKind` seeded random cases per operation on top of the published vectors.
 * DH is 3072-bit (OTRv4's group), so its random cases are fewer: the JS backend's BigInt modPow is the slow one.
 */
export function makeCases(seed: number, perKind = 12): ExpectedCase[] {
  const rnd = seededRandom(seed);
  const hex = bytesToHex;
  const out: ExpectedCase[] = [];

  // ---- SHAKE-256 ----
  out.push({ id: 'fips202.shake256.empty', op: 'shake256', args: [''], n: 64, expected: SHAKE_EMPTY_64 });
  const shakeLens = [1, 135, 136, 137, 272, 1000];
  for (let i = 0; i < perKind; i++) {
    const msg = rnd(shakeLens[i % shakeLens.length]! + (i >> 1));
    const n = 1 + rnd(1)[0]! * 2;
    const expected = createHash('shake256', { outputLength: n }).update(msg).digest('hex');
    out.push({ id: `openssl.shake256.${i}`, op: 'shake256', args: [hex(msg)], n, expected });
  }

  // ---- ChaCha20 ----
  out.push({ id: 'rfc8439.2.4.2', op: 'chacha20', args: [RFC8439.key, RFC8439.nonce, RFC8439.plaintext], n: 1, expected: RFC8439.ciphertext });
  for (let i = 0; i < perKind; i++) {
    const key = rnd(32);
    const nonce = rnd(12);
    const data = rnd([1, 63, 64, 65, 256, 1000][i % 6]! + i);
    const counter = i % 3 === 0 ? 0 : i * 7;
    const iv = new Uint8Array(16);
    new DataView(iv.buffer).setUint32(0, counter, true);
    iv.set(nonce, 4);
    const expected = Buffer.from(createCipheriv('chacha20', key, iv).update(data)).toString('hex');
    out.push({ id: `openssl.chacha20.${i}`, op: 'chacha20', args: [hex(key), hex(nonce), hex(data)], n: counter, expected });
  }

  // ---- XChaCha20-Poly1305 (the record seal), OpenSSL's bytes; lengths around the SIMD Poly1305's 128 bytes ----
  const aeadLens = [0, 15, 127, 128, 129, 2300, 3700];
  for (let i = 0; i < Math.max(perKind, aeadLens.length); i++) {
    const key = rnd(32);
    const nonce = rnd(24);
    const aad = rnd(i % 4 === 0 ? 0 : 60);
    const plain = rnd(aeadLens[i % aeadLens.length]! + (i >= aeadLens.length ? i : 0));
    const sealed = new Uint8Array(plain.length + 16);
    opensslAead.encryptInto(key, nonce, aad, plain, sealed);
    out.push({ id: `openssl.xchacha20poly1305.${i}`, op: 'xchacha20poly1305', args: [hex(key), hex(nonce), hex(aad), hex(plain)], expected: hex(sealed) });
  }

  // ---- Ed448 (RFC 8032) ----
  RFC8032.forEach((v, i) => {
    out.push({ id: `rfc8032.${i}.public`, op: 'ed448.public', args: [v.secret], expected: v.public });
    out.push({ id: `rfc8032.${i}.sign`, op: 'ed448.sign', args: [v.secret, v.message], expected: v.signature });
    out.push({ id: `rfc8032.${i}.verify`, op: 'ed448.verify', args: [v.public, v.message, v.signature], expected: 'true' });
  });
  for (let i = 0; i < perKind; i++) {
    const secret = rnd(57);
    const msg = rnd(i * 11);
    const priv = ed448PrivateKey(secret);
    const pub = Buffer.from(createPublicKey(priv).export({ format: 'jwk' }).x as string, 'base64url');
    const sig = sign(null, msg, priv);
    out.push({ id: `openssl.ed448.${i}.public`, op: 'ed448.public', args: [hex(secret)], expected: hex(pub) });
    out.push({ id: `openssl.ed448.${i}.sign`, op: 'ed448.sign', args: [hex(secret), hex(msg)], expected: hex(sig) });
    // A flipped bit anywhere in the signature must not verify.
    const bad = Uint8Array.from(sig);
    bad[(i * 37) % bad.length]! ^= 1 << (i % 8);
    out.push({ id: `openssl.ed448.${i}.verify-flipped`, op: 'ed448.verify', args: [hex(pub), hex(msg), hex(bad)], expected: 'false' });
  }

  // ---- DH in the RFC 3526 3072-bit group ----
  const g = DH_GROUPS.modp3072;
  const prime = Buffer.from(bigToBytesBE(g.p, g.bytes));
  for (let i = 0; i < Math.max(2, perKind >> 2); i++) {
    const a = rnd(80);
    const b = rnd(80);
    const alice = createDiffieHellman(prime, 2);
    alice.setPrivateKey(Buffer.from(a));
    alice.generateKeys();
    const bob = createDiffieHellman(prime, 2);
    bob.setPrivateKey(Buffer.from(b));
    bob.generateKeys();
    const shared = stripZeros(alice.computeSecret(bob.getPublicKey()));
    out.push({ id: `openssl.dh3072.${i}.public`, op: 'dh.public', args: [hex(a)], expected: hex(stripZeros(alice.getPublicKey())) });
    out.push({ id: `openssl.dh3072.${i}.shared`, op: 'dh.shared', args: [hex(a), hex(bob.getPublicKey())], expected: hex(shared) });
  }
  return out;
}
