/**
 * SHAKE-256 on both backends: FIPS 202 / NIST example known answers, node:crypto (OpenSSL) as the oracle for
 * long outputs, every split position around the 136-byte rate, inputs and outputs larger than the WASM I/O
 * region, random differential cases, argument errors, and (WASM) that no state or output is left in memory.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { BACKENDS, JS, WASM } from './helpers/backends.js';
import { CASES, seededRandom } from './helpers/rng.js';
import { bytesToHex, hexToBytes } from '../ts/bytes.js';
import { OtrArgumentError } from '../ts/errors.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';

const RATE = 136;
const ctx = (WASM as unknown as { context: WasmContext }).context;

function native(parts: readonly Uint8Array[], outLen: number): Buffer {
  const h = createHash('shake256', { outputLength: outLen });
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Byte equality without building hex strings (the large cases would spend their time in the GC). */
function same(a: Uint8Array, b: Buffer): boolean {
  return b.equals(a);
}

/** Every backend's answer, checked against node:crypto. */
function check(parts: readonly Uint8Array[], outLen: number, what: string): void {
  const want = native(parts, outLen);
  for (const b of BACKENDS) {
    const got = b.shake256(parts, outLen);
    assert.is(got.length, outLen, `${b.name} ${what}: length`);
    if (!same(got, want)) assert.unreachable(`${b.name} ${what}: differs from node:crypto`);
  }
}

// FIPS 202 examples (NIST "SHA-3 Examples", SHAKE256_Msg0 and SHAKE256_Msg1600): the first 128 bytes of the
// published outputs, plus 150 bytes of Msg1600 so the second squeezed block is pinned too.
const MSG0_128 =
  '46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f' +
  'd75dc4ddd8c0f200cb05019d67b592f6fc821c49479ab48640292eacb3b7c4be' +
  '141e96616fb13957692cc7edd0b45ae3dc07223c8e92937bef84bc0eab862853' +
  '349ec75546f58fb7c2775c38462c5010d846c185c15111e595522a6bcd16cf86';
const MSG1600_150 =
  'cd8a920ed141aa0407a22d59288652e9d9f1a7ee0c1e7c1ca699424da84a904d' +
  '2d700caae7396ece96604440577da4f3aa22aeb8857f961c4cd8e06f0ae6610b' +
  '1048a7f64e1074cd629e85ad7566048efc4fb500b486a3309a8f26724c0ed628' +
  '001a1099422468de726f1061d99eb9e93604d5aa7467d4b1bd6484582a384317' +
  'd7f47d750b8f5499512bb85a226c4243556e696f6bd0';

test('FIPS 202 known answers: empty input and 200 x 0xA3', () => {
  const a3 = new Uint8Array(200).fill(0xa3);
  for (const b of BACKENDS) {
    assert.is(bytesToHex(b.shake256([], 128)), MSG0_128, `${b.name} Msg0`);
    assert.is(bytesToHex(b.shake256([new Uint8Array(0)], 128)), MSG0_128, `${b.name} Msg0 as an empty part`);
    assert.is(bytesToHex(b.shake256([a3], 150)), MSG1600_150, `${b.name} Msg1600`);
    // Prefix property: a shorter output is the start of a longer one.
    assert.is(bytesToHex(b.shake256([a3], 1)), MSG1600_150.slice(0, 2), `${b.name} Msg1600 1 byte`);
    assert.equal(b.shake256([a3], 0), new Uint8Array(0), `${b.name} zero-length output`);
  }
  check([a3], 512, 'Msg1600 all 4096 bits');
  check([], 512, 'Msg0 all 4096 bits');
});

test('long outputs crossing the rate many times, output lengths around the rate', () => {
  const input = hexToBytes('4f54527634'); // "OTRv4"
  for (const outLen of [1000, 1001, 4096, 10 * RATE, 10 * RATE + 1]) check([input], outLen, `out ${outLen}`);
  for (let outLen = RATE - 9; outLen <= 2 * RATE + 9; outLen++) check([input], outLen, `out ${outLen}`);
});

