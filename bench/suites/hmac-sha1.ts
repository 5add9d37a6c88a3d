/**
 * OTRv3's data-message MAC, HMAC-SHA1 under a 20-byte key, over 100 bytes (a chat message), 64 KiB (about
 * what fits the WASM I/O region in one call) and 768 KiB (the largest OTRv3 data message: maxMessageChars of
 * base64). `wasm` is the WASM backend's own (assembly/sha1.ts, session 14), `js` noble's (what the JS backend
 * leaves to ts/v3/crypto.ts), `hybrid` OpenSSL through the backend, `native` node:crypto called directly.
 */
import { createHmac } from 'node:crypto';
import { hmacSha1 } from '../../ts/v3/crypto.js';
import type { BenchCase, BenchContext } from '../harness.js';

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 29 + seed) & 0xff;
  return out;
}

export function cases(ctx: BenchContext): BenchCase[] {
  const key = bytes(20, 1);
  const out: BenchCase[] = [];
  for (const [name, size] of [['hmac-sha1.100', 100], ['hmac-sha1.64k', 65_536], ['hmac-sha1.768k', 786_432]] as const) {
    const data = bytes(size, 3);
    const h = ctx.hybrid;
    if (h) out.push({ name, impl: 'hybrid', fn: () => hmacSha1(h, key, data) });
    out.push(
      { name, impl: 'wasm', fn: () => hmacSha1(ctx.wasm, key, data) },
      { name, impl: 'js', fn: () => hmacSha1(ctx.js, key, data) },
      { name, impl: 'native', fn: () => createHmac('sha1', key).update(data).digest() },
    );
  }
  return out;
}
