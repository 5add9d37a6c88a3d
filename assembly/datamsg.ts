// One OTRv4 data message's ratchet crypto in one call (otrv4.md §Calculating Encryption and MAC Keys, §When
// you send / receive a Data Message; ts/ratchet/keys.ts has the same construction as separate calls):
//
//   MKenc = KDF(0x15, ck), next ck = KDF(0x14, ck), MKmac = KDF(0x16, MKenc)        (64 bytes each)
//   ciphertext = ChaCha20(MKenc[0..32), nonce 0^12, counter 0) XOR plaintext
//   authenticator = KDF(0x18, MKmac || header || ciphertext, 64)
//
// where header || ciphertext are the bytes the authenticator covers (everything from the version through the
// ciphertext DATA, whose last ctLen bytes are the ciphertext). The point is the crossing count: the ratchet
// otherwise makes a key call, a ChaCha20 call and a hash call per message side, each copying its inputs into
// this module's memory and its outputs back out. Here the data goes in once and comes out once.
//
// Calling convention (the area's address from datamsg_area(); offsets below):
//   AREA[CK..+64)        the chain key (wiped by the call)
//   AREA[HEADER..+hdrLen) the authenticated bytes before the ciphertext, hdrLen <= HEADER_MAX (public)
//   chacha20_data() .. +ctLen   the plaintext (seal) or ciphertext (open), ctLen <= IO_SIZE - 64,
//                        transformed in place (the ChaCha20 kernel's own data area)
//   data_seal(hdrLen, ctLen)   -> data area = ciphertext, AREA[TAG] = authenticator, AREA[NEXT] = next ck;
//                                 MKenc and MKmac wiped.
//   data_open(hdrLen, ctLen)   with the received authenticator at AREA[TAG]: recomputes it, compares in
//                                 constant time, and returns 1 with data area = plaintext, AREA[NEXT] = next
//                                 ck, AREA[MKMAC] = MKmac (the receiver reveals it later); or 0 with nothing
//                                 decrypted and every key wiped (the ciphertext is left as it was).
// The adapter copies the outputs and wipes the plaintext and the keys (ts/backend/wasm/datamsg.ts). Branches
// and addresses depend only on the public lengths and on the (public) verdict of the MAC check.
//
// The SIMD module runs the same sequence over its four-block ChaCha20 kernel (assembly/simd/datamsg.ts): the
// dmSeal*/dmOpenCheck halves are exported for it, and only the entry points reach assembly/index.ts.
import { IO, IO_SIZE, wipe } from './io';
import { chacha20_data, chacha20_xor } from './chacha20';
import { kdfStart, spongeAbsorb, spongeFinish, spongeReset, spongeSqueeze } from './keccak';

export const DM_CK: i32 = 0;
export const DM_NEXT: i32 = 64;
export const DM_MKMAC: i32 = 128;
export const DM_TAG: i32 = 192;
export const DM_HEADER: i32 = 256;
/** The fixed fields (81 bytes) and a 384-byte DH value fit with room to spare. */
export const DM_HEADER_MAX: i32 = 512;
export const DM_DATA_MAX: i32 = IO_SIZE - 64;

const AREA: usize = memory.data(DM_HEADER + DM_HEADER_MAX, 16);
/** MKenc between the key schedule and the cipher, and the recomputed authenticator when opening. */
const MKENC: usize = memory.data(64, 16);
const EXPECTED: usize = memory.data(64, 16);

/** SHAKE-256("OTRv4" || usage || 64 bytes at src, 64) into dst (keccak.ts's KDF prefix and key buffer). */
function kdf64(usage: u8, src: usize, dst: usize): void {
  kdfStart(usage, src);
  spongeFinish();
  spongeSqueeze(dst, 64);
  spongeReset();
}

/** The message keys of the chain key at CK: MKENC, NEXT, MKMAC; the chain key is wiped. */
function dmKeys(): void {
  kdf64(0x15, AREA + DM_CK, MKENC);
  kdf64(0x14, AREA + DM_CK, AREA + DM_NEXT);
  kdf64(0x16, MKENC, AREA + DM_MKMAC);
  wipe(AREA + DM_CK, 64);
}

/** The ChaCha20 key (MKenc's first 32 bytes) and the zero nonce where both kernels read them; MKenc wiped. */
function dmCipherKey(): void {
  memory.copy(IO, MKENC, 32);
  wipe(IO + 32, 12);
  wipe(MKENC, 64);
}

/** KDF(0x18, MKmac || header || data, 64) into dst. */
function authenticator(hdrLen: i32, ctLen: i32, dst: usize): void {
  kdfStart(0x18, AREA + DM_MKMAC);
  spongeAbsorb(AREA + DM_HEADER, hdrLen);
  spongeAbsorb(chacha20_data(), ctLen);
  spongeFinish();
  spongeSqueeze(dst, 64);
  spongeReset();
}

/** Traps on lengths the areas cannot hold (the adapter never passes them). */
function checkLengths(hdrLen: i32, ctLen: i32): void {
  if (<u32>hdrLen > <u32>DM_HEADER_MAX || <u32>ctLen > <u32>DM_DATA_MAX) unreachable();
}

/** Sealing, before the cipher: the keys, and the ChaCha20 key and nonce in place for the kernel. */
export function dmSealKeys(hdrLen: i32, ctLen: i32): void {
  checkLengths(hdrLen, ctLen);
  dmKeys();
  dmCipherKey();
}

/** Sealing, after the cipher: the authenticator over header || ciphertext into TAG; MKmac wiped. */
export function dmSealTag(hdrLen: i32, ctLen: i32): void {
  authenticator(hdrLen, ctLen, AREA + DM_TAG);
  wipe(AREA + DM_MKMAC, 64);
}

/**
 * Opening, before the cipher: the keys, the authenticator recomputed and compared with TAG (every byte, no
 * early exit). True: the ChaCha20 key and nonce are in place for the kernel. False: every key is wiped.
 */
export function dmOpenCheck(hdrLen: i32, ctLen: i32): bool {
  checkLengths(hdrLen, ctLen);
  dmKeys();
  authenticator(hdrLen, ctLen, EXPECTED);
  let diff: u64 = 0;
  const t = AREA + DM_TAG;
  for (let i = 0; i < 64; i += 8) diff |= load<u64>(EXPECTED + i) ^ load<u64>(t + i);
  wipe(EXPECTED, 64);
  if (diff != 0) {
    wipe(AREA + DM_NEXT, 64);
    wipe(AREA + DM_MKMAC, 64);
    wipe(MKENC, 64);
    return false;
  }
  dmCipherKey();
  return true;
}

export function datamsg_area(): usize {
  return AREA;
}

export function datamsg_header_max(): i32 {
  return DM_HEADER_MAX;
}

// ---- The main module's entry points (scalar ChaCha20; assembly/simd/datamsg.ts is the same over SIMD).

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
