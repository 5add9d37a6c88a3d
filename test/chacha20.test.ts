/**
 * RFC 8439 ChaCha20 on every backend (hybrid: also with OpenSSL forced for every length), and on the WASM
 * backend through both kernels (the scalar one in the main
 * module, which runtimes without SIMD use, and the four-block v128 one in the SIMD module): the RFC's
 * vectors, lengths around block boundaries, data larger than the I/O region, the 32-bit counter limit,
 * random differential cases against node:crypto (OpenSSL) and @noble/ciphers, errors, and wiping.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCipheriv } from 'node:crypto';
import { chacha20 as nobleChacha } from '@noble/ciphers/chacha.js';
import { HYBRID, JS, WASM } from './helpers/backends.js';
import { opensslChacha } from '../ts/backend/hybrid/chacha20.js';
import { CASES, seededRandom } from './helpers/rng.js';
import { bytesToHex, hexToBytes } from '../ts/bytes.js';
import { OtrArgumentError, OtrError } from '../ts/errors.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import type { WasmContext } from '../ts/backend/wasm/context.js';
import { chachaOps } from '../ts/backend/wasm/chacha20.js';

type Chacha = Pick<CryptoBackend, 'chacha20'>;

const main = (WASM as unknown as { context: WasmContext }).context;

/** The SIMD module's context, present where the runtime validates SIMD (Node does). */
const simd = (WASM as unknown as { simdContext: WasmContext | undefined }).simdContext;
/** Every implementation under test, by name: both backends and both WASM kernels. */
const IMPLS: [string, Chacha, WasmContext | undefined][] = [
  ['wasm', WASM, undefined],
  ['js', JS, undefined],
  ['hybrid', HYBRID, undefined],
  // OpenSSL for every length (the hybrid backend sends only large inputs to it).
  ['openssl', opensslChacha(WASM, 0), undefined],
  ['wasm-scalar', chachaOps(main), main],
  ...(simd ? ([['wasm-simd', chachaOps(main, simd), simd]] as [string, Chacha, WasmContext][]) : []),
];

function native(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number): Uint8Array {
  const iv = new Uint8Array(16);
  new DataView(iv.buffer).setUint32(0, counter, true); // OpenSSL's IV is LE32 counter || nonce
  iv.set(nonce, 4);
  return createCipheriv('chacha20', key, iv).update(data);
}

