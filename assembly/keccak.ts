// SHAKE-256 (FIPS 202) on Keccak-f[1600], absorbed and squeezed incrementally through the I/O region.
//
// Calling convention (all lengths in bytes; data lives at the start of the I/O region):
//   shake256_oneshot(inLen, outLen)  input at IO[0..inLen) -> output at IO[0..outLen); both <= IO_SIZE.
//                                    Wipes the state and the input bytes: the common small-KDF path, one call.
//   shake256_init()                  start a new hash.
//   shake256_absorb(len)             absorb IO[0..len), then wipe those bytes.
//   shake256_finish()                pad (SHAKE domain 0x1F) and switch to squeezing.
//   shake256_squeeze(len)            write the next len output bytes to IO[0..len).
//   shake256_wipe()                  zero the state (the adapter calls it when done).
// There is only one hash in flight at a time: calls are synchronous and the adapter never interleaves.
// Nothing here branches on or indexes by data; positions depend only on (public) lengths.
import { IO, IO_SIZE, wipe } from './io';

/** Rate of SHAKE-256 in bytes: 1600 - 2 * 256 bits of capacity. */
const RATE: i32 = 136;

// The 5x5 state of 64-bit lanes, lane (x, y) at byte 8 * (x + 5y). Little-endian lanes, as FIPS 202 orders
// the bytes, so absorbing is a plain XOR of input bytes onto the state's bytes.
const STATE: usize = memory.data(200, 8);
/** Bytes of the current block already absorbed (absorbing) or already output (squeezing). */
let pos: i32 = 0;

// ι round constants (FIPS 202 §3.2.5), derived once from the rc(t) LFSR and checked by the known answers.
const RC: usize = memory.data<i64>([
  0x0000000000000001, 0x0000000000008082, 0x800000000000808a, 0x8000000080008000,
  0x000000000000808b, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
  0x000000000000008a, 0x0000000000000088, 0x0000000080008009, 0x000000008000000a,
  0x000000008000808b, 0x800000000000008b, 0x8000000000008089, 0x8000000000008003,
  0x8000000000008002, 0x8000000000000080, 0x000000000000800a, 0x800000008000000a,
  0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]);

/**
 * Keccak-f[1600]: 24 rounds on the lanes held in locals. Each round is written out in full (no lane arrays,
 * no index tables) so the engine keeps all 25 lanes in locals. The loop over rounds stays: in V8 (Node 20)
 * unrolling all 24 rounds measured 2.1x slower and two rounds per iteration 10% slower (larger code, worse
 * register allocation), while one loop branch per round costs nothing measurable.
 *
 * Lane complementing (the Keccak team's implementation note, "lane complementing transform"): inside the
 * permutation six lanes are held inverted — (x, y) = (1, 0), (2, 0), (3, 1), (2, 2), (2, 3), (0, 4), i.e.
 * lanes 1, 2, 8, 12, 17, 20 — which θ, ρ and π carry through unchanged (XOR and rotation commute with
 * inversion) and for which every χ output can be written as b ^ (b' | b'') or b ^ (b' & b'') with one
 * inverted operand per plane, landing inverted exactly on the same six lanes for the next round. That is 5
 * NOTs a round instead of 25, plus 12 per permutation to enter and leave the representation. V8 compiles
 * `~x & y` to a copy, a NOT and an AND (no BMI ANDN), and this permutation runs at the core's dispatch width,
 * so the saved instructions are time: 6-7% per permutation (session 16, docs/performance.md). The formulas
 * were derived mechanically (for each output lane, the AND/OR form and operand inversions that give the true
 * χ under the set's inversions, fewest NOTs) and are checked by every known answer and differential test.
 */
