/**
 * Attack: a hostile conversation record attached to an account (a row edited on disk, or written by another
 * program) while the host saves the whole account with `serialize()`. Before the fix serialize() decoded every
 * attached (dormant) record and threw on the first that did not decode: one bad record blocked saving every
 * good conversation. Now attached records travel as the bytes they are, undecoded: serialize() never throws
 * for them, restore() accepts what serialize() wrote, the good conversations (live and attached) come back
 * whole, and the hostile record is still refused, typed, on use — with its generation, so a restored copy
 * cannot overwrite it in the store either. Only when the account would not fit in limits.maxStateBytes is a
 * record that can never be used (it does not decode into a conversation) left out of the bytes (the store
 * keeps it); a good one is never left out.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, OtrError, OtrLimitError } from '../../ts/index.js';
import { encodeConversationRecord } from '../../ts/session/records.js';
import type { StateValue } from '../../ts/session/state-codec.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { BOB_ID, establish, makePair, pump, type Pair } from '../helpers/session-pair.js';

const CAROL = 'carol@example.net'; // the hostile record
const DAVE = 'dave@example.net'; // a good attached record

function hostile(real: StateValue): Record<string, Uint8Array> {
  const realBytes = encodeConversationRecord(CAROL, real);
  const shape = (state: StateValue) => encodeConversationRecord(CAROL, state);
  return {
    garbage: seededRandom(7)(4096),
    truncated: realBytes.subarray(0, realBytes.length >> 1),
    'another peer': encodeConversationRecord('mallory@example.net', real),
    'state is a string': shape('hello'),
    'instances is a number': shape({ ...(real as Record<string, StateValue>), instances: 5 }),
  };
}

/** Alice with a live session with Bob, a good attached record (Dave) and `bad` attached as Carol's. */
function setup(bad: Uint8Array, seed = 900): { p: Pair; alice: Account } {
  const p = makePair(be, seed);
  establish(p);
  const other = makePair(be, seed + 10);
  establish(other);
  const alice = p.alice;
  alice.attachRecord({ key: `conv:${DAVE}`, generation: 4, bytes: encodeConversationRecord(DAVE, other.a.toState()) });
  alice.attachRecord({ key: `conv:${CAROL}`, generation: 7, bytes: bad });
  return { p, alice };
}

function restoreAs(p: Pair, bytes: Uint8Array): Account {
  return Account.restore(bytes, { backend: be, random: seededRandom(99), clock: p.clock });
}

test('serialize() with a hostile attached record: saves everything, restores, the good conversations work, the bad one is still refused', () => {
  const real = makePair(be, 950);
  establish(real);
  for (const [label, bad] of Object.entries(hostile(real.a.toState()))) {
    const { p, alice } = setup(bad);
    let bytes: Uint8Array;
    try {
      bytes = alice.serialize();
    } catch (e) {
      assert.unreachable(`${label}: serialize() threw ${(e as Error).name}: ${(e as Error).message}`);
      return;
    }
    const back = restoreAs(p, bytes);
    assert.equal(back.peers.sort(), [BOB_ID, CAROL, DAVE].sort(), `${label}: peers`);
    // The live session goes on, both ways.
    const bobConv = back.conversation(BOB_ID);
    assert.is(bobConv.state, 'ENCRYPTED_MESSAGES', label);
    const log = pump(bobConv, p.b, bobConv.send(`after restore (${label})`));
    assert.equal(log.b.flatMap((o) => o.messages.map((m) => m.text)), [`after restore (${label})`], label);
    // The good attached record decodes.
    assert.is(back.conversation(DAVE).state, 'ENCRYPTED_MESSAGES', `${label}: Dave`);
    // The hostile one is refused on use, as before serialize(), and keeps its generation.
    assert.is(back.recordGeneration(`conv:${CAROL}`), 7, `${label}: generation`);
    assert.throws(() => back.conversation(CAROL), (e: unknown) => e instanceof OtrError, `${label}: accepted`);
    // And the restored account serializes again to a copy that restores.
    restoreAs(p, back.serialize());
  }
});

test('over maxStateBytes, a record that can never be used is left out (the store keeps it); a good one never is', () => {
  const limits = { maxStateBytes: 256 * 1024 };
  const p = makePair(be, 960, { limits });
  establish(p);
  const other = makePair(be, 970);
  establish(other);
  const alice = p.alice;
  const good = encodeConversationRecord(DAVE, other.a.toState());
  alice.attachRecord({ key: `conv:${DAVE}`, generation: 4, bytes: good });
  // Garbage that alone fills the account's limit.
  alice.attachRecord({ key: `conv:${CAROL}`, generation: 7, bytes: seededRandom(8)(limits.maxStateBytes - 1000) });
  const bytes = alice.serialize();
  assert.ok(bytes.length <= limits.maxStateBytes);
  const back = Account.restore(bytes, { backend: be, random: seededRandom(99), clock: p.clock, limits });
  assert.equal(back.peers.sort(), [BOB_ID, DAVE].sort());
  assert.is(back.conversation(DAVE).state, 'ENCRYPTED_MESSAGES');
  assert.is(back.recordGeneration(`conv:${CAROL}`), 0, 'no generation: a fresh conversation there cannot overwrite the stored record (CONFLICT)');
  // Good records that do not fit are not dropped: serialize() refuses instead.
  const q = makePair(be, 980, { limits });
  establish(q);
  const state = other.a.toState() as Record<string, StateValue>;
  for (let i = 0; i < 8; i++) q.alice.attachRecord({ key: `conv:peer${i}@example.net`, generation: 1, bytes: encodeConversationRecord(`peer${i}@example.net`, { ...state }) });
  const big = encodeConversationRecord('big@example.net', { ...state });
  assert.ok(big.length * 8 < limits.maxStateBytes, 'test premise: these fit');
  q.alice.serialize();
  for (let i = 8; i < 200; i++) q.alice.attachRecord({ key: `conv:peer${i}@example.net`, generation: 1, bytes: encodeConversationRecord(`peer${i}@example.net`, { ...state }) });
  assert.throws(() => q.alice.serialize(), (e: unknown) => e instanceof OtrLimitError);
  assert.ok(DEFAULT_LIMITS.maxStateBytes > limits.maxStateBytes);
});

test.run();
