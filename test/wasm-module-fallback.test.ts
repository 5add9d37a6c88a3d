/**
 * Which WASM module the `wasm` backend runs on (session 13). A SIMD module the runtime validates but that
 * computes a wrong answer (a miscompiling engine, a lane bug) fails the known-answer self-test; the backend
 * then runs on the main (scalar) module instead of being refused for pure JS, and says so in `wasm.module`
 * and `wasm.simdRefused`. Only when the scalar module fails too is the WASM backend refused.
 *
 * The fault is planted through the backend's seam (`chooseWasmBackend` over freshly instantiated modules): the
 * planted module's base-point product runs on a scalar with one bit flipped, so its answer is a valid point,
 * just the wrong one — what a lane bug in the vector field product gives.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ed448 } from '@noble/curves/ed448.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { chooseWasmBackend, instantiateWasmModules, type WasmBackend } from '../ts/backend/wasm/index.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import { ed448Ops } from '../ts/backend/wasm/ed448.js';
import { aeadOps } from '../ts/backend/wasm/aead.js';
import { dataMessageOps } from '../ts/backend/wasm/datamsg.js';
import { chachaOps } from '../ts/backend/wasm/chacha20.js';
import { createHybridBackend } from '../ts/backend/hybrid/index.js';
import { selfTest } from '../ts/backend/selftest.js';
import { ed448Sign, ed448Verify } from '../ts/crypto/eddsa.js';
import { bytesToHex } from '../ts/bytes.js';
import { OtrError } from '../ts/errors.js';
import { JS, WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { sealMessage } from '../ts/ratchet/keys.js';

const hex = bytesToHex;
const Q = ed448.Point.Fn.ORDER;
const leToBig = (b: Uint8Array): bigint => BigInt('0x' + (hex(Uint8Array.from(b).reverse()) || '0'));

/** A view of `ctx` whose base-point product flips bit 1 of its scalar (the I/O region's first slot) first. */
function plantFault(ctx: WasmContext): WasmContext {
  const real = ctx.exports.ed448_mul_base as () => void;
  const exports = {
    ...ctx.exports,
    ed448_mul_base: () => {
      ctx.mem[ctx.io]! ^= 2;
      real();
    },
  };
  return { ...ctx, exports };
}

/**
 * A view of `ctx` whose export `name` (a seal taking the record in the data area) flips one bit of the
 * record's byte 130 first: the third ChaCha20 block, which the SIMD module's four-block vector step encrypts.
 */
function plantDataFault(ctx: WasmContext, name: 'aead_seal' | 'data_seal'): WasmContext {
  const real = ctx.exports[name] as (a: number, n: number) => void;
  const data = ctx.exports.chacha20_data() as number;
  const exports = {
    ...ctx.exports,
    [name]: (a: number, n: number) => {
      if (n > 130) ctx.mem[data + 130]! ^= 4;
      real(a, n);
    },
  };
  return { ...ctx, exports };
}

/**
 * A view of `ctx` whose ChaCha20 (`chacha20_xor`, the plain cipher: not the AEAD's or the data message's)
 * flips one bit of the data's last byte first when the call has more than two blocks — the byte the SIMD
 * module's four-block vector step encrypts (one or two blocks go to its scalar kernel): a fault in the vector
 * path alone.
 */
function plantVectorChachaFault(ctx: WasmContext): WasmContext {
  const real = ctx.exports.chacha20_xor as (len: number, counter: number) => void;
  const data = ctx.exports.chacha20_data() as number;
  const exports = {
    ...ctx.exports,
    chacha20_xor: (len: number, counter: number) => {
      if (len > 128) ctx.mem[data + len - 1]! ^= 8;
      real(len, counter);
    },
  };
  return { ...ctx, exports };
}

/** The scalar module chosen over a SIMD module whose `op` was planted, refused for the check `check`. */
async function chooseOverPlanted(op: 'aead_seal' | 'data_seal', check: string): Promise<WasmBackend> {
  const { main, simd } = await instantiateWasmModules();
  assert.ok(simd, 'this runtime validates SIMD');
  const b = chooseWasmBackend({ main, simd: plantDataFault(simd!, op) });
  assert.equal(b.wasm, { simd: false, module: 'scalar', simdRefused: check });
  assert.is(b.simdContext, undefined);
  assert.is(selfTest(b), undefined, 'the chosen backend passes the self-test');
  return b;
}

