import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatFragmentV3,
  formatFragmentV4,
  FRAGMENT_V4_OVERHEAD,
  FragmentReassembler,
  fragmentMessage,
  parseFragment,
  randomFragmentIdentifier,
  type FragmentV4,
} from '../ts/codec/fragment.js';
import { OtrArgumentError, OtrDecodeError, OtrError, OtrLimitError } from '../ts/errors.js';
import { seededRandom } from './helpers/rng.js';

// The example of otrv4.md §Receiving Fragments (line breaks of the document removed).
const SPEC_MESSAGE =
  '?OTR:AAMDJ+MVmSfjFZcAAAAAAQAAAAIAAADA1g5IjD1ZGLDVQEyCgCyn9hbrL3KAbGDdzE2ZkMyTKl7XfkSxh8YJnudstiB74i4BzT0W2haClg6dMary/jo' +
  '9sMudwmUdlnKpIGEKXWdvJKT+hQ26h9nzMgEditLB8vjPEWAJ6gBXvZrY6ZQrx3gb4v0UaSMOMiR5sB7Eaulb2Yc6RmRnnlxgUUC2alosg4WIeFN951PLjSc' +
  'ajVba6dqlDi+q1H5tPvI5SWMN7PCBWIJ41+WvF+5IAZzQZYgNaVLbAAAAAAAAAAEAAAAHwNiIi5Ms+4PsY/L2ipkTtquknfx6HodLvk3RAAAAAA==.';
const SPEC_FRAGMENTS = [
  '?OTR|3c5b5f03|5a73a599|27e31597,00001,00003,?OTR:AAMDJ+MVmSfjFZcAAAAAAQAAAAIAAADA1g5IjD1ZGLDVQEyCgCyn9hbrL3KAbGDdzE2ZkMyTKl7XfkSxh8YJnudstiB74i4BzT0W2haClg6dMary/jo9sMudwmUdlnKpIGEKXWdvJKT+hQ26h9nzMgEditLB8v,',
  '?OTR|3c5b5f03|5a73a599|27e31597,00002,00003,jPEWAJ6gBXvZrY6ZQrx3gb4v0UaSMOMiR5sB7Eaulb2Yc6RmRnnlxgUUC2alosg4WIeFN951PLjScajVba6dqlDi+q1H5tPvI5SWMN7PCBWIJ41+WvF+5IAZzQZYgNaVLbAAAAAAAAAAEAAAAHwNiIi5Ms+4PsY/L2i,',
  '?OTR|3c5b5f03|5a73a599|27e31597,00003,00003,pkTtquknfx6HodLvk3RAAAAAA==.,',
];

const v4 = (s: string) => parseFragment(s) as FragmentV4;

test('the spec example parses and reassembles in any order', () => {
  const f = v4(SPEC_FRAGMENTS[0]!);
  assert.equal(
    { ...f, piece: undefined },
    { version: 4, identifier: 0x3c5b5f03, senderTag: 0x5a73a599, receiverTag: 0x27e31597, index: 1, total: 3, piece: undefined },
  );
  for (const order of [[0, 1, 2], [2, 1, 0], [1, 2, 0]]) {
    const r = new FragmentReassembler();
    const results = order.map((i) => r.add(v4(SPEC_FRAGMENTS[i]!)));
    assert.equal(results.slice(0, 2), [{ status: 'pending' }, { status: 'pending' }]);
    assert.equal(results[2], { status: 'complete', message: SPEC_MESSAGE });
    assert.is(r.heldChars, 0);
    assert.is(r.pendingMessages, 0);
  }
});

test('formatting: lowercase 8-digit hex, 5-digit decimal; round trip', () => {
  const s = formatFragmentV4({ identifier: 0xab, senderTag: 0x100, receiverTag: 0, index: 2, total: 17, piece: 'xyz' });
  assert.is(s, '?OTR|000000ab|00000100|00000000,00002,00017,xyz,');
  assert.equal(parseFragment(s), { version: 4, identifier: 0xab, senderTag: 0x100, receiverTag: 0, index: 2, total: 17, piece: 'xyz' });
  const s3 = formatFragmentV3({ senderTag: 0x1234, receiverTag: 0xffffffff, index: 1, total: 2, piece: '?OTR:AAMD' });
  assert.is(s3, '?OTR|00001234|ffffffff,00001,00002,?OTR:AAMD,');
  assert.equal(parseFragment(s3), { version: 3, senderTag: 0x1234, receiverTag: 0xffffffff, index: 1, total: 2, piece: '?OTR:AAMD' });
});

