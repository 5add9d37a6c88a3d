/**
 * The Ed448 group and scalars mod q, on both backends: each random case is computed once by @noble/curves
 * through an independent path (multiplyUnsafe, BigInt) and both backends must return the same bytes; the
 * base-point multiplication is also checked against OpenSSL's Ed448 key derivation. Edge scalars, the
 * identity, torsion and small-order points, non-canonical encodings and wrong lengths must give the same
 * result or the same OtrError on both backends. OTR_CASES=100000 scales every random loop.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { ed448 } from '@noble/curves/ed448.js';
import { ED448_BACKENDS, WASM, WASM_SCALAR_ED448, label } from './helpers/backends.js';
import type { WasmBackend } from '../ts/backend/wasm/index.js';
import { CASES, seededRandom } from './helpers/rng.js';
import { bytesToHex, hexToBytes } from '../ts/bytes.js';
import { OtrArgumentError, OtrCryptoError, OtrError } from '../ts/errors.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';

const Point = ed448.Point;
type Pt = InstanceType<typeof Point>;
const Q = Point.Fn.ORDER;
const P = Point.Fp.ORDER;

const leToBig = (b: Uint8Array): bigint => BigInt('0x' + (bytesToHex(Uint8Array.from(b).reverse()) || '0'));
const bigToLe = (n: bigint, len = 57): Uint8Array => hexToBytes(n.toString(16).padStart(2 * len, '0')).reverse();
const hex = bytesToHex;

/** Reference multiple through noble's variable-time ladder (not the `multiply` the JS backend uses). */
const mulRef = (pt: Pt, k: bigint): Pt => pt.multiplyUnsafe(k % Q);

/** The four points of order dividing 4: identity (0, 1), (0, -1), (1, 0), (-1, 0). */
const SMALL_ORDER: Uint8Array[] = [
  hexToBytes('01' + '00'.repeat(56)),
  Uint8Array.from([...bigToLe(P - 1n, 56), 0]),
  hexToBytes('00'.repeat(56) + '80'),
  hexToBytes('00'.repeat(57)),
];

/** Edge scalars: 0, 1, q-1, q, q+1, 2^456-1 (the largest 57-byte value). */
const EDGE_SCALARS: bigint[] = [0n, 1n, Q - 1n, Q, Q + 1n, (1n << 456n) - 1n];

/** Runs fn, returning the OtrError code it throws ('ok' if none); any other exception fails the test. */
function outcome(fn: () => unknown): string {
  try {
    const r = fn();
    return r instanceof Uint8Array ? 'ok:' + hex(r) : 'ok:' + String(r);
  } catch (e) {
    if (!(e instanceof OtrError)) throw e;
    return `${e.constructor.name}:${e.code}`;
  }
}

/** Asserts both backends behave identically (same bytes or same error class and code) and returns it. */
function same(fn: (b: CryptoBackend) => unknown, what: string): string {
  const results = ED448_BACKENDS.map((b) => outcome(() => fn(b)));
  for (const r of results) assert.is(r, results[0], what);
  return results[0]!;
}

function randomPoint(rnd: (n: number) => Uint8Array): Pt {
  return Point.BASE.multiply((leToBig(rnd(57)) % (Q - 1n)) + 1n);
}

test('pointMulBase matches noble on random scalars (any 57-byte value, taken mod q)', () => {
  const rnd = seededRandom(1);
  for (let i = 0; i < CASES; i++) {
    const k = rnd(57);
    const want = hex(mulRef(Point.BASE, leToBig(k)).toBytes());
    for (const b of ED448_BACKENDS) assert.is(hex(b.pointMulBase(k)), want, `${label(b)} case ${i}`);
  }
});

test('pointMulBase of a pruned secret equals OpenSSL Ed448 public key derivation', () => {
  const rnd = seededRandom(2);
  // PKCS#8 wrapping of a raw Ed448 private key (RFC 8410): SEQUENCE { 0, { id-Ed448 }, OCTET STRING { OCTET STRING sk } }.
  const pkcs8Prefix = hexToBytes('3047020100300506032b6571043b0439');
  for (let i = 0; i < CASES; i++) {
    const sk = rnd(57);
    const key = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, sk]), format: 'der', type: 'pkcs8' });
    const pub = Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url');
    const h = createHash('shake256', { outputLength: 114 }).update(sk).digest().subarray(0, 57);
    h[0]! &= 0xfc;
    h[56] = 0;
    h[55]! |= 0x80;
    for (const b of ED448_BACKENDS) assert.is(hex(b.pointMulBase(h)), pub.toString('hex'), `${label(b)} case ${i}`);
  }
});

