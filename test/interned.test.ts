/**
 * interned(s) (ts/interned.ts): the string the engine shares for `s`, used for the record keys and sealed row
 * names every layer of a save looks up (docs/stores.md, session 12). Whatever the engine does, the value must be
 * exactly `s`: a key that came back as another string would address another record. The scratch object it goes
 * through must be empty again after every call (a name left in it would be handed back for the next one).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { interned } from '../ts/interned.js';
import { conversationKey, peerOfKey } from '../ts/session/records.js';

const NAMES = [
  'conv:bob@example.org',
  'account',
  '',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '0',
  '7',
  '4294967294',
  '4294967295',
  '-1',
  '1.5',
  'NaN',
  'conv:\u00e9\u4e2d\u{1f600}',
  'lone \ud800 surrogate',
  'x'.repeat(5000),
];

test('returns a string equal to its input, for names that are also special property keys', () => {
  for (const s of NAMES) {
    const got = interned(s);
    assert.type(got, 'string');
    assert.is(got, s, JSON.stringify(s.slice(0, 40)));
  }
});

test('each call stands alone: an earlier name never comes back for a later one', () => {
  // In any order, including integer-like names (enumerated before others) after ordinary ones and back.
  for (let round = 0; round < 3; round++)
    for (let i = 0; i < NAMES.length; i++) {
      const s = NAMES[(i * 7 + round) % NAMES.length]!;
      assert.is(interned(s), s);
      assert.is(interned(`k:${i}`), `k:${i}`);
      assert.is(interned(String(i)), String(i));
    }
});

test('record keys made twice from equal peers are equal, and name their peer', () => {
  const peer = ['bob', '@', 'example.org'].join('');
  const a = conversationKey(peer);
  const b = conversationKey(`bob@${'example.org'}`);
  assert.is(a, 'conv:bob@example.org');
  assert.is(a, b);
  assert.is(peerOfKey(a), peer);
});

test.run();
