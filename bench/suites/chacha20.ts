/**
 * RFC 8439 ChaCha20 over 100 bytes (a chat message), 4 KiB and 1 MiB (a file transfer chunk), counter 1.
 * The WASM backend uses its SIMD module where the runtime has SIMD, which is the case in Node; the hybrid
 * backend uses WASM below its OpenSSL threshold and OpenSSL (node:crypto) from there on.
 */
import { createCipheriv } from 'node:crypto';
import { chacha20 } from '@noble/ciphers/chacha.js';
import type { BenchCase, BenchContext } from '../harness.js';

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

export function cases(ctx: BenchContext): BenchCase[] {
  const key = bytes(32, 1);
  const nonce = bytes(12, 2);
  const iv = new Uint8Array(16);
  iv[0] = 1; // OpenSSL's IV is LE32 counter || nonce
  iv.set(nonce, 4);
  const out: BenchCase[] = [];
  for (const [name, size] of [['chacha20.100', 100], ['chacha20.4k', 4096], ['chacha20.1m', 1 << 20]] as const) {
    const data = bytes(size, 3);
    const h = ctx.hybrid;
    if (h) out.push({ name, impl: 'hybrid', fn: () => h.chacha20(key, nonce, data, 1) });
    out.push(
      { name, impl: 'wasm', fn: () => ctx.wasm.chacha20(key, nonce, data, 1) },
      { name, impl: 'js', fn: () => ctx.js.chacha20(key, nonce, data, 1) },
      { name, impl: 'noble', fn: () => chacha20(key, nonce, data, undefined, 1) },
      { name, impl: 'native', fn: () => createCipheriv('chacha20', key, iv).update(data) },
    );
  }
  return out;
}
