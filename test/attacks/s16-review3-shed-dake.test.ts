/**
 * Attack (session 16, [s16-review3]): shedding's last resort ends the conversation's sessions. What may
 * come before it must, notably a DAKE of ours in progress (an Identity awaiting Auth-R): a query message
 * needs no key — anyone who can put a line in the conversation (a hostile server, a forged sender) sends one
 * — and our answer holds a DAKE state of ~2 KB. With a record near its bound, shedding went from the queue
 * straight past it to ending the established, authenticated session (`finished`, reason `state-limit`).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { OtrEvent, Outcome } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { ALICE_ID, establish, makePair } from '../helpers/session-pair.js';
import { seededRandom } from '../helpers/rng.js';
import { testDsaKey } from '../interop/v3-pair.js';
import { V3Conversation } from '../../ts/v3/index.js';
import { v3SessionPair } from '../helpers/v3-session.js';

const be = WASM;
const convChange = (out: Outcome, peer: string) => out.changed?.find((c) => c.key === `conv:${peer}`);
const trimmedWhat = (events: readonly OtrEvent[]) => events.flatMap((e) => (e.type === 'state-trimmed' ? [e.what] : []));

/** A pair whose Bob bounds his record at his established session's size plus `room`. */
function tight(seed: number, room: number) {
  const probe = makePair(be, seed);
  establish(probe);
  const max = convChange(probe.b.send('x'), ALICE_ID)!.bytes!.length + room;
  const p = makePair(be, seed, { limits: { maxConversationStateBytes: max } });
  establish(p);
  return { p, max };
}

for (const query of ['?OTRv4?', '?OTRv43?']) {
  test(`a forged query (${query}) into an established conversation near its bound: our DAKE is shed, not the session`, () => {
    const { p, max } = tight(16_311, 1000);
    const got = p.b.receive(query);
    assert.not.ok(got.events.some((e) => e.type === 'finished'), JSON.stringify(got.events));
    assert.ok(trimmedWhat(got.events).includes('pending-dake'), trimmedWhat(got.events).join());
    assert.ok((convChange(got, ALICE_ID)?.bytes?.length ?? 0) <= max);
    assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
    // The session still carries messages both ways.
    assert.equal(p.a.receive(p.b.send('still here').toSend[0]!).messages.map((m) => m.text), ['still here']);
    assert.equal(p.b.receive(p.a.send('and here').toSend[0]!).messages.map((m) => m.text), ['and here']);
  });
}

test('(pin) a bound with room for the DAKE: the refresh completes, nothing shed', () => {
  const { p } = tight(16_312, 6000);
  const got = p.b.receive(p.a.start().toSend[0]!);
  assert.equal(trimmedWhat(got.events), []);
  assert.ok(got.toSend.length > 0, 'Bob answers the query with an Identity');
});


test('OTRv3: a forged D-H Commit (another key, another instance) near the bound: its AKE is shed, not the session', () => {
  const probe = v3SessionPair(16_313, {});
  const base = convChange(probe.conv.send('x'), 'bob')!.bytes!.length;
  const max = base + 300;
  const { now, conv, bob } = v3SessionPair(16_313, { maxConversationStateBytes: max });
  const forger = new V3Conversation({ backend: be, dsaKey: testDsaKey(0xbad), instanceTag: 0x12345, random: seededRandom(16_314), now });
  for (const m of forger.startAke().toSend) {
    const got = conv.receive(m);
    assert.not.ok(got.events.some((e) => e.type === 'finished'), JSON.stringify(got.events));
    assert.ok(trimmedWhat(got.events).includes('pending-dake'), trimmedWhat(got.events).join());
    assert.ok((convChange(got, 'bob')?.bytes?.length ?? 0) <= max);
  }
  assert.is(conv.state, 'ENCRYPTED_MESSAGES');
  assert.equal(conv.send('still here').toSend.flatMap((m) => bob.receive(m).toUser), ['still here']);
});

test.run();
