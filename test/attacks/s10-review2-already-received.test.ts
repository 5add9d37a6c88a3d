/**
 * Session 10 review (hostile): the 'already-received' reason on an unreadable data message (ratchet/replay.ts).
 * s10-already-received covers forgeries against the latest state. Here:
 *   - a restore of an OLDER record (a backup from before our last message, which revealed the MAC keys): the
 *     restored state still holds those keys as "unrevealed", so anyone who saw our message can re-MAC an altered
 *     copy and get the reason. Found by this review; a limit (the state cannot know what a later state sent),
 *     documented in docs/persistence.md. What must hold even then: nothing is shown, the answer on the wire is
 *     byte for byte the one any unreadable message gets, and the session reads the peer's next message.
 *   - the wire answer never depends on the reason (no oracle over the network), against the latest state too.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { decodeDataMessage } from '../../ts/wire/data.js';
import { authenticator } from '../../ts/ratchet/keys.js';
import { WASM } from '../helpers/backends.js';
import { makePair, establish, pump, texts, ALICE_ID, BOB_ID } from '../helpers/session-pair.js';

type Unreadable = { code: string; reason?: string };
const unreadable = (out: Outcome): Unreadable[] => out.events.filter((e) => e.type === 'unreadable').map((e) => e as unknown as Unreadable);
const bytesOf = (text: string): Uint8Array => dearmour(text).slice();

/** Bob sends two messages Alice reads; then a snapshot of Alice; then Alice's reply reveals their MAC keys. */
function revealedAfterSnapshot() {
  const p = makePair(WASM, 9101, { policy: { healSessions: false } });
  establish(p);
  const sent = [p.b.send('one').toSend[0]!, p.b.send('two').toSend[0]!];
  for (const [i, t] of sent.entries()) assert.equal(p.a.receive(t).messages.map((m) => m.text), [['one', 'two'][i]]);
  const snapshot = p.alice.serialize();
  const reply = p.a.send('revealing');
  const revealed = decodeDataMessage(bytesOf(reply.toSend[0]!)).revealedMacs.slice();
  assert.ok(revealed.length >= 2 * 64, 'the reply revealed the MAC keys of both messages');
  return { p, sent, snapshot, reply, revealed };
}

/** An altered copy of `original` (last ciphertext byte flipped) re-MACed with `key`. */
function reMaced(original: Uint8Array, key: Uint8Array): string {
  const forged = original.slice();
  const f = decodeDataMessage(forged);
  forged[f.authenticated.length - 1]! ^= 0x80;
  forged.set(authenticator(WASM, key, f.authenticated), f.authenticated.length);
  return armour(forged);
}

test('restored from a record older than our last message: a copy re-MACed with a revealed key is never shown, gets the same wire answer, and the session goes on (the reason itself: a documented limit)', () => {
  const { p, sent, snapshot, revealed } = revealedAfterSnapshot();
  const older = Account.restore(snapshot, { backend: WASM, random: p.randA, clock: p.clock, policy: { healSessions: false } });
  const a = older.conversation(BOB_ID);
  const genuine = a.receive(sent[1]!); // the genuine redelivery, for the wire answer to compare with
  assert.equal(unreadable(genuine).map((u) => [u.code, u.reason]), [['STATE', 'already-received']]);
  let labelled = 0;
  for (let k = 0; k < revealed.length / 64; k++) {
    const out = a.receive(reMaced(bytesOf(sent[1]!), revealed.subarray(k * 64, (k + 1) * 64)));
    assert.equal(out.messages, [], `forgery ${k}: nothing shown`);
    const u = unreadable(out);
    assert.equal(u.map((x) => x.code), ['STATE']);
    if (u[0]!.reason === 'already-received') labelled++;
    assert.equal(out.toSend, genuine.toSend, `forgery ${k}: the same bytes on the wire as the genuine redelivery`);
  }
  // The limit, pinned so a change of it is seen: the restored state cannot know its keys were revealed since,
  // and every one of them is still in its queue of keys to try.
  assert.is(labelled, revealed.length / 64, 'each revealed key, still queued in the older state, authenticates an altered copy');
  // Nothing was damaged: Bob's next message reads.
  const next = p.b.send('three').toSend[0]!;
  assert.equal(a.receive(next).messages.map((m) => m.text), ['three']);
});

