import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { ed448 } from '@noble/curves/ed448.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { BACKENDS } from './helpers/backends.js';
import { CASES, seededRandom } from './helpers/rng.js';
import { bytesToHex, concatBytes, hexToBytes } from '../ts/bytes.js';
import { OtrArgumentError } from '../ts/errors.js';
import {
  ed448KeyPair,
  ed448PublicKey,
  ed448Sign,
  ed448SignExpanded,
  ed448Verify,
  scalarIsCanonical,
  SCALAR_Q_LE,
} from '../ts/crypto/eddsa.js';

// ---------------------------------------------------------------------------------------------------------
// Vectors

/**
 * RFC 8032 §7.4, every pure-Ed448 (empty context) test. The messages, public keys and signatures are the
 * same bytes as Wycheproof's tcId 78, 79, 81–86 in vectors/wycheproof/ed448_test.json.
 */
const RFC8032: { name: string; secret: string; public: string; message: string; signature: string }[] = [
  {
    name: 'Blank',
    secret: '6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b',
    public: '5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180',
    message:
      '',
    signature:
      '533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd3980' +
      'ff0d2028d4b18a9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4dbb61149f05a7363268c71d95808ff2e652600',
  },
  {
    name: '1 octet',
    secret: 'c4eab05d357007c632f3dbb48489924d552b08fe0c353a0d4a1f00acda2c463afbea67c5e8d2877c5e3bc397a659949ef8021e954e0a12274e',
    public: '43ba28f430cdff456ae531545f7ecd0ac834a55d9358c0372bfa0c6c6798c0866aea01eb00742802b8438ea4cb82169c235160627b4c3a9480',
    message:
      '03',
    signature:
      '26b8f91727bd62897af15e41eb43c377efb9c610d48f2335cb0bd0087810f4352541b143c4b981b7e18f62de8ccdf633fc1bf037ab7cd77980' +
      '5e0dbcc0aae1cbcee1afb2e027df36bc04dcecbf154336c19f0af7e0a6472905e799f1953d2a0ff3348ab21aa4adafd1d234441cf807c03a00',
  },
  {
    name: '11 octets',
    secret: 'cd23d24f714274e744343237b93290f511f6425f98e64459ff203e8985083ffdf60500553abc0e05cd02184bdb89c4ccd67e187951267eb328',
    public: 'dcea9e78f35a1bf3499a831b10b86c90aac01cd84b67a0109b55a36e9328b1e365fce161d71ce7131a543ea4cb5f7e9f1d8b00696447001400',
    message:
      '0c3e544074ec63b0265e0c',
    signature:
      '1f0a8888ce25e8d458a21130879b840a9089d999aaba039eaf3e3afa090a09d389dba82c4ff2ae8ac5cdfb7c55e94d5d961a29fe0109941e00' +
      'b8dbdeea6d3b051068df7254c0cdc129cbe62db2dc957dbb47b51fd3f213fb8698f064774250a5028961c9bf8ffd973fe5d5c206492b140e00',
  },
  {
    name: '12 octets',
    secret: '258cdd4ada32ed9c9ff54e63756ae582fb8fab2ac721f2c8e676a72768513d939f63dddb55609133f29adf86ec9929dccb52c1c5fd2ff7e21b',
    public: '3ba16da0c6f2cc1f30187740756f5e798d6bc5fc015d7c63cc9510ee3fd44adc24d8e968b6e46e6f94d19b945361726bd75e149ef09817f580',
    message:
      '64a65f3cdedcdd66811e2915',
    signature:
      '7eeeab7c4e50fb799b418ee5e3197ff6bf15d43a14c34389b59dd1a7b1b85b4ae90438aca634bea45e3a2695f1270f07fdcdf7c62b8efeaf00' +
      'b45c2c96ba457eb1a8bf075a3db28e5c24f6b923ed4ad747c3c9e03c7079efb87cb110d3a99861e72003cbae6d6b8b827e4e6c143064ff3c00',
  },
  {
    name: '13 octets',
    secret: '7ef4e84544236752fbb56b8f31a23a10e42814f5f55ca037cdcc11c64c9a3b2949c1bb60700314611732a6c2fea98eebc0266a11a93970100e',
    public: 'b3da079b0aa493a5772029f0467baebee5a8112d9d3a22532361da294f7bb3815c5dc59e176b4d9f381ca0938e13c6c07b174be65dfa578e80',
    message:
      '64a65f3cdedcdd66811e2915e7',
    signature:
      '6a12066f55331b6c22acd5d5bfc5d71228fbda80ae8dec26bdd306743c5027cb4890810c162c027468675ecf645a83176c0d7323a2ccde2d80' +
      'efe5a1268e8aca1d6fbc194d3f77c44986eb4ab4177919ad8bec33eb47bbb5fc6e28196fd1caf56b4e7e0ba5519234d047155ac727a1053100',
  },
  {
    name: '64 octets',
    secret: 'd65df341ad13e008567688baedda8e9dcdc17dc024974ea5b4227b6530e339bff21f99e68ca6968f3cca6dfe0fb9f4fab4fa135d5542ea3f01',
    public: 'df9705f58edbab802c7f8363cfe5560ab1c6132c20a9f1dd163483a26f8ac53a39d6808bf4a1dfbd261b099bb03b3fb50906cb28bd8a081f00',
    message:
      'bd0f6a3747cd561bdddf4640a332461a4a30a12a434cd0bf40d766d9c6d458e5512204a30c17d1f50b5079631f64eb3112182da30058354611' +
      '13718d1a5ef944',
    signature:
      '554bc2480860b49eab8532d2a533b7d578ef473eeb58c98bb2d0e1ce488a98b18dfde9b9b90775e67f47d4a1c3482058efc9f40d2ca033a080' +
      '1b63d45b3b722ef552bad3b4ccb667da350192b61c508cf7b6b5adadc2c8d9a446ef003fb05cba5f30e88e36ec2703b349ca229c2670833900',
  },
  {
    name: '256 octets',
    secret: '2ec5fe3c17045abdb136a5e6a913e32ab75ae68b53d2fc149b77e504132d37569b7e766ba74a19bd6162343a21c8590aa9cebca9014c636df5',
    public: '79756f014dcfe2079f5dd9e718be4171e2ef2486a08f25186f6bff43a9936b9bfe12402b08ae65798a3d81e22e9ec80e7690862ef3d4ed3a00',
    message:
      '15777532b0bdd0d1389f636c5f6b9ba734c90af572877e2d272dd078aa1e567cfa80e12928bb542330e8409f3174504107ecd5efac61ae7504' +
      'dabe2a602ede89e5cca6257a7c77e27a702b3ae39fc769fc54f2395ae6a1178cab4738e543072fc1c177fe71e92e25bf03e4ecb72f47b64d04' +
      '65aaea4c7fad372536c8ba516a6039c3c2a39f0e4d832be432dfa9a706a6e5c7e19f397964ca4258002f7c0541b590316dbc5622b6b2a6fe7a' +
      '4abffd96105eca76ea7b98816af0748c10df048ce012d901015a51f189f3888145c03650aa23ce894c3bd889e030d565071c59f409a9981b51' +
      '878fd6fc110624dcbcde0bf7a69ccce38fabdf86f3bef6044819de11',
    signature:
      'c650ddbb0601c19ca11439e1640dd931f43c518ea5bea70d3dcde5f4191fe53f00cf966546b72bcc7d58be2b9badef28743954e3a44a23f880' +
      'e8d4f1cfce2d7a61452d26da05896f0a50da66a239a8a188b6d825b3305ad77b73fbac0836ecc60987fd08527c1a8e80d5823e65cafe2a3d00',
  },
  {
    name: '1023 octets',
    secret: '872d093780f5d3730df7c212664b37b8a0f24f56810daa8382cd4fa3f77634ec44dc54f1c2ed9bea86fafb7632d8be199ea165f5ad55dd9ce8',
    public: 'a81b2e8a70a5ac94ffdbcc9badfc3feb0801f258578bb114ad44ece1ec0e799da08effb81c5d685c0c56f64eecaef8cdf11cc38737838cf400',
    message:
      '6ddf802e1aae4986935f7f981ba3f0351d6273c0a0c22c9c0e8339168e675412a3debfaf435ed651558007db4384b650fcc07e3b586a27a4f7' +
      'a00ac8a6fec2cd86ae4bf1570c41e6a40c931db27b2faa15a8cedd52cff7362c4e6e23daec0fbc3a79b6806e316efcc7b68119bf46bc76a260' +
      '67a53f296dafdbdc11c77f7777e972660cf4b6a9b369a6665f02e0cc9b6edfad136b4fabe723d2813db3136cfde9b6d044322fee2947952e03' +
      '1b73ab5c603349b307bdc27bc6cb8b8bbd7bd323219b8033a581b59eadebb09b3c4f3d2277d4f0343624acc817804728b25ab797172b4c5c21' +
      'a22f9c7839d64300232eb66e53f31c723fa37fe387c7d3e50bdf9813a30e5bb12cf4cd930c40cfb4e1fc622592a49588794494d56d24ea4b40' +
      'c89fc0596cc9ebb961c8cb10adde976a5d602b1c3f85b9b9a001ed3c6a4d3b1437f52096cd1956d042a597d561a596ecd3d1735a8d570ea0ec' +
      '27225a2c4aaff26306d1526c1af3ca6d9cf5a2c98f47e1c46db9a33234cfd4d81f2c98538a09ebe76998d0d8fd25997c7d255c6d66ece6fa56' +
      'f11144950f027795e653008f4bd7ca2dee85d8e90f3dc315130ce2a00375a318c7c3d97be2c8ce5b6db41a6254ff264fa6155baee3b0773c0f' +
      '497c573f19bb4f4240281f0b1f4f7be857a4e59d416c06b4c50fa09e1810ddc6b1467baeac5a3668d11b6ecaa901440016f389f80acc4db977' +
      '025e7f5924388c7e340a732e554440e76570f8dd71b7d640b3450d1fd5f0410a18f9a3494f707c717b79b4bf75c98400b096b21653b5d217cf' +
      '3565c9597456f70703497a078763829bc01bb1cbc8fa04eadc9a6e3f6699587a9e75c94e5bab0036e0b2e711392cff0047d0d6b05bd2a588bc' +
      '109718954259f1d86678a579a3120f19cfb2963f177aeb70f2d4844826262e51b80271272068ef5b3856fa8535aa2a88b2d41f2a0e2fda7624' +
      'c2850272ac4a2f561f8f2f7a318bfd5caf9696149e4ac824ad3460538fdc25421beec2cc6818162d06bbed0c40a387192349db67a118bada6c' +
      'd5ab0140ee273204f628aad1c135f770279a651e24d8c14d75a6059d76b96a6fd857def5e0b354b27ab937a5815d16b5fae407ff18222c6d1e' +
      'd263be68c95f32d908bd895cd76207ae726487567f9a67dad79abec316f683b17f2d02bf07e0ac8b5bc6162cf94697b3c27cd1fea49b27f23b' +
      'a2901871962506520c392da8b6ad0d99f7013fbc06c2c17a569500c8a7696481c1cd33e9b14e40b82e79a5f5db82571ba97bae3ad3e0479515' +
      'bb0e2b0f3bfcd1fd33034efc6245eddd7ee2086ddae2600d8ca73e214e8c2b0bdb2b047c6a464a562ed77b73d2d841c4b34973551257713b75' +
      '3632efba348169abc90a68f42611a40126d7cb21b58695568186f7e569d2ff0f9e745d0487dd2eb997cafc5abf9dd102e62ff66cba87',
    signature:
      'e301345a41a39a4d72fff8df69c98075a0cc082b802fc9b2b6bc503f926b65bddf7f4c8f1cb49f6396afc8a70abe6d8aef0db478d4c6b29700' +
      '76c6a0484fe76d76b3a97625d79f1ce240e7c576750d295528286f719b413de9ada3e8eb78ed573603ce30d8bb761785dc30dbc320869e1a00',
  },
];

