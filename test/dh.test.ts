/**
 * The OTRv4 DH layer (ts/crypto/dh.ts) on every backend: key pairs and shared secrets against node:crypto
 * and across backends, the public-value check on every boundary, and the minimal encodings.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDiffieHellman } from 'node:crypto';
import { BACKENDS as TWO, HYBRID, JS, WASM } from './helpers/backends.js';
import { CASES, seededRandom } from './helpers/rng.js';
import { DH_GROUPS } from '../ts/crypto/dh-groups.js';
import {
  DH_SECRET_BYTES,
  dhAssertValidPublic,
  dhIsValidPublic,
  dhKeyPair,
  dhPublicKey,
  dhSharedSecret,
} from '../ts/crypto/dh.js';
import { bigToBytesBE, bytesToBigBE, bytesToHex } from '../ts/bytes.js';
import { OtrArgumentError, OtrCryptoError } from '../ts/errors.js';
import type { DhGroupName } from '../ts/backend/types.js';

/** Every backend, the hybrid one (OpenSSL modPow) included. */
const BACKENDS = [...TWO, HYBRID];
const hex = bytesToHex;
const minimalHex = (b: Uint8Array | Buffer) => hex(bigToBytesBE(bytesToBigBE(new Uint8Array(b))));

function nodeDh(g: DhGroupName) {
  return createDiffieHellman(Buffer.from(bigToBytesBE(DH_GROUPS[g].p, DH_GROUPS[g].bytes)), 2);
}

function plainPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

test('dhKeyPair: 80 random bytes, public = g^r as node:crypto computes it, minimal encoding', () => {
  const rnd = seededRandom(80);
  const dh = nodeDh('modp3072');
  for (const b of BACKENDS) {
    for (let i = 0; i < 6; i++) {
      let asked = 0;
      const kp = dhKeyPair(b, (n) => {
        asked = n;
        return rnd(n);
      });
      assert.is(asked, DH_SECRET_BYTES);
      assert.is(kp.secret.length, 80);
      dh.setPrivateKey(Buffer.from(kp.secret));
      dh.generateKeys();
      assert.is(hex(kp.public), minimalHex(dh.getPublicKey()), `${b.name} ${i}`);
      assert.ok(kp.public[0] !== 0, 'no leading zero');
      assert.ok(dhIsValidPublic(b, kp.public), 'g^r passes the group check');
    }
  }
});

test('dhKeyPair rejects a random source that returns the wrong length', () => {
  for (const b of BACKENDS) {
    try {
      dhKeyPair(b, (n) => new Uint8Array(n - 1));
      assert.unreachable('accepted');
    } catch (e) {
      assert.instance(e, OtrArgumentError);
    }
  }
});

test(`shared secrets agree across WASM, JS and node:crypto (${Math.ceil(CASES / 20)} exchanges per group)`, () => {
  const rnd = seededRandom(0xd4);
  for (const g of ['modp3072', 'modp1536'] as const) {
    const alice = nodeDh(g);
    for (let i = 0; i < Math.ceil(CASES / 20); i++) {
      const a = dhKeyPair(WASM, rnd, g);
      const bob = dhKeyPair(JS, rnd, g);
      const k1 = dhSharedSecret(WASM, a.secret, bob.public, g);
      const k2 = dhSharedSecret(JS, bob.secret, a.public, g);
      const k3 = dhSharedSecret(JS, a.secret, bob.public, g);
      const k4 = dhSharedSecret(WASM, bob.secret, a.public, g);
      alice.setPrivateKey(Buffer.from(a.secret));
      const ref = minimalHex(alice.computeSecret(Buffer.from(bob.public)));
      for (const k of [k1, k2, k3, k4]) assert.is(hex(k), ref, `${g} exchange ${i}`);
      assert.ok(k1[0] !== 0, 'minimal: no leading zero byte');
    }
  }
});

test('k_dh is minimal-length big-endian (no padding to the group size)', () => {
  for (const b of BACKENDS) {
    // 4 = 2^2 is a valid public value; 4^1 = 4 is a one-byte k_dh.
    assert.is(hex(dhSharedSecret(b, new Uint8Array([1]), new Uint8Array([4]))), '04');
    assert.is(hex(dhSharedSecret(b, new Uint8Array([0, 0, 2]), new Uint8Array([0, 4]))), '10');
    // a public value with leading zero bytes (even beyond the group size) is the same value
    const kp = dhKeyPair(b, seededRandom(1));
    const longer = new Uint8Array(400);
    longer.set(kp.public, 400 - kp.public.length);
    assert.ok(dhIsValidPublic(b, longer));
    assert.is(hex(dhSharedSecret(b, kp.secret, longer)), hex(dhSharedSecret(b, kp.secret, kp.public)));
  }
});

