/**
 * Review (session 15) of session 14's WASM SHA-1 / HMAC-SHA1 (assembly/sha1.ts, ts/backend/wasm/hmac.ts), the
 * MAC every OTRv3 data message — a hostile peer's included — is checked with on the WASM backend. What held,
 * pinned: node:crypto agrees at every key length that changes a path (empty, under / at / over a block, at and
 * over the I/O region) against every data length from 0 to past two blocks and at each side of the one-call
 * limit for that key; key and data given as views into one buffer (overlapping), into a SharedArrayBuffer, and at
 * odd offsets; a call after a refused one (a typed error) computes right, so no half-set state carries over.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac } from 'node:crypto';
import { chooseWasmBackend, instantiateWasmModules } from '../../ts/backend/wasm/index.js';
import { bytesToHex } from '../../ts/bytes.js';
import { OtrArgumentError } from '../../ts/errors.js';
import { seededRandom } from '../helpers/rng.js';

const modules = await instantiateWasmModules();
const backends = { simd: chooseWasmBackend(modules), scalar: chooseWasmBackend({ main: modules.main, simd: undefined }) };
const io = modules.main.ioSize;
const oracle = (k: Uint8Array, d: Uint8Array) => createHmac('sha1', k).update(d).digest('hex');
const rnd = seededRandom(0x5_1a15);

test('every key length that changes a path, against data lengths 0..140 and around the one-call limit', () => {
  const keyLengths = [0, 1, 19, 20, 21, 55, 56, 57, 63, 64, 65, 119, 120, 128, 129, io - 1, io, io + 1];
  let n = 0;
  for (const k of keyLengths) {
    const key = rnd(k);
    // The one-call limit for this key: data up to io - k goes in one call, past it is streamed.
    const limit = io - Math.min(k, io);
    const lengths = k <= 129 ? [...Array.from({ length: 141 }, (_, i) => i), limit - 1, limit, limit + 1, limit + 64, 2 * io + 1] : [0, 1, 64, 65, io + 3];
    for (const len of lengths) {
      if (len < 0) continue;
      const data = rnd(len);
      const want = oracle(key, data);
      for (const [name, b] of Object.entries(backends)) assert.is(bytesToHex(b.hmacSha1!(key, data)), want, `${name}: key ${k}, data ${len}`);
      n++;
    }
  }
  assert.ok(n > 2000, `${n} cases`);
});

test('views: overlapping key and data in one buffer, a SharedArrayBuffer, odd offsets; the inputs unchanged', () => {
  const buf = rnd(io + 300);
  const copy = buf.slice();
  const cases: [Uint8Array, Uint8Array][] = [
    [buf.subarray(0, 20), buf.subarray(10, 200)], // the key's bytes inside the data
    [buf.subarray(5, 25), buf.subarray(3, io + 299)], // the same, streamed
    [buf.subarray(1, 70), buf.subarray(7, 7)], // empty data at an odd offset
  ];
  const shared = new Uint8Array(new SharedArrayBuffer(io + 64));
  shared.set(buf.subarray(0, shared.length));
  cases.push([shared.subarray(3, 23), shared.subarray(1, 1000)], [shared.subarray(0, 20), shared.subarray(9)]);
  for (const [i, [k, d]] of cases.entries()) {
    const want = oracle(Uint8Array.from(k), Uint8Array.from(d));
    for (const [name, b] of Object.entries(backends)) assert.is(bytesToHex(b.hmacSha1!(k, d)), want, `${name}: case ${i}`);
  }
  assert.is(bytesToHex(buf), bytesToHex(copy), 'the caller\'s buffer was changed');
});

test('a refused call (not bytes) leaves nothing half-set: the next MAC, one-call or streamed, is right', () => {
  const b = backends.simd;
  const key = rnd(20);
  for (const data of [rnd(100), rnd(io + 5)]) {
    assert.throws(() => b.hmacSha1!(key, { length: 5 } as unknown as Uint8Array), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => b.hmacSha1!(null as unknown as Uint8Array, data), (e: unknown) => e instanceof OtrArgumentError);
    assert.is(bytesToHex(b.hmacSha1!(key, data)), oracle(key, data));
  }
});

test.run();
