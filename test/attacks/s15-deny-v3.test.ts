/**
 * Attack (session 15, what the session-14 deniability audit left): an OTRv3 receiver reveals a receiving MAC
 * key once its key pair is retired (libotr's way). Our `end()` sent the saved list only — as libotr does — so the
 * messages last read under the key pairs still in use stayed authenticated under keys nobody published: a judge
 * holding the transcript could not say anyone else might have altered them. The disconnect now reveals those
 * keys too. Safe: we wipe the key state right after sending it (nothing under them is accepted by us again), and
 * a revealed key is the peer's *sending* MAC key, which the peer never accepts a message under. libotr skips the
 * revealed keys unread (test/v3-interop.test.ts runs our disconnect against it).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { encryptedPair, pump } from '../interop/v3-pair.js';
import { armour } from '../../ts/codec/armour.js';
import { v3Data, v3KeysIn, v3Remac, v3RevealedIn } from '../helpers/v3-reveal.js';
import { type DataMsg, encodeMessage } from '../../ts/v3/messages.js';

const be = WASM;
const data = v3Data;
const keysIn = v3KeysIn;
const revealedIn = (sent: readonly string[], m: DataMsg) => v3RevealedIn(be, sent, m);

test("end(): Bob's disconnect reveals the MAC keys of the messages he read under the key pairs still in use", () => {
  const { a, b } = encryptedPair(be, {}, 1521);
  const m1 = a.conv.send('one').toSend[0]!;
  const m2 = a.conv.send('two').toSend[0]!;
  pump(a, b, [m1, m2]);
  assert.equal(b.user, ['one', 'two']);
  const bye = b.conv.end().toSend;
  assert.is(bye.length, 1);
  assert.ok(revealedIn(bye, data(m1)), "m1's key is revealed");
  assert.ok(revealedIn(bye, data(m2)), 'm2 (same key pair) too');
  // Alice (libotr would too) reads the disconnect as any data message: she ends.
  pump(b, a, bye);
  assert.is(a.conv.msgstate, 'finished');
});

test('end() after key rotations: the saved list and the keys in use are both revealed, each once', () => {
  const { a, b } = encryptedPair(be, {}, 1522);
  const m1 = a.conv.send('one').toSend[0]!;
  pump(a, b, [m1]);
  pump(b, a, b.conv.send('ack').toSend);
  // Under Bob's newest key: he retires the pair he read m1 with (its key saved), m2 and m3 under the new pair.
  const m2 = a.conv.send('two').toSend[0]!;
  const m3 = a.conv.send('three').toSend[0]!;
  pump(a, b, [m2, m3]);
  const bye = b.conv.end().toSend;
  for (const [name, m] of [['m1', m1], ['m2', m2], ['m3', m3]] as const) assert.ok(revealedIn(bye, data(m)), `${name} revealed`);
  const keys = keysIn(bye).map((k) => Buffer.from(k).toString('hex'));
  assert.is(new Set(keys).size, keys.length, 'no key twice');
});

test("a revealed key is the peer's sending key: a message re-MACed with it is refused by the peer", () => {
  const { a, b } = encryptedPair(be, {}, 1523);
  pump(a, b, a.conv.send('one').toSend);
  const ack = data(b.conv.send('ack').toSend[0]!);
  pump(a, b, a.conv.send('two').toSend); // Alice has not read the ack yet: its keys are in use on both sides
  const bye = b.conv.end().toSend;
  const keys = keysIn(bye);
  assert.ok(keys.length > 0);
  // Anyone holding the disconnect makes "Bob's" ack again with a higher counter, MACed with each revealed key.
  const ctr = ack.ctr.slice();
  for (const key of keys) {
    ctr[7]! += 1;
    const r = a.conv.receive(v3Remac(be, ack, key, ctr));
    assert.equal(r.toUser, [], 'not accepted');
  }
  assert.is(a.conv.msgstate, 'encrypted');
  // The genuine ack is still readable (nothing was committed by the forgeries).
  assert.equal(a.conv.receive(armour(encodeMessage(ack))).toUser, ['ack']);
});

test.run();
