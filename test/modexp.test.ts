/**
 * modPow and legendre on every backend (hybrid included), cross-checked against node:crypto (OpenSSL) and a plain BigInt
 * square-and-multiply written here (independent of the JS backend's windowed version). modPow also runs
 * through both WASM kernels explicitly: the scalar one in the main module (runtimes without SIMD) and the
 * f64x2 one in the SIMD module (which has a separate path for the base 2).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDiffieHellman, getDiffieHellman } from 'node:crypto';
import { BACKENDS, HYBRID, JS, WASM } from './helpers/backends.js';
import { CASES, seededRandom } from './helpers/rng.js';
import { DH_GROUPS } from '../ts/crypto/dh-groups.js';
import { bigToBytesBE, bytesToBigBE, bytesToHex } from '../ts/bytes.js';
import { OtrArgumentError, OtrError } from '../ts/errors.js';
import type { CryptoBackend, DhGroupName } from '../ts/backend/types.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';
import { modexpOps } from '../ts/backend/wasm/modexp.js';

type ModPow = Pick<CryptoBackend, 'modPow' | 'legendre'> & { name: string };
const main = (WASM as unknown as { context: WasmContext }).context;
/** The SIMD module's context, present where the runtime validates SIMD (Node does). */
const simd = (WASM as unknown as { simdContext: WasmContext | undefined }).simdContext;
const SCALAR: ModPow = { name: 'wasm-scalar', ...modexpOps(main) };
const SIMD: ModPow | undefined = simd ? { name: 'wasm-simd', ...modexpOps(main, simd) } : undefined;
/** Every modPow implementation under test: the backends as composed (the hybrid one's modPow is OpenSSL's,
 *  with WASM for the results OpenSSL refuses), and both WASM kernels. */
const IMPLS: readonly ModPow[] = [...BACKENDS, HYBRID, SCALAR, ...(SIMD ? [SIMD] : [])];

const GROUPS: readonly DhGroupName[] = ['modp3072', 'modp1536'];
const NODE_NAME: Record<DhGroupName, string> = { modp3072: 'modp15', modp1536: 'modp5' };

/** Right-to-left binary exponentiation: the textbook definition, nothing shared with the code under test. */
function plainPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

const hex = bytesToHex;
const pad = (n: bigint, g: DhGroupName) => bigToBytesBE(n, DH_GROUPS[g].bytes);

function nodeDh(g: DhGroupName) {
  return createDiffieHellman(Buffer.from(pad(DH_GROUPS[g].p, g)), 2);
}

test('RFC 3526 constants equal node:crypto modp15 and modp5', () => {
  for (const g of GROUPS) {
    const ref = getDiffieHellman(NODE_NAME[g]);
    assert.is(hex(pad(DH_GROUPS[g].p, g)), ref.getPrime('hex'), g);
    assert.is(DH_GROUPS[g].g, BigInt('0x' + ref.getGenerator('hex')), g);
    assert.is(DH_GROUPS[g].q * 2n + 1n, DH_GROUPS[g].p);
  }
});

test('small known answers: 2^3, x^0, x^1, 0^e, base >= p is reduced', () => {
  for (const b of IMPLS) {
    for (const g of GROUPS) {
      const n = DH_GROUPS[g].bytes;
      const p = DH_GROUPS[g].p;
      assert.is(hex(b.modPow(g, new Uint8Array([2]), new Uint8Array([3]))), hex(pad(8n, g)), `${b.name} ${g} 2^3`);
      assert.is(hex(b.modPow(g, new Uint8Array([7]), new Uint8Array(0))), hex(pad(1n, g)), `${b.name} empty exponent`);
      assert.is(hex(b.modPow(g, new Uint8Array(0), new Uint8Array([5]))), hex(pad(0n, g)), `${b.name} 0^5`);
      assert.is(hex(b.modPow(g, pad(p - 1n, g), new Uint8Array([1]))), hex(pad(p - 1n, g)), `${b.name} (p-1)^1`);
      assert.is(hex(b.modPow(g, pad(p - 1n, g), new Uint8Array([2]))), hex(pad(1n, g)), `${b.name} (p-1)^2`);
      assert.is(hex(b.modPow(g, pad(p, g), new Uint8Array([3]))), hex(pad(0n, g)), `${b.name} p^3`);
      assert.is(hex(b.modPow(g, pad(p + 5n, g), new Uint8Array([2]))), hex(pad(25n, g)), `${b.name} (p+5)^2`);
      const top = new Uint8Array(n).fill(0xff); // 2^(8n) - 1 >= p
      assert.is(hex(b.modPow(g, top, new Uint8Array([1]))), hex(pad((2n ** BigInt(8 * n) - 1n) % p, g)), `${b.name} all-ones`);
      assert.is(b.modPow(g, new Uint8Array([3]), new Uint8Array([1])).length, n, 'padded to the group size');
    }
  }
});

