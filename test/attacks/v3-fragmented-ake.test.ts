/**
 * Attack: an OTRv3 AKE message sent in fragments. The OTRv3 layer reassembles its own fragments, so a
 * fragmented D-H Commit used to reach it without passing the session layer's DAKE budget or raising the early
 * `downgrade` (v3-ake) event that the same message unfragmented gets. The message type is in the first bytes
 * of the first piece: the session layer reads it there and applies the same gate and budget.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import { V3Conversation } from '../../ts/v3/index.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { testDsaKey } from '../interop/v3-pair.js';

const now = () => 1_700_000_000_000;

function alice(limits = {}) {
  return Account.create({ accountId: 'alice', backend: WASM, random: seededRandom(1), clock: now, dsaKey: testDsaKey(0xa11ce), limits });
}
function fragmentedCommit(tag: number): string[] {
  const b = new V3Conversation({ backend: WASM, dsaKey: testDsaKey(0xb0b), instanceTag: tag, random: seededRandom(tag), now, fragmentSize: 120 });
  const parts = b.startAke().toSend;
  assert.ok(parts.length > 1 && parts[0]!.startsWith('?OTR|'), 'the commit is fragmented');
  return parts;
}
const deliver = (c: ReturnType<Account['conversation']>, parts: string[]): Outcome[] => parts.map((p) => c.receive(p));

test('fragmented D-H Commits from fresh instances spend the DAKE budget: beyond the burst they are throttled', () => {
  const conv = alice({ dakeBudgetPeerBurst: 3, dakeBudgetPeerPerSecond: 0.001 }).conversation('bob');
  let answered = 0;
  let throttled = 0;
  for (let i = 0; i < 6; i++) {
    const outs = deliver(conv, fragmentedCommit(0x5000_0100 + i * 0x100));
    if (outs.some((o) => o.toSend.length > 0)) answered++;
    if (outs.some((o) => o.events.some((e) => e.type === 'throttled'))) throttled++;
  }
  assert.is(answered, 3);
  assert.is(throttled, 3);
});

test('a fragmented D-H Commit from a peer known to speak OTRv4 raises downgrade v3-ake before it is answered', () => {
  const a = alice();
  a.fingerprints.record('bob', 4, 'ab'.repeat(56), now());
  a.fingerprints.adopt('bob', 4, 'ab'.repeat(56));
  const conv = a.conversation('bob');
  const outs = deliver(conv, fragmentedCommit(0x5100_0100));
  const first = outs[0]!;
  assert.ok(first.events.some((e) => e.type === 'downgrade' && e.reason === 'v3-ake'), JSON.stringify(first.events));
  assert.ok(outs.some((o) => o.toSend.length > 0), 'still answered (the policy allows OTRv3)');
});

test('fragments of a v3 data message are not budgeted (only AKE messages are)', () => {
  const conv = alice({ dakeBudgetPeerBurst: 2, dakeBudgetPeerPerSecond: 0.001 }).conversation('bob');
  const b = new V3Conversation({ backend: WASM, dsaKey: testDsaKey(0xb0b), instanceTag: 0x5200_0100, random: seededRandom(9), now, fragmentSize: 120 });
  // The AKE (Commit and Reveal Signature spend both tokens), then a long fragmented data message.
  let toAlice = b.startAke().toSend;
  for (let i = 0; i < 10 && toAlice.length; i++) toAlice = toAlice.flatMap((m) => conv.receive(m).toSend).flatMap((m) => b.receive(m).toSend);
  assert.is(conv.state, 'ENCRYPTED_MESSAGES');
  const parts = b.send('x'.repeat(600)).toSend;
  assert.ok(parts.length > 1);
  const outs = deliver(conv, parts);
  assert.not.ok(outs.some((o) => o.events.some((e) => e.type === 'throttled')));
  assert.equal(outs.flatMap((o) => o.messages.map((m) => m.text)), ['x'.repeat(600)]);
});

test.run();
