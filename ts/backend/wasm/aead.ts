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
 * The AEAD over `simd` (the SIMD module, where the runtime has it: its four-block ChaCha20 and two-blocks-per-
 * step Poly1305, assembly/simd/aead.ts), else over `main`; both modules export the same entry points and
 * layout, and each seal or open is one call into the one module (as chachaOps chooses its module).
 */
export function aeadOps(main: WasmContext, simd?: WasmContext): AeadOps {
  const ctx = simd ?? main;
  const { mem, io, ioSize } = ctx;
  const seal = ctx.exports.aead_seal as (aadLen: number, len: number) => void;
  const open = ctx.exports.aead_open as (aadLen: number, len: number) => number;
  const wipeKeys = ctx.exports.aead_wipe as () => void;
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
        mem.set(plain, data);
        seal(aad.length, n);
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
