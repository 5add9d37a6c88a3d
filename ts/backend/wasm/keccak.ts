/** WASM adapter for assembly/keccak.ts. (Being implemented: throws until the AssemblyScript side lands.) */
import type { CryptoBackend } from '../types.js';
import type { WasmContext } from './context.js';
import { OtrError } from '../../errors.js';

export function keccakOps(_ctx: WasmContext): Pick<CryptoBackend, 'shake256'> {
  const missing = (): never => {
    throw new OtrError('BACKEND', 'wasm keccak not built yet');
  };
  return new Proxy({} as Pick<CryptoBackend, 'shake256'>, { get: () => missing });
}
