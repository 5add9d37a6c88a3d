// Entry points of the Ed448 group and of scalars mod q (the CryptoBackend's point* and scalar* methods).
//
// Calling convention: inputs are copied into the I/O region (assembly/io.ts) at fixed slots, 128 bytes apart,
// the entry point is called, the 57-byte result is read from OUT. Every entry point zeroes the input slots and
// all of its secret scratch before returning; the caller zeroes OUT after reading it.
//
//   slot   S0 = IO + 0     S1 = IO + 128     S2 = IO + 256     OUT = IO + 384
//   ed448_decodes()            point S0                                   -> 1 iff it decodes
//   ed448_is_valid()           point S0                                   -> 1 iff decodes, not identity, q*P = O
//                              (decided by ge448subgroup's 4E test, which equals q*P = O on this curve);
//                              when 1, also OUT + 64 = P's x (the decoded-x hint, 56 bytes; see below)
//   ed448_mul_base()           k S0                                       -> OUT = G*(k mod q)
//   ed448_mul()                point S0, k S1                             -> OUT = P*(k mod q); 0 if P invalid
//   ed448_double_mul_base()    a S0, point S1, b S2                       -> OUT = G*a + P*b; 0 if P invalid
//   ed448_double_mul_base_ct() a S0, point S1, b S2                       -> the same, constant time in a and b
//   ed448_add()                point S0, point S1                         -> OUT = P + Q; 0, or 1/2 if P/Q invalid
//   sc_reduce(len)             len <= 114 bytes at S0                     -> OUT = x mod q
//   sc_muladd()                a S0, b S1, c S2 (57 bytes each)           -> OUT = a*b + c mod q
// Points are 57-byte RFC 8032 encodings, scalars 57-byte little-endian integers (any value below 2^456).
//
// The decoded-x hint: a point that was validated is usually multiplied again or put in a ring signature later
// (the DAKE's received ECDH keys, the peer's identity key and ephemeral). Decoding it again costs a square
// root (a field exponentiation, ~6% of a variable-base product); with its x at hand a few products prove the
// same point (ge448.ts geDecodeHinted). So ed448_is_valid hands x out — a public value, a function of the
// public encoding — and the WASM adapter keeps it beside the very array object it came with (ed448_mul_hinted
// in ed448ecdh.ts and the ring entry points in ed448ring.ts take it back). ed448_mul_base does not: keeping an
// x for every G*k (every ratchet step's new key, every signature's R) cost more per call than the few own
// keys that reach a ring later save (docs/performance.md, session 11).
import { IO } from './io';
import { Ge, GE_SIZE, gX, geAdd, geToCached, geDecode, geEncode, geIsIdentity } from './ge448';
import { feToBytes } from './fe448';
import { geMulCT, geMulBaseCT, geDoubleMulVar, geMulWipe, geInitTables } from './ge448mul';
import { SC_SIZE, scReduceWide, scReduce57, scMulAdd, scToBytes, scWipe } from './sc448';
import { geIsTorsionFree } from './ge448subgroup';

const S0: usize = IO;
const S1: usize = IO + 128;
const S2: usize = IO + 256;
const OUT: usize = IO + 384;
const IN_BYTES: usize = 384;

const WIDE_BYTES: usize = 114;

const P1: Ge = memory.data(<i32>GE_SIZE, 16);
const P2: Ge = memory.data(<i32>GE_SIZE, 16);
const K1: usize = memory.data(<i32>SC_SIZE, 16);
const K2: usize = memory.data(<i32>SC_SIZE, 16);
const K3: usize = memory.data(<i32>SC_SIZE, 16);
const WIDE: usize = memory.data(128, 16);

geInitTables();

/** Clears the inputs and every intermediate (points, scalars, field and formula scratch). */
function wipeAll(): void {
  memory.fill(IO, 0, IN_BYTES);
  memory.fill(P1, 0, GE_SIZE);
  memory.fill(P2, 0, GE_SIZE);
  scWipe(K1);
  scWipe(K2);
  scWipe(K3);
  memory.fill(WIDE, 0, 128);
  geMulWipe(); // also the field and formula scratch
}

/** k = (little-endian integer of n <= 114 bytes at src) mod q; the 57 bytes of every scalar argument take
 *  the multiplication-free path. */
function loadScalar(k: usize, src: usize, n: usize): void {
  if (n == 57) {
    scReduce57(k, src);
    return;
  }
  memory.fill(WIDE, 0, 128);
  memory.copy(WIDE, src, n);
  scReduceWide(k, WIDE);
}

export function ed448_decodes(): i32 {
  const ok = geDecode(P1, S0);
  wipeAll();
  return <i32>ok;
}

export function ed448_is_valid(): i32 {
  let ok = geDecode(P1, S0);
  if (ok) ok = geIsIdentity(P1) == 0;
  if (ok) ok = geIsTorsionFree(P1); // two exponentiations, not q·P (assembly/ge448subgroup.ts)
  if (ok) feToBytes(OUT + 64, gX(P1)); // public: the decoded-x hint (header)
  wipeAll();
  return <i32>ok;
}

export function ed448_mul_base(): void {
  loadScalar(K1, S0, 57);
  geMulBaseCT(P1, K1);
  geEncode(OUT, P1);
  wipeAll();
}

export function ed448_mul(): i32 {
  const ok = geDecode(P1, S0);
  if (ok) {
    loadScalar(K1, S1, 57);
    geMulCT(P2, P1, K1);
    geEncode(OUT, P2);
  }
  wipeAll();
  return <i32>ok;
}

export function ed448_double_mul_base(): i32 {
  const ok = geDecode(P1, S1);
  if (ok) {
    loadScalar(K1, S0, 57);
    loadScalar(K2, S2, 57);
    geDoubleMulVar(P2, K1, P1, K2);
    geEncode(OUT, P2);
  }
  wipeAll();
  return <i32>ok;
}

/** G·a + P·b in constant time: one decode and one encode instead of the three encodings and two decodings of
 *  pointMulBase + pointMul + pointAdd (each a field exponentiation; the ring signature's T_i). */
export function ed448_double_mul_base_ct(): i32 {
  const ok = geDecode(P1, S1);
  if (ok) {
    loadScalar(K1, S0, 57);
    loadScalar(K2, S2, 57);
    geMulCT(P2, P1, K2);
    geMulBaseCT(P1, K1);
    geToCached(P2, P2);
    geAdd(P1, P1, P2, false);
    geEncode(OUT, P1);
  }
  wipeAll();
  return <i32>ok;
}

export function ed448_add(): i32 {
  let bad: i32 = 0;
  if (!geDecode(P1, S0)) bad = 1;
  else if (!geDecode(P2, S1)) bad = 2;
  else {
    geToCached(P2, P2);
    geAdd(P1, P1, P2, false);
    geEncode(OUT, P1);
  }
  wipeAll();
  return bad;
}

export function sc_reduce(len: i32): void {
  const n = <usize>(len < 0 ? 0 : len > <i32>WIDE_BYTES ? <i32>WIDE_BYTES : len);
  loadScalar(K1, S0, n);
  scToBytes(OUT, K1);
  wipeAll();
}

export function sc_muladd(): void {
  loadScalar(K1, S0, 57);
  loadScalar(K2, S1, 57);
  loadScalar(K3, S2, 57);
  scMulAdd(K1, K1, K2, K3);
  scToBytes(OUT, K1);
  wipeAll();
}