test('in Node the WASM backend runs on the SIMD module and says so', () => {
  const w = WASM as WasmBackend;
  assert.is(w.name, 'wasm');
  assert.equal(w.wasm, { simd: true, module: 'simd' });
  assert.is(w.ed448Context, w.simdContext);
});

test('the plant is a real fault: with Ed448 on the planted module, the self-test fails on Ed448', async () => {
  const { main, simd } = await instantiateWasmModules();
  const b = chooseWasmBackend({ main, simd: undefined });
  assert.is(selfTest({ ...b, ...ed448Ops(plantFault(simd!)) }), 'ed448');
});

test('a SIMD module that fails the self-test is set aside for the scalar module, which still computes right', async () => {
  const { main, simd } = await instantiateWasmModules();
  assert.ok(simd, 'this runtime validates SIMD');
  const b = chooseWasmBackend({ main, simd: plantFault(simd!) });
  assert.is(b.name, 'wasm');
  assert.equal(b.wasm, { simd: false, module: 'scalar', simdRefused: 'ed448' });
  assert.is(b.simdContext, undefined);
  assert.is(b.ed448Context, main);
  assert.is(selfTest(b), undefined, 'the chosen backend passes the self-test');

  const rnd = seededRandom(0x5131);
  for (let i = 0; i < 40; i++) {
    const k = rnd(57);
    assert.is(hex(b.pointMulBase(k)), hex(ed448.Point.BASE.multiplyUnsafe(leToBig(k) % Q).toBytes()), `base case ${i}`);
    const seed = rnd(57);
    const msg = rnd(i * 7);
    const sig = ed448Sign(b, seed, msg);
    assert.is(hex(sig), hex(ed448.sign(msg, seed)), `signature ${i} as noble signs`);
    assert.ok(ed448Verify(b, ed448.getPublicKey(seed), msg, sig), `verifies ${i}`);
    const key = rnd(32);
    const nonce = rnd(12);
    const data = rnd(i * 37);
    assert.is(hex(b.chacha20(key, nonce, data, 1)), hex(JS.chacha20(key, nonce, data, 1)), `chacha20 ${i}`);
  }
  // The hybrid backend is built over whichever WASM backend loaded; over this one it passes its own checks.
  const hybrid = await createHybridBackend(b);
  assert.is(selfTest(hybrid), undefined);
});

test('the AEAD and data-message plants are real faults: on the planted module, wrong bytes and a failed self-test', async () => {
  const { main, simd } = await instantiateWasmModules();
  const scalar = chooseWasmBackend({ main, simd: undefined });
  // Each op composed over its planted SIMD module, the rest over the main one.
  const badAead: CryptoBackend = { ...scalar, ...aeadOps(main, plantDataFault(simd!, 'aead_seal')) };
  const badData: CryptoBackend = { ...scalar, ...dataMessageOps(plantDataFault(simd!, 'data_seal')) };
  assert.is(selfTest(badAead), 'aead');
  assert.is(selfTest(badData), 'datamsg');
  const rnd = seededRandom(0x5132);
  const key = rnd(32);
  const nonce = rnd(24);
  const plain = rnd(300);
  const out = new Uint8Array(316);
  assert.ok(badAead.sealXChaCha20Poly1305!(key, nonce, new Uint8Array(0), plain, out));
  assert.is.not(hex(out), hex(xchacha20poly1305(key, nonce).encrypt(plain)));
  const chainKey = rnd(64);
  const bad = new Uint8Array(320);
  const good = new Uint8Array(320);
  assert.is.not(hex(sealMessage(badData, chainKey, bad, plain).authenticator), hex(sealMessage(JS, chainKey, good, plain).authenticator));
});

