/**
 * Hostile-peer review of session 11's base64 changes (ts/codec/base64.ts): incoming base64 is checked canonical
 * in place (a sticky alphabet regex and the padding bits) before Node's decoder, which skips characters outside
 * the alphabet and ignores the unused bits, may decode it; armour writes into a reused scratch. Randomized and
 * seeded, differentially against an independent reference — a string is canonical iff Node decodes it to bytes
 * that re-encode to exactly it — and against the table decoder (unchanged since before session 11):
 *   - every decoding entry (base64Decode, base64DecodeWire, dearmour) accepts exactly the canonical strings and
 *     decodes them to the reference's bytes, and refuses everything else with OtrDecodeError (never another
 *     exception): padding bits, '=' inside, missing or extra padding, whitespace, '-', '_', NUL, '.', non-ASCII,
 *     lone surrogates, lengths not a multiple of 4, and decoded ranges inside longer strings whose neighbours
 *     are alphabet characters;
 *   - dearmour accepts exactly "?OTR:" + canonical non-empty base64 + "." (fragments and OTRv3 text reach it
 *     reassembled, through classify), nothing around it;
 *   - armour equals '?OTR:' + Node's encoding + '.', and a result never changes after later calls reuse the scratch.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { base64Decode, base64DecodeWire, tableDecode } from '../../ts/codec/base64.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { classifyIncoming } from '../../ts/codec/classify.js';
import { OtrDecodeError } from '../../ts/errors.js';
import { CASES, seededRandom } from '../helpers/rng.js';

const RUNS = 3 * CASES;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Characters a hostile peer tries: URL-safe alphabet, whitespace, framing, NUL, Latin-1, BMP, lone and paired surrogates. */
const HOSTILE = ['=', '-', '_', '.', ' ', '\t', '\n', '\r', '\0', ':', '?', '|', ',', '\u00c1', '\u00ff', '\u0141', '\u200b', '\ufeff', '\ud800', '\udfff', '\ud83d\ude00', '\uff21'];

/** The reference: the bytes iff `s` is canonical base64 (Node decodes it to bytes that re-encode to exactly `s`). */
function reference(s: string): Uint8Array | undefined {
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? Uint8Array.from(b) : undefined;
}

/** What a decoder made of `s`: hex, or 'refused' (OtrDecodeError); any other exception fails the test. */
function result(f: () => Uint8Array): string {
  try {
    return Buffer.from(f()).toString('hex');
  } catch (e) {
    if (!(e instanceof OtrDecodeError)) throw e;
    return 'refused';
  }
}

/** A random string near canonical base64: an encoding, then 0-3 hostile edits (padding bits, characters, lengths). */
function candidate(rnd: (n: number) => Uint8Array): string {
  const [lenSeed, edits] = rnd(2);
  const n = lenSeed! % 4 === 0 ? rnd(2).reduce((a, b) => a * 256 + b, 0) % 3000 : lenSeed! % 40;
  const chars = [...Buffer.from(rnd(n)).toString('base64')];
  for (let e = 0; e < edits! % 4; e++) {
    const [kind, where, what] = rnd(3);
    const at = chars.length === 0 ? 0 : where! % (chars.length + 1);
    const pick = (what! & 1) === 0 ? ALPHABET[what! % 64]! : HOSTILE[what! % HOSTILE.length]!;
    switch (kind! % 7) {
      case 0: chars.splice(at, 1, pick); break; // replace
      case 1: chars.splice(at, 0, pick); break; // insert
      case 2: chars.splice(at, 1); break; // delete
      case 3: { // a neighbour of the last character before the padding: the unused bits set
        let last = chars.length - 1;
        while (last >= 0 && chars[last] === '=') last--;
        if (last >= 0) chars[last] = ALPHABET[(ALPHABET.indexOf(chars[last]!) + 1 + (what! % 3)) % 64] ?? 'A';
        break;
      }
      case 4: chars.push('='); break;
      case 5: if (chars.at(-1) === '=') chars.pop(); break;
      default: chars.splice(at, 0, '='); // '=' inside
    }
  }
  return chars.join('');
}

