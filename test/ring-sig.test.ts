import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ed448 } from '@noble/curves/ed448.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { ED448_BACKENDS as BACKENDS, HYBRID, JS, WASM, label } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../ts/bytes.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import { OtrArgumentError, OtrCryptoError } from '../ts/errors.js';
import { generateEcdh, type EcdhKeyPair } from '../ts/crypto/ecdh.js';
import {
  RING_SIG_BYTES, checkSigningKey, ringSign, ringSignChecked, ringSignValidated, ringSignWith, ringVerify, ringVerifyValidated, ringVerifyWith,
  type CheckedSigner, type Ring, type ValidRing,
} from '../ts/crypto/ring-sig.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';
import { psRingSign, psRingVerify } from '../ts/prekey-server/ring-sig.js';

const Point = ed448.Point;
const Q = Point.Fn.ORDER;
const leToBig = (b: Uint8Array) => BigInt('0x' + (bytesToHex(Uint8Array.from(b).reverse()) || '0'));

/**
 * RVrf written again from otrv4.md and interpretations.md §4 directly on noble + @noble/hashes, sharing no
 * code with ts/crypto: c = SHAKE-256("OTRv4" || 0x1A || G || q(raw LE) || A1 || A2 || A3 || T1 || T2 || T3
 * || DATA(m), 57) mod q; accept iff c == c1 + c2 + c3. The prekey-server DAKE hashes the same values under
 * its own prefix and usage ("OTR-Prekey-Server", 0x11: otrv4-prekey-server.md §DAKE-2 Message).
 */
function referenceVerify(ring: readonly Uint8Array[], sigma: Uint8Array, m: Uint8Array, prefix = 'OTRv4', usage = 0x1a): boolean {
  const part = (i: number) => leToBig(sigma.subarray(57 * i, 57 * (i + 1)));
  const c = [part(0), part(2), part(4)];
  const r = [part(1), part(3), part(5)];
  const T = ring.map((a, i) =>
    Point.BASE.multiplyUnsafe(r[i]! % Q)
      .add(Point.fromBytes(a).multiplyUnsafe(c[i]! % Q))
      .toBytes(),
  );
  const qRaw = hexToBytes('f34458ab92c27823558fc58d72c26c219036d6ae49db4ec4e923ca7cffffffffffffffffffffffffffffffffffffffffffffffffffffff3f00');
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, m.length);
  const h = shake256(concatBytes(utf8(prefix), Uint8Array.of(usage), Point.BASE.toBytes(), qRaw, ...ring, ...T, len, m), { dkLen: 57 });
  return leToBig(h) % Q === (c[0]! + c[1]! + c[2]!) % Q;
}

function keys(b: CryptoBackend, seed: number): EcdhKeyPair[] {
  const rnd = seededRandom(seed);
  return [generateEcdh(b, rnd), generateEcdh(b, rnd), generateEcdh(b, rnd)];
}
const ringOf = (k: EcdhKeyPair[]): Ring => [k[0]!.public, k[1]!.public, k[2]!.public];

test('sign/verify for each signer position on every backend; every signature verifies on every backend and on an independent reference', () => {
  for (const b of BACKENDS) {
    const k = keys(b, 11);
    const ring = ringOf(k);
    for (let pos = 0; pos < 3; pos++) {
      const msg = utf8(`position ${pos} on ${label(b)}`);
      const sigma = ringSign(b, seededRandom(100 + pos), k[pos]!.secret, k[pos]!.public, ring, msg);
      assert.is(sigma.length, RING_SIG_BYTES);
      for (const v of BACKENDS) assert.ok(ringVerify(v, ring, sigma, msg), `signed on ${label(b)} pos ${pos}, verified on ${label(v)}`);
      assert.ok(referenceVerify(ring, sigma, msg), `reference ${label(b)} pos ${pos}`);
      // Every scalar on the wire is canonical (< q), so strict readers accept it too.
      for (let i = 0; i < 6; i++) assert.ok(leToBig(sigma.subarray(57 * i, 57 * (i + 1))) < Q);
    }
  }
});