interface WycheproofCase {
  tcId: number;
  comment: string;
  msg: string;
  sig: string;
  result: 'valid' | 'invalid';
}
const wycheproof = JSON.parse(
  readFileSync(new URL('../../vectors/wycheproof/ed448_test.json', import.meta.url), 'utf8'),
) as { numberOfTests: number; testGroups: { publicKey: { pk: string }; tests: WycheproofCase[] }[] };
const WYCHEPROOF = wycheproof.testGroups.flatMap((g) => g.tests.map((t) => ({ ...t, pk: g.publicKey.pk })));

// ---------------------------------------------------------------------------------------------------------
// Independent oracles: node:crypto (OpenSSL) and @noble/curves

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');
function nodePrivateKey(secret: Uint8Array, pub: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed448', d: b64url(secret), x: b64url(pub) }, format: 'jwk' });
}
function nodePublicKey(pub: Uint8Array): KeyObject | undefined {
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed448', x: b64url(pub) }, format: 'jwk' });
  } catch {
    return undefined;
  }
}
function nodeVerifies(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  const k = nodePublicKey(pub);
  return k !== undefined && nodeVerify(null, msg, k, sig);
}
function nobleVerifies(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    return ed448.verify(sig, msg, pub);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------

test('RFC 8032 §7.4 Ed448: public keys and signatures bit-exact, signatures verify, on every backend', () => {
  assert.is(RFC8032.length, 8);
  assert.is(RFC8032[7]!.message.length, 2 * 1023);
  for (const b of BACKENDS) {
    for (const v of RFC8032) {
      const sk = hexToBytes(v.secret);
      const msg = hexToBytes(v.message);
      const sig = hexToBytes(v.signature);
      assert.is(bytesToHex(ed448PublicKey(b, sk)), v.public, `${b.name} ${v.name} public`);
      assert.is(bytesToHex(ed448Sign(b, sk, msg)), v.signature, `${b.name} ${v.name} sign`);
      assert.ok(ed448Verify(b, hexToBytes(v.public), msg, sig), `${b.name} ${v.name} verify`);
    }
  }
});

test('RFC 8032 §7.4 "1 octet (with context foo)": not valid as a pure, empty-context signature', () => {
  const pub = hexToBytes(RFC8032[1]!.public);
  const sig = hexToBytes(
    'd4f8f6131770dd46f40867d6fd5d5055de43541f8c5e35abbcd001b32a89f7d2151f7647f11d8ca2ae279fb842d607217fce6e042f6815ea00' +
      '0c85741de5c8da1144a6a1aba7f96de42505d7a7298524fda538fccbbb754f578c1cad10d54d0d5428407e85dcbc98a49155c13764e66c3c00',
  );
  for (const b of BACKENDS) assert.not.ok(ed448Verify(b, pub, Uint8Array.of(0x03), sig), b.name);
  assert.ok(ed448.verify(sig, Uint8Array.of(0x03), pub, { context: Uint8Array.of(0x66, 0x6f, 0x6f) }), 'the vector itself is valid with its context');
});

test('Wycheproof Ed448: all 87 cases give the expected result on every backend (and on both oracles)', () => {
  assert.is(WYCHEPROOF.length, 87);
  assert.is(wycheproof.numberOfTests, 87);
  for (const t of WYCHEPROOF) {
    const pk = hexToBytes(t.pk);
    const msg = hexToBytes(t.msg);
    const sig = hexToBytes(t.sig);
    const want = t.result === 'valid';
    for (const b of BACKENDS) assert.is(ed448Verify(b, pk, msg, sig), want, `${b.name} tcId ${t.tcId} ${t.comment}`);
    assert.is(nodeVerifies(pk, msg, sig), want, `node:crypto tcId ${t.tcId}`);
    assert.is(nobleVerifies(pk, msg, sig), want, `noble tcId ${t.tcId}`);
  }
});

test(`differential: ${CASES} random (key, message) signatures bit-identical across ${BACKENDS.map((b) => b.name).join(', ')}, noble and node:crypto; verify agrees on valid and tampered`, () => {
  const rnd = seededRandom(0xed448);
  for (let i = 0; i < CASES; i++) {
    const sk = rnd(57);
    const msg = rnd(rnd(1)[0]! + (i % 3 === 0 ? 0 : rnd(1)[0]!));
    const pub = ed448.getPublicKey(sk);
    const want = ed448.sign(msg, sk);
    assert.is(bytesToHex(nodeSign(null, msg, nodePrivateKey(sk, pub))), bytesToHex(want), `node ${i}`);
    for (const b of BACKENDS) {
      assert.is(bytesToHex(ed448PublicKey(b, sk)), bytesToHex(pub), `${b.name} public ${i}`);
      assert.is(bytesToHex(ed448Sign(b, sk, msg)), bytesToHex(want), `${b.name} sign ${i}`);
    }
    // Tamper: alternately one bit of the signature (anywhere, including R's unused bits and S's top byte)
    // or one bit of the message (or an appended byte for the empty message).
    let tSig = want;
    let tMsg = msg;
    if (i % 2 === 0 || msg.length === 0) {
      tSig = want.slice();
      const bit = (rnd(1)[0]! | (rnd(1)[0]! << 8)) % (114 * 8);
      tSig[bit >> 3]! ^= 1 << (bit & 7);
      if (msg.length === 0 && i % 2 === 1) tMsg = Uint8Array.of(0);
    } else {
      tMsg = msg.slice();
      tMsg[rnd(1)[0]! % msg.length]! ^= 1 << (rnd(1)[0]! & 7);
    }
    for (const [m, s, expect] of [
      [msg, want, true],
      [tMsg, tSig, false],
    ] as const) {
      assert.is(nobleVerifies(pub, m, s), expect, `noble verify ${i}`);
      assert.is(nodeVerifies(pub, m, s), expect, `node verify ${i}`);
      for (const b of BACKENDS) assert.is(ed448Verify(b, pub, m, s), expect, `${b.name} verify ${i} (${expect})`);
    }
  }
});

// ---------------------------------------------------------------------------------------------------------
// Cofactored verification: mixed-order keys and nonces

const Point = ed448.Point;
const Q = Point.Fn.ORDER;
const DOM4 = new Uint8Array([0x53, 0x69, 0x67, 0x45, 0x64, 0x34, 0x34, 0x38, 0, 0]);
const leToBig = (b: Uint8Array) => BigInt('0x' + (bytesToHex(Uint8Array.from(b).reverse()) || '0'));
const bigToLe = (n: bigint) => hexToBytes(n.toString(16).padStart(114, '0')).reverse();
const hashMod = (...parts: Uint8Array[]) => leToBig(shake256(concatBytes(DOM4, ...parts), { dkLen: 114 })) % Q;
/** The three non-identity points of order dividing 4: (0, -1), (1, 0), (-1, 0). */
const TORSION = [
  hexToBytes('fe' + 'ff'.repeat(27) + 'fe' + 'ff'.repeat(27) + '00'),
  hexToBytes('00'.repeat(56) + '80'),
  hexToBytes('00'.repeat(57)),
].map((e) => Point.fromBytes(e));

/** A signature made with public key A = s·G + tA and nonce point R = r·G + tR, computed by hand. */
function mixedOrderSignature(s: bigint, r: bigint, tA: InstanceType<typeof Point>, tR: InstanceType<typeof Point>, msg: Uint8Array) {
  const A = Point.BASE.multiply(s).add(tA).toBytes();
  const R = Point.BASE.multiply(r).add(tR).toBytes();
  const k = hashMod(R, A, msg);
  return { A, sig: concatBytes(R, bigToLe((r + k * s) % Q)), k };
}

test('the torsion constants are the points of order 2 and 4', () => {
  assert.ok(TORSION[0]!.double().is0() && !TORSION[0]!.is0());
  for (const t of TORSION.slice(1)) assert.ok(t.double().double().is0() && !t.double().is0());
});

test('cofactored: mixed-order keys and nonces verify exactly as OpenSSL and noble say (accepted), also where the cofactorless equation fails', () => {
  let cofactorlessWouldReject = 0;
  const rnd = seededRandom(4);
  for (let i = 0; i < 24; i++) {
    const s = leToBig(rnd(57)) % Q;
    const r = leToBig(rnd(57)) % Q;
    const tA = TORSION[i % 3]!;
    const tR = i % 2 === 0 ? Point.ZERO : TORSION[(i >> 1) % 3]!;
    const msg = rnd(i);
    const { A, sig, k } = mixedOrderSignature(s, r, tA, tR, msg);
    // Cofactorless: S·G - k·A = R - tR - k·tA, equal to R only if tR + k·tA = I.
    if (!tR.add(tA.multiplyUnsafe(k % 4n)).is0()) cofactorlessWouldReject++;
    assert.ok(nodeVerifies(A, msg, sig), `node ${i}`);
    assert.ok(nobleVerifies(A, msg, sig), `noble ${i}`);
    for (const b of BACKENDS) assert.ok(ed448Verify(b, A, msg, sig), `${b.name} ${i}`);
    // ...and a torsion-shifted R is not a free pass: a wrong message still fails.
    for (const b of BACKENDS) assert.not.ok(ed448Verify(b, A, concatBytes(msg, Uint8Array.of(1)), sig), `${b.name} ${i} msg`);
  }
  assert.ok(cofactorlessWouldReject > 10, 'the cases exercise the cofactored slow path');
});

test('R or A with a non-canonical or off-curve encoding, and S >= q, are rejected (false, no throw)', () => {
  const v = RFC8032[2]!;
  const pub = hexToBytes(v.public);
  const msg = hexToBytes(v.message);
  const sig = hexToBytes(v.signature);
  const badPoints = [
    hexToBytes('ff'.repeat(28) + 'fe' + 'ff'.repeat(27) + '00'), // y = p
    hexToBytes('00'.repeat(28) + 'ff'.repeat(28) + '00'), // y = p + 1: a non-canonical 1
    hexToBytes('01' + '00'.repeat(55) + '80'), // y = 1 with the x sign bit: x = 0 cannot be negative
    hexToBytes('02' + '00'.repeat(56)), // y = 2: not on the curve
    pub.map((x, i) => (i === 56 ? x | 0x01 : x)), // bit 448 set
  ];
  for (const b of BACKENDS) {
    for (const p of badPoints) {
      assert.not.ok(ed448Verify(b, p, msg, sig), `${b.name} bad A`);
      assert.not.ok(ed448Verify(b, pub, msg, concatBytes(p, sig.subarray(57))), `${b.name} bad R`);
    }
    const sPlusQ = bigToLe(leToBig(sig.subarray(57)) + Q);
    assert.not.ok(ed448Verify(b, pub, msg, concatBytes(sig.subarray(0, 57), sPlusQ)), `${b.name} S + q`);
    assert.not.ok(ed448Verify(b, pub, msg, concatBytes(sig.subarray(0, 57), SCALAR_Q_LE)), `${b.name} S = q`);
  }
});

test('scalarIsCanonical: exactly the values below q', () => {
  assert.ok(scalarIsCanonical(new Uint8Array(57)));
  assert.ok(scalarIsCanonical(bigToLe(Q - 1n)));
  assert.not.ok(scalarIsCanonical(bigToLe(Q)));
  assert.not.ok(scalarIsCanonical(bigToLe(Q + 1n)));
  assert.not.ok(scalarIsCanonical(bigToLe((1n << 456n) - 1n)));
  assert.not.ok(scalarIsCanonical(new Uint8Array(56)));
});

test('wrong lengths give false; non-Uint8Array arguments give OtrArgumentError; nothing else throws', () => {
  const v = RFC8032[0]!;
  const pub = hexToBytes(v.public);
  const sig = hexToBytes(v.signature);
  const msg = new Uint8Array(0);
  for (const b of BACKENDS) {
    for (const n of [0, 56, 58, 114]) assert.not.ok(ed448Verify(b, new Uint8Array(n), msg, sig), `${b.name} pk ${n}`);
    assert.not.ok(ed448Verify(b, pub.subarray(0, 56), msg, sig));
    for (const n of [0, 57, 112, 113, 115, 116, 171]) {
      const s = new Uint8Array(n);
      s.set(sig.subarray(0, Math.min(n, 114)));
      assert.not.ok(ed448Verify(b, pub, msg, s), `${b.name} sig ${n}`);
    }
    assert.not.ok(ed448Verify(b, pub, msg, concatBytes(sig, Uint8Array.of(0))));
    assert.not.ok(ed448Verify(b, pub, msg, concatBytes(Uint8Array.of(0), sig)));
    assert.not.ok(ed448Verify(b, pub, msg, new Uint8Array(114)), 'all-zero signature');
    assert.not.ok(ed448Verify(b, new Uint8Array(57), msg, sig), 'all-zero key');
    for (const bad of [null, undefined, 'x', [1, 2], new Uint16Array(57), 57]) {
      assert.throws(() => ed448Verify(b, bad as never, msg, sig), (e: unknown) => e instanceof OtrArgumentError);
      assert.throws(() => ed448Verify(b, pub, bad as never, sig), (e: unknown) => e instanceof OtrArgumentError);
      assert.throws(() => ed448Verify(b, pub, msg, bad as never), (e: unknown) => e instanceof OtrArgumentError);
      assert.throws(() => ed448Sign(b, bad as never, msg), (e: unknown) => e instanceof OtrArgumentError);
      assert.throws(() => ed448Sign(b, hexToBytes(v.secret), bad as never), (e: unknown) => e instanceof OtrArgumentError);
    }
    for (const n of [0, 32, 56, 58, 114]) {
      assert.throws(() => ed448Sign(b, new Uint8Array(n), msg), (e: unknown) => e instanceof OtrArgumentError);
      assert.throws(() => ed448PublicKey(b, new Uint8Array(n)), (e: unknown) => e instanceof OtrArgumentError);
    }
  }
});

test('ed448KeyPair: RFC 8032 §5.2.5 expansion; signing with the expanded key gives the same signature', () => {
  const rnd = seededRandom(57);
  for (const b of BACKENDS) {
    for (let i = 0; i < 8; i++) {
      const sk = rnd(57);
      const h = shake256(sk, { dkLen: 114 });
      const kp = ed448KeyPair(b, sk);
      const s = h.slice(0, 57);
      s[0]! &= 0xfc;
      s[55]! |= 0x80;
      s[56] = 0;
      assert.is(bytesToHex(kp.scalar), bytesToHex(s));
      assert.is(bytesToHex(kp.prefix), bytesToHex(h.subarray(57)));
      assert.is(bytesToHex(kp.secret), bytesToHex(sk));
      assert.is(bytesToHex(kp.publicKey), bytesToHex(ed448.getPublicKey(sk)));
      const msg = rnd(i * 10);
      assert.is(bytesToHex(ed448SignExpanded(b, kp, msg)), bytesToHex(ed448Sign(b, sk, msg)));
    }
  }
});

test("signing wipes its own copies, never the caller's buffers (also for Node Buffers, whose slice() is a view)", () => {
  const v = RFC8032[3]!;
  for (const b of BACKENDS) {
    const sk = Buffer.from(hexToBytes(v.secret));
    const msg = Buffer.from(hexToBytes(v.message));
    assert.is(bytesToHex(ed448PublicKey(b, sk)), v.public);
    assert.is(bytesToHex(ed448Sign(b, sk, msg)), v.signature);
    assert.is(bytesToHex(sk), v.secret, `${b.name}: secret untouched`);
    const sig = Buffer.from(hexToBytes(v.signature));
    sig[0]! ^= 1; // forces the slow (cofactored) path, which negates R
    const before = bytesToHex(sig);
    assert.not.ok(ed448Verify(b, hexToBytes(v.public), msg, sig));
    assert.is(bytesToHex(sig), before, `${b.name}: signature untouched`);
  }
});

test.run();
