/**
 * Review of session 6's Legendre by division steps (assembly/jacobi.ts behind ts/backend/wasm/modexp.ts): when
 * the steps do not converge within their cap (jacobi_var answers 2: never seen, so forced here through a
 * module whose jacobi_var always gives up), the adapter must take the binary algorithm's answer — the same
 * symbol for residues, non-residues, 0 — and leave no input in the module's I/O region.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { DH_GROUPS } from '../../ts/crypto/dh-groups.js';
import { bigToBytesBE, bytesToBigBE } from '../../ts/bytes.js';
import { modexpOps } from '../../ts/backend/wasm/modexp.js';
import type { DhGroupName } from '../../ts/backend/types.js';
import type { WasmContext } from '../../ts/backend/wasm/context.js';

const ctx = (WASM as unknown as { context: WasmContext }).context;

test('safe: a division-step run that gives up (2) falls back to the binary algorithm, same answers, I/O cleared', () => {
  let gaveUp = 0;
  const exports = Object.create(ctx.exports, {
    jacobi_var: { value: (n: number) => (gaveUp++, (ctx.exports.jacobi_var as (n: number) => number)(n), 2) },
  });
  const stubborn = { ...ctx, exports } as WasmContext;
  const ops = modexpOps(stubborn);
  const rnd = seededRandom(77);
  for (const g of ['modp3072', 'modp1536'] as DhGroupName[]) {
    const { p, bytes } = DH_GROUPS[g];
    for (let i = 0; i < 12; i++) {
      const x0 = bytesToBigBE(rnd(bytes)) % p;
      const x = i % 3 === 0 ? (x0 * x0) % p : i % 3 === 1 ? p - ((x0 * x0) % p) : x0;
      if (x < 2n || x > p - 2n) continue;
      const xb = bigToBytesBE(x, bytes);
      const want = WASM.legendre(g, xb);
      assert.is(ops.legendre(g, xb), want, `${g} #${i}`);
      if (i % 3 === 0) assert.is(want, 1, 'a square is a residue');
      if (i % 3 === 1) assert.is(want, -1, 'minus a square is not (p ≡ 3 mod 4)');
      assert.ok(ctx.mem.subarray(ctx.io, ctx.io + 2 * bytes).every((b) => b === 0), 'an input left in the I/O region');
    }
  }
  assert.ok(gaveUp > 0, 'the fallback path ran');
});

test.run();
