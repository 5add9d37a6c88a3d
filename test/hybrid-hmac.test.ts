/**
 * OTRv3's HMAC-SHA1 on the hybrid backend (ts/backend/hybrid/hmac.ts): OpenSSL's (session 13) from
 * OPENSSL_HMAC_MIN_BYTES of data, the WASM backend's below (session 15). Its tags are noble's and node:crypto's
 * for random keys and data of every length around SHA-1's 64-byte blocks, around the threshold and the WASM
 * I/O region, on views at offsets, and for keys longer than a block; its self-tests catch a wrong answer on
 * either side of the threshold, and an OTRv3 data message MAC'd on one backend verifies on the others.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { HYBRID, JS, WASM } from './helpers/backends.js';
import { CASES, seededRandom } from './helpers/rng.js';
import { bytesToHex } from '../ts/bytes.js';
import { createHmac } from 'node:crypto';
import { hybridSelfTest } from '../ts/backend/hybrid/selftest.js';
import { opensslChacha20 } from '../ts/backend/hybrid/chacha20.js';
import { OPENSSL_HMAC_MIN_BYTES, opensslHmac, opensslHmacSha1 } from '../ts/backend/hybrid/hmac.js';
import { selfTest } from '../ts/backend/selftest.js';
import type { WasmBackend } from '../ts/backend/wasm/index.js';
import { hmacSha1 } from '../ts/v3/crypto.js';
import { OtrArgumentError, OtrError } from '../ts/errors.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import { eventsOf, makeSide, pump } from './interop/v3-pair.js';

const noble = (key: Uint8Array, data: Uint8Array) => bytesToHex(hmac(sha1, key, data));
const nodeCrypto = (key: Uint8Array, data: Uint8Array) => createHmac('sha1', key).update(data).digest('hex');
const T = OPENSSL_HMAC_MIN_BYTES;
const IO = (WASM as WasmBackend).context.ioSize;

test('the hybrid backend MACs data below OPENSSL_HMAC_MIN_BYTES with the WASM kernel, from it with OpenSSL; JS leaves it to noble', () => {
  assert.type(HYBRID.hmacSha1, 'function');
  assert.type(WASM.hmacSha1, 'function'); // session 14: ts/backend/wasm/hmac.ts (test/wasm-sha1.test.ts)
  assert.is.not(HYBRID.hmacSha1, WASM.hmacSha1);
  assert.is(JS.hmacSha1, undefined);
  assert.ok(T > 0 && T <= IO, 'every input routed to WASM fits its I/O region');
  // The router, with the WASM kernel counted: T - 1 bytes go to it, T bytes do not.
  let small = 0;
  const routed = opensslHmac({ hmacSha1: (k, d) => (small++, WASM.hmacSha1!(k, d)) });
  const key = seededRandom(9)(20);
  for (const [n, toWasm] of [[0, 1], [T - 1, 1], [T, 0], [T + 1, 0], [IO, 0]] as const) {
    const data = seededRandom(n)(n);
    const before = small;
    assert.is(bytesToHex(routed.hmacSha1!(key, data)), nodeCrypto(key, data), `${n} bytes`);
    assert.is(small - before, toWasm, `${n} bytes ${toWasm ? 'to WASM' : 'to OpenSSL'}`);
  }
});

test('hybrid = node:crypto = noble across the threshold, the WASM region\'s edge and random sizes, on views at offsets', () => {
  const rnd = seededRandom(0x15_ba5e);
  // A view of n bytes at `off` into a larger buffer whose other bytes must not count.
  const view = (n: number, off: number) => rnd(n + off + 5).subarray(off, off + n);
  const check = (key: Uint8Array, data: Uint8Array, what: string) => {
    const [k0, d0] = [bytesToHex(key), bytesToHex(data)];
    const want = nodeCrypto(key, data);
    assert.is(bytesToHex(HYBRID.hmacSha1!(key, data)), want, what);
    assert.is(noble(key, data), want, what);
    assert.is(bytesToHex(key) + bytesToHex(data), k0 + d0, `${what}: inputs unchanged`);
  };
  for (const n of [T - 2, T - 1, T, T + 1, T + 2])
    for (const off of [0, 1, 7]) check(view(20, off), view(n, off), `data ${n} at ${off}`);
  // Below the threshold, keys that take the WASM kernel's every path: hashed by the module (over a block),
  // key and data around the region's end (one call / streamed), a key larger than the region (hashed first).
  for (const k of [0, 1, 64, 65, IO - T, IO - T + 1, IO - T + 2, IO, IO + 1])
    for (const n of [0, T - 1]) check(view(k, 3), view(n, 5), `key ${k}, data ${n}`);
  for (let i = 0; i < CASES; i++) {
    const [a, b, c] = rnd(3);
    const n = ((a! << 8) | b!) % (2 * T); // half below the threshold, half from it
    check(view(c! % 3 === 0 ? c! % 90 : 20, c! % 5), view(n, a! % 8), `case ${i}: data ${n}`);
  }
});

test('RFC 2202 HMAC-SHA1 vectors, on every backend through ts/v3/crypto.ts', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const vectors: [Uint8Array, Uint8Array, string][] = [
    [new Uint8Array(20).fill(0x0b), enc('Hi There'), 'b617318655057264e28bc0b6fb378c8ef146be00'],
    [enc('Jefe'), enc('what do ya want for nothing?'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79'],
    [new Uint8Array(80).fill(0xaa), enc('Test Using Larger Than Block-Size Key - Hash Key First'), 'aa4ae5e15272d00e95705637ce8a3b55ed402112'],
  ];
  for (const be of [HYBRID, WASM, JS])
    for (const [key, data, tag] of vectors) assert.is(bytesToHex(hmacSha1(be, key, data)), tag, `${be.name} ${tag}`);
});

test('the hybrid backend and noble agree on data lengths around SHA-1 blocks and on keys of every kind', () => {
  const rnd = seededRandom(0x5eed_3a);
  const lengths = [0, 1, 19, 20, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 4095, 4096, 4097, 65_535, 576_000];
  const keyLengths = [0, 1, 20, 32, 63, 64, 65, 200];
  for (const n of lengths)
    for (const k of keyLengths) {
      const key = rnd(k);
      const data = rnd(n);
      const tag = HYBRID.hmacSha1!(key, data);
      assert.instance(tag, Uint8Array);
      assert.is(tag.length, 20);
      assert.is(bytesToHex(tag), noble(key, data), `data ${n}, key ${k}`);
    }
});

test(`the hybrid backend and noble agree on ${CASES} random keys and messages`, () => {
  const rnd = seededRandom(0x11ac_5a1);
  for (let i = 0; i < CASES; i++) {
    const [a, b] = rnd(2);
    const key = rnd(a! % 90);
    const data = rnd((a! << 4) ^ (b! * 7));
    const got = HYBRID.hmacSha1!(key, data);
    assert.is(bytesToHex(got), noble(key, data), `case ${i}`);
    // A subarray view (the receiver MACs a view of the decoded message) gives the tag of its own bytes.
    if (data.length > 2) assert.is(bytesToHex(HYBRID.hmacSha1!(key, data.subarray(1, -1))), noble(key, data.slice(1, -1)), `view ${i}`);
  }
});

test('the inputs are left unchanged, and a non-Uint8Array gets a typed error', () => {
  const key = seededRandom(3)(20);
  const data = seededRandom(4)(1000);
  const [k0, d0] = [bytesToHex(key), bytesToHex(data)];
  HYBRID.hmacSha1!(key, data);
  assert.is(bytesToHex(key), k0);
  assert.is(bytesToHex(data), d0);
  assert.throws(() => HYBRID.hmacSha1!('key' as unknown as Uint8Array, data), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => HYBRID.hmacSha1!(key, [1, 2] as unknown as Uint8Array), (e: unknown) => e instanceof OtrArgumentError);
});

test('the self-tests refuse a wrong HMAC-SHA1 on either side of the threshold', () => {
  const zeros = () => new Uint8Array(20);
  const openssl = { chacha20: opensslChacha20, hmacSha1: opensslHmacSha1 };
  // OpenSSL's kernel, called directly by the hybrid self-test (the backend would send its 28 bytes to WASM).
  assert.throws(
    () => hybridSelfTest(HYBRID, { ...openssl, hmacSha1: zeros }),
    (e: unknown) => e instanceof OtrError && e.code === 'BACKEND' && /hmac-sha1/.test(e.message),
  );
  // The WASM kernel below the threshold: the common self-test, which init() runs on the hybrid backend too.
  assert.is(selfTest({ ...HYBRID, ...opensslHmac({ hmacSha1: zeros }) }), 'hmac-sha1');
  hybridSelfTest(HYBRID, openssl); // the real ones pass
  assert.is(selfTest(HYBRID), undefined);
});

/** The hybrid backend with its HMAC-SHA1 calls counted. */
function countingHmac(): { backend: CryptoBackend; calls: () => number } {
  let n = 0;
  const backend: CryptoBackend = { ...HYBRID, hmacSha1: (k, d) => (n++, HYBRID.hmacSha1!(k, d)) };
  return { backend, calls: () => n };
}