/** Byte equality without building hex strings (the large cases would spend their time in the GC). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

function checkAll(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number, what: string): void {
  const want = native(key, nonce, data, counter);
  for (const [name, impl] of IMPLS) {
    if (!same(impl.chacha20(key, nonce, data, counter), want)) assert.unreachable(`${name} ${what}`);
  }
}

const KEY_0_31 = hexToBytes('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const Z32 = new Uint8Array(32);
const Z12 = new Uint8Array(12);
const Z64 = new Uint8Array(64);

test('SIMD module is exercised where the runtime has SIMD (Node does)', () => {
  assert.ok(simd, 'Node validates WebAssembly SIMD, so the SIMD kernel must be built and tested');
  assert.ok((WASM as unknown as { wasm: { simd: boolean } }).wasm.simd, 'the WASM backend uses it');
});

test('RFC 8439 §2.3.2 block function and §2.4.2 encryption', () => {
  const block =
    '10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e' +
    'd2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e';
  const sunscreen = new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  );
  const ct =
    '6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b' +
    'f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8' +
    '07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736' +
    '5af90bbf74a35be6b40b8eedf2785e42874d';
  for (const [name, impl] of IMPLS) {
    assert.is(bytesToHex(impl.chacha20(KEY_0_31, hexToBytes('000000090000004a00000000'), Z64, 1)), block, name);
    const c = impl.chacha20(KEY_0_31, hexToBytes('000000000000004a00000000'), sunscreen, 1);
    assert.is(bytesToHex(c), ct, name);
    assert.equal(impl.chacha20(KEY_0_31, hexToBytes('000000000000004a00000000'), c, 1), sunscreen, `${name} decrypts`);
  }
});

test('RFC 8439 Appendix A.1 keystream vectors', () => {
  const key1 = new Uint8Array(32);
  key1[31] = 1;
  const keyFF = new Uint8Array(32);
  keyFF[1] = 0xff;
  const nonce2 = new Uint8Array(12);
  nonce2[11] = 2;
  const vectors: [Uint8Array, Uint8Array, number, string][] = [
    [Z32, Z12, 0, '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586'],
    [Z32, Z12, 1, '9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f'],
    [key1, Z12, 1, '3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0'],
    [keyFF, Z12, 2, '72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096'],
    [Z32, nonce2, 0, 'c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c78a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d'],
  ];
  for (const [name, impl] of IMPLS) {
    for (const [key, nonce, counter, want] of vectors) {
      assert.is(bytesToHex(impl.chacha20(key, nonce, Z64, counter)), want, `${name} counter ${counter}`);
    }
    // Blocks 0 and 1 in one call: the keystream continues across the block boundary.
    assert.is(bytesToHex(impl.chacha20(Z32, Z12, new Uint8Array(128), 0)), vectors[0]![3] + vectors[1]![3], name);
  }
});

test('RFC 8439 Appendix A.2 encryption vectors', () => {
  const key1 = new Uint8Array(32);
  key1[31] = 1;
  const nonce2 = new Uint8Array(12);
  nonce2[11] = 2;
  const ietf = new TextEncoder().encode(
    'Any submission to the IETF intended by the Contributor for publication as all or part of an IETF ' +
      'Internet-Draft or RFC and any statement made within the context of an IETF activity is considered ' +
      'an "IETF Contribution". Such statements include oral statements in IETF sessions, as well as ' +
      'written and electronic communications made at any time or place, which are addressed to',
  );
  assert.is(ietf.length, 375);
  const ietfCt =
    'a3fbf07df3fa2fde4f376ca23e82737041605d9f4f4f57bd8cff2c1d4b7955ec2a97948bd3722915c8f3d337f7d370050e9e96d647b7c39f56e031ca5eb6250d' +
    '4042e02785ececfa4b4bb5e8ead0440e20b6e8db09d881a7c6132f420e52795042bdfa7773d8a9051447b3291ce1411c680465552aa6c405b7764d5e87bea85a' +
    'd00f8449ed8f72d0d662ab052691ca66424bc86d2df80ea41f43abf937d3259dc4b2d0dfb48a6c9139ddd7f76966e928e635553ba76c5c879d7b35d49eb2e62b' +
    '0871cdac638939e25e8a1e0ef9d5280fa8ca328b351c3c765989cbcf3daa8b6ccc3aaf9f3979c92b3720fc88dc95ed84a1be059c6499b9fda236e7e818b04b0b' +
    'c39c1e876b193bfe5569753f88128cc08aaa9b63d1a16f80ef2554d7189c411f5869ca52c5b83fa36ff216b9c1d30062bebcfd2dc5bce0911934fda79a86f6e6' +
    '98ced759c3ff9b6477338f3da4f9cd8514ea9982ccafb341b2384dd902f3d1ab7ac61dd29c6f21ba5b862f3730e37cfdc4fd806c22f221';
  const jabberwocky = new TextEncoder().encode(
    "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe.",
  );
  const jabberwockyCt =
    '62e6347f95ed87a45ffae7426f27a1df5fb69110044c0d73118effa95b01e5cf166d3df2d721caf9b21e5fb14c616871fd84c54f9d65b283196c7fe4f60553eb' +
    'f39c6402c42234e32a356b3e764312a61a5532055716ead6962568f87d3f3f7704c6a8d1bcd1bf4d50d6154b6da731b187b58dfd728afa36757a797ac188d1';
  const key3 = hexToBytes('1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0');
  for (const [name, impl] of IMPLS) {
    assert.is(
      bytesToHex(impl.chacha20(Z32, Z12, Z64, 0)),
      '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586',
      `${name} #1`,
    );
    assert.is(bytesToHex(impl.chacha20(key1, nonce2, ietf, 1)), ietfCt, `${name} #2`);
    assert.is(bytesToHex(impl.chacha20(key3, nonce2, jabberwocky, 42)), jabberwockyCt, `${name} #3`);
  }
});

test('lengths 0..600 around block boundaries, counters 0 and 1', () => {
  const rnd = seededRandom(600);
  const key = rnd(32);
  const nonce = rnd(12);
  const data = rnd(600);
  for (const counter of [0, 1]) {
    for (let n = 0; n <= 600; n++) checkAll(key, nonce, data.subarray(0, n), counter, `len ${n} counter ${counter}`);
  }
  for (const [name, impl] of IMPLS) assert.equal(impl.chacha20(key, nonce, new Uint8Array(0)), new Uint8Array(0), name);
});

test('data larger than the I/O region (1 MiB, and sizes around the chunk boundary)', () => {
  const rnd = seededRandom(1 << 20);
  const key = rnd(32);
  const nonce = rnd(12);
  const big = rnd(1 << 20);
  checkAll(key, nonce, big, 1, '1 MiB');
  checkAll(key, nonce, big, 7, '1 MiB counter 7');
  for (const [, , c] of IMPLS) {
    if (!c) continue;
    const chunk = c.io + c.ioSize - (c.exports.chacha20_data() as number);
    assert.is(chunk % 64, 0, 'data area holds whole blocks');
    for (const n of [chunk - 1, chunk, chunk + 1, 2 * chunk + 65]) checkAll(key, nonce, big.subarray(0, n), 3, `len ${n}`);
  }
});

/**
 * The counter limit, as @noble/ciphers draws it: no block may use counter 2^32 - 1 (nor wrap to 0), so
 * counter + ceil(len / 64) must stay <= 2^32 - 1. (node:crypto differs: it carries into the nonce.)
 */
