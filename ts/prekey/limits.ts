/**
 * Resource limits of the offline machinery (owner store, prekey server). They belong in ts/limits.ts, the one
 * limits table; until that file gains them they live here, in one place, with the same promise: hostile
 * input can never make the code use more than this.
 */
export interface PrekeyLimits {
  /** Unused prekey secrets an owner keeps (published and not yet used) before refusing to make more. */
  maxOwnerPrekeys: number;
  /** Prekey messages the server stores per (identity, instance tag). */
  maxStoredPrekeysPerInstance: number;
  /** Prekey messages the server stores in all (bounds the server's memory: ~0.5 KB each). */
  maxStoredPrekeysTotal: number;
  /** Instance tags (devices) the server stores per identity. */
  maxInstancesPerIdentity: number;
  /** Identities the server stores in all. */
  maxIdentities: number;
  /** Largest identity string, in UTF-8 bytes. */
  maxIdentityBytes: number;
  /** Largest prekey-server message accepted, in characters of its base64 text form. */
  maxServerMessageChars: number;
  /** Ensembles one retrieval hands out (one per instance tag, so also bounded by maxInstancesPerIdentity). */
  maxEnsemblesPerRetrieval: number;
  /** Server-side DAKEs waiting for their DAKE-3 at any time; the oldest is dropped first. */
  maxPendingDakes: number;
  /** How long a server-side DAKE waits for DAKE-3, in ms. */
  pendingDakeTtlMs: number;
  /** Open TCP connections of the reference server. */
  maxConnections: number;
}

export const DEFAULT_PREKEY_LIMITS: Readonly<PrekeyLimits> = Object.freeze({
  maxOwnerPrekeys: 1000,
  maxStoredPrekeysPerInstance: 1000,
  maxStoredPrekeysTotal: 200_000,
  maxInstancesPerIdentity: 16,
  maxIdentities: 100_000,
  maxIdentityBytes: 255,
  // 255 prekey messages of at most 453 bytes, two profiles and three proofs: ~120 KB binary, ~160 KB base64.
  maxServerMessageChars: 256 * 1024,
  maxEnsemblesPerRetrieval: 16,
  maxPendingDakes: 4096,
  pendingDakeTtlMs: 60_000,
  maxConnections: 1024,
});

export function resolvePrekeyLimits(overrides?: Partial<PrekeyLimits>): PrekeyLimits {
  return { ...DEFAULT_PREKEY_LIMITS, ...(overrides ?? {}) };
}
