/**
 * The hybrid backend's own known answers, on top of the common self-test (../selftest.ts, which init() also
 * runs): the OpenSSL modexp path (computeSecret, for base 2 and for a base near p so the reduction is
 * exercised) in both groups, and OpenSSL's ChaCha20 on the RFC 8439 §2.4.2
 * vector (called directly: the backend would send 16 bytes to WASM). Throws OtrError('BACKEND') on a
 * mismatch, e.g. an OpenSSL build without ChaCha20 or a FIPS provider that refuses these calls.
 */
import type { CryptoBackend, DhGroupName } from '../types.js';
import { dhGroup } from '../../crypto/dh-groups.js';
import { bigToBytesBE, bytesToHex, hexToBytes } from '../../bytes.js';
import { OtrError } from '../../errors.js';

const KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const NONCE = '000000000000004a00000000';
const PT = '4c616469657320616e642047656e746c';
const CT = '6e2e359a2568f98041ba0728dd0d6981';

type Chacha = (key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number) => Uint8Array;

function check(ok: boolean, what: string): void {
  if (!ok) throw new OtrError('BACKEND', `hybrid backend failed its self-test (${what})`);
}

export function hybridSelfTest(b: CryptoBackend, openssl: Chacha): void {
  try {
    for (const name of ['modp3072', 'modp1536'] as DhGroupName[]) {
      const g = dhGroup(name);
      const pow = (base: bigint, exp: number) => bytesToHex(b.modPow(name, bigToBytesBE(base, g.bytes), Uint8Array.of(exp)));
      check(pow(2n, 10) === bytesToHex(bigToBytesBE(1024n, g.bytes)), `${name} 2^10`);
      // (p - 2)^3 = -8 mod p: a full-size base through computeSecret.
      check(pow(g.p - 2n, 3) === bytesToHex(bigToBytesBE(g.p - 8n, g.bytes)), `${name} (p-2)^3`);
    }
    check(bytesToHex(openssl(hexToBytes(KEY), hexToBytes(NONCE), hexToBytes(PT), 1)) === CT, 'chacha20');
  } catch (e) {
    if (e instanceof OtrError) throw e;
    throw new OtrError('BACKEND', `hybrid backend failed its self-test (${(e as Error)?.message ?? e})`);
  }
}
