/**
 * The AEAD under sealing at rest (ts/store/aead*.ts): the OpenSSL path (Node) and the noble path (every
 * other runtime) must give the same bytes for every input, each must open what the other sealed, and each
 * must refuse every forgery; otherwise a database written by a Node bridge would not open in a browser
 * (or after a fallback), or a forged row would open on one path only. Then the same through whole sealed
 * stores, byte for byte, and the wiping of the HChaCha20 subkey.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { hchacha, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hchacha20, opensslAead, sealAead as nodeSealAead, withSubkey } from '../ts/store/aead-openssl.js';
import { agreeingAead } from '../ts/store/aead.js';
import { nobleAead, sealAead as defaultSealAead } from '../ts/store/aead-noble.js';
import type { SealAead } from '../ts/store/aead.js';
import { sealedStoreWith } from '../ts/store/sealing.js';
import { RawStore } from './helpers/raw-store.js';
import { rejectsAsync } from './helpers/rejects.js';
import { XCHACHA_A31 } from './helpers/xchacha-vector.js';

const t = suite('store-aead');
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/[^0-9a-f]/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Plain Uint8Arrays (a Buffer's slice() aliases, which would let a test edit its own inputs). */
const randomBytes = (n: number) => Uint8Array.from(nodeRandomBytes(n));
const BOTH: readonly SealAead[] = [opensslAead, nobleAead];

