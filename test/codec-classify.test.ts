import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyIncoming } from '../ts/codec/classify.js';
import { armour } from '../ts/codec/armour.js';
import { buildErrorMessage } from '../ts/codec/error-message.js';
import { tagPlaintext, WS_BASE, WS_V3, WS_V4 } from '../ts/codec/whitespace.js';
import { OtrDecodeError, OtrError, OtrLimitError } from '../ts/errors.js';
import { DEFAULT_LIMITS, resolveLimits } from '../ts/limits.js';
import { seededRandom } from './helpers/rng.js';

test('each kind', () => {
  assert.equal(classifyIncoming('?OTR|1|100|0,1,2,p,').kind, 'fragment');
  const f = classifyIncoming('?OTR|100|0,1,2,p,');
  assert.ok(f.kind === 'fragment' && f.fragment.version === 3);
  assert.equal(classifyIncoming(armour(Uint8Array.of(0, 4, 3))), { kind: 'encoded', bytes: Uint8Array.of(0, 4, 3) });
  assert.equal(classifyIncoming(buildErrorMessage(1)), { kind: 'error', error: { code: 1, text: 'Unreadable message' } });
  assert.equal(classifyIncoming('?OTRv4? An Off-The-Record conversation has been requested.'), { kind: 'query', versions: [4] });
  assert.equal(classifyIncoming('?OTRv34?'), { kind: 'query', versions: [3, 4] });
  assert.equal(classifyIncoming(tagPlaintext('hi', [3, 4])), { kind: 'whitespace', versions: [3, 4], text: 'hi' });
  assert.equal(classifyIncoming('hi' + WS_BASE + WS_V3 + WS_V4), { kind: 'whitespace', versions: [3, 4], text: 'hi' });
  assert.equal(classifyIncoming('hello'), { kind: 'plaintext', text: 'hello' });
  assert.equal(classifyIncoming(''), { kind: 'plaintext', text: '' });
});

test('precedence: fragment > encoded > error > query > whitespace', () => {
  assert.is(classifyIncoming('?OTR Error: try ?OTRv4?').kind, 'error');
  assert.is(classifyIncoming('?OTRv4? ' + WS_BASE + WS_V4).kind, 'query');
  // Markers that are not at the start are plaintext (or a query), never an encoded message or error.
  assert.is(classifyIncoming('x ?OTR:AAQD.').kind, 'plaintext');
  assert.is(classifyIncoming('x ?OTR Error: y').kind, 'plaintext');
});

test('OTR-shaped garbage is a typed error; size limits apply', () => {
  for (const s of ['?OTR:AAQ.', '?OTR:AAQD', '?OTR|zz|100|0,1,1,p,', '?OTR|1|100|0,0,1,p,'])
    assert.throws(() => classifyIncoming(s), (e: unknown) => e instanceof OtrDecodeError, s);
  assert.throws(() => classifyIncoming('x'.repeat(101), { maxMessageChars: 100 }), (e: unknown) => e instanceof OtrLimitError);
  assert.throws(() => classifyIncoming('?OTR|1|100|0,1,1,' + 'p'.repeat(100) + ',', { maxFragmentChars: 50 }), (e: unknown) => e instanceof OtrLimitError);
});

test('a bound the caller leaves out keeps its default; a full limits table is honoured as given', () => {
  const tooLong = '?OTR:' + 'A'.repeat(DEFAULT_LIMITS.maxMessageChars) + '.';
  // Overriding only the fragment bound must not lift the message bound (nor the reverse).
  assert.throws(() => classifyIncoming(tooLong, { maxFragmentChars: 50 }), (e: unknown) => e instanceof OtrLimitError);
  const bigFragment = '?OTR|1|100|0,1,1,' + 'p'.repeat(DEFAULT_LIMITS.maxFragmentChars) + ',';
  assert.throws(() => classifyIncoming(bigFragment, { maxMessageChars: 50 }), (e: unknown) => e instanceof OtrLimitError);
  // The session passes its account's whole resolved table.
  const full = resolveLimits({ maxMessageChars: 64, maxFragmentChars: 40 });
  assert.throws(() => classifyIncoming('?OTR:' + 'A'.repeat(60) + '.', full), (e: unknown) => e instanceof OtrLimitError);
  assert.throws(() => classifyIncoming('?OTR|1|100|0,1,1,' + 'p'.repeat(40) + ',', full), (e: unknown) => e instanceof OtrLimitError);
  assert.equal(classifyIncoming(armour(new Uint8Array([0, 4, 3])), full).kind, 'encoded');
});

test('random text never throws an untyped error', () => {
  const rnd = seededRandom(21);
  const pieces = ['?OTR', '?OTR:', '?OTR|', '?OTRv', '?OTR Error:', 'v', '?', '|', ',', '1', '4', 'A', '=', '.', ' ', '\t', 'ERROR_1:'];
  for (let i = 0; i < 5000; i++) {
    let s = '';
    for (const b of rnd(rnd(1)[0]! % 12)) s += pieces[b % pieces.length];
    try {
      classifyIncoming(s);
    } catch (e) {
      assert.instance(e, OtrError);
    }
  }
});

test.run();
