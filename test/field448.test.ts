/**
 * The WASM field GF(p), p = 2^448 - 2^224 - 1, routines that no public entry point exposes alone, checked
 * against BigInt through the module's test hooks (assembly/fe448test.ts):
 * - `feInv` (constant-time divsteps inversion) against an extended Euclid written here, against a*inv = 1,
 *   and against `feInvFermat` (the a^(p-2) chain it replaced);
 * - `feIsSquareVar` (variable-time Jacobi by division steps, used by the subgroup check on public points) and
 *   its binary-algorithm fallback against Euler's criterion a^((p-1)/2) mod p;
 * - `feMul` / `feSqr` / `feSqrSub2` against BigInt products, including operands built by the uncarried `feAddNC`,
 *   `feSubNC` and `feCondNegNC` at their extreme limbs (the pairings the header of assembly/fe448.ts allows),
 *   and that every result is weakly reduced.
 * Inputs are fed as 28-bit limbs, so weakly reduced (non-canonical, >= p, limbs up to 2^28 + 2^9 - 1) values
 * are covered as well as canonical ones. OTR_CASES scales the random loops (3x and 2x CASES values).
 * Every test runs on both WASM modules: the main one and the SIMD one, whose product and uncarried sums are
 * assembly/fe448simd.ts's vector kernels (session 12).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from './helpers/backends.js';
import { CASES, seededRandom } from './helpers/rng.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';

const P = (1n << 448n) - (1n << 224n) - 1n;
const LIMB = (1n << 28n) - 1n;
/** Limb bound of a weakly reduced element (assembly/fe448.ts): every limb below W. */
const W = 2 ** 28 + 2 ** 9;

// Both modules carry the field (the SIMD one with its vector product and uncarried sums, fe448simd.ts): every
// test runs on each, through these bindings, which `onModule` points at one module for a test's duration.
const WASM_MODULES = WASM as unknown as { context: WasmContext; simdContext: WasmContext | undefined };
const MODULES: readonly [string, WasmContext][] = [
  ['main', WASM_MODULES.context],
  ...(WASM_MODULES.simdContext ? [['simd', WASM_MODULES.simdContext] as [string, WasmContext]] : []),
];
let ctx = WASM_MODULES.context;
let x = ctx.exports;
let IN = ctx.io;
let OUT = ctx.io + 128;
let MUL_IN = ctx.io + 512;

/** Registers the test once per module, named after it. */
function onModule(name: string, fn: () => void): void {
  for (const [label, m] of MODULES) {
    test(`${label}: ${name}`, () => {
      ctx = m;
      x = m.exports;
      IN = m.io;
      OUT = m.io + 128;
      MUL_IN = m.io + 512;
      fn();
    });
  }
}

test('Node validates WebAssembly SIMD: the SIMD module (with its field kernels) is tested too', () => {
  assert.is(MODULES.length, 2);
});

const mod = (a: bigint): bigint => ((a % P) + P) % P;

/** Canonical 28-bit limbs of a value below 2^448. */
function toLimbs(a: bigint): number[] {
  const l: number[] = [];
  for (let i = 0; i < 16; i++) l.push(Number((a >> BigInt(28 * i)) & LIMB));
  return l;
}

function fromLimbs(l: readonly number[]): bigint {
  let a = 0n;
  for (let i = 15; i >= 0; i--) a = (a << 28n) + BigInt(l[i]!);
  return a;
}

function putLimbs(l: readonly number[]): void {
  const dv = new DataView(ctx.mem.buffer, ctx.mem.byteOffset);
  for (let i = 0; i < 16; i++) dv.setUint32(IN + 4 * i, l[i]!, true);
}

function readOut(): bigint {
  let a = 0n;
  for (let i = 55; i >= 0; i--) a = (a << 8n) | BigInt(ctx.mem[OUT + i]!);
  return a;
}

