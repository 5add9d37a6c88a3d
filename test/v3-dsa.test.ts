/**
 * DSA for OTRv3: our key generation, signing and verification against node:crypto (OpenSSL) in both
 * directions, Miller–Rabin, and the OTR PUBKEY/SIG encodings and fingerprint. Node imports DSA keys only as
 * DER (no JWK), so the test builds SubjectPublicKeyInfo / PKCS#8 itself. Node's DSA signs a SHA-1 digest; with
 * a 160-bit q that digest is exactly the integer m our dsaSign/dsaVerify take.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bigToBytesBE, bytesToBigBE, bytesToHex } from '../ts/bytes.js';
import {
  type DsaPrivateKey,
  decodeDsaPublicKey,
  dsaFingerprint,
  dsaGenerateKey,
  dsaPublicKeyLooksValid,
  dsaSign,
  dsaVerify,
  encodeDsaPublicKey,
  encodeDsaSignature,
  isProbablePrime,
} from '../ts/crypto/dsa.js';
import { OtrError } from '../ts/errors.js';
import { seededRandom } from './helpers/rng.js';
import { testDsaKey } from './interop/v3-pair.js';

// ---- minimal DER ----
function len(n: number): number[] {
  if (n < 0x80) return [n];
  const b: number[] = [];
  for (let v = n; v > 0; v >>= 8) b.unshift(v & 0xff);
  return [0x80 | b.length, ...b];
}
const tlv = (tag: number, body: Uint8Array): Uint8Array => Uint8Array.from([tag, ...len(body.length), ...body]);
const cat = (...xs: Uint8Array[]): Uint8Array => Uint8Array.from(xs.flatMap((x) => [...x]));
function derInt(v: bigint): Uint8Array {
  let b = v === 0n ? new Uint8Array(1) : bigToBytesBE(v);
  if (b[0]! & 0x80) b = cat(new Uint8Array(1), b);
  return tlv(0x02, b);
}
const seq = (...xs: Uint8Array[]): Uint8Array => tlv(0x30, cat(...xs));
const DSA_OID = Uint8Array.from([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01]);
const algId = (k: { p: bigint; q: bigint; g: bigint }): Uint8Array => seq(DSA_OID, seq(derInt(k.p), derInt(k.q), derInt(k.g)));
const spki = (k: DsaPrivateKey): Uint8Array => seq(algId(k), tlv(0x03, cat(new Uint8Array(1), derInt(k.y))));
const pkcs8 = (k: DsaPrivateKey): Uint8Array => seq(derInt(0n), algId(k), tlv(0x04, derInt(k.x)));

/** Reads every INTEGER in a DER blob, depth first (enough to pull p, q, g, y / x out of node's exports). */
function derIntegers(d: Uint8Array): bigint[] {
  const out: bigint[] = [];
  const walk = (s: number, e: number): void => {
    let i = s;
    while (i < e) {
      const tag = d[i++]!;
      let n = d[i++]!;
      if (n & 0x80) {
        const k = n & 0x7f;
        n = 0;
        for (let j = 0; j < k; j++) n = (n << 8) | d[i++]!;
      }
      if (tag === 0x02) out.push(bytesToBigBE(d.subarray(i, i + n)));
      else if (tag === 0x30) walk(i, i + n);
      else if (tag === 0x03) walk(i + 1, i + n);
      else if (tag === 0x04) walk(i, i + n);
      i += n;
    }
  };
  walk(0, d.length);
  return out;
}

function nodeKey(): DsaPrivateKey {
  const { publicKey, privateKey } = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 });
  const [p, q, g, y] = derIntegers(publicKey.export({ type: 'spki', format: 'der' }));
  const priv = derIntegers(privateKey.export({ type: 'pkcs8', format: 'der' }));
  return { p: p!, q: q!, g: g!, y: y!, x: priv[priv.length - 1]! };
}

const sha1Int = (data: Uint8Array): bigint => bytesToBigBE(createHash('sha1').update(data).digest());

