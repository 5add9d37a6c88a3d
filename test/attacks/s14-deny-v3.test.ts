/**
 * Attack (session 14, deniability audit): OTRv3 reveals a receiving MAC key once its key pair is retired
 * (libotr's way: the key goes on the list the next data message carries). The list was unbounded: a peer
 * that advances its D-H key with every message (any authenticated peer can: the next key is its own choice)
 * while we never answer made it grow by one key per message, and past limits.maxMacKeysToReveal the state
 * we serialised was one restore refuses — the conversation lost at the next restart. Now the list keeps the
 * newest maxMacKeysToReveal keys (as OTRv4's queue does: the oldest are dropped unrevealed, which makes those
 * messages less forgeable, never less secure), and the honest path still reveals every retired key.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { encryptedPair, pump, rotatingOneWay } from '../interop/v3-pair.js';
import { dearmour } from '../../ts/codec/armour.js';
import { hmacSha1 } from '../../ts/v3/crypto.js';
import { type DataMsg, decodeMessage } from '../../ts/v3/messages.js';
import { V3Conversation } from '../../ts/v3/index.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';

const be = WASM;

test("a peer that advances its D-H key on every message never makes our OTRv3 state unrestorable", () => {
  const { a, b } = encryptedPair(be);
  const n = DEFAULT_LIMITS.maxMacKeysToReveal + 20;
  rotatingOneWay(be, a.conv, b.conv, n, 77);
  assert.is(b.conv.state.keys!.theirKeyid, n + 1, 'every message advanced his view of her key');
  const restored = V3Conversation.restore(b.opts, b.conv.serialize());
  assert.is(restored.msgstate, 'encrypted');
  const held = b.conv.state.keys!.pendingReveal.length / 20;
  assert.ok(held <= DEFAULT_LIMITS.maxMacKeysToReveal, `${held} MAC keys pending`);
  // What is held is the newest keys: his next message reveals them.
  const out = b.conv.send('hello').toSend;
  assert.is(out.length, 1);
  assert.is(b.conv.state.keys!.pendingReveal.length, 0);
});

const data = (wire: string): DataMsg => decodeMessage(dearmour(wire)) as DataMsg;

/** Whether one of the 20-byte keys `sent` messages reveal authenticates `m`. */
function revealedIn(sent: readonly string[], m: DataMsg): boolean {
  for (const w of sent) {
    const keys = data(w).oldMacKeys;
    for (let o = 0; o < keys.length; o += 20)
      if (hmacSha1(be, keys.subarray(o, o + 20), m.authenticated).subarray(0, 20).every((x, i) => x === m.mac[i])) return true;
  }
  return false;
}

test('an AKE that refreshes an OTRv3 session keeps the MAC keys waiting to be revealed (libotr keeps its saved list)', () => {
  const { a, b } = encryptedPair(be);
  const m1 = a.conv.send('one').toSend[0]!;
  pump(a, b, [m1]);
  pump(b, a, b.conv.send('ack').toSend);
  // Alice's answer is under Bob's newest key: Bob retires the pair he read m1 with, its MAC key now pending.
  pump(a, b, a.conv.send('two').toSend);
  assert.ok(b.conv.state.keys!.pendingReveal.length > 0);
  // A new AKE (Alice asks again) replaces the keys of the session.
  pump(a, b, a.conv.start().toSend);
  assert.is(b.conv.msgstate, 'encrypted');
  const sent = [...b.conv.send('after').toSend, ...b.conv.end().toSend];
  assert.ok(revealedIn(sent, data(m1)), "m1's MAC key is revealed after the refresh");
});

test.run();
