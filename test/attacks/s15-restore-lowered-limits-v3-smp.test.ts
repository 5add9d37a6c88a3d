/**
 * Attack (session 15, a host's action: a limit raised, then lowered), the OTRv3 list of MAC keys to reveal and
 * the SMP question. OTRv3's restore refused a list longer than max(maxMacKeysToReveal, its default) and a
 * question longer than max(maxSmpQuestionBytes, its default); OTRv4's refused a question longer than
 * maxSmpQuestionBytes itself (so even a limit lowered below the default lost the record). Now the list keeps its
 * newest keys, as the live code bounds it (v3/data.ts keepNewest), with the count dropped reported; a question —
 * which the library accepted under the limit of its day and cannot shorten — restores (bounded by the record's
 * bytes), and the exchange completes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { BOB_TAG, encryptedPair, rotatingOneWay, testDsaKey } from '../interop/v3-pair.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, establish, makePair, pump } from '../helpers/session-pair.js';
import { dearmour } from '../../ts/codec/armour.js';
import { type DataMsg, decodeMessage } from '../../ts/v3/messages.js';
import { V3Conversation } from '../../ts/v3/index.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';

const be = WASM;
const MAC = 20;

test("OTRv3's MAC keys to reveal saved under maxMacKeysToReveal 5,000 restore under the default: the newest kept and revealed, the host told", () => {
  const { a, b } = encryptedPair(be, { limits: { maxMacKeysToReveal: 5000 } });
  // Past the default (1,000), where the old bound (max(limit, default)) refused; each message costs Bob a D-H
  // computation, so no more than needed. Alice rotates her key on every message: each retires one of Bob's
  // receiving MAC keys.
  const n = 1200;
  rotatingOneWay(be, a.conv, b.conv, n, 1535);
  const saved = b.conv.state.keys!.pendingReveal.slice();
  assert.ok(saved.length / MAC >= n - 1, `${saved.length / MAC} keys pending`);
  const told: [number, number][] = [];
  let restored: V3Conversation;
  try {
    restored = V3Conversation.restore({ ...b.opts, limits: {} }, b.conv.serialize(), (instance, count) => told.push([instance, count]));
  } catch (e) {
    assert.unreachable(`restore refused the library's own state: ${(e as Error).message}`);
    throw e;
  }
  const keep = DEFAULT_LIMITS.maxMacKeysToReveal;
  const pending = restored.state.keys!.pendingReveal;
  assert.is(pending.length, keep * MAC);
  assert.ok(pending.every((x, i) => x === saved[saved.length - keep * MAC + i]), 'the newest keys, in order');
  assert.equal(told, [[restored.state.theirTag, saved.length / MAC - keep]]);
  // The conversation goes on; its next message reveals exactly the kept keys, and Alice reads it.
  const out = restored.send('answer').toSend;
  assert.is(out.length, 1);
  const revealed = (decodeMessage(dearmour(out[0]!)) as DataMsg).oldMacKeys;
  assert.ok(revealed.length === keep * MAC && revealed.every((x, i) => x === saved[saved.length - keep * MAC + i]), 'revealed on the wire');
  const read = a.conv.receive(out[0]!);
  assert.equal(read.messages.map((m) => m.text), ['answer']);
  // A re-serialisation is within the new bound.
  assert.is(V3Conversation.restore({ ...b.opts, limits: {} }, restored.serialize()).state.keys!.pendingReveal.length, 0);
});

test("through the account: the conversation's OTRv3 list trimmed at restore, told by state-trimmed with the OTRv3 instance tag", () => {
  const now = () => 1_700_000_000_000;
  const limits = { maxMacKeysToReveal: 5000 };
  const alice = Account.create({ accountId: 'alice', backend: be, random: seededRandom(1537), clock: now, limits });
  const conv = alice.conversation('bob');
  const bob = new V3Conversation({ backend: be, dsaKey: testDsaKey(0xb0b), instanceTag: BOB_TAG, random: seededRandom(1538), now });
  let toBob = conv.start().toSend;
  for (let guard = 0; toBob.length > 0 && guard < 20; guard++) toBob = toBob.flatMap((m) => bob.receive(m).toSend).flatMap((m) => conv.receive(m).toSend);
  assert.is(conv.state, 'ENCRYPTED_MESSAGES');
  rotatingOneWay(be, bob, conv, 1100, 1539);
  let restored: Account;
  try {
    restored = Account.restore(alice.serialize(), { backend: be, random: seededRandom(1540), clock: now });
  } catch (e) {
    assert.unreachable(`restore refused the library's own record: ${(e as Error).message}`);
    throw e;
  }
  const out = restored.conversation('bob').send('answer');
  const trimmed = out.events.filter((e) => e.type === 'state-trimmed');
  assert.is(trimmed.length, 1);
  assert.equal({ ...trimmed[0]!, count: 0 }, { type: 'state-trimmed', instance: BOB_TAG, what: 'mac-keys', count: 0 });
  assert.ok((trimmed[0] as { count: number }).count >= 1100 - 1 - DEFAULT_LIMITS.maxMacKeysToReveal);
  assert.equal(out.toSend.flatMap((m) => bob.receive(m).messages.map((x) => x.text)), ['answer']);
});

test('an OTRv4 SMP question accepted under maxSmpQuestionBytes 8,000 restores under the default (4,096) and the exchange completes', () => {
  const limits = { maxSmpQuestionBytes: 8000 };
  const p = makePair(be, 1536, { limits });
  establish(p);
  const question = 'q'.repeat(6000);
  const asked = p.b.receive(p.a.startSmp('secret', question).toSend[0]!);
  assert.ok(asked.events.some((e) => e.type === 'smp' && e.status === 'asked' && e.question === question));
  let bob: Account;
  try {
    bob = Account.restore(p.bob.serialize(), { backend: be, clock: p.clock });
  } catch (e) {
    assert.unreachable(`restore refused the library's own record: ${(e as Error).message}`);
    throw e;
  }
  const b = bob.conversation(ALICE_ID);
  const log = { a: [] as ReturnType<typeof b.send>[], b: [] as ReturnType<typeof b.send>[] };
  pump(b, p.a, b.answerSmp('secret'), log);
  const done = [...log.a, ...log.b].flatMap((o) => o.events).filter((e) => e.type === 'smp' && e.status === 'succeeded');
  assert.is(done.length, 2, 'both sides succeed');
});

test.run();