function assertInvalid(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, OtrCryptoError, what);
    assert.is((e as OtrCryptoError).code, 'INVALID_DH_VALUE', what);
    return;
  }
  assert.unreachable(`${what}: accepted`);
}

test('public-value check: 0, 1, 2, p-2, p-1, p, p+1, non-residues, oversized', () => {
  for (const g of ['modp3072', 'modp1536'] as const) {
    const { p, q, bytes } = DH_GROUPS[g];
    const enc = (x: bigint) => bigToBytesBE(x);
    // x^q ≡ 1 with 2 <= x <= p-2, decided independently here: the spec's own definition.
    const bySpec = (x: bigint) => x >= 2n && x <= p - 2n && plainPow(x, q, p) === 1n;
    const cases: [string, Uint8Array, boolean][] = [
      ['empty', new Uint8Array(0), false],
      ['0', new Uint8Array([0]), false],
      ['1', enc(1n), false],
      ['2', enc(2n), bySpec(2n)], // p = 7 mod 8: 2 is a residue, the generator of the q-subgroup
      ['3', enc(3n), bySpec(3n)],
      ['4', enc(4n), true],
      ['p-2', enc(p - 2n), bySpec(p - 2n)], // -2 is a non-residue: in range but outside the subgroup
      ['p-1', enc(p - 1n), false],
      ['p', enc(p), false],
      ['p+1', enc(p + 1n), false],
      ['p+4', enc(p + 4n), false], // 4 mod p is a residue, but the value is out of range
      ['2^(8 bytes) - 1', new Uint8Array(bytes).fill(0xff), false],
      ['oversized', new Uint8Array(bytes + 1).fill(1), false],
      ['oversized with a small residue in it', (() => { const x = new Uint8Array(bytes + 1); x[0] = 1; x[bytes] = 4; return x; })(), false],
      ['p-(4) (non-residue -4)', enc(p - 4n), false],
      ['non-residue -g^5', enc(p - 32n), false],
    ];
    assert.is(bySpec(2n), true);
    assert.is(bySpec(p - 2n), false);
    for (const b of BACKENDS) {
      for (const [name, x, valid] of cases) {
        assert.is(dhIsValidPublic(b, x, g), valid, `${b.name} ${g} ${name}`);
        if (valid) dhAssertValidPublic(b, x, g);
        else {
          assertInvalid(() => dhAssertValidPublic(b, x, g), `${b.name} ${g} ${name}`);
          assertInvalid(() => dhSharedSecret(b, new Uint8Array(80).fill(7), x, g), `${b.name} ${g} shared ${name}`);
        }
      }
    }
  }
});

test('public-value check agrees with x^q on random values (both backends)', () => {
  const rnd = seededRandom(0x9);
  for (let i = 0; i < 40; i++) {
    const g: DhGroupName = i % 4 === 0 ? 'modp3072' : 'modp1536';
    const { p, q, bytes } = DH_GROUPS[g];
    const x = rnd(bytes);
    const v = bytesToBigBE(x);
    const want = v >= 2n && v <= p - 2n && plainPow(v, q, p) === 1n;
    for (const b of BACKENDS) assert.is(dhIsValidPublic(b, x, g), want, `${b.name} ${g} ${i}`);
  }
});

test('argument types are checked with OtrArgumentError', () => {
  for (const b of BACKENDS) {
    for (const call of [
      () => dhIsValidPublic(b, 'x' as unknown as Uint8Array),
      () => dhSharedSecret(b, null as unknown as Uint8Array, new Uint8Array([4])),
      () => dhPublicKey(b, 5 as unknown as Uint8Array),
      () => dhIsValidPublic(b, new Uint8Array([4]), 'modp1024' as DhGroupName),
      () => dhSharedSecret(b, new Uint8Array(400), new Uint8Array([4])), // secret over the exponent cap
    ]) {
      try {
        call();
        assert.unreachable('accepted');
      } catch (e) {
        assert.instance(e, OtrArgumentError);
      }
    }
  }
});

test.run();
