/** WASM adapter for assembly/ed448.ts. (Being implemented: throws until the AssemblyScript side lands.) */
import type { CryptoBackend } from '../types.js';
import type { WasmContext } from './context.js';
import { OtrError } from '../../errors.js';

export function ed448Ops(_ctx: WasmContext): Pick<CryptoBackend, 'pointDecodes' | 'pointIsValid' | 'pointMulBase' | 'pointMul' | 'pointDoubleMulBase' | 'pointAdd' | 'scalarReduce' | 'scalarMulAdd'> {
  const missing = (): never => {
    throw new OtrError('BACKEND', 'wasm ed448 not built yet');
  };
  return new Proxy({} as Pick<CryptoBackend, 'pointDecodes' | 'pointIsValid' | 'pointMulBase' | 'pointMul' | 'pointDoubleMulBase' | 'pointAdd' | 'scalarReduce' | 'scalarMulAdd'>, { get: () => missing });
}
