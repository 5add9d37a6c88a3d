/**
 * Hostile review of the decoded-x hints (session 11: pointIsValid keeps the decoded x beside the array it checked;
 * pointMul and the ring commitments reuse it, assembly/ge448.ts geDecodeHinted). test/ed448-hints covers arrays
 * altered after validation where the stale hint fails its proof. This adds the cases where it does NOT fail:
 *   - the encoding of (x, -y) (the point -P + (0, -1)): the same x^2, so the stale x satisfies the curve equation
 *     for the new y and has the sign bit's parity — the hint proves out for different bytes. It must give exactly
 *     what the new bytes decode to (x is fixed by y^2 and the parity), and, with validation, the refusal of a
 *     point with a torsion component;
 *   - views: a hinted view of a buffer rewritten through another view of the same buffer, and a second view of
 *     the same bytes (another object: no hint);
 *   - WASM memory reused by other calls between the validation and the use (the hint is a copy).
 * Every result is compared with the JS backend (no hints) on fresh copies, on every hinted backend.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HYBRID, JS, WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { bytesToHex } from '../../ts/bytes.js';
import { OtrError } from '../../ts/errors.js';
import type { CryptoBackend, RingCommitResult } from '../../ts/backend/types.js';

const HINTED: readonly CryptoBackend[] = [WASM, HYBRID];
const P = 2n ** 448n - 2n ** 224n - 1n;
const leToBig = (b: Uint8Array) => b.reduceRight((a, v) => (a << 8n) | BigInt(v), 0n);
const le = (n: bigint, len: number) => Uint8Array.from({ length: len }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

/** The encoding of (x, -y) for the point encoded by `e`: y -> p - y, the sign bit (x's parity) kept. */
function negY(e: Uint8Array): Uint8Array {
  const out = new Uint8Array(57);
  out.set(le(P - leToBig(e.subarray(0, 56)), 56));
  out[56] = e[56]!;
  return out;
}

function outcome(f: () => Uint8Array | RingCommitResult | boolean): string {
  try {
    const r = f();
    if (typeof r === 'boolean') return String(r);
    if (r instanceof Uint8Array) return bytesToHex(r);
    return JSON.stringify({ T: r.T?.map(bytesToHex), invalidMember: r.invalidMember });
  } catch (e) {
    if (!(e instanceof OtrError)) throw e;
    return `${e.code}`;
  }
}

function ringArgs(rnd: (n: number) => Uint8Array, ring: Uint8Array[], validate: boolean) {
  return {
    ring, validate, signer: [0, -1, 0], secret: new Uint8Array(57), publicKey: new Uint8Array(57),
    t: rnd(57), c: [rnd(57), rnd(57), rnd(57)], r: [rnd(57), rnd(57), rnd(57)], secretChecked: true,
  };
}

test('a hinted array rewritten to (x, -y): the stale hint proves out, and every result is the new bytes\' (validation refuses it)', () => {
  const rnd = seededRandom(0x3113);
  for (const b of HINTED) {
    for (let i = 0; i < 6; i++) {
      const p = JS.pointMulBase(rnd(57));
      const q = negY(p);
      assert.ok(JS.pointDecodes(q), 'the (x, -y) encoding decodes');
      assert.not.ok(JS.pointIsValid(q), '(x, -y) has a torsion component');
      const k = rnd(57);
      const arr = p.slice();
      assert.ok(b.pointIsValid(arr));
      arr.set(q);
      assert.is(outcome(() => b.pointMul(arr, k)), outcome(() => JS.pointMul(q.slice(), k)), `${b.name} pointMul #${i}`);
      assert.is(outcome(() => b.pointIsValid(arr)), 'false', `${b.name} pointIsValid #${i}`);
      // Ring members: hinted by validation, then rewritten (the signer is slot 1).
      for (const validate of [false, true]) {
        const ring = [p.slice(), JS.pointMulBase(rnd(57)), JS.pointMulBase(rnd(57))];
        for (const m of ring) assert.ok(b.pointIsValid(m));
        ring[2]!.set(negY(ring[2]!));
        const a = ringArgs(rnd, ring, validate);
        const fresh = ring.map((m) => m.slice());
        const want = outcome(() => WASM.ringSignCommitments!({ ...a, ring: fresh.map((m) => m.slice()) }));
        assert.is(outcome(() => b.ringSignCommitments!(a)), want, `${b.name} sign, validate ${validate}`);
        assert.is(outcome(() => b.ringVerifyCommitments!(ring, a.c, a.r, validate)), outcome(() => WASM.ringVerifyCommitments!(fresh, a.c, a.r, validate)), `${b.name} verify, validate ${validate}`);
        if (validate) assert.match(want, /"invalidMember":2/, `refused as member 3 (0-based 2): ${want}`);
        else assert.is(JSON.parse(want).T[2], bytesToHex(JS.pointDoubleMulBase(a.r[2]!, fresh[2]!, a.c[2]!)), 'T3 of the new bytes');
      }
    }
  }
});

test('views and reused WASM memory: a hint stays with its array object and its copy of x', () => {
  const rnd = seededRandom(0x3114);
  for (const b of HINTED) {
    const buf = new Uint8Array(57 * 3);
    const p = JS.pointMulBase(rnd(57));
    const other = JS.pointMulBase(rnd(57));
    buf.set(p, 57);
    const view = buf.subarray(57, 114);
    assert.ok(b.pointIsValid(view));
    // Other calls in between overwrite the module's I/O and scratch.
    for (let i = 0; i < 4; i++) {
      assert.ok(b.pointIsValid(JS.pointMulBase(rnd(57))));
      b.pointMulValid?.(JS.pointMulBase(rnd(57)), rnd(57));
    }
    const k = rnd(57);
    assert.is(bytesToHex(b.pointMul(view, k)), bytesToHex(JS.pointMul(p, k)), `${b.name}: the hinted view`);
    // A second view of the same bytes is another object: no hint, the same answer.
    assert.is(bytesToHex(b.pointMul(new Uint8Array(buf.buffer, 57, 57), k)), bytesToHex(JS.pointMul(p, k)), `${b.name}: a second view`);
    // The buffer rewritten through another view: the hinted view's bytes are the new point's.
    new Uint8Array(buf.buffer).set(other, 57);
    assert.is(bytesToHex(b.pointMul(view, k)), bytesToHex(JS.pointMul(other, k)), `${b.name}: rewritten through another view`);
    new Uint8Array(buf.buffer).set(negY(other), 57);
    assert.is(bytesToHex(b.pointMul(view, k)), bytesToHex(JS.pointMul(negY(other), k)), `${b.name}: rewritten to (x, -y) of another point`);
  }
});

test.run();
