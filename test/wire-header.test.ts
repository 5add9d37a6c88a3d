import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader, Writer } from '../ts/codec/primitives.js';
import { OtrDecodeError, OtrError } from '../ts/errors.js';
import { MessageType, peekHeader, readHeader, writeHeader, HEADER_BYTES } from '../ts/wire/header.js';
import { hexToBytes } from '../ts/bytes.js';

test('writeHeader lays out SHORT version, BYTE type, INT sender, INT receiver', () => {
  const w = new Writer();
  writeHeader(w, MessageType.identity, 0xd7ba32d8, 0);
  assert.equal(w.finish(), hexToBytes('000435d7ba32d800000000'));
});

test('message type constants follow otrv4.md', () => {
  assert.is(MessageType.data, 0x03);
  assert.is(MessageType.identity, 0x35);
  assert.is(MessageType.authR, 0x36);
  assert.is(MessageType.authI, 0x37);
  assert.is(MessageType.nonInteractiveAuth, 0x0d);
  assert.is(MessageType.prekey, 0x0f);
});

test('peekHeader reads v4 and v3 headers without decoding the body', () => {
  const v4 = hexToBytes('000403000001000000010aff');
  assert.equal(peekHeader(v4), { version: 4, type: 3, senderTag: 0x100, receiverTag: 0x10a });
  const h = peekHeader(hexToBytes('000302ffffffff00000000'));
  assert.equal(h, { version: 3, type: 2, senderTag: 0xffffffff, receiverTag: 0 });
});

test('peekHeader rejects short input with a typed error', () => {
  for (let n = 0; n < HEADER_BYTES; n++) {
    try {
      peekHeader(new Uint8Array(n));
      assert.unreachable();
    } catch (e) {
      assert.instance(e, OtrDecodeError);
    }
  }
  assert.throws(() => peekHeader('abc' as unknown as Uint8Array), (e: unknown) => e instanceof OtrError);
});

test('readHeader checks version, type and tag validity', () => {
  const parse = (hex: string) => readHeader(new Reader(hexToBytes(hex)), MessageType.authR);
  assert.equal(parse('0004360000010000000000'), { senderTag: 0x100, receiverTag: 0 });
  const bad = [
    '0003360000010000000000', // version 3
    '0004350000010000000000', // wrong type
    '000436000000ff00000000', // sender < 0x100
    '00043600000000000000ff'.padEnd(22, '0'), // sender 0
    '00043600000100000000ff', // receiver 0xff
  ];
  for (const hex of bad) assert.throws(() => parse(hex), (e: unknown) => e instanceof OtrDecodeError, hex);
});

test.run();
