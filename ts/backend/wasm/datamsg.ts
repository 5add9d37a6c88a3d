/**
 * WASM adapter for assembly/datamsg.ts: a data message's keys, cipher and authenticator in one call per side
 * (CryptoBackend.sealDataMessage / openDataMessage). Over the SIMD module where the runtime has it (its
 * four-block ChaCha20), else the main module: both export the same entry points and layout.
 *
 * In: the chain key, the authenticated bytes before the ciphertext (the header, public) and the plaintext or
 * ciphertext, each copied once into the module's memory; out: the ciphertext or plaintext, the next chain
 * key, and the authenticator (seal) or MKmac (open). The adapter wipes the plaintext and the keys it copies
 * out of the module's memory; the module wipes everything else it derived (MKenc, MKmac when sealing, the
 * recomputed authenticator, the chain key's copy). With `into` (DataMessageScratch) the outputs go into the
 * caller's arrays instead of fresh ones: the per-message path then allocates no key arrays.
 */
import type { CryptoBackend, DataMessageScratch } from '../types.js';
import type { WasmContext } from './context.js';
import { abytes } from '../../bytes.js';
import { OtrArgumentError } from '../../errors.js';

const KEY_BYTES = 64;
const MAC_BYTES = 64;

function ciphertextLength(authenticated: Uint8Array, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > authenticated.length)
    throw new OtrArgumentError('ciphertext length must fit in the authenticated bytes');
  return n;
}

/**
 * `maxCiphertext`: the largest ciphertext this takes (default: all the module's data area holds); larger
 * ones return undefined, so the caller composes the primitives (the hybrid backend hands large ChaCha20
 * inputs to OpenSSL that way).
 */
export function dataMessageOps(ctx: WasmContext, maxCiphertext = Infinity): Pick<CryptoBackend, 'sealDataMessage' | 'openDataMessage'> {
  const { mem } = ctx;
  const seal = ctx.exports.data_seal as (hdrLen: number, ctLen: number) => void;
  const open = ctx.exports.data_open as (hdrLen: number, ctLen: number) => number;
  const area = ctx.exports.datamsg_area() as number;
  const headerMax = ctx.exports.datamsg_header_max() as number;
  const data = ctx.exports.chacha20_data() as number;
  const dataMax = Math.min(ctx.io + ctx.ioSize - data, maxCiphertext);
  const CK = area;
  const NEXT = area + 64;
  const MKMAC = area + 128;
  const TAG = area + 192;
  const HEADER = area + 256;

  /** Whether the module's areas hold a header and a ciphertext of these lengths. */
  const fits = (hdrLen: number, ctLen: number): boolean => hdrLen <= headerMax && ctLen <= dataMax;

  /** The header and the chain key into place; false (nothing written) when a length does not fit. */
  function load(chainKey: Uint8Array, authenticated: Uint8Array, hdrLen: number, ctLen: number): boolean {
    if (!fits(hdrLen, ctLen)) return false;
    mem.set(chainKey, CK);
    mem.set(hdrLen === authenticated.length ? authenticated : authenticated.subarray(0, hdrLen), HEADER);
    return true;
  }

  /**
   * The 64 bytes at `at` into `place` (when given) or a fresh array. A byte loop: a `subarray` of the memory
   * (what `set` needs) or a `slice` allocates objects per call, and the per-message path makes four of these.
   */
  function out64(at: number, place: Uint8Array | undefined): Uint8Array {
    const o = place ?? new Uint8Array(64);
    for (let i = 0; i < 64; i++) o[i] = mem[at + i]!;
    return o;
  }

  return {
    sealDataMessage(chainKey, authenticated, plaintext, into) {
      abytes(chainKey, KEY_BYTES, 'chain key');
      abytes(authenticated, undefined, 'authenticated bytes');
      abytes(plaintext, undefined, 'plaintext');
      if (into !== undefined) checkInto(into);
      const ctLen = ciphertextLength(authenticated, plaintext.length);
      const hdrLen = authenticated.length - ctLen;
      if (!load(chainKey, authenticated, hdrLen, ctLen)) return undefined;
      mem.set(plaintext, data);
      seal(hdrLen, ctLen); // the data area now holds the ciphertext (public)
      if (ctLen > 0) authenticated.set(mem.subarray(data, data + ctLen), hdrLen);
      const next = out64(NEXT, into?.next);
      const authenticator = out64(TAG, into?.mac);
      mem.fill(0, NEXT, NEXT + KEY_BYTES);
      return { next, authenticator };
    },
    openDataMessage(chainKey, authenticated, ciphertextLen, authenticator, into) {
      abytes(chainKey, KEY_BYTES, 'chain key');
      abytes(authenticated, undefined, 'authenticated bytes');
      abytes(authenticator, undefined, 'authenticator');
      if (into !== undefined) checkInto(into);
      const ctLen = ciphertextLength(authenticated, ciphertextLen);
      const hdrLen = authenticated.length - ctLen;
      // A received authenticator of the wrong length can never match (as equalBytes answers it).
      if (authenticator.length !== MAC_BYTES) return fits(hdrLen, ctLen) ? null : undefined;
      if (!load(chainKey, authenticated, hdrLen, ctLen)) return undefined;
      if (ctLen > 0) mem.set(hdrLen === 0 ? authenticated : authenticated.subarray(hdrLen), data);
      mem.set(authenticator, TAG);
      if (open(hdrLen, ctLen) === 0) return null; // the module wiped every key
      const place = into?.plaintext;
      const plaintext = place !== undefined && ctLen <= place.length ? place.subarray(0, ctLen) : new Uint8Array(ctLen);
      if (ctLen > 0) {
        plaintext.set(mem.subarray(data, data + ctLen));
        mem.fill(0, data, data + ctLen);
      }
      const next = out64(NEXT, into?.next);
      const mkMac = out64(MKMAC, into?.mac);
      mem.fill(0, NEXT, MKMAC + MAC_BYTES);
      return { next, mkMac, plaintext };
    },
  };
}

/** `into`'s places are the sizes they must be (a wrong one is the caller's bug, refused before any work). */
function checkInto(into: DataMessageScratch): void {
  abytes(into.next, KEY_BYTES, 'next chain key place');
  if (into.mac !== undefined) abytes(into.mac, MAC_BYTES, 'MAC place');
  if (into.plaintext !== undefined) abytes(into.plaintext, undefined, 'plaintext place');
}
