/**
 * SMP message bodies (ts/smp/messages.ts): exact layouts, round trips, the question's bounds and encoding,
 * and strictness on hostile bytes (every truncation, trailing bytes, non-canonical scalars, oversized or
 * non-UTF-8 questions, random input) — always an OtrDecodeError, never anything else.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bytesToHex, utf8 } from '../ts/bytes.js';
import { OtrDecodeError, OtrError } from '../ts/errors.js';
import { DEFAULT_LIMITS } from '../ts/limits.js';
import { SCALAR_Q_LE } from '../ts/crypto/eddsa.js';
import {
  SMP_LAYOUTS,
  decodeSmp1,
  decodeSmp2,
  decodeSmp3,
  decodeSmp4,
  encodeSmp1,
  encodeSmp2,
  encodeSmp3,
  encodeSmp4,
  type Smp1,
} from '../ts/smp/messages.js';
import { SmpTlvType } from '../ts/smp/tlv-types.js';
import { seededRandom } from './helpers/rng.js';

const rnd = seededRandom(0x5e9);
/** A 57-byte value below q (top byte 0, next below 0x3f), standing in for a point or scalar. */
const field = (): Uint8Array => {
  const v = rnd(57);
  v[56] = 0;
  v[55]! &= 0x3f;
  return v;
};

function fill(names: readonly (readonly [string, string])[]): Record<string, Uint8Array> {
  const m: Record<string, Uint8Array> = {};
  for (const [n] of names) m[n] = field();
  return m;
}

type Codec = { name: string; fields: readonly (readonly [string, string])[]; enc: (m: any) => Uint8Array; dec: (b: Uint8Array) => any; prefix: (m: any) => number };
const CODECS: Codec[] = [
  { name: 'SMP1', fields: SMP_LAYOUTS.smp1, enc: encodeSmp1, dec: (b) => decodeSmp1(b), prefix: (m: Smp1) => 4 + m.question.length },
  { name: 'SMP2', fields: SMP_LAYOUTS.smp2, enc: encodeSmp2, dec: decodeSmp2, prefix: () => 0 },
  { name: 'SMP3', fields: SMP_LAYOUTS.smp3, enc: encodeSmp3, dec: decodeSmp3, prefix: () => 0 },
  { name: 'SMP4', fields: SMP_LAYOUTS.smp4, enc: encodeSmp4, dec: decodeSmp4, prefix: () => 0 },
];
const sample = (c: Codec): any => (c.name === 'SMP1' ? { question: utf8('Où étions-nous ? 🐘'), ...fill(c.fields) } : fill(c.fields));

const isDecodeError = (e: unknown): boolean => e instanceof OtrDecodeError;

test('TLV types 2..6 (shared table)', () => {
  assert.equal([SmpTlvType.smp1, SmpTlvType.smp2, SmpTlvType.smp3, SmpTlvType.smp4, SmpTlvType.abort], [2, 3, 4, 5, 6]);
});

test('layouts: field order and sizes as interpretations.md §9', () => {
  const names = (c: Codec) => c.fields.map(([n]) => n).join(' ');
  assert.is(names(CODECS[0]!), 'g2a c2 d2 g3a c3 d3');
  assert.is(names(CODECS[1]!), 'g2b c2 d2 g3b c3 d3 pb qb cp d5 d6');
  assert.is(names(CODECS[2]!), 'pa qa cp d5 d6 ra cr d7');
  assert.is(names(CODECS[3]!), 'rb cr d7');
  for (const c of CODECS) {
    const m = sample(c);
    const body = c.enc(m);
    assert.is(body.length, c.prefix(m) + 57 * c.fields.length, c.name);
    // Each field sits raw at its offset, in order.
    c.fields.forEach(([n], i) => {
      const at = c.prefix(m) + 57 * i;
      assert.is(bytesToHex(body.subarray(at, at + 57)), bytesToHex(m[n]), `${c.name}.${n}`);
    });
  }
});

test('round trip', () => {
  for (const c of CODECS) {
    const m = sample(c);
    assert.equal(c.dec(c.enc(m)), m, c.name);
  }
});

