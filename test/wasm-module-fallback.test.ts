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
import { chooseWasmBackend, instantiateWasmModules, type WasmBackend } from '../ts/backend/wasm/index.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';
import { ed448Ops } from '../ts/backend/wasm/ed448.js';
import { createHybridBackend } from '../ts/backend/hybrid/index.js';
import { selfTest } from '../ts/backend/selftest.js';
import { ed448Sign, ed448Verify } from '../ts/crypto/eddsa.js';
import { bytesToHex } from '../ts/bytes.js';
import { OtrError } from '../ts/errors.js';
import { JS, WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';

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
