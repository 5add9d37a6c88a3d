/**
 * WASM adapter for assembly/modexp.ts: modPow and legendre in the RFC 3526 groups. Where the runtime
 * validates WebAssembly SIMD, modPow runs in the SIMD module instead (assembly/simd/modexp.ts: the same
 * exports over f64x2 Montgomery arithmetic, ~2x faster); legendre always runs in the main module, by
 * division steps (assembly/jacobi.ts) with the binary algorithm of assembly/modexp.ts behind it.
 *
 * Each group gets a slot in the module, set up on first use (its Montgomery constants take ~1 ms to derive).
 * Numbers cross the boundary big-endian, left-padded to the group size; the exponent keeps its own length,
 * which is public (only its value is secret). Argument checks are the shared ones in ts/crypto/dh.ts
 * (`checkModPowArgs`, `checkLegendreArg`: at most the group size in bytes), so both backends can reject the
 * same inputs with the same error.
 */
import type { CryptoBackend, DhGroupName } from '../types.js';
import type { WasmContext } from './context.js';
import { clear, put, take } from './context.js';
import { checkLegendreArg, checkModPowArgs, dhGroup } from '../../crypto/dh-groups.js';
import { bigToBytesBE } from '../../bytes.js';
import { OtrError } from '../../errors.js';

const SLOT: Record<DhGroupName, number> = { modp3072: 0, modp1536: 1 };

/** A module's group slots, each set up on first use. */
function slots(ctx: WasmContext): (name: DhGroupName) => { slot: number; n: number } {
  const ready = new Set<number>();
  return (name) => {
    const g = dhGroup(name);
    const slot = SLOT[name];
    if (!ready.has(slot)) {
      put(ctx, ctx.io, bigToBytesBE(g.p, g.bytes));
      if (ctx.exports.modexp_setup(slot, g.bytes) !== 1) throw new OtrError('BACKEND', `wasm modexp rejected group ${name}`);
      clear(ctx, ctx.io, g.bytes);
      ready.add(slot);
    }
    return { slot, n: g.bytes };
  };
}

/** Each group's p, big-endian at its full size (public), made once. */
const MODULI = new Map<DhGroupName, Uint8Array>();
function modulusBytes(name: DhGroupName): Uint8Array {
  let m = MODULI.get(name);
  if (!m) {
    const g = dhGroup(name);
    MODULI.set(name, (m = bigToBytesBE(g.p, g.bytes)));
  }
  return m;
}

/** Writes x right-aligned into n bytes at `at` (zero-padded on the left). */
function putPadded(ctx: WasmContext, x: Uint8Array, n: number, at: number): void {
  clear(ctx, at, n - x.length);
  put(ctx, at + n - x.length, x);
}

/** `simd`: the SIMD module's context, where the runtime validates it (modPow then runs there). */
export function modexpOps(ctx: WasmContext, simd?: WasmContext): Pick<CryptoBackend, 'modPow' | 'legendre'> {
  const pc = simd ?? ctx;
  const powSlot = slots(pc);
  const legendreSlot = simd ? slots(ctx) : powSlot;

  return {
    modPow(group, base, exp) {
      checkModPowArgs(group, base, exp);
      const { slot, n } = powSlot(group);
      putPadded(pc, base, n, pc.io);
      put(pc, pc.io + n, exp);
      try {
        if (pc.exports.modexp_pow(slot, exp.length) !== 1) throw new OtrError('BACKEND', 'wasm modexp_pow failed');
        return take(pc, pc.io, n);
      } finally {
        // The module wipes its copy of the exponent and its scratch; the result may be a shared secret.
        clear(pc, pc.io, n + exp.length);
      }
    },

    legendre(group, x) {
      checkLegendreArg(group, x);
      const g = dhGroup(group);
      const n = g.bytes;
      // assembly/jacobi.ts (division steps in batches of 30): x and p side by side. It answers 2 only if it
      // has not converged within its cap (never seen); the binary algorithm then decides.
      putPadded(ctx, x, n, ctx.io);
      put(ctx, ctx.io + n, modulusBytes(group));
      let r = ctx.exports.jacobi_var(n) as number;
      clear(ctx, ctx.io, 2 * n);
      if (r === 2) {
        const { slot } = legendreSlot(group);
        putPadded(ctx, x, n, ctx.io);
        r = ctx.exports.modexp_legendre(slot) as number;
        clear(ctx, ctx.io, n);
      }
      if (r !== 1 && r !== 0 && r !== -1) throw new OtrError('BACKEND', 'wasm modexp_legendre failed');
      return r;
    },
  };
}
