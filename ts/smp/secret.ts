/**
 * The SMP secret value x (or y) (otrv4.md §Secret Information; interpretations.md §9):
 *
 *   input = 0x01 (SMP version) || fingerprint(initiator) (56) || fingerprint(responder) (56) || SSID (8)
 *           || DATA(answer as UTF-8)
 *   x     = prune(KDF(usage_SMP_secret = 0x19, input, 57)), read little-endian
 *
 * "Initiator" is whoever sent SMP message 1, so both sides put the same fingerprint first. Binding both
 * fingerprints and the SSID means a man in the middle, who has a different session (and keys) with each
 * side, gets different secrets on the two sides even when the users typed the same answer.
 *
 * Interop note: this follows otrr and the spec text (57 bytes, pruned). otr4j follows an older draft:
 * KDF(0x19, input, 64) read little-endian mod q, without pruning. The two give different x for the same
 * answer, so SMP between this library (or otrr) and otr4j always reports "failed".
 */
import type { CryptoBackend } from '../backend/types.js';
import { abytes, utf8, wipe } from '../bytes.js';
import { kdf } from '../crypto/kdf.js';
import { Usage } from '../crypto/usage.js';
import { pruneScalar } from '../crypto/eddsa.js';

export const SMP_VERSION = 1;
export const FINGERPRINT_BYTES = 56;
export const SSID_BYTES = 8;
export const SMP_SECRET_BYTES = 57;
const VERSION_BYTE = Uint8Array.of(SMP_VERSION);

/** What the session and the user contribute to the secret, from one side's point of view. */
export interface SmpSecretInput {
  /** Our long-term key fingerprint in this conversation (56 bytes). */
  ourFingerprint: Uint8Array;
  /** The peer's fingerprint in this conversation (56 bytes). */
  theirFingerprint: Uint8Array;
  /** The conversation's SSID (8 bytes). */
  ssid: Uint8Array;
  /** The user's answer; a string is encoded as UTF-8. */
  answer: string | Uint8Array;
}

/**
 * x as 57 little-endian bytes (pruned, so in [2^447, 2^448): not reduced mod q; callers reduce it with the
 * backend). Throws OtrArgumentError on wrong input lengths (a caller error, never peer input).
 */
export function smpSecret(
  b: CryptoBackend,
  initiatorFingerprint: Uint8Array,
  responderFingerprint: Uint8Array,
  ssid: Uint8Array,
  answer: string | Uint8Array,
): Uint8Array {
  abytes(initiatorFingerprint, FINGERPRINT_BYTES, 'initiator fingerprint');
  abytes(responderFingerprint, FINGERPRINT_BYTES, 'responder fingerprint');
  abytes(ssid, SSID_BYTES, 'SSID');
  const answerBytes = typeof answer === 'string' ? utf8(answer) : abytes(answer, undefined, 'answer');
  // The KDF hashes its parts in order, so the input is never assembled into one (unwipeable) copy.
  const dataLength = new Uint8Array(4);
  new DataView(dataLength.buffer).setUint32(0, answerBytes.length); // DATA: 4-byte big-endian length
  const parts = [VERSION_BYTE, initiatorFingerprint, responderFingerprint, ssid, dataLength, answerBytes];
  const x = pruneScalar(kdf(b, Usage.smpSecret, parts, SMP_SECRET_BYTES));
  if (typeof answer === 'string') wipe(answerBytes);
  return x;
}

/** The secret for one side: `initiator` says whether we sent SMP message 1. */
export function smpSecretFor(b: CryptoBackend, input: SmpSecretInput, initiator: boolean): Uint8Array {
  return initiator
    ? smpSecret(b, input.ourFingerprint, input.theirFingerprint, input.ssid, input.answer)
    : smpSecret(b, input.theirFingerprint, input.ourFingerprint, input.ssid, input.answer);
}