function keccakF1600(): void {
  let a00 = load<i64>(STATE, 0);
  let a01 = ~load<i64>(STATE, 8); // complemented (below)
  let a02 = ~load<i64>(STATE, 16); // complemented (below)
  let a03 = load<i64>(STATE, 24);
  let a04 = load<i64>(STATE, 32);
  let a05 = load<i64>(STATE, 40);
  let a06 = load<i64>(STATE, 48);
  let a07 = load<i64>(STATE, 56);
  let a08 = ~load<i64>(STATE, 64); // complemented (below)
  let a09 = load<i64>(STATE, 72);
  let a10 = load<i64>(STATE, 80);
  let a11 = load<i64>(STATE, 88);
  let a12 = ~load<i64>(STATE, 96); // complemented (below)
  let a13 = load<i64>(STATE, 104);
  let a14 = load<i64>(STATE, 112);
  let a15 = load<i64>(STATE, 120);
  let a16 = load<i64>(STATE, 128);
  let a17 = ~load<i64>(STATE, 136); // complemented (below)
  let a18 = load<i64>(STATE, 144);
  let a19 = load<i64>(STATE, 152);
  let a20 = ~load<i64>(STATE, 160); // complemented (below)
  let a21 = load<i64>(STATE, 168);
  let a22 = load<i64>(STATE, 176);
  let a23 = load<i64>(STATE, 184);
  let a24 = load<i64>(STATE, 192);
  for (let r = 0; r < 24; r++) {
    // θ: column parities and their mix
    const c0 = a00 ^ a05 ^ a10 ^ a15 ^ a20;
    const c1 = a01 ^ a06 ^ a11 ^ a16 ^ a21;
    const c2 = a02 ^ a07 ^ a12 ^ a17 ^ a22;
    const c3 = a03 ^ a08 ^ a13 ^ a18 ^ a23;
    const c4 = a04 ^ a09 ^ a14 ^ a19 ^ a24;
    const d0 = c4 ^ rotl<i64>(c1, 1);
    const d1 = c0 ^ rotl<i64>(c2, 1);
    const d2 = c1 ^ rotl<i64>(c3, 1);
    const d3 = c2 ^ rotl<i64>(c4, 1);
    const d4 = c3 ^ rotl<i64>(c0, 1);
    // ρ and π: b[y, 2x+3y] = rotl(a[x, y] ^ d[x], ρ[x, y])
    const b00 = a00 ^ d0;
    const b01 = rotl<i64>(a06 ^ d1, 44);
    const b02 = rotl<i64>(a12 ^ d2, 43);
    const b03 = rotl<i64>(a18 ^ d3, 21);
    const b04 = rotl<i64>(a24 ^ d4, 14);
    const b05 = rotl<i64>(a03 ^ d3, 28);
    const b06 = rotl<i64>(a09 ^ d4, 20);
    const b07 = rotl<i64>(a10 ^ d0, 3);
    const b08 = rotl<i64>(a16 ^ d1, 45);
    const b09 = rotl<i64>(a22 ^ d2, 61);
    const b10 = rotl<i64>(a01 ^ d1, 1);
    const b11 = rotl<i64>(a07 ^ d2, 6);
    const b12 = rotl<i64>(a13 ^ d3, 25);
    const b13 = rotl<i64>(a19 ^ d4, 8);
    const b14 = rotl<i64>(a20 ^ d0, 18);
    const b15 = rotl<i64>(a04 ^ d4, 27);
    const b16 = rotl<i64>(a05 ^ d0, 36);
    const b17 = rotl<i64>(a11 ^ d1, 10);
    const b18 = rotl<i64>(a17 ^ d2, 15);
    const b19 = rotl<i64>(a23 ^ d3, 56);
    const b20 = rotl<i64>(a02 ^ d2, 62);
    const b21 = rotl<i64>(a08 ^ d3, 55);
    const b22 = rotl<i64>(a14 ^ d4, 39);
    const b23 = rotl<i64>(a15 ^ d0, 41);
    const b24 = rotl<i64>(a21 ^ d1, 2);
    // χ (and ι on lane 0), a[i] = b[i] ^ (~b[i+1] & b[i+2]) on the true lanes, here on the stored ones:
    // with the six lanes held inverted (above), each plane needs one NOT instead of five.
    const n02 = ~b02;
    a00 = b00 ^ (b01 | b02) ^ load<i64>(RC + (<usize>r << 3));
    a01 = b01 ^ (n02 | b03);
    a02 = b02 ^ (b03 & b04);
    a03 = b03 ^ (b04 | b00);
    a04 = b04 ^ (b00 & b01);
    const n09 = ~b09;
    a05 = b05 ^ (b06 | b07);
    a06 = b06 ^ (b07 & b08);
    a07 = b07 ^ (b08 | n09);
    a08 = b08 ^ (b09 | b05);
    a09 = b09 ^ (b05 & b06);
    const n13 = ~b13;
    a10 = b10 ^ (b11 | b12);
    a11 = b11 ^ (b12 & b13);
    a12 = b12 ^ (n13 & b14);
    a13 = n13 ^ (b14 | b10);
    a14 = b14 ^ (b10 & b11);
    const n18 = ~b18;
    a15 = b15 ^ (b16 & b17);
    a16 = b16 ^ (b17 | b18);
    a17 = b17 ^ (n18 | b19);
    a18 = n18 ^ (b19 & b15);
    a19 = b19 ^ (b15 | b16);
    const n21 = ~b21;
    a20 = b20 ^ (n21 & b22);
    a21 = n21 ^ (b22 | b23);
    a22 = b22 ^ (b23 & b24);
    a23 = b23 ^ (b24 | b20);
    a24 = b24 ^ (b20 & b21);
  }
  // Lanes 1, 2, 8, 12, 17, 20 leave the complemented representation: the state in memory (absorb, squeeze)
  // always holds the true lanes.
  store<i64>(STATE, a00, 0);
  store<i64>(STATE, ~a01, 8);
  store<i64>(STATE, ~a02, 16);
  store<i64>(STATE, a03, 24);
  store<i64>(STATE, a04, 32);
  store<i64>(STATE, a05, 40);
  store<i64>(STATE, a06, 48);
  store<i64>(STATE, a07, 56);
  store<i64>(STATE, ~a08, 64);
  store<i64>(STATE, a09, 72);
  store<i64>(STATE, a10, 80);
  store<i64>(STATE, a11, 88);
  store<i64>(STATE, ~a12, 96);
  store<i64>(STATE, a13, 104);
  store<i64>(STATE, a14, 112);
  store<i64>(STATE, a15, 120);
  store<i64>(STATE, a16, 128);
  store<i64>(STATE, ~a17, 136);
  store<i64>(STATE, a18, 144);
  store<i64>(STATE, a19, 152);
  store<i64>(STATE, ~a20, 160);
  store<i64>(STATE, a21, 168);
  store<i64>(STATE, a22, 176);
  store<i64>(STATE, a23, 184);
  store<i64>(STATE, a24, 192);
}

