/**
 * What the interactive DAKE's ring signatures sign, and the secrets it derives (otrv4.md §Shared Session State,
 * §Auth-R Message, §Auth-I Message, §Interactive DAKE Overview; interpretations.md §3, §5):
 *
 *   phi_R = INT(Alice tag) || INT(Bob tag) || POINT(Alice ecdh0) || MPI(Alice dh0) || POINT(Bob ecdh0) ||
 *           MPI(Bob dh0) || DATA(Alice's account id) || DATA(Bob's account id)
 *   phi_I = the same with Bob's values first              (the sender of the signed message first; unsorted)
 *   t_R   = 0x00 || H(0x05, Bob's profile, 64) || H(0x06, Alice's profile, 64) || Y || X || MPI(B) || MPI(A)
 *           || H(0x07, phi_R, 64)
 *   t_I   = 0x01 || H(0x08, …) || H(0x09, …) || Y || X || MPI(B) || MPI(A) || H(0x0A, phi_I, 64)
 *   K     = KDF(0x03, ECDH || KDF(0x01, k_dh, 32), 64),  SSID = KDF(0x04, K, 8),  prev_root = KDF(0x0B, K, 64)
 *
 * Bob sends Identity (Y, B) and Auth-I; Alice sends Auth-R (X, A). Profiles are hashed over their exact
 * received encodings. Account ids are host-supplied bytes (DATA), so one side's own id must equal the other
 * side's peer id byte for byte.
 */
import type { CryptoBackend } from '../backend/types.js';
import { kdf } from '../crypto/kdf.js';
import { Usage } from '../crypto/usage.js';
import { Writer } from '../codec/primitives.js';
import { wipe } from '../bytes.js';
import { braceKeyFromDh, mixedSecret } from '../ratchet/keys.js';

export const SSID_BYTES = 8;
export const PREV_ROOT_BYTES = 64;
const PROFILE_HASH_BYTES = 64;
const PHI_HASH_BYTES = 64;

/** One side's contribution to phi. */
export interface PhiParty {
  readonly tag: number;
  readonly ecdh0: Uint8Array;
  readonly dh0: Uint8Array;
  readonly accountId: Uint8Array;
}

/** phi with `first` (the sender of the signed message) first. */
export function encodePhi(first: PhiParty, second: PhiParty): Uint8Array {
  const w = new Writer(2 * (4 + 57 + 4 + 384 + 4) + first.accountId.length + second.accountId.length);
  w.int(first.tag).int(second.tag);
  w.point(first.ecdh0).mpi(first.dh0).point(second.ecdh0).mpi(second.dh0);
  w.data(first.accountId).data(second.accountId);
  return w.finish();
}

/** The public values both t's cover. */
export interface TranscriptKeys {
  readonly bobProfile: Uint8Array;
  readonly aliceProfile: Uint8Array;
  readonly y: Uint8Array;
  readonly x: Uint8Array;
  readonly b: Uint8Array;
  readonly a: Uint8Array;
}

function encodeT(b: CryptoBackend, tag: number, usages: readonly [number, number, number], k: TranscriptKeys, phi: Uint8Array): Uint8Array {
  const w = new Writer(1 + 3 * 64 + 2 * 57 + 2 * (4 + 384));
  w.byte(tag);
  w.raw(kdf(b, usages[0], [k.bobProfile], PROFILE_HASH_BYTES));
  w.raw(kdf(b, usages[1], [k.aliceProfile], PROFILE_HASH_BYTES));
  w.point(k.y).point(k.x).mpi(k.b).mpi(k.a);
  w.raw(kdf(b, usages[2], [phi], PHI_HASH_BYTES));
  return w.finish();
}

const T_R_TAG = 0x00;
const T_I_TAG = 0x01;

/** t signed by Alice in Auth-R; `alice` goes first in phi. */
export function authRTranscript(b: CryptoBackend, k: TranscriptKeys, alice: PhiParty, bob: PhiParty): Uint8Array {
  const usages = [Usage.authRBobClientProfile, Usage.authRAliceClientProfile, Usage.authRPhi] as const;
  return encodeT(b, T_R_TAG, usages, k, encodePhi(alice, bob));
}

/** t signed by Bob in Auth-I; `bob` goes first in phi. */
export function authITranscript(b: CryptoBackend, k: TranscriptKeys, alice: PhiParty, bob: PhiParty): Uint8Array {
  const usages = [Usage.authIBobClientProfile, Usage.authIAliceClientProfile, Usage.authIPhi] as const;
  return encodeT(b, T_I_TAG, usages, k, encodePhi(bob, alice));
}

/** The DAKE's outputs: SSID and the first root key, from K over ECDH(x, Y) and DH(a, B) (a DH step). */
export function dakeSecrets(b: CryptoBackend, kEcdh: Uint8Array, kDh: Uint8Array): { ssid: Uint8Array; prevRoot: Uint8Array } {
  const brace = braceKeyFromDh(b, kDh);
  const k = mixedSecret(b, kEcdh, brace);
  try {
    return secretsFromK(b, k);
  } finally {
    wipe(brace, k);
  }
}

/**
 * SSID = KDF(0x04, K, 8) and prev_root = KDF(0x0B, K, 64) from the mixed secret K; both DAKEs end here
 * (the non-interactive one with K from tmp_k). The caller wipes K.
 */
export function secretsFromK(b: CryptoBackend, k: Uint8Array): { ssid: Uint8Array; prevRoot: Uint8Array } {
  return { ssid: kdf(b, Usage.ssid, [k], SSID_BYTES), prevRoot: kdf(b, Usage.firstRootKey, [k], PREV_ROOT_BYTES) };
}

/**
 * The simultaneous-Identity tie-break value: plain SHAKE-256(MPI(B), 32), no "OTRv4" prefix, the 4-byte MPI
 * length included (interpretations.md §3).
 */
export function identityTieBreak(b: CryptoBackend, dhPublic: Uint8Array): Uint8Array {
  return b.shake256([new Writer(4 + dhPublic.length).mpi(dhPublic).finish()], 32);
}

/** True if `ours` is the higher of two tie-break values compared as unsigned big-endian integers. */
export function tieBreakWeWin(ours: Uint8Array, theirs: Uint8Array): boolean {
  for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) return ours[i]! > theirs[i]!;
  return false;
}
