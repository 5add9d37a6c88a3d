/**
 * Attack (session 13, cost of hostile input): a conversation record with thousands of instances (a hostile
 * disk, or rows a hostile client wrote into an unsealed store). A conversation never holds more than
 * limits.maxInstancesPerConversation instances (32; one more only when that limit is 1 and the current
 * instance stays), but restore read up to 65,536, and checked each one's stored peer values before use: two
 * Ed448 subgroup checks and a Legendre symbol for a pending DAKE. A 3 MB record of 1,024 copies of one pending
 * DAKE cost 2,048 Ed448 validations (~146 ms, ~22 honest DAKE steps) each time it was decoded — and the records
 * bound decodes ("settles") attached records on its own. Session 13 refused a record with more instances than
 * the limit allows before any instance was read; session 16 keeps those the live bound would keep, chosen on
 * cheap fields before any is checked, so the cost is the kept instances' checks (a record written under a higher
 * limit must restore: attacks/s16-restore-instances). Counted on the backend, never timed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { decodeState, encodeState, type StateValue } from '../../ts/session/state-codec.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { WASM } from '../helpers/backends.js';
import { countingBackend } from '../helpers/counting-backend.js';
import { seededRandom } from '../helpers/rng.js';
import { testClock } from '../helpers/session-pair.js';

const counted = countingBackend(WASM);
const be = counted.backend;
const clock = testClock();

/** Alice's account record and her record of Bob's conversation holding one pending DAKE (Bob's Identity answered). */
function withPendingDake(): { account: Uint8Array; conv: { peer: StateValue; state: Record<string, StateValue> } } {
  const alice = Account.create({ accountId: 'alice@example.org', backend: be, clock, random: seededRandom(13_200), dsaKey: null });
  const bob = Account.create({ accountId: 'bob@example.org', backend: be, clock, random: seededRandom(13_201), dsaKey: null });
  alice.conversation('bob@example.org').receive(bob.conversation('alice@example.org').startDake().toSend[0]!);
  const records = alice.records();
  const v = decodeState('conversation', records.find((r) => r.key === 'conv:bob@example.org')!.bytes) as { peer: StateValue; state: Record<string, StateValue> };
  return { account: records.find((r) => r.key === 'account')!.bytes, conv: v };
}

/** The record with `n` copies of its one instance under distinct tags. */
function withInstances(base: ReturnType<typeof withPendingDake>['conv'], n: number): Uint8Array {
  const one = (base.state.instances as StateValue[])[0] as Record<string, StateValue>;
  const dake = one.dake as Record<string, StateValue>;
  const instances = Array.from({ length: n }, (_, i) => ({ ...one, peerTag: 0x1000 + i, dake: { ...dake, peerTag: 0x1000 + i } }));
  return encodeState('conversation', { ...base, state: { ...base.state, instances } } as StateValue);
}

function load(account: Uint8Array, record: Uint8Array) {
  const acct = Account.fromRecord({ bytes: account, generation: 1 }, { backend: be, clock, random: seededRandom(13_202) });
  acct.attachRecord({ key: 'conv:bob@example.org', generation: 1, bytes: record });
  return counted.measure(() => {
    try {
      return acct.conversation('bob@example.org');
    } catch (e) {
      return e;
    }
  });
}

// Session 16: such a record is no longer refused (a host that lowered the limit lost the account): the instances
// the live bound keeps are chosen on cheap fields first and only they are checked (attacks/s16-restore-instances).
test('a record with 1,024 instances costs the checks of the instances the limit keeps, no more', () => {
  const base = withPendingDake();
  const r = load(base.account, withInstances(base.conv, 1024));
  assert.not.instance(r.result, Error, String(r.result));
  assert.is((r.result as { instanceTags: readonly number[] }).instanceTags.length, DEFAULT_LIMITS.maxInstancesPerConversation);
  assert.is(r.costs.ed448Mul, 2 * DEFAULT_LIMITS.maxInstancesPerConversation, `${r.costs.ed448Mul} Ed448 validations`);
});

test('a record at the limit restores, every instance checked once', () => {
  const base = withPendingDake();
  const n = DEFAULT_LIMITS.maxInstancesPerConversation;
  const r = load(base.account, withInstances(base.conv, n));
  assert.not.instance(r.result, Error, String(r.result));
  assert.is((r.result as { instanceTags: readonly number[] }).instanceTags.length, n);
  assert.is(r.costs.ed448Mul, 2 * n, 'the identity key and first ECDH key of each pending DAKE');
});

test.run();