test('with the same randomness every backend produces the same bytes', () => {
  const k = keys(BACKENDS[0]!, 12);
  const ring = ringOf(k);
  for (let pos = 0; pos < 3; pos++) {
    const out = BACKENDS.map((b) => bytesToHex(ringSign(b, seededRandom(7), k[pos]!.secret, k[pos]!.public, ring, utf8('m'))));
    for (const o of out) assert.is(o, out[0]);
  }
});

test('the signer slot is not visible in the draw pattern: the same randomness stream is consumed for any slot', () => {
  const b = BACKENDS[0]!;
  const k = keys(b, 13);
  const ring = ringOf(k);
  const calls = [0, 1, 2].map((pos) => {
    const sizes: number[] = [];
    const rnd = seededRandom(1);
    ringSign(b, (n) => (sizes.push(n), rnd(n)), k[pos]!.secret, k[pos]!.public, ring, utf8('x'));
    return sizes.join();
  });
  assert.is(calls[0], calls[1]);
  assert.is(calls[1], calls[2]);
  assert.is(calls[0], '114,114,114,114,114,114,114'); // seven uniform scalars (random.ts uniformScalar)
});

test('tampering any single byte of sigma fails (every byte, each backend)', () => {
  for (const b of BACKENDS) {
    const k = keys(b, 14);
    const ring = ringOf(k);
    const msg = utf8('tamper sigma');
    const sigma = ringSign(b, seededRandom(3), k[2]!.secret, k[2]!.public, ring, msg);
    for (let i = 0; i < RING_SIG_BYTES; i++) {
      const t = sigma.slice();
      t[i]! ^= 1 << (i % 8);
      assert.not.ok(ringVerify(b, ring, t, msg), `${label(b)} byte ${i}`);
    }
  }
});

test('tampering the message (any byte, appended, truncated) or any ring member (any byte, order) fails', () => {
  for (const b of BACKENDS) {
    const k = keys(b, 15);
    const ring = ringOf(k);
    const msg = utf8('the DAKE transcript t');
    const sigma = ringSign(b, seededRandom(4), k[0]!.secret, k[0]!.public, ring, msg);
    assert.ok(ringVerify(b, ring, sigma, msg));
    for (let i = 0; i < msg.length; i++) {
      const m = msg.slice();
      m[i]! ^= 0x20;
      assert.not.ok(ringVerify(b, ring, sigma, m), `${label(b)} msg byte ${i}`);
    }
    assert.not.ok(ringVerify(b, ring, sigma, concatBytes(msg, Uint8Array.of(0))));
    assert.not.ok(ringVerify(b, ring, sigma, msg.subarray(0, msg.length - 1)));
    assert.not.ok(ringVerify(b, ring, sigma, new Uint8Array(0)));
    for (let member = 0; member < 3; member++) {
      for (let i = 0; i < 57; i++) {
        const r = [...ring] as Uint8Array[];
        r[member] = ring[member]!.slice();
        r[member]![i]! ^= 1 << (i % 8);
        assert.not.ok(ringVerify(b, r as unknown as Ring, sigma, msg), `${label(b)} member ${member} byte ${i}`);
      }
    }
    assert.not.ok(ringVerify(b, [ring[1], ring[0], ring[2]], sigma, msg), 'order matters');
    assert.not.ok(ringVerify(b, [ring[0], ring[1], generateEcdh(b, seededRandom(99)).public], sigma, msg), 'other key');
  }
});

