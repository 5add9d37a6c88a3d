/**
 * OTRv3 symmetric primitives and key derivations (otrv3-protocol.html §Computing AES keys, MAC keys, and the
 * secure session id; §Extra symmetric key): AES-128-CTR, SHA-1/SHA-256, HMAC-SHA1, HMAC-SHA256(-160), and the
 * h1/h2 derivations over "secbytes" (the shared secret as a minimal MPI).
 */
import { ctr } from '@noble/ciphers/aes.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { CryptoBackend } from '../backend/types.js';
import { concatBytes, wipe } from '../bytes.js';
import { encode } from '../codec/primitives.js';
import { AKE_MAC_BYTES, SSID_BYTES } from './constants.js';

export { sha1, sha256 };

/** AES-128 in counter mode; `ctrTop` is the high 8 bytes of the initial counter block (low 8 bytes zero). */
export function aesCtr(key: Uint8Array, ctrTop: Uint8Array, data: Uint8Array): Uint8Array {
  const iv = new Uint8Array(16);
  iv.set(ctrTop, 0);
  return ctr(key, iv).encrypt(data);
}

export const hmacSha256 = (key: Uint8Array, data: Uint8Array): Uint8Array => hmac(sha256, key, data);
/** SHA256-HMAC-160: the first 20 bytes of HMAC-SHA256 (AKE signature MACs). */
export const hmacSha256_160 = (key: Uint8Array, data: Uint8Array): Uint8Array =>
  hmac(sha256, key, data).slice(0, AKE_MAC_BYTES);
/**
 * HMAC-SHA1 of a data message: the backend's (OpenSSL on the hybrid backend, ~6x faster on a large message:
 * what a forged one costs before it is refused) when it has one, else noble's — the same 20 bytes.
 */
export const hmacSha1 = (backend: Pick<CryptoBackend, 'hmacSha1'>, key: Uint8Array, data: Uint8Array): Uint8Array =>
  backend.hmacSha1 ? backend.hmacSha1(key, data) : hmac(sha1, key, data);

/** secbytes: the shared secret s (big-endian) re-encoded as a minimal MPI. */
export function secBytes(sharedBigEndian: Uint8Array): Uint8Array {
  return encode((w) => w.mpi(sharedBigEndian));
}

/** h2(b) = SHA-256(b ‖ secbytes). */
export function h2(b: number, secbytes: Uint8Array): Uint8Array {
  return sha256(concatBytes(Uint8Array.of(b), secbytes));
}

/** h1(b) = SHA-1(b ‖ secbytes). */
export function h1(b: number, secbytes: Uint8Array): Uint8Array {
  return sha1(concatBytes(Uint8Array.of(b), secbytes));
}

/** The seven values the AKE derives from s. */
export interface AkeKeys {
  ssid: Uint8Array;
  c: Uint8Array;
  cPrime: Uint8Array;
  m1: Uint8Array;
  m2: Uint8Array;
  m1Prime: Uint8Array;
  m2Prime: Uint8Array;
}

export function deriveAkeKeys(secbytes: Uint8Array): AkeKeys {
  const h0 = h2(0x00, secbytes);
  const hc = h2(0x01, secbytes);
  const keys = {
    ssid: h0.slice(0, SSID_BYTES),
    c: hc.slice(0, 16),
    cPrime: hc.slice(16, 32),
    m1: h2(0x02, secbytes),
    m2: h2(0x03, secbytes),
    m1Prime: h2(0x04, secbytes),
    m2Prime: h2(0x05, secbytes),
  };
  wipe(h0, hc);
  return keys;
}

export function wipeAkeKeys(k: AkeKeys): void {
  wipe(k.ssid, k.c, k.cPrime, k.m1, k.m2, k.m1Prime, k.m2Prime);
}

/** Per-(our key, their key) data-message keys. `high` says our public key is the numerically larger one. */
export interface SessionKeys {
  sendAes: Uint8Array;
  sendMac: Uint8Array;
  recvAes: Uint8Array;
  recvMac: Uint8Array;
  /** h2(0xFF): the extra symmetric key for messages under this key pair. */
  extraKey: Uint8Array;
}

export function deriveSessionKeys(secbytes: Uint8Array, high: boolean): SessionKeys {
  const sendByte = high ? 0x01 : 0x02;
  const recvByte = high ? 0x02 : 0x01;
  const hs = h1(sendByte, secbytes);
  const hr = h1(recvByte, secbytes);
  const sendAes = hs.slice(0, 16);
  const recvAes = hr.slice(0, 16);
  wipe(hs, hr);
  return { sendAes, sendMac: sha1(sendAes), recvAes, recvMac: sha1(recvAes), extraKey: h2(0xff, secbytes) };
}
