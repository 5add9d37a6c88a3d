/**
 * Attack (session 16, a host's action: maxInstancesPerConversation raised, then lowered). A conversation record
 * holding more remote instances than the account's limit allows was refused at restore (OtrDecodeError, the
 * bound of attacks/s13-dos-restore-instances): with the whole-account bytes, every conversation of the account
 * was lost. Now a restore keeps the instances the live bound would keep — admit()'s ranking, one function shared
 * with it (instance-eviction.ts): no session first, then finished sessions, then the least recently keyed; never
 * the current one — wipes the others unread, tells the host with a `state-trimmed` event (`instances`) on the
 * first outcome, and the record is written again within the limit. Decoding stays bounded: the ranking reads
 * cheap fields only, so a hostile record of a thousand instances costs exactly the kept instances' checks
 * (counted on the backend: Ed448 point checks and Legendre symbols, never timed).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Conversation, type OtrEvent } from '../../ts/index.js';
import { decodeState, encodeState, type StateValue } from '../../ts/session/state-codec.js';
import { DEFAULT_LIMITS, type Limits } from '../../ts/limits.js';
import { WASM } from '../helpers/backends.js';
import { countingBackend, type Costs } from '../helpers/counting-backend.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, BOB_ID, establish, makePair, pump, testClock } from '../helpers/session-pair.js';

const counted = countingBackend(WASM);
const be = counted.backend;
const trims = (events: readonly OtrEvent[]) => events.filter((e) => e.type === 'state-trimmed');
const RECORD_KEY = `conv:${BOB_ID}`;

/** Alice talking to `devices` of Bob's clients in turn (each a DAKE she starts), a second between them. */
function aliceWithDevices(limits: Partial<Limits>, devices: number): { alice: Account; a: Conversation } {
  const clock = testClock();
  const common = { backend: be, clock, dsaKey: null };
  const alice = Account.create({ accountId: ALICE_ID, random: seededRandom(16_100), ...common, limits });
  const a = alice.conversation(BOB_ID);
  for (let d = 0; d < devices; d++) {
    const bob = Account.create({ accountId: BOB_ID, random: seededRandom(16_101 + d), ...common });
    clock.advance(1000);
    pump(a, bob.conversation(ALICE_ID), a.startDake());
  }
  return { alice, a };
}

function restoreUnder(bytes: Uint8Array, limits: Partial<Limits>): Account {
  try {
    return Account.restore(bytes, { backend: be, clock: testClock(1_800_000_000_000), limits });
  } catch (e) {
    assert.unreachable(`restore refused the library's own record: ${(e as Error).message}`);
    throw e;
  }
}

test('six sessions saved under maxInstancesPerConversation 8 restore under 3: the three the live bound keeps, the host told once, the record rewritten', () => {
  const { alice, a } = aliceWithDevices({ maxInstancesPerConversation: 8 }, 6);
  assert.is(a.instanceTags.length, 6);
  // The same DAKEs under the lower limit from the start: what the live bound (admit) leaves.
  const live = aliceWithDevices({ maxInstancesPerConversation: 3 }, 6).a;
  assert.is(live.instanceTags.length, 3);

  const restored = restoreUnder(alice.serialize(), { maxInstancesPerConversation: 3 });
  const conv = restored.conversation(BOB_ID);
  assert.equal([...conv.instanceTags].sort(), [...live.instanceTags].sort(), 'the instances admit() keeps');
  const first = conv.send('still here');
  assert.equal(trims(first.events), [{ type: 'state-trimmed', instance: 0, what: 'instances', count: 3 }]);
  assert.ok((first.changed ?? []).some((c) => c.key === RECORD_KEY && c.bytes !== null), 'the record is written again');
  assert.equal(trims(conv.send('again').events), [], 'told once');

  // Round trip: what it saves restores as it is, nothing trimmed again.
  const before = encodeState('conversation', conv.toState());
  const again = restoreUnder(restored.serialize(), { maxInstancesPerConversation: 3 });
  const conv2 = again.conversation(BOB_ID);
  assert.equal(conv2.instanceTags, conv.instanceTags);
  assert.equal(encodeState('conversation', conv2.toState()), before);
  assert.equal(trims(conv2.send('third').events), []);
});

// ---- records made by hand: the ranking, and the cost of a hostile record ------------------------------------------

interface Base {
  account: Uint8Array;
  conv: { peer: StateValue; state: Record<string, StateValue> };
  /** The one instance of the record: a session. */
  session: Record<string, StateValue>;
}

/** Alice's account record and her record of a session with Bob. */
function base(): Base {
  const p = makePair(be, 16_200);
  establish(p);
  const records = p.alice.records();
  const conv = decodeState('conversation', records.find((r) => r.key === RECORD_KEY)!.bytes) as Base['conv'];
  return { account: records.find((r) => r.key === 'account')!.bytes, conv, session: (conv.state.instances as StateValue[])[0] as Record<string, StateValue> };
}

type Kind = { tag: number } & ({ kind: 'none' } | { kind: 'finished' } | { kind: 'session'; keyedAt: number });

/** An instance value of `kind` under tag `tag`, cloned from the base's session. */
function instance(b: Base, k: Kind): StateValue {
  const s = b.session;
  if (k.kind === 'none') return { ...s, peerTag: k.tag, ratchet: null, dake: { kind: 'idle' }, finished: false };
  if (k.kind === 'finished') return { ...s, peerTag: k.tag, finished: true };
  return { ...s, peerTag: k.tag, lastKeyAt: k.keyedAt };
}