/** A small deterministic generator for lengths, so a failure names a reproducible case. */
function lengths(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

function seal(aead: SealAead, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array): Uint8Array {
  const out = new Uint8Array(plain.length + 16);
  aead.encryptInto(key, nonce, aad, plain, out);
  return out;
}

t('HChaCha20: the draft-irtf-cfrg-xchacha §2.2.1 vector, and noble\'s hchacha on random inputs', () => {
  const out = new Uint8Array(32);
  hchacha20(Uint8Array.from({ length: 32 }, (_, i) => i), hex('000000090000004a0000000031415927'), out);
  assert.is(toHex(out), '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc');
  const sigma = Uint32Array.of(0x61707865, 0x3320646e, 0x79622d32, 0x6b206574);
  for (let i = 0; i < 200; i++) {
    const key = randomBytes(32);
    const input = randomBytes(16);
    hchacha20(key, input, out);
    const words = new Uint32Array(8);
    const u32 = (b: Uint8Array) => new Uint32Array(Uint8Array.from(b).buffer); // little-endian hosts (all Node targets)
    hchacha(sigma, u32(key), u32(input), words);
    assert.is(toHex(out), toHex(new Uint8Array(words.buffer)), `case ${i}`);
  }
});

t('both paths: the draft-irtf-cfrg-xchacha A.3.1 XChaCha20-Poly1305 vector', () => {
  const { key, nonce, aad, plain, sealedHex: expected } = XCHACHA_A31;
  for (const aead of BOTH) {
    assert.is(toHex(seal(aead, key, nonce, aad, plain)), expected, aead.name);
    assert.equal(aead.decrypt(key, nonce, aad, hex(expected)), plain, aead.name);
  }
});

t('differential: random plaintexts of 0..70 KiB and random AAD give the same bytes on both paths, each opens the other\'s', () => {
  const rnd = lengths(0x5eed);
  const sizes = [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 2048, 16383, 16384, 16385, 65535, 65536, 70 * 1024];
  for (let i = 0; i < 60; i++) sizes.push(Math.floor(rnd() * 70 * 1024 + 1));
  for (let i = 0; i < 60; i++) sizes.push(Math.floor(rnd() * 300)); // the common case: small records
  for (const size of sizes) {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const aad = randomBytes(Math.floor(rnd() * 200));
    const plain = randomBytes(size);
    const a = seal(opensslAead, key, nonce, aad, plain);
    const b = seal(nobleAead, key, nonce, aad, plain);
    assert.ok(Buffer.from(a).equals(Buffer.from(b)), `size ${size}, aad ${aad.length}: the paths differ`);
    assert.ok(Buffer.from(opensslAead.decrypt(key, nonce, aad, b)).equals(Buffer.from(plain)), `size ${size}: OpenSSL opens noble's`);
    assert.ok(Buffer.from(nobleAead.decrypt(key, nonce, aad, a)).equals(Buffer.from(plain)), `size ${size}: noble opens OpenSSL's`);
  }
});

t('the OpenSSL path hands back a plain Uint8Array the caller owns, not a Buffer over shared memory', () => {
  const key = randomBytes(32);
  const nonce = randomBytes(24);
  for (const size of [0, 5, 3000]) {
    const plain = opensslAead.decrypt(key, nonce, new Uint8Array(0), seal(nobleAead, key, nonce, new Uint8Array(0), new Uint8Array(size).fill(9)));
    assert.is(Object.getPrototypeOf(plain), Uint8Array.prototype);
    assert.is(plain.length, size);
    assert.ok(plain.every((x) => x === 9));
    assert.equal(plain.slice(0, 2), new Uint8Array(Math.min(2, size)).fill(9), 'slice copies');
  }
});

t('every byte of a small sealed message flipped, or a wrong key, nonce, AAD or length: refused on both paths', () => {
  const key = randomBytes(32);
  const nonce = randomBytes(24);
  const aad = randomBytes(30);
  const plain = randomBytes(40);
  const good = seal(nobleAead, key, nonce, aad, plain);
  for (const aead of BOTH) {
    for (let i = 0; i < good.length; i++) {
      for (const bit of [0, 3, 7]) {
        const bad = good.slice();
        bad[i]! ^= 1 << bit;
        assert.throws(() => aead.decrypt(key, nonce, aad, bad), undefined, `${aead.name}: byte ${i} bit ${bit}`);
      }
    }
    const flip = (b: Uint8Array, i: number) => {
      const c = b.slice();
      c[i]! ^= 0x80;
      return c;
    };
    assert.throws(() => aead.decrypt(flip(key, 31), nonce, aad, good), undefined, `${aead.name}: key`);
    assert.throws(() => aead.decrypt(key, flip(nonce, 0), aad, good), undefined, `${aead.name}: nonce, HChaCha half`);
    assert.throws(() => aead.decrypt(key, flip(nonce, 23), aad, good), undefined, `${aead.name}: nonce, ChaCha half`);
    assert.throws(() => aead.decrypt(key, nonce, flip(aad, 5), good), undefined, `${aead.name}: aad`);
    assert.throws(() => aead.decrypt(key, nonce, aad.subarray(1), good), undefined, `${aead.name}: shorter aad`);
    assert.throws(() => aead.decrypt(key, nonce, aad, good.subarray(0, good.length - 1)), undefined, `${aead.name}: truncated`);
    assert.throws(() => aead.decrypt(key, nonce, aad, good.subarray(0, 15)), undefined, `${aead.name}: shorter than a tag`);
    assert.equal(aead.decrypt(key, nonce, aad, good), plain, `${aead.name}: the untouched message still opens`);
  }
});

t('the HChaCha20 subkey is wiped once OpenSSL has it, also when building the cipher throws', () => {
  const key = randomBytes(32);
  const nonce = randomBytes(24);
  let seen: Uint8Array | undefined;
  let copy = '';
  withSubkey(key, nonce, (subkey, iv) => {
    seen = subkey;
    copy = toHex(subkey);
    assert.is(toHex(iv), `00000000${toHex(nonce.subarray(16))}`);
  });
  const expected = new Uint8Array(32);
  hchacha20(key, nonce.subarray(0, 16), expected);
  assert.is(copy, toHex(expected), 'the subkey is HChaCha20(key, nonce[0..16])');
  assert.ok(seen!.every((b) => b === 0), 'wiped after use');
  assert.throws(() =>
    withSubkey(key, nonce, (subkey) => {
      seen = subkey;
      throw new Error('boom');
    }),
  );
  assert.ok(seen!.every((b) => b === 0), 'wiped after a throw');
  assert.throws(() => withSubkey(key.subarray(1), nonce, () => 0), /length/);
  assert.throws(() => withSubkey(key, nonce.subarray(1), () => 0), /length/);
});

t('selection: Node seals with OpenSSL, other builds with noble; an OpenSSL that disagrees or accepts forgeries is not used', () => {
  assert.is(nodeSealAead().name, 'openssl');
  assert.is(defaultSealAead().name, 'noble');
  assert.is(agreeingAead(opensslAead, nobleAead), opensslAead);
  const wrongBytes: SealAead = { ...opensslAead, encryptInto: (k, n, a, p, o) => (opensslAead.encryptInto(k, n, a, p, o), (o[0]! ^= 1)) };
  const acceptsForgery: SealAead = { ...opensslAead, decrypt: (k, n, _a, s) => xchacha20poly1305(k, n).encrypt(s.subarray(0, s.length - 16)) };
  const missing: SealAead = {
    ...opensslAead,
    encryptInto: () => {
      throw new Error('Unknown cipher');
    },
  };
  const wrongOpen: SealAead = { ...opensslAead, decrypt: (k, n, a, s) => opensslAead.decrypt(k, n, a, s).map((x) => x ^ 1) };
  for (const broken of [wrongBytes, acceptsForgery, missing, wrongOpen]) assert.is(agreeingAead(broken, nobleAead), nobleAead);
});

// Whole sealed stores on each path, with the same nonces: the same rows, and each opens the other's.
const HOST_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0xa5 ^ i);

