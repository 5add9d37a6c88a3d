/**
 * The conversation state machine over time and across instances: several instances of one peer, session
 * expiry, heartbeats, OTR error messages and IGNORE_UNREADABLE, profile renewal, a DAKE restarted while a
 * session is up, simultaneous starts.
 */
import { test } from 'uvu';
import { DEFAULT_LIMITS } from '../ts/limits.js';
import * as assert from 'uvu/assert';
import { Account, type Outcome, type OtrEvent } from '../ts/index.js';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { ALICE_ID, BOB_ID, establish, makePair, pump, testClock } from './helpers/session-pair.js';
import { isExpired } from '../ts/profile/client-profile.js';

const ev = (o: Outcome | Outcome[]): OtrEvent[] => (Array.isArray(o) ? o : [o]).flatMap((x) => x.events);
const texts = (o: Outcome | Outcome[]): string[] => (Array.isArray(o) ? o : [o]).flatMap((x) => x.messages.map((m) => m.text));

test('two instances of Bob answer one query: Alice holds a session with each and routes by instance tag', () => {
  const clock = testClock();
  const alice = Account.create({ accountId: ALICE_ID, backend: WASM, random: seededRandom(1), clock, dsaKey: null });
  const bob1 = Account.create({ accountId: BOB_ID, backend: WASM, random: seededRandom(2), clock, dsaKey: null });
  const bob2 = Account.create({ accountId: BOB_ID, backend: WASM, random: seededRandom(3), clock, dsaKey: null });
  const a = alice.conversation(BOB_ID);
  const [b1, b2] = [bob1.conversation(ALICE_ID), bob2.conversation(ALICE_ID)];
  const query = a.start().toSend;
  // The query reaches both of Bob's clients (same account, two devices); each answers with an Identity.
  pump(b1, a, b1.receive(query[0]!));
  pump(b2, a, b2.receive(query[0]!));
  assert.equal(a.instanceTags.sort(), [bob1.instanceTag, bob2.instanceTag].sort());
  assert.is(b1.state, 'ENCRYPTED_MESSAGES');
  assert.is(b2.state, 'ENCRYPTED_MESSAGES');
  // Messages from each instance are read on the right session; Alice can address either.
  assert.equal(texts(a.receive(b1.send('from phone').toSend[0]!)), ['from phone']);
  assert.equal(texts(a.receive(b2.send('from laptop').toSend[0]!)), ['from laptop']);
  const toPhone = a.send('to phone', { instance: bob1.instanceTag }).toSend[0]!;
  assert.equal(texts(b1.receive(toPhone)), ['to phone']);
  // The other instance cannot read it and says so quietly (wrong receiver tag), its session intact.
  const other = b2.receive(toPhone);
  assert.equal(texts(other), []);
  assert.ok(ev(other).some((e) => e.type === 'unreadable' || e.type === 'ignored'));
  assert.equal(texts(b2.receive(a.send('to laptop', { instance: bob2.instanceTag }).toSend[0]!)), ['to laptop']);
});

test('instances are bounded: valid Identities from new instances never evict the session or a fresh pending DAKE', () => {
  const clock = testClock();
  // A budget large enough that only the instance bound is exercised here (test/attacks covers the budget).
  const limits = { maxInstancesPerConversation: 4, dakeBudgetPeerBurst: 100, dakeBudgetAccountBurst: 100 };
  const alice = Account.create({ accountId: ALICE_ID, backend: WASM, random: seededRandom(30), clock, dsaKey: null, limits });
  const a = alice.conversation(BOB_ID);
  const bob = Account.create({ accountId: BOB_ID, backend: WASM, random: seededRandom(31), clock, dsaKey: null });
  const b = bob.conversation(ALICE_ID);
  pump(a, b, a.start());
  assert.is(a.state, 'ENCRYPTED_MESSAGES');
  const device = (i: number) => Account.create({ accountId: BOB_ID, backend: WASM, random: seededRandom(100 + i), clock, dsaKey: null });
  for (let i = 0; i < 10; i++) {
    // Each "device" is a fresh account with a valid profile of its own: three fit beside the session.
    const r = a.receive(device(i).conversation(ALICE_ID).startDake().toSend[0]!);
    assert.is(r.toSend.length, i < 3 ? 1 : 0, i < 3 ? 'a valid Identity is answered while there is room' : 'refused: no slot may be taken');
    assert.ok(a.instanceTags.length <= 4);
  }
  // Once the pending DAKEs are older than pendingDakeProtectMs, a new one may take the oldest one's place.
  clock.advance(DEFAULT_LIMITS.pendingDakeProtectMs + 1);
  assert.is(a.receive(device(20).conversation(ALICE_ID).startDake().toSend[0]!).toSend.length, 1);
  assert.ok(a.instanceTags.includes(bob.instanceTag), 'the encrypted session survives');
  assert.equal(texts(b.receive(a.send('still here').toSend[0]!)), ['still here']);
});

