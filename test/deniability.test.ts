/**
 * Deniability: every random value in Z_q that is published or blinds a secret is uniform (docs/interop.md
 * §Random values in Z_q; docs/deniability.md). Statistical tests on both backends, each shown to have the
 * power to see the bias it exists to catch by running it on a deliberately biased source (the old
 * hash-and-prune draw, test/helpers/uniformity.ts `hashAndPruneSource`) and asserting that it fails there.
 *
 * Thresholds: every chi-square test passes at p >= 1e-6 (helpers/uniformity.ts ALPHA); with the ~150 tests
 * below per backend the family-wise false-positive probability is < 2e-4 for a blindly chosen seed, and the
 * seeds are fixed, so the suite is deterministic. Sample sizes are chosen for power against the 2-valued
 * mod-4 residue: n values all in {2, 3} (mod 4) give chi2 >= n on 3 degrees of freedom, and
 * P(chi2_3 >= 40) = 1.1e-8 < 1e-6, so 40 values per position always fail.
 *
 * Figures (chi2 of honest vs biased samples) are printed with OTR_PRINT_FIGURES=1.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { ALPHA, chanceBound, chiSquare, chiSquareSurvival, describe, guessSigner, hashAndPruneSource, Q, rejected, scalarTests, type ChiSquare } from './helpers/uniformity.js';
import { bigToBytesBE, bigToBytesLE, bytesToBigBE, bytesToBigLE, bytesToHex, utf8 } from '../ts/bytes.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import { OtrArgumentError } from '../ts/errors.js';
import { UNIFORM_SCALAR_DRAW_BYTES, uniformScalar } from '../ts/crypto/random.js';
import { generateEcdh, randomScalar } from '../ts/crypto/ecdh.js';
import { scalarIsCanonical } from '../ts/crypto/eddsa.js';
import { ringSign, ringVerify, type Ring } from '../ts/crypto/ring-sig.js';
import { createSmp1, createSmp2, processSmp2, processSmp3, processSmp4, verifySmp1 } from '../ts/smp/steps.js';
import { proveDh, proveEcdh, verifyDhProof, verifyEcdhProof } from '../ts/prekey-server/proofs.js';
import { prekeyServerKdf } from '../ts/crypto/kdf.js';
import { dhKeyPair } from '../ts/crypto/dh.js';
import { MODP1536, MODP3072 } from '../ts/crypto/dh-groups.js';
import { Writer } from '../ts/codec/primitives.js';
import { PrekeyServerUsage } from '../ts/crypto/usage.js';

const PRINT = process.env.OTR_PRINT_FIGURES === '1';
const figure = (title: string, tests: readonly ChiSquare[]) => {
  if (PRINT) console.log(`\n[${title}]\n${describe(tests)}`);
};
const assertUniform = (title: string, tests: ChiSquare[]) => {
  figure(title, tests);
  const bad = rejected(tests);
  assert.is(bad.length, 0, `${title}: uniformity rejected\n${describe(bad)}`);
};

// ------------------------------------------------------------------------------- the test's own maths

test('chi-square survival function: known quantiles, and it can reject', () => {
  const near = (x: number, y: number, rel: number) => assert.ok(Math.abs(x - y) <= rel * y, `${x} vs ${y}`);
  near(chiSquareSurvival(3.841459, 1), 0.05, 1e-4);
  near(chiSquareSurvival(7.814728, 3), 0.05, 1e-4);
  near(chiSquareSurvival(11.34487, 3), 0.01, 1e-4);
  near(chiSquareSurvival(30.66485, 3), 1e-6, 1e-3);
  near(chiSquareSurvival(40.5218, 7), 1e-6, 1e-3);
  near(chiSquareSurvival(24.32189, 7), 1e-3, 1e-4);
  near(chiSquareSurvival(2, 2), Math.exp(-1), 1e-9); // df 2: survival is exp(-x/2)
  near(chiSquareSurvival(100, 100), 0.4812, 1e-3);
  // Two-valued mod-4 residue: chi2 = n exactly when the two occupied cells are equal.
  const t = chiSquare('x', [0, 0, 20, 20]);
  assert.is(t.stat, 40);
  assert.ok(t.p < 1.1e-8 && t.p < ALPHA); // P(chi2_3 >= 40) = 1.07e-8
  assert.ok(chiSquare('y', [10, 10, 10, 10]).p === 1);
});

// ------------------------------------------------------------------------------- uniformScalar itself

test('uniformScalar: 114 bytes, little-endian, mod q; the draw is wiped; canonical; identical on every backend', () => {
  const outs = BACKENDS.map((b) => {
    const rnd = seededRandom(0xd1e);
    const got: string[] = [];
    for (let i = 0; i < 64; i++) {
      let v: Uint8Array | undefined;
      let copy: Uint8Array | undefined;
      const s = uniformScalar(b, (n) => {
        assert.is(n, UNIFORM_SCALAR_DRAW_BYTES);
        v = rnd(n);
        copy = v.slice();
        return v;
      });
      assert.ok(v!.every((x) => x === 0), 'draw wiped');
      assert.is(s.length, 57);
      assert.ok(scalarIsCanonical(s));
      assert.is(bytesToBigLE(s), bytesToBigLE(copy!) % Q);
      got.push(bytesToHex(s));
    }
    return got.join();
  });
  for (const o of outs) assert.is(o, outs[0]);
  // Extremes: all-ones reduces correctly; a short draw is an argument error, not a short scalar.
  for (const b of BACKENDS) {
    const max = uniformScalar(b, (n) => new Uint8Array(n).fill(0xff));
    assert.is(bytesToBigLE(max), (2n ** 912n - 1n) % Q);
    assert.throws(() => uniformScalar(b, () => new Uint8Array(57)), (e: unknown) => e instanceof OtrArgumentError);
  }
});

test('uniformScalar passes every test; the old randomScalar (hash and prune) fails: always 2 or 3 mod 4', () => {
  for (const b of BACKENDS) {
    const rnd = seededRandom(0x5eed);
    const n = 2000;
    const good = Array.from({ length: n }, () => uniformScalar(b, rnd));
    assertUniform(`uniformScalar x${n} [${b.name}]`, scalarTests('uniformScalar', good, 5, 16));
    const old = Array.from({ length: n }, () => randomScalar(b, rnd));
    const tests = scalarTests('randomScalar', old, 5, 16);
    figure(`randomScalar x${n} [${b.name}]`, tests);
    assert.ok(old.every((s) => (s[0]! & 3) >= 2), 'hash-and-prune values are 2 or 3 mod 4');
    const names = rejected(tests).map((t) => t.feature);
    for (const m of [4, 8, 16, 32]) assert.ok(names.includes(`randomScalar mod ${m}`), `mod ${m} must reject: ${names}`);
    // The source used below to stand in for the old sampler gives exactly randomScalar's values.
    const a = hashAndPruneSource(77);
    const c = seededRandom(77);
    for (let i = 0; i < 8; i++) assert.is(bytesToHex(uniformScalar(b, a)), bytesToHex(randomScalar(b, c)));
  }
});

// ------------------------------------------------------------------------------- ring signatures

function ringSample(b: CryptoBackend, perSlot: number, source: (n: number) => Uint8Array): { sigs: Uint8Array[][]; ring: Ring } {
  const keys = [0, 1, 2].map((i) => generateEcdh(b, seededRandom(900 + i)));
  const ring: Ring = [keys[0]!.public, keys[1]!.public, keys[2]!.public];
  const sigs = [0, 1, 2].map((slot) =>
    Array.from({ length: perSlot }, (_, i) => {
      const m = utf8(`message ${i}`);
      const sigma = ringSign(b, source, keys[slot]!.secret, keys[slot]!.public, ring, m);
      if (i === 0) assert.ok(ringVerify(b, ring, sigma, m));
      return sigma;
    }),
  );
  return { sigs, ring };
}

const part = (sigma: Uint8Array, k: number) => sigma.subarray(57 * k, 57 * (k + 1));
const NAMES = ['c1', 'r1', 'c2', 'r2', 'c3', 'r3'];

/** Per signer slot and per wire position, and per position pooled over slots: every test of every value. */
export function ringSignatureTests(label: string, sigs: Uint8Array[][]): ChiSquare[] {
  const out: ChiSquare[] = [];
  for (let k = 0; k < 6; k++) {
    sigs.forEach((bySlot, slot) => out.push(...scalarTests(`${label} signer ${slot + 1}: ${NAMES[k]}`, bySlot.map((s) => part(s, k)), 3, 4)));
    out.push(...scalarTests(`${label} all signers: ${NAMES[k]}`, sigs.flat().map((s) => part(s, k)), 4, 8));
  }
  return out;
}

