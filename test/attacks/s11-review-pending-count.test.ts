/**
 * Attack (session 11 review): one peer inflates its count in the account's pending-DAKE index.
 *
 * The index (ts/session/pending-dakes.ts, limits.maxAccountPendingDakes) counted every admission of a DAKE a
 * peer started and never decremented it: an entry was "an upper bound on what the conversation holds". An
 * Identity to an instance already awaiting Auth-I replaces that instance's DAKE (the conversation still holds
 * one), but counted one more. The conversation whose admission passes the bound is never evicted, and others
 * are evicted until the total is back under the bound — so one peer whose own count alone passed the bound
 * (a single JID re-sending Identities to one instance, within its DAKE budget of one per 2 s: ~68 minutes at
 * the default bound of 2,048; or simply a long-lived contact that re-keys often) made every later Identity of
 * its own evict *every* other conversation's pending DAKEs, contacts' included, young ones included: the DAKE
 * budget's "nothing younger than 5 minutes is evicted" no longer held, and no DAKE with anyone could complete
 * while it went on.
 *
 * Now an admission sets the entry to what the conversation holds, so the index's total is what the account
 * holds (an over-count only by DAKEs completed or expired since their conversation's last admission).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, testClock } from '../helpers/session-pair.js';

const limits = { maxAccountPendingDakes: 4 };
const evicted = (o: Outcome[]) => o.flatMap((x) => x.events).filter((e) => e.type === 'dakes-evicted');

test("one peer re-sending Identities to one instance does not evict another peer's pending DAKE", () => {
  const clock = testClock();
  const make = (id: string, seed: number) => Account.create({ accountId: id, backend: be, random: seededRandom(seed), clock, dsaKey: null, limits });
  const alice = make(ALICE_ID, 2400);
  const carol = make('carol@example.org', 2401);
  const mallory = make('mallory@evil.example.net', 2402);
  // Carol starts a DAKE with Alice; Alice answers (a pending DAKE awaiting Carol's Auth-I).
  const cc = carol.conversation(ALICE_ID);
  const ac = alice.conversation('carol@example.org');
  const authR = ac.receive(cc.startDake().toSend[0]!);
  assert.is(ac.state, 'WAITING_AUTH_I');
  const authI = cc.receive(authR.toSend[0]!).toSend[0]!;
  // Mallory, from one JID and one instance, sends ten fresh Identities, one every 2 s (its DAKE budget).
  const mc = mallory.conversation(ALICE_ID);
  const am = alice.conversation('mallory@evil.example.net');
  const outs: Outcome[] = [];
  for (let i = 0; i < 10; i++) {
    const o = am.receive(mc.startDake().toSend[0]!);
    assert.is(o.toSend.length, 1, `Identity ${i} answered`);
    outs.push(o);
    clock.advance(2_000);
  }
  assert.is(am.instanceTags.length, 1, 'Mallory holds one instance, one pending DAKE');
  assert.equal(evicted(outs), [], 'nothing evicted: two pending DAKEs in all, under the bound of 4');
  // Carol's Auth-I still finds her DAKE.
  ac.receive(authI);
  assert.is(ac.state, 'ENCRYPTED_MESSAGES', "Carol's DAKE completes");
});

test('held: past the bound of real pending DAKEs, strangers are still evicted', () => {
  const clock = testClock();
  const alice = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(2410), clock, dsaKey: null, limits });
  const outs: Outcome[] = [];
  for (let i = 0; i < 7; i++) {
    const m = Account.create({ accountId: `m${i}@evil.example.net`, backend: be, random: seededRandom(2411 + i), clock, dsaKey: null, limits });
    outs.push(alice.conversation(`m${i}@evil.example.net`).receive(m.conversation(ALICE_ID).startDake().toSend[0]!));
  }
  assert.is(evicted(outs).length, 3, '7 strangers, a bound of 4: the 3 oldest evicted');
  assert.is(alice.peers.filter((p) => alice.conversation(p).state === 'WAITING_AUTH_I').length, 4);
});

test.run();