test(`modp3072, 80-byte exponents: both backends vs node:crypto (${Math.ceil(CASES / 4)} cases)`, () => {
  const rnd = seededRandom(3072);
  const dh = nodeDh('modp3072');
  const p = DH_GROUPS.modp3072.p;
  for (let i = 0; i < Math.ceil(CASES / 4); i++) {
    const exp = rnd(80);
    const x = (bytesToBigBE(rnd(384)) % (p - 3n)) + 2n; // node accepts 2 <= x <= p-2 only
    dh.setPrivateKey(Buffer.from(exp));
    const want = hex(pad(bytesToBigBE(dh.computeSecret(Buffer.from(pad(x, 'modp3072')))), 'modp3072'));
    for (const b of IMPLS) assert.is(hex(b.modPow('modp3072', pad(x, 'modp3072'), exp)), want, `${b.name} case ${i}`);
  }
});

test(`modp3072, full-size exponents and unreduced bases vs BigInt (${Math.ceil(CASES / 40)} cases)`, () => {
  const rnd = seededRandom(0xf011);
  const p = DH_GROUPS.modp3072.p;
  for (let i = 0; i < Math.ceil(CASES / 40); i++) {
    const exp = rnd(384);
    const base = rnd(384); // uniform below 2^3072, so sometimes >= p after the top byte is forced
    if (i % 4 === 0) base.fill(0xff, 0, 8);
    const want = hex(pad(plainPow(bytesToBigBE(base), bytesToBigBE(exp), p), 'modp3072'));
    for (const b of IMPLS) assert.is(hex(b.modPow('modp3072', base, exp)), want, `${b.name} case ${i}`);
  }
});

test(`modp1536, random lengths of base and exponent vs BigInt and node:crypto (${Math.ceil(CASES / 2)} cases)`, () => {
  const rnd = seededRandom(1536);
  const dh = nodeDh('modp1536');
  const p = DH_GROUPS.modp1536.p;
  for (let i = 0; i < Math.ceil(CASES / 2); i++) {
    const exp = rnd(rnd(1)[0]! % 193);
    const base = rnd(1 + (rnd(1)[0]! % 192));
    const wantBig = plainPow(bytesToBigBE(base), bytesToBigBE(exp), p);
    const want = hex(pad(wantBig, 'modp1536'));
    for (const b of IMPLS) assert.is(hex(b.modPow('modp1536', base, exp)), want, `${b.name} case ${i}`);
    // node:crypto for the values it accepts (public key in [2, p-2], secret not 0 or 1, result not 1 or p-1).
    const x = bytesToBigBE(base) % p;
    if (i % 8 === 0 && x >= 2n && x <= p - 2n && bytesToBigBE(exp) > 1n && wantBig > 1n && wantBig < p - 1n) {
      dh.setPrivateKey(Buffer.from(exp));
      assert.is(hex(dh.computeSecret(Buffer.from(pad(x, 'modp1536')))), want, `node case ${i}`);
    }
  }
});

test('exponents with leading zeros give the same result', () => {
  const rnd = seededRandom(77);
  for (const g of GROUPS) {
    const n = DH_GROUPS[g].bytes;
    for (let i = 0; i < 4; i++) {
      const base = rnd(n - 1);
      const exp = rnd(40);
      for (const b of IMPLS) {
        const want = hex(b.modPow(g, base, exp));
        for (const zeros of [1, 7, n - 40]) {
          const padded = new Uint8Array(zeros + 40);
          padded.set(exp, zeros);
          assert.is(hex(b.modPow(g, base, padded)), want, `${b.name} ${g} ${zeros} zeros`);
        }
        const paddedBase = new Uint8Array(n);
        paddedBase.set(base, 1);
        assert.is(hex(b.modPow(g, paddedBase, exp)), want, `${b.name} ${g} padded base`);
      }
    }
  }
});