test('a per-peer policy override accepts only known fields of the right type and survives persistence', () => {
  const p = makePair(WASM, 13);
  assert.throws(() => p.a.setPolicy({ allowV4: 'yes' } as never), /policy/);
  assert.throws(() => p.a.setPolicy({ nonsense: true } as never), /policy/);
  p.a.setPolicy({ maxMessageSize: 300 });
  assert.is(p.a.policy.maxMessageSize, 300);
  assert.is(p.a.policy.allowV4, true);
  const again = Account.restore(p.alice.serialize(), { backend: WASM, random: seededRandom(5), clock: p.clock });
  assert.is(again.conversation(BOB_ID).policy.maxMessageSize, 300);
});

test('session expiry: after sessionExpiryMs without a new key the session ends with a disconnect TLV', () => {
  const p = makePair(WASM, 4, { policy: { sessionExpiryMs: 60_000 } });
  establish(p);
  assert.equal(texts(p.b.receive(p.a.send('before').toSend[0]!)), ['before']);
  p.clock.advance(61_000);
  const out = p.a.poll();
  assert.ok(ev(out).some((e) => e.type === 'finished' && e.reason === 'expired'));
  assert.is(p.a.state, 'FINISHED');
  assert.is(out.toSend.length, 1);
  const got = p.b.receive(out.toSend[0]!);
  assert.ok(ev(got).some((e) => e.type === 'finished'));
  assert.is(p.b.state, 'FINISHED');
  // Nothing leaks in plaintext after expiry: the text is queued and a new DAKE starts (issue 13).
  const after = p.a.send('after');
  assert.ok(after.toSend.length > 0 && after.toSend.every((s) => s.startsWith('?OTR:')), 'only OTR messages');
  assert.ok(ev(after).some((e) => e.type === 'not-sent' && e.reason === 'queued'));
});

test('heartbeat: a data message after heartbeatMs of silence is answered by an empty IGNORE_UNREADABLE message', () => {
  const p = makePair(WASM, 5, { policy: { heartbeatMs: 30_000 } });
  establish(p);
  p.clock.advance(31_000);
  const got = p.b.receive(p.a.send('ping').toSend[0]!);
  assert.equal(texts(got), ['ping']);
  assert.is(got.toSend.length, 1, 'heartbeat sent');
  const hb = p.a.receive(got.toSend[0]!);
  assert.equal(texts(hb), []);
  assert.equal(ev(hb).filter((e) => e.type === 'unreadable'), []);
  // Not again straight away.
  assert.equal(p.b.receive(p.a.send('ping2').toSend[0]!).toSend, []);
});