test('pointMul matches noble on random points, with and without a torsion component', () => {
  const rnd = seededRandom(3);
  const torsion = SMALL_ORDER.map((e) => Point.fromBytes(e));
  for (let i = 0; i < CASES; i++) {
    const pt = randomPoint(rnd).add(torsion[i % 4]!);
    const k = rnd(57);
    const want = hex(mulRef(pt, leToBig(k)).toBytes());
    for (const b of ED448_BACKENDS) assert.is(hex(b.pointMul(pt.toBytes(), k)), want, `${label(b)} case ${i}`);
  }
});

test('pointDoubleMulBase matches noble (G·a + P·b), torsion components included', () => {
  const rnd = seededRandom(4);
  const torsion = SMALL_ORDER.map((e) => Point.fromBytes(e));
  for (let i = 0; i < CASES; i++) {
    const pt = randomPoint(rnd).add(torsion[(i >> 1) % 4]!);
    const a = rnd(57);
    const bb = rnd(57);
    const want = hex(mulRef(Point.BASE, leToBig(a)).add(mulRef(pt, leToBig(bb))).toBytes());
    for (const b of ED448_BACKENDS) assert.is(hex(b.pointDoubleMulBase(a, pt.toBytes(), bb)), want, `${label(b)} case ${i}`);
  }
});

test('pointDoubleMulBaseCT (constant time) = noble G·a + P·b = pointAdd(pointMulBase(a), pointMul(P, b)), torsion included', () => {
  const rnd = seededRandom(0x4d);
  const torsion = SMALL_ORDER.map((e) => Point.fromBytes(e));
  for (let i = 0; i < CASES / 2; i++) {
    const pt = randomPoint(rnd).add(torsion[(i >> 1) % 4]!);
    const a = rnd(57);
    const bb = i % 5 === 0 ? new Uint8Array(57) : rnd(57); // b = 0: the ring signer's own slot
    const want = hex(mulRef(Point.BASE, leToBig(a)).add(mulRef(pt, leToBig(bb))).toBytes());
    for (const b of ED448_BACKENDS) {
      assert.is(hex(b.pointDoubleMulBaseCT(a, pt.toBytes(), bb)), want, `${label(b)} case ${i}`);
      if (i % 10 === 0) assert.is(hex(b.pointAdd(b.pointMulBase(a), b.pointMul(pt.toBytes(), bb))), want, `${label(b)} composed ${i}`);
    }
  }
});

test('pointAdd matches noble, including P + P, P + (-P) and small-order summands', () => {
  const rnd = seededRandom(5);
  const torsion = SMALL_ORDER.map((e) => Point.fromBytes(e));
  for (let i = 0; i < CASES; i++) {
    const p1 = randomPoint(rnd).add(torsion[i % 4]!);
    const p2 = i % 7 === 0 ? p1 : i % 7 === 1 ? p1.negate() : i % 7 === 2 ? torsion[(i >> 3) % 4]! : randomPoint(rnd);
    const want = hex(p1.add(p2).toBytes());
    for (const b of ED448_BACKENDS) assert.is(hex(b.pointAdd(p1.toBytes(), p2.toBytes())), want, `${label(b)} case ${i}`);
  }
});

test('scalarReduce matches BigInt on random lengths 0..114', () => {
  const rnd = seededRandom(6);
  for (let i = 0; i < CASES; i++) {
    const x = rnd(i % 115);
    if (i % 3 === 0) x.fill(0xff); // all-ones inputs stress every carry
    const want = hex(bigToLe(leToBig(x) % Q));
    for (const b of ED448_BACKENDS) assert.is(hex(b.scalarReduce(x)), want, `${label(b)} length ${x.length}`);
  }
});

test('scalarMulAdd matches BigInt (inputs up to 2^456 - 1)', () => {
  const rnd = seededRandom(7);
  for (let i = 0; i < CASES; i++) {
    const [a, bb, c] = [rnd(57), rnd(57), rnd(57)];
    if (i % 5 === 0) a.fill(0xff);
    const want = hex(bigToLe((leToBig(a) * leToBig(bb) + leToBig(c)) % Q));
    for (const b of ED448_BACKENDS) assert.is(hex(b.scalarMulAdd(a, bb, c)), want, `${label(b)} case ${i}`);
  }
});

