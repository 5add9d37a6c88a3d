// The commitments of an OTRv4 ring signature (ts/crypto/ring-sig.ts), T_i = G·x_i + A_i·y_i for the three
// ring members, in one call each for signing and verifying. Against three pointDoubleMulBase(CT) calls this
// decodes each member once (also when it validates it), encodes the three T_i with one inversion, and, when
// signing, multiplies only the two members that are simulated: the signer's own slot has y = 0, so its T is
// G·t alone. Which two slots those are is secret (deniability), so the two members and their scalars are
// picked by masks and the products are routed back to their slots by masks: no branch or address depends on
// the signer's slot, and every call does the same work (2 variable-base and 4 fixed-base multiplications).
//
// I/O layout (64-byte slots at IO + 64*n; points are 57-byte RFC 8032 encodings, scalars 57-byte
// little-endian integers taken mod q, as everywhere in assembly/ed448.ts):
//
//   ed448_ring_sign_commit(flags)      flags: bit 0 validate, bit 1 skip the G·secret check (a key pair the
//                                      caller checked once already: ts/crypto/ring-sig.ts CheckedSigner),
//                                      bits 2-4: member 1-3 comes with its decoded-x hint (below).
//                                      A1..A3 slots 0-2, public key slot 3, secret slot 4, t slot 5,
//                                      c1..c3 slots 6-8, r1..r3 slots 9-11, signer flags slot 12 (byte i = 1
//                                      iff slot i signs; at most one set), hints x1..x3 slots 13-15
//     -> T1..T3 at slots 16-18, where T_i = G·t for the signer's slot and G·r_i + A_i·c_i for the others.
//        Returns 0; i (1..3) if member i does not decode (or, with validate, is not a valid point: identity or
//        outside the prime-order subgroup; checked first, in order: public information); 4 if G·secret is not
//        the public key (compared in constant time; T is computed either way; never with bit 1 of flags).
//   ed448_ring_verify_commit(flags)    flags: bit 0 validate, bits 2-4 hints as above. A1..A3 slots 0-2,
//                                      c1..c3 slots 6-8, r1..r3 slots 9-11, hints slots 13-15
//     -> T1..T3 at slots 16-18, T_i = G·r_i + A_i·c_i. VARIABLE time (all inputs public). Returns 0, or i as
//        above for a member that does not decode / is not valid.
//
// Hints: a member's affine x (56 bytes, little-endian), which the WASM adapter kept beside that member's
// array when an earlier call validated it (assembly/ed448.ts, "The decoded-x hint"). A hinted
// member is decoded by ge448.ts geDecodeHinted — a few products instead of a square root — and by geDecode
// when the hint does not prove out, so a hint never changes a result or a refusal. Members are public: which
// of them carry a hint is public too.
//
// Every entry point zeroes the input slots and all of its scratch before returning; the caller zeroes the
// output slots after reading them.
import { IO } from './io';
import { Ge, GE_SIZE, geAdd, geToCached, geDecode, geDecodeHinted, geIsIdentity, geIdentity, geEncodeBatch } from './ge448';
import { geMulCT, geMulBaseCT, geDoubleMulVar, geMulWipe } from './ge448mul';
import { SC_SIZE, scReduce57, scWipe } from './sc448';
import { geIsTorsionFree } from './ge448subgroup';

const SLOT: usize = 64;
const IN_A: usize = IO;
const IN_PUB: usize = IO + 3 * SLOT;
const IN_SEC: usize = IO + 4 * SLOT;
const IN_T: usize = IO + 5 * SLOT;
const IN_C: usize = IO + 6 * SLOT;
const IN_R: usize = IO + 9 * SLOT;
const IN_SEL: usize = IO + 12 * SLOT;
const IN_HINT: usize = IO + 13 * SLOT;
const IN_BYTES: usize = 16 * SLOT;
const OUT_T: usize = IO + 16 * SLOT;

const PA: usize = memory.data(3 * <i32>GE_SIZE, 16); // the decoded members
const TS: usize = memory.data(4 * <i32>GE_SIZE, 16); // T1..T3, then G·secret: encoded together
const Q1: Ge = memory.data(<i32>GE_SIZE, 16);
const Q2: Ge = memory.data(<i32>GE_SIZE, 16);
const QP: Ge = memory.data(<i32>GE_SIZE, 16);
const ADD: Ge = memory.data(<i32>GE_SIZE, 16);
const KS: usize = memory.data(7 * <i32>SC_SIZE, 16); // t, c1..c3, r1..r3 reduced
const KX: usize = memory.data(<i32>SC_SIZE, 16);
const PUB_ENC: usize = memory.data(64, 16);

function wipeAll(): void {
  memory.fill(IO, 0, IN_BYTES);
  memory.fill(PA, 0, 3 * GE_SIZE);
  memory.fill(TS, 0, 4 * GE_SIZE);
  memory.fill(Q1, 0, GE_SIZE);
  memory.fill(Q2, 0, GE_SIZE);
  memory.fill(QP, 0, GE_SIZE);
  memory.fill(ADD, 0, GE_SIZE);
  memory.fill(KS, 0, 7 * SC_SIZE);
  scWipe(KX);
  memory.fill(PUB_ENC, 0, 64);
  geMulWipe(); // also the field and formula scratch
}

/** k = (57-byte little-endian integer at src) mod q. */
function loadScalar(k: usize, src: usize): void {
  scReduce57(k, src);
}