test('unreadable data: an OTR error is sent unless IGNORE_UNREADABLE is set; a peer error is reported', () => {
  const p = makePair(WASM, 6);
  establish(p);
  const msg = p.a.send('x').toSend[0]!;
  assert.equal(texts(p.b.receive(msg)), ['x']);
  const replay = p.b.receive(msg); // the key is gone: unreadable
  assert.ok(replay.toSend[0]!.startsWith('?OTR Error: ERROR_1'));
  const back = p.a.receive(replay.toSend[0]!);
  assert.ok(ev(back).some((e) => e.type === 'peer-error' && e.code === 'ERROR_1'));
  // While encrypted, the peer's ERROR_1 starts a repair DAKE (policy.healSessions; test/session-heal.test.ts).
  assert.ok(ev(back).some((e) => e.type === 'heal' && e.step === 'started' && e.reason === 'peer-error'));
  // The peer's empty heartbeat-style message with IGNORE_UNREADABLE, replayed, produces no error.
  // (Bob's, towards Alice: Alice's sends wait for her repair DAKE.)
  const quiet = p.b.send('', { ignoreUnreadable: true }).toSend[0]!;
  p.a.receive(quiet);
  assert.equal(p.a.receive(quiet).toSend, []);
  // A data message with no session at all: ERROR_2 (not in private state).
  // (The same seed: the same instance tags, so the message is addressed to this account, which has no session.)
  const fresh = makePair(WASM, 6);
  const lost = fresh.b.receive(msg);
  assert.ok(lost.toSend[0]!.startsWith('?OTR Error: ERROR_2'));
});

test('client profile renewal: a week on, the account signs a fresh profile and DAKEs still validate', () => {
  const p = makePair(WASM, 8);
  const first = p.alice.clientProfile;
  p.clock.advance(6.5 * 24 * 3600 * 1000);
  const renewed = p.alice.clientProfile;
  assert.ok(renewed.expiry > first.expiry);
  assert.equal(renewed.identityKey, first.identityKey);
  p.clock.advance(1 * 24 * 3600 * 1000);
  assert.ok(isExpired(first, p.clock()), 'the old profile would now be rejected');
  establish(p);
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
});

test('a DAKE restarted while encrypted keeps the old session usable until the new one completes', () => {
  const p = makePair(WASM, 9);
  establish(p);
  const ssid1 = p.a.ssid;
  const identity = p.b.startDake(p.alice.instanceTag);
  // The old session still carries messages in both directions meanwhile.
  assert.equal(texts(p.b.receive(p.a.send('old session').toSend[0]!)), ['old session']);
  pump(p.b, p.a, identity);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  assert.not.equal(p.a.ssid, ssid1);
  assert.is(p.a.ssid, p.b.ssid);
  assert.equal(texts(p.b.receive(p.a.send('new session').toSend[0]!)), ['new session']);
});

test('simultaneous start: both send Identity; the tie-break gives one session', () => {
  const p = makePair(WASM, 10);
  const ia = p.a.startDake();
  const ib = p.b.startDake();
  const ra = p.a.receive(ib.toSend[0]!);
  const rb = p.b.receive(ia.toSend[0]!);
  pump(p.a, p.b, ra);
  pump(p.b, p.a, rb);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
  assert.is(p.a.ssid, p.b.ssid);
  assert.equal(texts(p.b.receive(p.a.send('one session').toSend[0]!)), ['one session']);
});

test('the reported state follows the DAKE: START, WAITING_AUTH_R, WAITING_AUTH_I, ENCRYPTED_MESSAGES', () => {
  const p = makePair(WASM, 12);
  assert.is(p.a.state, 'START');
  const identity = p.b.startDake();
  assert.is(p.b.state, 'WAITING_AUTH_R');
  const authR = p.a.receive(identity.toSend[0]!);
  assert.is(p.a.state, 'WAITING_AUTH_I');
  const authI = p.b.receive(authR.toSend[0]!);
  assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
  p.a.receive(authI.toSend[0]!);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
});

test('a message typed during the DAKE is queued and sent encrypted when it completes', () => {
  const p = makePair(WASM, 11);
  const q = p.a.start();
  const identity = p.b.receive(q.toSend[0]!);
  const authR = p.a.receive(identity.toSend[0]!);
  const typed = p.a.send('typed early');
  assert.equal(typed.toSend, []);
  assert.ok(ev(typed).some((e) => e.type === 'not-sent' && e.reason === 'queued'));
  const log = pump(p.a, p.b, authR);
  assert.equal(texts(log.b), ['typed early']);
});

test.run();