test('inputs split into parts at every position around the rate', () => {
  const rnd = seededRandom(136);
  const msg = rnd(3 * RATE + 7);
  const want = native([msg], 64).toString('hex');
  for (const b of BACKENDS) {
    for (let s = 0; s <= msg.length; s++) {
      const got = bytesToHex(b.shake256([msg.subarray(0, s), msg.subarray(s)], 64));
      if (got !== want) assert.unreachable(`${b.name}: split at ${s}`);
    }
    for (const s of [RATE - 1, RATE, RATE + 1]) {
      for (let t = s; t <= s + RATE + 1; t++) {
        const got = bytesToHex(b.shake256([msg.subarray(0, s), msg.subarray(s, t), msg.subarray(t)], 64));
        if (got !== want) assert.unreachable(`${b.name}: splits at ${s} and ${t}`);
      }
    }
    const bytes = Array.from(msg, (x) => Uint8Array.of(x));
    assert.is(bytesToHex(b.shake256(bytes, 64)), want, `${b.name}: one byte per part`);
  }
  // Whole-message lengths around the rate (padding lands in the same or the next block).
  for (let n = RATE - 3; n <= RATE + 3; n++) check([msg.subarray(0, n)], 64, `input ${n}`);
  for (let n = 2 * RATE - 2; n <= 2 * RATE + 2; n++) check([msg.subarray(0, n)], 64, `input ${n}`);
});

test('inputs and outputs larger than the WASM I/O region stream through it', () => {
  const io = ctx.ioSize;
  const rnd = seededRandom(200);
  const big = rnd(200 * 1024);
  check([big], 64, '200 KiB in');
  check([big.subarray(0, 1000)], 200 * 1024, '200 KiB out');
  check([big], 200 * 1024, '200 KiB in and out');
  // Around the one-call/streamed switch, for the total input and for the output.
  for (const n of [io - 1, io, io + 1]) {
    check([big.subarray(0, n)], 32, `input ${n}`);
    check([big.subarray(0, 100)], n, `output ${n}`);
  }
  // Parts whose boundaries fall around the chunk boundaries of the streamed path.
  const parts = [big.subarray(0, 7), big.subarray(7, io + 3), big.subarray(io + 3, 2 * io), big.subarray(2 * io)];
  check(parts, 300, 'parts across chunks');
  check([big.subarray(0, io), big.subarray(io, io + 1)], 64, 'I/O region plus one byte');
});

test(`differential: wasm = js = node:crypto on ${CASES} random cases`, () => {
  const rnd = seededRandom(0x5ae256);
  for (let i = 0; i < CASES; i++) {
    const shape = rnd(4);
    const nParts = shape[0]! % 5;
    const parts: Uint8Array[] = [];
    for (let p = 0; p < nParts; p++) {
      // Mostly KDF-sized parts; now and then a multi-block one.
      const len = shape[1]! & 1 ? rnd(1)[0]! % 80 : ((shape[1]! << 2) | rnd(1)[0]!) % 700;
      parts.push(rnd(len));
    }
    const outLen = shape[2]! % 4 === 0 ? ((shape[3]! << 2) % 600) : [32, 57, 64, 114][shape[3]! % 4]!;
    const want = native(parts, outLen);
    const w = same(WASM.shake256(parts, outLen), want);
    const j = same(JS.shake256(parts, outLen), want);
    if (!w || !j) assert.unreachable(`case ${i}: wasm ${w}, js ${j}`);
  }
});

test('argument errors are OtrArgumentError and identical on both backends', () => {
  const ok = new Uint8Array(3);
  const bad: [unknown, unknown][] = [
    [[ok], -1],
    [[ok], 1.5],
    [[ok], Number.NaN],
    [[ok], Infinity],
    [[ok], '64'],
    [[ok, 'abc'], 64],
    [[ok, [1, 2, 3]], 64],
    [[new Uint16Array(2)], 64],
    [[null], 64],
    [['x'], -1], // outLen is checked first, on both
  ];
  for (const [parts, outLen] of bad) {
    const messages = BACKENDS.map((b) => {
      try {
        b.shake256(parts as Uint8Array[], outLen as number);
      } catch (e) {
        assert.instance(e, OtrArgumentError, `${b.name} ${String(outLen)}`);
        return (e as Error).message;
      }
      assert.unreachable(`${b.name} accepted ${String(parts)} / ${String(outLen)}`);
      return '';
    });
    assert.is(messages[0], messages[1]);
  }
  // A refused call leaves nothing half done: the next call is right.
  assert.is(bytesToHex(WASM.shake256([], 32)), MSG0_128.slice(0, 64));
});