test('latest state: the wire answer to a genuine redelivery and to forgeries (bit flip, random tag, revealed key) is byte for byte the same', () => {
  const { p, sent, revealed } = revealedAfterSnapshot();
  // Before the reveal the genuine copy is labelled; compare with a fresh pair state that has not revealed yet.
  const q = makePair(WASM, 9201, { policy: { healSessions: false } });
  establish(q);
  const t = q.b.send('x').toSend[0]!;
  q.a.receive(t);
  const again = q.a.receive(t);
  assert.equal(unreadable(again).map((u) => u.reason), ['already-received']);
  const flipped = bytesOf(t);
  flipped[flipped.length - 1]! ^= 1;
  const forged = q.a.receive(armour(flipped));
  assert.equal(unreadable(forged).map((u) => u.reason), [undefined]);
  assert.equal(forged.toSend, again.toSend, 'labelled or not, one answer');
  // And on the state that revealed: plain STATE, the same answer again.
  const replay = p.a.receive(reMaced(bytesOf(sent[0]!), revealed.subarray(0, 64)));
  assert.equal(unreadable(replay).map((u) => u.reason), [undefined]);
  assert.equal(replay.toSend, again.toSend);
});

test('genuine redeliveries (already-received) do not count as unreadable toward healing: a backlog redelivered after a crash, or replayed by the network, starts no repair DAKE; forgeries still do', () => {
  const p = makePair(WASM, 9301); // healSessions on (the default), healAfterUnreadable 3
  establish(p);
  const sent = Array.from({ length: 5 }, (_, i) => p.b.send(`m${i}`).toSend[0]!);
  for (const t of sent) assert.is(p.a.receive(t).messages.length, 1);
  for (const [i, t] of sent.entries()) {
    const out = p.a.receive(t);
    assert.equal(unreadable(out).map((u) => u.reason), ['already-received'], `redelivery ${i}`);
    assert.equal(out.events.filter((e) => e.type === 'heal'), [], `redelivery ${i}: no repair`);
    assert.is(out.toSend.length, 1, `redelivery ${i}: only the unreadable error on the wire`);
  }
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  // The counter itself is intact: three altered copies in a row still start a repair.
  const heals = [0, 1, 2].flatMap((i) => {
    const f = bytesOf(sent[i]!);
    f[f.length - 1]! ^= 1;
    return p.a.receive(armour(f)).events.filter((e) => e.type === 'heal');
  });
  assert.is(heals.length, 1, 'unauthentic unreadable messages still count');
  // And the session still reads Bob's next message.
  assert.equal(p.a.receive(p.b.send('after').toSend[0]!).messages.map((m) => m.text), ['after']);
});

test('a peer that rolled back its state re-sends under old message numbers: labelled already-received (a limit: same keys, new text), it no longer counts toward our repair, but our ERROR_1 makes the peer repair, and its text arrives on the new session', () => {
  const p = makePair(WASM, 9401); // healing on, both sides
  establish(p);
  // Bob's backup is taken within a sending chain (after its DH ratchet): a restored Bob sends on the same chain.
  assert.equal(p.a.receive(p.b.send('m0').toSend[0]!).messages.map((m) => m.text), ['m0']);
  const snapshot = p.bob.serialize();
  for (let i = 1; i < 3; i++) assert.equal(p.a.receive(p.b.send(`m${i}`).toSend[0]!).messages.map((m) => m.text), [`m${i}`]);
  // Bob restored from his backup: his next message reuses m1's position and keys (a new ratchet step would not).
  const bob = Account.restore(snapshot, { backend: WASM, random: p.randB, clock: p.clock });
  const b = bob.conversation(ALICE_ID);
  const out = b.send('new text at an old position');
  const atAlice = p.a.receive(out.toSend[0]!);
  assert.equal(atAlice.messages, []);
  assert.equal(unreadable(atAlice).map((u) => [u.code, u.reason]), [['STATE', 'already-received']], 'the limit: authentic under our key, never shown');
  assert.is(atAlice.toSend.length, 1, 'our ERROR_1');
  // Bob's side repairs on our ERROR_1; the DAKE runs; his unconfirmed text is re-sent on the new session.
  const log = pump(p.a, b, atAlice);
  assert.ok(log.b.some((o) => o.events.some((e) => e.type === 'heal' && (e as { step?: string }).step === 'started')), 'the rolled-back peer starts the repair');
  assert.ok(texts(log.a).includes('new text at an old position'), `re-sent and read: ${JSON.stringify(texts(log.a))}`);
  assert.equal(p.a.receive(b.send('after').toSend[0]!).messages.map((m) => m.text), ['after']);
});

test.run();
