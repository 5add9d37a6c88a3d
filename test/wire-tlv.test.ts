import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeTlvs, encodeTlvs, joinPlaintext, paddingTlv, splitPlaintext, TlvType, type Tlv } from '../ts/wire/tlv.js';
import { OtrArgumentError } from '../ts/errors.js';
import { utf8, hexToBytes, bytesToHex } from '../ts/bytes.js';
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

test.run();
