/**
 * The SIMD module's Ed448 stack (session 12: assembly/fe448simd.ts's vector field product and uncarried sums,
 * ge448mul.ts's 16-byte table scan) against the main module's scalar one, which runtimes without WebAssembly
 * SIMD run, and both against independent references: @noble/curves (BigInt) and OpenSSL's Ed448
 * (node:crypto). Many random inputs, since a wrong lane or column in a product shows only on some values:
 * - field: every test_fe_mul op (the uncarried operands at the limb bounds the point formulas use) on random
 *   quadruples, uniform and crowded at the top of the weakly reduced range, the same answer in both modules;
 * - group: products by random scalars of random points (some with a torsion component), of the base point,
 *   and the double products, the same bytes in both modules, a share of them checked against noble;
 * - signatures: RFC 8032 Ed448 signatures made through either module equal OpenSSL's for the same seed and
 *   message (Ed448 is deterministic), and each side verifies the others' and refuses a tampered one.
 * OTR_CASES scales the loops.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPrivateKey, createPublicKey, sign as osslSign, verify as osslVerify } from 'node:crypto';
import { ed448 } from '@noble/curves/ed448.js';
import { WASM, WASM_SCALAR_ED448 } from './helpers/backends.js';
import { CASES, seededRandom } from './helpers/rng.js';
import { bytesToHex } from '../ts/bytes.js';
import { ed448Sign, ed448Verify } from '../ts/crypto/eddsa.js';
import type { WasmBackend } from '../ts/backend/wasm/index.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';

const backend = WASM as WasmBackend;
const SIMD = backend.simdContext!;
const MAIN = backend.context;
const Point = ed448.Point;
const Q = Point.Fn.ORDER;
const hex = bytesToHex;
const leToBig = (b: Uint8Array): bigint => BigInt('0x' + (hex(Uint8Array.from(b).reverse()) || '0'));

test('the WASM backend runs Ed448 in the SIMD module here (Node validates SIMD)', () => {
  assert.ok(SIMD, 'SIMD module instantiated');
  assert.is(backend.ed448Context, SIMD);
});

// ---- field --------------------------------------------------------------------------------------------------

const W = 2 ** 28 + 2 ** 9; // every limb of a weakly reduced element is below W (assembly/fe448.ts)
const OPS = 11; // test_fe_mul's ops (assembly/fe448test.ts)

/** Runs op on four elements (limbs) in one module: the hook's return code and the canonical result. */
function mulOp(ctx: WasmContext, op: number, limbs: readonly number[][]): string {
  const dv = new DataView(ctx.mem.buffer, ctx.mem.byteOffset);
  for (let e = 0; e < 4; e++) for (let i = 0; i < 16; i++) dv.setUint32(ctx.io + 512 + 64 * e + 4 * i, limbs[e]![i]!, true);
  ctx.mem.fill(0xaa, ctx.io + 128, ctx.io + 184);
  const rc = ctx.exports.test_fe_mul(op) as number;
  return `${rc}:${hex(ctx.mem.slice(ctx.io + 128, ctx.io + 184))}`;
}

function randomLimbs(rnd: (n: number) => Uint8Array, top: boolean): number[] {
  const dv = new DataView(rnd(64).buffer);
  // top: within 2^12 of the bound, where a column sum comes nearest 2^64 and a u32 lane sum nearest 2^32.
  return Array.from({ length: 16 }, (_, i) => (top ? W - 1 - (dv.getUint32(4 * i, true) % 4096) : dv.getUint32(4 * i, true) % W));
}

test(`field: every product op on ${20 * CASES} random quadruples, the same in the SIMD and main modules`, () => {
  const rnd = seededRandom(0x51d);
  for (let i = 0; i < 20 * CASES; i++) {
    const limbs = [0, 1, 2, 3].map((j) => randomLimbs(rnd, ((i >> j) & 3) === 0));
    const op = i % OPS;
    const want = mulOp(MAIN, op, limbs);
    assert.ok(want.startsWith('1:'), `case ${i} op ${op}: main result weakly reduced`);
    assert.is(mulOp(SIMD, op, limbs), want, `case ${i} op ${op}`);
  }
});