test('ringVerify: malformed sigma and invalid ring members give false, wrong types give OtrArgumentError', () => {
  const isArg = (e: unknown) => e instanceof OtrArgumentError;
  for (const b of BACKENDS) {
    const k = keys(b, 16);
    const ring = ringOf(k);
    const msg = utf8('m');
    const sigma = ringSign(b, seededRandom(5), k[1]!.secret, k[1]!.public, ring, msg);
    for (const n of [0, 57, 341, 343, 684]) {
      const s = new Uint8Array(n);
      s.set(sigma.subarray(0, Math.min(n, RING_SIG_BYTES)));
      assert.not.ok(ringVerify(b, ring, s, msg), `${label(b)} length ${n}`);
    }
    assert.not.ok(ringVerify(b, ring, new Uint8Array(RING_SIG_BYTES), msg), 'all-zero sigma');
    const small = [
      hexToBytes('01' + '00'.repeat(56)),
      hexToBytes('00'.repeat(56) + '80'),
      hexToBytes('fe' + 'ff'.repeat(27) + 'fe' + 'ff'.repeat(27) + '00'),
    ];
    const torsioned = Point.fromBytes(ring[0]).add(Point.fromBytes(small[1]!)).toBytes();
    for (const bad of [...small, torsioned, new Uint8Array(56), new Uint8Array(58), hexToBytes('02' + '00'.repeat(56))])
      assert.not.ok(ringVerify(b, [bad, ring[1], ring[2]], sigma, msg), `${label(b)} bad member`);
    assert.throws(() => ringVerify(b, ring, 'x' as never, msg), isArg);
    assert.throws(() => ringVerify(b, ring, sigma, null as never), isArg);
    assert.throws(() => ringVerify(b, [ring[0], ring[1]] as never, sigma, msg), isArg);
    assert.throws(() => ringVerify(b, 'abc' as never, sigma, msg), isArg);
    assert.throws(() => ringVerify(b, [ring[0], ring[1], 7] as never, sigma, msg), isArg);
  }
});

test('ringSign: key not in the ring or not matching the secret is OtrArgumentError; invalid ring members are INVALID_POINT', () => {
  for (const b of BACKENDS) {
    const k = keys(b, 17);
    const ring = ringOf(k);
    const outsider = generateEcdh(b, seededRandom(18));
    const msg = utf8('m');
    const rnd = seededRandom(6);
    assert.throws(() => ringSign(b, rnd, outsider.secret, outsider.public, ring, msg), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => ringSign(b, rnd, outsider.secret, k[0]!.public, ring, msg), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => ringSign(b, rnd, k[0]!.secret, k[0]!.public, [ring[0], ring[1]] as never, msg), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => ringSign(b, rnd, k[0]!.secret.subarray(1), k[0]!.public, ring, msg), (e: unknown) => e instanceof OtrArgumentError);
    const identity = hexToBytes('01' + '00'.repeat(56));
    assert.throws(
      () => ringSign(b, rnd, k[0]!.secret, k[0]!.public, [ring[0], identity, ring[2]], msg),
      (e: unknown) => e instanceof OtrCryptoError && e.code === 'INVALID_POINT',
    );
  }
});

/** The WASM backend without its fused ring-signature calls: ring-sig.ts then takes the generic path. */
const WASM_UNFUSED: CryptoBackend = { ...WASM, ringSignCommitments: undefined, ringVerifyCommitments: undefined };