function nobleDecodes(e: Uint8Array): Pt | undefined {
  try {
    return Point.fromBytes(e);
  } catch {
    return undefined;
  }
}

function checkDecode(e: Uint8Array, what: string): void {
  const pt = nobleDecodes(e);
  const valid = pt !== undefined && !pt.is0() && pt.isTorsionFree();
  for (const b of ED448_BACKENDS) {
    assert.is(b.pointDecodes(e), pt !== undefined, `${label(b)} pointDecodes ${what} ${hex(e)}`);
    assert.is(b.pointIsValid(e), valid, `${label(b)} pointIsValid ${what} ${hex(e)}`);
  }
}

test('pointDecodes / pointIsValid match noble on random strings, valid, torsion and small-order points', () => {
  const rnd = seededRandom(8);
  for (let i = 0; i < CASES; i++) {
    const e = rnd(57);
    if (i % 4 !== 0) e[56]! &= 0x80; // mostly let the curve equation decide, not the reserved bits
    checkDecode(e, 'random');
  }
  const torsion = SMALL_ORDER.map((e) => Point.fromBytes(e));
  for (let i = 0; i < CASES / 10; i++) {
    const pt = randomPoint(rnd);
    checkDecode(pt.toBytes(), 'valid');
    checkDecode(pt.add(torsion[1 + (i % 3)]!).toBytes(), 'torsion');
  }
  for (const e of SMALL_ORDER) {
    checkDecode(e, 'small order');
    for (const b of ED448_BACKENDS) {
      assert.ok(b.pointDecodes(e));
      assert.not.ok(b.pointIsValid(e));
    }
  }
  for (const b of ED448_BACKENDS) assert.ok(b.pointIsValid(Point.BASE.toBytes()));
});

test(`pointIsValid (WASM: the two-exponentiation 4E test) = noble's q·P check on ${CASES} points over all four cosets`, () => {
  const rnd = seededRandom(0x4e);
  const torsion = SMALL_ORDER.map((e) => Point.fromBytes(e));
  for (let i = 0; i < CASES; i++) {
    let pt = randomPoint(rnd).add(torsion[i % 4]!);
    if (i % 3 === 0) pt = pt.negate();
    const e = pt.toBytes();
    const want = !pt.is0() && pt.isTorsionFree();
    assert.is(want, i % 4 === 0, 'the construction: only the identity coset is torsion-free');
    if (WASM.pointIsValid(e) !== want) assert.unreachable(`case ${i}: ${hex(e)}`);
  }
});

test('edge scalars 0, 1, q-1, q, q+1, 2^456-1 on every scalar-taking operation', () => {
  const pt = Point.BASE.multiply(123456789n).add(Point.fromBytes(SMALL_ORDER[2]!));
  for (const k of EDGE_SCALARS) {
    const kb = bigToLe(k);
    assert.is(same((b) => b.pointMulBase(kb), 'mulBase'), 'ok:' + hex(mulRef(Point.BASE, k).toBytes()));
    assert.is(same((b) => b.pointMul(pt.toBytes(), kb), 'mul'), 'ok:' + hex(mulRef(pt, k).toBytes()));
    for (const k2 of EDGE_SCALARS) {
      const want = mulRef(Point.BASE, k).add(mulRef(pt, k2));
      assert.is(same((b) => b.pointDoubleMulBase(kb, pt.toBytes(), bigToLe(k2)), 'dmul'), 'ok:' + hex(want.toBytes()));
      assert.is(same((b) => b.pointDoubleMulBaseCT(kb, pt.toBytes(), bigToLe(k2)), 'dmulCT'), 'ok:' + hex(want.toBytes()));
      const c = bigToLe(k2 ^ 0x5an);
      assert.is(same((b) => b.scalarMulAdd(kb, bigToLe(k2), c), 'mulAdd'), 'ok:' + hex(bigToLe((k * k2 + (k2 ^ 0x5an)) % Q)));
    }
    assert.is(same((b) => b.scalarReduce(kb), 'reduce'), 'ok:' + hex(bigToLe(k % Q)));
  }
  const widest = bigToLe((1n << 912n) - 1n, 114);
  assert.is(same((b) => b.scalarReduce(widest), 'reduce 114'), 'ok:' + hex(bigToLe(((1n << 912n) - 1n) % Q)));
  assert.is(same((b) => b.scalarReduce(new Uint8Array(0)), 'reduce empty'), 'ok:' + hex(new Uint8Array(57)));
});