test(`base64: ${RUNS} hostile near-canonical strings decode exactly as the reference, on every entry, also as a range of a longer string`, () => {
  const rnd = seededRandom(0x5113);
  let accepted = 0;
  for (let i = 0; i < RUNS; i++) {
    const s = candidate(rnd);
    const ref = reference(s);
    const want = ref === undefined ? 'refused' : Buffer.from(ref).toString('hex');
    if (ref !== undefined) accepted++;
    const where = `case ${i}: ${JSON.stringify(s.length > 80 ? `${s.slice(0, 40)}…${s.slice(-40)}` : s)}`;
    assert.is(result(() => tableDecode(s)), want, `table ${where}`);
    assert.is(result(() => base64Decode(s)), want, `native ${where}`);
    // Inside a longer string, between alphabet characters (the sticky check must stop at the range's end).
    const [l, r] = rnd(2);
    const left = ALPHABET.slice(0, l! % 9);
    const right = (r! & 1 ? '=' : '') + ALPHABET.slice(0, r! % 9);
    const wide = left + s + right;
    assert.is(result(() => base64Decode(wide, left.length, left.length + s.length)), want, `native range ${where}`);
    assert.is(result(() => base64DecodeWire(wide, left.length, left.length + s.length)), want, `wire range ${where}`);
    // Framed: dearmour takes exactly "?OTR:" + non-empty canonical + ".".
    const framed = `?OTR:${s}.`;
    assert.is(result(() => dearmour(framed, 1 << 20)), s.length > 0 ? want : 'refused', `dearmour ${where}`);
  }
  // Both outcomes are exercised in earnest (the edits refuse most, not all).
  assert.ok(accepted > RUNS / 5 && accepted < RUNS, `accepted ${accepted} of ${RUNS}`);
});

test('dearmour: the frame around canonical base64 is exact; classify passes every encoded text to it', () => {
  const rnd = seededRandom(0x5114);
  for (let i = 0; i < CASES; i++) {
    const body = Buffer.from(rnd(1 + (rnd(1)[0]! % 200))).toString('base64');
    const bytes = Uint8Array.from(Buffer.from(body, 'base64'));
    const good = `?OTR:${body}.`;
    assert.equal(dearmour(good), bytes);
    const c = classifyIncoming(good, { maxMessageChars: 1 << 20 });
    assert.is(c.kind, 'encoded');
    assert.equal((c as { bytes: Uint8Array }).bytes, bytes);
    const [k] = rnd(1);
    const bad = [
      `?OTR:${body}`, `?OTR:${body}..`, `?OTR:${body}. `, ` ?OTR:${body}.`, `?OTR:${body}.\n`, `?OTR:.${body}.`, `?OTR:${body}=.`,
      `?OTR:${body.slice(0, -1)}.`, `?OTR:${body}A.`, `?OTR:${body.slice(0, (k! % body.length) || 1)}.${body.slice((k! % body.length) || 1)}.`,
      `?OTR:${body}\0.`, `?OTR: ${body}.`, `?otr:${body}.`, `?OTR;${body}.`, `?OTR:${body.replace(/\+/g, '-').replace(/\//g, '_')}x.`,
    ];
    for (const t of bad) {
      if (reference(t.slice(5, -1)) !== undefined && t.startsWith('?OTR:') && t.endsWith('.')) continue; // still the exact form
      assert.is(result(() => dearmour(t, 1 << 20)), 'refused', JSON.stringify(t.length > 60 ? t.slice(0, 60) : t));
    }
  }
  // Empty and degenerate frames.
  for (const t of ['?OTR:.', '?OTR:', '?OTR:=.', '?OTR:====.', '?OTR:A.', '?OTR:AA.', '?OTR:AAA.', '?OTR:AAAAA.', '?OTR:AA=A.', '?OTR:A===.', '?OTR:\ud800AAA.', '.'])
    assert.is(result(() => dearmour(t, 1 << 20)), 'refused', JSON.stringify(t));
});

test('armour: the reference encoding at every scratch size; results held across later calls keep their text', () => {
  const rnd = seededRandom(0x5115);
  const held: [string, string][] = [];
  const sizes = [1, 2, 3, 4, 5, 6, 511, 512, 513, 1535, 1536, 1537, 24_573, 24_574, 24_575, 49_149, 49_150, 49_151, 49_152, 60_000, 70_000];
  for (let i = 0; i < sizes.length + CASES / 4; i++) {
    const n = sizes[i] ?? 1 + (rnd(2).reduce((a, b) => a * 256 + b, 0) % 2000);
    const bytes = rnd(n);
    const want = `?OTR:${Buffer.from(bytes).toString('base64')}.`;
    const got = armour(bytes);
    assert.is(got, want, `length ${n}`);
    held.push([got, want]);
    // Two results alive at once, the later one of the same length written over the same scratch bytes.
    const again = armour(rnd(n));
    assert.is(got, want, `length ${n}: unchanged by the next call`);
    assert.is.not(again, got);
  }
  for (const [got, want] of held) assert.is(got, want, 'every result held keeps its text');
});

test.run();