/** XOR `len` bytes at `src` into the state from `pos`, permuting at each full block. */
function absorb(src: usize, len: i32): void {
  while (len > 0) {
    if (pos == 0 && len >= RATE) {
      // Whole block: 17 lane-wide XORs.
      for (let i = 0; i < RATE; i += 8) {
        store<i64>(STATE + i, load<i64>(STATE + i) ^ load<i64>(src + i));
      }
      keccakF1600();
      src += RATE;
      len -= RATE;
      continue;
    }
    let take = RATE - pos;
    if (take > len) take = len;
    // Eight bytes a step at any offset: WebAssembly loads and stores need no alignment (x86 and ARM64 take
    // unaligned 64-bit accesses at full speed), and after a KDF prefix of 70 bytes the authenticator's header
    // and ciphertext start at an odd position in the block, which a byte loop handled up to 135 bytes of.
    let i = 0;
    for (; i + 8 <= take; i += 8) {
      const p = STATE + <usize>(pos + i);
      store<i64>(p, load<i64>(p) ^ load<i64>(src + i));
    }
    for (; i < take; i++) {
      const p = STATE + <usize>(pos + i);
      store<u8>(p, load<u8>(p) ^ load<u8>(src + i));
    }
    pos += take;
    src += take;
    len -= take;
    if (pos == RATE) {
      keccakF1600();
      pos = 0;
    }
  }
}

function pad(): void {
  store<u8>(STATE + pos, load<u8>(STATE + pos) ^ 0x1f);
  store<u8>(STATE + RATE - 1, load<u8>(STATE + RATE - 1) ^ 0x80);
  keccakF1600();
  pos = 0;
}

/** Copy the next `len` output bytes to `dst`, permuting whenever the current block is used up. */
function squeeze(dst: usize, len: i32): void {
  while (len > 0) {
    if (pos == RATE) {
      keccakF1600();
      pos = 0;
    }
    let take = RATE - pos;
    if (take > len) take = len;
    let i = 0;
    for (; i + 8 <= take; i += 8) store<i64>(dst + i, load<i64>(STATE + <usize>(pos + i)));
    for (; i < take; i++) store<u8>(dst + i, load<u8>(STATE + <usize>(pos + i)));
    pos += take;
    dst += take;
    len -= take;
  }
}

