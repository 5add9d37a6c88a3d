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
import { seededRandom } from '../helpers/rng.js';
import { encryptedPair } from '../interop/v3-pair.js';
import { V3Conversation } from '../../ts/v3/index.js';
import { dhKeyPairV3 } from '../../ts/v3/group.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';

const be = WASM;

test("a peer that advances its D-H key on every message never makes our OTRv3 state unrestorable", () => {
  const { a, b } = encryptedPair(be);
  const rnd = seededRandom(77);
  const n = DEFAULT_LIMITS.maxMacKeysToReveal + 20;
  for (let i = 0; i < n; i++) {
    for (const m of a.conv.send(`m${i}`).toSend) b.conv.receive(m);
    // Hostile Alice: rotates her own key as if Bob had acknowledged it, so her next message advances his view.
    // (The conversation copies its state on every call: the key state is fetched anew.)
    const keys = a.conv.state.keys!;
    keys.ourPrev = keys.ourCur;
    keys.ourCur = dhKeyPairV3(be, rnd);
    keys.ourKeyid++;
  }
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

test.run();
