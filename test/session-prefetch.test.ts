/**
 * Conversation.prefetch (docs/stores.md, "session 12: the save's cold path"): every recorded call first reads
 * the conversation's state ahead in one pass of independent loads. It must work on a conversation in any state
 * — no instance, a DAKE under way, an encrypted session on either side of a message, SMP under way, a session
 * the peer ended or we ended — and change nothing: it reads, and the state encodes as before.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM as be } from './helpers/backends.js';
import { Account } from '../ts/session/account.js';
import type { Conversation } from '../ts/session/conversation.js';
import { encodeState } from '../ts/session/state-codec.js';
import { equalBytes } from '../ts/bytes.js';
import { seededRandom } from './helpers/rng.js';
import { pump } from './helpers/session-pair.js';

const NOW = 1_750_000_000_000;
const clock = () => NOW;

function account(id: string, seed: number): Account {
  return Account.create({ accountId: id, backend: be, clock, dsaKey: null, random: seededRandom(seed) });
}

/** prefetch on `c`: a finite number, and the conversation's state (as encoded) the same before and after. */
function prefetchChangesNothing(c: Conversation, what: string): void {
  const before = encodeState('conversation', c.toState());
  const n = c.prefetch();
  assert.type(n, 'number', what);
  assert.ok(Number.isFinite(n), what);
  assert.ok(equalBytes(encodeState('conversation', c.toState()), before), `${what}: state unchanged`);
}

test('prefetch reads a conversation in every state and changes nothing', () => {
  const a = account('alice@x', 11);
  const b = account('bob@x', 12);
  const ab = a.conversation('bob@x');
  const ba = b.conversation('alice@x');
  prefetchChangesNothing(ab, 'fresh');
  const start = ab.start();
  prefetchChangesNothing(ab, 'query sent');
  // One step at a time, so that each DAKE state is seen.
  let toB = start.toSend;
  let toA: string[] = [];
  for (let step = 0; step < 6 && (toB.length > 0 || toA.length > 0); step++) {
    toA = toB.flatMap((m) => ba.receive(m).toSend);
    prefetchChangesNothing(ba, `bob after step ${step}`);
    toB = toA.flatMap((m) => ab.receive(m).toSend);
    prefetchChangesNothing(ab, `alice after step ${step}`);
  }
  assert.is(ab.state, 'ENCRYPTED_MESSAGES');
  for (let i = 0; i < 3; i++) {
    const out = ab.send(`hello ${i}`);
    prefetchChangesNothing(ab, 'after sending (unconfirmed messages kept)');
    for (const m of out.toSend) ba.receive(m);
    prefetchChangesNothing(ba, 'after receiving (our ECDH secret gone)');
  }
  pump(ba, ab, ba.send('back'));
  prefetchChangesNothing(ab, 'after a ratchet step both ways');
  const smp = ab.startSmp('secret', 'q?');
  prefetchChangesNothing(ab, 'SMP under way');
  for (const m of smp.toSend) ba.receive(m);
  prefetchChangesNothing(ba, 'SMP asked');
  const end = ba.end();
  prefetchChangesNothing(ba, 'we ended');
  for (const m of end.toSend) ab.receive(m);
  prefetchChangesNothing(ab, 'the peer ended');
});

test.run();