/** feInv (fermat = false) or feInvFermat of the element with limbs l, as a canonical BigInt. */
function wasmInv(l: readonly number[], fermat: boolean): bigint {
  putLimbs(l);
  ctx.mem.fill(0xaa, OUT, OUT + 56); // a stale result cannot pass for a fresh one
  assert.is(x.test_fe_inv(fermat ? 1 : 0), 1);
  return readOut();
}

/** feIsSquareVar (division steps) of the element with limbs l; its binary fallback must give the same answer
 *  on every input (the steps never failed to converge in testing, so the fallback is held against it here). */
function wasmIsSquare(l: readonly number[]): boolean {
  putLimbs(l);
  const r = x.test_fe_is_square_var(0);
  assert.ok(r === 0 || r === 1, `hook returned ${r}`);
  putLimbs(l);
  assert.is(x.test_fe_is_square_var(1), r, 'the binary fallback agrees');
  return r === 1;
}

/** 1/a mod p by the extended Euclidean algorithm (0 for a = 0): nothing shared with either WASM routine. */
function invRef(a: bigint): bigint {
  let [r0, r1] = [P, mod(a)];
  let [t0, t1] = [0n, 1n];
  if (r1 === 0n) return 0n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  assert.is(r0, 1n);
  return mod(t0);
}

