/**
 * WASM adapter for assembly/sha1.ts: OTRv3's HMAC-SHA1 (ts/v3/data.ts) in the main module, for runtimes
 * without node:crypto (browsers), where it replaces noble's HMAC (session 14; docs/backends.md).
 *
 * The common case — a data message of up to the I/O region (64 KiB) with its 20-byte MAC key — is one copy
 * in, one call, one copy out. A larger message (OTRv3 takes up to maxMessageChars of text, ~0.8 MB of data)
 * streams through the region a region at a time, the module keeping the hash state between calls; a key
 * larger than the region is hashed first (what RFC 2104 does with any key over 64 bytes), so every input
 * size is taken. The module wipes the key, the data it was handed and its states; the adapter wipes the tag
 * it copied out. Only in the main module: SHA-1 has nothing for SIMD to speed up as the vector ChaCha20 has,
 * so both module choices (ts/backend/wasm/index.ts) run this one.
 */
import type { CryptoBackend } from '../types.js';
import type { WasmContext } from './context.js';
import { abytes } from '../../bytes.js';

const TAG_BYTES = 20;

/** The module's SHA-1 / HMAC-SHA1 entry points (assembly/sha1.ts), typed. */
function entries(ctx: WasmContext) {
  const x = ctx.exports;
  return {
    hmac: x.hmac_sha1 as (keyLen: number, dataLen: number) => void,
    hmacKey: x.hmac_sha1_key as (keyLen: number) => void,
    hmacFinal: x.hmac_sha1_final as () => void,
    init: x.sha1_init as () => void,
    update: x.sha1_update as (len: number) => void,
    final: x.sha1_final as () => void,
  };
}

/** Feeds `data` to the hash in flight, a region at a time (the module wipes each chunk). */
function streamData(ctx: WasmContext, update: (len: number) => void, data: Uint8Array): void {
  const { mem, io, ioSize } = ctx;
  for (let off = 0; off < data.length; off += ioSize) {
    const chunk = data.subarray(off, Math.min(data.length, off + ioSize));
    mem.set(chunk, io);
    update(chunk.length);
  }
}

/** Copies the 20-byte result out of the I/O region and wipes it there. */
function takeTag(ctx: WasmContext): Uint8Array {
  const out = ctx.mem.slice(ctx.io, ctx.io + TAG_BYTES);
  ctx.mem.fill(0, ctx.io, ctx.io + TAG_BYTES);
  return out;
}

/** SHA-1 of `data` (any length) in the module: long HMAC keys, and the FIPS 180 tests of the module. */
export function wasmSha1(ctx: WasmContext, data: Uint8Array): Uint8Array {
  const e = entries(ctx);
  e.init();
  streamData(ctx, e.update, data);
  e.final();
  return takeTag(ctx);
}

export function hmacOps(ctx: WasmContext): Required<Pick<CryptoBackend, 'hmacSha1'>> {
  const { mem, io, ioSize } = ctx;
  const e = entries(ctx);
  return {
    hmacSha1(key, data) {
      abytes(key, undefined, 'HMAC key');
      abytes(data, undefined, 'HMAC data');
      // RFC 2104: a key over one block is used as its hash; over the region it is hashed here, streamed.
      const k = key.length > ioSize ? wasmSha1(ctx, key) : key;
      if (k.length + data.length <= ioSize) {
        mem.set(k, io);
        mem.set(data, io + k.length);
        e.hmac(k.length, data.length);
      } else {
        mem.set(k, io);
        e.hmacKey(k.length);
        streamData(ctx, e.update, data);
        e.hmacFinal();
      }
      if (k !== key) k.fill(0);
      return takeTag(ctx);
    },
  };
}
