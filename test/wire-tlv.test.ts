import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeTlvs, encodeTlvs, joinPlaintext, joinTextPlaintext, paddingTlv, plaintextHasTlv, splitPlaintext, splitPlaintextView, TlvType, type Tlv } from '../ts/wire/tlv.js';
import { OtrArgumentError } from '../ts/errors.js';
import { utf8, hexToBytes, bytesToHex, wipe } from '../ts/bytes.js';
import { seededRandom } from './helpers/rng.js';

test('type constants', () => {
  assert.equal(
    [TlvType.padding, TlvType.disconnected, TlvType.smp1, TlvType.smp2, TlvType.smp3, TlvType.smp4, TlvType.smpAbort, TlvType.extraSymmetricKey],
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
});

test('encoding: SHORT type, SHORT length, value; disconnect is 0x00 || 0001 0000', () => {
  assert.is(bytesToHex(encodeTlvs([{ type: 7, value: Uint8Array.of(1, 2, 3) }])), '00070003010203');
  assert.is(bytesToHex(joinPlaintext(new Uint8Array(0), [{ type: TlvType.disconnected, value: new Uint8Array(0) }])), '0000010000');
});

test('split/join round trip; padding dropped on receipt', () => {
  const tlvs: Tlv[] = [
    { type: TlvType.smp1, value: utf8('question') },
    { type: 0x1234, value: new Uint8Array(0) }, // unknown type: kept for the consumer to ignore
    { type: TlvType.extraSymmetricKey, value: hexToBytes('00000001abcd') },
  ];
  const msg = utf8('héllo');
  const p = joinPlaintext(msg, [{ type: TlvType.padding, value: new Uint8Array(10) }, ...tlvs]);
  const s = splitPlaintext(p);
  assert.equal(s.message, msg);
  // Padding is dropped, but every record keeps its wire position (the padding record was position 0).
  assert.equal(s.tlvs, tlvs.map((t, i) => ({ ...t, position: i + 1 })));
  assert.is(s.malformed, false);
});

test('no TLVs: no NUL written; a trailing NUL alone (otr4j) also reads as no TLVs', () => {
  const msg = utf8('plain');
  assert.equal(joinPlaintext(msg), msg);
  assert.equal(splitPlaintext(msg), { message: msg, tlvs: [], malformed: false });
  assert.equal(splitPlaintext(Uint8Array.from([...msg, 0])), { message: msg, tlvs: [], malformed: false });
  assert.throws(() => joinPlaintext(Uint8Array.of(65, 0, 66)), (e: unknown) => e instanceof OtrArgumentError);
});

test('malformed TLVs: earlier records kept, parsing stops, flag set', () => {
  const good = encodeTlvs([{ type: 1, value: new Uint8Array(0) }, { type: 6, value: new Uint8Array(0) }]);
  for (const tail of ['00', '0002', '000200', '00020005aabb']) {
    const r = decodeTlvs(Uint8Array.from([...good, ...hexToBytes(tail)]));
    assert.is(r.malformed, true, tail);
    assert.equal(r.tlvs.map((t) => t.type), [1, 6]);
  }
});

test('maxTlvs bounds the work and the list', () => {
  const many = encodeTlvs(Array.from({ length: 100 }, () => ({ type: 6, value: new Uint8Array(0) })));
  const r = decodeTlvs(many, 64);
  assert.is(r.tlvs.length, 64);
  assert.is(r.malformed, true);
  assert.is(decodeTlvs(many, 100).malformed, false);
});

test('random plaintexts never throw and never exceed maxTlvs', () => {
  const rnd = seededRandom(11);
  for (let i = 0; i < 2000; i++) {
    const b = rnd(rnd(1)[0]!);
    const s = splitPlaintext(b, 8);
    assert.ok(s.tlvs.length <= 8);
  }
});

test('splitPlaintextView delivers what splitPlaintext does, its message a view, its TLV values copies', () => {
  const rnd = seededRandom(13);
  const cases: Uint8Array[] = [utf8('hi'), new Uint8Array(0), joinPlaintext(utf8('hello'), [{ type: 6, value: Uint8Array.of(1, 2, 3) }, { type: 1, value: new Uint8Array(0) }])];
  for (let i = 0; i < 2000; i++) cases.push(rnd(rnd(1)[0]!));
  for (const b of cases) {
    const copy = splitPlaintext(b, 8);
    const view = splitPlaintextView(b, 8);
    assert.equal(view.message, copy.message);
    assert.equal(view.tlvs, copy.tlvs);
    assert.is(view.malformed, copy.malformed);
    assert.ok(view.message.buffer === b.buffer && view.message.byteOffset === b.byteOffset, 'the message aliases the plaintext');
    for (const t of view.tlvs) if (t.value.length > 0) assert.ok(t.value.buffer !== b.buffer, 'TLV values survive a wipe of the plaintext');
  }
  assert.throws(() => splitPlaintextView('x' as unknown as Uint8Array), (e: unknown) => e instanceof OtrArgumentError);
});

test('plaintextHasTlv answers exactly what splitPlaintext would deliver', () => {
  const rnd = seededRandom(12);
  const key = encodeTlvs([{ type: 1, value: Uint8Array.of(1, 2) }, { type: 7, value: Uint8Array.of(0, 0, 0, 1) }]);
  const samples: Uint8Array[] = [
    utf8('no nul'),
    Uint8Array.from([...utf8('x'), 0, ...key]),
    Uint8Array.from([...utf8('x'), 0, ...key.subarray(0, key.length - 1)]), // the type-7 record is truncated
    Uint8Array.from([0, ...encodeTlvs(Array.from({ length: 70 }, (_, n) => ({ type: n === 65 ? 7 : 0, value: new Uint8Array(0) })))]),
  ];
  for (let i = 0; i < 1000; i++) {
    // A few records of types 0, 1 and 7, then cut short or given a corrupted byte now and then.
    const n = rnd(1)[0]! % 6;
    const recs: Tlv[] = Array.from({ length: n }, () => ({ type: [0, 1, 7][rnd(1)[0]! % 3]!, value: rnd(rnd(1)[0]! % 8) }));
    const b = Uint8Array.from([...utf8('m'), 0, ...encodeTlvs(recs)]);
    const cut = i % 3 === 0 ? b.subarray(0, rnd(1)[0]! % (b.length + 1)) : b;
    if (i % 5 === 0 && cut.length > 0) cut[rnd(1)[0]! % cut.length] = rnd(1)[0]!;
    samples.push(cut, rnd(rnd(1)[0]!));
  }
  let hits = 0;
  for (const b of samples) {
    for (const max of [4, 64]) {
      const want = splitPlaintext(b, max).tlvs.some((t) => t.type === 7);
      assert.is(plaintextHasTlv(b, 7, max), want, bytesToHex(b));
      if (want) hits++;
    }
  }
  assert.ok(plaintextHasTlv(samples[1]!, 7));
  assert.not.ok(plaintextHasTlv(samples[2]!, 7));
  assert.not.ok(plaintextHasTlv(samples[3]!, 7)); // beyond the default 64 records
  assert.ok(plaintextHasTlv(samples[3]!, 7, 70));
  assert.ok(hits > 10, `only ${hits} samples carried a type-7 record`);
});

test('padding policy pads the joined plaintext to a multiple of the block', () => {
  for (const [len, hasTlvs] of [[0, false], [5, false], [100, true], [251, false], [252, true]] as const) {
    for (const block of [16, 64, 256]) {
      const msg = new Uint8Array(len).fill(65);
      const pad = paddingTlv(len, block, hasTlvs)!;
      // With hasTlvs, `len` already counts the message, NUL and earlier TLVs: the pad is appended to it.
      const joined = hasTlvs ? Uint8Array.from([...msg, ...encodeTlvs([pad])]) : joinPlaintext(msg, [pad]);
      assert.is(joined.length % block, 0, `${len} ${block} ${hasTlvs}`);
    }
  }
  assert.is(paddingTlv(10, 0, false), undefined);
  assert.throws(() => paddingTlv(10, 70000, false), (e: unknown) => e instanceof OtrArgumentError);
});

test('oversized TLV values are refused on encode', () => {
  assert.throws(() => encodeTlvs([{ type: 0, value: new Uint8Array(65536) }]), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => encodeTlvs([{ type: 65536, value: new Uint8Array(0) }]), (e: unknown) => e instanceof OtrArgumentError);
});

/** What the sender built before joinTextPlaintext: joinPlaintext(utf8(text), [...tlvs, padding]). */
function reference(text: string, tlvs: Tlv[], block: number): { bytes: Uint8Array; padding: Tlv | undefined } {
  const m = utf8(text);
  const padding = paddingTlv(m.length + (tlvs.length ? 1 : 0) + tlvs.reduce((n, t) => n + 4 + t.value.length, 0), block, tlvs.length > 0);
  return { bytes: joinPlaintext(m, padding ? [...tlvs, padding] : tlvs), padding };
}

test('joinTextPlaintext: the bytes joinPlaintext(utf8(text), tlvs + padding) gives, for every shape of text', () => {
  const rnd = seededRandom(41);
  const disconnect: Tlv = { type: TlvType.disconnected, value: new Uint8Array(0) };
  const texts = ['', 'x', 'x'.repeat(100), 'héllo wörld €', '😀 surrogate pair', 'lone \ud800 surrogate \udc00', '\uffff\u0080\u07ff\u0800', 'a'.repeat(2730), 'é'.repeat(3000), '€'.repeat(5000)];
  const lists: Tlv[][] = [[], [disconnect], [{ type: TlvType.extraSymmetricKey, value: rnd(20) }, { type: 0x1234, value: rnd(300) }]];
  for (const text of texts)
    for (const tlvs of lists)
      for (const block of [0, 1, 16, 256, 4096]) {
        const want = reference(text, tlvs, block);
        const got = joinTextPlaintext(text, tlvs, block);
        assert.equal(bytesToHex(got.plaintext), bytesToHex(want.bytes), `${text.length} chars, ${tlvs.length} TLVs, block ${block}`);
        assert.equal(got.padding?.value.length, want.padding?.value.length);
        wipe(got.plaintext);
      }
});

test('joinTextPlaintext: a plaintext lives in the shared buffer until wiped; a large one has its own array', () => {
  const a = joinTextPlaintext('first', [], 0);
  assert.equal(new TextDecoder().decode(a.plaintext), 'first');
  wipe(a.plaintext);
  const b = joinTextPlaintext('second', [], 0);
  // The next call reuses the buffer: the first view now shows the second text (which is why callers wipe at once).
  assert.is(a.plaintext.buffer, b.plaintext.buffer);
  assert.equal(new TextDecoder().decode(b.plaintext), 'second');
  wipe(b.plaintext);
  assert.ok(new Uint8Array(b.plaintext.buffer, b.plaintext.byteOffset, 16).every((x) => x === 0), 'wiped in place');
  const big = joinTextPlaintext('z'.repeat(9000), [], 0);
  assert.is.not(big.plaintext.buffer, b.plaintext.buffer);
  assert.is(big.plaintext.length, 9000);
});

test('joinTextPlaintext: the same argument errors as joinPlaintext', () => {
  for (const [text, tlvs, block] of [
    ['a\0b', [], 0],
    ['ok', [{ type: 0x10000, value: new Uint8Array(0) }], 0],
    ['ok', [{ type: 1, value: new Uint8Array(0x10000) }], 0],
    ['ok', [], -1],
    ['ok', [], 1.5],
    [42 as unknown as string, [], 0],
  ] as [string, Tlv[], number][]) {
    assert.throws(() => joinTextPlaintext(text, tlvs, block), (e: unknown) => e instanceof OtrArgumentError);
  }
});

test.run();
