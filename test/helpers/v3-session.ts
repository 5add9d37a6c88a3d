/**
 * An account's conversation in an OTRv3 session with a bare OTRv3 peer (V3Conversation): the attack tests of
 * the record bound's shedding (s16-shed, s16-review3) start from it. `limits` go to both sides.
 */
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { V3Conversation } from '../../ts/v3/index.js';
import type { Limits } from '../../ts/limits.js';
import { WASM } from './backends.js';
import { seededRandom } from './rng.js';
import { BOB_TAG, testDsaKey } from '../interop/v3-pair.js';

export function v3SessionPair(seed: number, limits: Partial<Limits>) {
  const now = () => 1_700_000_000_000;
  const alice = Account.create({ accountId: 'alice', backend: WASM, random: seededRandom(seed), clock: now, limits });
  const conv = alice.conversation('bob');
  const bob = new V3Conversation({ backend: WASM, dsaKey: testDsaKey(0xb0b), instanceTag: BOB_TAG, random: seededRandom(seed + 1), now, limits });
  let toBob = conv.start().toSend;
  for (let guard = 0; toBob.length > 0 && guard < 20; guard++) toBob = toBob.flatMap((m) => bob.receive(m).toSend).flatMap((m) => conv.receive(m).toSend);
  assert.is(conv.state, 'ENCRYPTED_MESSAGES');
  return { now, alice, conv, bob };
}
