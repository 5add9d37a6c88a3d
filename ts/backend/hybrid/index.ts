/**
 * The hybrid backend (Node only): the WASM backend, with MODP exponentiation, large ChaCha20 and OTRv3
 * HMAC-SHA1 inputs (./chacha20.ts, ./hmac.ts) and the verification of Ed448 signatures by validated keys
 * (./ed448.ts) handed to OpenSSL through node:crypto.
 * The Ed448 group operations, SHAKE-256, scalars and the Legendre symbol stay in WASM (node:crypto has no
 * Ed448 group operations, and OpenSSL's DH validation is not the spec's: peer values
 * are checked by ts/crypto/dh.ts on every backend). Results are bit-identical to the other backends
 * (test/hybrid.test.ts and the differential runs check it).
 *
 * This module imports node:crypto, so it is only ever loaded with a dynamic `import('#hybrid')` from
 * ../select.ts. package.json "imports" maps '#hybrid' to this module under the "node" condition and to
 * ./unavailable.ts everywhere else, so browser bundles (ours, and any bundler compiling this code for a
 * browser) never see node:crypto.
 */
import type { CryptoBackend } from '../types.js';
import type { WasmBackend } from '../wasm/index.js';
import { opensslModexp } from './modexp.js';
import { OPENSSL_CHACHA_MIN_BYTES, opensslChacha, opensslChacha20 } from './chacha20.js';
import { opensslEd448 } from './ed448.js';
import { opensslHmac, opensslHmacSha1 } from './hmac.js';
import { hmacOps } from '../wasm/hmac.js';
import { ed448Verify } from '../../crypto/eddsa.js';
import { dataMessageOps } from '../wasm/datamsg.js';
import { hybridSelfTest } from './selftest.js';

/** True in this build; false in the stub the browser bundles carry instead. */
export const HYBRID_AVAILABLE = true;

export interface HybridBackend extends CryptoBackend {
  readonly name: 'hybrid';
  /** The WASM backend underneath (what runs everything OpenSSL does not). */
  readonly wasmBackend: WasmBackend;
}

export async function createHybridBackend(wasm: WasmBackend): Promise<HybridBackend> {
  const b: HybridBackend = {
    ...wasm,
    name: 'hybrid',
    wasmBackend: wasm,
    ...opensslModexp(wasm),
    ...opensslChacha(wasm),
    // Chat-sized OTRv3 MACs in the main module (both module choices run its SHA-1), larger ones in OpenSSL.
    ...opensslHmac(hmacOps(wasm.context)),
    ...opensslEd448((publicKey, message, signature) => ed448Verify(wasm, publicKey, message, signature)),
    // The fused data-message calls of the WASM backend, for ciphertexts below OpenSSL's ChaCha20 threshold;
    // larger ones are composed from the primitives, so their ChaCha20 still goes to OpenSSL.
    ...dataMessageOps(wasm.simdContext ?? wasm.context, OPENSSL_CHACHA_MIN_BYTES - 1),
  };
  hybridSelfTest(b, { chacha20: opensslChacha20, hmacSha1: opensslHmacSha1 });
  return b;
}
