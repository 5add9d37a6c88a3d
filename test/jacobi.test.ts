/**
 * assembly/jacobi.ts (division steps in batches of 30), which the WASM and hybrid backends' `legendre` runs
 * first, called directly so a broken batch cannot hide behind the binary algorithm it falls back to: it must
 * answer (never "2, not converged") and agree with the binary algorithm (assembly/modexp.ts
 * modexp_legendre) and with Euler's criterion, on random values of every length, structured values (long
 * runs of zero or one bits, powers of two, around p and 2^(8·bytes)) and values at or above p.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { DH_GROUPS } from '../ts/crypto/dh-groups.js';
import { bigToBytesBE, bytesToBigBE } from '../ts/bytes.js';
import type { DhGroupName } from '../ts/backend/types.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';

const ctx = (WASM as unknown as { context: WasmContext }).context;
const SLOT: Record<DhGroupName, number> = { modp3072: 0, modp1536: 1 };

function divsteps(g: DhGroupName, x: bigint): number {
  const { p, bytes } = DH_GROUPS[g];
  ctx.mem.set(bigToBytesBE(x, bytes), ctx.io);
  ctx.mem.set(bigToBytesBE(p, bytes), ctx.io + bytes);
  const r = ctx.exports.jacobi_var(bytes) as number;
  assert.equal(ctx.mem.subarray(ctx.io, ctx.io + 2 * bytes).some((v) => v !== 0), true, 'inputs left for the caller to clear');
  ctx.mem.fill(0, ctx.io, ctx.io + 2 * bytes);
  return r;
}

function binary(g: DhGroupName, x: bigint): number {
  const { p, bytes } = DH_GROUPS[g];
  ctx.mem.set(bigToBytesBE(p, bytes), ctx.io);
  assert.is(ctx.exports.modexp_setup(SLOT[g], bytes), 1);
  ctx.mem.set(bigToBytesBE(x, bytes), ctx.io);
  const r = ctx.exports.modexp_legendre(SLOT[g]) as number;
  ctx.mem.fill(0, ctx.io, ctx.io + bytes);
  return r;
}

function euler(g: DhGroupName, x: bigint): number {
  const { p, q } = DH_GROUPS[g];
  let r = 1n;
  let b = x % p;
  for (let e = q; e > 0n; e >>= 1n, b = (b * b) % p) if (e & 1n) r = (r * b) % p;
  return r === 1n ? 1 : r === p - 1n ? -1 : 0;
}

for (const g of ['modp3072', 'modp1536'] as const) {
  const { p, bytes } = DH_GROUPS[g];
  const top = 2n ** BigInt(8 * bytes);

  test(`${g}: structured values`, () => {
    const xs = [0n, 1n, 2n, 3n, 4n, 5n, p - 2n, p - 1n, p, p + 1n, p + 2n, top - 1n, top - 2n, 2n ** 64n, 2n ** 64n - 1n];
    for (let k = 1n; k < BigInt(8 * bytes); k += 61n) xs.push(2n ** k, 2n ** k - 1n, p - 2n ** k, (2n ** k) * 3n + 1n);
    for (const x of xs) {
      const want = euler(g, x);
      assert.is(divsteps(g, x), want, `x = ${x.toString(16)}`);
      assert.is(binary(g, x), want, `binary, x = ${x.toString(16)}`);
    }
  });

  test(`${g}: random values of every length, residues and non-residues`, () => {
    const rnd = seededRandom(bytes);
    let minus = 0;
    for (let i = 0; i < 120; i++) {
      const len = 1 + (rnd(2)[0]! % bytes);
      let x = bytesToBigBE(rnd(len));
      if (i % 4 === 1) x = (x * x) % p; // a residue
      if (i % 4 === 2) x = p - ((x * x) % p) || 1n; // a non-residue (p ≡ 3 mod 4), unless x ≡ 0
      const want = i % 8 === 0 ? euler(g, x) : binary(g, x);
      const got = divsteps(g, x);
      assert.is(got, want, `case ${i}`);
      if (got === -1) minus++;
    }
    assert.ok(minus > 20, `non-residues were covered (${minus})`);
  });
}

test('WASM legendre (what the backends call) takes the division-step answer', () => {
  const { p, bytes } = DH_GROUPS.modp3072;
  const rnd = seededRandom(7);
  for (let i = 0; i < 20; i++) {
    const x = bytesToBigBE(rnd(bytes)) % p;
    assert.is(WASM.legendre('modp3072', bigToBytesBE(x, bytes)), divsteps('modp3072', x));
  }
});

test('jacobi_var refuses sizes it does not take', () => {
  assert.is(ctx.exports.jacobi_var(0), 2);
  assert.is(ctx.exports.jacobi_var(385), 2);
});

test.run();