/**
 * Honest signatures per signer slot: 64 on WASM; 40 on JS, whose signing is ~7x slower (the draws and the
 * algorithm are the same bytes on both backends — ring-sig.test.ts — so the smaller JS sample still checks
 * that backend's reduction and arithmetic). 40 per cell group keeps every chi-square cell at >= 5 expected.
 */
const HONEST_PER_SLOT = { wasm: 64, js: 40, hybrid: 64 } as const;

const guesses = (sigs: Uint8Array[][]) => sigs.reduce((n, bySlot, slot) => n + bySlot.filter((s) => guessSigner(s) === slot).length, 0);

test('ring signatures by each slot: no residue, high-bit or per-position test tells the signer apart (both backends)', () => {
  for (const b of BACKENDS) {
    const per = HONEST_PER_SLOT[b.name];
    const { sigs } = ringSample(b, per, seededRandom(0xa11ce + b.name.length));
    assertUniform(`ring signatures, 3x${per} [${b.name}]`, ringSignatureTests('honest', sigs));
    const right = guesses(sigs);
    if (PRINT) console.log(`[${b.name}] residue distinguisher on honest signatures: ${right}/${3 * per} right (bound ${chanceBound(3 * per).toFixed(1)})`);
    assert.ok(right < chanceBound(3 * per), `distinguisher right ${right}/${3 * per}`);
  }
});

