/**
 * A backend that counts its expensive primitives, for the cost attack suites (test/attacks/s13-dos-*): what
 * one hostile input costs is asserted as a number of exponentiations, scalar multiplications and Keccak
 * bytes, never as a time (timing belongs to the benches). Every call goes through to the wrapped backend
 * unchanged; only the counters move.
 *
 * What is counted, and why these: they are what a message can make us compute before anything refuses it.
 *   modPow3072 / modPow1536   one exponentiation in the group (OTRv4 DH, prekey proofs / OTRv3 AKE, data, SMP)
 *   modPowExpBits             the summed bit length of those exponents (a 1536-bit exponent costs ~2.4 of a 640-bit one)
 *   legendre                  the DH group-membership check (a Legendre symbol, far cheaper than modPow)
 *   ed448Mul                  variable-base or fixed-base Ed448 scalar multiplications, a subgroup check
 *                             (pointIsValid) counted as one, a double multiplication as one, a fused ring
 *                             commitment as one per ring member
 *   keccakBytes               bytes absorbed by SHAKE-256 (and the fused ratchet calls, counted by their input)
 */
import type { CryptoBackend, DhGroupName } from '../../ts/backend/types.js';

export interface Costs {
  modPow3072: number;
  modPow1536: number;
  modPowExpBits: number;
  legendre: number;
  ed448Mul: number;
  keccakBytes: number;
}

export const zeroCosts = (): Costs => ({ modPow3072: 0, modPow1536: 0, modPowExpBits: 0, legendre: 0, ed448Mul: 0, keccakBytes: 0 });

export interface CountingBackend {
  readonly backend: CryptoBackend;
  readonly costs: Costs;
  /** Zeroes the counters. */
  reset(): void;
  /** The counters spent by `fn` alone. */
  measure<T>(fn: () => T): { result: T; costs: Costs };
}

function bitLength(e: Uint8Array): number {
  for (let i = 0; i < e.length; i++) if (e[i] !== 0) return (e.length - i - 1) * 8 + (32 - Math.clz32(e[i]!));
  return 0;
}

/** `inner` with every expensive primitive counted. Optional fused calls are kept only where `inner` has them. */
export function countingBackend(inner: CryptoBackend): CountingBackend {
  const costs = zeroCosts();
  const ed = (n = 1) => {
    costs.ed448Mul += n;
  };
  const wrapped: CryptoBackend = Object.create(inner);
  Object.assign(wrapped, {
    shake256: (parts: readonly Uint8Array[], outLen: number) => {
      for (const p of parts) costs.keccakBytes += p.length;
      return inner.shake256(parts, outLen);
    },
    pointIsValid: (p: Uint8Array) => (ed(), inner.pointIsValid(p)),
    pointMulBase: (k: Uint8Array) => (ed(), inner.pointMulBase(k)),
    pointMul: (p: Uint8Array, k: Uint8Array) => (ed(), inner.pointMul(p, k)),
    pointDoubleMulBase: (a: Uint8Array, p: Uint8Array, b: Uint8Array) => (ed(), inner.pointDoubleMulBase(a, p, b)),
    pointDoubleMulBaseCT: (a: Uint8Array, p: Uint8Array, b: Uint8Array) => (ed(), inner.pointDoubleMulBaseCT(a, p, b)),
    modPow: (g: DhGroupName, base: Uint8Array, exp: Uint8Array) => {
      if (g === 'modp3072') costs.modPow3072++;
      else costs.modPow1536++;
      costs.modPowExpBits += bitLength(exp);
      return inner.modPow(g, base, exp);
    },
    legendre: (g: DhGroupName, x: Uint8Array) => (costs.legendre++, inner.legendre(g, x)),
  });
  const fused: Partial<CryptoBackend> = {};
  if (inner.pointMulValid) fused.pointMulValid = (p, k) => (ed(2), inner.pointMulValid!(p, k));
  if (inner.ringSignCommitments) fused.ringSignCommitments = (args) => (ed(args.ring.length), inner.ringSignCommitments!(args));
  if (inner.ringVerifyCommitments) fused.ringVerifyCommitments = (ring, c, r, v) => (ed(ring.length * (v ? 2 : 1)), inner.ringVerifyCommitments!(ring, c, r, v));
  if (inner.ed448VerifyValidKey) fused.ed448VerifyValidKey = (k, m, s) => (ed(), (costs.keccakBytes += m.length), inner.ed448VerifyValidKey!(k, m, s));
  if (inner.ratchetMessageKeys) fused.ratchetMessageKeys = (ck) => ((costs.keccakBytes += 3 * ck.length), inner.ratchetMessageKeys!(ck));
  // The fused data-message calls refuse sizes they do not take (undefined): the caller then composes shake256
  // calls, counted there, so only a call that did the work counts here.
  const counted = <T>(bytes: number, r: T): T => {
    if (r !== undefined) costs.keccakBytes += bytes;
    return r;
  };
  if (inner.sealDataMessage) fused.sealDataMessage = (ck, auth, pt, into) => counted(3 * ck.length + auth.length, inner.sealDataMessage!(ck, auth, pt, into));
  if (inner.openDataMessage) fused.openDataMessage = (ck, auth, n, tag, into) => counted(3 * ck.length + auth.length, inner.openDataMessage!(ck, auth, n, tag, into));
  Object.assign(wrapped, fused);
  const reset = () => Object.assign(costs, zeroCosts());
  return {
    backend: wrapped,
    costs,
    reset,
    measure<T>(fn: () => T) {
      const before = { ...costs };
      const result = fn();
      const spent = zeroCosts();
      for (const k of Object.keys(spent) as (keyof Costs)[]) spent[k] = costs[k] - before[k];
      return { result, costs: spent };
    },
  };
}