test('window digits at their extremes (every radix-16 digit -8, -1, 7, ...): every multiplication matches noble', () => {
  // 444-bit nibble patterns (below q, so not reduced): all 8s recode to -8 digits with carries, all Fs to
  // -1 digits, all 7s to the largest positive digit; they drive the selections' negated (uncarried) entries.
  const nibbles = (pattern: string): bigint => BigInt('0x' + pattern.repeat(Math.ceil(111 / pattern.length)).slice(0, 111));
  const scalars = ['8', 'f', '7', '9', '87', '78', 'f0', '1f', '8f'].map(nibbles);
  for (const k of scalars) assert.ok(k < Q);
  const pts = [Point.BASE.multiply(987654321n), Point.BASE.multiply(55555n).add(Point.fromBytes(SMALL_ORDER[2]!))];
  for (const k of scalars) {
    const kb = bigToLe(k);
    assert.is(same((b) => b.pointMulBase(kb), 'mulBase'), 'ok:' + hex(mulRef(Point.BASE, k).toBytes()));
    for (const pt of pts) {
      assert.is(same((b) => b.pointMul(pt.toBytes(), kb), 'mul'), 'ok:' + hex(mulRef(pt, k).toBytes()));
      for (const k2 of [k, scalars[(scalars.indexOf(k) + 1) % scalars.length]!]) {
        const want = 'ok:' + hex(mulRef(Point.BASE, k2).add(mulRef(pt, k)).toBytes());
        assert.is(same((b) => b.pointDoubleMulBase(bigToLe(k2), pt.toBytes(), kb), 'dmul'), want);
        assert.is(same((b) => b.pointDoubleMulBaseCT(bigToLe(k2), pt.toBytes(), kb), 'dmulCT'), want);
      }
    }
  }
});

test('the identity in and out', () => {
  const id = SMALL_ORDER[0]!;
  const pt = Point.BASE.multiply(987654321n);
  const zero = new Uint8Array(57);
  const qb = bigToLe(Q);
  assert.is(same((b) => b.pointMulBase(zero), 'G·0'), 'ok:' + hex(id));
  assert.is(same((b) => b.pointMulBase(qb), 'G·q'), 'ok:' + hex(id));
  assert.is(same((b) => b.pointMul(id, bigToLe(77n)), 'O·k'), 'ok:' + hex(id));
  assert.is(same((b) => b.pointMul(pt.toBytes(), qb), 'P·q'), 'ok:' + hex(id));
  assert.is(same((b) => b.pointAdd(pt.toBytes(), pt.negate().toBytes()), 'P + -P'), 'ok:' + hex(id));
  assert.is(same((b) => b.pointAdd(id, pt.toBytes()), 'O + P'), 'ok:' + hex(pt.toBytes()));
  assert.is(same((b) => b.pointAdd(id, id), 'O + O'), 'ok:' + hex(id));
  assert.is(same((b) => b.pointDoubleMulBase(zero, id, bigToLe(5n)), 'G·0 + O·5'), 'ok:' + hex(id));
  assert.is(same((b) => b.pointDoubleMulBase(bigToLe(3n), pt.toBytes(), zero), 'G·3 + P·0'), 'ok:' + hex(Point.BASE.multiply(3n).toBytes()));
  // Points of order 2 and 4 times the group order's cofactor-free multiples.
  for (const e of SMALL_ORDER) assert.is(same((b) => b.pointMul(e, bigToLe(4n)), '4·T'), 'ok:' + hex(id));
});

