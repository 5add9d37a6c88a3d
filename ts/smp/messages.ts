/**
 * SMP message bodies (otrv4.md §SMP Message 1–4; interpretations.md §9), the values of TLV types 2–5:
 *
 *   SMP1: DATA(question, UTF-8, may be empty), G2a, c2, d2, G3a, c3, d3
 *   SMP2: G2b, c2, d2, G3b, c3, d3, Pb, Qb, cp, d5, d6
 *   SMP3: Pa, Qa, cp, d5, d6, Ra, cr, d7
 *   SMP4: Rb, cr, d7
 *
 * POINT is 57 bytes (RFC 8032), SCALAR 57 bytes little-endian. Decoding is structural and strict: exact
 * lengths, no trailing bytes, the question bounded by `maxSmpQuestionBytes` and valid UTF-8, every scalar
 * canonical (< q). interpretations.md §1 has readers reduce SCALARs mod q; honest peers only ever send
 * reduced values here (every SMP scalar is a HashToScalar output or an "r − a·c mod q"), so refusing
 * s >= q costs no interoperability and keeps the proofs non-malleable. Whether the points are valid group elements needs the backend and is checked by the
 * protocol step that uses them (steps.ts).
 */
import { Reader, Writer, decodeAll } from '../codec/primitives.js';
import { OtrDecodeError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { scalarIsCanonical } from '../crypto/eddsa.js';

export interface Smp1 {
  /** UTF-8 bytes of the question; empty when there is none. */
  question: Uint8Array;
  g2a: Uint8Array;
  c2: Uint8Array;
  d2: Uint8Array;
  g3a: Uint8Array;
  c3: Uint8Array;
  d3: Uint8Array;
}

export interface Smp2 {
  g2b: Uint8Array;
  c2: Uint8Array;
  d2: Uint8Array;
  g3b: Uint8Array;
  c3: Uint8Array;
  d3: Uint8Array;
  pb: Uint8Array;
  qb: Uint8Array;
  cp: Uint8Array;
  d5: Uint8Array;
  d6: Uint8Array;
}

export interface Smp3 {
  pa: Uint8Array;
  qa: Uint8Array;
  cp: Uint8Array;
  d5: Uint8Array;
  d6: Uint8Array;
  ra: Uint8Array;
  cr: Uint8Array;
  d7: Uint8Array;
}

export interface Smp4 {
  rb: Uint8Array;
  cr: Uint8Array;
  d7: Uint8Array;
}

/** One field of a message body, in wire order. */
type Field<T> = readonly [keyof T & string, 'point' | 'scalar'];

const SMP2_FIELDS: readonly Field<Smp2>[] = [
  ['g2b', 'point'], ['c2', 'scalar'], ['d2', 'scalar'],
  ['g3b', 'point'], ['c3', 'scalar'], ['d3', 'scalar'],
  ['pb', 'point'], ['qb', 'point'],
  ['cp', 'scalar'], ['d5', 'scalar'], ['d6', 'scalar'],
];
const SMP3_FIELDS: readonly Field<Smp3>[] = [
  ['pa', 'point'], ['qa', 'point'],
  ['cp', 'scalar'], ['d5', 'scalar'], ['d6', 'scalar'],
  ['ra', 'point'], ['cr', 'scalar'], ['d7', 'scalar'],
];
const SMP4_FIELDS: readonly Field<Smp4>[] = [['rb', 'point'], ['cr', 'scalar'], ['d7', 'scalar']];
const SMP1_FIELDS: readonly Field<Omit<Smp1, 'question'>>[] = [
  ['g2a', 'point'], ['c2', 'scalar'], ['d2', 'scalar'],
  ['g3a', 'point'], ['c3', 'scalar'], ['d3', 'scalar'],
];

function writeFields<T>(w: Writer, m: T, fields: readonly Field<T>[]): void {
  for (const [name, kind] of fields) {
    const v = m[name] as unknown as Uint8Array;
    if (kind === 'point') w.point(v);
    else w.scalar(v);
  }
}

function readFields<T>(r: Reader, fields: readonly Field<T>[], what: string): T {
  const out: Record<string, Uint8Array> = {};
  for (const [name, kind] of fields) {
    if (kind === 'point') out[name] = r.point();
    else {
      const s = r.scalar();
      if (!scalarIsCanonical(s)) throw new OtrDecodeError(`${what}: scalar ${name} is not reduced mod q`, 'INVALID_SCALAR');
      out[name] = s;
    }
  }
  return out as T;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The question as text; throws OtrDecodeError on bytes that are not UTF-8. */
export function questionText(q: Uint8Array): string {
  try {
    return utf8Strict.decode(q);
  } catch {
    throw new OtrDecodeError('SMP question is not valid UTF-8');
  }
}

export function encodeSmp1(m: Smp1): Uint8Array {
  const w = new Writer(4 + m.question.length + 6 * 57);
  w.data(m.question);
  writeFields<Omit<Smp1, 'question'>>(w, m, SMP1_FIELDS);
  return w.finish();
}

export function decodeSmp1(body: Uint8Array, maxQuestionBytes: number = DEFAULT_LIMITS.maxSmpQuestionBytes): Smp1 {
  return decodeAll(
    body,
    (r) => {
      const question = r.data('SMP question', maxQuestionBytes);
      questionText(question); // reject non-UTF-8 here, so a decoded message is always displayable
      return { question, ...readFields(r, SMP1_FIELDS, 'SMP1') };
    },
    'SMP message 1',
  );
}

/** SMP2–4 are fixed fields only: one encoder and one decoder serve all three. */
function encodeFixed<T>(m: T, fields: readonly Field<T>[]): Uint8Array {
  const w = new Writer(fields.length * 57);
  writeFields(w, m, fields);
  return w.finish();
}

function decodeFixed<T>(body: Uint8Array, fields: readonly Field<T>[], n: number): T {
  return decodeAll(body, (r) => readFields(r, fields, `SMP${n}`), `SMP message ${n}`);
}

export function encodeSmp2(m: Smp2): Uint8Array {
  return encodeFixed(m, SMP2_FIELDS);
}

export function decodeSmp2(body: Uint8Array): Smp2 {
  return decodeFixed(body, SMP2_FIELDS, 2);
}

export function encodeSmp3(m: Smp3): Uint8Array {
  return encodeFixed(m, SMP3_FIELDS);
}

export function decodeSmp3(body: Uint8Array): Smp3 {
  return decodeFixed(body, SMP3_FIELDS, 3);
}

export function encodeSmp4(m: Smp4): Uint8Array {
  return encodeFixed(m, SMP4_FIELDS);
}

export function decodeSmp4(body: Uint8Array): Smp4 {
  return decodeFixed(body, SMP4_FIELDS, 4);
}

/** Field layouts, exported for the tests that tamper with every field in turn. */
export const SMP_LAYOUTS = Object.freeze({
  smp1: SMP1_FIELDS,
  smp2: SMP2_FIELDS,
  smp3: SMP3_FIELDS,
  smp4: SMP4_FIELDS,
});
