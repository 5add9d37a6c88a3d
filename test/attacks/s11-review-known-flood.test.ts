/**
 * Attack (session 11 review): a newcomer's first DAKE evicted first, by a flood from JIDs the trust store knows.
 *
 * Past maxAccountPendingDakes the account evicts peers' pending DAKEs oldest first, "strangers" in a first
 * pass — a conversation holding nothing but such DAKEs, with a peer the trust store does not know — anyone's
 * in a second. A hostile server first completes a DAKE from each of its JIDs (the trust store then knows them,
 * and each conversation holds a session): their later pending DAKEs were never a first-pass stranger's. An
 * honest newcomer's first DAKE *is* (it holds nothing else, nobody knows it yet): at the flood's next
 * admission it went first, however young, before every older DAKE of the flood — the newcomer's Auth-I then
 * found nothing. Session 10 promised that no pending DAKE younger than pendingDakeProtectMs is evicted at the
 * default limits and that a new contact completes if its Auth-I comes within maxAccountPendingDakes further
 * Identities; this broke both with one Identity.
 *
 * Now the first pass spares only the user's own: contacts (peers the user wrote to, session 11) and peers
 * with a verified or revoked key. Anyone else's DAKEs, a session's or not, go oldest first.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, pump, testClock } from '../helpers/session-pair.js';

const BOUND = 4;
const limits = { maxAccountPendingDakes: BOUND };
const evictedPeers = (o: Outcome) => o.events.flatMap((e) => (e.type === 'dakes-evicted' ? [e.peer] : []));

test("JIDs that completed a DAKE flood pending DAKEs: a newcomer's young DAKE is not evicted before their older ones", () => {
  const clock = testClock();
  const make = (id: string, seed: number) => Account.create({ accountId: id, backend: be, random: seededRandom(seed), clock, dsaKey: null, limits });
  const alice = make(ALICE_ID, 3000);
  // The hostile server's JIDs: each completes a DAKE with Alice (known to her trust store, a session each).
  const flood = Array.from({ length: BOUND + 1 }, (_, k) => {
    const id = `m${k}@evil.example.net`;
    const conv = make(id, 3001 + k).conversation(ALICE_ID);
    pump(conv, alice.conversation(id), conv.start());
    assert.is(alice.conversation(id).state, 'ENCRYPTED_MESSAGES');
    clock.advance(1_000);
    return { id, conv };
  });
  // Then each sends a fresh Identity: one pending DAKE each (the oldest is evicted at the fifth).
  const identity = (k: number) => {
    clock.advance(1_000);
    return alice.conversation(flood[k]!.id).receive(flood[k]!.conv.startDake().toSend[0]!);
  };
  for (let k = 0; k <= BOUND; k++) identity(k);
  // Carol, a newcomer, starts her first DAKE with Alice.
  clock.advance(1_000);
  const carol = make('carol@example.org', 3100).conversation(ALICE_ID);
  const ac = alice.conversation('carol@example.org');
  const authR = ac.receive(carol.startDake().toSend[0]!).toSend[0]!;
  // One more Identity from the flood, a second later.
  const next = identity(0);
  assert.not.ok(evictedPeers(next).includes('carol@example.org'), `Carol's DAKE, 1 s old, not evicted (${evictedPeers(next).join(', ')})`);
  ac.receive(carol.receive(authR).toSend[0]!);
  assert.is(ac.state, 'ENCRYPTED_MESSAGES', "Carol's DAKE completes");
});

test("held: a contact's pending DAKE still outlasts the flood's (the user wrote to the contact)", () => {
  const clock = testClock();
  const make = (id: string, seed: number) => Account.create({ accountId: id, backend: be, random: seededRandom(seed), clock, dsaKey: null, limits });
  const alice = make(ALICE_ID, 3200);
  const bobConv = make('bob@example.org', 3201).conversation(ALICE_ID);
  const ab = alice.conversation('bob@example.org');
  pump(bobConv, ab, bobConv.start());
  ab.send('hi bob'); // Bob is Alice's contact
  // Bob re-keys: his pending DAKE is the oldest of all.
  const authR = ab.receive(bobConv.startDake().toSend[0]!).toSend[0]!;
  const outs: Outcome[] = [];
  for (let k = 0; k < 2 * BOUND; k++) {
    clock.advance(1_000);
    const m = make(`n${k}@evil.example.net`, 3210 + k).conversation(ALICE_ID);
    outs.push(alice.conversation(`n${k}@evil.example.net`).receive(m.startDake().toSend[0]!));
  }
  assert.not.ok(outs.flatMap(evictedPeers).includes('bob@example.org'), 'the contact was not evicted');
  ab.receive(bobConv.receive(authR).toSend[0]!);
  assert.ok(ab.instanceTags.length >= 1 && ab.state === 'ENCRYPTED_MESSAGES', "Bob's re-key completes");
});

test.run();
