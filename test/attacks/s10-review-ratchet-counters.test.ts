/**
 * Attack (session 10 review): the ratchet's counters at their bound. i, j, k and pn travel as 32-bit INTs and
 * a restore accepts no more (session/persist.ts). A hostile disk can hand restore a state at the bound, and a
 * peer that ignores the rules can send a message id at the bound; neither may make the ratchet go one step
 * further and persist a state no restore accepts.
 *
 * Found: a conversation record with j = 2^32 − 1 restored, sent once (message id 2^32 − 1), and was then
 * written with j = 2^32: the next load refused the record ("ratchet.j must be an integer in [0, 4294967295]"),
 * the session lost. The same held for i (one ratchet more) and for k (a message id of 2^32 − 1 on the
 * receiving chain). Now each such transition is refused (LIMIT_EXCEEDED) before any work, the state unchanged.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, OtrError } from '../../ts/index.js';
import { encodeConversationRecord } from '../../ts/session/records.js';
import type { StateValue } from '../../ts/session/state-codec.js';
import { OtrLimitError } from '../../ts/errors.js';
import { decodeDataMessage, draftDataMessageSized } from '../../ts/wire/data.js';
import {
  cloneRatchetState,
  decryptDataMessage,
  encryptDataMessage,
  isDhStep,
  MAX_RATCHET_COUNTER,
  nextChainKey,
  sealMessage,
  sendingRatchetId,
  type RatchetState,
} from '../../ts/ratchet/index.js';
import { ratchetToValue } from '../../ts/session/persist.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { seededRatchetPair } from '../helpers/ratchet-pair.js';
import { ALICE_ID, BOB_ID, establish, makePair, testClock } from '../helpers/session-pair.js';

const NOW = 1_700_000_000_000;
const KEY = `conv:${BOB_ID}`;
const state = (s: RatchetState) => JSON.stringify(ratchetToValue(s), (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));

/** Alice's established conversation record with every ratchet field `edit` changes. */
function editedRecord(edit: Record<string, StateValue>): Uint8Array {
  const p = makePair(be, 1100);
  establish(p);
  p.a.send('one before');
  const s = p.a.toState() as Record<string, StateValue>;
  const instances = (s.instances as Record<string, StateValue>[]).map((i) => ({ ...i, ratchet: { ...(i.ratchet as Record<string, StateValue>), ...edit } }));
  return encodeConversationRecord(BOB_ID, { ...s, instances });
}

function load(bytes: Uint8Array) {
  const alice = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(11), clock: testClock(), dsaKey: null });
  alice.attachRecord({ key: KEY, generation: 3, bytes });
  return alice.conversation(BOB_ID);
}

test('a restored sending chain at its last message id: send is refused typed, and the record stays restorable', () => {
  const conv = load(editedRecord({ j: MAX_RATCHET_COUNTER }));
  assert.is(conv.state, 'ENCRYPTED_MESSAGES');
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      conv.send(`hello ${attempt}`);
      assert.unreachable('a message sent from j = 2^32 - 1');
    } catch (e) {
      assert.instance(e, OtrError);
      assert.is((e as OtrError).code, 'LIMIT_EXCEEDED');
    }
  }
  // What would be persisted now loads again (before the fix: j = 2^32, refused).
  assert.is(load(encodeConversationRecord(BOB_ID, conv.toState())).state, 'ENCRYPTED_MESSAGES');
});

test('one below the bound: the last message id is sent, and the state after it is still restorable', () => {
  const conv = load(editedRecord({ j: MAX_RATCHET_COUNTER - 1 }));
  assert.is(conv.send('the last one').toSend.length, 1);
  assert.is(load(encodeConversationRecord(BOB_ID, conv.toState())).state, 'ENCRYPTED_MESSAGES');
});

