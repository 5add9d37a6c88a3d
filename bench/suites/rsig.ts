/**
 * The OTRv4 ring signature over a ~300-byte DAKE transcript, signer in the middle slot, on each backend
 * (no independent implementation exists to compare with). Signing draws from a fixed deterministic stream
 * so that runs are comparable.
 */
import type { BenchCase, BenchContext } from '../harness.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import { ecdhKeyPairFromRandom } from '../../ts/crypto/ecdh.js';
import { ringSign, ringVerify, type Ring } from '../../ts/crypto/ring-sig.js';

function counterRandom(): (n: number) => Uint8Array {
  let c = 0;
  return (n) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + c++ * 17) & 0xff);
}

function setup(b: CryptoBackend) {
  const keys = [1, 2, 3].map((s) => ecdhKeyPairFromRandom(b, new Uint8Array(57).fill(s)));
  const ring: Ring = [keys[0]!.public, keys[1]!.public, keys[2]!.public];
  const msg = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
  const random = counterRandom();
  const sigma = ringSign(b, random, keys[1]!.secret, keys[1]!.public, ring, msg);
  return {
    sign: () => ringSign(b, random, keys[1]!.secret, keys[1]!.public, ring, msg),
    verify: () => ringVerify(b, ring, sigma, msg),
  };
}

export function cases(ctx: BenchContext): BenchCase[] {
  const w = setup(ctx.wasm);
  const j = setup(ctx.js);
  return [
    { name: 'rsig.sign', impl: 'wasm', fn: w.sign },
    { name: 'rsig.sign', impl: 'js', fn: j.sign },
    { name: 'rsig.verify', impl: 'wasm', fn: w.verify },
    { name: 'rsig.verify', impl: 'js', fn: j.verify },
  ];
}