test('inputs are not modified and outputs do not alias WASM memory', () => {
  const a = Uint8Array.from({ length: 300 }, (_, i) => i);
  const copy = a.slice();
  for (const b of BACKENDS) {
    const out = b.shake256([a, a.subarray(10, 20)], 64);
    assert.equal(a, copy);
    assert.is.not(out.buffer, ctx.mem.buffer);
  }
});

/** True if `needle` occurs anywhere in the module's linear memory. */
function inMemory(needle: Uint8Array): boolean {
  return Buffer.from(ctx.mem.buffer).indexOf(Buffer.from(needle)) >= 0;
}

test('wasm: the I/O region, the state and the output are wiped after each call', () => {
  const key = seededRandom(7)(64);
  for (const [parts, outLen] of [
    [[hexToBytes('4f5452763401'), key], 64],
    [[key], 300],
    [[seededRandom(8)(70_000)], 64],
    [[key], 70_000],
  ] as const) {
    const out = WASM.shake256(parts, outLen);
    assert.not.ok(inMemory(key), 'input key left in memory');
    // Leftover state would hold the next output block; leftover output would hold these bytes.
    assert.not.ok(inMemory(out.subarray(0, 32)), 'output left in memory');
    assert.not.ok(inMemory(out.subarray(out.length - 32)), 'last output bytes left in memory');
    assert.ok(ctx.mem.subarray(ctx.io, ctx.io + ctx.ioSize).every((x) => x === 0), 'I/O region not wiped');
  }
});

test('wasm: the fused ratchet key schedule equals the three KDFs and leaves no key in memory', () => {
  const rnd = seededRandom(11);
  const fused = (WASM as { ratchetMessageKeys?: (ck: Uint8Array) => { next: Uint8Array; mkEnc: Uint8Array; mkMac: Uint8Array } }).ratchetMessageKeys;
  assert.type(fused, 'function');
  const kdf = (usage: number, v: Uint8Array) => JS.shake256([Uint8Array.of(0x4f, 0x54, 0x52, 0x76, 0x34, usage), v], 64);
  for (let n = 0; n < 50; n++) {
    const ck = rnd(64);
    const k = fused!.call(WASM, ck);
    assert.equal(k.mkEnc, kdf(0x15, ck), 'MKenc = KDF(0x15, ck)');
    assert.equal(k.mkMac, kdf(0x16, k.mkEnc), 'MKmac = KDF(0x16, MKenc)');
    assert.equal(k.next, kdf(0x14, ck), 'next ck = KDF(0x14, ck)');
    for (const secret of [ck, k.next, k.mkEnc, k.mkMac]) assert.not.ok(inMemory(secret.subarray(0, 32)), 'a key left in memory');
    assert.ok(ctx.mem.subarray(ctx.io, ctx.io + ctx.ioSize).every((x) => x === 0), 'I/O region not wiped');
  }
  assert.throws(() => fused!.call(WASM, rnd(63)), (e: unknown) => e instanceof OtrArgumentError);
});

test('wasm: 10^5 mixed calls leave memory size unchanged', () => {
  const before = ctx.mem.buffer.byteLength;
  const rnd = seededRandom(99);
  const key = rnd(64);
  const big = rnd(3000);
  const nonce = rnd(12);
  for (let i = 0; i < 100_000; i++) {
    switch (i % 4) {
      case 0:
        WASM.shake256([key], 64);
        break;
      case 1:
        WASM.shake256([key.subarray(0, i % 64), big.subarray(0, i % 3000)], i % 200);
        break;
      case 2:
        WASM.chacha20(key.subarray(0, 32), nonce, big.subarray(0, i % 700), i % 1000);
        break;
      default:
        WASM.shake256([], 1 + (i % 500));
    }
  }
  assert.is(ctx.mem.buffer.byteLength, before);
  assert.is(bytesToHex(WASM.shake256([], 32)), MSG0_128.slice(0, 64));
});

test.run();