function counterNonces(): (n: number) => Uint8Array {
  let i = 0;
  return (n) => Uint8Array.from({ length: n }, (_, j) => (i * 31 + j) & 0xff, i++);
}

t('sealed stores: the OpenSSL and noble paths write identical rows, and each opens what the other wrote', async () => {
  const rawA = new RawStore();
  const rawB = new RawStore();
  const a = sealedStoreWith(opensslAead, rawA, HOST_KEY, { random: counterNonces() });
  const b = sealedStoreWith(nobleAead, rawB, HOST_KEY, { random: counterNonces() });
  const rnd = lengths(7);
  const records: [string, string, number, Uint8Array][] = [];
  for (let i = 0; i < 40; i++) records.push([`acct${i % 3}@x`, `conv:peer${i}`, 1 + (i % 5), randomBytes(Math.floor(rnd() * 70 * 1024 * (i % 4 === 0 ? 1 : 0.05)))]);
  records.push(['acct0@x', 'account', 1, new Uint8Array(0)]);
  for (const [acct, key, gen, bytes] of records) {
    for (const s of [a, b]) {
      for (let g = 1; g < gen; g++) await s.commit(acct, [{ key, generation: g, bytes: new Uint8Array([g]) }]);
      await s.commit(acct, [{ key, generation: gen, bytes }]);
    }
  }
  assert.equal([...rawA.rows.keys()], [...rawB.rows.keys()]);
  for (const [acct, rows] of rawA.rows) {
    for (const [name, row] of rows) {
      const other = rawB.rows.get(acct)!.get(name)!;
      assert.is(row.generation, other.generation);
      assert.ok(Buffer.from(row.bytes).equals(Buffer.from(other.bytes)), `row ${name}`);
    }
  }
  // Cross-open: each store's rows read through the other path.
  const aReadsB = sealedStoreWith(opensslAead, rawB, HOST_KEY);
  const bReadsA = sealedStoreWith(nobleAead, rawA, HOST_KEY);
  for (const [acct, key, gen, bytes] of records) {
    for (const s of [aReadsB, bReadsA]) {
      const got = await s.load(acct, key);
      assert.is(got?.generation, gen);
      assert.ok(Buffer.from(got!.bytes).equals(Buffer.from(bytes)), `${acct} ${key}`);
    }
  }
  for (const s of [a, b, aReadsB, bReadsA]) await s.close();
});

