/**
 * OTRv4's one hash construction (otrv4.md §Key Derivation Function): KDF, HWC and HCMAC are all
 * SHAKE-256("OTRv4" || usage_ID || values, size). The prekey-server protocol uses the same shape with the
 * prefix "OTR-Prekey-Server". HashToScalar reads 57 bytes little-endian mod q (interpretations.md §4).
 */
import type { CryptoBackend } from '../backend/types.js';
import { OTRV4_PREFIX, PREKEY_SERVER_PREFIX } from './usage.js';

/**
 * prefix || usage for every usage byte, built once per (prefix, usage) on first use: a data message makes
 * eight KDF calls each way, and one input part fewer per call is one argument check and one copy into WASM
 * memory fewer (the hashed bytes are the same). Both prefixes ("OTRv4", "OTR-Prekey-Server") share this.
 */
function usagePrefixes(prefix: Uint8Array): (usage: number) => Uint8Array {
  const table: (Uint8Array | undefined)[] = new Array(256);
  return (usage) => {
    const u = usage & 0xff;
    let p = table[u];
    if (p === undefined) {
      p = new Uint8Array(prefix.length + 1);
      p.set(prefix);
      p[prefix.length] = u;
      table[u] = p;
    }
    return p;
  };
}

const otrv4Prefix = usagePrefixes(OTRV4_PREFIX);
const prekeyServerPrefix = usagePrefixes(PREKEY_SERVER_PREFIX);

/** SHAKE-256(prefix || values..., size), the one- and two-value cases (every per-message KDF) without a spread. */
function shakePrefixed(b: CryptoBackend, prefix: Uint8Array, values: readonly Uint8Array[], size: number): Uint8Array {
  if (values.length === 1) return b.shake256([prefix, values[0]!], size);
  if (values.length === 2) return b.shake256([prefix, values[0]!, values[1]!], size);
  return b.shake256([prefix, ...values], size);
}

/** SHAKE-256("OTRv4" || usage || values..., size). KDF, HWC and HCMAC are this function. */
export function kdf(b: CryptoBackend, usage: number, values: readonly Uint8Array[], size: number): Uint8Array {
  return shakePrefixed(b, otrv4Prefix(usage), values, size);
}

/** The same construction with the prekey-server prefix. */
export function prekeyServerKdf(b: CryptoBackend, usage: number, values: readonly Uint8Array[], size: number): Uint8Array {
  return shakePrefixed(b, prekeyServerPrefix(usage), values, size);
}

/** HashToScalar(usage || d) = HWC(usage || d, 57) read little-endian, mod q (no pruning). */
export function hashToScalar(b: CryptoBackend, usage: number, values: readonly Uint8Array[]): Uint8Array {
  return reduceAndWipe(b, kdf(b, usage, values, 57));
}

/** HashToScalar with the prekey-server prefix (the prekey-server DAKE's ring-signature challenge). */
export function prekeyServerHashToScalar(b: CryptoBackend, usage: number, values: readonly Uint8Array[]): Uint8Array {
  return reduceAndWipe(b, prekeyServerKdf(b, usage, values, 57));
}

/** h mod q; the intermediate hash is wiped. */
function reduceAndWipe(b: CryptoBackend, h: Uint8Array): Uint8Array {
  try {
    return b.scalarReduce(h);
  } finally {
    h.fill(0);
  }
}