test('fused WASM commitments = the generic path, byte for byte: every slot, a duplicated key, validating and validated entry points', () => {
  assert.type(WASM.ringSignCommitments, 'function');
  assert.type(WASM.ringVerifyCommitments, 'function');
  for (const seed of [21, 22]) {
    const k = keys(WASM, seed);
    for (const ring of [ringOf(k), [k[0]!.public, k[1]!.public, k[0]!.public] as Ring, [k[2]!.public, k[2]!.public, k[2]!.public] as Ring]) {
      for (const signer of k) {
        if (!ring.some((a) => bytesToHex(a) === bytesToHex(signer.public))) continue;
        const msg = utf8(`fused ${seed}`);
        const fused = ringSign(WASM, seededRandom(seed), signer.secret, signer.public, ring, msg);
        const plain = ringSign(WASM_UNFUSED, seededRandom(seed), signer.secret, signer.public, ring, msg);
        assert.is(bytesToHex(fused), bytesToHex(plain));
        const validated = ringSignValidated(WASM, seededRandom(seed), signer.secret, signer.public, ring as unknown as ValidRing, msg);
        assert.is(bytesToHex(validated), bytesToHex(plain));
        assert.ok(referenceVerify(ring, fused, msg));
        assert.ok(ringVerify(WASM, ring, fused, msg));
        assert.ok(ringVerifyValidated(WASM, ring as unknown as ValidRing, fused, msg));
        // Verification's commitments are the generic path's three G·r_i + A_i·c_i, also for a forged sigma.
        const forged = Uint8Array.from(fused);
        forged[3]! ^= 1;
        const c = [0, 2, 4].map((i) => forged.subarray(57 * i, 57 * (i + 1)));
        const r = [1, 3, 5].map((i) => forged.subarray(57 * i, 57 * (i + 1)));
        const T = WASM.ringVerifyCommitments!(ring, c, r, true).T!;
        for (let i = 0; i < 3; i++) assert.is(bytesToHex(T[i]!), bytesToHex(JS.pointDoubleMulBase(r[i]!, ring[i]!, c[i]!)));
        assert.not.ok(ringVerify(WASM, ring, forged, msg));
      }
    }
  }
});

test('fused WASM signing reports errors in the generic order: invalid member, then a secret that does not match, then a key outside the ring', () => {
  const k = keys(WASM, 23);
  const ring = ringOf(k);
  const outsider = generateEcdh(WASM, seededRandom(24));
  const identity = hexToBytes('01' + '00'.repeat(56));
  const torsioned = Point.fromBytes(ring[1]).add(Point.fromBytes(hexToBytes('00'.repeat(56) + '80'))).toBytes();
  const msg = utf8('m');
  for (const b of [WASM, WASM_UNFUSED]) {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof OtrCryptoError ? `crypto:${e.code}` : e instanceof OtrArgumentError ? `arg:${e.message}` : `other:${String(e)}`;
      }
      return 'none';
    };
    for (const bad of [identity, torsioned, hexToBytes('02' + '00'.repeat(56))]) {
      for (let slot = 0; slot < 3; slot++) {
        const r = [...ring] as unknown as Uint8Array[];
        r[slot] = bad;
        // A mismatched secret and an invalid member together: INVALID_POINT wins, as in the generic path.
        assert.is(code(() => ringSign(b, seededRandom(1), outsider.secret, k[(slot + 1) % 3]!.public, r as unknown as Ring, msg)), 'crypto:INVALID_POINT', `${b === WASM ? 'fused' : 'plain'} slot ${slot}`);
      }
    }
    assert.match(code(() => ringSign(b, seededRandom(1), outsider.secret, k[0]!.public, ring, msg)), /^arg:.*does not match/);
    assert.match(code(() => ringSign(b, seededRandom(1), outsider.secret, outsider.public, ring, msg)), /^arg:.*not a ring member/);
    assert.match(code(() => ringSign(b, seededRandom(1), new Uint8Array(57), identity, [identity, ring[1], ring[2]] as Ring, msg)), /^crypto:INVALID_POINT/);
    assert.match(code(() => ringSignValidated(b, seededRandom(1), new Uint8Array(57), identity, [identity, ring[1], ring[2]] as unknown as ValidRing, msg)), /^arg:.*does not match/);
  }
});

test('WASM: fused signing leaves no copy of the secret, the nonces or the scalars in memory, and zeroes its I/O slots', () => {
  const ctx = (WASM as unknown as { context: WasmContext }).context;
  const mem = () => Buffer.from(ctx.mem.buffer, ctx.mem.byteOffset, ctx.mem.length);
  const k = keys(WASM, 25);
  const ring = ringOf(k);
  for (let pos = 0; pos < 3; pos++) {
    const draws: Uint8Array[] = [];
    const rnd = seededRandom(30 + pos);
    ringSign(WASM, (n) => { const d = rnd(n); draws.push(Uint8Array.from(d)); return d; }, k[pos]!.secret, k[pos]!.public, ring, utf8('w'));
    for (const s of [k[pos]!.secret, ...draws.map((d) => WASM.scalarReduce(d))])
      for (let o = 0; o + 16 <= s.length; o += 16) assert.is(mem().indexOf(Buffer.from(s.subarray(o, o + 16))), -1, `slot ${pos} bytes ${o}`);
  }
  assert.ok(ctx.mem.subarray(ctx.io, ctx.io + 1280).every((x) => x === 0), 'I/O slots wiped');
});

