/**
 * Backend selection. `await init()` once; afterwards every call is synchronous.
 *   - default ('auto'): in Node, the hybrid backend (WASM + OpenSSL for MODP exponentiation and large
 *     ChaCha20 inputs) when it loads and passes its self-tests; otherwise WASM when `WebAssembly` exists
 *     and its SIMD module, or failing that its scalar module, passes the known-answer self-test
 *     (./wasm/index.ts chooseWasmBackend); otherwise the pure-JS backend (never a throw).
 *     Browser bundles carry no hybrid backend ('#hybrid' resolves to a stub outside the "node" condition of
 *     package.json "imports"), so there auto starts at WASM;
 *   - `{ backend: 'hybrid' | 'wasm' | 'js' }` forces that backend and throws `OtrError('BACKEND')` if it
 *     cannot be used (hybrid outside Node, WASM without WebAssembly).
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
  /** Why auto did not use its first choice (hybrid in Node, WASM elsewhere), when it fell back. */
  fallbackReason?: string;
}

let active: CryptoBackend | undefined;
const cache = new Map<BackendName, Promise<CryptoBackend>>();

function backendError(what: string, e: unknown): OtrError {
  if (e instanceof OtrError) return e;
  return new OtrError('BACKEND', `${what} failed to load: ${(e as Error)?.message ?? e}`);
}

async function create(name: BackendName): Promise<CryptoBackend> {
  if (name === 'js') return createJsBackend();
  if (name === 'wasm') {
    try {
      const { createWasmBackend } = await import('./wasm/index.js');
      return await createWasmBackend();
    } catch (e) {
      throw backendError('WebAssembly backend', e);
    }
  }
  if (name === 'hybrid') {
    const wasm = (await loadBackend('wasm')) as import('./wasm/index.js').WasmBackend;
    try {
      const { createHybridBackend } = await import('#hybrid');
      return await createHybridBackend(wasm);
    } catch (e) {
      throw backendError('hybrid backend', e);
    }
  }
  throw new OtrError('BACKEND', `unknown backend ${String(name)}`);
}

/**
 * Creates (once) and self-tests a backend by name; throws OtrError('BACKEND') when it is unusable. Calls made
 * while it is being created share that creation (session 14: two init() at once instantiated the WASM modules
 * twice, and the hybrid backend was built over a WASM backend that was not the cached one); a failed one is
 * not kept, so the next call tries again.
 */
export function loadBackend(name: BackendName): Promise<CryptoBackend> {
  const cached = cache.get(name);
  if (cached) return cached;
  const made = create(name).then((b) => {
    const failed = selfTest(b);
    if (failed) throw new OtrError('BACKEND', `${name} backend failed its self-test (${failed})`);
    return b;
  });
  cache.set(name, made);
  made.catch(() => {
    if (cache.get(name) === made) cache.delete(name);
  });
  return made;
}

/** True where this build carries the hybrid backend (Node builds) and node:crypto can be loaded. */
async function hybridAvailable(): Promise<boolean> {
  try {
    return (await import('#hybrid')).HYBRID_AVAILABLE;
  } catch {
    return false; // node:crypto missing (a runtime that resolves the Node build without being Node)
  }
}

/** A backend chosen by one init() call and what that call reports. */
interface Choice {
  backend: CryptoBackend;
  result: InitResult;
}

/**
 * The choices of the init() calls made while some are still loading, in call order: they decide together
 * (below). The next call after they settled starts a new batch, with a higher number.
 */
let batch: { n: number; calls: Promise<Choice>[] } = { n: 0, calls: [] };
/** The number of the batch that set `active`: an older batch's call that wakes late must not replace it. */
let activeBatch = -1;

/**
 * Chooses, loads and self-tests a backend; afterwards every call is synchronous. Of calls made while others
 * load, the LATEST ONE THAT SUCCEEDS decides which backend is active, whatever order the loads finish in
 * (session 15: the call that finished last won, so a host's `{ backend: 'js' }`, immediate, was replaced by a
 * module's earlier `init()` still loading hybrid). Each call resolves to the result of the latest success made
 * at or after it, so every caller learns what is active; a call rejects only with its own failure, when no
 * later call succeeded. A failed call decides nothing (session 16: with the call made last deciding even when
 * it failed, an auto init() — documented never to throw, so called without a catch — rejected with a forced
 * call's error although its own load succeeded, and left no backend active: attacks/s16-review-init).
 */
export async function init(options: InitOptions = {}): Promise<InitResult> {
  const mine = batch;
  const calls = mine.calls;
  const at = calls.push(choose(options.backend ?? 'auto')) - 1;
  // A call made before the batch is decided joins it: wait until every one has settled.
  let settled: PromiseSettledResult<Choice>[] = [];
  while (settled.length !== calls.length) settled = await Promise.allSettled(calls);
  if (batch === mine) batch = { n: mine.n + 1, calls: [] };
  let decider: Choice | undefined;
  for (let n = settled.length - 1; n >= 0 && decider === undefined; n--) {
    const r = settled[n]!;
    if (r.status === 'fulfilled') decider = r.value;
    else if (n === at) throw r.reason; // nothing at or after this call succeeded: its own failure
  }
  // Set: the loop found a success at or after `at`, or threw at `at`.
  if (mine.n >= activeBatch) {
    active = decider!.backend;
    activeBatch = mine.n;
  }
  return { ...decider!.result };
}

async function choose(want: BackendName | 'auto'): Promise<Choice> {
  if (want !== 'auto') {
    const backend = await loadBackend(want);
    return { backend, result: { backend: backend.name } };
  }
  const order: BackendName[] = (await hybridAvailable()) ? ['hybrid', 'wasm', 'js'] : ['wasm', 'js'];
  let fallbackReason: string | undefined;
  for (const name of order) {
    try {
      const backend = await loadBackend(name);
      return { backend, result: fallbackReason === undefined ? { backend: name } : { backend: name, fallbackReason } };
    } catch (e) {
      fallbackReason ??= (e as Error).message;
      if (name === 'js') throw e;
    }
  }
  throw new OtrError('BACKEND', 'no backend could be loaded'); // unreachable: js always loads
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
