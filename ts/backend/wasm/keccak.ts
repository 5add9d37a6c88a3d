/**
 * WASM adapter for assembly/keccak.ts: SHAKE-256 over any number of parts, any lengths.
 *
 * OTRv4 hashes small inputs many times per message (KDF: "OTRv4" || usage || key -> 64 bytes), so the
 * common case is one copy in, one call, one copy out: parts are laid end to end at the start of the I/O
 * region and `shake256_oneshot` hashes them in place. Inputs or outputs larger than the I/O region stream
 * through it in chunks with the incremental entry points. Errors match the JS backend: the output length is
 * checked first, then every part, before the module is touched (so a bad part never leaves a hash half done).
 */
import type { CryptoBackend } from '../types.js';
import type { WasmContext } from './context.js';
import { abytes } from '../../bytes.js';
import { checkOutLen } from '../checks.js';

export function keccakOps(ctx: WasmContext): Pick<CryptoBackend, 'shake256' | 'ratchetMessageKeys'> {
  const { mem, io, ioSize } = ctx;
  const oneshot = ctx.exports.shake256_oneshot as (inLen: number, outLen: number) => void;
  const init = ctx.exports.shake256_init as () => void;
  const absorb = ctx.exports.shake256_absorb as (len: number) => void;
  const finish = ctx.exports.shake256_finish as () => void;
  const squeeze = ctx.exports.shake256_squeeze as (len: number) => void;
  const wipeState = ctx.exports.shake256_wipe as () => void;
  const messageKeys = ctx.exports.ratchet_message_keys as () => void;

  /** The large case: stream every part, then the output, through the I/O region. */
  function streamed(parts: readonly Uint8Array[], outLen: number): Uint8Array {
    init();
    for (const part of parts) {
      for (let off = 0; off < part.length; off += ioSize) {
        const chunk = part.subarray(off, Math.min(part.length, off + ioSize));
        mem.set(chunk, io);
        absorb(chunk.length); // wipes the chunk from the I/O region
      }
    }
    finish();
    const out = new Uint8Array(outLen);
    for (let off = 0; off < outLen; off += ioSize) {
      const n = Math.min(ioSize, outLen - off);
      squeeze(n);
      out.set(mem.subarray(io, io + n), off);
    }
    mem.fill(0, io, io + Math.min(ioSize, outLen));
    wipeState();
    return out;
  }

  return {
    ratchetMessageKeys(chainKey) {
      abytes(chainKey, 64, 'chain key');
      mem.set(chainKey, io);
      messageKeys();
      const next = mem.slice(io, io + 64);
      const mkEnc = mem.slice(io + 64, io + 128);
      const mkMac = mem.slice(io + 128, io + 192);
      mem.fill(0, io, io + 192); // all three are keys
      return { next, mkEnc, mkMac };
    },
    shake256(parts, outLen) {
      checkOutLen(outLen);
      let total = 0;
      for (const part of parts) total += abytes(part, undefined, 'shake256 input').length;
      if (outLen === 0) return new Uint8Array(0);
      if (total > ioSize || outLen > ioSize) return streamed(parts, outLen);
      let off = io;
      for (const part of parts) {
        mem.set(part, off);
        off += part.length;
      }
      oneshot(total, outLen); // wipes its state and the input bytes it does not overwrite
      const out = mem.slice(io, io + outLen);
      mem.fill(0, io, io + outLen); // the output may be a key
      return out;
    },
  };
}