test('generator powers match node:crypto public keys (both groups)', () => {
  const rnd = seededRandom(2);
  for (const g of GROUPS) {
    const dh = nodeDh(g);
    for (let i = 0; i < 8; i++) {
      const exp = rnd(80);
      dh.setPrivateKey(Buffer.from(exp));
      dh.generateKeys();
      const want = hex(pad(bytesToBigBE(dh.getPublicKey()), g));
      for (const b of IMPLS) assert.is(hex(b.modPow(g, new Uint8Array([2]), exp)), want, `${b.name} ${g} ${i}`);
    }
  }
});

function assertArgError(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, OtrArgumentError, what);
    return;
  }
  assert.unreachable(`${what}: no error`);
}

test('the size cap (group size in bytes) raises OtrArgumentError on both backends', () => {
  for (const b of IMPLS) {
    for (const g of GROUPS) {
      const n = DH_GROUPS[g].bytes;
      assertArgError(() => b.modPow(g, new Uint8Array([2]), new Uint8Array(n + 1)), `${b.name} ${g} exponent over the cap`);
      assertArgError(() => b.modPow(g, new Uint8Array(n + 1), new Uint8Array([1])), `${b.name} ${g} base over the cap`);
      assertArgError(() => b.legendre(g, new Uint8Array(n + 1)), `${b.name} ${g} legendre over the cap`);
    }
    // An inherited property name is not a group.
    assertArgError(() => b.modPow('toString' as DhGroupName, new Uint8Array([2]), new Uint8Array([1])), `${b.name} prototype key`);
  }
});

test('bad arguments raise OtrArgumentError on both backends', () => {
  for (const b of IMPLS) {
    for (const g of GROUPS) {
      const n = DH_GROUPS[g].bytes;
      // the cap itself is accepted
      assert.is(b.modPow(g, new Uint8Array(n).fill(1), new Uint8Array(n)).length, n);
    }
    assertArgError(() => b.modPow('modp2048' as DhGroupName, new Uint8Array([2]), new Uint8Array([1])), `${b.name} unknown group`);
    assertArgError(() => b.legendre('modp2048' as DhGroupName, new Uint8Array([2])), `${b.name} legendre unknown group`);
    assertArgError(() => b.modPow('modp3072', [2] as unknown as Uint8Array, new Uint8Array([1])), `${b.name} base not bytes`);
    assertArgError(() => b.modPow('modp3072', new Uint8Array([2]), 'ab' as unknown as Uint8Array), `${b.name} exp not bytes`);
    assertArgError(() => b.legendre('modp3072', null as unknown as Uint8Array), `${b.name} legendre not bytes`);
  }
});

test('legendre vs x^q by plain exponentiation on residues and non-residues (200 cases)', () => {
  const rnd = seededRandom(0x1e6);
  for (let i = 0; i < 200; i++) {
    const g: DhGroupName = i % 4 === 0 ? 'modp3072' : 'modp1536';
    const { p, q, bytes } = DH_GROUPS[g];
    const r = (bytesToBigBE(rnd(bytes)) % (p - 1n)) + 1n;
    // r^2 is a residue; -r^2 is not (p = 3 mod 4 makes -1 a non-residue). Alternate, then check by x^q.
    const x = i % 2 === 0 ? (r * r) % p : p - ((r * r) % p);
    const byPow = plainPow(x, q, p);
    const want = byPow === 1n ? 1 : byPow === p - 1n ? -1 : 0;
    assert.is(want, i % 2 === 0 ? 1 : -1, 'the construction');
    for (const b of BACKENDS) assert.is(b.legendre(g, pad(x, g)), want, `${b.name} ${g} case ${i}`);
  }
});

test(`legendre: WASM vs JS on random and edge inputs (${CASES} cases)`, () => {
  const rnd = seededRandom(99);
  for (const g of GROUPS) {
    const { p, bytes } = DH_GROUPS[g];
    const edge = [0n, 1n, 2n, 3n, 4n, p - 2n, p - 1n, p, p + 1n, p + 4n, 2n ** BigInt(8 * bytes) - 1n, 2n ** 64n, 2n ** 64n - 1n];
    for (const x of edge) assert.is(WASM.legendre(g, pad(x, g)), JS.legendre(g, pad(x, g)), `${g} edge ${x}`);
    assert.is(WASM.legendre(g, pad(0n, g)), 0);
    assert.is(WASM.legendre(g, pad(p, g)), 0);
    assert.is(WASM.legendre(g, new Uint8Array(0)), 0, 'empty = 0');
    for (let i = 0; i < Math.ceil(CASES / 2); i++) {
      const len = 1 + (rnd(1)[0]! % bytes);
      const x = rnd(len);
      if (i % 3 === 0) x.fill(0, Math.floor(len / 3), len); // long runs of zero low limbs
      assert.is(WASM.legendre(g, x), JS.legendre(g, x), `${g} case ${i}`);
    }
  }
});