/** A message on `sender`'s current sending chain with any message id (sealed with that id's real key). */
function onChain(sender: RatchetState, messageId: number, tags: { sender: number; receiver: number }): Uint8Array {
  let chain: Uint8Array = sender.sendChain!.slice();
  for (let n = sender.j; n < messageId; n++) chain = nextChainKey(be, chain);
  const ratchetId = sendingRatchetId(sender);
  const plaintext = new TextEncoder().encode('past the bound');
  const draft = draftDataMessageSized({
    senderTag: tags.sender,
    receiverTag: tags.receiver,
    flags: 0,
    previousChainLength: sender.pn,
    ratchetId,
    messageId,
    ecdh: sender.ourEcdh.public,
    dh: isDhStep(ratchetId) ? sender.ourDh.public : new Uint8Array(0),
    revealedMacs: new Uint8Array(0),
  }, plaintext.length);
  const sealed = sealMessage(be, chain, draft.authenticated, plaintext);
  return draft.seal(sealed.authenticator).slice();
}

test('a genuine message with id 2^32 - 1 on the receiving chain is refused typed; the one before it is read', () => {
  const { alice, bob } = seededRatchetPair(be, 1110);
  const tags = { sender: 0x101, receiver: 0x202 };
  // Alice sends first; Bob receives on her chain. Both move next to the bound (a restored pair of states).
  const first = encryptDataMessage(be, seededRandom(1), alice, new Uint8Array(1), { senderTag: tags.sender, receiverTag: tags.receiver });
  let bobState = decryptDataMessage(be, bob, decodeDataMessage(first.message.slice()), { now: NOW }).state;
  // The chain keys do not depend on the ids: both sides' ids are moved by the same amount, keys unchanged.
  const aliceNear: RatchetState = { ...cloneRatchetState(first.state), j: MAX_RATCHET_COUNTER - 2 };
  bobState = { ...bobState, k: MAX_RATCHET_COUNTER - 2 };
  const ok = decryptDataMessage(be, cloneRatchetState(bobState), decodeDataMessage(onChain(aliceNear, MAX_RATCHET_COUNTER - 1, tags)), { now: NOW });
  assert.is(ok.state.k, MAX_RATCHET_COUNTER, 'the last id is read; k at the bound');
  const before = state(ok.state);
  try {
    decryptDataMessage(be, ok.state, decodeDataMessage(onChain(aliceNear, MAX_RATCHET_COUNTER, tags)), { now: NOW });
    assert.unreachable('k would become 2^32');
  } catch (e) {
    assert.instance(e, OtrLimitError);
  }
  assert.is(state(ok.state), before, 'the state is unchanged');
});

test('a new ratchet received at i = 2^32 - 1 is refused typed', () => {
  const { alice, bob } = seededRatchetPair(be, 1120);
  const tags = { sender: 0x101, receiver: 0x202 };
  const first = encryptDataMessage(be, seededRandom(1), alice, new Uint8Array(1), { senderTag: tags.sender, receiverTag: tags.receiver });
  const bobAfter = decryptDataMessage(be, bob, decodeDataMessage(first.message.slice()), { now: NOW }).state;
  // Bob answers (his sending step), so Alice's next new ratchet is due: here her reply at Bob's i = the bound.
  const reply = encryptDataMessage(be, seededRandom(2), bobAfter, new Uint8Array(1), { senderTag: tags.receiver, receiverTag: tags.sender });
  const aliceAfter = decryptDataMessage(be, first.state, decodeDataMessage(reply.message.slice()), { now: NOW }).state;
  const answer = encryptDataMessage(be, seededRandom(3), aliceAfter, new Uint8Array(1), { senderTag: tags.sender, receiverTag: tags.receiver });
  const msg = decodeDataMessage(answer.message.slice());
  const atBound: RatchetState = { ...cloneRatchetState(reply.state), i: MAX_RATCHET_COUNTER };
  // 2^32 - 1 is a multiple of 3: a DH ratchet id, so the message carries a DH key (Alice's) to pass the decoder's rule.
  const forged = { ...msg, ratchetId: MAX_RATCHET_COUNTER, dh: aliceAfter.ourDh.public };
  try {
    decryptDataMessage(be, atBound, forged, { now: NOW });
    assert.unreachable('i would become 2^32');
  } catch (e) {
    assert.instance(e, OtrLimitError);
  }
  // Below the bound the same state reads Alice's genuine new ratchet.
  const read = decryptDataMessage(be, reply.state, msg, { now: NOW });
  assert.is(read.source, 'new-ratchet');
});

test.run();