test('generated keys have FIPS 186 structure and node:crypto accepts them as DSA keys', () => {
  for (const seed of [1, 2]) {
    const k = dsaGenerateKey(seededRandom(seed), { rounds: 20 });
    assert.is(k.p.toString(2).length, 1024);
    assert.is(k.q.toString(2).length, 160);
    assert.is((k.p - 1n) % k.q, 0n);
    assert.ok(dsaPublicKeyLooksValid(k));
    assert.ok(k.x > 0n && k.x < k.q);
    const pub = createPublicKey({ key: Buffer.from(spki(k)), format: 'der', type: 'spki' });
    assert.is(pub.asymmetricKeyType, 'dsa');
    assert.equal(pub.asymmetricKeyDetails, { modulusLength: 1024, divisorLength: 160 });
  }
});

test('our signatures verify in node:crypto; node signatures verify here (our keys and node keys)', () => {
  const rnd = seededRandom(99);
  const keys = [testDsaKey(0xa11ce), testDsaKey(0xb0b), nodeKey(), nodeKey()];
  for (const [ki, k] of keys.entries()) {
    const pub = createPublicKey({ key: Buffer.from(spki(k)), format: 'der', type: 'spki' });
    const priv = createPrivateKey({ key: Buffer.from(pkcs8(k)), format: 'der', type: 'pkcs8' });
    for (let i = 0; i < 25; i++) {
      const data = rnd(1 + ((i * 37) % 200));
      const m = sha1Int(data);
      const ours = encodeDsaSignature(dsaSign(k, m, rnd));
      assert.ok(verify('sha1', data, { key: pub, dsaEncoding: 'ieee-p1363' }, ours), `node rejects our signature (key ${ki})`);
      const theirs = sign('sha1', data, { key: priv, dsaEncoding: 'ieee-p1363' });
      const sig = { r: bytesToBigBE(theirs.subarray(0, 20)), s: bytesToBigBE(theirs.subarray(20)) };
      assert.ok(dsaVerify(k, m, sig), `we reject node's signature (key ${ki})`);
      // And both reject a different message.
      assert.not.ok(dsaVerify(k, m ^ 1n, sig));
      assert.not.ok(verify('sha1', cat(data, Uint8Array.of(0)), { key: pub, dsaEncoding: 'ieee-p1363' }, ours));
    }
  }
});

test('Miller–Rabin: node primes are prime; composites and Carmichael numbers are not', () => {
  const rnd = seededRandom(7);
  const k = nodeKey();
  assert.ok(isProbablePrime(k.p, 20, rnd));
  assert.ok(isProbablePrime(k.q, 20, rnd));
  assert.not.ok(isProbablePrime(k.p * k.q, 20, rnd));
  for (const c of [561n, 1105n, 1729n, 2465n, 2821n, 6601n, 8911n, 41041n, 3215031751n, (1n << 61n) + 1n])
    assert.not.ok(isProbablePrime(c, 20, rnd), `${c}`);
  for (const p of [2n, 3n, 1999n, 2003n, (1n << 61n) - 1n, (1n << 127n) - 1n]) assert.ok(isProbablePrime(p, 20, rnd), `${p}`);
});

test('PUBKEY round trip, fingerprint = SHA-1 of the encoding without its type, bad keys rejected', () => {
  const k = testDsaKey(0xa11ce);
  const enc = encodeDsaPublicKey(k);
  assert.is(bytesToHex(enc.subarray(0, 2)), '0000');
  assert.equal(decodeDsaPublicKey(enc), { p: k.p, q: k.q, g: k.g, y: k.y });
  assert.is(bytesToHex(dsaFingerprint(k)), createHash('sha1').update(enc.subarray(2)).digest('hex'));
  const bad = [
    Uint8Array.from([0, 1, ...enc.subarray(2)]), // key type 1
    enc.subarray(0, enc.length - 1), // truncated
    cat(enc, Uint8Array.of(0)), // trailing byte
    encodeDsaPublicKey({ ...k, y: 1n }), // y outside the subgroup
    encodeDsaPublicKey({ ...k, g: k.g + 1n }), // g not of order q
    encodeDsaPublicKey({ ...k, q: k.q * 3n }), // q not 160 bits
  ];
  for (const b of bad) {
    try {
      decodeDsaPublicKey(b);
      assert.unreachable('accepted a bad PUBKEY');
    } catch (e) {
      assert.instance(e, OtrError);
    }
  }
});

test.run();
