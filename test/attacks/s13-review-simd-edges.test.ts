/**
 * Pin (session 13 review): the SIMD module's Ed448 (session 12: assembly/fe448simd.ts's vector product and
 * uncarried sums, ge448mul.ts's 16-byte table scan) against the main module's scalar stack and the JS backend on
 * the encodings a hostile peer picks rather than random ones: y = 0, 1, 2, p - 1 and around p (non-canonical:
 * p, p + 1, p + 2, 2^448 - 1), around 2^224 (the golden-ratio split), each with the sign bit set (x = 0 with
 * sign 1 included) and with a stray bit in the last byte, the base point and its negation, the identity, and
 * points off the curve — through every entry point that takes a point: decoding, validation, the products, the
 * fused validate-and-multiply, both double products and the addition, with edge scalars (0, 1, 2, q - 1, q, 4q,
 * all ones). Every answer, refusal included, is the same on the three. Held on session 12's code.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM, WASM_SCALAR_ED448, JS } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { bytesToHex } from '../../ts/bytes.js';
import type { CryptoBackend } from '../../ts/backend/types.js';

const P = 2n ** 448n - 2n ** 224n - 1n;
const Q = 2n ** 446n - 13818066809895115352007386748515426880336692474882178609894547503885n;
const le = (x: bigint): Uint8Array => {
  const b = new Uint8Array(57);
  for (let i = 0; i < 57; i++, x >>= 8n) b[i] = Number(x & 0xffn);
  return b;
};
const rnd = seededRandom(0x5131);

const points: Uint8Array[] = [];
for (const y of [0n, 1n, 2n, P - 1n, P, P + 1n, P + 2n, 2n ** 448n - 1n, 2n ** 224n, 2n ** 224n - 1n, P - 2n ** 224n]) {
  points.push(le(y));
  const signed = le(y);
  signed[56] = 0x80;
  points.push(signed);
  const stray = le(y);
  stray[56] = 0x01;
  points.push(stray);
}
const base = JS.pointMulBase(le(1n));
points.push(base, JS.pointMulBase(le(Q - 1n)));
for (let i = 0; i < 24; i++) {
  const b = rnd(57);
  b[56]! &= 0x80; // random y: about half of them off the curve
  points.push(b);
}
const scalars = [le(0n), le(1n), le(2n), le(Q - 1n), le(Q), le(4n * Q), new Uint8Array(57).fill(0xff), rnd(57)];

function answer(b: CryptoBackend, f: (b: CryptoBackend) => Uint8Array | boolean | null): string {
  try {
    const r = f(b);
    return r instanceof Uint8Array ? bytesToHex(r) : String(r);
  } catch (e) {
    return `throws ${(e as { code?: string }).code ?? (e as Error).name}`;
  }
}

function same(what: string, f: (b: CryptoBackend) => Uint8Array | boolean | null): void {
  const want = answer(JS, f);
  assert.is(answer(WASM_SCALAR_ED448, f), want, `scalar module: ${what}`);
  assert.is(answer(WASM, f), want, `SIMD module: ${what}`);
}

test('decoding and validation of edge encodings: the same answer on the SIMD and scalar modules and JS', () => {
  points.forEach((p, i) => {
    same(`decodes #${i}`, (b) => b.pointDecodes(p));
    same(`valid #${i}`, (b) => b.pointIsValid(p));
  });
});

test('products, fused validation, double products and additions of edge points and scalars: the same everywhere', () => {
  points.forEach((p, i) => {
    scalars.forEach((k, j) => {
      const k2 = scalars[(j + 3) % scalars.length]!;
      same(`mul #${i} by #${j}`, (b) => b.pointMul(p, k));
      same(`mulValid #${i} by #${j}`, (b) => (b.pointMulValid ? b.pointMulValid(p, k) : b.pointIsValid(p) ? b.pointMul(p, k) : null));
      same(`doubleMulBase #${i} #${j}`, (b) => b.pointDoubleMulBase(k, p, k2));
      same(`doubleMulBaseCT #${i} #${j}`, (b) => b.pointDoubleMulBaseCT(k, p, k2));
    });
    for (let j = 0; j < points.length; j += 3) same(`add #${i} + #${j}`, (b) => b.pointAdd(p, points[j]!));
  });
});

test.run();