/** Zeroes the state: a fresh hash, and nothing of the last one left behind. */
function reset(): void {
  wipe(STATE, 200);
  pos = 0;
}

export function shake256_init(): void {
  reset();
}

export function shake256_absorb(len: i32): void {
  if (<u32>len > <u32>IO_SIZE) unreachable();
  absorb(IO, len);
  wipe(IO, len);
}

export function shake256_finish(): void {
  pad();
}

export function shake256_squeeze(len: i32): void {
  if (<u32>len > <u32>IO_SIZE) unreachable();
  squeeze(IO, len);
}

export function shake256_wipe(): void {
  reset();
}

export function shake256_oneshot(inLen: i32, outLen: i32): void {
  if (<u32>inLen > <u32>IO_SIZE || <u32>outLen > <u32>IO_SIZE) unreachable();
  reset();
  absorb(IO, inLen);
  // The input may be key material: clear what the output will not overwrite.
  if (inLen > outLen) wipe(IO + outLen, inLen - outLen);
  pad();
  squeeze(IO, outLen);
  reset();
}

// ---- The sponge itself, for the other files of this package that hash data where it lies in memory
// (assembly/datamsg.ts: a data message's header and ciphertext, without first copying them to the I/O
// region). The same one-hash-at-a-time rule; the caller resets before and after.
export function spongeReset(): void {
  reset();
}
export function spongeAbsorb(src: usize, len: i32): void {
  absorb(src, len);
}
export function spongeFinish(): void {
  pad();
}
export function spongeSqueeze(dst: usize, len: i32): void {
  squeeze(dst, len);
}

// ---- The double ratchet's per-message key schedule in one call (otrv4.md §Calculating Encryption and MAC
// Keys): three 64-byte KDFs from one chain key, where the adapter would otherwise cross into the module,
// copy in and copy out three times. Same hashes as three shake256_oneshot calls of "OTRv4" || usage || key.

/** "OTRv4" || usage || 64-byte key: the KDF input, assembled here so the key never leaves the module between hashes. */
const KDF_IN: usize = memory.data(72, 8);
const KDF_PREFIX: i32 = 5;
const KDF_KEY: i32 = 64;
const KDF_IN_LEN: i32 = KDF_PREFIX + 1 + KDF_KEY;

/** Resets the sponge and absorbs "OTRv4" || usage || the key already at KDF_IN + 6, as one aligned run. */
function kdfAbsorbIn(usage: u8): void {
  store<u32>(KDF_IN, 0x7652544f); // "OTRv"
  store<u8>(KDF_IN + 4, 0x34); // "4"
  store<u8>(KDF_IN + KDF_PREFIX, usage);
  reset();
  absorb(KDF_IN, KDF_IN_LEN);
}

/**
 * For assembly/datamsg.ts: resets the sponge and absorbs "OTRv4" || usage || the 64-byte key at `key` (its
 * copy here is wiped); the caller absorbs anything more, finishes, squeezes and resets.
 */
export function kdfStart(usage: u8, key: usize): void {
  memory.copy(KDF_IN + KDF_PREFIX + 1, key, KDF_KEY);
  kdfAbsorbIn(usage);
  wipe(KDF_IN + KDF_PREFIX + 1, KDF_KEY);
}

/** SHAKE-256("OTRv4" || usage || key, 64) of the key at KDF_IN + 6, into `dst`; the state is reset after. */
function kdf64(usage: u8, dst: usize): void {
  kdfAbsorbIn(usage);
  pad();
  squeeze(dst, KDF_KEY);
  reset();
}

/**
 * Chain key ck at IO[0..64) ->  IO[0..64) = next ck = KDF(0x14, ck), IO[64..128) = MKenc = KDF(0x15, ck),
 * IO[128..192) = MKmac = KDF(0x16, MKenc). The copies of ck and MKenc used as hash input are wiped.
 */
export function ratchet_message_keys(): void {
  memory.copy(KDF_IN + KDF_PREFIX + 1, IO, KDF_KEY);
  kdf64(0x15, IO + 64);
  kdf64(0x14, IO);
  memory.copy(KDF_IN + KDF_PREFIX + 1, IO + 64, KDF_KEY);
  kdf64(0x16, IO + 128);
  wipe(KDF_IN + KDF_PREFIX + 1, KDF_KEY);
}