test('32-bit counter: blocks up to 2^32 - 2 work, anything reaching 2^32 - 1 is refused', () => {
  const key = seededRandom(32)(32);
  const nonce = seededRandom(12)(12);
  const MAX = 0xffffffff;
  const accepted: [number, number][] = [
    [MAX - 1, 1],
    [MAX - 1, 64],
    [MAX - 2, 128],
    [MAX - 4, 256],
    [MAX - 5, 300],
    [MAX, 0], // no block is used
  ];
  const refused: [number, number][] = [
    [MAX, 1],
    [MAX, 64],
    [MAX - 1, 65],
    [MAX - 2, 129],
    [MAX - 4, 257],
    [MAX - 100, 101 * 64],
  ];
  for (const [counter, len] of accepted) {
    const data = new Uint8Array(len).fill(0x5a);
    // noble refuses a starting counter of 2^32 - 1 even for empty data; an empty stream uses no block, and
    // both backends return it, as the JS backend always has.
    const want = len === 0 ? '' : bytesToHex(nobleChacha(key, nonce, data, undefined, counter));
    for (const [name, impl] of IMPLS) assert.is(bytesToHex(impl.chacha20(key, nonce, data, counter)), want, `${name} ${counter}/${len}`);
    if (len > 0) assert.is(bytesToHex(native(key, nonce, data, counter)), want, 'node:crypto agrees below the limit');
  }
  for (const [counter, len] of refused) {
    const data = new Uint8Array(len);
    assert.throws(() => nobleChacha(key, nonce, data, undefined, counter), undefined, `noble refuses ${counter}/${len}`);
    for (const [name, impl] of IMPLS) {
      try {
        impl.chacha20(key, nonce, data, counter);
        assert.unreachable(`${name} accepted ${counter}/${len}`);
      } catch (e) {
        assert.instance(e, OtrArgumentError, name);
      }
    }
  }
});

test(`differential: wasm (SIMD and scalar) = js = noble = node:crypto on ${CASES} random cases`, () => {
  const rnd = seededRandom(0xc4ac4a20);
  for (let i = 0; i < CASES; i++) {
    const r = rnd(8);
    const view = new DataView(r.buffer);
    const len = i % 10 === 0 ? view.getUint16(0, true) % 5000 : view.getUint16(0, true) % 700;
    // Random 32-bit counters, kept where the stream fits; every fourth case starts at 0 or 1.
    const counter = i % 4 === 0 ? i & 1 : view.getUint32(4, true) % (0xffffffff - Math.ceil(len / 64));
    const key = rnd(32);
    const nonce = rnd(12);
    const data = rnd(len);
    const want = native(key, nonce, data, counter);
    if (!same(nobleChacha(key, nonce, data, undefined, counter), want)) assert.unreachable(`noble, case ${i}`);
    for (const [name, impl] of IMPLS) {
      if (!same(impl.chacha20(key, nonce, data, counter), want)) assert.unreachable(`${name}, case ${i}`);
    }
  }
});

test('argument errors are OtrArgumentError with the same message on both backends', () => {
  const k = new Uint8Array(32);
  const n = new Uint8Array(12);
  const d = new Uint8Array(10);
  const bad: [unknown, unknown, unknown, unknown][] = [
    [new Uint8Array(31), n, d, 0],
    [new Uint8Array(33), n, d, 0],
    [k, new Uint8Array(8), d, 0],
    [k, new Uint8Array(24), d, 0],
    ['key', n, d, 0],
    [k, n, 'data', 0],
    [k, n, [1, 2], 0],
    [k, n, d, -1],
    [k, n, d, 1.5],
    [k, n, d, 2 ** 32],
    [k, n, d, Number.NaN],
    [k, n, d, '1'],
    [k, n, new Uint8Array(0), -1], // the counter is checked even when there is no data
  ];
  for (const args of bad) {
    const messages = IMPLS.map(([name, impl]) => {
      try {
        (impl.chacha20 as (...a: unknown[]) => Uint8Array)(...args);
      } catch (e) {
        assert.instance(e, OtrArgumentError, name);
        return (e as OtrError).message;
      }
      assert.unreachable(`${name} accepted ${args.map(String).join(', ')}`);
      return '';
    });
    assert.ok(messages.every((m) => m === messages[0]), messages.join(' / '));
  }
});

