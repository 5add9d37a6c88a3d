// The SIMD module's entry points for one data message's ratchet crypto in one call: the sequence of
// assembly/datamsg.ts (calling convention there) over the four-block ChaCha20 kernel, so a multi-KiB message
// keeps SIMD speed. Hashing is the same scalar Keccak in both modules.
import { chacha20_xor } from './chacha20x4';
import { datamsg_area, datamsg_header_max, dmOpenCheck, dmSealKeys, dmSealTag } from '../datamsg';

export { datamsg_area, datamsg_header_max };

// These two bodies repeat assembly/datamsg.ts's on purpose: each module links its own chacha20_xor, and
// passing the kernel in would make it an indirect call for nothing; the shared parts are the dm* halves.

export function data_seal(hdrLen: i32, ctLen: i32): void {
  dmSealKeys(hdrLen, ctLen);
  chacha20_xor(ctLen, 0); // also wipes the key and nonce
  dmSealTag(hdrLen, ctLen);
}

export function data_open(hdrLen: i32, ctLen: i32): i32 {
  if (!dmOpenCheck(hdrLen, ctLen)) return 0;
  chacha20_xor(ctLen, 0);
  return 1;
}
