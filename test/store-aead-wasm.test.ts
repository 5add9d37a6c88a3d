/**
 * The WASM record AEAD (assembly/aead.ts, ts/backend/wasm/aead.ts): XChaCha20-Poly1305 with the bytes of the
 * OpenSSL and noble paths (ts/store/aead*.ts) for every input, so rows sealed by one open with the others;
 * its Poly1305 against RFC 8439's vectors (the reduction edge cases included) and noble's; every forgery
 * refused with nothing decrypted; every key wiped from the module's memory; and its use by sealing only
 * after it agreed with the build's own AEAD (openStoredAccount hands it in for a WASM-carrying backend).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hchacha20, opensslAead } from '../ts/store/aead-openssl.js';
import { nobleAead } from '../ts/store/aead-noble.js';
import type { SealAead } from '../ts/store/aead.js';
import { checkedSealAead, sealedStoreWith } from '../ts/store/sealing.js';
import { aeadOps } from '../ts/backend/wasm/aead.js';
import { backendSealAead } from '../ts/store/aead-backend.js';
import type { WasmBackend } from '../ts/backend/wasm/index.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';
import { WASM, HYBRID, JS } from './helpers/backends.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import { RawStore } from './helpers/raw-store.js';
import { MemoryStore } from '../ts/store/memory.js';
import { openStoredAccount } from '../ts/session/account-store.js';
import { XCHACHA_A31 } from './helpers/xchacha-vector.js';

const t = suite('store-aead-wasm');
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/[^0-9a-f]/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const randomBytes = (n: number) => Uint8Array.from(nodeRandomBytes(n));
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

const ctx: WasmContext = (WASM as WasmBackend).context;
const simdCtx: WasmContext | undefined = (WASM as WasmBackend).simdContext;
/**
 * The main module's scalar path, and the WASM backend's own operation, which runs in the SIMD module (its
 * four-block ChaCha20 and two-blocks-per-step Poly1305; what openStoredAccount uses), each as the store's
 * SealAead with noble for the sizes it declines.
 */
const wasmScalar = backendSealAead(aeadOps(ctx), nobleAead)!;
const wasmSimd = backendSealAead(WASM, nobleAead)!;
const PATHS: readonly [string, SealAead][] = [['scalar', wasmScalar], ['simd', wasmSimd]];
const wasm = wasmSimd;
const data: number = ctx.exports.chacha20_data();
const dataMax = ctx.io + ctx.ioSize - data;
/** The module the backend's operation runs in (the SIMD one in Node), its key area and data area. */
const wasmCtx: WasmContext = simdCtx ?? ctx;
const wasmArea: number = wasmCtx.exports.aead_area();
const wasmData: number = wasmCtx.exports.chacha20_data();

function seal(aead: SealAead, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array): Uint8Array {
  const out = new Uint8Array(plain.length + 16);
  aead.encryptInto(key, nonce, aad, plain, out);
  return out;
}

/**
 * A module's raw Poly1305 (the test hook) over `msg` with the one-time key `key`: the main module's scalar loop,
 * or the SIMD module's, whose messages of 128 bytes or more go through its two-blocks-per-step loop.
 */
function wasmPoly(key: Uint8Array, msg: Uint8Array, c: WasmContext = ctx): Uint8Array {
  const at: number = c.exports.aead_area();
  c.mem.set(key, at);
  c.mem.set(msg, c.exports.chacha20_data());
  c.exports.aead_poly1305_test(msg.length);
  return c.mem.slice(at + 64, at + 80);
}
/** Both modules' Poly1305, by name. */
const POLYS: readonly [string, WasmContext][] = simdCtx === undefined ? [['main', ctx]] : [['main', ctx], ['simd', simdCtx]];

/** True when `needle` occurs anywhere in either module's memory. */
function inMemory(needle: Uint8Array): boolean {
  for (const c of [ctx, simdCtx]) if (c && Buffer.from(c.mem.buffer).indexOf(Buffer.from(needle)) >= 0) return true;
  return false;
}