// ---- group ----------------------------------------------------------------------------------------------------

/** The order-4 point (1, 0) (encoding: y = 0, sign 0): adding it gives a point with a torsion component. */
const ORDER4 = new Uint8Array(57);

test(`group: ${4 * CASES} variable-base products, the same bytes on both modules; every 16th = noble's`, () => {
  const rnd = seededRandom(0x51e);
  for (let i = 0; i < 4 * CASES; i++) {
    let p = WASM_SCALAR_ED448.pointMulBase(rnd(57));
    if (i % 5 === 0) p = WASM_SCALAR_ED448.pointAdd(p, ORDER4);
    const k = rnd(57);
    const got = hex(WASM.pointMul(p, k));
    assert.is(got, hex(WASM_SCALAR_ED448.pointMul(p, k)), `case ${i}`);
    if (i % 16 === 0) assert.is(got, hex(Point.fromBytes(p).multiplyUnsafe(leToBig(k) % Q).toBytes()), `noble, case ${i}`);
  }
});

test(`group: ${2 * CASES} base-point and ${CASES} double products (constant- and variable-time) agree on both modules`, () => {
  const rnd = seededRandom(0x51f);
  for (let i = 0; i < 2 * CASES; i++) {
    const k = rnd(57);
    const got = hex(WASM.pointMulBase(k));
    assert.is(got, hex(WASM_SCALAR_ED448.pointMulBase(k)), `base case ${i}`);
    if (i % 16 === 0) assert.is(got, hex(Point.BASE.multiplyUnsafe(leToBig(k) % Q).toBytes()), `noble, base case ${i}`);
  }
  for (let i = 0; i < CASES; i++) {
    const a = rnd(57);
    const b = rnd(57);
    const p = WASM_SCALAR_ED448.pointMulBase(rnd(57));
    const want = hex(WASM_SCALAR_ED448.pointDoubleMulBaseCT(a, p, b));
    assert.is(hex(WASM.pointDoubleMulBaseCT(a, p, b)), want, `CT case ${i}`);
    assert.is(hex(WASM.pointDoubleMulBase(a, p, b)), want, `variable-time case ${i}`);
  }
});

// ---- signatures -----------------------------------------------------------------------------------------------

// PKCS#8 wrapping of a raw Ed448 private key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('3047020100300506032b6571043b0439', 'hex');

test(`Ed448 signatures on ${CASES} random seeds and messages: both modules sign as OpenSSL does, and every side verifies the others`, () => {
  const rnd = seededRandom(0x520);
  for (let i = 0; i < CASES; i++) {
    const seed = rnd(57);
    const msg = rnd(i % 300);
    const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    const pub = Uint8Array.from(Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url'));
    const want = hex(osslSign(null, msg, key));
    const viaSimd = ed448Sign(WASM, seed, msg);
    const viaMain = ed448Sign(WASM_SCALAR_ED448, seed, msg);
    assert.is(hex(viaSimd), want, `SIMD module signature, case ${i}`);
    assert.is(hex(viaMain), want, `main module signature, case ${i}`);
    assert.ok(ed448Verify(WASM, pub, msg, viaMain), `SIMD module verifies, case ${i}`);
    assert.ok(ed448Verify(WASM_SCALAR_ED448, pub, msg, viaSimd), `main module verifies, case ${i}`);
    assert.ok(osslVerify(null, msg, createPublicKey(key), viaSimd), `OpenSSL verifies, case ${i}`);
    const bad = viaSimd.slice();
    bad[i % 114]! ^= 1 << (i % 8);
    assert.not.ok(ed448Verify(WASM, pub, msg, bad), `SIMD module refuses a tampered signature, case ${i}`);
    assert.not.ok(ed448Verify(WASM_SCALAR_ED448, pub, msg, bad), `main module refuses a tampered signature, case ${i}`);
  }
});

test.run();
