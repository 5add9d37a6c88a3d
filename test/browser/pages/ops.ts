/**
 * The operations a browser page runs for the known-answer suites: hex in, hex out, through the same library
 * code Node uses (EdDSA, DH and the backend primitives), on whichever backend `init()` activated.
 * Kept free of Node APIs: it is bundled into the test page.
 */
import type { CryptoBackend } from '../../../ts/backend/types.js';
import { bytesToHex, hexToBytes } from '../../../ts/bytes.js';
import { ed448PublicKey, ed448Sign, ed448Verify } from '../../../ts/crypto/eddsa.js';
import { dhPublicKey, dhSharedSecret } from '../../../ts/crypto/dh.js';
import { backendSealAead } from '../../../ts/store/aead-backend.js';
import { nobleAead } from '../../../ts/store/aead-noble.js';

export type PageOp = 'shake256' | 'chacha20' | 'xchacha20poly1305' | 'ed448.public' | 'ed448.sign' | 'ed448.verify' | 'dh.public' | 'dh.shared';

export interface PageCase {
  id: string;
  op: PageOp;
  /** Hex-encoded inputs, in the order the operation takes them. */
  args: string[];
  /** Output length (shake256) or initial block counter (chacha20). */
  n?: number;
}

export interface PageResult {
  id: string;
  /** Hex output ('true'/'false' for verify), or `error: <name>: <message>` if the library threw. */
  got: string;
}

function compute(b: CryptoBackend, c: PageCase): string {
  const a = c.args.map(hexToBytes);
  switch (c.op) {
    case 'shake256':
      return bytesToHex(b.shake256([a[0]!], c.n ?? 32));
    case 'chacha20':
      return bytesToHex(b.chacha20(a[0]!, a[1]!, a[2]!, c.n ?? 0));
    case 'xchacha20poly1305': {
      // The record seal the store makes in a browser: the backend's (the WASM module's, SIMD where the
      // runtime has it) or, on a backend without one, noble's.
      const aead = backendSealAead(b, nobleAead) ?? nobleAead;
      const out = new Uint8Array(a[3]!.length + 16);
      aead.encryptInto(a[0]!, a[1]!, a[2]!, a[3]!, out);
      return bytesToHex(out);
    }
    case 'ed448.public':
      return bytesToHex(ed448PublicKey(b, a[0]!));
    case 'ed448.sign':
      return bytesToHex(ed448Sign(b, a[0]!, a[1]!));
    case 'ed448.verify':
      return String(ed448Verify(b, a[0]!, a[1]!, a[2]!));
    case 'dh.public':
      return bytesToHex(dhPublicKey(b, a[0]!));
    case 'dh.shared':
      return bytesToHex(dhSharedSecret(b, a[0]!, a[1]!));
  }
}

/** Runs every case; a throw is reported as that case's output, so one failure never hides the others. */
export function runCases(b: CryptoBackend, cases: readonly PageCase[]): PageResult[] {
  return cases.map((c) => {
    try {
      return { id: c.id, got: compute(b, c) };
    } catch (e) {
      return { id: c.id, got: `error: ${(e as Error)?.name}: ${(e as Error)?.message}` };
    }
  });
}