t('sealed stores, both paths: every byte of a small row flipped is BAD_MAC (MALFORMED for the version byte)', async () => {
  for (const aead of BOTH) {
    const raw = new RawStore();
    const s = sealedStoreWith(aead, raw, HOST_KEY);
    await s.commit('a@x', [{ key: 'conv:b', generation: 1, bytes: new TextEncoder().encode('ratchet') }]);
    const row = [...raw.onlyAccount().values()][0]!;
    const good = row.bytes.slice();
    for (let i = 0; i < good.length; i++) {
      row.bytes = good.slice();
      row.bytes[i]! ^= 1 << (i % 8);
      await rejectsAsync(s.load('a@x', 'conv:b'), i === 0 ? 'MALFORMED' : 'BAD_MAC');
    }
    row.bytes = good;
    assert.equal((await s.load('a@x', 'conv:b'))?.bytes, new TextEncoder().encode('ratchet'), `${aead.name}: untouched, it opens`);
  }
});

t('sealed stores, both paths: wrong host key, context, generation, account or record key is BAD_MAC', async () => {
  for (const aead of BOTH) {
    const raw = new RawStore();
    const s = sealedStoreWith(aead, raw, HOST_KEY);
    await s.commit('alice@x', [
      { key: 'conv:bob', generation: 1, bytes: new Uint8Array([1, 2, 3]) },
      { key: 'conv:eve', generation: 1, bytes: new Uint8Array([4]) },
    ]);
    await s.commit('mallory@x', [{ key: 'conv:bob', generation: 1, bytes: new Uint8Array([5]) }]);
    const aliceRows = raw.rows.get([...raw.rows.keys()][0]!)!;
    const [bobName, eveName] = [...aliceRows.keys()];
    const bobRow = aliceRows.get(bobName!)!;
    // Another key or context: the row ids differ, so copy the row to where that store looks for it.
    for (const other of [
      sealedStoreWith(aead, raw, HOST_KEY.map((x, i) => (i === 0 ? x ^ 1 : x))),
      sealedStoreWith(aead, raw, HOST_KEY, { context: 'other' }),
    ]) {
      await other.commit('alice@x', [{ key: 'conv:bob', generation: 1, bytes: new Uint8Array([9]) }]);
      const otherRows = raw.rows.get([...raw.rows.keys()].at(-1)!)!;
      const otherName = [...otherRows.keys()].find((n) => n !== bobName && n !== eveName)!;
      otherRows.set(otherName, { generation: 1, bytes: bobRow.bytes.slice() });
      await rejectsAsync(other.load('alice@x', 'conv:bob'), 'BAD_MAC');
    }
    bobRow.generation = 2;
    await rejectsAsync(s.load('alice@x', 'conv:bob'), 'BAD_MAC');
    bobRow.generation = 1;
    aliceRows.set(eveName!, { ...bobRow, bytes: bobRow.bytes.slice() });
    await rejectsAsync(s.load('alice@x', 'conv:eve'), 'BAD_MAC');
    const malloryRows = raw.rows.get([...raw.rows.keys()][1]!)!;
    malloryRows.set([...malloryRows.keys()][0]!, { ...bobRow, bytes: bobRow.bytes.slice() });
    await rejectsAsync(s.load('mallory@x', 'conv:bob'), 'BAD_MAC');
    assert.equal((await s.load('alice@x', 'conv:bob'))?.bytes, new Uint8Array([1, 2, 3]), `${aead.name}: the real row still opens`);
  }
});

t('a store brought by the app that hands back a generation that is no positive integer: MALFORMED, not a wrong open', async () => {
  for (const aead of BOTH) {
    const raw = new RawStore();
    const s = sealedStoreWith(aead, raw, HOST_KEY);
    await s.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array([1]) }]);
    const row = [...raw.onlyAccount().values()][0]!;
    for (const g of [1.5, 0, -1, Number.NaN, 2 ** 53, Infinity]) {
      row.generation = g;
      await rejectsAsync(s.load('a@x', 'k'), 'MALFORMED');
    }
  }
});

t.run();
