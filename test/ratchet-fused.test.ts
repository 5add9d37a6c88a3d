/**
 * The fused data-message calls (CryptoBackend.sealDataMessage / openDataMessage: assembly/datamsg.ts through
 * ts/backend/wasm/datamsg.ts) against the composition ratchet/keys.ts makes without them and against an
 * independent reference (node:crypto SHAKE-256 and ChaCha20): random chain keys, headers and plaintexts of
 * every size class, 0 and the block, rate and area boundaries included; over the main module (scalar
 * ChaCha20), the SIMD module and the hybrid backend. Also: a wrong authenticator in any byte is refused with
 * nothing decrypted and no key left in the module's memory, keys never stay in memory after a call, sizes
 * the module cannot hold fall back to the primitives with the same bytes, and a whole conversation through
 * the fused backend equals one through the composition, message for message.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createCipheriv, createHash } from 'node:crypto';
import { HYBRID, JS, WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { OtrArgumentError, OtrCryptoError } from '../ts/errors.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import type { WasmBackend } from '../ts/backend/wasm/index.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';
import { dataMessageOps } from '../ts/backend/wasm/datamsg.js';
import { OPENSSL_CHACHA_MIN_BYTES } from '../ts/backend/hybrid/chacha20.js';
import { openMessage, sealMessage } from '../ts/ratchet/keys.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { decryptDataMessage, encryptDataMessage } from '../ts/ratchet/index.js';
import { seededRatchetPair } from './helpers/ratchet-pair.js';
import type { RatchetState } from '../ts/ratchet/index.js';

const t = suite('fused data-message calls');

const wasm = WASM as WasmBackend;
const main = wasm.context;
const simd = wasm.simdContext;

/** The backend without its fused members: what every caller gets where the backend has none. */
function composed(b: CryptoBackend): CryptoBackend {
  return { ...b, sealDataMessage: undefined, openDataMessage: undefined };
}

/** A backend whose fused calls run over one given module (main: scalar ChaCha20; SIMD: four-block). */
function over(ctx: WasmContext): CryptoBackend {
  return { ...WASM, ...dataMessageOps(ctx) };
}

const FUSED: [string, CryptoBackend, WasmContext | undefined][] = [
  ['wasm main', over(main), main],
  ...(simd ? [['wasm simd', over(simd), simd] as [string, CryptoBackend, WasmContext]] : []),
  ['wasm (as loaded)', WASM, simd ?? main],
  ['hybrid', HYBRID, simd ?? main],
];