function record(b: Base, kinds: readonly Kind[], current: number): Uint8Array {
  const state = { ...b.conv.state, instances: kinds.map((k) => instance(b, k)), current };
  return encodeState('conversation', { ...b.conv, state } as StateValue);
}

function load(b: Base, bytes: Uint8Array, limits: Partial<Limits>): { result: Conversation | unknown; costs: Costs } {
  const acct = Account.fromRecord({ bytes: b.account, generation: 1 }, { backend: be, clock: testClock(), random: seededRandom(16_201), limits });
  acct.attachRecord({ key: RECORD_KEY, generation: 1, bytes });
  return counted.measure(() => {
    try {
      return acct.conversation(BOB_ID);
    } catch (e) {
      return e;
    }
  });
}

function tagsOf(r: { result: unknown }): number[] {
  if (r.result instanceof Error) assert.unreachable(`refused: ${r.result.message}`);
  return [...(r.result as Conversation).instanceTags];
}

test('the ranking is admit()\'s: no session first, then finished ones, then the least recently keyed; the current one stays', () => {
  const b = base();
  const kinds: Kind[] = [
    { tag: 0x101, kind: 'session', keyedAt: 5 },
    { tag: 0x102, kind: 'none' },
    { tag: 0x103, kind: 'finished' },
    { tag: 0x104, kind: 'session', keyedAt: 1 },
    { tag: 0x105, kind: 'none' },
    { tag: 0x106, kind: 'session', keyedAt: 9 },
    { tag: 0x107, kind: 'session', keyedAt: 0 },
  ];
  // 0x107 is current: least recently keyed, kept anyway.
  const expected: Record<number, number[]> = {
    6: [0x101, 0x103, 0x104, 0x105, 0x106, 0x107],
    5: [0x101, 0x103, 0x104, 0x106, 0x107],
    4: [0x101, 0x104, 0x106, 0x107],
    3: [0x101, 0x106, 0x107],
    2: [0x106, 0x107],
    1: [0x106, 0x107],
    0: [0x106, 0x107],
  };
  for (const [limit, tags] of Object.entries(expected)) {
    const r = load(b, record(b, kinds, 0x107), { maxInstancesPerConversation: Number(limit) });
    assert.equal(tagsOf(r), tags, `limit ${limit}`);
  }
});

test('a hostile record of 1,024 sessions restores under the default limit at the cost of the 32 kept, the most recently keyed', () => {
  const b = base();
  const n = 1024;
  const keep = DEFAULT_LIMITS.maxInstancesPerConversation;
  // Keyed in a shuffled order, so the kept ones are spread through the record.
  const rnd = seededRandom(16_202);
  const at = Array.from({ length: n }, (_, i) => i).sort(() => (rnd(1)[0]! & 1 ? 1 : -1));
  const kinds: Kind[] = at.map((t, i) => ({ tag: 0x1000 + i, kind: 'session', keyedAt: t }));
  const hostile = load(b, record(b, kinds, 0), {});
  const kept = kinds.filter((k) => k.kind === 'session' && k.keyedAt >= n - keep).map((k) => k.tag);
  assert.equal(tagsOf(hostile), kept);
  // The cost of a record holding only those: the other 992 cost nothing.
  const only = load(b, record(b, kinds.filter((k) => kept.includes(k.tag)), 0), {});
  assert.ok(only.costs.ed448Mul > 0 && only.costs.legendre > 0);
  assert.equal(hostile.costs, only.costs, 'the checks of the kept instances only');
});

test('a hostile record of 1,024 pending DAKEs: the newest 32 kept, two Ed448 checks each', () => {
  // As attacks/s13-dos-restore-instances builds it: Bob's Identity answered, cloned under 1,024 tags.
  const clock = testClock();
  const alice = Account.create({ accountId: ALICE_ID, backend: be, clock, random: seededRandom(16_203), dsaKey: null });
  const bob = Account.create({ accountId: BOB_ID, backend: be, clock, random: seededRandom(16_204), dsaKey: null });
  alice.conversation(BOB_ID).receive(bob.conversation(ALICE_ID).startDake().toSend[0]!);
  const records = alice.records();
  const conv = decodeState('conversation', records.find((r) => r.key === RECORD_KEY)!.bytes) as Base['conv'];
  const one = (conv.state.instances as StateValue[])[0] as Record<string, StateValue>;
  const n = 1024;
  const instances = Array.from({ length: n }, (_, i) => ({ ...one, peerTag: 0x1000 + i, dake: { ...(one.dake as Record<string, StateValue>), peerTag: 0x1000 + i } }));
  const bytes = encodeState('conversation', { ...conv, state: { ...conv.state, instances } } as StateValue);
  const keep = DEFAULT_LIMITS.maxInstancesPerConversation;
  const r = load({ account: records.find((x) => x.key === 'account')!.bytes } as Base, bytes, {});
  assert.equal(tagsOf(r), Array.from({ length: keep }, (_, i) => 0x1000 + n - keep + i), 'the most recently admitted');
  assert.is(r.costs.ed448Mul, 2 * keep, `${r.costs.ed448Mul} Ed448 checks`);
});

test('an instance tag twice is still refused, kept or not', () => {
  const b = base();
  const kinds: Kind[] = [
    { tag: 0x101, kind: 'none' },
    { tag: 0x101, kind: 'none' },
    { tag: 0x102, kind: 'session', keyedAt: 1 },
  ];
  const r = load(b, record(b, kinds, 0), { maxInstancesPerConversation: 1 });
  assert.instance(r.result, Error);
  assert.match((r.result as Error).message, /duplicated instance/);
});

test.run();
