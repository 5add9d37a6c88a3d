/**
 * Backend selection. `await init()` once; afterwards every call is synchronous.
 *   - default ('auto'): WASM when `WebAssembly` exists and the module passes its known-answer self-test,
 *     otherwise the pure-JS backend (never a throw);
 *   - `{ backend: 'wasm' }` forces WASM and throws `OtrError('BACKEND')` if it cannot be used;
 *   - `{ backend: 'js' }` forces JS.
 */
import type { BackendName, CryptoBackend } from './types.js';
import { createJsBackend } from './js/index.js';
import { selfTest } from './selftest.js';
import { OtrError } from '../errors.js';

export interface InitOptions {
  backend?: BackendName | 'auto';
}

export interface InitResult {
  backend: BackendName;
  /** Why WASM was not used, when `auto` fell back to JS. */
  fallbackReason?: string;
}

let active: CryptoBackend | undefined;
const cache: Partial<Record<BackendName, CryptoBackend>> = {};

/** Creates (once) and self-tests a backend by name; throws OtrError('BACKEND') when it is unusable. */
export async function loadBackend(name: BackendName): Promise<CryptoBackend> {
  const cached = cache[name];
  if (cached) return cached;
  let b: CryptoBackend;
  if (name === 'js') b = createJsBackend();
  else {
    try {
      const { createWasmBackend } = await import('./wasm/index.js');
      b = await createWasmBackend();
    } catch (e) {
      if (e instanceof OtrError) throw e;
      throw new OtrError('BACKEND', `WebAssembly backend failed to load: ${(e as Error)?.message ?? e}`);
    }
  }
  const failed = selfTest(b);
  if (failed) throw new OtrError('BACKEND', `${name} backend failed its self-test (${failed})`);
  cache[name] = b;
  return b;
}

export async function init(options: InitOptions = {}): Promise<InitResult> {
  const want = options.backend ?? 'auto';
  if (want !== 'auto') {
    active = await loadBackend(want);
    return { backend: active.name };
  }
  try {
    active = await loadBackend('wasm');
    return { backend: 'wasm' };
  } catch (e) {
    active = await loadBackend('js');
    return { backend: 'js', fallbackReason: (e as Error).message };
  }
}

/** The backend chosen by `init()`. Throws OtrError('NOT_INITIALIZED') before it. */
export function getBackend(): CryptoBackend {
  if (!active) throw new OtrError('NOT_INITIALIZED', 'call `await init()` before using the library');
  return active;
}

/** The active backend's name, or undefined before `init()`. */
export function activeBackend(): BackendName | undefined {
  return active?.name;
}