function kdfRef(usage: number, parts: Uint8Array[]): Uint8Array {
  const h = createHash('shake256', { outputLength: 64 });
  h.update(Uint8Array.of(0x4f, 0x54, 0x52, 0x76, 0x34, usage));
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function chachaRef(key: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20', key.subarray(0, 32), new Uint8Array(16));
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

/** What a seal must produce, by the spec's formulas over node:crypto. */
function reference(ck: Uint8Array, header: Uint8Array, plaintext: Uint8Array) {
  const mkEnc = kdfRef(0x15, [ck]);
  const mkMac = kdfRef(0x16, [mkEnc]);
  const ciphertext = chachaRef(mkEnc, plaintext);
  return { next: kdfRef(0x14, [ck]), mkMac, ciphertext, authenticator: kdfRef(0x18, [mkMac, header, ciphertext]) };
}

/** True if `needle` occurs anywhere in the module's linear memory. */
function inMemory(ctx: WasmContext, needle: Uint8Array): boolean {
  return Buffer.from(ctx.mem.buffer).indexOf(Buffer.from(needle)) >= 0;
}

const SIZES = [0, 1, 2, 31, 63, 64, 65, 100, 127, 128, 129, 135, 136, 137, 191, 192, 255, 256, 257, 320, 1000, 4096, 4097];
const HEADERS = [0, 1, 81, 136, 465, 512];

function authenticatedOf(header: Uint8Array, ctLen: number): Uint8Array {
  const a = new Uint8Array(header.length + ctLen);
  a.set(header);
  return a;
}

for (const [label, b, ctx] of FUSED) {
  t(`${label}: seal and open equal the composition and the reference, every size class`, () => {
    const rnd = seededRandom(0x5ea1 + label.length);
    const plain = composed(b);
    for (const hdr of HEADERS) {
      for (const size of SIZES) {
        const ck = rnd(64);
        const header = rnd(hdr);
        const pt = rnd(size);
        const ref = reference(ck, header, pt);
        const a1 = authenticatedOf(header, size);
        const s1 = sealMessage(b, ck, a1, pt);
        const a2 = authenticatedOf(header, size);
        const s2 = sealMessage(plain, ck, a2, pt);
        const where = `${label} header ${hdr} size ${size}`;
        assert.equal(a1, a2, `ciphertext: ${where}`);
        assert.equal(a1.subarray(hdr), ref.ciphertext, `ciphertext vs reference: ${where}`);
        assert.equal(s1.authenticator, s2.authenticator, `authenticator: ${where}`);
        assert.equal(s1.authenticator, ref.authenticator, `authenticator vs reference: ${where}`);
        assert.equal(s1.next, ref.next, `next chain key: ${where}`);
        assert.equal(s2.next, ref.next);
        const parts = { authenticated: a1, ciphertext: a1.subarray(hdr), authenticator: s1.authenticator };
        const o1 = openMessage(b, ck, parts);
        const o2 = openMessage(plain, ck, parts);
        assert.equal(o1.plaintext, pt, `plaintext: ${where}`);
        assert.equal(o2.plaintext, pt);
        assert.equal(o1.mkMac, ref.mkMac, `MKmac: ${where}`);
        assert.equal(o1.next, ref.next);
        if (ctx) {
          for (const secret of [ck, ref.next, ref.mkMac, kdfRef(0x15, [ck])])
            assert.not.ok(inMemory(ctx, secret.subarray(0, 24)), `a key left in memory: ${where}`);
          if (size >= 24) assert.not.ok(inMemory(ctx, pt.subarray(0, 24)), `plaintext left in memory: ${where}`);
        }
      }
    }
  });

  t(`${label}: a wrong authenticator (any byte) is refused, nothing decrypted, no key left`, () => {
    const rnd = seededRandom(0xbad + label.length);
    for (const size of [0, 100, 4096]) {
      const ck = rnd(64);
      const header = rnd(81);
      const pt = rnd(size);
      const a = authenticatedOf(header, size);
      const sealed = sealMessage(b, ck, a, pt);
      const ciphertext = a.slice(81);
      for (let i = 0; i < 64; i++) {
        const bad = sealed.authenticator.slice();
        bad[i]! ^= 1 << (i % 8);
        const copy = a.slice();
        const err = (() => {
          try {
            openMessage(b, ck, { authenticated: copy, ciphertext: copy.subarray(81), authenticator: bad });
          } catch (e) {
            return e;
          }
          return undefined;
        })();
        assert.ok(err instanceof OtrCryptoError && err.code === 'BAD_MAC', `byte ${i}: BAD_MAC`);
        assert.equal(copy, a, 'the message is not modified');
        if (ctx) {
          assert.not.ok(inMemory(ctx, ck.subarray(0, 24)), 'chain key left in memory');
          assert.not.ok(inMemory(ctx, reference(ck, header, pt).next.subarray(0, 24)), 'next chain key left in memory');
          assert.not.ok(inMemory(ctx, reference(ck, header, pt).mkMac.subarray(0, 24)), 'MKmac left in memory');
        }
      }
      // Wrong-length authenticators never match, as in the composition.
      for (const n of [0, 63, 65]) {
        const wrong = new Uint8Array(n);
        wrong.set(sealed.authenticator.subarray(0, Math.min(n, 64)));
        assert.throws(
          () => openMessage(b, ck, { authenticated: a, ciphertext: a.subarray(81), authenticator: wrong }),
          (e: unknown) => e instanceof OtrCryptoError && e.code === 'BAD_MAC',
        );
      }
      assert.equal(a.subarray(81), ciphertext);
    }
  });

  t(`${label}: arguments are checked like the primitives'`, () => {
    const rnd = seededRandom(7);
    const a = new Uint8Array(100);
    assert.throws(() => b.sealDataMessage!(rnd(63), a, rnd(10)), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => b.sealDataMessage!(rnd(64), a, rnd(101)), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => b.openDataMessage!(rnd(64), a, 101, rnd(64)), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => b.openDataMessage!(rnd(64), a, -1, rnd(64)), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => b.openDataMessage!(rnd(64), a, 1.5, rnd(64)), (e: unknown) => e instanceof OtrArgumentError);
  });
}

t('sizes the module cannot hold fall back to the primitives, with the same bytes', () => {
  const rnd = seededRandom(0xb16);
  const ioData = main.ioSize - 64;
  const cases: [CryptoBackend, number, number][] = [
    [over(main), 513, 10], // header beyond the area
    [over(main), 81, ioData], // the largest ciphertext the area holds
    [over(main), 81, ioData + 1],
    [HYBRID, 81, OPENSSL_CHACHA_MIN_BYTES - 1], // hybrid: WASM below OpenSSL's ChaCha20 threshold
    [HYBRID, 81, OPENSSL_CHACHA_MIN_BYTES],
  ];
  for (const [b, hdr, size] of cases) {
    const ck = rnd(64);
    const header = rnd(hdr);
    const pt = rnd(size);
    const ref = reference(ck, header, pt);
    const fits = hdr <= 512 && size <= (b === HYBRID ? OPENSSL_CHACHA_MIN_BYTES - 1 : ioData);
    const a = authenticatedOf(header, size);
    const direct = b.sealDataMessage!(ck, a, pt);
    assert.is(direct !== undefined, fits, `fused call taken iff it fits: header ${hdr} size ${size}`);
    const a2 = authenticatedOf(header, size);
    const s = sealMessage(b, ck, a2, pt);
    assert.equal(a2.subarray(hdr), ref.ciphertext);
    assert.equal(s.authenticator, ref.authenticator);
    const o = openMessage(b, ck, { authenticated: a2, ciphertext: a2.subarray(hdr), authenticator: s.authenticator });
    assert.equal(o.plaintext, pt);
    assert.equal(o.mkMac, ref.mkMac);
    if (!fits) assert.is(b.openDataMessage!(ck, a2, size, s.authenticator), undefined);
  }
});

t('the module itself refuses lengths its areas cannot hold, before any key is derived or any byte moved', () => {
  // The adapter checks first (above); this is the module's own bound, for a caller that skips the adapter.
  const rnd = seededRandom(0x1e9);
  for (const ctx of simd ? [main, simd] : [main]) {
    const area = ctx.exports.datamsg_area() as number;
    const headerMax = ctx.exports.datamsg_header_max() as number;
    const dataMax = ctx.io + ctx.ioSize - (ctx.exports.chacha20_data() as number);
    const ck = rnd(64);
    const bad: [number, number][] = [[headerMax + 1, 0], [0, dataMax + 1], [-1, 0], [0, -1], [0x7fffffff, 0x7fffffff]];
    for (const [hdr, ct] of bad) {
      for (const entry of ['data_seal', 'data_open']) {
        ctx.mem.set(ck, area);
        assert.throws(() => ctx.exports[entry](hdr, ct), /unreachable/, `${entry}(${hdr}, ${ct})`);
        assert.equal(ctx.mem.slice(area, area + 64), ck, `${entry}(${hdr}, ${ct}): the chain key untouched`);
      }
    }
    ctx.mem.fill(0, area, area + 64);
  }
});

t('a ciphertext that is not a view of the authenticated tail is opened by the composition, same result', () => {
  const rnd = seededRandom(0x7a11);
  const ck = rnd(64);
  const header = rnd(81);
  const pt = rnd(100);
  const a = authenticatedOf(header, 100);
  const s = sealMessage(WASM, ck, a, pt);
  const o = openMessage(WASM, ck, { authenticated: a, ciphertext: a.slice(81), authenticator: s.authenticator });
  assert.equal(o.plaintext, pt);
});

/** A conversation driver over one backend, with seeded randomness for the ratchet steps' new keys. */
function conversation(b: CryptoBackend, seed: number) {
  const { alice, bob, rnd } = seededRatchetPair(b, seed);
  const st: Record<'alice' | 'bob', RatchetState> = { alice, bob };
  const tags = { alice: 0x100, bob: 0x101 };
  return (from: 'alice' | 'bob', pt: Uint8Array): { message: Uint8Array; plaintext: Uint8Array } => {
    const to = from === 'alice' ? 'bob' : 'alice';
    const s = encryptDataMessage(b, rnd, st[from], pt, { senderTag: tags[from], receiverTag: tags[to] });
    st[from] = s.state;
    const r = decryptDataMessage(b, st[to], decodeDataMessage(s.message), { now: 1_000 });
    st[to] = r.state;
    return { message: s.message, plaintext: r.plaintext };
  };
}

t('a conversation through the fused backend is byte-identical to one through the composition', () => {
  // Same seeded randomness on both sides: every message, ratchet steps included, must come out the same.
  for (const [label, b] of [['wasm', WASM], ['hybrid', HYBRID]] as [string, CryptoBackend][]) {
    const x = conversation(b, 0xc0de);
    const y = conversation(composed(b), 0xc0de);
    const z = conversation(JS, 0xc0de);
    const rnd = seededRandom(0xfeed);
    for (let n = 0; n < 30; n++) {
      const from = n % 5 < 3 ? 'alice' : 'bob';
      const pt = rnd([0, 1, 100, 135, 136, 4096][n % 6]!);
      const mx = x(from, pt);
      const my = y(from, pt);
      const mz = z(from, pt);
      assert.equal(mx.message, my.message, `${label}: message ${n}`);
      assert.equal(mx.message, mz.message, `${label} vs js: message ${n}`);
      assert.equal(mx.plaintext, pt);
      assert.equal(my.plaintext, pt);
    }
  }
  assert.ok(JS.sealDataMessage === undefined && JS.openDataMessage === undefined, 'the JS backend composes');
});

t('the ratchet takes the fused calls for every sent and received message, ratchet steps included', () => {
  const counts = { seal: 0, open: 0 };
  const counting: CryptoBackend = {
    ...WASM,
    sealDataMessage: (...a) => (counts.seal++, WASM.sealDataMessage!(...a)),
    openDataMessage: (...a) => (counts.open++, WASM.openDataMessage!(...a)),
  };
  const talk = conversation(counting, 0xc0c0);
  const rnd = seededRandom(3);
  const froms: ('alice' | 'bob')[] = ['alice', 'alice', 'bob', 'alice', 'bob', 'bob', 'bob', 'alice'];
  for (const from of froms) talk(from, rnd(50));
  assert.equal(counts, { seal: froms.length, open: froms.length });
});

t.run();
