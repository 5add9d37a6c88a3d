/**
 * WASM adapter for the record-sealing AEAD, XChaCha20-Poly1305 (assembly/aead.ts; the construction and bytes
 * of ts/store/aead.ts): CryptoBackend.sealXChaCha20Poly1305 / openXChaCha20Poly1305 of the `wasm` backend (and
 * so of the `hybrid` one, which carries it). One call per seal or open: the key, nonce, associated data and
 * record go in, the ciphertext and tag (or the plaintext) come out, every key is wiped inside the module.
 * Records larger than the module's data area, or associated data longer than its area, are declined (false /
 * undefined, nothing touched): the store seals those with its own AEAD (OpenSSL or noble: the same bytes), so
 * there is no chunking here.
 *
 * The store never uses these unchecked: ts/store/sealing.ts' `checkedSealAead` compares them with the
 * build's own AEAD on a fixed input first (agreeingAead) and keeps the build's one if they disagree.
 */
import type { CryptoBackend } from '../types.js';
import { OtrArgumentError } from '../../errors.js';
import type { WasmContext } from './context.js';

const KEY = 0;
const NONCE = 32;
const TAG = 64;
const AAD = 80;
const KEY_BYTES = 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;

export type AeadOps = Required<Pick<CryptoBackend, 'sealXChaCha20Poly1305' | 'openXChaCha20Poly1305'>>;

/**
 * The AEAD over the main module of `ctx`. With `simd` (the SIMD module, where the runtime has it), a seal runs
 * its ChaCha20 stream there, four blocks per step (~1.4 µs less for a 2.2 KB record), and the key schedule and
 * Poly1305 in the main module; opening stays in the main module (one call: the tag is checked before any byte
 * is decrypted).
 */
export function aeadOps(ctx: WasmContext, simd?: WasmContext): AeadOps {
  const { mem, io, ioSize } = ctx;
  const seal = ctx.exports.aead_seal as (aadLen: number, len: number) => void;
  const open = ctx.exports.aead_open as (aadLen: number, len: number) => number;
  const area = ctx.exports.aead_area() as number;
  const aadMax = ctx.exports.aead_aad_max() as number;
  const data = ctx.exports.chacha20_data() as number;
  const dataMax = io + ioSize - data;

  function load(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array): void {
    if (key.length !== KEY_BYTES || nonce.length !== NONCE_BYTES) throw new OtrArgumentError('XChaCha20-Poly1305: wrong key or nonce length');
    mem.set(key, area + KEY);
    mem.set(nonce, area + NONCE);
    mem.set(aad, area + AAD);
  }

  // The SIMD module's ChaCha20 kernel: key and nonce at its I/O region, data at its data area, wiped by it.
  const simdXor = simd?.exports.chacha20_xor as ((len: number, counter: number) => void) | undefined;
  const simdData = simd === undefined ? 0 : (simd.exports.chacha20_data() as number);
  const simdMax = simd === undefined ? 0 : simd.io + simd.ioSize - simdData;
  const keys = ctx.exports.aead_keys as () => void;
  const tag = ctx.exports.aead_tag as (aadLen: number, len: number) => void;
  const wipeKeys = ctx.exports.aead_wipe as () => void;

  /** The seal with the stream in the SIMD module: keys here, subkey copied across (and wiped here), tag here. */
  function sealSimd(s: WasmContext, aadLen: number, plain: Uint8Array): void {
    const n = plain.length;
    try {
      keys();
      s.mem.set(mem.subarray(io, io + 44), s.io); // the subkey and RFC 8439 nonce, module to module
      mem.fill(0, io, io + 44);
      s.mem.set(plain, simdData);
      simdXor!(n, 1); // wipes the subkey from the SIMD module
      mem.set(s.mem.subarray(simdData, simdData + n), data); // ciphertext (public), for Poly1305
      tag(aadLen, n);
    } finally {
      wipeKeys();
      s.mem.fill(0, s.io, s.io + 44);
    }
  }

  /** After a throw between loading the key and the call that wipes it: every key and the data area zeroed. */
  function abandon(n: number): void {
    wipeKeys();
    mem.fill(0, data, data + Math.min(Math.max(n, 0), dataMax));
  }

  return {
    sealXChaCha20Poly1305(key, nonce, aad, plain, out) {
      const n = plain.length;
      if (out.length !== n + TAG_BYTES) throw new OtrArgumentError('XChaCha20-Poly1305: wrong output length');
      if (n > dataMax || aad.length > aadMax) return false;
      try {
        load(key, nonce, aad);
        if (simd !== undefined && n <= simdMax) sealSimd(simd, aad.length, plain);
        else {
          mem.set(plain, data);
          seal(aad.length, n);
        }
      } catch (e) {
        abandon(n); // a copy that threw (a detached AAD or record) after the key went in
        throw e;
      }
      // The data area now holds ciphertext only (public): nothing secret is left to wipe.
      out.set(mem.subarray(data, data + n));
      out.set(mem.subarray(area + TAG, area + TAG + TAG_BYTES), n);
      return true;
    },
    openXChaCha20Poly1305(key, nonce, aad, sealed) {
      const n = sealed.length - TAG_BYTES;
      if (n < 0) throw new OtrArgumentError('XChaCha20-Poly1305: shorter than a tag');
      if (n > dataMax || aad.length > aadMax) return undefined;
      let opened: number;
      try {
        load(key, nonce, aad);
        mem.set(sealed.subarray(n), area + TAG);
        mem.set(sealed.subarray(0, n), data);
        opened = open(aad.length, n);
      } catch (e) {
        abandon(n);
        throw e;
      }
      if (opened !== 1) return null; // the key is wiped already, nothing was decrypted
      const plain = mem.slice(data, data + n);
      mem.fill(0, data, data + n);
      return plain;
    },
  };
}
