/**
 * The hybrid backend's own known answers, on top of the common self-test (../selftest.ts, which init() also
 * runs): the OpenSSL modexp path (computeSecret, for base 2 and for a base near p so the reduction is
 * exercised) in both groups, OpenSSL's ChaCha20 on the RFC 8439 §2.4.2
 * vector and OpenSSL's HMAC-SHA1 on RFC 2202's second test case (both called directly: the backend sends
 * inputs that small to WASM, which the common self-test checks), and the Ed448 verification of validated
 * keys on RFC 8032's first vector. Throws OtrError('BACKEND') on a
 * mismatch, e.g. an OpenSSL build without ChaCha20 or a FIPS provider that refuses these calls.
 */
import { hmacAnswers } from '../selftest.js';
import type { CryptoBackend, DhGroupName } from '../types.js';
import { dhGroup } from '../../crypto/dh-groups.js';
import { bigToBytesBE, bytesToHex, hexToBytes } from '../../bytes.js';
import { OtrError } from '../../errors.js';

const KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const NONCE = '000000000000004a00000000';
const PT = '4c616469657320616e642047656e746c';
const CT = '6e2e359a2568f98041ba0728dd0d6981';

const ED448_PUB = '5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180';
const ED448_SIG =
  '533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd3980' +
  'ff0d2028d4b18a9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4dbb61149f05a7363268c71d95808ff2e652600';

/** OpenSSL's own kernels, past the backend's size thresholds. */
interface OpensslKernels {
  chacha20(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number): Uint8Array;
  hmacSha1(key: Uint8Array, data: Uint8Array): Uint8Array;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new OtrError('BACKEND', `hybrid backend failed its self-test (${what})`);
}

export function hybridSelfTest(b: CryptoBackend, openssl: OpensslKernels): void {
  try {
    for (const name of ['modp3072', 'modp1536'] as DhGroupName[]) {
      const g = dhGroup(name);
      const pow = (base: bigint, exp: number) => bytesToHex(b.modPow(name, bigToBytesBE(base, g.bytes), Uint8Array.of(exp)));
      check(pow(2n, 10) === bytesToHex(bigToBytesBE(1024n, g.bytes)), `${name} 2^10`);
      // (p - 2)^3 = -8 mod p: a full-size base through computeSecret.
      check(pow(g.p - 2n, 3) === bytesToHex(bigToBytesBE(g.p - 8n, g.bytes)), `${name} (p-2)^3`);
    }
    check(bytesToHex(openssl.chacha20(hexToBytes(KEY), hexToBytes(NONCE), hexToBytes(PT), 1)) === CT, 'chacha20');
    check(hmacAnswers(openssl), 'hmac-sha1'); // the shared RFC 2202 check (../selftest.ts), on OpenSSL's HMAC
    // RFC 8032 §7.4 "Blank": accepted, and refused with one bit of S flipped (./ed448.ts).
    if (b.ed448VerifyValidKey) {
      const sig = hexToBytes(ED448_SIG);
      check(b.ed448VerifyValidKey(hexToBytes(ED448_PUB), new Uint8Array(0), sig), 'ed448 verify');
      sig[60]! ^= 1;
      check(!b.ed448VerifyValidKey(hexToBytes(ED448_PUB), new Uint8Array(0), sig), 'ed448 verify refuses');
    }
  } catch (e) {
    if (e instanceof OtrError) throw e;
    throw new OtrError('BACKEND', `hybrid backend failed its self-test (${(e as Error)?.message ?? e})`);
  }
}
