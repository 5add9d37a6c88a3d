/**
 * A crypto backend's XChaCha20-Poly1305 (CryptoBackend.sealXChaCha20Poly1305 / openXChaCha20Poly1305, which the
 * `wasm` and `hybrid` backends offer: one call into their module per record) as the store's SealAead, with
 * the build's own AEAD ('#seal-aead': OpenSSL in Node, noble elsewhere) for the sizes the backend declines.
 * openStoredAccount hands this to sealing for its account's backend; sealing still uses it only once it has
 * agreed with the build's own AEAD on a fixed input (checkedSealAead), so the rows are the same bytes either way.
 */
import { sealAead } from '#seal-aead';
import type { CryptoBackend } from '../backend/types.js';
import type { SealAead } from './aead.js';

/** The two operations this needs (a whole backend, or a test's pair of them). */
export type BackendAeadOps = Pick<CryptoBackend, 'sealXChaCha20Poly1305' | 'openXChaCha20Poly1305'>;

/**
 * Made once per backend (or per object holding the two operations), so sealing's agreement check
 * (checkedSealAead, memoised per AEAD object) runs once per backend, not once per opened account.
 */
const made = new WeakMap<BackendAeadOps, SealAead>();

/**
 * `backend`'s AEAD, falling back to `fallback` (default: the build's own) where it declines a size; undefined
 * when the backend has no such operation (then sealing uses the build's own, as without a backend).
 */
export function backendSealAead(backend: BackendAeadOps, fallback: SealAead = sealAead()): SealAead | undefined {
  if (typeof backend.sealXChaCha20Poly1305 !== 'function' || typeof backend.openXChaCha20Poly1305 !== 'function') return undefined;
  let a = made.get(backend);
  if (a === undefined || (a as BackendSealAead).fallback !== fallback) {
    a = new BackendSealAead(backend as Required<BackendAeadOps>, fallback);
    made.set(backend, a);
  }
  return a;
}

/** A class, not closures: one shape for every backend, and the operations called as the backend's methods. */
class BackendSealAead implements SealAead {
  readonly name = 'backend';

  constructor(
    private readonly ops: Required<BackendAeadOps>,
    readonly fallback: SealAead,
  ) {}

  encryptInto(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array, out: Uint8Array): void {
    if (!this.ops.sealXChaCha20Poly1305(key, nonce, aad, plain, out)) this.fallback.encryptInto(key, nonce, aad, plain, out);
  }

  decrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
    const plain = this.ops.openXChaCha20Poly1305(key, nonce, aad, sealed);
    if (plain === undefined) return this.fallback.decrypt(key, nonce, aad, sealed);
    if (plain === null) throw new Error('XChaCha20-Poly1305: invalid tag');
    return plain;
  }
}
