import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { armour, dearmour } from '../ts/codec/armour.js';
import { base64Decode, base64DecodeWire, base64Encode, tableDecode, tableEncode } from '../ts/codec/base64.js';
import { OtrArgumentError, OtrDecodeError, OtrLimitError } from '../ts/errors.js';
import { seededRandom } from './helpers/rng.js';

test('base64 matches Node for every length 0..300 and random contents', () => {
  const rnd = seededRandom(64);
  for (let n = 0; n <= 300; n++) {
    const b = rnd(n);
    const s = base64Encode(b);
    assert.is(s, Buffer.from(b).toString('base64'));
    assert.equal(base64Decode(s), b);
  }
  const big = rnd(100_000);
  assert.is(base64Encode(big), Buffer.from(big).toString('base64'));
});

test('base64 decoding is strict', () => {
  for (const bad of ['A', 'AB', 'ABC', 'AB=C', 'A===', '====', 'AB\nC', 'AB-_', 'QQ', 'QR==', 'QUJ=', 'ÿÿÿÿ', 'QQ==QQ==', '=QQQ'])
    assert.throws(() => base64Decode(bad), (e: unknown) => e instanceof OtrDecodeError, JSON.stringify(bad));
  assert.equal(base64Decode('QQ=='), Uint8Array.of(0x41));
  assert.equal(base64Decode('QUI='), Uint8Array.of(0x41, 0x42));
  assert.equal(base64Decode(''), new Uint8Array(0));
});

test('the native (Buffer) and portable (table) base64 paths agree byte for byte, and both are strict', () => {
  const rnd = seededRandom(65);
  for (let n = 0; n <= 260; n++) {
    const b = rnd(n);
    const s = tableEncode(b);
    assert.is(base64Encode(b), s);
    assert.equal(tableDecode(s), b);
    assert.equal(base64Decode(s), b);
    // A range of a longer string, as dearmour passes it.
    const framed = `?OTR:${s}.`;
    assert.equal(base64Decode(framed, 5, framed.length - 1), b);
    assert.equal(tableDecode(framed, 5, framed.length - 1), b);
  }
  const sub = rnd(90).subarray(7, 77);
  assert.is(base64Encode(sub), Buffer.from(sub).toString('base64'), 'a view encodes only its own bytes');
  const bad = ['A', 'AB=C', 'A===', '====', 'AB\nC', 'AB-_', 'QR==', 'QUJ=', 'ÿÿÿÿ', 'QQ==QQ==', '=QQQ', 'QUJD QUJD', 'QUJDQUJ\u0141', 'QU JD', 'QUJD\u0000AAA', 'QUI=\r\n', 'Q=I='];
  for (const x of bad) {
    for (const [name, dec] of [['native', base64Decode], ['table', tableDecode]] as const) {
      assert.throws(() => dec(x), (e: unknown) => e instanceof OtrDecodeError, `${name} ${JSON.stringify(x)}`);
    }
  }
});

test('the wire decoder (slab views) decodes exactly as base64Decode, rejects the same strings, and never reuses bytes it handed out', () => {
  const rnd = seededRandom(66);
  const held: [Uint8Array, Uint8Array][] = [];
  // Enough messages to fill and replace the 8 KiB slab many times over; every earlier view must keep its bytes.
  for (let round = 0; round < 20; round++)
    for (let n = 0; n <= 400; n += 7) {
      const b = rnd(n);
      const framed = `?OTR:${base64Encode(b)}.`;
      const got = base64DecodeWire(framed, 5, framed.length - 1);
      assert.equal(got, b);
      assert.ok(Object.getPrototypeOf(got) === Uint8Array.prototype, 'a plain Uint8Array (not a Buffer)');
      held.push([got, b]);
    }
  for (const [got, want] of held) assert.equal(got, want);
  // Larger than the slab hands out: decoded on its own.
  const big = rnd(5000);
  assert.equal(base64DecodeWire(base64Encode(big)), big);
  const bad = ['A', 'AB=C', 'A===', '====', 'AB\nC', 'AB-_', 'QR==', 'QUJ=', 'ÿÿÿÿ', 'QQ==QQ==', '=QQQ', 'QUJD QUJD', 'QUJDQUJ\u0141', 'QU JD', 'QUJD\u0000AAA', 'QUI=\r\n', 'Q=I='];
  for (const x of bad) assert.throws(() => base64DecodeWire(x), (e: unknown) => e instanceof OtrDecodeError, JSON.stringify(x));
  // A rejected string leaves the slab usable and earlier views intact.
  const after = rnd(50);
  assert.equal(base64DecodeWire(base64Encode(after)), after);
  for (const [got, want] of held.slice(-5)) assert.equal(got, want);
});

