/**
 * SHA-1 and HMAC-SHA1 in the WASM main module (assembly/sha1.ts, ts/backend/wasm/hmac.ts; session 14): the
 * FIPS 180 and RFC 2202 vectors, node:crypto as the oracle around SHA-1's 64-byte blocks, the I/O region's
 * edge (one call up to it, streamed beyond it, keys larger than it) and up to the largest OTRv3 data message,
 * subarray views, both module choices of the WASM backend and the JS backend agreeing, the module's states
 * wiped, and the start-up self-test refusing a module whose HMAC computes wrong.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, createHmac } from 'node:crypto';
import { chooseWasmBackend, instantiateWasmModules, type WasmBackend } from '../ts/backend/wasm/index.js';
import { hmacOps, wasmSha1 } from '../ts/backend/wasm/hmac.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import { selfTest } from '../ts/backend/selftest.js';
import { hmacSha1 } from '../ts/v3/crypto.js';
import { DEFAULT_LIMITS } from '../ts/limits.js';
import { bytesToHex } from '../ts/bytes.js';
import { OtrArgumentError, OtrError } from '../ts/errors.js';
import { HYBRID, JS, WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';

const hex = bytesToHex;
const enc = (s: string) => new TextEncoder().encode(s);
const oracle = (key: Uint8Array, data: Uint8Array) => createHmac('sha1', key).update(data).digest('hex');
const W = WASM as WasmBackend;

const modules = await instantiateWasmModules();
/** The WASM backend as Node runs it (SIMD module) and as a runtime without SIMD runs it (main module only). */
const SIMD_CHOICE = chooseWasmBackend(modules);
const SCALAR_CHOICE = chooseWasmBackend({ main: modules.main, simd: undefined });

/** The largest OTRv3 data message's binary size: maxMessageChars of base64 text. */
const LARGEST_V3 = Math.floor((DEFAULT_LIMITS.maxMessageChars * 3) / 4);

test('the WASM backend has its own HMAC-SHA1, on both module choices, distinct from the hybrid backend\'s (OpenSSL from a size up)', () => {
  assert.type(W.hmacSha1, 'function');
  assert.equal(SIMD_CHOICE.wasm.module, 'simd');
  assert.equal(SCALAR_CHOICE.wasm.module, 'scalar');
  assert.type(SIMD_CHOICE.hmacSha1, 'function');
  assert.type(SCALAR_CHOICE.hmacSha1, 'function');
  assert.is.not(HYBRID.hmacSha1, W.hmacSha1);
  assert.is(JS.hmacSha1, undefined);
});