test('non-canonical and off-curve encodings: rejected alike, with OtrCryptoError INVALID_POINT', () => {
  const good = Point.BASE.multiply(31337n).toBytes();
  const bad: [string, Uint8Array][] = [
    ['y = p', Uint8Array.from([...bigToLe(P, 56), 0])],
    ['y = p + 1', Uint8Array.from([...bigToLe(P + 1n, 56), 0])],
    ['y = 2^448 - 1', Uint8Array.from([...bigToLe((1n << 448n) - 1n, 56), 0])],
    ['x = 0 with sign bit (identity)', hexToBytes('01' + '00'.repeat(55) + '80')],
    ['x = 0 with sign bit (0, -1)', Uint8Array.from([...bigToLe(P - 1n, 56), 0x80])],
  ];
  for (let bit = 0; bit < 7; bit++) {
    const e = good.slice();
    e[56]! |= 1 << bit;
    bad.push([`reserved bit ${448 + bit}`, e]);
  }
  // Off the curve: a y whose x^2 is a non-square.
  for (let y = 2n; bad.length < 14; y++) {
    const e = Uint8Array.from([...bigToLe(y, 56), 0]);
    if (!nobleDecodes(e)) bad.push([`off-curve y = ${y}`, e]);
  }
  const k = bigToLe(12345n);
  const ok = 'ok:true';
  for (const [what, e] of bad) {
    assert.is(nobleDecodes(e), undefined, `noble accepts ${what}`);
    assert.is(same((b) => b.pointDecodes(e), what), 'ok:false', what);
    assert.is(same((b) => b.pointIsValid(e), what), 'ok:false', what);
    const inv = 'OtrCryptoError:INVALID_POINT';
    assert.is(same((b) => b.pointMul(e, k), what), inv, `pointMul ${what}`);
    assert.is(same((b) => b.pointDoubleMulBase(k, e, k), what), inv, `pointDoubleMulBase ${what}`);
    assert.is(same((b) => b.pointDoubleMulBaseCT(k, e, k), what), inv, `pointDoubleMulBaseCT ${what}`);
    assert.is(same((b) => b.pointAdd(e, good), what), inv, `pointAdd p ${what}`);
    assert.is(same((b) => b.pointAdd(good, e), what), inv, `pointAdd q ${what}`);
    assert.is(same((b) => b.pointAdd(e, new Uint8Array(3)), what), inv, `pointAdd bad p before short q ${what}`);
  }
  assert.is(same((b) => b.pointDecodes(good), 'good'), ok);
});

test('wrong lengths and types give OtrArgumentError on both backends', () => {
  const pt = Point.BASE.toBytes();
  const k = new Uint8Array(57);
  const arg = 'OtrArgumentError:INVALID_ARGUMENT';
  for (const n of [0, 1, 56, 58, 114]) {
    const w = new Uint8Array(n);
    assert.is(same((b) => b.pointDecodes(w), 'decodes'), arg);
    assert.is(same((b) => b.pointIsValid(w), 'isValid'), arg);
    assert.is(same((b) => b.pointMulBase(w), 'mulBase'), arg);
    assert.is(same((b) => b.pointMul(w, k), 'mul p'), arg);
    assert.is(same((b) => b.pointMul(pt, w), 'mul k'), arg);
    assert.is(same((b) => b.pointDoubleMulBase(w, pt, k), 'dmul a'), arg);
    assert.is(same((b) => b.pointDoubleMulBase(k, w, k), 'dmul p'), arg);
    assert.is(same((b) => b.pointDoubleMulBase(k, pt, w), 'dmul b'), arg);
    assert.is(same((b) => b.pointDoubleMulBaseCT(w, pt, k), 'dmulCT a'), arg);
    assert.is(same((b) => b.pointDoubleMulBaseCT(k, w, k), 'dmulCT p'), arg);
    assert.is(same((b) => b.pointDoubleMulBaseCT(k, pt, w), 'dmulCT b'), arg);
    assert.is(same((b) => b.pointAdd(w, pt), 'add p'), arg);
    assert.is(same((b) => b.pointAdd(pt, w), 'add q'), arg);
    assert.is(same((b) => b.scalarMulAdd(w, k, k), 'mulAdd a'), arg);
    assert.is(same((b) => b.scalarMulAdd(k, w, k), 'mulAdd b'), arg);
    assert.is(same((b) => b.scalarMulAdd(k, k, w), 'mulAdd c'), arg);
  }
  assert.is(same((b) => b.scalarReduce(new Uint8Array(115)), 'reduce 115'), arg);
  assert.is(same((b) => b.scalarReduce(new Uint8Array(4096)), 'reduce 4096'), arg);
  const notBytes = [undefined, null, 'abc', [1, 2, 3], new Uint16Array(57)] as unknown as Uint8Array[];
  for (const v of notBytes) {
    assert.is(same((b) => b.pointMulBase(v), 'mulBase type'), arg);
    assert.is(same((b) => b.pointMul(pt, v), 'mul type'), arg);
    assert.is(same((b) => b.pointAdd(pt, v), 'add type'), arg);
    assert.is(same((b) => b.scalarReduce(v), 'reduce type'), arg);
  }
  assert.ok(new OtrArgumentError('x') instanceof OtrError && !(new OtrArgumentError('x') instanceof OtrCryptoError));
});