test('a SIMD module whose AEAD computes wrong is set aside: the scalar module seals and opens as noble does', async () => {
  const b = await chooseOverPlanted('aead_seal', 'aead');
  const rnd = seededRandom(0x5133);
  for (let i = 0; i < 30; i++) {
    const key = rnd(32);
    const nonce = rnd(24);
    const aad = rnd(i % 40);
    const plain = rnd(i * 29);
    const out = new Uint8Array(plain.length + 16);
    assert.ok(b.sealXChaCha20Poly1305!(key, nonce, aad, plain, out), `sealed ${i}`);
    assert.is(hex(out), hex(xchacha20poly1305(key, nonce, aad).encrypt(plain)), `as noble seals ${i}`);
    assert.is(hex(b.openXChaCha20Poly1305!(key, nonce, aad, out) ?? new Uint8Array(1)), hex(plain), `opens ${i}`);
  }
});

test('a SIMD module whose fused data-message call computes wrong is set aside: the scalar module seals as JS composes', async () => {
  const b = await chooseOverPlanted('data_seal', 'datamsg');
  const rnd = seededRandom(0x5134);
  for (let i = 0; i < 30; i++) {
    const chainKey = rnd(64);
    const header = rnd(20);
    const plain = rnd(i * 31);
    const mine = new Uint8Array(header.length + plain.length);
    mine.set(header);
    const theirs = mine.slice();
    const got = sealMessage(b, chainKey, mine, plain);
    const want = sealMessage(JS, chainKey, theirs, plain);
    assert.is(hex(mine), hex(theirs), `ciphertext ${i}`);
    assert.is(hex(got.next), hex(want.next), `next chain key ${i}`);
    assert.is(hex(got.authenticator), hex(want.authenticator), `authenticator ${i}`);
    const opened = b.openDataMessage!(chainKey, mine, plain.length, got.authenticator);
    assert.is(hex(opened?.plaintext ?? new Uint8Array(1)), hex(plain), `opens ${i}`);
  }
});

test('a SIMD module whose four-block vector ChaCha20 alone computes wrong is set aside (session 14)', async () => {
  const { main, simd } = await instantiateWasmModules();
  assert.ok(simd, 'this runtime validates SIMD');
  const planted = plantVectorChachaFault(simd!);
  // The plant is a real fault, on the plain cipher only: 300 bytes come out wrong, 16 right, and the AEAD
  // and data-message checks (their own exports) do not see it — only the self-test's multi-block check does.
  const bad: CryptoBackend = { ...chooseWasmBackend({ main, simd: undefined }), ...chachaOps(main, planted) };
  const rnd = seededRandom(0x5135);
  const key = rnd(32);
  const nonce = rnd(12);
  const short = rnd(16);
  const long = rnd(300);
  assert.is(hex(bad.chacha20(key, nonce, short, 1)), hex(JS.chacha20(key, nonce, short, 1)));
  assert.is.not(hex(bad.chacha20(key, nonce, long, 1)), hex(JS.chacha20(key, nonce, long, 1)));
  assert.is(selfTest(bad), 'chacha20');

  const b = chooseWasmBackend({ main, simd: planted });
  assert.equal(b.wasm, { simd: false, module: 'scalar', simdRefused: 'chacha20' });
  assert.is(b.simdContext, undefined);
  for (let i = 0; i < 30; i++) {
    const data = rnd(i * 67);
    assert.is(hex(b.chacha20(key, nonce, data, i)), hex(JS.chacha20(key, nonce, data, i)), `scalar chacha20 ${i}`);
  }
});

test('when the scalar module fails the self-test too, the WASM backend is refused (typed error)', async () => {
  const { main, simd } = await instantiateWasmModules();
  try {
    chooseWasmBackend({ main: plantFault(main), simd: plantFault(simd!) });
    assert.unreachable('a backend whose two modules both fail was accepted');
  } catch (e) {
    assert.instance(e, OtrError);
    assert.is((e as OtrError).code, 'BACKEND');
    assert.match((e as Error).message, /ed448/);
  }
});

test('a runtime without SIMD runs the scalar module, with nothing refused', async () => {
  const { main } = await instantiateWasmModules();
  const b = chooseWasmBackend({ main, simd: undefined });
  assert.equal(b.wasm, { simd: false, module: 'scalar' });
  assert.is(selfTest(b), undefined);
});

test.run();
