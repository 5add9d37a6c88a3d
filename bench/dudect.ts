/**
 * dudect-style timing-leak check for the WASM backend's secret-scalar operations (not run in CI): the Ed448
 * scalar multiplications (57-byte scalars) and the 3072-bit modular exponentiation with an OTRv4 DH secret
 * (80-byte exponents; base 2 = key generation, a fixed public value = the shared secret; n/16 measurements,
 * as each costs ~100x a scalar multiplication), and the record-sealing AEAD (assembly/aead.ts: key, record
 * content, Poly1305 key, open), with a control whose input never reaches the seal (see there).
 * `DUDECT_ONLY=regex` runs the matching lines only.
 *
 *   npx tsc -p . && node build/bench/dudect.js [measurements per test, default 20000]
 *
 * For each operation, two classes of secret scalar are timed: a fixed scalar (all-zero, then a fixed random
 * value) and a fresh random scalar per call. The class of each measurement is drawn at random, so drift on a
 * busy machine falls on both classes alike. Welch's t statistic compares the two timing distributions, on all
 * measurements and on the fastest 50% / 90% (cropping removes interrupts and preemption, as dudect does).
 * |t| < 4.5 is no evidence of a leak; larger values mean the timing depends on the scalar.
 * A control line runs the same test on the JS backend (BigInt, variable time, zero short-cut), which must
 * show a large |t|: proof that the harness can see a leak on this machine.
 */
import { randomBytes } from 'node:crypto';
import { loadBackend } from '../ts/backend/select.js';
import { aeadOps } from '../ts/backend/wasm/aead.js';
import { backendSealAead } from '../ts/store/aead-backend.js';
import { nobleAead } from '../ts/store/aead-noble.js';
import type { WasmBackend } from '../ts/backend/wasm/index.js';

interface Stats {
  n: number;
  mean: number;
  m2: number;
}

function push(s: Stats, x: number): void {
  s.n++;
  const d = x - s.mean;
  s.mean += d / s.n;
  s.m2 += d * (x - s.mean);
}

function welch(a: Stats, b: Stats): number {
  const va = a.m2 / (a.n - 1);
  const vb = b.m2 / (b.n - 1);
  return (a.mean - b.mean) / Math.sqrt(va / a.n + vb / b.n);
}

function tStatistics(samples: [number, number][]): { all: number; p50: number; p90: number } {
  const sorted = samples.map(([, t]) => t).sort((x, y) => x - y);
  const result = (limit: number): number => {
    const s: Stats[] = [
      { n: 0, mean: 0, m2: 0 },
      { n: 0, mean: 0, m2: 0 },
    ];
    for (const [cls, t] of samples) if (t <= limit) push(s[cls]!, t);
    return welch(s[0]!, s[1]!);
  };
  return {
    all: result(Infinity),
    p50: result(sorted[Math.floor(sorted.length * 0.5)]!),
    p90: result(sorted[Math.floor(sorted.length * 0.9)]!),
  };
}

function measure(n: number, fixed: Uint8Array, op: (k: Uint8Array) => unknown, warmup = 200): [number, number][] {
  const len = fixed.length;
  const classes = randomBytes(n);
  const randoms = randomBytes(len * n);
  // The fixed class is read from its own copy per measurement, as the random class is: both come from memory
  // of the same kind (one hot array against n cold ones measured the cache on short operations).
  const fixeds = new Uint8Array(len * n);
  for (let i = 0; i < n; i++) fixeds.set(fixed, len * i);
  const samples: [number, number][] = [];
  for (let i = 0; i < warmup; i++) op(randoms.subarray(0, len)); // warm up (tier-up to optimised code)
  for (let i = 0; i < n; i++) {
    const cls = classes[i]! & 1;
    const k = (cls === 0 ? fixeds : randoms).subarray(len * i, len * i + len);
    const t0 = process.hrtime.bigint();
    op(k);
    const t1 = process.hrtime.bigint();
    samples.push([cls, Number(t1 - t0)]);
  }
  return samples;
}

