/**
 * Attack (session 14, review of session 13's restore bound on instances): restore refuses a conversation record
 * with more than maxInstancesPerConversation + 1 instances — what admit() can leave when the limit is 1 and the
 * current instance stays. With the limit at 0 (a value nothing refuses), admit() still never evicts the current
 * instance and always adds the new one, so a conversation holds two instances: the current one and the newest.
 * The library wrote a record it then refused to restore (OtrDecodeError): the sessions in it lost. The bound is
 * now what admit() can reach for every limit: max(limit, 1) + 1.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, BOB_ID, pump, testClock } from '../helpers/session-pair.js';

for (const limit of [0, 1, 2]) {
  test(`with maxInstancesPerConversation ${limit}, what DAKEs with three of the peer's devices leave restores`, () => {
    const clock = testClock();
    const limits = { maxInstancesPerConversation: limit };
    const common = { backend: WASM, clock, dsaKey: null };
    const alice = Account.create({ accountId: ALICE_ID, random: seededRandom(14_200), ...common, limits });
    const a = alice.conversation(BOB_ID);
    // Alice starts a DAKE with each of Bob's devices in turn (they keep the default limits: at 0 they would
    // refuse her Identity); the first stays her current instance.
    for (let d = 0; d < 3; d++) {
      const bob = Account.create({ accountId: BOB_ID, random: seededRandom(14_201 + d), ...common });
      pump(a, bob.conversation(ALICE_ID), a.startDake());
      assert.is(a.state, 'ENCRYPTED_MESSAGES');
    }
    assert.is(a.instanceTags.length, Math.max(limit, 1) + (limit <= 1 ? 1 : 0), 'admit() keeps the current instance and adds the newest');
    const records = alice.records();
    const restored = Account.fromRecord({ bytes: records.find((r) => r.key === 'account')!.bytes, generation: 1 }, { backend: WASM, clock, random: seededRandom(14_210), limits });
    const conv = records.find((r) => r.key === `conv:${BOB_ID}`)!;
    restored.attachRecord({ key: conv.key, generation: 1, bytes: conv.bytes });
    let tags: number[] = [];
    try {
      tags = [...restored.conversation(BOB_ID).instanceTags];
    } catch (e) {
      assert.unreachable(`the library's own record was refused: ${(e as Error).message}`);
    }
    assert.equal(tags.sort(), [...a.instanceTags].sort());
  });
}

test.run();