test('lenient parsing as otr4j: 1–8 hex digits of either case, short decimals', () => {
  assert.equal(parseFragment('?OTR|a|100|0,1,2,p,'), { version: 4, identifier: 10, senderTag: 0x100, receiverTag: 0, index: 1, total: 2, piece: 'p' });
  assert.is(v4('?OTR|ABCDEF01|FFFFFFFF|100,1,1,p,').identifier, 0xabcdef01);
  assert.is(parseFragment('?OTR|100|101,65535,65535,p,').total, 65535);
});

test('illegal fragments are typed errors', () => {
  const bad = [
    '?OTR|1|100|0,0,2,p,', // index 0
    '?OTR|1|100|0,1,0,p,', // total 0
    '?OTR|1|100|0,3,2,p,', // index > total
    '?OTR|1|100|0,1,99999,p,', // total > 65535
    '?OTR|1|100|0,1,123456,p,', // 6 digits
    '?OTR|123456789|100|0,1,2,p,', // 9 hex digits
    '?OTR|1|ff|0,1,2,p,', // sender tag < 0x100
    '?OTR|1|100|ff,1,2,p,', // receiver tag 1..0xff
    '?OTR|1|100|0,1,2,,', // empty piece
    '?OTR|1|100|0,1,2,p', // no final comma
    '?OTR|1|100|0,1,2', // no piece
    '?OTR||100|0,1,2,p,',
    '?OTR|1|100|0|5,1,2,p,',
    '?OTR|g|100,1,2,p,',
    '?OTR|',
  ];
  for (const s of bad) assert.throws(() => parseFragment(s), (e: unknown) => e instanceof OtrDecodeError, s);
  assert.throws(() => parseFragment('?OTR|1|100|0,1,2,' + 'x'.repeat(100) + ',', 50), (e: unknown) => e instanceof OtrLimitError);
});

test('random fragment-shaped input never throws untyped errors', () => {
  const rnd = seededRandom(77);
  const alphabet = '0123456789abcdefABCDEF|,?OTR:x';
  for (let i = 0; i < 5000; i++) {
    const n = rnd(1)[0]! % 40;
    let s = '?OTR|';
    for (const b of rnd(n)) s += alphabet[b % alphabet.length];
    try {
      parseFragment(s);
    } catch (e) {
      assert.instance(e, OtrError);
    }
  }
});

test('fragmentMessage: every fragment within the limit, unfragmented when it fits, reassembles', () => {
  const rnd = seededRandom(5);
  const msg = '?OTR:' + Buffer.from(rnd(3000)).toString('base64') + '.';
  const o = { identifier: randomFragmentIdentifier(rnd), senderTag: 0x100, receiverTag: 0x1234 };
  assert.equal(fragmentMessage(msg, msg.length, o), [msg]);
  for (const max of [FRAGMENT_V4_OVERHEAD + 1, 100, 333, 1000, msg.length - 1]) {
    const frags = fragmentMessage(msg, max, o);
    assert.ok(frags.length > 1);
    const r = new FragmentReassembler();
    let done: string | undefined;
    for (const f of frags) {
      assert.ok(f.length <= max, `${f.length} > ${max}`);
      const res = r.add(v4(f));
      if (res.status === 'complete') done = res.message;
    }
    assert.is(done, msg);
  }
  assert.throws(() => fragmentMessage(msg, FRAGMENT_V4_OVERHEAD, o), (e: unknown) => e instanceof OtrArgumentError);
  assert.throws(() => fragmentMessage(SPEC_FRAGMENTS[0]!, 50, o), (e: unknown) => e instanceof OtrArgumentError);
});

function fragmentsOf(msg: string, identifier: number, senderTag: number, max = 80): FragmentV4[] {
  return fragmentMessage(msg, max, { identifier, senderTag, receiverTag: 0 }).map(v4);
}

