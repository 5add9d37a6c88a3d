/**
 * Attack (session 12 review, hostile disk): the generations a whole-account state carries (serialize(), so a
 * restored copy commits where it left off) were set for whatever keys they named. A generation for a key that
 * is no conversation of the state (a peer it does not hold, a key that names no conversation at all) counted
 * as a conversation record against limits.maxAccountConversations that nothing could ever evict: a state with
 * a few such entries restored into an account "over its bound" for good, and a stranger's first plaintext then
 * evicted the user's contact (the only record it could take). serialize() never writes such an entry (only the
 * account's and those of the conversations it holds): restore now refuses one, typed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { OtrDecodeError } from '../../ts/errors.js';
import { decodeState, encodeState, type StateValue } from '../../ts/session/state-codec.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, testClock } from '../helpers/session-pair.js';

const CAROL = 'carol@example.org';
const limits = { maxAccountConversations: 8 };

/** Alice's state with a session with Carol (Alice wrote to her: a contact), generations and all. */
function aliceState(clock: ReturnType<typeof testClock>): Uint8Array {
  const alice = Account.create({ accountId: ALICE_ID, backend: be, clock, dsaKey: null, limits, random: seededRandom(1280) });
  const carol = Account.create({ accountId: CAROL, backend: be, clock, dsaKey: null, random: seededRandom(1281) }).conversation(ALICE_ID);
  let toCarol = alice.conversation(CAROL).start().toSend;
  while (toCarol.length > 0) toCarol = toCarol.flatMap((m) => carol.receive(m).toSend).flatMap((m) => alice.conversation(CAROL).receive(m).toSend);
  alice.conversation(CAROL).send('hello Carol');
  alice.changes();
  return alice.serialize();
}

function withGenerations(bytes: Uint8Array, extra: { key: string; generation: number }[]): Uint8Array {
  const v = decodeState('account', bytes) as Record<string, StateValue>;
  return encodeState('account', { ...v, generations: [...(v.generations as StateValue[]), ...extra] });
}

test('the state as written restores, and a stranger does not evict the contact (the harness can tell)', () => {
  const clock = testClock();
  const alice = Account.restore(aliceState(clock), { backend: be, clock, limits, random: seededRandom(1282) });
  const out = alice.conversation('stranger@evil.example').receive('buy now');
  assert.is(out.events.filter((e) => e.type === 'conversation-evicted').length, 0);
});

for (const [name, ghosts] of [
  ['peers the state does not hold', Array.from({ length: 12 }, (_, k) => ({ key: `conv:ghost-${k}@evil.example`, generation: 3 }))],
  ['keys that name no conversation', Array.from({ length: 12 }, (_, k) => ({ key: `other:${k}`, generation: 1 }))],
] as const) {
  test(`generations for ${name} are refused, typed (before: counted for good, and the contact evicted by a stranger)`, () => {
    const clock = testClock();
    const state = withGenerations(aliceState(clock), [...ghosts]);
    let alice: Account;
    try {
      alice = Account.restore(state, { backend: be, clock, limits, random: seededRandom(1283) });
    } catch (e) {
      assert.instance(e, OtrDecodeError);
      return;
    }
    const out = alice.conversation('stranger@evil.example').receive('buy now');
    const evicted = out.events.filter((e) => e.type === 'conversation-evicted').map((e) => (e as { peer: string }).peer);
    assert.unreachable(`restored with ${ghosts.length} ghost generations; a stranger's plaintext evicted ${evicted.join(', ') || 'nothing'}`);
  });
}

test.run();
