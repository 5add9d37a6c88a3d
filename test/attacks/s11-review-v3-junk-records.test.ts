/**
 * Attack (session 11 review): stranger records from OTRv3 input that starts nothing.
 *
 * A conversation that holds nothing has no record (records.ts; session 10). But any OTRv3 message through the
 * OTRv3 gate made the conversation's OTRv3 state — a D-H Key or a data message nobody asked for, one piece of
 * a fragmented message — and an OTRv3 state, even one holding nothing (no AKE, no session, no peer), counted
 * as something: each stranger JID that sent one such message had a ~540-byte record persisted, with no budget
 * (these messages start no AKE, so they are not DAKE-budgeted) and no bound (they are no pending DAKE). OTRv4
 * input of the same kinds leaves nothing. Now an OTRv3 state that holds nothing a fresh one would not is
 * nothing: the conversation's record is not written (or is deleted).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fragmentV3 } from '../../ts/v3/fragment.js';
import { WASM as be } from '../helpers/backends.js';
import { AppliedRecords } from '../helpers/applied-records.js';
import { makeV34Pair, mallory, MALLORY_TAG } from './attacker.js';

/** An OTRv3 data message (type 0x03) with a body of junk, from `sender` to `receiver`. */
function v3Data(sender: number, receiver: number): string {
  const b = Buffer.alloc(11 + 40, 1);
  b.set([0, 3, 3], 0);
  b.writeUInt32BE(sender, 3);
  b.writeUInt32BE(receiver, 7);
  return `?OTR:${b.toString('base64')}.`;
}

test('OTRv3 messages that start nothing, from many JIDs, leave no record', () => {
  const p = makeV34Pair(be, 2800);
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  const commit = mallory(be, p.clock, 2801).startAke().toSend[0]!;
  const [first, second] = fragmentV3(commit, 120, MALLORY_TAG, 0);
  const junk: [string, string][] = [
    ['data-to-anyone', v3Data(MALLORY_TAG, 0)],
    ['data-to-us', v3Data(MALLORY_TAG, p.alice.instanceTag)],
    ['first-piece', first!],
    ['second-piece', second!],
  ];
  for (const [name, text] of junk) {
    const peer = `junk-${name}@evil.example`;
    const out = p.alice.conversation(peer).receive(text);
    store.commit(out);
    assert.not.ok(store.rows.has(`conv:${peer}`), `${name}: no record for ${peer} (${JSON.stringify(out.events)})`);
  }
});

test('held: a D-H Commit (an AKE we answer) is kept in the record; the whole AKE then completes', () => {
  const p = makeV34Pair(be, 2810);
  const store = new AppliedRecords();
  const m = mallory(be, p.clock, 2811);
  const c = p.alice.conversation('v3peer@example.org');
  let toAlice = m.startAke().toSend;
  for (let guard = 0; toAlice.length && guard < 10; guard++) {
    const toM: string[] = [];
    for (const t of toAlice) {
      const out = c.receive(t);
      store.commit(out);
      assert.ok(store.rows.has('conv:v3peer@example.org'), 'the AKE under way is in the record');
      toM.push(...out.toSend);
    }
    toAlice = toM.flatMap((t) => m.receive(t).toSend);
  }
  assert.is(c.version, 3);
  assert.is(c.state, 'ENCRYPTED_MESSAGES');
});

test.run();
