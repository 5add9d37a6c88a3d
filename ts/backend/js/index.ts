/**
 * The pure-JS backend: @noble/curves (Ed448), @noble/hashes (SHAKE-256), @noble/ciphers (ChaCha20) and
 * BigInt for the MODP groups. It is the fallback where WebAssembly is missing, and the second, independent
 * implementation every WASM routine is cross-checked against. BigInt arithmetic is not constant time; the
 * README says so, and hosts that care select the WASM backend (the default).
 */
import { ed448 } from '@noble/curves/ed448.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { chacha20 } from '@noble/ciphers/chacha.js';
import type { CryptoBackend } from '../types.js';
import { checkLegendreArg, checkModPowArgs } from '../../crypto/dh-groups.js';
import { abytes, bigToBytesBE, bigToBytesLE, bytesToBigBE, bytesToBigLE } from '../../bytes.js';
import { OtrArgumentError, OtrCryptoError } from '../../errors.js';
import { jacobi, modPowBig } from './bigint-math.js';
import { checkChachaArgs, checkOutLen } from '../checks.js';

const Point = ed448.Point;
type Pt = InstanceType<typeof Point>;
const Q: bigint = Point.Fn.ORDER;

function decode(p: Uint8Array, title = 'point'): Pt {
  abytes(p, 57, title);
  try {
    return Point.fromBytes(p);
  } catch {
    throw new OtrCryptoError('INVALID_POINT', `${title} is not a valid Ed448 point encoding`);
  }
}

function scalar(k: Uint8Array, title = 'scalar'): bigint {
  abytes(k, 57, title);
  return bytesToBigLE(k) % Q;
}

const enc = (p: Pt): Uint8Array => p.toBytes();
const encScalar = (n: bigint): Uint8Array => bigToBytesLE(n, 57);

function mulCT(p: Pt, k: bigint): Pt {
  return k === 0n ? Point.ZERO : p.multiply(k);
}

export function createJsBackend(): CryptoBackend {
  return {
    name: 'js',

    shake256(parts, outLen) {
      checkOutLen(outLen);
      const h = shake256.create({ dkLen: outLen });
      for (const part of parts) h.update(abytes(part, undefined, 'shake256 input'));
      return outLen === 0 ? new Uint8Array(0) : h.digest();
    },

    chacha20(key, nonce, data, counter = 0, out) {
      checkChachaArgs(key, nonce, data, counter, out);
      if (data.length === 0) return out ?? new Uint8Array(0);
      return chacha20(key, nonce, data, out, counter);
    },

    pointDecodes(p) {
      abytes(p, 57, 'point');
      try {
        Point.fromBytes(p);
        return true;
      } catch {
        return false;
      }
    },

    pointIsValid(p) {
      abytes(p, 57, 'point');
      let P: Pt;
      try {
        P = Point.fromBytes(p);
      } catch {
        return false;
      }
      return !P.is0() && P.isTorsionFree();
    },

    pointMulBase(k) {
      return enc(mulCT(Point.BASE, scalar(k)));
    },

    pointMul(p, k) {
      const kk = scalar(k);
      return enc(mulCT(decode(p), kk));
    },

    pointDoubleMulBase(a, p, b) {
      const aa = scalar(a, 'a');
      const bb = scalar(b, 'b');
      const P = decode(p);
      return enc(Point.BASE.multiplyUnsafe(aa).add(P.multiplyUnsafe(bb)));
    },

    pointDoubleMulBaseCT(a, p, b) {
      const aa = scalar(a, 'a');
      const bb = scalar(b, 'b');
      const P = decode(p);
      return enc(mulCT(Point.BASE, aa).add(mulCT(P, bb)));
    },

    pointAdd(p, q) {
      return enc(decode(p, 'p').add(decode(q, 'q')));
    },

    scalarReduce(x) {
      abytes(x, undefined, 'scalar input');
      if (x.length > 114) throw new OtrArgumentError('scalarReduce takes at most 114 bytes');
      return encScalar(bytesToBigLE(x) % Q);
    },

    scalarMulAdd(a, b, c) {
      abytes(a, 57, 'a');
      abytes(b, 57, 'b');
      abytes(c, 57, 'c');
      return encScalar((bytesToBigLE(a) * bytesToBigLE(b) + bytesToBigLE(c)) % Q);
    },

    modPow(group, base, exp) {
      const g = checkModPowArgs(group, base, exp);
      return bigToBytesBE(modPowBig(bytesToBigBE(base), bytesToBigBE(exp), g.p), g.bytes); // modPowBig reduces the base
    },

    legendre(group, x) {
      const g = checkLegendreArg(group, x);
      return jacobi(bytesToBigBE(x), g.p);
    },
  };
}
