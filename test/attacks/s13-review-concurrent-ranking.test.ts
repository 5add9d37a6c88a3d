/**
 * Attack (session 13 review): first messages from many new JIDs handled at once — a bridge awaits each
 * conversation as its message arrives — made an account at its bound rank every record once per JID.
 *
 * Handing out a conversation without a record, the helper (account-store.ts loadEvictable) asks the account
 * which of the store's listed records to load first (account.ts recordsToLoad: a ranking of every record,
 * O(records)). Session 12 keeps how far the last ranking loaded, so a flood of JIDs ranks once per batch, not
 * once each (attacks/s12-records-ranking, the pin) — but only when they come one after another: a ranking that
 * names records to load clears that, and every hand-out that started before those loads returned ranked again.
 * 500 JIDs at once at the default bound: 501 rankings of 20,000 records (580 ms of CPU, against 4 rankings and
 * 96 ms one after another; measured).
 *
 * Now the helper's loading runs one hand-out at a time: the others wait for it, then find the loads made.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryStore } from '../../ts/store/memory.js';
import { openStoredAccount, type StoredAccount } from '../../ts/session/account-store.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, testClock } from '../helpers/session-pair.js';

const BOUND = 128; // batch: 2
const JIDS = 60;

async function open(store: MemoryStore, bound: number, seed: number, create = false): Promise<StoredAccount> {
  return openStoredAccount(store, ALICE_ID, { account: { backend: be, clock: testClock(), dsaKey: null, limits: { maxAccountConversations: bound }, random: seededRandom(seed) }, create });
}

/** An account at its bound of strangers' records, reopened: every record listed, none loaded. */
async function atBound(): Promise<{ store: MemoryStore; alice: StoredAccount; rankings: () => number }> {
  const store = new MemoryStore();
  const before = await open(store, BOUND, 1350, true);
  for (let k = 0; k < BOUND; k++) await before.commit((await before.conversation(`spam-${k}@evil.example`)).receive('buy now'));
  await before.close();
  const alice = await open(store, BOUND, 1351);
  // How often the account ranks its records for the helper (recordsToLoad): each ranking is O(records).
  let rankings = 0;
  const account = (alice as unknown as { account: { recordCandidates: (...a: unknown[]) => unknown } }).account;
  const rank = account.recordCandidates.bind(account);
  account.recordCandidates = (...a: unknown[]) => (rankings++, rank(...a));
  return { store, alice, rankings: () => rankings };
}

test('JIDs whose first messages arrive at once rank the records about once per batch, as one after another do', async () => {
  const { store, alice, rankings } = await atBound();
  const convs = await Promise.all(Array.from({ length: JIDS }, (_, k) => alice.conversation(`m-${k}@evil.example`)));
  // Before: 61 rankings for 60 JIDs, one each (and the first twice).
  assert.ok(rankings() <= Math.ceil(JIDS / 3) * 2 + 2, `${rankings()} rankings for ${JIDS} JIDs at once`);
  assert.ok(rankings() > 0);
  // And the bound still holds once they all write.
  for (const c of convs) await alice.commit(c.receive('buy now'));
  assert.ok((await store.keys(ALICE_ID)).length - 1 <= BOUND, 'the store holds at most the bound');
  await alice.close();
});

test("a hand-out whose loading fails (the store throws) does not hold up the others' loading", async () => {
  const { store, alice } = await atBound();
  // The next conversation record read throws a plain Error (a broken store), once.
  const load = store.load.bind(store);
  let armed = true;
  store.load = (account: string, key: string) => {
    if (armed && key.startsWith('conv:spam-')) {
      armed = false;
      return Promise.reject(new Error('disk on fire'));
    }
    return load(account, key);
  };
  const handOuts = Promise.allSettled([alice.conversation('first@evil.example'), alice.conversation('second@evil.example')]);
  const timeout = new Promise<'hung'>((done) => setTimeout(() => done('hung'), 5000).unref());
  const settled = await Promise.race([handOuts, timeout]);
  assert.ok(settled !== 'hung', 'both hand-outs settle');
  assert.not.ok(armed, 'the failing read happened');
  const states = (settled as PromiseSettledResult<unknown>[]).map((r) => r.status);
  assert.ok(states.includes('rejected'), 'the hand-out whose read failed says so');
  assert.ok(states.includes('fulfilled'), 'the other is handed out');
  await alice.close();
});

test.run();