/** Each WASM Ed448 path with the module it runs in: the SIMD one (the WASM backend in Node) and the main one. */
const ED448_MODULES: readonly [string, CryptoBackend, WasmContext][] = [
  ['simd', WASM, (WASM as WasmBackend).ed448Context],
  ['main', WASM_SCALAR_ED448, (WASM as WasmBackend).context],
];

test('the WASM backend runs Ed448 in the SIMD module (Node validates SIMD); the other path runs in the main one', () => {
  assert.ok((WASM as WasmBackend).simdContext);
  assert.is((WASM as WasmBackend).ed448Context, (WASM as WasmBackend).simdContext);
  const k = new Uint8Array(57).fill(3);
  assert.is(hex(WASM.pointMulBase(k)), hex(WASM_SCALAR_ED448.pointMulBase(k)));
});

for (const [name, B, ctx] of ED448_MODULES) test(`WASM (${name} module): 10^5 mixed calls leave memory size unchanged and the I/O slots zeroed`, () => {
  const WASM = B;
  const memory = ctx.exports.memory as WebAssembly.Memory;
  const before = memory.buffer.byteLength;
  const rnd = seededRandom(9);
  const pt = Point.BASE.multiply(42n).toBytes();
  const off = Uint8Array.from([...bigToLe(P, 56), 0]);
  for (let i = 0; i < 100_000; i++) {
    const k = rnd(57);
    // Mostly cheap calls (scalars, decoding, error paths), a multiplication every 64th call.
    switch (i % 64) {
      case 0: WASM.pointMul(pt, k); break;
      case 1: WASM.pointMulBase(k); break;
      case 2: WASM.pointDoubleMulBase(k, pt, k); break;
      case 3: WASM.pointIsValid(pt); break;
      default:
        if (i % 4 === 0) WASM.scalarReduce(rnd(i % 115));
        else if (i % 4 === 1) WASM.scalarMulAdd(k, k, k);
        else if (i % 4 === 2) WASM.pointDecodes(k);
        else assert.throws(() => WASM.pointAdd(off, pt), (e: unknown) => e instanceof OtrCryptoError);
    }
  }
  assert.is(memory.buffer.byteLength, before);
  assert.is(ctx.mem.length, before);
  WASM.pointMulBase(rnd(57));
  WASM.scalarMulAdd(rnd(57), rnd(57), rnd(57));
  assert.ok(ctx.mem.subarray(ctx.io, ctx.io + 512).every((x) => x === 0), 'I/O slots wiped after secret calls');
});

for (const [name, B, ctx] of ED448_MODULES) test(`WASM (${name} module): the constant-time calls on secrets leave no copy of their secret inputs or output in memory`, () => {
  const WASM = B;
  const rnd = seededRandom(0x5ec);
  const pt = Point.BASE.multiply(7n).toBytes();
  const mem = () => Buffer.from(ctx.mem.buffer, ctx.mem.byteOffset, ctx.mem.length);
  const absent = (secret: Uint8Array, what: string) => {
    // Any 16-byte window of the secret found in memory is a copy left behind (2^-128 by chance).
    for (let o = 0; o + 16 <= secret.length; o += 16) assert.is(mem().indexOf(Buffer.from(secret.subarray(o, o + 16))), -1, `${what} bytes ${o}..${o + 15}`);
  };
  for (let i = 0; i < 8; i++) {
    // The ring signature's T_i = G·x + A_i·y with secret x, y.
    const x = rnd(57);
    const y = rnd(57);
    WASM.pointDoubleMulBaseCT(x, pt, y);
    absent(x, 'pointDoubleMulBaseCT a');
    absent(y, 'pointDoubleMulBaseCT b');
    // uniformScalar's 114-byte draw and the scalar it becomes.
    const draw = rnd(114);
    const s = WASM.scalarReduce(draw);
    absent(draw, 'scalarReduce input');
    absent(s, 'scalarReduce output');
  }
  assert.ok(ctx.mem.subarray(ctx.io, ctx.io + 512).every((x) => x === 0), 'I/O slots wiped');
});

test.run();
