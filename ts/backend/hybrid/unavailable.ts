/**
 * What '#hybrid' resolves to outside the "node" condition (package.json "imports"), so browser and neutral
 * bundles carry this instead of ./index.ts: the same exports, without node:crypto. `init()` sees HYBRID_AVAILABLE = false and does not try it;
 * asking for it by name is an OtrError('BACKEND').
 */
import type { CryptoBackend } from '../types.js';
import type { WasmBackend } from '../wasm/index.js';
import { OtrError } from '../../errors.js';

export const HYBRID_AVAILABLE = false;

export interface HybridBackend extends CryptoBackend {
  readonly name: 'hybrid';
  readonly wasmBackend: WasmBackend;
}

export async function createHybridBackend(_wasm: WasmBackend): Promise<HybridBackend> {
  throw new OtrError('BACKEND', "the hybrid backend needs Node's crypto module (OpenSSL); this build is for other runtimes");
}
