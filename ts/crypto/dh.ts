/**
 * OTRv4's finite-field Diffie-Hellman in the RFC 3526 3072-bit group (otrv4.md §3072-bit Diffie-Hellman
 * Parameters, §Verifying that an integer is in the DH group, §Generating ECDH and DH keys; interpretations.md
 * §5). Every function takes the group as a last, defaulted parameter so the OTRv3 fallback reuses them with
 * 'modp1536'.
 *
 * Also here: the argument contract of `CryptoBackend.modPow` / `legendre` (lengths and the exponent cap),
 * so both backends reject the same inputs with the same error.
 */
import type { CryptoBackend, DhGroupName } from '../backend/types.js';
import { abytes, bigToBytesBE, wipe } from '../bytes.js';
import { OtrCryptoError } from '../errors.js';
import { checkModPowArgs, dhGroup, type DhGroup } from './dh-groups.js';
export { checkLegendreArg, checkModPowArgs, dhGroup } from './dh-groups.js';
import type { RandomSource } from './random.js';
import type { ValidDhPublic } from './validated.js';

/** otrv4.md §Generating ECDH and DH keys: r is 80 random bytes (640 bits, twice the ~128-bit security level). */
export const DH_SECRET_BYTES = 80;

export interface DhKeyPair {
  /** r: 80 random bytes, used as a big-endian exponent. Secret: the owner wipes it when the key rotates. */
  readonly secret: Uint8Array;
  /** g^r mod p, minimal big-endian bytes (ready for an MPI). */
  readonly public: Uint8Array;
}

/** Drops leading zero bytes (a fresh array): the minimal big-endian form the spec serialises. */
function minimal(x: Uint8Array): Uint8Array {
  let i = 0;
  while (i < x.length && x[i] === 0) i++;
  return x.slice(i);
}

const GENERATOR = new Uint8Array([2]);
/** p - 2, big-endian, padded to the group size: the largest valid public value. */
const P_MINUS_2 = new Map<DhGroupName, Uint8Array>();
function pMinus2(g: DhGroup): Uint8Array {
  let v = P_MINUS_2.get(g.name);
  if (!v) P_MINUS_2.set(g.name, (v = bigToBytesBE(g.p - 2n, g.bytes)));
  return v;
}

/** generateDH(): r = 80 random bytes, public = g^r. */
export function dhKeyPair(b: CryptoBackend, random: RandomSource, group: DhGroupName = 'modp3072'): DhKeyPair {
  const secret = abytes(random(DH_SECRET_BYTES), DH_SECRET_BYTES, 'DH random value');
  return { secret, public: dhPublicKey(b, secret, group) };
}

/** g^secret mod p, minimal big-endian. */
export function dhPublicKey(b: CryptoBackend, secret: Uint8Array, group: DhGroupName = 'modp3072'): Uint8Array {
  checkModPowArgs(group, GENERATOR, secret);
  return minimal(b.modPow(group, GENERATOR, secret));
}

/**
 * True iff `x` (big-endian, leading zeros allowed) is a valid public value: 2 <= x <= p - 2 and
 * x^q ≡ 1 (mod p). As q = (p - 1)/2, Euler's criterion makes the second condition "x is a quadratic residue",
 * which the backend's Legendre symbol decides far faster than the exponentiation. Public input: variable time.
 */
export function dhIsValidPublic(b: CryptoBackend, x: Uint8Array, group: DhGroupName = 'modp3072'): boolean {
  const g = dhGroup(group);
  abytes(x, undefined, 'DH public value');
  const v = minimal(x);
  if (v.length > g.bytes) return false;
  // Range, by comparing the value padded to the group size with p - 2 (public data).
  const padded = new Uint8Array(g.bytes);
  padded.set(v, g.bytes - v.length);
  const max = pMinus2(g);
  for (let i = 0; i < g.bytes; i++) {
    if (padded[i] !== max[i]) {
      if (padded[i]! > max[i]!) return false;
      break;
    }
  }
  if (v.length === 0 || (v.length === 1 && v[0]! < 2)) return false;
  return b.legendre(group, padded) === 1;
}

/** dhIsValidPublic or OtrCryptoError('INVALID_DH_VALUE'). */
export function dhAssertValidPublic(b: CryptoBackend, x: Uint8Array, group: DhGroupName = 'modp3072'): void {
  if (!dhIsValidPublic(b, x, group)) throw new OtrCryptoError('INVALID_DH_VALUE', 'DH public value is not in the group');
}

/**
 * k_dh = theirPublic^ourSecret mod p, minimal-length big-endian (interpretations.md §5: no padding to 384
 * bytes). Their value is validated first (OtrCryptoError('INVALID_DH_VALUE')), so a peer cannot force the
 * shared secret into a small subgroup.
 */
export function dhSharedSecret(
  b: CryptoBackend,
  ourSecret: Uint8Array,
  theirPublic: Uint8Array,
  group: DhGroupName = 'modp3072',
): Uint8Array {
  abytes(ourSecret, undefined, 'DH secret');
  dhAssertValidPublic(b, theirPublic, group);
  return dhSharedSecretValidated(b, ourSecret, theirPublic as ValidDhPublic, group);
}

/**
 * dhSharedSecret for a peer value already validated where it entered (validated.ts): the same result
 * without a second Legendre symbol.
 */
export function dhSharedSecretValidated(
  b: CryptoBackend,
  ourSecret: Uint8Array,
  theirPublic: ValidDhPublic,
  group: DhGroupName = 'modp3072',
): Uint8Array {
  abytes(ourSecret, undefined, 'DH secret');
  abytes(theirPublic, undefined, 'DH public value');
  const base = minimal(theirPublic);
  checkModPowArgs(group, base, ourSecret);
  const k = b.modPow(group, base, ourSecret);
  try {
    return minimal(k);
  } finally {
    wipe(k);
  }
}