test('a key that appears twice in the ring still signs (the first copy signs, the second is simulated)', () => {
  for (const b of BACKENDS) {
    const k = keys(b, 19);
    const ring: Ring = [k[0]!.public, k[1]!.public, k[0]!.public];
    const msg = utf8('dup');
    const sigma = ringSign(b, seededRandom(8), k[0]!.secret, k[0]!.public, ring, msg);
    assert.ok(ringVerify(b, ring, sigma, msg));
    assert.ok(referenceVerify(ring, sigma, msg));
  }
});

test('prekey-server ring signature: verifies on every backend and on the reference with its own prefix and usage, never across domains', () => {
  for (const b of BACKENDS) {
    const k = keys(b, 21);
    const ring = ringOf(k);
    for (let pos = 0; pos < 3; pos++) {
      const msg = utf8(`prekey-server position ${pos} on ${label(b)}`);
      const sigma = psRingSign(b, seededRandom(200 + pos), k[pos]!.secret, k[pos]!.public, ring, msg);
      assert.is(sigma.length, RING_SIG_BYTES);
      for (const v of BACKENDS) assert.ok(psRingVerify(v, ring, sigma, msg), `signed on ${label(b)} pos ${pos}, verified on ${label(v)}`);
      assert.ok(referenceVerify(ring, sigma, msg, 'OTR-Prekey-Server', 0x11), `reference ${label(b)} pos ${pos}`);
      // Domain separation: a prekey-server signature is no OTRv4 one, and the other way round.
      assert.not.ok(ringVerify(b, ring, sigma, msg));
      assert.not.ok(referenceVerify(ring, sigma, msg));
      assert.not.ok(psRingVerify(b, ring, ringSign(b, seededRandom(200 + pos), k[pos]!.secret, k[pos]!.public, ring, msg), msg));
      const tampered = sigma.slice();
      tampered[pos * 114]! ^= 1;
      assert.not.ok(psRingVerify(b, ring, tampered, msg));
    }
  }
});

test('ringSignWith/ringVerifyWith use exactly the challenge they are given', () => {
  const b = BACKENDS[0]!;
  const k = keys(b, 22);
  const ring = ringOf(k);
  const msg = utf8('injected');
  const seen: number[] = [];
  // A challenge that is not OTRv4's (a different usage under the same KDF shape), counting its calls.
  const other = (tag: number) => (cb: CryptoBackend, r: Ring, T: readonly Uint8Array[], m: Uint8Array) => {
    seen.push(tag);
    const h = shake256(concatBytes(Uint8Array.of(tag), ...r, ...T, m), { dkLen: 57 });
    return cb.scalarReduce(h);
  };
  const sigma = ringSignWith(other(1), b, seededRandom(10), k[1]!.secret, k[1]!.public, ring, msg);
  assert.ok(ringVerifyWith(other(1), b, ring, sigma, msg));
  assert.not.ok(ringVerifyWith(other(2), b, ring, sigma, msg));
  assert.not.ok(ringVerify(b, ring, sigma, msg));
  assert.equal(seen, [1, 1, 2]);
  // The OTRv4 wrapper still signs under the OTRv4 challenge.
  assert.ok(referenceVerify(ring, ringSign(b, seededRandom(10), k[1]!.secret, k[1]!.public, ring, msg), msg));
});

