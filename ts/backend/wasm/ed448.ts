/**
 * WASM adapter for assembly/ed448.ts: the Ed448 group and scalars mod q.
 *
 * Inputs are copied into the I/O region at the slots assembly/ed448.ts documents (S0, S1, S2, 128 bytes
 * apart), results are read from OUT and OUT is zeroed again; the module zeroes the input slots and its own
 * scratch. Argument checks and their order copy the JS backend exactly, so both raise the same OtrError for
 * the same input (length -> OtrArgumentError, undecodable point -> OtrCryptoError('INVALID_POINT')).
 */
import type { CryptoBackend, RingCommitResult } from '../types.js';
import type { WasmContext } from './context.js';
import { abytes } from '../../bytes.js';
import { OtrArgumentError, OtrCryptoError } from '../../errors.js';

type Ed448Ops = Pick<
  CryptoBackend,
  'pointDecodes' | 'pointIsValid' | 'pointMulBase' | 'pointMul' | 'pointMulValid' | 'pointDoubleMulBase' | 'pointDoubleMulBaseCT' | 'pointAdd' | 'scalarReduce' | 'scalarMulAdd'
  | 'ringSignCommitments' | 'ringVerifyCommitments'
>;

const S0 = 0;
const S1 = 128;
const S2 = 256;
const OUT = 384;
const POINT_BYTES = 57;
const SCALAR_BYTES = 57;
const WIDE_SCALAR_BYTES = 114;

// assembly/ed448ring.ts: 64-byte slots.
const RING_SLOT = 64;
const RING_A = 0;
const RING_PUB = 3;
const RING_SEC = 4;
const RING_T = 5;
const RING_C = 6;
const RING_R = 9;
const RING_SEL = 12;
const RING_OUT = 16;

function invalidPoint(title: string): OtrCryptoError {
  return new OtrCryptoError('INVALID_POINT', `${title} is not a valid Ed448 point encoding`);
}

// pointMulValid and pointIsValid (when true) also leave the point's x (public, canonical) at OUT + 64: the
// decoded-x hint (assembly/ed448.ts). The ring entry points take hints at slots 13-15 and are
// told which members have one by flag bits 2-4.
const HINT_AT = 64;
const HINT_BYTES = 56;
const RING_HINT = 13;
const RING_HINT_FLAG = 4;