test('power: the same tests on the old hash-and-prune draws reject for every slot, and the distinguisher finds the signer', () => {
  for (const b of BACKENDS) {
    const { sigs } = ringSample(b, 40, hashAndPruneSource(0xb1a5));
    const tests = ringSignatureTests('biased', sigs);
    figure(`biased ring signatures, 3x40 [${b.name}]`, tests);
    const names = new Set(rejected(tests).map((t) => t.feature));
    for (let slot = 0; slot < 3; slot++)
      for (let k = 0; k < 6; k++) {
        const name = `biased signer ${slot + 1}: ${NAMES[k]} mod 4`;
        // The signer's own c and r are computed (uniform); every other slot's are drawn (biased).
        assert.is(names.has(name), (k >> 1) !== slot, name);
      }
    const right = guesses(sigs);
    if (PRINT) console.log(`[${b.name}] residue distinguisher on biased signatures: ${right}/120 right (bound ${chanceBound(120).toFixed(1)})`);
    assert.ok(right > chanceBound(120) && right > 0.7 * 120, `distinguisher right ${right}/120`);
  }
});

// ------------------------------------------------------------------------------- SMP

/**
 * Nonces behind SMP proofs, recovered as r = d + secret·c mod q by someone who knows the secret (the test
 * holds both sides): a man in the middle sees d and c, so any bias of r is a bias of the secret through d.
 * Also the secret exponents a2, a3, b3. SMP1 alone for `n1` runs; full SMP1..4 for `full` runs.
 */
function smpSample(b: CryptoBackend, n1: number, full: number, source: (n: number) => Uint8Array) {
  const rec = (s: Uint8Array, c: Uint8Array, d: Uint8Array) => b.scalarMulAdd(s, c, d);
  const nonces: Record<string, Uint8Array[]> = { 'SMP1 r2': [], 'SMP1 r3': [], 'SMP2 r3': [], 'SMP2 r6': [], 'SMP3 r6': [], 'SMP3 r7': [], 'SMP4 r7': [] };
  const exponents: Uint8Array[] = [];
  const secret = () => bigToBytesLE(bytesToBigLE(seededRandom(5)(57)) % Q, 57);
  const x = secret();
  for (let i = 0; i < n1 + full; i++) {
    const s1 = createSmp1(b, source, x, new Uint8Array(0));
    nonces['SMP1 r2']!.push(rec(s1.keep.a2, s1.message.c2, s1.message.d2));
    nonces['SMP1 r3']!.push(rec(s1.keep.a3, s1.message.c3, s1.message.d3));
    exponents.push(s1.keep.a2, s1.keep.a3);
    if (i < n1) continue;
    verifySmp1(b, s1.message);
    const s2 = createSmp2(b, source, s1.message.g2a, s1.message.g3a, x);
    nonces['SMP2 r3']!.push(rec(s2.keep.b3, s2.message.c3, s2.message.d3));
    nonces['SMP2 r6']!.push(rec(x, s2.message.cp, s2.message.d6));
    exponents.push(s2.keep.b3);
    const s3 = processSmp2(b, source, s1.keep, s2.message);
    nonces['SMP3 r6']!.push(rec(x, s3.message.cp, s3.message.d6));
    nonces['SMP3 r7']!.push(rec(s1.keep.a3, s3.message.cr, s3.message.d7));
    const s4 = processSmp3(b, source, s2.keep, s3.message);
    nonces['SMP4 r7']!.push(rec(s2.keep.b3, s4.message.cr, s4.message.d7));
    assert.ok(s4.match && processSmp4(b, s3.keep, s4.message), 'same secret matches');
  }
  return { nonces, exponents };
}