const n = Number(process.argv[2] ?? 20000);
const wasm = await loadBackend('wasm');
const point = wasm.pointMulBase(randomBytes(57));
const OTHER = randomBytes(57);
// A public value in the 3072-bit group (a peer's DH public key): 2^x mod p for a random x.
const PEER = wasm.modPow('modp3072', Uint8Array.of(2), randomBytes(80));
/** [name, secret length, measurements, op] */
const ops: [string, number, number, (k: Uint8Array) => unknown][] = [
  ['pointMul', 57, n, (k) => wasm.pointMul(point, k)],
  ['pointMulBase', 57, n, (k) => wasm.pointMulBase(k)],
  // The ring signature's T_i = G·x + A·y: both scalars are secret (the nonce t and, in the signer's slot, 0).
  ['dmulCT a', 57, n, (k) => wasm.pointDoubleMulBaseCT(k, point, OTHER)],
  ['dmulCT b', 57, n, (k) => wasm.pointDoubleMulBaseCT(OTHER, point, k)],
  // The fused ring-signature commitments: the nonce t, a simulated slot's c, the secret, and the signer's slot
  // itself (slot = k[0] mod 3, so the fixed classes sign in one slot and the random class in any).
  ['ring t', 57, n, (k) => ringCommit(k, OTHER, OTHER, 1)],
  ['ring c', 57, n, (k) => ringCommit(OTHER, k, OTHER, 1)],
  ['ring secret', 57, n, (k) => ringCommit(OTHER, OTHER, k, 1)],
  ['ring slot', 57, n, (k) => ringCommit(OTHER, OTHER, OTHER, k[0]! % 3)],
  // DH3072 with an 80-byte secret exponent: the generator's path (dhKeyPair) and the generic one (shared secret).
  ['modPow g=2', 80, Math.max(64, n >> 4), (k) => wasm.modPow('modp3072', Uint8Array.of(2), k)],
  ['modPow peer', 80, Math.max(64, n >> 4), (k) => wasm.modPow('modp3072', PEER, k)],
];
// The record-sealing AEAD (assembly/aead.ts): the key, a 2.2 KB record's plaintext, and the Poly1305 one-time
// key alone (through the module's test hook, over a fixed 2.2 KB message); opening with the key as the secret
// (every class fails the tag: the verdict is public, the tag's computation must not depend on the key).
const wb = wasm as WasmBackend;
const aeadScalar = backendSealAead(aeadOps(wb.context), nobleAead)!;
const aeadSimd = backendSealAead(aeadOps(wb.context, wb.simdContext), nobleAead)!;
const NONCE = randomBytes(24);
const AAD = randomBytes(80);
const RECORD = randomBytes(2296);
const SEALED = new Uint8Array(RECORD.length + 16);
const KEY = randomBytes(32);
const PLAIN = Uint8Array.from(RECORD);
const SCRATCH = new Uint8Array(64);
/** A module's Poly1305 hook: the main module's scalar loop, or the SIMD module's two-blocks-per-step one. */
const polyHook = (c: typeof wb.context) => (k: Uint8Array): void => {
  const area = c.exports.aead_area() as number;
  c.mem.set(k, area);
  c.mem.set(RECORD, c.exports.chacha20_data() as number);
  c.exports.aead_poly1305_test(RECORD.length);
};
const open = (aead: typeof aeadScalar) => (k: Uint8Array): void => {
  try {
    aead.decrypt(k, NONCE, AAD, SEALED);
  } catch {
    /* refused: expected for every class */
  }
};
ops.push(
  ['seal key', 32, n, (k) => aeadScalar.encryptInto(k, NONCE, AAD, RECORD, SEALED)],
  ['seal key simd', 32, n, (k) => aeadSimd.encryptInto(k, NONCE, AAD, RECORD, SEALED)],
  // The record's content (its first 64 bytes are the secret class; the rest stays fixed): written into one hot
  // buffer, so the classes differ in content only, not in where the input lies (a cold 2.2 KB input per call
  // measured the cache, with t flipping sign between runs).
  ['seal record', 64, n, (k) => {
    PLAIN.set(k);
    aeadSimd.encryptInto(KEY, NONCE, AAD, PLAIN, SEALED);
  }],
  // Control for the short operations above: the input is copied as 'seal record' copies it, but the seal never
  // sees it. A |t| here as large as theirs is the harness (the random class's inputs come from cold memory, a
  // cache miss per call against a ~4 µs operation), not the primitive.
  ['seal (input unused)', 64, n, (k) => {
    SCRATCH.set(k);
    aeadSimd.encryptInto(KEY, NONCE, AAD, RECORD, SEALED);
  }],
  ['poly1305 key', 32, n, polyHook(wb.context)],
  ['poly1305 key simd', 32, n, polyHook(wb.simdContext ?? wb.context)],
  ['open key', 32, n, open(aeadScalar)],
  ['open key simd', 32, n, open(aeadSimd)],
);
const RING = [1, 2, 3].map((i) => wasm.pointMulBase(new Uint8Array(57).fill(i)));
function ringCommit(t: Uint8Array, c: Uint8Array, secret: Uint8Array, slot: number): unknown {
  return wasm.ringSignCommitments!({
    ring: RING,
    validate: false,
    signer: [0, 1, 2].map((i) => (i === slot ? -1 : 0)),
    secret,
    publicKey: RING[slot]!,
    t,
    c: [c, c, c],
    r: [OTHER, OTHER, OTHER],
  });
}
const ONLY = process.env.DUDECT_ONLY ? new RegExp(process.env.DUDECT_ONLY) : undefined;
const fixedClasses = (len: number): [string, Uint8Array][] => [
  ['zero', new Uint8Array(len)],
  ['fixed random', randomBytes(len)],
];

console.log(`dudect: ${n} measurements per line, classes interleaved at random; |t| < 4.5: no evidence of leakage`);
let worst = 0;
for (const [name, len, count, op] of ops) {
  if (ONLY && !ONLY.test(name)) continue;
  for (const [fixedName, fixed] of fixedClasses(len)) {
    const t = tStatistics(measure(count, fixed, op, len === 80 ? 20 : 200));
    worst = Math.max(worst, Math.abs(t.all), Math.abs(t.p50), Math.abs(t.p90));
    const f = (x: number): string => x.toFixed(2).padStart(7);
    console.log(`${name.padEnd(19)} ${fixedName.padEnd(13)} vs random   t(all) ${f(t.all)}   t(p50) ${f(t.p50)}   t(p90) ${f(t.p90)}`);
  }
}
const js = await loadBackend('js');
const control = tStatistics(measure(Math.max(200, n >> 4), new Uint8Array(57), (k) => js.pointMulBase(k)));
// NaN: one class has no sample under the cut at all, i.e. the two distributions are entirely separated.
const show = (x: number): string => (Number.isNaN(x) ? 'separated' : x.toFixed(2));
console.log(`control: JS pointMulBase zero vs random (variable time, must leak)   t(all) ${show(control.all)}   t(p50) ${show(control.p50)}`);
console.log(`WASM max |t| = ${worst.toFixed(2)}: ${worst < 4.5 ? 'no evidence of a timing leak' : 'POSSIBLE LEAK'}`);
