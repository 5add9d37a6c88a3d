/** WASM adapter for assembly/chacha20.ts. (Being implemented: throws until the AssemblyScript side lands.) */
import type { CryptoBackend } from '../types.js';
import type { WasmContext } from './context.js';
import { OtrError } from '../../errors.js';

export function chachaOps(_ctx: WasmContext, _simd?: WasmContext): Pick<CryptoBackend, 'chacha20'> {
  const missing = (): never => {
    throw new OtrError('BACKEND', 'wasm chacha20 not built yet');
  };
  return new Proxy({} as Pick<CryptoBackend, 'chacha20'>, { get: () => missing });
}