@inline function ks(i: i32): usize { return KS + <usize>i * SC_SIZE; } // 0 = t, 1..3 = c, 4..6 = r
@inline function pa(i: i32): Ge { return PA + <usize>i * GE_SIZE; }
@inline function ts(i: i32): Ge { return TS + <usize>i * GE_SIZE; }

/** o = mask ? a : o over n bytes (n a multiple of 8), reading and writing every word either way. */
function cmov(o: usize, a: usize, n: usize, mask: u64): void {
  for (let i: usize = 0; i < n; i += 8) {
    const x = load<u64>(o + i);
    store<u64>(o + i, x ^ ((x ^ load<u64>(a + i)) & mask));
  }
}

/** Decodes the three members into PA (through the hints that `flags` bits 2-4 announce); with `validate`
 *  (bit 0), also refuses the identity and torsion. Returns the 1-based index of the first member that fails,
 *  or 0. Public inputs: the early exit leaks nothing. */
function decodeRing(flags: i32): i32 {
  const validate = (flags & 1) != 0;
  for (let i: i32 = 0; i < 3; i++) {
    const src = IN_A + <usize>i * SLOT;
    let ok = (flags & (4 << i)) != 0 && geDecodeHinted(pa(i), src, IN_HINT + <usize>i * SLOT);
    if (!ok) ok = geDecode(pa(i), src);
    if (ok && validate) ok = geIsIdentity(pa(i)) == 0 && geIsTorsionFree(pa(i));
    if (!ok) return i + 1;
  }
  return 0;
}

export function ed448_ring_sign_commit(flags: i32): i32 {
  const bad = decodeRing(flags);
  if (bad != 0) {
    wipeAll();
    return bad;
  }
  // Signer masks: all-ones for the signer's slot.
  const m0 = <u64>0 - <u64>(load<u8>(IN_SEL) & 1);
  const m1 = <u64>0 - <u64>(load<u8>(IN_SEL + 1) & 1);
  const m2 = <u64>0 - <u64>(load<u8>(IN_SEL + 2) & 1);
  loadScalar(ks(0), IN_T);
  for (let i: i32 = 0; i < 3; i++) {
    loadScalar(ks(1 + i), IN_C + <usize>i * SLOT);
    loadScalar(ks(4 + i), IN_R + <usize>i * SLOT);
  }
  // The simulated slots, in order: the first is slot 0 unless slot 0 signs (then 1), the second slot 2
  // unless slot 2 signs (then 1). Q1 = A_first·c_first, Q2 = A_second·c_second.
  memory.copy(QP, pa(0), GE_SIZE);
  cmov(QP, pa(1), GE_SIZE, m0);
  memory.copy(KX, ks(1), SC_SIZE);
  cmov(KX, ks(2), SC_SIZE, m0);
  geMulCT(Q1, QP, KX);
  memory.copy(QP, pa(2), GE_SIZE);
  cmov(QP, pa(1), GE_SIZE, m2);
  memory.copy(KX, ks(3), SC_SIZE);
  cmov(KX, ks(2), SC_SIZE, m2);
  geMulCT(Q2, QP, KX);
  geToCached(Q1, Q1);
  geToCached(Q2, Q2);
  // T_i = G·x_i + (the product routed to slot i, or the identity in the signer's slot), x_i = t or r_i.
  for (let i: i32 = 0; i < 3; i++) {
    const mi = i == 0 ? m0 : i == 1 ? m1 : m2;
    memory.copy(KX, ks(4 + i), SC_SIZE);
    cmov(KX, ks(0), SC_SIZE, mi);
    geMulBaseCT(ts(i), KX);
    geIdentity(ADD);
    if (i == 0) cmov(ADD, Q1, GE_SIZE, ~m0);
    else if (i == 1) {
      cmov(ADD, Q1, GE_SIZE, m0);
      cmov(ADD, Q2, GE_SIZE, m2);
    } else cmov(ADD, Q2, GE_SIZE, ~m2);
    geAdd(ts(i), ts(i), ADD, false);
  }
  // Bit 1: the pair was checked once by the caller (public flag): the T_i alone, one fixed-base product fewer.
  if ((flags & 2) != 0) {
    geEncodeBatch(OUT_T, SLOT, TS, 3);
    wipeAll();
    return 0;
  }
  // The caller's secret must be the one behind its public key: G·secret, encoded with the T_i.
  loadScalar(KX, IN_SEC);
  geMulBaseCT(ts(3), KX);
  geEncodeBatch(OUT_T, SLOT, TS, 4);
  const enc = OUT_T + 3 * SLOT;
  let diff: u32 = 0;
  for (let j: usize = 0; j < 57; j++) diff |= <u32>load<u8>(enc + j) ^ <u32>load<u8>(IN_PUB + j);
  memory.fill(enc, 0, SLOT);
  wipeAll();
  return diff == 0 ? 0 : 4;
}

export function ed448_ring_verify_commit(flags: i32): i32 {
  const bad = decodeRing(flags);
  if (bad == 0) {
    for (let i: i32 = 0; i < 3; i++) {
      loadScalar(ks(1 + i), IN_C + <usize>i * SLOT);
      loadScalar(ks(4 + i), IN_R + <usize>i * SLOT);
      geDoubleMulVar(ts(i), ks(4 + i), pa(i), ks(1 + i));
    }
    geEncodeBatch(OUT_T, SLOT, TS, 3);
  }
  wipeAll();
  return bad;
}
