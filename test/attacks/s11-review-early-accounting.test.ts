/**
 * Pin (session 11 review): the account's early-data budget (ts/shared-budget.ts, maxAccountEarlyDataBytes)
 * counts exactly what the instances of its conversations hold, through every way early data goes: aged out,
 * pushed out by the instance's own bound or by another instance's need for room, read after Auth-I, dropped
 * with a DAKE that a new Identity replaced, expired or evicted (maxAccountPendingDakes), and with a
 * conversation forgotten. Seeded random steps by six strangers; after each, the budget's total is the sum
 * over every live conversation's instances of bytes + EARLY_MESSAGE_COST per message.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import type { Conversation } from '../../ts/session/conversation.js';
import { armour } from '../../ts/codec/armour.js';
import { EARLY_MESSAGE_COST } from '../../ts/shared-budget.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, testClock } from '../helpers/session-pair.js';

const limits = { maxEarlyDataBytes: 5_000, maxAccountEarlyDataBytes: 12_000, maxAccountPendingDakes: 4, pendingDakeExpiryMs: 15 * 60_000 };

/** A data-message-typed blob from `sender` to `receiver` (kept raw while a DAKE awaits Auth-I). */
function fakeData(sender: number, receiver: number, size: number): string {
  const m = new Uint8Array(Math.max(size, 11)).fill(0x5a);
  m.set([0x00, 0x04, 0x03, sender >>> 24, sender >>> 16, sender >>> 8, sender, receiver >>> 24, receiver >>> 16, receiver >>> 8, receiver], 0);
  return armour(m);
}

/** What the budget should count for `c`: its instances' early bytes and each message's record. */
function cost(c: Conversation): number {
  let n = 0;
  for (const i of (c as unknown as { instances: Map<number, { early: unknown[]; earlyBytes: number }> }).instances.values()) n += i.earlyBytes + i.early.length * EARLY_MESSAGE_COST;
  return n;
}

test('random early data, DAKEs, completions, expiry, eviction and forgetting: the budget counts what is held', () => {
  const clock = testClock();
  const rnd = seededRandom(2900);
  const byte = () => rnd(1)[0]!;
  const alice = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(2901), clock, dsaKey: null, limits });
  const strangers = Array.from({ length: 6 }, (_, k) => {
    const id = `s${k}@evil.example.net`;
    const account = Account.create({ accountId: id, backend: be, random: seededRandom(2910 + k), clock, dsaKey: null, limits });
    return { id, account, conv: account.conversation(ALICE_ID), authR: undefined as string | undefined };
  });
  let held = 0;
  let completed = 0;
  const seen = new Set<string>();
  const note = <T extends { events: readonly { type: string }[] }>(o: T): T => {
    for (const e of o.events) seen.add(e.type);
    return o;
  };
  for (let step = 0; step < 400; step++) {
    const s = strangers[byte() % strangers.length]!;
    const r = byte();
    if (r < 60) {
      const out = note(alice.conversation(s.id).receive(s.conv.startDake().toSend[0]!));
      s.authR = out.toSend[0];
    } else if (r < 200) {
      note(alice.conversation(s.id).receive(fakeData(s.account.instanceTag, alice.instanceTag, (byte() << 4) | byte())));
    } else if (r < 220 && s.authR) {
      const authI = s.conv.receive(s.authR).toSend[0];
      s.authR = undefined;
      if (authI && note(alice.conversation(s.id).receive(authI)).events.some((e) => e.type === 'encrypted')) completed++;
    } else if (r < 250) {
      clock.advance((byte() % 8) * 60_000);
    } else {
      alice.forget(s.id);
      s.authR = undefined;
    }
    clock.advance(300);
    const sum = alice.peers.reduce((n, p) => n + cost(alice.conversation(p)), 0);
    assert.is(alice.earlyDataBudget.heldTotal, sum, `step ${step}: the budget counts what the instances hold`);
    held = Math.max(held, sum);
  }
  assert.ok(held > limits.maxEarlyDataBytes, `the run held early data across instances (peak ${held})`);
  assert.ok(completed > 0, 'some DAKEs completed, reading their early data');
  for (const kind of ['dakes-evicted', 'dake-expired', 'encrypted']) assert.ok(seen.has(kind), `the run saw ${kind} (${[...seen].join(', ')})`);
});

test.run();