function shuffle<T>(xs: T[], rnd: (n: number) => Uint8Array): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = (rnd(2)[0]! | (rnd(1)[0]! << 8)) % (i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

test('interleaved messages from several senders, shuffled, with duplicates', () => {
  const rnd = seededRandom(9);
  const msgs = Array.from({ length: 8 }, (_, i) => `?OTR:${Buffer.from(rnd(200 + i * 37)).toString('base64')}.`);
  const all: FragmentV4[] = [];
  // Same identifier from two senders must not mix.
  msgs.forEach((m, i) => all.push(...fragmentsOf(m, i % 4, 0x100 + Math.floor(i / 4))));
  const dups = all.filter((_, i) => i % 3 === 0);
  const withDups = shuffle([...all, ...dups], rnd);
  const r = new FragmentReassembler();
  const done: string[] = [];
  let dupRejects = 0;
  for (const f of withDups) {
    const res = r.add(f);
    if (res.status === 'complete') done.push(res.message);
    if (res.status === 'rejected') dupRejects++;
  }
  assert.equal(done.sort(), [...msgs].sort());
  assert.ok(dupRejects > 0);
  // A duplicate arriving after its message completed starts a new (never completing) buffer: identifiers
  // only need to be unique while a message is in flight, so it cannot be told from a new message. Only
  // such late duplicates may be held.
  assert.ok(r.heldChars <= dups.reduce((n, f) => n + f.piece.length, 0));
  r.clear();
  assert.is(r.heldChars, 0);
});

test('a missing piece leaves the message pending; a different total discards it', () => {
  const frags = fragmentsOf('?OTR:' + 'A'.repeat(400) + '.', 1, 0x100);
  const r = new FragmentReassembler();
  for (const f of frags.slice(1)) assert.is(r.add(f).status, 'pending');
  assert.is(r.pendingMessages, 1);
  const other = { ...frags[0]!, total: frags[0]!.total + 1 };
  assert.is(r.add(other).status, 'rejected');
  assert.is(r.pendingMessages, 0);
  assert.is(r.heldChars, 0);
  // The buffer is gone: the real first piece alone now starts a new, incomplete message.
  assert.is(r.add(frags[0]!).status, 'pending');
});

test('single-fragment messages and fragments of fragments', () => {
  const r = new FragmentReassembler();
  assert.equal(r.add(v4('?OTR|1|100|0,1,1,?OTR:AAQD.,')), { status: 'complete', message: '?OTR:AAQD.' });
  assert.is(r.add(v4('?OTR|2|100|0,1,2,?OTR|,')).status, 'pending');
  assert.is(r.add(v4('?OTR|2|100|0,2,2,1|100|0,1,1,x,,')).status, 'rejected');
});

test('limits: pending messages evict the oldest; total held size never exceeds its bound', () => {
  const limits = { maxPendingFragmentedMessages: 5, maxPendingFragmentChars: 2000, maxFragmentsPerMessage: 50, maxFragmentChars: 500, maxMessageChars: 1500 };
  const r = new FragmentReassembler(limits);
  const rnd = seededRandom(13);
  // Hostile stream: many identifiers, never completing, random sizes.
  for (let i = 0; i < 5000; i++) {
    const b = rnd(4);
    const total = 2 + (b[0]! % 60);
    const index = 1 + (b[1]! % total);
    const piece = 'x'.repeat(1 + ((b[2]! | (b[3]! << 8)) % 600));
    const res = r.add({ version: 4, identifier: b[3]! % 20, senderTag: 0x100, receiverTag: 0, index, total, piece });
    if (total > 50 || piece.length > 500) assert.is(res.status, 'rejected');
    assert.ok(r.heldChars <= limits.maxPendingFragmentChars, `held ${r.heldChars}`);
    assert.ok(r.pendingMessages <= limits.maxPendingFragmentedMessages);
  }
  // The oldest incomplete message is the one evicted.
  const r2 = new FragmentReassembler(limits);
  for (let id = 0; id < 6; id++) r2.add({ version: 4, identifier: id, senderTag: 0x100, receiverTag: 0, index: 1, total: 2, piece: 'a' });
  assert.is(r2.pendingMessages, 5);
  assert.is(r2.add({ version: 4, identifier: 0, senderTag: 0x100, receiverTag: 0, index: 2, total: 2, piece: 'b' }).status, 'pending');
  assert.equal(r2.add({ version: 4, identifier: 5, senderTag: 0x100, receiverTag: 0, index: 2, total: 2, piece: 'b' }), { status: 'complete', message: 'ab' });
});

test('limits: one message larger than maxMessageChars is discarded, not held', () => {
  const r = new FragmentReassembler({ maxMessageChars: 100, maxPendingFragmentChars: 1000 });
  assert.is(r.add({ version: 4, identifier: 1, senderTag: 0x100, receiverTag: 0, index: 1, total: 3, piece: 'x'.repeat(60) }).status, 'pending');
  assert.is(r.add({ version: 4, identifier: 1, senderTag: 0x100, receiverTag: 0, index: 2, total: 3, piece: 'x'.repeat(60) }).status, 'rejected');
  assert.is(r.heldChars, 0);
  assert.is(r.pendingMessages, 0);
});

test.run();
