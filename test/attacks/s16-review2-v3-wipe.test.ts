/**
 * Attack (session 16 review, around s16-v3deny: a host's forget() or unload(), then anything that reads the
 * process's memory — a core dump, a swapped page, a heap snapshot). Conversation.wipeAll, documented to wipe every
 * key the conversation holds, dropped the OTRv3 conversation without wiping it: each session's AES and MAC keys,
 * our DH private keys, an AKE's secrets, and the MAC keys kept since the peer's disconnect (s16-v3deny) stayed in
 * memory until the collector reused it. The same when the account dropped a stranger's OTRv3 AKE for its pending-
 * DAKE bound. Now the OTRv3 state is wiped there too (V3Conversation.wipe).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { makeV34Pair, mallory, pumpV3 } from './attacker.js';
import type { Conversation } from '../../ts/session/conversation.js';
import type { V3Conversation } from '../../ts/v3/index.js';

const zero = (b: Uint8Array) => b.every((x) => x === 0);
const v3Of = (c: Conversation) => (c as unknown as { v3conv: V3Conversation | null }).v3conv;

/** Every byte array in `v` (a V3Peer): the secrets among them. */
function buffers(v: unknown, out: Uint8Array[] = []): Uint8Array[] {
  if (v instanceof Uint8Array) out.push(v);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) buffers(x, out);
  return out;
}

test('forget(): the OTRv3 session keys and DH private keys are wiped', () => {
  const p = makeV34Pair(WASM, 16_2240);
  const m = mallory(WASM, p.clock);
  pumpV3(p.b, m, m.start().toSend);
  pumpV3(p.b, m, m.send('hello').toSend);
  const state = v3Of(p.b)!.peerState;
  const keys = state.instances[0]!.keys!;
  const secrets = [keys.ourCur.priv, keys.ourPrev.priv, ...keys.sessions.flatMap((s) => [s.keys.sendAes, s.keys.recvAes, s.keys.sendMac, s.keys.recvMac, s.keys.extraKey])];
  assert.ok(secrets.length > 2 && secrets.every((b) => !zero(b)), 'a live session');
  p.bob.forget('alice@example.org');
  assert.ok(secrets.every(zero), `${secrets.filter((b) => !zero(b)).length} of ${secrets.length} secrets left in memory`);
  assert.ok(buffers(state).every(zero), 'every byte array of the OTRv3 state');
});

test('unload(): the same (the record keeps them, the memory does not)', () => {
  const p = makeV34Pair(WASM, 16_2241);
  const m = mallory(WASM, p.clock);
  pumpV3(p.b, m, m.start().toSend);
  const state = v3Of(p.b)!.peerState;
  const all = buffers(state).filter((b) => !zero(b));
  assert.ok(all.length > 0);
  p.bob.changes();
  p.bob.unload('alice@example.org');
  assert.ok(all.every(zero), `${all.filter((b) => !zero(b)).length} of ${all.length} left in memory`);
});

test('forget() after the peer ended: the MAC keys kept for publication are wiped with the rest', () => {
  const p = makeV34Pair(WASM, 16_2242);
  const m = mallory(WASM, p.clock);
  pumpV3(p.b, m, m.start().toSend);
  pumpV3(p.b, m, m.send('one').toSend);
  pumpV3(p.b, m, m.end().toSend);
  const ended = v3Of(p.b)!.peerState.endedMacKeys!;
  assert.ok(ended.length > 0 && !zero(ended));
  p.bob.forget('alice@example.org');
  assert.ok(zero(ended));
});

test.run();
