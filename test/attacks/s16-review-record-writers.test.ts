/**
 * Pin (session 16 review of d82d176): the conversation record's writers became one table indexed by which
 * optional fields are present (bit 0: the host's mark, bit 1: endedMacKeys). session-record-bytes drives a
 * session whose Bob ends with endedMacKeys but never engaged (bits 2), and an Alice engaged without them
 * (bits 1): the writer with both (bits 3) was not compared with the generic encoder anywhere. Each of the four
 * is reached here, its bytes compared with encodeConversationRecord(toState()), and the record restored and
 * written again unchanged.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Conversation } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { ALICE_ID, establish, makePair, type Pair } from '../helpers/session-pair.js';
import { conversationRecord, encodeConversationRecord } from '../../ts/session/records.js';

const be = WASM;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Which optional fields Bob's record carries, as writeState indexes its writers. */
function bits(c: Conversation): number {
  const x = c as unknown as { writesHostMark(): boolean; endedMacKeys: Uint8Array };
  return (x.writesHostMark() ? 1 : 0) | (x.endedMacKeys.length > 0 ? 2 : 0);
}

function check(p: Pair, want: number): void {
  assert.is(bits(p.b), want, 'the state reaches the writer under test');
  const direct = conversationRecord(p.b);
  assert.is(hex(direct), hex(encodeConversationRecord(ALICE_ID, p.b.toState())), `writer ${want}: the generic encoder's bytes`);
  const key = `conv:${ALICE_ID}`;
  const records = p.bob.records();
  const account = Account.fromRecord(records.find((r) => r.key === 'account')!, { backend: be, clock: p.clock });
  const mine = records.find((r) => r.key === key)!;
  account.attachRecord({ key, bytes: mine.bytes!, generation: mine.generation });
  const restored = account.conversation(ALICE_ID);
  assert.is(bits(restored), want, 'the restore keeps the optional fields');
  assert.is(hex(conversationRecord(restored)), hex(direct), `writer ${want}: restored, written again the same`);
}

/** Bob reads a few of Alice's messages, then Alice ends: Bob holds MAC keys of an ended session. */
function endedByAlice(p: Pair): void {
  for (let i = 0; i < 3; i++) p.b.receive(p.a.send(`m${i}`).toSend[0]!);
  for (const m of p.a.end().toSend) p.b.receive(m);
  assert.is(p.b.state, 'FINISHED');
}

test('every combination of optional fields writes the generic encoding and restores to the same bytes', () => {
  const quiet = makePair(be, 1621);
  establish(quiet); // Alice started: Bob never engaged
  check(quiet, 0);
  endedByAlice(quiet);
  check(quiet, 2);
  const engaged = makePair(be, 1622);
  establish(engaged);
  engaged.a.receive(engaged.b.send('hi').toSend[0]!);
  check(engaged, 1);
  endedByAlice(engaged);
  check(engaged, 3);
});

test.run();