test('SMP1 question: DATA prefix, empty, UTF-8, maximum length', () => {
  const base = fill(SMP_LAYOUTS.smp1);
  const empty = encodeSmp1({ question: new Uint8Array(0), ...base } as Smp1);
  assert.is(bytesToHex(empty.subarray(0, 4)), '00000000');
  assert.is(decodeSmp1(empty).question.length, 0);
  const q = utf8('¿Cuál es el nombre de 🐈?');
  const body = encodeSmp1({ question: q, ...base } as Smp1);
  assert.is(new DataView(body.buffer).getUint32(0), q.length);
  assert.equal(decodeSmp1(body).question, q);
  const max = new Uint8Array(DEFAULT_LIMITS.maxSmpQuestionBytes).fill(0x61);
  assert.is(decodeSmp1(encodeSmp1({ question: max, ...base } as Smp1)).question.length, max.length);
});

test('SMP1 question: over the limit, or not UTF-8, is refused', () => {
  const base = fill(SMP_LAYOUTS.smp1);
  const over = encodeSmp1({ question: new Uint8Array(DEFAULT_LIMITS.maxSmpQuestionBytes + 1).fill(0x61), ...base } as Smp1);
  assert.throws(() => decodeSmp1(over), isDecodeError);
  const small = encodeSmp1({ question: utf8('0123456789'), ...base } as Smp1);
  assert.throws(() => decodeSmp1(small, 9), isDecodeError); // a host-lowered limit applies
  assert.is(decodeSmp1(small, 10).question.length, 10);
  for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80] /* surrogate */, [0xc0, 0x80] /* overlong NUL */]) {
    const body = encodeSmp1({ question: Uint8Array.from(bad), ...base } as Smp1);
    assert.throws(() => decodeSmp1(body), isDecodeError, bytesToHex(Uint8Array.from(bad)));
  }
  // A huge declared length is refused from the prefix alone (no allocation).
  const huge = Uint8Array.from(small);
  new DataView(huge.buffer).setUint32(0, 0xffffffff);
  assert.throws(() => decodeSmp1(huge), isDecodeError);
});

test('every truncation and any trailing byte is refused', () => {
  for (const c of CODECS) {
    const body = c.enc(sample(c));
    for (let n = 0; n < body.length; n++) assert.throws(() => c.dec(body.subarray(0, n)), isDecodeError, `${c.name} cut at ${n}`);
    assert.throws(() => c.dec(Uint8Array.from([...body, 0])), isDecodeError, `${c.name} + 1 byte`);
  }
});

test('scalars must be canonical (< q): q, q + 1, 2^456 - 1 are refused in every scalar field', () => {
  const qPlus1 = Uint8Array.from(SCALAR_Q_LE);
  qPlus1[0]! += 1;
  const ones = new Uint8Array(57).fill(0xff);
  const qMinus1 = Uint8Array.from(SCALAR_Q_LE);
  qMinus1[0]! -= 1;
  for (const c of CODECS) {
    for (const [n, kind] of c.fields) {
      if (kind !== 'scalar') continue;
      for (const bad of [SCALAR_Q_LE, qPlus1, ones]) {
        const m = sample(c);
        m[n] = bad;
        assert.throws(
          () => c.dec(c.enc(m)),
          (e: unknown) => e instanceof OtrDecodeError && e.code === 'INVALID_SCALAR',
          `${c.name}.${n}`,
        );
      }
      const m = sample(c);
      m[n] = qMinus1; // the largest canonical value is accepted
      assert.equal(c.dec(c.enc(m))[n], qMinus1);
    }
  }
});

test('random and bit-flipped input: only OtrDecodeError or a clean decode', () => {
  const r = seededRandom(77);
  for (const c of CODECS) {
    const body = c.enc(sample(c));
    for (let i = 0; i < 300; i++) {
      const input = i % 2 ? r(r(1)[0]! * 2) : Uint8Array.from(body);
      if (i % 2 === 0) input[r(2)[0]! % input.length]! ^= 1 << (r(1)[0]! & 7);
      try {
        c.dec(input);
      } catch (e) {
        assert.ok(e instanceof OtrError && isDecodeError(e), `${c.name}: ${String(e)}`);
      }
    }
  }
});

test('encoders refuse wrong-length points/scalars (caller errors are typed too)', () => {
  const m = sample(CODECS[3]!);
  m.rb = new Uint8Array(56);
  assert.throws(() => encodeSmp4(m), (e: unknown) => e instanceof OtrError);
});

test.run();
