/**
 * What the non-interactive DAKE hashes, signs and MACs (otrv4.md §Non-Interactive-Auth Message,
 * §Non-Interactive DAKE Overview; decisions in docs/offline.md). "Bob" is the prekey publisher (he receives the
 * Non-Interactive-Auth message), "Alice" the sender:
 *
 *   phi   = INT(Alice tag) || INT(Bob tag) || POINT(X_first) || MPI(A_first) || POINT(Y) || MPI(B)
 *           || DATA(Alice's account id) || DATA(Bob's account id)
 *           (the interactive phi of ake/transcript.ts, sender first; Bob's "first keys" are his prekey keys)
 *   t     = H(0x0E, Bob's CLIENT-PROF, 64) || H(0x0F, Alice's CLIENT-PROF, 64) || Y || X || MPI(B) || MPI(A)
 *           || D || H(0x10, phi, 64)        (no leading tag byte: the spec's t has none here)
 *   tmp_k = KDF(0x0C, ECDH(x, Y) || ECDH(x, D) || ECDH(x, H_b) || KDF(0x01, DH(a, B), 32), 64)
 *   auth_mac_k = KDF(0x0D, tmp_k, 64),  Auth MAC = KDF(0x11, auth_mac_k || t, 64)
 *   K = KDF(0x03, tmp_k, 64),  SSID = KDF(0x04, K, 8),  prev_root = KDF(0x0B, K, 64)
 */
import type { CryptoBackend } from '../backend/types.js';
import { kdf } from '../crypto/kdf.js';
import { Usage } from '../crypto/usage.js';
import { Writer } from '../codec/primitives.js';
import { wipe } from '../bytes.js';
import { encodePhi, secretsFromK, type PhiParty, type TranscriptKeys } from '../ake/transcript.js';

const HASH_BYTES = 64;
export const TMP_KEY_BYTES = 64;
export const AUTH_MAC_BYTES = 64;

/** The interactive t's public values (Bob's Y and B are his prekey's), plus D. */
export interface NonInteractiveTranscriptKeys extends TranscriptKeys {
  /** D, Bob's public shared prekey. */
  readonly sharedPrekey: Uint8Array;
}

/** phi with Alice (the sender of the signed message) first; Bob's first keys are his prekey's Y and B. */
export function nonInteractivePhi(alice: PhiParty, bob: PhiParty): Uint8Array {
  return encodePhi(alice, bob);
}

export function nonInteractiveTranscript(b: CryptoBackend, k: NonInteractiveTranscriptKeys, phi: Uint8Array): Uint8Array {
  const w = new Writer(4 * HASH_BYTES + 3 * 57 + 2 * (4 + 384));
  w.raw(kdf(b, Usage.nonIntAuthBobClientProfile, [k.bobProfile], HASH_BYTES));
  w.raw(kdf(b, Usage.nonIntAuthAliceClientProfile, [k.aliceProfile], HASH_BYTES));
  w.point(k.y).point(k.x).mpi(k.b).mpi(k.a).point(k.sharedPrekey);
  w.raw(kdf(b, Usage.nonIntAuthPhi, [phi], HASH_BYTES));
  return w.finish();
}

/** tmp_k from the four shared values (all computed by the caller, who wipes them). */
export function tmpKey(b: CryptoBackend, kEcdh: Uint8Array, sharedPrekeyEcdh: Uint8Array, identityEcdh: Uint8Array, braceKey: Uint8Array): Uint8Array {
  return kdf(b, Usage.tmpKey, [kEcdh, sharedPrekeyEcdh, identityEcdh, braceKey], TMP_KEY_BYTES);
}

/** Auth MAC = KDF(0x11, KDF(0x0D, tmp_k, 64) || t, 64). */
export function authMac(b: CryptoBackend, tmpK: Uint8Array, t: Uint8Array): Uint8Array {
  const macKey = kdf(b, Usage.authMacKey, [tmpK], 64);
  try {
    return kdf(b, Usage.authMac, [macKey, t], AUTH_MAC_BYTES);
  } finally {
    wipe(macKey);
  }
}

/** SSID and the first root key from tmp_k. */
export function nonInteractiveSecrets(b: CryptoBackend, tmpK: Uint8Array): { ssid: Uint8Array; prevRoot: Uint8Array } {
  const k = kdf(b, Usage.sharedSecret, [tmpK], 64);
  try {
    return secretsFromK(b, k);
  } finally {
    wipe(k);
  }
}