test('inputs are not modified; outputs are fresh arrays', () => {
  const key = seededRandom(1)(32);
  const nonce = seededRandom(2)(12);
  const data = seededRandom(3)(1000);
  const copies = [key.slice(), nonce.slice(), data.slice()];
  for (const [name, impl, c] of IMPLS) {
    const out = impl.chacha20(key, nonce, data, 5);
    assert.equal([key, nonce, data], copies, name);
    if (c) assert.is.not(out.buffer, c.mem.buffer, name);
  }
});

test('into `out`: same bytes as a fresh result, in place too, on every implementation and length class', () => {
  const rnd = seededRandom(77);
  const key = rnd(32);
  const nonce = rnd(12);
  for (const [name, impl, c] of IMPLS) {
    const lens = [0, 1, 64, 100, 255, 256, 4096, ...(c ? [c.io + c.ioSize - (c.exports.chacha20_data() as number) + 65] : [70_000])];
    for (const len of lens) {
      const data = rnd(len);
      const want = impl.chacha20(key, nonce, data, 3);
      const out = new Uint8Array(len).fill(0xee);
      assert.is(impl.chacha20(key, nonce, data, 3, out), out, `${name} ${len}: returns out`);
      assert.equal(out, want, `${name} ${len}: into out`);
      // In place, also as a view at an odd offset of a larger buffer.
      const host = new Uint8Array(len + 3);
      const view = host.subarray(3);
      view.set(data);
      assert.is(impl.chacha20(key, nonce, view, 3, view), view, `${name} ${len}: in place returns the view`);
      assert.equal(view, want, `${name} ${len}: in place`);
      assert.equal([...host.subarray(0, 3)], [0, 0, 0], `${name} ${len}: nothing written before the view`);
    }
  }
});

test('an `out` of the wrong length (or not bytes) is refused before anything is written, the same way everywhere', () => {
  const k = new Uint8Array(32);
  const n = new Uint8Array(12);
  const d = new Uint8Array(100).fill(1);
  for (const out of [new Uint8Array(99), new Uint8Array(101), 'x', [0]]) {
    const messages = IMPLS.map(([name, impl]) => {
      const before = out instanceof Uint8Array ? out.slice() : undefined;
      try {
        (impl.chacha20 as (...a: unknown[]) => Uint8Array)(k, n, d, 0, out);
      } catch (e) {
        assert.instance(e, OtrArgumentError, name);
        if (before) assert.equal(out, before, `${name}: out untouched`);
        return (e as OtrError).message;
      }
      assert.unreachable(`${name} accepted an out of ${String(out)}`);
      return '';
    });
    assert.ok(messages.every((m) => m === messages[0]), messages.join(' / '));
  }
});

test('wasm: key, nonce, keystream and data are wiped from module memory after each call', () => {
  const key = seededRandom(11)(32);
  const nonce = seededRandom(12)(12);
  for (const [name, impl, c] of IMPLS) {
    if (!c) continue;
    for (const len of [1, 63, 64, 100, 255, 256, 320, 384, 449, 4096, 70_000]) {
      const data = seededRandom(len)(len);
      const out = impl.chacha20(key, nonce, data, 9);
      const mem = Buffer.from(c.mem.buffer);
      assert.is(mem.indexOf(Buffer.from(key)), -1, `${name} ${len}: key left in memory`);
      assert.is(mem.indexOf(Buffer.from(nonce)), -1, `${name} ${len}: nonce left in memory`);
      if (len >= 16) {
        // 16 bytes are long enough not to occur by chance.
        assert.is(mem.indexOf(Buffer.from(out.subarray(len - 16))), -1, `${name} ${len}: output left in memory`);
        assert.is(mem.indexOf(Buffer.from(data.subarray(len - 16))), -1, `${name} ${len}: data left in memory`);
      }
      // Keystream of the last four-block group (the SIMD tail computes all four), 16 bytes at a time.
      const g = Math.floor((len - 1) / 256) * 256;
      const ks = native(key, nonce, new Uint8Array(g + 256), 9);
      for (let o = g; o < g + 256; o += 16) {
        assert.is(mem.indexOf(Buffer.from(ks.subarray(o, o + 16))), -1, `${name} ${len}: keystream at ${o} left in memory`);
      }
      assert.ok(c.mem.subarray(c.io, c.io + c.ioSize).every((x) => x === 0), `${name} ${len}: I/O region not wiped`);
    }
  }
});

test.run();
