import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildQuery, parseQuery } from '../ts/codec/query.js';
import { OtrArgumentError } from '../ts/errors.js';

test('exact strings from interpretations.md §7 and otrv4.md', () => {
  assert.equal(parseQuery('?OTRv4? An Off-The-Record conversation has been requested.')?.versions, [4]);
  assert.equal(parseQuery('?OTRv34?')?.versions, [3, 4]);
  assert.equal(parseQuery('?OTRv43?')?.versions, [3, 4]);
  assert.equal(parseQuery('?OTRv3?')?.versions, [3]);
  assert.equal(parseQuery('?OTRv45x?')?.versions, [4, 5]);
  assert.equal(parseQuery('?OTRv?')?.versions, []);
  // "?OTRv?4?" is syntactically invalid: it offers nothing, so nobody answers it.
  assert.equal(parseQuery('?OTRv?4?')?.versions, []);
});

test('queries are found anywhere; v1 forms are recognised', () => {
  const q = parseQuery('<p title="?OTRv34?">hello</p>');
  assert.equal(q, { versions: [3, 4], offset: 10 });
  assert.equal(parseQuery('?OTR?')?.versions, [1]);
  assert.equal(parseQuery('?OTR?v2?')?.versions, [1, 2]);
  assert.equal(parseQuery('?OTR?v23?')?.versions, [1, 2, 3]);
  assert.is(parseQuery('hello'), undefined);
  assert.is(parseQuery('?OTRv4'), undefined); // no closing '?'
  assert.is(parseQuery('?OTR is fun'), undefined);
  assert.equal(parseQuery('?OTR then ?OTRv4?')?.versions, [4]);
  assert.is(parseQuery('?OTRv' + '4'.repeat(100) + '?'), undefined); // absurdly long version list
});

test('building: ascending versions, optional explanation', () => {
  assert.is(buildQuery([4]), '?OTRv4?');
  assert.is(buildQuery([4, 3]), '?OTRv34?');
  assert.is(buildQuery([3, 4], 'Your buddy has requested an Off-the-Record private conversation.'), '?OTRv34? Your buddy has requested an Off-the-Record private conversation.');
  for (const bad of [[], [2], [4, 5]]) assert.throws(() => buildQuery(bad), (e: unknown) => e instanceof OtrArgumentError);
  assert.equal(parseQuery(buildQuery([3, 4], 'x'))?.versions, [3, 4]);
});

test.run();
