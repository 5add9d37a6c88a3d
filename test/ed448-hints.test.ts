/**
 * The decoded-x hint beyond the ratchet's receiver step (session 11, assembly/ed448.ts "The decoded-x hint"):
 * pointIsValid (when true) now leaves the point's x beside the very array it checked, and pointMul and the
 * ring-signature commitments (assembly/ed448ring.ts, flag bits 2-4) use it instead of a square root. A hint must never change a result or a refusal: the same bytes as a fresh array
 * with the same contents, also when the array is altered after it got its hint, and (at the module's level)
 * whatever 56 bytes arrive as a hint. And the x must not be left behind in the I/O region.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ed448 } from '@noble/curves/ed448.js';
import { HYBRID, JS, WASM, WASM_SCALAR_ED448, label } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { bytesToHex } from '../ts/bytes.js';
import { OtrError } from '../ts/errors.js';
import type { CryptoBackend, RingCommitResult } from '../ts/backend/types.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';
import type { WasmBackend } from '../ts/backend/wasm/index.js';

const HINTED: readonly CryptoBackend[] = [WASM, WASM_SCALAR_ED448, HYBRID];
/** Each WASM Ed448 path with the module it runs in (the SIMD one: the WASM backend in Node). */
const PATHS: readonly [string, CryptoBackend, WasmContext][] = [
  ['simd', WASM, (WASM as WasmBackend).ed448Context],
  ['main', WASM_SCALAR_ED448, (WASM as WasmBackend).context],
];
const P = 2n ** 448n - 2n ** 224n - 1n;
const le = (n: bigint, len: number) => Uint8Array.from({ length: len }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
const leToBig = (b: Uint8Array) => BigInt('0x' + (bytesToHex(Uint8Array.from(b).reverse()) || '0'));

/** The order-4 point (1, 0): adding it puts a torsion component on a valid point. */
const ORDER4 = Uint8Array.from({ length: 57 }, () => 0);

function outcome(f: () => Uint8Array | RingCommitResult): string {
  try {
    const r = f();
    if (r instanceof Uint8Array) return bytesToHex(r);
    return JSON.stringify({ T: r.T?.map(bytesToHex), invalidMember: r.invalidMember, secretMismatch: r.secretMismatch });
  } catch (e) {
    if (!(e instanceof OtrError)) throw e;
    return `${e.constructor.name}/${e.code}/${e.message}`;
  }
}

/** The ways an array is altered after it got its hint: another valid point, the sign bit flipped (x -> -x),
 *  an undecodable value, a torsion component added. */
function alterations(rnd: (n: number) => Uint8Array, key: Uint8Array): ((a: Uint8Array) => void)[] {
  const other = WASM.pointMulBase(rnd(57)).slice();
  return [
    (a) => a.set(other),
    (a) => (a[56]! ^= 0x80),
    (a) => a.fill(0xff, 0, 56),
    (a) => a.set(WASM.pointAdd(key, ORDER4)),
  ];
}

/** A point whose array carries a hint on backend b: made by the JS backend (no hint), then validated. */
function hintedPoint(b: CryptoBackend, rnd: (n: number) => Uint8Array): Uint8Array {
  const p = JS.pointMulBase(rnd(57));
  assert.ok(b.pointIsValid(p));
  return p;
}

test('pointMul after pointIsValid: the bytes of a fresh array, also when the array is altered afterwards', () => {
  const rnd = seededRandom(1101);
  for (const b of HINTED) {
    for (let i = 0; i < 8; i++) {
      const p = hintedPoint(b, rnd);
      const k = rnd(57);
      assert.is(bytesToHex(b.pointMul(p, k)), bytesToHex(JS.pointMul(p.slice(), k)), `${label(b)} #${i}`);
    }
    for (const [j, alter] of alterations(rnd, JS.pointMulBase(rnd(57))).entries()) {
      const p = hintedPoint(b, rnd);
      const k = rnd(57);
      alter(p);
      assert.is(outcome(() => b.pointMul(p, k)), outcome(() => b.pointMul(p.slice(), k)), `${label(b)} alteration ${j}`);
    }
  }
});

test('pointIsValid refusing a point leaves no hint that could make pointMul accept what it refuses', () => {
  const rnd = seededRandom(1102);
  for (const b of HINTED) {
    const bad = new Uint8Array(57).fill(0xff, 0, 56); // y >= p: undecodable
    assert.not.ok(b.pointIsValid(bad));
    assert.match(outcome(() => b.pointMul(bad, rnd(57))), /INVALID_POINT/);
    // A torsion component: decodes, not valid; pointMul (which does not validate) multiplies it as a fresh array would.
    const torsion = WASM.pointAdd(JS.pointMulBase(rnd(57)), ORDER4);
    assert.not.ok(b.pointIsValid(torsion));
    const k = rnd(57);
    assert.is(outcome(() => b.pointMul(torsion, k)), outcome(() => JS.pointMul(torsion.slice(), k)));
  }
});

for (const [name, WASM, ctx] of PATHS) test(`${name} module: the x is not left in the I/O region after pointIsValid, pointMulBase, pointMulValid`, () => {
  const rnd = seededRandom(1103);
  const hintArea = () => ctx.mem.subarray(ctx.io + 384 + 64, ctx.io + 384 + 64 + 56);
  const p = JS.pointMulBase(rnd(57));
  assert.ok(WASM.pointIsValid(p));
  assert.ok(hintArea().every((v) => v === 0), 'pointIsValid');
  WASM.pointMulBase(rnd(57));
  assert.ok(hintArea().every((v) => v === 0), 'pointMulBase');
  WASM.pointMulValid!(JS.pointMulBase(rnd(57)), rnd(57));
  assert.ok(hintArea().every((v) => v === 0), 'pointMulValid');
});

/** Ring-commitment arguments over `ring` with random scalars (the key pair check skipped: secretChecked). */
function signArgs(rnd: (n: number) => Uint8Array, ring: Uint8Array[], slot: number, validate: boolean) {
  return {
    ring,
    validate,
    signer: [0, 1, 2].map((i) => (i === slot ? -1 : 0)),
    secret: new Uint8Array(57),
    publicKey: new Uint8Array(57),
    t: rnd(57),
    c: [rnd(57), rnd(57), rnd(57)],
    r: [rnd(57), rnd(57), rnd(57)],
    secretChecked: true,
  };
}

test('ring commitments with hinted members: the T of fresh arrays, every signer slot, with and without validation', () => {
  const rnd = seededRandom(1104);
  for (const b of HINTED) {
    for (let i = 0; i < 4; i++) {
      // Member kinds as in a DAKE: validated peer keys, and one of our own (no hint).
      const ring = [hintedPoint(b, rnd), JS.pointMulBase(rnd(57)), hintedPoint(b, rnd)];
      for (const validate of [false, true]) {
        for (let slot = 0; slot < 3; slot++) {
          const a = signArgs(rnd, ring, slot, validate);
          const got = outcome(() => b.ringSignCommitments!(a));
          assert.is(got, outcome(() => b.ringSignCommitments!({ ...a, ring: ring.map((m) => m.slice()) })), `${label(b)} sign slot ${slot}`);
          // and the definition: G·t in the signer's slot, G·r_j + A_j·c_j in the others (the generic path's maths)
          const T = JSON.parse(got).T as string[];
          for (let j = 0; j < 3; j++)
            assert.is(T[j], bytesToHex(j === slot ? JS.pointMulBase(a.t) : JS.pointDoubleMulBase(a.r[j]!, ring[j]!, a.c[j]!)), `${label(b)} sign slot ${slot} T${j + 1}`);
        }
        const { c, r } = signArgs(rnd, ring, 0, validate);
        const fresh = outcome(() => b.ringVerifyCommitments!(ring.map((m) => m.slice()), c, r, validate));
        assert.is(outcome(() => b.ringVerifyCommitments!(ring, c, r, validate)), fresh, `${label(b)} verify`);
        // and G·r_i + A_i·c_i by the generic path
        const T = JSON.parse(fresh).T as string[];
        for (let j = 0; j < 3; j++) assert.is(T[j], bytesToHex(JS.pointDoubleMulBase(r[j]!, ring[j]!, c[j]!)), `${label(b)} T${j + 1}`);
      }
    }
  }
});

test('ring commitments: a member altered after it got its hint gives what a fresh array gives (T or the refusal)', () => {
  const rnd = seededRandom(1105);
  for (const b of HINTED) {
    for (const [j, alter] of alterations(rnd, JS.pointMulBase(rnd(57))).entries()) {
      for (let m = 0; m < 3; m++) {
        const ring = [hintedPoint(b, rnd), hintedPoint(b, rnd), hintedPoint(b, rnd)];
        alter(ring[m]!);
        const fresh = () => ring.map((x) => x.slice());
        for (const validate of [false, true]) {
          const a = signArgs(rnd, ring, (m + 1) % 3, validate);
          assert.is(outcome(() => b.ringSignCommitments!(a)), outcome(() => b.ringSignCommitments!({ ...a, ring: fresh() })), `${label(b)} sign, alteration ${j} of member ${m}`);
          assert.is(outcome(() => b.ringVerifyCommitments!(ring, a.c, a.r, validate)), outcome(() => b.ringVerifyCommitments!(fresh(), a.c, a.r, validate)), `${label(b)} verify, alteration ${j} of member ${m}`);
        }
      }
    }
  }
});

for (const [name, , ctx] of PATHS) test(`${name} module: ed448_ring_verify_commit / _sign_commit: a hint that is not the decoding's x changes nothing; undecodable members are still refused`, () => {
  const rnd = seededRandom(1106);
  const SLOT = 64;
  const run = (entry: 'verify' | 'sign', ring: Uint8Array[], c: Uint8Array[], r: Uint8Array[], t: Uint8Array, hints: (bigint | undefined)[], flags: number): string => {
    for (let i = 0; i < 3; i++) {
      ctx.mem.set(ring[i]!, ctx.io + i * SLOT);
      ctx.mem.set(c[i]!, ctx.io + (6 + i) * SLOT);
      ctx.mem.set(r[i]!, ctx.io + (9 + i) * SLOT);
      if (hints[i] !== undefined) {
        ctx.mem.set(le(hints[i]!, 56), ctx.io + (13 + i) * SLOT);
        flags |= 4 << i;
      }
    }
    let rc: number;
    if (entry === 'sign') {
      ctx.mem.set(t, ctx.io + 5 * SLOT);
      ctx.mem[ctx.io + 12 * SLOT + 1] = 1; // slot 1 signs
      rc = ctx.exports.ed448_ring_sign_commit(flags | 2);
    } else rc = ctx.exports.ed448_ring_verify_commit(flags);
    assert.ok(ctx.mem.subarray(ctx.io, ctx.io + 16 * SLOT).every((v) => v === 0), 'inputs and hints wiped');
    const out = bytesToHex(ctx.mem.slice(ctx.io + 16 * SLOT, ctx.io + 19 * SLOT));
    ctx.mem.fill(0, ctx.io + 16 * SLOT, ctx.io + 20 * SLOT);
    return `${rc}:${rc === 0 ? out : ''}`;
  };
  for (let i = 0; i < 4; i++) {
    const ring = [0, 1, 2].map(() => JS.pointMulBase(rnd(57)));
    const c = [rnd(57), rnd(57), rnd(57)];
    const r = [rnd(57), rnd(57), rnd(57)];
    const t = rnd(57);
    const xs = ring.map((p) => ed448.Point.fromBytes(p).toAffine().x);
    const wrong = (x: bigint): bigint[] => [P - x, x + 1n, x + P, leToBig(rnd(56)), xs[(xs.indexOf(x) + 1) % 3]!];
    for (const entry of ['verify', 'sign'] as const) {
      for (const validate of [0, 1]) {
        const want = run(entry, ring, c, r, t, [undefined, undefined, undefined], validate);
        assert.ok(want.startsWith('0:'));
        assert.is(run(entry, ring, c, r, t, xs, validate), want, `${entry}: right hints`);
        for (let m = 0; m < 3; m++)
          for (const [j, h] of wrong(xs[m]!).entries()) {
            if (h >= 2n ** 448n) continue;
            const hints = [...xs] as (bigint | undefined)[];
            hints[m] = h;
            assert.is(run(entry, ring, c, r, t, hints, validate), want, `${entry}: wrong hint ${j} for member ${m}`);
          }
      }
      // An undecodable member with a plausible hint (the x of the point it was) is refused with its index.
      const bad = ring.map((p) => p.slice());
      bad[1]!.fill(0xff, 0, 56);
      assert.is(run(entry, bad, c, r, t, xs, 0), '2:', `${entry}: undecodable member`);
    }
  }
});

test.run();
