import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseWhitespaceTag, tagPlaintext, whitespaceTag, WS_BASE, WS_V3, WS_V4 } from '../ts/codec/whitespace.js';
import { OtrArgumentError } from '../ts/errors.js';

const bytes = (s: string) => [...s].map((c) => c.charCodeAt(0));

test('the exact tag bytes of interpretations.md §7', () => {
  assert.equal(bytes(WS_BASE), [0x20, 0x09, 0x20, 0x20, 0x09, 0x09, 0x09, 0x09, 0x20, 0x09, 0x20, 0x09, 0x20, 0x09, 0x20, 0x20]);
  assert.equal(bytes(WS_V3), [0x20, 0x20, 0x09, 0x09, 0x20, 0x20, 0x09, 0x09]);
  assert.equal(bytes(WS_V4), [0x20, 0x20, 0x09, 0x09, 0x20, 0x09, 0x20, 0x20]);
});

test('building puts v4 last; tagPlaintext prefixes the text', () => {
  assert.is(whitespaceTag([4, 3]), WS_BASE + WS_V3 + WS_V4);
  assert.is(whitespaceTag([4]), WS_BASE + WS_V4);
  assert.is(tagPlaintext('hi', [3, 4]), WS_BASE + WS_V3 + WS_V4 + 'hi');
  assert.throws(() => whitespaceTag([]), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => whitespaceTag([2]), (e: unknown) => e instanceof OtrArgumentError);
});

test('detect and strip at the start (otrr), at the end (otr4j), and in the middle', () => {
  assert.equal(parseWhitespaceTag(tagPlaintext('hello', [3, 4])), { versions: [3, 4], text: 'hello' });
  assert.equal(parseWhitespaceTag('hello' + WS_BASE + WS_V3 + WS_V4), { versions: [3, 4], text: 'hello' });
  assert.equal(parseWhitespaceTag('a' + WS_BASE + WS_V4 + 'b'), { versions: [4], text: 'ab' });
  // v4 before v3 is read the same.
  assert.equal(parseWhitespaceTag(WS_BASE + WS_V4 + WS_V3)?.versions, [3, 4]);
  // Unknown 8-char whitespace groups are skipped; a base tag alone offers nothing.
  assert.equal(parseWhitespaceTag(WS_BASE + '\t\t\t\t\t\t\t\t' + WS_V4 + 'x'), { versions: [4], text: 'x' });
  assert.equal(parseWhitespaceTag(WS_BASE + 'x'), { versions: [], text: 'x' });
  assert.is(parseWhitespaceTag('no tag here \t '), undefined);
});

test('only the first tag counts', () => {
  const t = WS_BASE + WS_V3 + 'mid' + WS_BASE + WS_V4;
  const r = parseWhitespaceTag(t)!;
  assert.equal(r.versions, [3]);
  assert.is(r.text, 'mid' + WS_BASE + WS_V4);
});

test.run();