function powMod(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

/** Euler's criterion: a is a non-zero square iff a^((p-1)/2) = 1. */
const eulerIsSquare = (a: bigint): boolean => powMod(a, (P - 1n) / 2n) === 1n;

/** Edge values as limbs: canonical ones, and weakly reduced representations (value >= p, or limbs >= 2^28). */
const MAXW = W - 1;
const EDGES: readonly { name: string; limbs: number[] }[] = [
  ...(
    [
      ['0', 0n], ['1', 1n], ['2', 2n], ['3', 3n], ['p-1', P - 1n], ['p-2', P - 2n], ['(p-1)/2', (P - 1n) / 2n],
      ['(p+1)/2', (P + 1n) / 2n], ['2^224', 1n << 224n], ['2^224-1', (1n << 224n) - 1n], ['2^447', 1n << 447n],
      ['2^28', 1n << 28n], ['2^446', 1n << 446n],
      // >= p but below 2^448: the 28-bit limb form of a non-canonical value.
      ['p (= 0)', P], ['p+1', P + 1n], ['p+2^224 (= 2^224)', P + (1n << 224n)], ['2^448-1', (1n << 448n) - 1n],
    ] as [string, bigint][]
  ).map(([name, v]) => ({ name, limbs: toLimbs(v) })),
  { name: 'every limb 2^28+2^9-1 (the weak maximum)', limbs: new Array(16).fill(MAXW) },
  { name: 'every limb 2^28', limbs: new Array(16).fill(2 ** 28) },
  { name: 'limb 0 at the weak maximum, rest 0', limbs: [MAXW, ...new Array(15).fill(0)] },
  { name: 'limb 15 at the weak maximum, rest 0', limbs: [...new Array(15).fill(0), MAXW] },
];

/** Random limbs, each in [0, W): a random weakly reduced element (about 1 in 2^19 of them >= 2^448). */
function randomWeak(rnd: (n: number) => Uint8Array): number[] {
  const b = rnd(64);
  const dv = new DataView(b.buffer);
  return Array.from({ length: 16 }, (_, i) => dv.getUint32(4 * i, true) % W);
}

function randomCanonical(rnd: (n: number) => Uint8Array): bigint {
  let a = 0n;
  for (const byte of rnd(57)) a = (a << 8n) | BigInt(byte);
  return a % P;
}

function checkInv(name: string, limbs: readonly number[]): void {
  const a = mod(fromLimbs(limbs));
  const expect = invRef(a);
  const got = wasmInv(limbs, false);
  assert.is(got, expect, `feInv(${name})`);
  assert.is(wasmInv(limbs, true), expect, `feInvFermat(${name})`);
  assert.is((got * a) % P, a === 0n ? 0n : 1n, `feInv(${name}) * a`);
}

onModule('hooks refuse limbs outside the weakly reduced range', () => {
  for (const i of [0, 7, 15]) {
    const l = new Array(16).fill(0);
    l[i] = W;
    putLimbs(l);
    assert.is(x.test_fe_inv(0), -1);
    assert.is(x.test_fe_inv(1), -1);
    assert.is(x.test_fe_is_square_var(0), -1);
    assert.is(x.test_fe_is_square_var(1), -1);
  }
});

onModule('feInv of 0 is 0 (as feInvFermat: 0^(p-2)), also for non-canonical zeros', () => {
  // p itself is the only other zero the limbs admit: its limbs are all >= 2^28 - 2, so no limb can take a
  // carry of 2^28 and stay below W.
  for (const limbs of [toLimbs(0n), toLimbs(P)]) {
    assert.is(mod(fromLimbs(limbs)), 0n);
    assert.is(wasmInv(limbs, false), 0n);
    assert.is(wasmInv(limbs, true), 0n);
  }
});

onModule('feInv on edge values: equals the BigInt inverse and feInvFermat, a * 1/a = 1', () => {
  for (const { name, limbs } of EDGES) checkInv(name, limbs);
  // Known answers that do not go through invRef: 1/1 = 1, 1/(p-1) = p-1, 1/2 = (p+1)/2.
  assert.is(wasmInv(toLimbs(1n), false), 1n);
  assert.is(wasmInv(toLimbs(P - 1n), false), P - 1n);
  assert.is(wasmInv(toLimbs(2n), false), (P + 1n) / 2n);
});

onModule(`feInv on ${3 * CASES} random values (half canonical, half weakly reduced limbs)`, () => {
  const rnd = seededRandom(0x448f1);
  for (let i = 0; i < 3 * CASES; i++) {
    const limbs = i & 1 ? randomWeak(rnd) : toLimbs(randomCanonical(rnd));
    checkInv(`random #${i}`, limbs);
  }
});

onModule('feIsSquareVar on edge values equals Euler\'s criterion', () => {
  let squares = 0;
  for (const { name, limbs } of EDGES) {
    const want = eulerIsSquare(fromLimbs(limbs));
    assert.is(wasmIsSquare(limbs), want, name);
    if (want) squares++;
  }
  assert.ok(squares > 0 && squares < EDGES.length);
  // Known answers: p = 7 mod 8, so 2 is a square and -1 is not; 0 is not a non-zero square.
  assert.is(wasmIsSquare(toLimbs(2n)), true);
  assert.is(wasmIsSquare(toLimbs(P - 1n)), false);
  assert.is(wasmIsSquare(toLimbs(0n)), false);
});

onModule(`feIsSquareVar on ${2 * CASES} random values, squares x^2 and non-squares -x^2, and random ones`, () => {
  const rnd = seededRandom(0x448f2);
  const counts = { square: 0, non: 0, randomSquare: 0, random: 0 };
  for (let i = 0; i < 2 * CASES; i++) {
    const r = randomCanonical(rnd);
    if (r === 0n) continue;
    const sq = (r * r) % P;
    // p = 3 mod 4: -1 is a non-square, so -x^2 is one for every x != 0.
    assert.is(wasmIsSquare(toLimbs(sq)), true, `x^2 #${i}`);
    assert.is(wasmIsSquare(toLimbs(P - sq)), false, `-x^2 #${i}`);
    counts.square++;
    counts.non++;
    // A random element (alternately canonical and as weakly reduced limbs) against Euler's criterion.
    const limbs = i & 1 ? randomWeak(rnd) : toLimbs(randomCanonical(rnd));
    const want = eulerIsSquare(fromLimbs(limbs));
    assert.is(wasmIsSquare(limbs), want, `random #${i}`);
    counts.random++;
    if (want) counts.randomSquare++;
  }
  // About half of the random elements are squares: both outcomes were exercised.
  assert.ok(counts.randomSquare > counts.random / 4 && counts.randomSquare < (3 * counts.random) / 4, JSON.stringify(counts));
});


/** One of test_fe_mul's ops on four weakly reduced elements (limbs); returns the canonical result. */
function wasmMulOp(op: number, l: readonly (readonly number[])[]): bigint {
  const dv = new DataView(ctx.mem.buffer, ctx.mem.byteOffset);
  for (let e = 0; e < 4; e++) for (let i = 0; i < 16; i++) dv.setUint32(MUL_IN + 64 * e + 4 * i, l[e]![i]!, true);
  ctx.mem.fill(0xaa, OUT, OUT + 56);
  assert.is(x.test_fe_mul(op), 1, `op ${op}: result limbs weakly reduced`);
  return readOut();
}

/** What each op computes, in BigInt. */
const MUL_OPS: readonly ((a: bigint, b: bigint, c: bigint, d: bigint) => bigint)[] = [
  (a, b) => a * b,
  (a) => a * a,
  (a, b, c, d) => (a + b) * (c + d),
  (a, b, c, d) => (a + b) * (c - d),
  (a, b) => (a + b) * (a + b),
  (a, _b, c, d) => a * (c - d),
  (a, b, c, d) => (a + b) * (d - c),
  (a, _b, c) => -a * c,
  (a, _b, c) => a * c,
  (a, b, c, d) => (a + b) * (a + b) - c - d,
  (a, _b, c, d) => a * a - c - d,
];

function checkMulOps(name: string, l: readonly (readonly number[])[]): void {
  const v = l.map(fromLimbs);
  for (let op = 0; op < MUL_OPS.length; op++) {
    assert.is(wasmMulOp(op, l), mod(MUL_OPS[op]!(v[0]!, v[1]!, v[2]!, v[3]!)), `${name}: op ${op}`);
  }
}

onModule('feMul/feSqr with uncarried operands at their extreme limbs equal BigInt, results weakly reduced', () => {
  const max = new Array(16).fill(MAXW);
  const zero = new Array(16).fill(0);
  const top = [...new Array(15).fill(0), MAXW];
  // Largest feAddNC sums (max + max) against the largest feSubNC differences (max - 0) and the largest
  // feCondNegNC values (-0 = 2p limb by limb, plus max): the bounds the point formulas rely on.
  checkMulOps('all limbs at the maximum', [max, max, max, zero]);
  checkMulOps('max, max, 0, max', [max, max, zero, max]);
  checkMulOps('max, max, 0, 0', [max, max, zero, zero]);
  checkMulOps('zeros', [zero, zero, zero, zero]);
  checkMulOps('one limb', [top, max, top, zero]);
  for (const { name, limbs } of EDGES) checkMulOps(name, [limbs, max, limbs, zero]);
  // The hook itself refuses limbs outside the weakly reduced range, and unknown ops.
  const bad = [...max];
  bad[3] = W;
  const dv = new DataView(ctx.mem.buffer, ctx.mem.byteOffset);
  for (let i = 0; i < 16; i++) dv.setUint32(MUL_IN + 128 + 4 * i, bad[i]!, true);
  assert.is(x.test_fe_mul(0), -1);
  for (let i = 0; i < 16; i++) dv.setUint32(MUL_IN + 128 + 4 * i, 0, true);
  assert.is(x.test_fe_mul(MUL_OPS.length), -1);
});

onModule(`feMul/feSqr and the uncarried operands on ${CASES} random quadruples (weakly reduced and canonical)`, () => {
  const rnd = seededRandom(0x448f3);
  for (let i = 0; i < CASES; i++) {
    const l = [0, 1, 2, 3].map((j) => ((i + j) & 1 ? randomWeak(rnd) : toLimbs(randomCanonical(rnd))));
    checkMulOps(`random #${i}`, l);
  }
});

onModule(`feMul/feSqr and the uncarried operands on ${CASES} random quadruples with every limb within 2^12 of the weak bound`, () => {
  // Where the column sums come nearest 2^64 and the SIMD kernel's u32 lane sums (four operand limbs) nearest 2^32.
  const rnd = seededRandom(0x448f4);
  for (let i = 0; i < CASES; i++) {
    const l = [0, 1, 2, 3].map(() => randomWeak(rnd).map((v) => MAXW - (v % 4096)));
    checkMulOps(`near the bound #${i}`, l);
  }
});

test.run();
