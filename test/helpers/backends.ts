/**
 * Every primitive suite runs once per backend. `BACKENDS` holds both (JS always; WASM when it loads and
 * passes its self-test, which in this repository it must: a missing WASM backend is a test failure).
 */
import { loadBackend } from '../../ts/backend/select.js';
import type { CryptoBackend } from '../../ts/backend/types.js';

export const JS: CryptoBackend = await loadBackend('js');
export const WASM: CryptoBackend = await loadBackend('wasm');
export const BACKENDS: readonly CryptoBackend[] = [WASM, JS];
/** The Node-only hybrid backend (WASM + OpenSSL for modPow and large ChaCha20 inputs); the suites of the
 *  primitives it changes (modexp, chacha20, dh, hybrid) run it beside the two above. */
export const HYBRID: CryptoBackend = await loadBackend('hybrid');
