/**
 * SHAKE-256 as OTRv4 uses it: `kdf100` is the KDF shape (a ~100-byte "OTRv4" || usage || key input, 64 bytes
 * out), where per-call overhead dominates; `4k` measures absorbing throughput.
 */
import { createHash } from 'node:crypto';
import { shake256 } from '@noble/hashes/sha3.js';
import type { BenchCase, BenchContext } from '../harness.js';

function input(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 29 + 7) & 0xff);
}

export function cases(ctx: BenchContext): BenchCase[] {
  const out: BenchCase[] = [];
  for (const [name, size] of [['shake256.kdf100', 100], ['shake256.4k', 4096]] as const) {
    const data = input(size);
    out.push(
      { name, impl: 'wasm', fn: () => ctx.wasm.shake256([data], 64) },
      { name, impl: 'js', fn: () => ctx.js.shake256([data], 64) },
      { name, impl: 'noble', fn: () => shake256(data, { dkLen: 64 }) },
      { name, impl: 'native', fn: () => createHash('shake256', { outputLength: 64 }).update(data).digest() },
    );
  }
  return out;
}