test('signing wipes nothing of the caller and works with Node Buffers', () => {
  for (const b of BACKENDS) {
    const k = keys(b, 20);
    const secret = Buffer.from(k[1]!.secret);
    const before = bytesToHex(secret);
    const ring: Ring = [Buffer.from(k[0]!.public), Buffer.from(k[1]!.public), Buffer.from(k[2]!.public)];
    const sigma = ringSign(b, seededRandom(9), secret, Buffer.from(k[1]!.public), ring, Buffer.from('msg'));
    assert.is(bytesToHex(secret), before);
    assert.ok(ringVerify(b, ring, Buffer.from(sigma), Buffer.from('msg')));
  }
});

/** A backend that counts pointMulBase calls and the fused sign call's secretChecked flag. */
function counting(b: CryptoBackend): { b: CryptoBackend; mulBase: () => number; checkedFlags: boolean[] } {
  let n = 0;
  const checkedFlags: boolean[] = [];
  const wrapped: CryptoBackend = {
    ...b,
    pointMulBase: (k) => (n++, b.pointMulBase(k)),
    ...(b.ringSignCommitments
      ? { ringSignCommitments: (a: Parameters<NonNullable<CryptoBackend['ringSignCommitments']>>[0]) => (checkedFlags.push(a.secretChecked === true), b.ringSignCommitments!(a)) }
      : {}),
  };
  return { b: wrapped, mulBase: () => n, checkedFlags };
}

test('ringSignChecked = ringSignValidated byte for byte (every slot, every backend, fused and generic), without the per-signature G·secret', () => {
  for (const b of [WASM, WASM_UNFUSED, JS, HYBRID]) {
    const k = keys(b, 41);
    const ring = ringOf(k) as unknown as ValidRing;
    for (let pos = 0; pos < 3; pos++) {
      const msg = utf8(`checked ${pos}`);
      const signer = checkSigningKey(b, k[pos]!.secret, k[pos]!.public);
      const plain = ringSignValidated(b, seededRandom(50 + pos), k[pos]!.secret, k[pos]!.public, ring, msg);
      const c = counting(b);
      const checked = ringSignChecked(c.b, seededRandom(50 + pos), signer, ring, msg);
      assert.is(bytesToHex(checked), bytesToHex(plain), `${label(b)} pos ${pos}`);
      assert.ok(referenceVerify(ring, checked, msg));
      // The uniform scalars draw through scalarReduce, not pointMulBase: no fixed-base product at all here.
      assert.is(c.mulBase(), 0, `${label(b)}: no G·secret in the generic path`);
      if (b.ringSignCommitments) assert.equal(c.checkedFlags, [true], `${label(b)}: the fused call is told to skip G·secret`);
    }
  }
});

test('checkSigningKey refuses a mismatched pair and the identity key (the error ringSign gives); a checked signer outside the ring is still refused', () => {
  for (const b of [WASM, JS, HYBRID]) {
    const k = keys(b, 43);
    const ring = ringOf(k) as unknown as ValidRing;
    const outsider = generateEcdh(b, seededRandom(44));
    const msg = utf8('m');
    const argErr = (re: RegExp) => (e: unknown) => e instanceof OtrArgumentError && re.test(e.message);
    assert.throws(() => checkSigningKey(b, outsider.secret, k[0]!.public), argErr(/does not match/));
    assert.throws(() => checkSigningKey(b, k[0]!.secret, k[1]!.public), argErr(/does not match/));
    // secret ≡ 0 (mod q) gives the identity: refused even though G·0 = identity "matches".
    assert.throws(() => checkSigningKey(b, new Uint8Array(57), hexToBytes('01' + '00'.repeat(56))), argErr(/does not match/));
    assert.throws(() => checkSigningKey(b, k[0]!.secret.subarray(1), k[0]!.public), (e: unknown) => e instanceof OtrArgumentError);
    const signer: CheckedSigner = checkSigningKey(b, outsider.secret, outsider.public);
    assert.throws(() => ringSignChecked(b, seededRandom(1), signer, ring, msg), argErr(/not a ring member/));
  }
});

test.run();