function wasmMemory(b: CryptoBackend): Uint8Array {
  const ctx = (b as unknown as { context: { exports: { memory: WebAssembly.Memory } } }).context;
  return new Uint8Array(ctx.exports.memory.buffer);
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    if (hay[i] !== needle[0]) continue;
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

test('WASM leaves no copy of the exponent or the result in its memory', () => {
  const rnd = seededRandom(5);
  const exp = rnd(80);
  const base = rnd(384);
  const out = WASM.modPow('modp3072', base, exp);
  const mem = wasmMemory(WASM);
  assert.not.ok(contains(mem, exp.subarray(0, 16)), 'exponent bytes remain');
  assert.not.ok(contains(mem, out.subarray(100, 116)), 'result bytes remain');
});

test('10^4 calls leave the WASM memory size unchanged', () => {
  const before = wasmMemory(WASM).length;
  const rnd = seededRandom(6);
  for (let i = 0; i < 10_000; i++) {
    if (i % 2 === 0) WASM.modPow('modp1536', rnd(24), rnd(2));
    else WASM.legendre(i % 3 === 0 ? 'modp3072' : 'modp1536', rnd(48));
  }
  assert.is(wasmMemory(WASM).length, before);
});

test('errors are OtrErrors, never bare TypeError/RangeError, for hostile argument shapes', () => {
  const hostile: unknown[] = [undefined, null, 3, 'x', {}, new Uint16Array(4), new ArrayBuffer(4)];
  for (const b of IMPLS) {
    for (const h of hostile) {
      for (const call of [
        () => b.modPow('modp3072', h as Uint8Array, new Uint8Array([1])),
        () => b.modPow('modp3072', new Uint8Array([2]), h as Uint8Array),
        () => b.legendre('modp1536', h as Uint8Array),
      ]) {
        try {
          call();
          assert.unreachable('accepted a non-Uint8Array');
        } catch (e) {
          assert.instance(e, OtrError, `${b.name} ${String(h)}`);
        }
      }
    }
  }
});

test('Node validates WebAssembly SIMD, so the SIMD modexp kernel is built and tested', () => {
  assert.ok(SIMD, 'no SIMD context');
});

test('the base 2 (the SIMD kernel\'s generator path) on edge exponents matches 2^e by BigInt and the generic path', () => {
  const rnd = seededRandom(0x2222);
  for (const g of GROUPS) {
    const { p, bytes: n } = DH_GROUPS[g];
    const exps: Uint8Array[] = [
      new Uint8Array(n).fill(0xff), // every window 31: the largest scale and quotient
      new Uint8Array([1]),
      new Uint8Array([0x80]),
      new Uint8Array(80).fill(0xff),
      new Uint8Array(80), // zero exponent of public length 80
      Uint8Array.of(0x80, ...new Uint8Array(79)),
      ...Array.from({ length: 12 }, (_, i) => rnd(1 + ((i * 37) % n))),
    ];
    for (const e of exps) {
      const want = hex(pad(plainPow(2n, bytesToBigBE(e), p), g));
      for (const b of IMPLS) {
        assert.is(hex(b.modPow(g, new Uint8Array([2]), e)), want, `${b.name} ${g} 2^e, |e| = ${e.length}`);
        assert.is(hex(b.modPow(g, pad(2n, g), e)), want, `${b.name} ${g} padded 2`);
        assert.is(hex(b.modPow(g, pad(p + 2n, g), e)), want, `${b.name} ${g} p + 2 takes the generic path`);
      }
    }
  }
});

// The SIMD kernel keeps numbers as balanced (signed) radix-2^23 digits: these bases put every 23-bit limb at
// the edges of the digit range (2^22 - 1, 2^22, 2^22 + 1, 2^23 - 1), where the conversion carries, and the
// exponents make the intermediate values cross zero (negative digit strings) many times.
test('the SIMD kernel on bases at the balanced-digit edges and edge exponents vs BigInt', () => {
  const rnd = seededRandom(0x2323);
  const limbsOf = (v: bigint, bits: number): bigint => {
    let x = 0n;
    for (let k = 0; k * 23 < bits; k++) x |= v << BigInt(23 * k);
    return x;
  };
  for (const g of GROUPS) {
    const { p, bytes: n } = DH_GROUPS[g];
    const bits = 8 * n;
    const top = 2n ** BigInt(bits) - 1n;
    const bases = [
      ...[2n ** 22n - 1n, 2n ** 22n, 2n ** 22n + 1n, 2n ** 23n - 1n].map((v) => limbsOf(v, bits) & top),
      p - 1n, p - 2n, p + 1n, top, (p - 1n) / 2n, (p + 1n) / 2n, 2n ** BigInt(bits - 1), 3n,
    ];
    const exps: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array([1]),
      new Uint8Array(80).fill(0xff),
      Uint8Array.of(0x80, ...new Uint8Array(79)),
      new Uint8Array(n).fill(0xff),
      rnd(80),
      rnd(n),
    ];
    for (const b of bases) {
      for (const e of exps) {
        const want = hex(pad(plainPow(b, bytesToBigBE(e), p), g));
        for (const impl of [SCALAR, ...(SIMD ? [SIMD] : [])]) {
          assert.is(hex(impl.modPow(g, pad(b, g), e)), want, `${impl.name} ${g} base ${b.toString(16).slice(0, 12)}.. |e| = ${e.length}`);
        }
      }
    }
  }
});