test('armour is "?OTR:" + base64 + "."; the spec example header decodes', () => {
  assert.is(armour(Uint8Array.of(0, 4, 3)), '?OTR:AAQD.');
  assert.equal(dearmour('?OTR:AAQD.'), Uint8Array.of(0, 4, 3));
  const rnd = seededRandom(2);
  for (let i = 1; i < 200; i++) {
    const b = rnd(i * 3 + (i % 3));
    assert.equal(dearmour(armour(b)), b);
  }
});

test('dearmour rejects anything but the exact form, and oversized text', () => {
  for (const bad of ['?OTR:AAQD', 'OTR:AAQD.', ' ?OTR:AAQD.', '?OTR:AAQD. ', '?OTR:AAQ.', '?OTR:.', '?OTR:AAQD..', '?OTR:AA QD.'])
    assert.throws(() => dearmour(bad), (e: unknown) => e instanceof OtrDecodeError, bad);
  assert.throws(() => armour(new Uint8Array(0)), (e: unknown) => e instanceof OtrArgumentError);
  const long = armour(new Uint8Array(3000));
  assert.throws(() => dearmour(long, 1000), (e: unknown) => e instanceof OtrLimitError);
});

test('every truncation and every character substitution of an armoured message is rejected or round-trips', () => {
  const text = armour(seededRandom(3)(40));
  for (let n = 0; n < text.length; n++) assert.throws(() => dearmour(text.slice(0, n)), (e: unknown) => e instanceof OtrDecodeError);
  for (let i = 0; i < text.length; i++) {
    for (const ch of ['A', '=', '.', '?', '/', '\u00e9']) {
      const t = text.slice(0, i) + ch + text.slice(i + 1);
      try {
        assert.is(armour(dearmour(t)), t);
      } catch (e) {
        assert.instance(e, OtrDecodeError);
      }
    }
  }
});

test('session 11: the in-place canonical check accepts exactly what the table decoder does, for every final quad', () => {
  // Every character (and a few outside the alphabet) in every position of a padded and an unpadded last quad:
  // the native paths (base64Decode, base64DecodeWire) must accept and decode exactly what tableDecode does.
  const chars = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=', '-', '_', '.', ' ', '\u00c1', '\u0141', '\u0000'];
  for (const base of ['QUJDQUJD', 'QUJD']) {
    for (const tail of ['QQ==', 'QUI=', 'QUJD']) {
      for (let pos = 0; pos < 4; pos++) {
        for (const c of chars) {
          const s = `${base}${tail.slice(0, pos)}${c}${tail.slice(pos + 1)}`;
          let want: Uint8Array | undefined;
          try {
            want = tableDecode(s);
          } catch (e) {
            assert.instance(e, OtrDecodeError);
          }
          for (const [name, dec] of [['native', (x: string) => base64Decode(x)], ['wire', (x: string) => base64DecodeWire(`?OTR:${x}.`, 5, x.length + 5)]] as const) {
            if (want) assert.equal(dec(s), want, `${name} ${JSON.stringify(s)}`);
            else assert.throws(() => dec(s), (e: unknown) => e instanceof OtrDecodeError, `${name} ${JSON.stringify(s)}`);
          }
        }
      }
    }
  }
});

test('session 11: armour builds one flat string per message from a reused scratch; earlier results and large messages are unaffected', () => {
  const rnd = seededRandom(11);
  const made: [string, Uint8Array][] = [];
  for (const n of [1, 2, 3, 100, 700, 5000, 49_000, 60_000, 3, 200_000, 10]) {
    const b = rnd(n);
    const t = armour(b);
    assert.is(t, `?OTR:${Buffer.from(b).toString('base64')}.`, `length ${n}`);
    made.push([t, b]);
  }
  for (const [t, b] of made) assert.equal(dearmour(t, 1 << 20), b);
});

test.run();
