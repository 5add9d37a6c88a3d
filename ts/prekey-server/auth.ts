/**
 * The prekey-server DAKE's transcript, shared secret and MACs (otrv4-prekey-server.md §Shared Session State,
 * §Prekey Server Composite Identity, §Key Exchange, §DAKE-2/3, §Prekey Publication, §Storage Information
 * Request, §Storage Status, §Success, §Failure). KDF_PS is SHAKE-256("OTR-Prekey-Server" || usage || …):
 *
 *   phi  = DATA(publisher identity) || DATA(server identity)         (publisher first, as the XMPP example)
 *   t_2  = 0x00 || KDF_PS(0x02, CLIENT-PROF, 64) || KDF_PS(0x03, COMP-ID, 64) || I || S || KDF_PS(0x04, phi, 64)
 *   t_3  = 0x01 || KDF_PS(0x05, …) || KDF_PS(0x06, …) || I || S || KDF_PS(0x07, phi, 64)
 *   SK   = KDF_PS(0x01, ECDH, 64),  prekey_mac_k = KDF_PS(0x08, SK, 64)
 *   Prekey MAC = KDF_PS(0x09, prekey_mac_k || 0x08 || BYTE N || KDF_PS(0x0E, messages, 64) || BYTE K
 *                [|| KDF_PS(0x0F, CLIENT-PROF, 64)] || BYTE J [|| KDF_PS(0x10, PREKEY-PROF, 64)]
 *                || KDF_PS(0x16, proofs, 64), 64)
 *   Storage Information MAC = KDF_PS(0x0A, prekey_mac_k || 0x09, 64)
 *   Status MAC  = KDF_PS(0x0B, prekey_mac_k || 0x0B || INT receiver tag || INT count, 64)
 *   Success MAC = KDF_PS(0x0C, prekey_mac_k || 0x06 || INT receiver tag, 64); Failure: 0x0D, 0x05.
 *
 * The spec's "only prekey messages" Prekey MAC puts the proofs hash outside the KDF's parenthesis in one place
 * and inside in the next; we take it inside, like the other three cases (docs/offline.md).
 */
import type { CryptoBackend } from '../backend/types.js';
import { Writer } from '../codec/primitives.js';
import { kdf, prekeyServerKdf } from '../crypto/kdf.js';
import { PrekeyServerUsage as U, Usage } from '../crypto/usage.js';
import { utf8 } from '../bytes.js';
import { PsType, type PublicationBody } from './messages.js';

const H = 64;

export function serverPhi(publisherIdentity: string, serverIdentity: string): Uint8Array {
  return new Writer(64).data(utf8(publisherIdentity)).data(utf8(serverIdentity)).finish();
}

export interface ServerTranscriptParts {
  readonly clientProfile: Uint8Array;
  readonly compositeIdentity: Uint8Array;
  readonly i: Uint8Array;
  readonly s: Uint8Array;
  readonly phi: Uint8Array;
}

function transcript(b: CryptoBackend, tag: number, u: readonly [number, number, number], p: ServerTranscriptParts): Uint8Array {
  const w = new Writer(1 + 3 * H + 2 * 57);
  w.byte(tag);
  w.raw(prekeyServerKdf(b, u[0], [p.clientProfile], H));
  w.raw(prekeyServerKdf(b, u[1], [p.compositeIdentity], H));
  w.point(p.i).point(p.s);
  w.raw(prekeyServerKdf(b, u[2], [p.phi], H));
  return w.finish();
}

/** t signed by the server in DAKE-2 (ring {H_a, H_s, I}). */
export function dake2Transcript(b: CryptoBackend, p: ServerTranscriptParts): Uint8Array {
  return transcript(b, 0x00, [U.initiatorClientProfile, U.initiatorPrekeyCompositeIdentity, U.initiatorPrekeyCompositePhi], p);
}

/** t signed by the publisher in DAKE-3 (ring {H_a, H_s, S}). */
export function dake3Transcript(b: CryptoBackend, p: ServerTranscriptParts): Uint8Array {
  return transcript(b, 0x01, [U.receiverClientProfile, U.receiverPrekeyCompositeIdentity, U.receiverPrekeyCompositePhi], p);
}

/** SK from the ECDH output (which the caller wipes). */
export function serverSharedSecret(b: CryptoBackend, skEcdh: Uint8Array): Uint8Array {
  return prekeyServerKdf(b, U.sk, [skEcdh], 64);
}

export function prekeyMacKey(b: CryptoBackend, sk: Uint8Array): Uint8Array {
  return prekeyServerKdf(b, U.preMacKey, [sk], 64);
}

/** The Prekey MAC over a publication's parts as sent (their exact bytes). */
export function publicationMac(
  b: CryptoBackend,
  macKey: Uint8Array,
  parts: { readonly n: number; readonly prekeyMessagesBytes: Uint8Array; readonly clientProfile?: Uint8Array; readonly prekeyProfile?: Uint8Array; readonly proofsBytes: Uint8Array },
): Uint8Array {
  const values: Uint8Array[] = [macKey, Uint8Array.of(PsType.publication, parts.n), prekeyServerKdf(b, U.prekeyMessage, [parts.prekeyMessagesBytes], H)];
  values.push(Uint8Array.of(parts.clientProfile ? 1 : 0));
  if (parts.clientProfile) values.push(prekeyServerKdf(b, U.clientProfile, [parts.clientProfile], H));
  values.push(Uint8Array.of(parts.prekeyProfile ? 1 : 0));
  if (parts.prekeyProfile) values.push(prekeyServerKdf(b, U.prekeyProfile, [parts.prekeyProfile], H));
  values.push(prekeyServerKdf(b, U.macProofs, [parts.proofsBytes], H));
  return prekeyServerKdf(b, U.preMac, values, H);
}

/** The Prekey MAC of a publication body: the publisher over the bytes it sends, the server over those it received. */
export function publicationBodyMac(b: CryptoBackend, macKey: Uint8Array, body: PublicationBody, prekeyMessagesBytes: Uint8Array, proofsBytes: Uint8Array): Uint8Array {
  return publicationMac(b, macKey, {
    n: body.prekeyMessages.length,
    prekeyMessagesBytes,
    proofsBytes,
    ...(body.clientProfile ? { clientProfile: body.clientProfile.encoded } : {}),
    ...(body.prekeyProfile ? { prekeyProfile: body.prekeyProfile.encoded } : {}),
  });
}

export function storageInfoMac(b: CryptoBackend, macKey: Uint8Array): Uint8Array {
  return prekeyServerKdf(b, U.storageInfoMac, [macKey, Uint8Array.of(PsType.storageInfoRequest)], H);
}

export function storageStatusMac(b: CryptoBackend, macKey: Uint8Array, receiverTag: number, count: number): Uint8Array {
  return prekeyServerKdf(b, U.statusMac, [macKey, new Writer(9).byte(PsType.storageStatus).int(receiverTag).int(count).finish()], H);
}

export function outcomeMac(b: CryptoBackend, macKey: Uint8Array, type: typeof PsType.success | typeof PsType.failure, receiverTag: number): Uint8Array {
  const usage = type === PsType.success ? U.successMac : U.failureMac;
  return prekeyServerKdf(b, usage, [macKey, new Writer(5).byte(type).int(receiverTag).finish()], H);
}

/** The server's fingerprint: the OTRv4 KDF (not KDF_PS), usage 0x00, over POINT(H_s), 56 bytes. */
export function serverFingerprint(b: CryptoBackend, serverKey: Uint8Array): Uint8Array {
  return kdf(b, Usage.fingerprint, [serverKey], 56);
}