test('FIPS 180 SHA-1 vectors (and the million a\'s, streamed through the I/O region)', () => {
  const vectors: [Uint8Array, string][] = [
    [enc('abc'), 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    [enc(''), 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    [enc('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '84983e441c3bd26ebaae4aa1f95129e5e54670f1'],
    [
      enc('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'),
      'a49b2446a02c645bf419f995b67091253a04a259',
    ],
    [new Uint8Array(1_000_000).fill(0x61), '34aa973cd4c4daa4f61eeb2bdbad27316534016f'],
  ];
  for (const [data, digest] of vectors) assert.is(hex(wasmSha1(W.context, data)), digest, `${data.length} bytes`);
});

test('RFC 2202 HMAC-SHA1 test cases 1-7, on both module choices, the hybrid and the JS backend', () => {
  const vectors: [Uint8Array, Uint8Array, string][] = [
    [new Uint8Array(20).fill(0x0b), enc('Hi There'), 'b617318655057264e28bc0b6fb378c8ef146be00'],
    [enc('Jefe'), enc('what do ya want for nothing?'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79'],
    [new Uint8Array(20).fill(0xaa), new Uint8Array(50).fill(0xdd), '125d7342b9ac11cd91a39af48aa17b4f63f175d3'],
    [Uint8Array.from({ length: 25 }, (_, i) => i + 1), new Uint8Array(50).fill(0xcd), '4c9007f4026250c6bc8414f9bf50c86c2d7235da'],
    [new Uint8Array(20).fill(0x0c), enc('Test With Truncation'), '4c1a03424b55e07fe7f27be1d58bb9324a9a5a04'],
    [new Uint8Array(80).fill(0xaa), enc('Test Using Larger Than Block-Size Key - Hash Key First'), 'aa4ae5e15272d00e95705637ce8a3b55ed402112'],
    [
      new Uint8Array(80).fill(0xaa),
      enc('Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data'),
      'e8e99d0f45237d786d6bbaa7965c7808bbff1a91',
    ],
  ];
  for (const be of [SIMD_CHOICE, SCALAR_CHOICE, HYBRID, JS])
    for (const [key, data, tag] of vectors) assert.is(hex(hmacSha1(be, key, data)), tag, `${be.name} ${tag}`);
});

test('node:crypto agrees on 1,000+ random keys and messages around SHA-1\'s blocks, every backend alike', () => {
  const rnd = seededRandom(0x5a1_14);
  const lengths: number[] = [];
  for (let n = 0; n <= 200; n++) lengths.push(n);
  const keyLengths = [0, 1, 16, 20, 55, 56, 63, 64, 65, 100, 200];
  let cases = 0;
  for (const n of lengths)
    for (const k of n % 2 === 0 ? keyLengths : [20, keyLengths[n % keyLengths.length]!]) {
      const key = rnd(k);
      const data = rnd(n);
      const want = oracle(key, data);
      for (const be of [SIMD_CHOICE, SCALAR_CHOICE, JS]) assert.is(hex(hmacSha1(be, key, data)), want, `${be.name}: data ${n}, key ${k}`);
      cases++;
    }
  // The data lengths that end a block exactly, leave 55 / 56 bytes for the padding, or spill one byte over,
  // after several whole blocks.
  for (const blocks of [1, 2, 7, 16])
    for (const r of [55, 56, 63, 64, 65])
      for (const k of [20, 64, 65]) {
        const key = rnd(k);
        const data = rnd(blocks * 64 + r);
        assert.is(hex(W.hmacSha1!(key, data)), oracle(key, data), `${blocks} blocks + ${r}, key ${k}`);
        cases++;
      }
  assert.ok(cases >= 1000, `${cases} cases`);
});

test('the I/O region\'s edge: one call up to it, streamed beyond it, keys as large as it and larger', () => {
  const rnd = seededRandom(0x10_5ee);
  const io = W.context.ioSize;
  const sizes: [number, number][] = [
    [20, io - 20], // key and data fill the region: the one-call path
    [20, io - 19], // one byte over: streamed
    [0, io],
    [20, io],
    [20, io + 1],
    [20, 2 * io + 63],
    [64, 3 * io],
    [20, LARGEST_V3],
    [io, 0], // a key the size of the region, hashed by the module
    [io, 100],
    [io + 1, 100], // a key larger than the region, hashed by the adapter first
    [3 * io + 5, io + 7],
  ];
  for (const [k, n] of sizes) {
    const key = rnd(k);
    const data = rnd(n);
    const want = oracle(key, data);
    assert.is(hex(SIMD_CHOICE.hmacSha1!(key, data)), want, `simd choice: key ${k}, data ${n}`);
    assert.is(hex(SCALAR_CHOICE.hmacSha1!(key, data)), want, `scalar choice: key ${k}, data ${n}`);
  }
  // SHA-1 itself across the region's edge.
  for (const n of [io - 1, io, io + 1, 2 * io + 65]) {
    const data = rnd(n);
    assert.is(hex(wasmSha1(W.context, data)), createHash('sha1').update(data).digest('hex'), `sha1 ${n}`);
  }
});

test('subarray views at any offset MAC their own bytes, and the inputs are left unchanged', () => {
  const rnd = seededRandom(0x7_1e35);
  for (let i = 0; i < 60; i++) {
    const keyBuf = rnd(40 + i);
    const dataBuf = rnd(300 + i * 1111);
    const key = keyBuf.subarray(i % 7, 20 + (i % 7) + (i % 3) * 7);
    const data = dataBuf.subarray(i % 13, dataBuf.length - (i % 5));
    const [k0, d0] = [hex(keyBuf), hex(dataBuf)];
    assert.is(hex(W.hmacSha1!(key, data)), oracle(key.slice(), data.slice()), `view ${i}`);
    assert.is(hex(keyBuf), k0, `key buffer ${i} unchanged`);
    assert.is(hex(dataBuf), d0, `data buffer ${i} unchanged`);
  }
});

test('a non-Uint8Array key or data gets a typed error, and the module still MACs right after', () => {
  const key = seededRandom(3)(20);
  const data = seededRandom(4)(1000);
  assert.throws(() => W.hmacSha1!('key' as unknown as Uint8Array, data), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => W.hmacSha1!(key, [1, 2] as unknown as Uint8Array), (e: unknown) => e instanceof OtrArgumentError);
  assert.is(hex(W.hmacSha1!(key, data)), oracle(key, data));
});

/** True if `needle` occurs anywhere in the module's memory. */
function inMemory(ctx: WasmContext, needle: Uint8Array): boolean {
  const mem = ctx.mem;
  const first = needle[0]!;
  for (let i = mem.indexOf(first); i >= 0 && i + needle.length <= mem.length; i = mem.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && mem[i + j] === needle[j]) j++;
    if (j === needle.length) return true;
  }
  return false;
}

test('nothing of the key is left in the module: not the key, its padded blocks, the inner digest or the tag', () => {
  // A fresh module: nothing else has run on it. A key with no zero byte, so its padded forms are distinctive.
  const rnd = seededRandom(0x3a_fe);
  const key = rnd(20).map((x) => x | 1);
  for (const n of [100, W.context.ioSize + 500]) {
    const data = rnd(n);
    const ctx = modules.main;
    const tag = hmacOps(ctx).hmacSha1!(key, data);
    assert.is(hex(tag), oracle(key, data));
    const ipad = Uint8Array.from(key, (x) => x ^ 0x36);
    const opad = Uint8Array.from(key, (x) => x ^ 0x5c);
    const block = new Uint8Array(64).fill(0x36);
    block.set(ipad);
    const inner = createHash('sha1').update(block).update(data).digest();
    for (const [what, bytes] of [['key', key], ['key ^ ipad', ipad], ['key ^ opad', opad], ['inner digest', inner], ['tag', tag]] as const)
      assert.not.ok(inMemory(ctx, bytes), `${what} left in memory after a ${n}-byte MAC`);
    // The data was wiped from the I/O region too.
    assert.not.ok(inMemory(ctx, data.subarray(0, 32)), `data left in memory after a ${n}-byte MAC`);
  }
});

test('the start-up self-test refuses a module whose HMAC-SHA1 computes wrong: the WASM backend is refused', async () => {
  const { main, simd } = await instantiateWasmModules();
  // The plant: the one-call MAC flips a bit of the data's first byte first (the RFC 2202 check's path).
  const real = main.exports.hmac_sha1 as (k: number, n: number) => void;
  const planted: WasmContext = {
    ...main,
    exports: {
      ...main.exports,
      hmac_sha1: (k: number, n: number) => {
        if (n > 0) main.mem[main.io + k]! ^= 1;
        real(k, n);
      },
    },
  };
  const bad: CryptoBackend = { ...chooseWasmBackend({ main, simd }), ...hmacOps(planted) };
  assert.is(selfTest(bad), 'hmac-sha1');
  // The MAC runs in the main module whichever module runs the rest, so no module choice is left: the WASM
  // backend is refused with a typed error naming the check, and loadBackend falls back to JS.
  try {
    chooseWasmBackend({ main: planted, simd });
    assert.unreachable('a backend whose HMAC-SHA1 computes wrong was accepted');
  } catch (e) {
    assert.instance(e, OtrError);
    assert.is((e as OtrError).code, 'BACKEND');
    assert.match((e as Error).message, /SIMD module: hmac-sha1, scalar module: hmac-sha1/);
  }
});

test.run();