export function ed448Ops(ctx: WasmContext): Ed448Ops {
  const x = ctx.exports;
  // Keyed on the array object (weakly: an entry dies with its key array), never on bytes: only an array that
  // went through pointMulValid or pointIsValid has one, so repeated-input benches of pointMul are not
  // affected, and a stale or altered entry only costs the full decoding (the module checks the hint against
  // the encoding). The DAKE multiplies and ring-signs with keys it validated on receipt: ~10 square roots
  // fewer per DAKE (docs/performance.md, session 11).
  const decodedX = new WeakMap<Uint8Array, Uint8Array>();
  const mem = ctx.mem;
  const io = ctx.io;
  const put = (slot: number, data: Uint8Array): void => mem.set(data, io + slot);
  /** P and k of a product (pointMul, pointMulValid): checked, then into their slots. */
  const putMulArgs = (p: Uint8Array, k: Uint8Array): void => {
    abytes(k, SCALAR_BYTES, 'scalar');
    abytes(p, POINT_BYTES, 'point');
    put(S0, p);
    put(S1, k);
  };
  const result = (): Uint8Array => {
    const r = mem.slice(io + OUT, io + OUT + 57);
    mem.fill(0, io + OUT, io + OUT + 57);
    return r;
  };
  /** Keeps the x the last call left at OUT + 64 as `p`'s hint, and zeroes it there. */
  const keepHint = (p: Uint8Array): void => {
    decodedX.set(p, mem.slice(io + OUT + HINT_AT, io + OUT + HINT_AT + HINT_BYTES));
    mem.fill(0, io + OUT + HINT_AT, io + OUT + HINT_AT + HINT_BYTES);
  };
  const decodes = (p: Uint8Array): boolean => {
    put(S0, p);
    return x.ed448_decodes() === 1;
  };

  /** G·a + P·b by one of the two entry points that share the a S0, point S1, b S2 layout (variable / constant time). */
  const doubleMul = (entry: () => number, a: Uint8Array, p: Uint8Array, b: Uint8Array): Uint8Array => {
    abytes(a, SCALAR_BYTES, 'a');
    abytes(b, SCALAR_BYTES, 'b');
    abytes(p, POINT_BYTES, 'point');
    put(S0, a);
    put(S1, p);
    put(S2, b);
    if (entry() !== 1) throw invalidPoint('point');
    return result();
  };

  /** Copies the three members and the c_i, r_i into their slots (lengths checked first, nothing copied on error). */
  const putRing = (ring: readonly Uint8Array[], c: readonly Uint8Array[], r: readonly Uint8Array[]): void => {
    if (ring.length !== 3 || c.length !== 3 || r.length !== 3) throw new OtrArgumentError('a ring has exactly three members');
    for (let i = 0; i < 3; i++) {
      abytes(ring[i], POINT_BYTES, 'ring member');
      abytes(c[i], SCALAR_BYTES, 'c');
      abytes(r[i], SCALAR_BYTES, 'r');
    }
    for (let i = 0; i < 3; i++) {
      put((RING_A + i) * RING_SLOT, ring[i]!);
      put((RING_C + i) * RING_SLOT, c[i]!);
      put((RING_R + i) * RING_SLOT, r[i]!);
    }
  };
  /** Puts the members' decoded-x hints, where we hold one, into their slots; returns their flag bits. */
  const putRingHints = (ring: readonly Uint8Array[]): number => {
    let flags = 0;
    for (let i = 0; i < 3; i++) {
      const hint = decodedX.get(ring[i]!);
      if (hint === undefined) continue;
      put((RING_HINT + i) * RING_SLOT, hint);
      flags |= RING_HINT_FLAG << i;
    }
    return flags;
  };
  /** Reads T1..T3 (or the failing member) after a ring entry returned `rc`; zeroes the output slots. */
  const ringResult = (rc: number): RingCommitResult => {
    const base = io + RING_OUT * RING_SLOT;
    const T = [0, 1, 2].map((i) => mem.slice(base + i * RING_SLOT, base + i * RING_SLOT + POINT_BYTES));
    mem.fill(0, base, base + 4 * RING_SLOT);
    if (rc >= 1 && rc <= 3) return { invalidMember: rc - 1 };
    return rc === 4 ? { T, secretMismatch: true } : { T };
  };

  return {
    ringSignCommitments(a) {
      abytes(a.secret, SCALAR_BYTES, 'secret');
      abytes(a.publicKey, POINT_BYTES, 'public key');
      abytes(a.t, SCALAR_BYTES, 't');
      if (a.signer.length !== 3) throw new OtrArgumentError('a ring has exactly three members');
      putRing(a.ring, a.c, a.r);
      // A pair checked once by the caller: the secret is not copied in, and flag bit 1 skips G·secret.
      const checked = a.secretChecked === true;
      if (!checked) {
        put(RING_PUB * RING_SLOT, a.publicKey);
        put(RING_SEC * RING_SLOT, a.secret);
      }
      put(RING_T * RING_SLOT, a.t);
      for (let i = 0; i < 3; i++) mem[io + RING_SEL * RING_SLOT + i] = a.signer[i]! & 1;
      const hints = putRingHints(a.ring);
      return ringResult(x.ed448_ring_sign_commit((a.validate ? 1 : 0) | (checked ? 2 : 0) | hints) as number);
    },

    ringVerifyCommitments(ring, c, r, validate) {
      putRing(ring, c, r);
      const hints = putRingHints(ring);
      return ringResult(x.ed448_ring_verify_commit((validate ? 1 : 0) | hints) as number);
    },

    pointDecodes(p) {
      abytes(p, POINT_BYTES, 'point');
      return decodes(p);
    },

    pointIsValid(p) {
      abytes(p, POINT_BYTES, 'point');
      put(S0, p);
      if (x.ed448_is_valid() !== 1) return false;
      keepHint(p);
      return true;
    },

    pointMulBase(k) {
      abytes(k, SCALAR_BYTES, 'scalar');
      put(S0, k);
      x.ed448_mul_base();
      return result();
    },

    pointMul(p, k) {
      putMulArgs(p, k);
      // The x kept for this very array (a ratchet's peer key, multiplied again by our next sending step; a
      // DAKE key validated on receipt): the module proves it is the decoding's x before it skips the square root.
      const hint = decodedX.get(p);
      let ok: number;
      if (hint !== undefined) {
        put(S2, hint);
        ok = x.ed448_mul_hinted() as number;
      } else ok = x.ed448_mul() as number;
      if (ok !== 1) throw invalidPoint('point');
      return result();
    },

    pointMulValid(p, k) {
      putMulArgs(p, k);
      // assembly/ed448ecdh.ts: one decoding for the validation and the product; OUT is written only when valid.
      if (x.ed448_mul_valid() !== 1) return null;
      keepHint(p);
      return result();
    },

    pointDoubleMulBase(a, p, b) {
      return doubleMul(x.ed448_double_mul_base, a, p, b);
    },

    pointDoubleMulBaseCT(a, p, b) {
      return doubleMul(x.ed448_double_mul_base_ct, a, p, b);
    },

    pointAdd(p, q) {
      abytes(p, POINT_BYTES, 'p');
      // The JS backend decodes p before it looks at q: an invalid p wins over a q of the wrong length.
      if (!(q instanceof Uint8Array) || q.length !== POINT_BYTES) {
        if (!decodes(p)) throw invalidPoint('p');
        abytes(q, POINT_BYTES, 'q');
      }
      put(S0, p);
      put(S1, q);
      const bad = x.ed448_add() as number;
      if (bad === 1) throw invalidPoint('p');
      if (bad === 2) throw invalidPoint('q');
      return result();
    },

    scalarReduce(v) {
      abytes(v, undefined, 'scalar input');
      if (v.length > WIDE_SCALAR_BYTES) throw new OtrArgumentError(`scalarReduce takes at most ${WIDE_SCALAR_BYTES} bytes`);
      put(S0, v);
      x.sc_reduce(v.length);
      return result();
    },

    scalarMulAdd(a, b, c) {
      abytes(a, SCALAR_BYTES, 'a');
      abytes(b, SCALAR_BYTES, 'b');
      abytes(c, SCALAR_BYTES, 'c');
      put(S0, a);
      put(S1, b);
      put(S2, c);
      x.sc_muladd();
      return result();
    },
  };
}
