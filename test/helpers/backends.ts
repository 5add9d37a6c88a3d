/**
 * Every primitive suite runs once per backend. `BACKENDS` holds both (JS always; WASM when it loads and
 * passes its self-test, which in this repository it must: a missing WASM backend is a test failure).
 */
import { loadBackend } from '../../ts/backend/select.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import type { WasmBackend } from '../../ts/backend/wasm/index.js';
import { ed448Ops } from '../../ts/backend/wasm/ed448.js';

export const JS: CryptoBackend = await loadBackend('js');
export const WASM: CryptoBackend = await loadBackend('wasm');
export const BACKENDS: readonly CryptoBackend[] = [WASM, JS];
/** The Node-only hybrid backend (WASM + OpenSSL for modPow and large ChaCha20 inputs); the suites of the
 *  primitives it changes (modexp, chacha20, dh, hybrid) run it beside the two above. */
export const HYBRID: CryptoBackend = await loadBackend('hybrid');
/** The WASM backend with Ed448 on its main (scalar) module: what runtimes without WebAssembly SIMD run. In
 *  Node the WASM backend runs Ed448 in the SIMD module (ts/backend/wasm/index.ts), so the Ed448 suites add
 *  this one to keep the fallback tested. Everything but Ed448 is the WASM backend's. */
export const WASM_SCALAR_ED448: CryptoBackend = { ...WASM, ...ed448Ops((WASM as WasmBackend).context) };
/** The backends the Ed448 group and ring-signature suites compare: both WASM modules and JS. */
export const ED448_BACKENDS: readonly CryptoBackend[] = [WASM, WASM_SCALAR_ED448, JS];
/** A backend's name in messages, telling the two WASM Ed448 paths apart. */
export const label = (b: CryptoBackend): string => (b === WASM_SCALAR_ED448 ? 'wasm-scalar-ed448' : b.name);
