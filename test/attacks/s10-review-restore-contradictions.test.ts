/**
 * Attack (session 10 review): a conversation record edited by a hostile disk so that each field is well-formed
 * but the fields contradict each other — an encrypted instance without the peer's profile or SSID (SMP needs
 * both), a FINISHED instance that still holds a ratchet, `active` naming OTRv3 with no OTRv3 state, `current`
 * naming no instance, a sending chain missing where one is due. Held: every call on such a conversation
 * returns an outcome or throws a typed OtrError, and the record it writes afterwards restores again (pinned
 * here; the shape checks themselves are test/attacks/restore-records.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, OtrError } from '../../ts/index.js';
import { encodeConversationRecord } from '../../ts/session/records.js';
import type { StateValue } from '../../ts/session/state-codec.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { BOB_ID, ALICE_ID, establish, makePair, testClock } from '../helpers/session-pair.js';

type R = Record<string, StateValue>;

test('contradictory conversation records: every call is typed, and what is written restores', () => {
  const p = makePair(be, 1600);
  establish(p);
  p.a.send('one before');
  const state = p.a.toState() as R;
  const inst = (state.instances as R[])[0]!;
  const ratchet = inst.ratchet as R;
  const cases: Record<string, R> = {
    'no peer profile': { ...state, instances: [{ ...inst, peerProfile: null }] },
    'no SSID': { ...state, instances: [{ ...inst, ssid: null }] },
    'FINISHED with a ratchet': { ...state, instances: [{ ...inst, finished: true }] },
    'OTRv3 active without OTRv3 state': { ...state, active: 3 },
    'current names no instance': { ...state, current: 0x1234_5678 },
    'active 4 without instances': { ...state, instances: [] },
    'no sending chain, no step due': { ...state, instances: [{ ...inst, ratchet: { ...ratchet, sendChain: null, sendingStepDue: false } }] },
    'a step due, our ECDH secret gone': { ...state, instances: [{ ...inst, ratchet: { ...ratchet, sendingStepDue: true, ourEcdh: { secret: null, public: (ratchet.ourEcdh as R).public! } } }] },
  };
  // Bob's messages, made once (his state moves on as he sends): a data message and an SMP start.
  const fromBob = [p.b.send('from bob').toSend[0]!, ...p.b.startSmp('secret', 'q?').toSend];
  const calls: [string, (c: ReturnType<Account['conversation']>) => unknown][] = [
    ['send', (c) => c.send('hello')],
    ['send to all', (c) => c.send('hello', { instance: 'all' })],
    ['receive', (c) => fromBob.map((m) => c.receive(m))],
    ['startSmp', (c) => c.startSmp('secret', 'q?')],
    ['answerSmp', (c) => c.answerSmp('secret')],
    ['abortSmp', (c) => c.abortSmp()],
    ['poll', (c) => c.poll()],
    ['end', (c) => c.end()],
    ['state getters', (c) => [c.state, c.devices, c.fingerprints, c.instanceTags, c.currentInstance]],
  ];
  for (const [label, st] of Object.entries(cases)) {
    for (const [call, run] of calls) {
      const alice = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(11), clock: testClock(), dsaKey: null, instanceTag: p.alice.instanceTag });
      alice.attachRecord({ key: `conv:${BOB_ID}`, generation: 3, bytes: encodeConversationRecord(BOB_ID, st) });
      const conv = alice.conversation(BOB_ID);
      try {
        run(conv);
      } catch (e) {
        assert.instance(e, OtrError, `${label} / ${call}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      }
      const again = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(12), clock: testClock(), dsaKey: null, instanceTag: p.alice.instanceTag });
      again.attachRecord({ key: `conv:${BOB_ID}`, generation: 4, bytes: encodeConversationRecord(BOB_ID, conv.toState()) });
      assert.ok(typeof again.conversation(BOB_ID).state === 'string', `${label} / ${call}: what was written restores`);
    }
  }
});

test.run();
