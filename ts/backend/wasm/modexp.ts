/** WASM adapter for assembly/modexp.ts. (Being implemented: throws until the AssemblyScript side lands.) */
import type { CryptoBackend } from '../types.js';
import type { WasmContext } from './context.js';
import { OtrError } from '../../errors.js';

export function modexpOps(_ctx: WasmContext): Pick<CryptoBackend, 'modPow' | 'legendre'> {
  const missing = (): never => {
    throw new OtrError('BACKEND', 'wasm modexp not built yet');
  };
  return new Proxy({} as Pick<CryptoBackend, 'modPow' | 'legendre'>, { get: () => missing });
}