test('OTRv3 data messages MAC\'d by the hybrid backend verify under noble and the other way round', () => {
  for (const [x, y] of [[HYBRID, JS], [WASM, HYBRID]] as const) {
    const a = makeSide(x, 'alice');
    const b = makeSide(y, 'bob');
    pump(a, b, a.conv.start().toSend);
    assert.is(b.conv.msgstate, 'encrypted');
    const big = 'é'.repeat(30_000);
    pump(a, b, a.conv.send(big).toSend);
    pump(b, a, b.conv.send('back').toSend);
    assert.equal(b.user, [big], `${x.name} -> ${y.name}`);
    assert.equal(a.user, ['back'], `${y.name} -> ${x.name}`);
  }
});

test('a replayed OTRv3 data message is refused on its counter, before any MAC is computed', () => {
  const counted = countingHmac();
  const alice = makeSide(HYBRID, 'alice');
  const bob = makeSide(counted.backend, 'bob');
  pump(alice, bob, alice.conv.start().toSend);
  const text = 'x'.repeat(100_000);
  const x = alice.conv.send(text).toSend;
  pump(alice, bob, x);
  assert.equal(bob.user, [text]);
  const before = counted.calls();
  assert.ok(before > 0, 'the honest message was MAC\'d through the backend');
  pump(alice, bob, x); // the same message again
  assert.is(counted.calls(), before, 'no MAC computed for the replay');
  assert.equal(bob.user, [text], 'delivered once');
  assert.is(eventsOf(bob, 'unreadable').length, 1);
});

test.run();
