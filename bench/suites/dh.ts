/**
 * OTRv4 DH in the 3072-bit group (80-byte secrets), through ts/crypto/dh.ts on each backend, against
 * node:crypto's DiffieHellman (OpenSSL) with the same prime:
 * (impl 'hybrid': the same ts/crypto/dh.ts calls on the hybrid backend, whose modPow is OpenSSL's)
 *   dh3072.keygen    dhKeyPair            | setPrivateKey + generateKeys
 *   dh3072.shared    dhSharedSecret       | computeSecret (ours includes the public-value check; OpenSSL's
 *                                           checks only the range)
 *   dh3072.validate  dhIsValidPublic on WASM (Legendre symbol) | impl 'js': the spec's x^q by BigInt
 *   dh3072.validate.jacobi  the same check on the WASM and on the JS backend (BigInt Jacobi)
 *   dh3072.{keygen,shared}.{simd,scalar}  the same operations with modPow pinned to one WASM kernel (the
 *                    f64x2 one in the SIMD module, or the scalar one in the main module, which runtimes
 *                    without SIMD use), each beside OpenSSL; the plain names use the WASM backend as composed.
 */
import { createDiffieHellman } from 'node:crypto';
import type { BenchCase, BenchContext } from '../harness.js';
import { DH_GROUPS } from '../../ts/crypto/dh-groups.js';
import { dhIsValidPublic, dhKeyPair, dhSharedSecret } from '../../ts/crypto/dh.js';
import { modPowBig } from '../../ts/backend/js/bigint-math.js';
import { bigToBytesBE, bytesToBigBE } from '../../ts/bytes.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import type { WasmContext } from '../../ts/backend/wasm/context.js';
import { modexpOps } from '../../ts/backend/wasm/modexp.js';

function stream(seed: number): (n: number) => Uint8Array {
  let x = seed;
  return (n) => Uint8Array.from({ length: n }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
}

export function cases(ctx: BenchContext): BenchCase[] {
  const g = DH_GROUPS.modp3072;
  const rnd = stream(7);
  const ours = dhKeyPair(ctx.js, rnd);
  const theirs = dhKeyPair(ctx.js, rnd);
  const native = createDiffieHellman(Buffer.from(bigToBytesBE(g.p, g.bytes)), 2);
  native.setPrivateKey(Buffer.from(ours.secret));
  const theirPub = Buffer.from(theirs.public);
  const theirBig = bytesToBigBE(theirs.public);
  const newNative = () => {
    const d = createDiffieHellman(Buffer.from(bigToBytesBE(g.p, g.bytes)), 2);
    d.setPrivateKey(Buffer.from(rnd(80)));
    return d.generateKeys();
  };
  // The WASM backend with modPow pinned to one kernel (the SIMD one only where the runtime validates it).
  const w = ctx.wasm as CryptoBackend & { context: WasmContext; simdContext?: WasmContext };
  const kernels: [string, CryptoBackend][] = [['scalar', { ...w, ...modexpOps(w.context) }]];
  if (w.simdContext) kernels.unshift(['simd', { ...w, ...modexpOps(w.context, w.simdContext) }]);
  const pinned = kernels.flatMap(([k, b]): BenchCase[] => [
    { name: `dh3072.keygen.${k}`, impl: 'wasm', fn: () => dhKeyPair(b, rnd) },
    { name: `dh3072.keygen.${k}`, impl: 'native', fn: newNative },
    { name: `dh3072.shared.${k}`, impl: 'wasm', fn: () => dhSharedSecret(b, ours.secret, theirs.public) },
    { name: `dh3072.shared.${k}`, impl: 'native', fn: () => native.computeSecret(theirPub) },
  ]);
  const h = ctx.hybrid;
  const hybrid: BenchCase[] = h
    ? [
        { name: 'dh3072.keygen', impl: 'hybrid', fn: () => dhKeyPair(h, rnd) },
        { name: 'dh3072.shared', impl: 'hybrid', fn: () => dhSharedSecret(h, ours.secret, theirs.public) },
      ]
    : [];
  return [
    ...hybrid,
    { name: 'dh3072.keygen', impl: 'wasm', fn: () => dhKeyPair(ctx.wasm, rnd) },
    { name: 'dh3072.keygen', impl: 'js', fn: () => dhKeyPair(ctx.js, rnd) },
    { name: 'dh3072.keygen', impl: 'native', fn: newNative },
    { name: 'dh3072.shared', impl: 'wasm', fn: () => dhSharedSecret(ctx.wasm, ours.secret, theirs.public) },
    { name: 'dh3072.shared', impl: 'js', fn: () => dhSharedSecret(ctx.js, ours.secret, theirs.public) },
    { name: 'dh3072.shared', impl: 'native', fn: () => native.computeSecret(theirPub) },
    { name: 'dh3072.validate', impl: 'wasm', fn: () => dhIsValidPublic(ctx.wasm, theirs.public) },
    { name: 'dh3072.validate', impl: 'js', fn: () => theirBig >= 2n && theirBig <= g.p - 2n && modPowBig(theirBig, g.q, g.p) === 1n },
    { name: 'dh3072.validate.jacobi', impl: 'wasm', fn: () => dhIsValidPublic(ctx.wasm, theirs.public) },
    { name: 'dh3072.validate.jacobi', impl: 'js', fn: () => dhIsValidPublic(ctx.js, theirs.public) },
    ...pinned,
  ];
}
