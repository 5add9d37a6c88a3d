/**
 * Ed448 group operations.
 *   ed448.varmult   P·k through the backend API (decode P, reduce k, multiply, encode); noble = Point.multiply on
 *                   an already decoded point (no codec); native = an X448 shared secret in OpenSSL
 *                   (crypto.diffieHellman on KeyObjects: the same field and a 448-step ladder, plus its codec).
 *   ed448.basemult  G·k (reduce, multiply, encode); noble = Point.BASE.multiply (precomputed windows);
 *                   native = OpenSSL deriving an Ed448 public key from a raw private key
 *                   (createPrivateKey(PKCS#8) + createPublicKey: DER parsing, SHAKE-256, G·s, encoding).
 *   ed448.decode    RFC 8032 point decoding (square root and checks); noble = Point.fromBytes.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { ed448 } from '@noble/curves/ed448.js';
import type { BenchCase, BenchContext } from '../harness.js';

const Point = ed448.Point;

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 73 + seed * 151 + 11) & 0xff);
}

function leToBig(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

export function cases(ctx: BenchContext): BenchCase[] {
  const k = bytes(57, 1);
  const kq = leToBig(k) % Point.Fn.ORDER;
  const pt = ctx.js.pointMulBase(bytes(57, 2));
  const ptNoble = Point.fromBytes(pt);

  const alice = generateKeyPairSync('x448');
  const bob = generateKeyPairSync('x448');
  const pkcs8 = Buffer.concat([Buffer.from('3047020100300506032b6571043b0439', 'hex'), bytes(57, 3)]);

  return [
    { name: 'ed448.varmult', impl: 'wasm', fn: () => ctx.wasm.pointMul(pt, k) },
    { name: 'ed448.varmult', impl: 'js', fn: () => ctx.js.pointMul(pt, k) },
    { name: 'ed448.varmult', impl: 'noble', fn: () => ptNoble.multiply(kq) },
    { name: 'ed448.varmult', impl: 'native', fn: () => diffieHellman({ privateKey: alice.privateKey, publicKey: bob.publicKey }) },

    { name: 'ed448.basemult', impl: 'wasm', fn: () => ctx.wasm.pointMulBase(k) },
    { name: 'ed448.basemult', impl: 'js', fn: () => ctx.js.pointMulBase(k) },
    { name: 'ed448.basemult', impl: 'noble', fn: () => Point.BASE.multiply(kq) },
    {
      name: 'ed448.basemult',
      impl: 'native',
      fn: () => createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })),
    },

    { name: 'ed448.decode', impl: 'wasm', fn: () => ctx.wasm.pointDecodes(pt) },
    { name: 'ed448.decode', impl: 'js', fn: () => ctx.js.pointDecodes(pt) },
    { name: 'ed448.decode', impl: 'noble', fn: () => Point.fromBytes(pt) },
  ];
}
