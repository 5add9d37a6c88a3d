/**
 * Attack (session 10 review): partial fragmented messages from many peers at once. Each conversation bounds
 * what its fragment tables hold (maxPendingFragmentChars, OTRv4 and OTRv3 each), but a peer with many
 * identities (an XMPP account costs nothing) opens as many conversations as it likes: the account's memory was
 * that bound times the number of conversations, with no limit of its own.
 *
 * Found: 12 conversations held 15,000 characters each (180,000 in all, against an account bound of 50,000),
 * and OTRv3 tables likewise; and counted by characters alone, one-character pieces held ~29 times more
 * memory than counted (each costs a table entry), so the account's bound counts every piece's entry too. Now limits.maxAccountFragmentChars bounds all conversations together
 * (shared-budget.ts): other conversations' oldest partial messages are dropped first, so an honest
 * fragmented message still gets through the flood, and a forgotten conversation gives its room back.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import type { Conversation } from '../../ts/session/conversation.js';
import { fragmentMessage } from '../../ts/codec/fragment.js';
import { formatFragmentV3, formatFragmentV4 } from '../../ts/codec/fragment.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { establish, makePair, testClock } from '../helpers/session-pair.js';
import { testDsaKey } from '../interop/v3-pair.js';
import { FRAGMENT_PIECE_COST } from '../../ts/shared-budget.js';

const LIMITS = { maxPendingFragmentChars: 20_000, maxAccountFragmentChars: 50_000 };
const PIECE = 5_000;

interface Tables {
  reassembler: { buffers: Map<string, { pieces: Map<number, string>; chars: number }> };
  v3conv: { frags: { partials: Map<number, { pieces: string[]; chars: number }> } } | null;
}

/** Characters and pieces a conversation's fragment tables hold (OTRv4 reassembler and OTRv3 table), read from outside. */
function tables(c: Conversation): { chars: number; pieces: number } {
  const inner = c as unknown as Tables;
  let chars = 0;
  let pieces = 0;
  for (const b of inner.reassembler.buffers.values()) (chars += b.chars), (pieces += b.pieces.size);
  for (const p of inner.v3conv?.frags.partials.values() ?? []) (chars += p.chars), (pieces += p.pieces.length);
  return { chars, pieces };
}
const held = (c: Conversation): number => tables(c).chars;
/** What the account's budget should count for these conversations: characters and each piece's entry. */
const cost = (cs: Conversation[]): number => cs.reduce((n, c) => n + tables(c).chars + tables(c).pieces * FRAGMENT_PIECE_COST, 0);

/** The first 3 fragments (~15,000 characters, within the per-conversation bound) of a message that never completes. */
function partial(senderTag: number, identifier: number, receiverTag: number): string[] {
  const whole = `?OTR:${'A'.repeat(PIECE * 8)}.`;
  return fragmentMessage(whole, PIECE + 60, { identifier, senderTag, receiverTag }).slice(0, 3);
}

test('OTRv4 fragments from many peers: the account holds at most maxAccountFragmentChars; an honest message gets through', () => {
  const p = makePair(be, 1200, { limits: LIMITS });
  establish(p);
  const flood: Conversation[] = [];
  for (let k = 0; k < 12; k++) {
    const c = p.alice.conversation(`mallory-${k}@example.net`);
    flood.push(c);
    for (const f of partial(0x7000_0100 + k, 0x100 + k, p.alice.instanceTag)) c.receive(f);
    const total = flood.reduce((n, x) => n + held(x), 0);
    assert.ok(total <= LIMITS.maxAccountFragmentChars, `after ${k + 1} peers the account holds ${total}`);
    assert.ok(held(c) >= 3 * PIECE, 'the newest peer holds all its pieces (the oldest peers\' are dropped first)');
  }
  assert.is(p.alice.fragmentBudget.heldTotal, cost(flood), 'the budget counts what the tables hold');
  // Bob's genuine message, fragmented, during the flood: his pieces displace the flood's, and it is read.
  // (Its encoding must fit the per-conversation bound, 20,000 characters, as for any fragmented message.)
  const text = 'x'.repeat(10_000);
  const encoded = p.b.send(text).toSend;
  assert.is(encoded.length, 1);
  const pieces = fragmentMessage(encoded[0]!, PIECE + 60, { identifier: 7, senderTag: p.bob.instanceTag, receiverTag: p.alice.instanceTag });
  assert.ok(pieces.length >= 3);
  const read = pieces.flatMap((f) => p.a.receive(f).messages.map((m) => m.text));
  assert.ok(read.length === 1 && read[0] === text, `Bob's message read (${read.length} messages)`);
  // Forgotten conversations give their room back.
  for (let k = 0; k < 12; k++) p.alice.forget(`mallory-${k}@example.net`);
  assert.is(p.alice.fragmentBudget.heldTotal, cost([p.a]));
});

test('OTRv3 fragments count in the same account budget', () => {
  const alice = Account.create({ accountId: 'alice', backend: be, random: seededRandom(1), clock: testClock(), dsaKey: testDsaKey(0xa11ce), limits: LIMITS });
  const convs: Conversation[] = [];
  for (let k = 0; k < 12; k++) {
    const c = alice.conversation(`mallory-${k}@example.net`);
    convs.push(c);
    // An OTRv3 conversation must exist for its fragments to be held: a query it answers with a D-H Commit.
    c.receive('?OTRv3?');
    const sender = 0x6000_0100 + k;
    for (let i = 1; i <= 4; i++) c.receive(formatFragmentV3({ senderTag: sender, receiverTag: alice.instanceTag, index: i, total: 9, piece: 'B'.repeat(PIECE) }));
    const total = convs.reduce((n, x) => n + held(x), 0);
    assert.ok(held(c) > 0, `peer ${k}'s OTRv3 pieces are held`);
    assert.ok(total <= LIMITS.maxAccountFragmentChars, `after ${k + 1} peers the account holds ${total}`);
  }
  assert.is(alice.fragmentBudget.heldTotal, cost(convs));
});

test('one-character pieces: each piece counts its table entry, so the account holds at most the bound in entries too', () => {
  // A piece of one character costs ~28 bytes of table entry: counted by characters alone, 1,000 such pieces in
  // each of 12 conversations (12,000 entries, ~0.35 MB) passed as 12,000 "characters" under a 50,000 bound.
  const p = makePair(be, 1210, { limits: LIMITS });
  const flood: Conversation[] = [];
  for (let k = 0; k < 12; k++) {
    const c = p.alice.conversation(`mallory-${k}@example.net`);
    flood.push(c);
    for (let i = 1; i <= 1000; i++) c.receive(formatFragmentV4({ identifier: 0x900 + k, senderTag: 0x7100_0100 + k, receiverTag: p.alice.instanceTag, index: i, total: 4000, piece: 'C' }));
    const pieces = flood.reduce((n, x) => n + tables(x).pieces, 0);
    // Each entry is ~28 bytes of memory (measured: 409,500 one-character pieces took 11.5 MB of heap).
    assert.ok(pieces * (1 + 28) <= LIMITS.maxAccountFragmentChars, `after ${k + 1} peers the account holds ${pieces} pieces`);
  }
  assert.is(p.alice.fragmentBudget.heldTotal, cost(flood));
});

test.run();
