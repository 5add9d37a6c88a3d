/**
 * The RFC 3526 MODP groups. 3072-bit (group 15) for OTRv4 (otrv4.md §3072-bit Diffie-Hellman Parameters),
 * 1536-bit (group 5) for the OTRv3 fallback. Both are safe primes p = 2q + 1 with generator 2.
 * Tests check these against node:crypto's getDiffieHellman('modp15' / 'modp5').
 */
import type { DhGroupName } from '../backend/types.js';
import { abytes } from '../bytes.js';
import { OtrArgumentError } from '../errors.js';

export interface DhGroup {
  readonly name: DhGroupName;
  readonly p: bigint;
  /** (p - 1) / 2, the order of the subgroup of quadratic residues. */
  readonly q: bigint;
  readonly g: bigint;
  /** Byte length of p. */
  readonly bytes: number;
}

function group(name: DhGroupName, hex: string): DhGroup {
  const p = BigInt('0x' + hex);
  return Object.freeze({ name, p, q: (p - 1n) >> 1n, g: 2n, bytes: hex.length / 2 });
}

export const MODP3072: DhGroup = group(
  'modp3072',
  'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404dd' +
  'ef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed' +
  'ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f' +
  '83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3b' +
  'e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa0510' +
  '15728e5a8aaac42dad33170d04507a33a85521abdf1cba64ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7' +
  'abf5ae8cdb0933d71e8c94e04a25619dcee3d2261ad2ee6bf12ffa06d98a0864d87602733ec86a64521f2b18177b200c' +
  'bbe117577a615d6c770988c0bad946e208e24fa074e5ab3143db5bfce0fd108e4b82d120a93ad2caffffffffffffffff',
);

export const MODP1536: DhGroup = group(
  'modp1536',
  'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404dd' +
  'ef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed' +
  'ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f' +
  '83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca237327ffffffffffffffff',
);

export const DH_GROUPS: Readonly<Record<DhGroupName, DhGroup>> = Object.freeze({
  modp3072: MODP3072,
  modp1536: MODP1536,
});

/** The group's parameters; an unknown name is an OtrArgumentError. */
export function dhGroup(name: DhGroupName): DhGroup {
  const g = Object.prototype.hasOwnProperty.call(DH_GROUPS, name) ? DH_GROUPS[name] : undefined;
  if (!g) throw new OtrArgumentError(`unknown DH group ${String(name)}`);
  return g;
}

/**
 * The modPow argument contract shared by both backends: base and exponent are byte strings of at most the
 * group size (384 bytes for modp3072, 192 for modp1536), leading zeros included. Every exponent OTR uses
 * fits (80-byte DH keys, q for the subgroup check, OTRv3's 40-byte keys and SMP exponents below q); the cap
 * bounds the work a caller can ask for and the WASM I/O buffer. Returns the group.
 */
export function checkModPowArgs(group: DhGroupName, base: Uint8Array, exp: Uint8Array): DhGroup {
  const g = dhGroup(group);
  abytes(base, undefined, 'base');
  abytes(exp, undefined, 'exponent');
  if (base.length > g.bytes) throw new OtrArgumentError(`base must be at most ${g.bytes} bytes`);
  if (exp.length > g.bytes) throw new OtrArgumentError(`exponent must be at most ${g.bytes} bytes`);
  return g;
}

/** The legendre argument contract: at most the group size in bytes. Returns the group. */
export function checkLegendreArg(group: DhGroupName, x: Uint8Array): DhGroup {
  const g = dhGroup(group);
  abytes(x, undefined, 'x');
  if (x.length > g.bytes) throw new OtrArgumentError(`x must be at most ${g.bytes} bytes`);
  return g;
}
