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
  simd: boolean;
}

export interface WasmBackend extends CryptoBackend {
  readonly wasm: WasmBackendInfo;
  /** The main module's context, and the SIMD module's where the runtime validates it (for tests and tooling). */
  readonly context: WasmContext;
  readonly simdContext: WasmContext | undefined;
  /** The module that runs Ed448: the SIMD one where the runtime validates it, else the main one. */
  readonly ed448Context: WasmContext;
}

export async function createWasmBackend(): Promise<WasmBackend> {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function')
    throw new OtrError('BACKEND', 'WebAssembly is not available in this runtime');
  const main = await instantiate(WASM_MAIN);
  const simd = simdSupported() ? await instantiate(WASM_SIMD!) : undefined;
  return {
    name: 'wasm',
    wasm: { simd: simd !== undefined },
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
  };
}