t('Poly1305: the RFC 8439 §2.5.2 vector and the A.3 edge cases (h reaching p, carries through every limb)', () => {
  const text = new TextEncoder().encode('Cryptographic Forum Research Group');
  assert.is(toHex(wasmPoly(hex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b'), text)), 'a8061dc1305136c6c22b8baf0c0127a9');
  const r2 = hex('02' + '00'.repeat(15));
  const r1 = hex('01' + '00'.repeat(15));
  const zero = new Uint8Array(16);
  const ff = new Uint8Array(16).fill(0xff);
  const cases: [Uint8Array, Uint8Array, string][] = [
    // A.3 #5: h = 2·(2^128 − 1 + 2^128) reduces through p.
    [new Uint8Array([...r2, ...zero]), ff, '03' + '00'.repeat(15)],
    // #6: s = 2^128 − 1, the final addition wraps.
    [new Uint8Array([...r2, ...ff]), hex('02' + '00'.repeat(15)), '03' + '00'.repeat(15)],
    // #7: carries through every limb.
    [new Uint8Array([...r1, ...zero]), new Uint8Array([...ff, 0xf0, ...new Uint8Array(15).fill(0xff), 0x11, ...new Uint8Array(15)]), '05' + '00'.repeat(15)],
    // #8: h ends exactly at p (the result is 0).
    [new Uint8Array([...r1, ...zero]), new Uint8Array([...ff, 0xfb, ...new Uint8Array(15).fill(0xfe), ...new Uint8Array(16).fill(0x01)]), '00'.repeat(16)],
    // #9: h = p − 1 + 2^128 region: the subtraction's borrow.
    [new Uint8Array([...r2, ...zero]), new Uint8Array([0xfd, ...new Uint8Array(15).fill(0xff)]), 'faffffffffffffffffffffffffffffff'],
  ];
  for (const [i, [key, msg, tag]] of cases.entries()) {
    for (const [name, c] of POLYS) assert.is(toHex(wasmPoly(key, msg, c)), tag, `${name}: A.3 case ${i + 5}`);
    assert.is(toHex(poly1305(msg, key)), tag, `noble agrees on case ${i + 5} (the vector as written here)`);
  }
  for (const [name, c] of POLYS)
    assert.is(toHex(wasmPoly(hex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b'), text, c)), 'a8061dc1305136c6c22b8baf0c0127a9', name);
});

t('Poly1305, SIMD module: noble\'s tags on lengths around the two-block loop\'s threshold and ends, extreme keys, long messages', () => {
  assert.ok(simdCtx !== undefined, 'Node validates the SIMD module');
  const maxR = hex('ffffff0ffcffff0ffcffff0ffcffff0f');
  const lengths: number[] = [];
  // The pair loop takes messages of 8 blocks (128 bytes) or more; around that, odd and even block counts,
  // partial last blocks, and long messages (the limbs' bounds over many steps).
  for (let n = 96; n <= 200; n++) lengths.push(n);
  for (const n of [255, 256, 257, 2266, 2300, 3700, 4095, 4096, 4097, 16384 + 15, dataMax]) lengths.push(n);
  for (let i = 0; i < 200; i++) lengths.push(128 + Math.floor(Math.random() * 6000));
  for (const [i, len] of lengths.entries()) {
    const kind = i % 4;
    const key = randomBytes(32);
    if (kind === 1 || kind === 3) key.set(maxR);
    if (kind === 3) key.fill(0xff, 16);
    const msg = kind >= 2 ? new Uint8Array(len).fill(0xff) : randomBytes(len);
    const expected = toHex(poly1305(msg, key));
    assert.is(toHex(wasmPoly(key, msg, simdCtx)), expected, `simd: len ${len}, kind ${kind}`);
    if (i % 8 === 0) assert.is(toHex(wasmPoly(key, msg, ctx)), expected, `main: len ${len}, kind ${kind}`);
  }
});

t('Poly1305: noble\'s tags on random and adversarial keys and messages (0..2,000 bytes, all-0xff blocks, maximal r)', () => {
  const maxR = hex('ffffff0ffcffff0ffcffff0ffcffff0f');
  for (let i = 0; i < 600; i++) {
    const len = i < 100 ? i : Math.floor(Math.random() * 2000);
    const kind = i % 4;
    const key = randomBytes(32);
    if (kind === 1 || kind === 3) key.set(maxR);
    if (kind === 3) key.fill(0xff, 16);
    const msg = kind >= 2 ? new Uint8Array(len).fill(0xff) : randomBytes(len);
    for (const [name, c] of POLYS) assert.is(toHex(wasmPoly(key, msg, c)), toHex(poly1305(msg, key)), `${name}: case ${i} (len ${len}, kind ${kind})`);
  }
});

t('XChaCha20-Poly1305: the draft-irtf-cfrg-xchacha A.3.1 vector', () => {
  const { key, nonce, aad, plain, sealedHex: expected } = XCHACHA_A31;
  assert.ok(simdCtx !== undefined, 'Node validates the SIMD module');
  for (const [path, aead] of PATHS) {
    assert.is(aead.name, 'backend');
    assert.is(toHex(seal(aead, key, nonce, aad, plain)), expected, path);
    assert.equal(aead.decrypt(key, nonce, aad, hex(expected)), plain, path);
  }
});

t('differential: wasm = OpenSSL = noble on random plaintexts of 0..70 KiB (past the module\'s area: the fallback) and AAD of 0..5,000 bytes', () => {
  // Around the SIMD module's two-block Poly1305 threshold (128 bytes) and its odd/even block counts too.
  const sizes = [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 143, 144, 145, 159, 160, 161, 2266, 4096, dataMax - 1, dataMax, dataMax + 1, 70 * 1024];
  for (let i = 0; i < 150; i++) sizes.push(Math.floor(Math.random() * (i % 3 === 0 ? 70 * 1024 : 3000)));
  for (const [i, size] of sizes.entries()) {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const aad = randomBytes(i % 17 === 0 ? 4096 + Math.floor(Math.random() * 1000) : Math.floor(Math.random() * 300));
    const plain = randomBytes(size);
    const o = seal(opensslAead, key, nonce, aad, plain);
    assert.ok(same(o, xchacha20poly1305(key, nonce, aad).encrypt(plain)), `size ${size}: OpenSSL and noble differ`);
    for (const [path, aead] of PATHS) {
      const w = seal(aead, key, nonce, aad, plain);
      assert.ok(same(w, o), `${path}: size ${size}, aad ${aad.length}: wasm and OpenSSL differ`);
      assert.ok(same(aead.decrypt(key, nonce, aad, o), plain), `${path}: size ${size}: wasm opens OpenSSL's`);
      assert.ok(same(opensslAead.decrypt(key, nonce, aad, w), plain), `${path}: size ${size}: OpenSSL opens wasm's`);
    }
  }
});

t('every bit of a small sealed message flipped, truncation, a wrong key / nonce half / AAD: refused, nothing decrypted', () => {
  const key = randomBytes(32);
  const nonce = randomBytes(24);
  const aad = randomBytes(30);
  const plain = randomBytes(40);
  const good = seal(nobleAead, key, nonce, aad, plain);
  for (let i = 0; i < good.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const bad = good.slice();
      bad[i]! ^= 1 << bit;
      assert.throws(() => wasm.decrypt(key, nonce, aad, bad), /invalid tag/, `byte ${i} bit ${bit}`);
      // The ciphertext is left in the data area as it was (never turned into plaintext), the key wiped.
      assert.ok(same(wasmCtx.mem.subarray(wasmData, wasmData + 40), bad.subarray(0, 40)), `byte ${i} bit ${bit}: nothing decrypted`);
      assert.ok(wasmCtx.mem.subarray(wasmArea, wasmArea + 32).every((b) => b === 0), 'the key is wiped after a refusal');
    }
  }
  const flip = (b: Uint8Array, i: number) => {
    const c = b.slice();
    c[i]! ^= 0x80;
    return c;
  };
  assert.throws(() => wasm.decrypt(flip(key, 31), nonce, aad, good), /invalid tag/, 'key');
  assert.throws(() => wasm.decrypt(key, flip(nonce, 0), aad, good), /invalid tag/, 'nonce, HChaCha half');
  assert.throws(() => wasm.decrypt(key, flip(nonce, 23), aad, good), /invalid tag/, 'nonce, ChaCha half');
  assert.throws(() => wasm.decrypt(key, nonce, flip(aad, 5), good), /invalid tag/, 'aad');
  assert.throws(() => wasm.decrypt(key, nonce, aad.subarray(1), good), /invalid tag/, 'shorter aad');
  for (const cut of [1, 15, 16, good.length - 16])
    assert.throws(() => wasm.decrypt(key, nonce, aad, good.subarray(0, good.length - cut)), /invalid tag/, `truncated by ${cut}`);
  assert.throws(() => wasm.decrypt(key, nonce, aad, good.subarray(0, 15)), /shorter than a tag/);
  assert.throws(() => wasm.decrypt(key, nonce, aad, new Uint8Array([...good, 0])), /invalid tag/, 'extended');
  assert.throws(() => wasm.decrypt(key.subarray(1), nonce, aad, good), /wrong key or nonce length/);
  assert.throws(() => wasm.decrypt(key, nonce.subarray(1), aad, good), /wrong key or nonce length/);
  assert.throws(() => wasm.encryptInto(key, nonce, aad, plain, new Uint8Array(plain.length + 15)), /wrong output length/);
  assert.equal(wasm.decrypt(key, nonce, aad, good), plain, 'the untouched message still opens');
});

t('no key, subkey, Poly1305 key or plaintext stays in the module\'s memory after a seal, an open or a refusal', () => {
  const key = randomBytes(32);
  const nonce = randomBytes(24);
  const plain = randomBytes(2266);
  const subkey = new Uint8Array(32);
  hchacha20(key, nonce, subkey);
  const sealed = seal(wasmScalar, key, nonce, new Uint8Array(0), plain);
  assert.ok(same(seal(wasmSimd, key, nonce, new Uint8Array(0), plain), sealed));
  const opened = wasm.decrypt(key, nonce, new Uint8Array(0), sealed);
  assert.ok(same(opened, plain));
  const bad = sealed.slice();
  bad[5]! ^= 1;
  assert.throws(() => wasm.decrypt(key, nonce, new Uint8Array(0), bad));
  for (const [what, secret] of [['key', key], ['subkey', subkey], ['plaintext head', plain.subarray(0, 32)], ['plaintext tail', plain.subarray(plain.length - 32)]] as const)
    assert.not.ok(inMemory(secret), `${what} left in the module's memory`);
  // The Poly1305 key: recomputed from block 0 of the keystream (ChaCha20 of zeros under the subkey).
  const iv = new Uint8Array(12);
  iv.set(nonce.subarray(16), 4);
  const { chacha20 } = WASM;
  const block0 = chacha20(subkey, iv, new Uint8Array(64), 0);
  assert.not.ok(inMemory(block0.subarray(0, 32)), 'the Poly1305 key left in the module\'s memory');
});

t('sealed stores: the wasm AEAD writes the rows the OpenSSL one writes (same nonces), and each opens the other\'s', async () => {
  const hostKey = randomBytes(32);
  const nonces = randomBytes(24 * 8);
  const seeded = () => {
    let at = 0;
    return (n: number) => nonces.slice(at, (at += n));
  };
  const rowsOf = async (aead: SealAead) => {
    const raw = new RawStore();
    const s = sealedStoreWith(aead, raw, hostKey, { random: seeded() });
    await s.commit('acct', [
      { key: 'account', generation: 1, bytes: randomBytesSeeded(300, 1) },
      { key: 'conv:bob', generation: 1, bytes: randomBytesSeeded(2266, 2) },
    ]);
    return raw;
  };
  const a = await rowsOf(wasm);
  const b = await rowsOf(opensslAead);
  const flat = (r: RawStore) => [...r.rows].flatMap(([acc, m]) => [...m].map(([k, row]) => `${acc}/${k}/${row.generation}/${toHex(row.bytes)}`)).sort();
  assert.equal(flat(a), flat(b));
  assert.equal(flat(await rowsOf(wasmScalar)), flat(b));
  for (const [writer, reader] of [[a, opensslAead], [b, wasm]] as const) {
    const s = sealedStoreWith(reader, writer, hostKey);
    assert.ok(same((await s.load('acct', 'conv:bob'))!.bytes, randomBytesSeeded(2266, 2)));
  }
});

function randomBytesSeeded(n: number, seed: number): Uint8Array {
  let x = seed * 0x9e3779b1 || 1;
  return Uint8Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x & 0xff;
  });
}

t('checkedSealAead: a candidate is used only when it agrees with the build\'s own AEAD', () => {
  assert.is(checkedSealAead(wasm).name, 'backend');
  assert.is(checkedSealAead(undefined).name, 'openssl');
  const wrongTag: SealAead = {
    name: 'backend',
    encryptInto: (k, n, a, p, o) => {
      wasm.encryptInto(k, n, a, p, o);
      o[o.length - 1]! ^= 1;
    },
    decrypt: (k, n, a, s) => wasm.decrypt(k, n, a, s),
  };
  const acceptsAll: SealAead = { name: 'backend', encryptInto: (k, n, a, p, o) => wasm.encryptInto(k, n, a, p, o), decrypt: (_k, _n, _a, s) => s.slice(0, s.length - 16) };
  const throws: SealAead = { name: 'backend', encryptInto: () => { throw new Error('broken'); }, decrypt: () => { throw new Error('broken'); } };
  for (const broken of [wrongTag, acceptsAll, throws]) assert.is(checkedSealAead(broken).name, 'openssl');
});

t('openStoredAccount seals through its backend\'s operation (wasm and hybrid backends), rows that the OpenSSL path opens; the js backend has none', async () => {
  for (const backend of [WASM, HYBRID, JS]) {
    let calls = 0;
    // The backend as a host would pass it, its AEAD operation counted (a spread copy: a new backend object).
    const counted: CryptoBackend = backend.sealXChaCha20Poly1305
      ? { ...backend, sealXChaCha20Poly1305: (k, n, a, p, o) => (calls++, backend.sealXChaCha20Poly1305!(k, n, a, p, o)) }
      : backend;
    const store = new MemoryStore();
    const hostKey = randomBytes(32);
    const stored = await openStoredAccount(store, 'alice', { sealKey: hostKey, create: true, account: { backend: counted } });
    await stored.close();
    if (backend === JS) assert.is(calls, 0, 'js: no backend operation, the build\'s own AEAD');
    else assert.ok(calls >= 2, `${backend.name}: sealed by the backend (${calls} calls; the agreement check seals once)`);
    const plain = sealedStoreWith(opensslAead, store, hostKey);
    assert.ok((await plain.load('alice', 'account')) !== undefined, `${backend.name}: the row opens on the OpenSSL path`);
  }
  assert.is(backendSealAead(JS), undefined, 'the js backend offers no record AEAD');
  assert.is(backendSealAead(WASM), backendSealAead(WASM), 'one SealAead per backend (the agreement check runs once)');
});

t('differential: every backend\'s sealing (as openStoredAccount picks it) writes the rows OpenSSL and noble write, over random host keys, ids and records', async () => {
  const candidates: [string, SealAead][] = [
    ['openssl', opensslAead],
    ['noble', nobleAead],
    ...[WASM, HYBRID, JS].map((b): [string, SealAead] => [b.name, checkedSealAead(backendSealAead(b))]),
  ];
  assert.is(checkedSealAead(backendSealAead(WASM)).name, 'backend', 'the wasm backend\'s operation passed the agreement check');
  assert.is(checkedSealAead(backendSealAead(HYBRID)).name, 'backend');
  for (let round = 0; round < 40; round++) {
    const hostKey = randomBytes(32 + (round % 3) * 16);
    const nonces = randomBytes(24 * 4);
    const account = `acct-${toHex(randomBytes(1 + (round % 7)))}`;
    // Sizes across the module's data area (past it: the backend declines and the store's own AEAD seals).
    const size = round % 10 === 9 ? dataMax + Math.floor(Math.random() * 3000) : Math.floor(Math.random() * 4000);
    const changes = [
      { key: 'account', generation: 1, bytes: randomBytes(Math.floor(Math.random() * 500)) },
      { key: `conv:${toHex(randomBytes(1 + Math.floor(Math.random() * 60)))}`, generation: 1, bytes: randomBytes(size) },
    ];
    const context = `ctx-${round}`;
    const rowsOf = async (aead: SealAead) => {
      let at = 0;
      const raw = new RawStore();
      await sealedStoreWith(aead, raw, hostKey, { context, random: (n) => nonces.slice(at, (at += n)) }).commit(account, changes);
      return raw;
    };
    const flat = (r: RawStore) => [...r.rows].flatMap(([acc, m]) => [...m].map(([k, row]) => `${acc}/${k}/${row.generation}/${toHex(row.bytes)}`)).sort();
    const reference = await rowsOf(opensslAead);
    for (const [name, aead] of candidates) {
      assert.equal(flat(await rowsOf(aead)), flat(reference), `round ${round}: ${name}'s rows differ from OpenSSL's (record of ${size} bytes)`);
      // And each opens what OpenSSL wrote.
      const reader = sealedStoreWith(aead, reference, hostKey, { context });
      for (const c of changes) assert.ok(same((await reader.load(account, c.key))!.bytes, c.bytes), `round ${round}: ${name} opens OpenSSL's ${c.key}`);
    }
  }
});

t.run();