test('SMP: every proof nonce and exponent is uniform (both backends); the same tests reject hash-and-prune draws', () => {
  for (const b of BACKENDS) {
    const { nonces, exponents } = smpSample(b, 100, 20, seededRandom(0x5a3 + b.name.length));
    const tests: ChiSquare[] = [];
    for (const [k, v] of Object.entries(nonces)) tests.push(...scalarTests(k, v, v.length >= 80 ? 3 : 2, v.length >= 80 ? 4 : 2));
    tests.push(...scalarTests('all nonces', Object.values(nonces).flat(), 4, 8));
    tests.push(...scalarTests('exponents a2 a3 b3', exponents, 4, 8));
    assertUniform(`SMP, 100 + 20 runs [${b.name}]`, tests);

    const biased = smpSample(b, 40, 0, hashAndPruneSource(0x5a3));
    const bt = [...scalarTests('biased SMP1 r2', biased.nonces['SMP1 r2']!), ...scalarTests('biased SMP1 r3', biased.nonces['SMP1 r3']!)];
    figure(`biased SMP1, 40 runs [${b.name}]`, bt);
    const names = rejected(bt).map((t) => t.feature);
    assert.ok(names.includes('biased SMP1 r2 mod 4') && names.includes('biased SMP1 r3 mod 4'), names.join());
  }
});

// ------------------------------------------------------------------------------- OTRv3 SMP (left as it is)

test('OTRv3 SMP exponents (1536 random bits, used mod q) are within 2^-66 of uniform: no change needed', () => {
  // U[0, 2^1536) mod q with 2^1536 = 2q + delta: residues below delta have weight 3, the others 2, so the
  // statistical distance from uniform is delta·(3q − 2^1536) / (2^1536·q) — exactly, in integers.
  const q = MODP1536.q;
  const n = 1n << 1536n;
  const delta = n - 2n * q;
  assert.ok(delta > 0n && delta < q);
  const scaled = (delta * (3n * q - n) * (1n << 66n)) / (n * q); // distance · 2^66
  assert.is(scaled, 0n, 'statistical distance < 2^-66');
  assert.ok(delta.toString(2).length <= 1470);
});

// ------------------------------------------------------------------------------- prekey-server proofs

test('prekey-server proofs: the ECDH nonce is the uniform reduction of 114 bytes, the DH nonce of 416 bytes mod q_dh', () => {
  for (const b of BACKENDS) {
    const rnd = seededRandom(0x9e0 + b.name.length);
    const m = new Uint8Array(64).fill(3);
    const kp = generateEcdh(b, rnd);
    for (let i = 0; i < 4; i++) {
      const draws: Uint8Array[] = [];
      const proof = proveEcdh(b, (n) => (draws.push(rnd(n)), draws.at(-1)!.slice()), PrekeyServerUsage.proofMessageEcdh, [kp], m);
      assert.equal(draws.map((d) => d.length), [114]);
      // c = KDF_PS(usage, G·r || Y || m) with r = draw mod q: the nonce is exactly the uniform draw.
      const A = b.pointMulBase(b.scalarReduce(draws[0]!));
      assert.is(bytesToHex(proof.c), bytesToHex(prekeyServerKdf(b, PrekeyServerUsage.proofMessageEcdh, [A, kp.public, m], 64)));
      assert.ok(verifyEcdhProof(b, PrekeyServerUsage.proofMessageEcdh, [kp.public], m, proof));
    }
    const dh = dhKeyPair(b, rnd);
    const draws: Uint8Array[] = [];
    const proof = proveDh(b, (n) => (draws.push(rnd(n)), draws.at(-1)!.slice()), [dh], m);
    assert.equal(draws.map((d) => d.length), [MODP3072.bytes + 32]);
    const r = bytesToBigBE(draws[0]!) % MODP3072.q;
    const A = b.modPow('modp3072', Uint8Array.of(2), bigToBytesBE(r, MODP3072.bytes));
    const mpi = (v: Uint8Array) => new Writer(v.length + 4).mpi(v).finish();
    assert.is(bytesToHex(proof.c), bytesToHex(prekeyServerKdf(b, PrekeyServerUsage.proofMessageDh, [mpi(A), mpi(dh.public), m], 64)));
    assert.ok(verifyDhProof(b, [dh.public], m, proof));
    // v = r + t·b mod q_dh with r uniform mod q_dh: v is no longer r + t·b over the integers (the 80-byte
    // nonce never wrapped, so v − r revealed t·b to within 2^640).
    assert.ok(bytesToBigBE(proof.v) < MODP3072.q);
  }
});

test.run();