function moduleMemory(ctx: WasmContext): Uint8Array {
  return new Uint8Array((ctx.exports.memory as WebAssembly.Memory).buffer);
}

test('neither module leaves a copy of the exponent or the result in its memory (SIMD: both paths)', () => {
  const rnd = seededRandom(55);
  const cases: [ModPow, WasmContext][] = [[SCALAR, main], ...(SIMD && simd ? [[SIMD, simd] as [ModPow, WasmContext]] : [])];
  for (const [impl, ctx] of cases) {
    for (const base of [rnd(384), new Uint8Array([2])]) {
      const exp = rnd(80);
      const out = impl.modPow('modp3072', base, exp);
      const mem = moduleMemory(ctx);
      assert.not.ok(contains(mem, exp.subarray(0, 16)), `${impl.name}: exponent bytes remain`);
      assert.not.ok(contains(mem, out.subarray(100, 116)), `${impl.name}: result bytes remain`);
    }
  }
});

test('10^3 SIMD calls leave the SIMD module\'s memory size unchanged', () => {
  if (!simd || !SIMD) return;
  const before = moduleMemory(simd).length;
  const rnd = seededRandom(8);
  for (let i = 0; i < 1000; i++) SIMD.modPow(i % 2 ? 'modp1536' : 'modp3072', i % 3 ? rnd(24) : new Uint8Array([2]), rnd(2));
  assert.is(moduleMemory(simd).length, before);
});

test('the SIMD module refuses moduli its reduction does not handle (p != -1 mod 2^46) and bad sizes', () => {
  if (!simd) return;
  const ex = simd.exports as Record<string, (...a: number[]) => number>;
  const mem = moduleMemory(simd);
  const setup = (p: bigint, n: number, slot = 1): number => {
    mem.set(bigToBytesBE(p, n), simd.io);
    const r = ex.modexp_setup!(slot, n);
    mem.fill(0, simd.io, simd.io + n);
    return r;
  };
  const p = DH_GROUPS.modp1536.p;
  assert.is(setup(p - 2n ** 21n, 192), 0, 'p - 2^21 (bit 21 clear)');
  assert.is(setup(p - 2n, 192), 0, 'p - 2 (odd, but = -3 mod 2^22)');
  assert.is(setup(p - 2n ** 40n, 192), 0, 'p - 2^40 (-1 mod 2^23, but not mod 2^46)');
  assert.is(setup(p, 192, 2), 0, 'slot out of range');
  assert.is(setup(p, 200), 0, 'size not a multiple of 8');
  assert.is(ex.modexp_bytes!(1), 0, 'a refused modulus leaves the slot unset');
  assert.is(ex.modexp_pow!(1, 1), 0, 'an unset slot computes nothing');
  assert.is(setup(p, 192), 1, 'the RFC 3526 prime itself');
  // The module still computes in slot 1 after the refusals.
  const e = seededRandom(9)(40);
  assert.is(hex(SIMD!.modPow('modp1536', new Uint8Array([3]), e)), hex(pad(plainPow(3n, bytesToBigBE(e), p), 'modp1536')));
});

test.run();
