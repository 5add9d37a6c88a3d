/**
 * Two accounts with a session between them, where every clock and random call of Alice's account can run a
 * host callback: `arm(h, at)` runs `h` at the at-th such call from now (0: the next), once. For the re-entry
 * attack tests (a host that calls back into the library from inside one of its calls).
 */
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { WASM } from './backends.js';
import { seededRandom } from './rng.js';
import { pump, testClock } from './session-pair.js';

export function hookedPair(aliceSeed: number, bobSeed: number) {
  const clock = testClock();
  const seeded = seededRandom(aliceSeed);
  let hook: (() => void) | undefined;
  let skip = 0;
  let calls = 0;
  const fire = () => {
    calls++;
    if (hook === undefined || skip-- > 0) return;
    const h = hook;
    hook = undefined;
    h();
  };
  const random = (n: number) => {
    fire();
    return seeded(n);
  };
  const hookedClock = Object.assign(() => {
    fire();
    return clock();
  }, { advance: clock.advance });
  const common = { backend: WASM, dsaKey: null };
  const alice = Account.create({ accountId: 'alice@example.org', random, clock: hookedClock, ...common });
  const bob = Account.create({ accountId: 'bob@example.org', random: seededRandom(bobSeed), clock, ...common });
  const a = alice.conversation('bob@example.org');
  const b = bob.conversation('alice@example.org');
  pump(a, b, a.start());
  assert.is(a.state, 'ENCRYPTED_MESSAGES');
  return {
    alice,
    a,
    b,
    /** Runs `h` at the `at`-th clock or random call from now (0: the first). */
    arm: (h: () => void, at: number) => {
      hook = h;
      skip = at;
    },
    disarm: () => (hook = undefined),
    calls: () => calls,
  };
}
