/**
 * The WebAssembly backend: instantiates the embedded module once (asynchronously, as browsers require
 * for modules over a few KiB) and composes the per-primitive adapters into one `CryptoBackend`.
 * No loader library: nothing but numbers crosses the boundary, so plain `WebAssembly.instantiate` is
 * all that is needed (and keeps the bundle lean).
 */
import type { CryptoBackend } from '../types.js';
import { OtrError } from '../../errors.js';
import { WASM_MAIN, WASM_SIMD } from './binary.gen.js';
import type { WasmContext } from './context.js';
import { keccakOps } from './keccak.js';
import { chachaOps } from './chacha20.js';
import { ed448Ops } from './ed448.js';
import { modexpOps } from './modexp.js';
import { dataMessageOps } from './datamsg.js';
import { aeadOps } from './aead.js';
import { hmacOps } from './hmac.js';
import { selfTest } from '../selftest.js';

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function instantiate(b64: string): Promise<WasmContext> {
  const imports = {
    env: {
      abort(_msg: number, _file: number, line: number, col: number): never {
        throw new OtrError('BACKEND', `wasm abort at ${line}:${col}`);
      },
    },
  };
  const { instance } = await WebAssembly.instantiate(decodeBase64(b64), imports);
  const exports = instance.exports as Record<string, any>;
  if (typeof exports._start === 'function') exports._start();
  const memory = exports.memory as WebAssembly.Memory;
  return {
    exports,
    mem: new Uint8Array(memory.buffer),
    io: exports.io_ptr() as number,
    ioSize: exports.io_size() as number,
  };
}

/** True if this runtime validates the SIMD module (WebAssembly SIMD support). */
function simdSupported(): boolean {
  if (!WASM_SIMD) return false;
  try {
    return WebAssembly.validate(decodeBase64(WASM_SIMD));
  } catch {
    return false;
  }
}

export interface WasmBackendInfo {
  /** True when the SIMD module runs Ed448, ChaCha20, the AEAD and MODP (same as `module === 'simd'`). */
  simd: boolean;
  /** The module the backend runs on: 'simd' where the runtime validates it and it passes the self-test. */
  module: 'simd' | 'scalar';
  /** Why a SIMD module the runtime validates was set aside: the self-test check it failed, or 'instantiate: …'. */
  simdRefused?: string;
}

export interface WasmBackend extends CryptoBackend {
  readonly wasm: WasmBackendInfo;
  /** The main module's context, and the SIMD module's where it is in use (for tests and tooling). */
  readonly context: WasmContext;
  readonly simdContext: WasmContext | undefined;
  /** The module that runs Ed448: the SIMD one where it is in use, else the main one. */
  readonly ed448Context: WasmContext;
}

/**
 * The two instantiated modules; `simd` is undefined where the runtime does not validate SIMD, or where it
 * validates it but the module did not instantiate (`simdFailed` says why).
 */
export interface WasmModules {
  main: WasmContext;
  simd: WasmContext | undefined;
  simdFailed?: string;
}

export async function instantiateWasmModules(): Promise<WasmModules> {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function')
    throw new OtrError('BACKEND', 'WebAssembly is not available in this runtime');
  const main = await instantiate(WASM_MAIN);
  if (!simdSupported()) return { main, simd: undefined };
  // The SIMD module validating does not make it instantiate: its memory may not be allocated (a second module's,
  // in a crowded tab or a worker with a small heap), or its start may trap. The main module is already there
  // and runs everything: without this, such a runtime refused WASM for pure JS (attacks/s14-review-simd-instantiate).
  try {
    return { main, simd: await instantiate(WASM_SIMD!) };
  } catch (e) {
    return { main, simd: undefined, simdFailed: `instantiate: ${(e as Error)?.message ?? String(e)}` };
  }
}

function compose(main: WasmContext, simd: WasmContext | undefined, simdRefused?: string): WasmBackend {
  return {
    name: 'wasm',
    wasm: simdRefused === undefined ? { simd: simd !== undefined, module: simd ? 'simd' : 'scalar' } : { simd: false, module: 'scalar', simdRefused },
    context: main,
    simdContext: simd,
    ed448Context: simd ?? main,
    ...keccakOps(main),
    ...chachaOps(main, simd),
    // Ed448 in the SIMD module where the runtime has it (its vector field product: assembly/fe448simd.ts);
    // both modules export the same Ed448 entry points, and the main module's scalar stack is the fallback.
    ...ed448Ops(simd ?? main), // the same context as ed448Context
    ...modexpOps(main, simd),
    ...dataMessageOps(simd ?? main),
    ...aeadOps(main, simd),
    // OTRv3's HMAC-SHA1 in the main module whichever module runs the rest (./hmac.ts).
    ...hmacOps(main),
  };
}

/**
 * The backend over the given modules (and the seam tests plant a faulty module through). The SIMD module
 * must pass the known-answer self-test (../selftest.ts): one that validates but computes wrong (a miscompiling
 * engine, a lane bug) is set aside for the main module's scalar code, which must pass it in turn — so such a
 * runtime keeps WASM speed instead of falling back to pure JS (~5x slower). Throws OtrError('BACKEND') when
 * neither passes. `loadBackend` self-tests the result again, as it does every backend (a fraction of a ms).
 */
export function chooseWasmBackend({ main, simd, simdFailed }: WasmModules): WasmBackend {
  if (simd) {
    const b = compose(main, simd);
    simdFailed = selfTest(b);
    if (simdFailed === undefined) return b;
  }
  const scalar = compose(main, undefined, simdFailed);
  const scalarFailed = selfTest(scalar);
  if (scalarFailed !== undefined) {
    const simdPart = simdFailed === undefined ? '' : `SIMD module: ${simdFailed}, `;
    throw new OtrError('BACKEND', `wasm backend failed its self-test (${simdPart}scalar module: ${scalarFailed})`);
  }
  return scalar;
}

export async function createWasmBackend(): Promise<WasmBackend> {
  return chooseWasmBackend(await instantiateWasmModules());
}
