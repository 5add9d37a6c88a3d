/**
 * Attack (session 11): the store's listing of an account's keys, read by openStoredAccount at open to count
 * the conversation records against limits.maxAccountConversations, is a new input from the disk. A listing
 * the store refuses (more rows than maxRecordsPerAccount: a store a flood already filled; a hostile table)
 * must not stop the account from opening, and what a listing names — keys of no conversation, a record
 * deleted since — must not make a conversation unusable or be written over.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { OtrLimitError } from '../../ts/errors.js';
import { MemoryStore } from '../../ts/store/memory.js';
import type { RecordStore } from '../../ts/store/types.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, testClock } from '../helpers/session-pair.js';

/** `store` with its listing replaced. */
function withKeys(store: MemoryStore, keys: (accountId: string) => Promise<string[]>): RecordStore {
  return new Proxy(store, {
    get(target, name) {
      if (name === 'keys') return keys;
      const v = Reflect.get(target, name, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as RecordStore;
}

async function aliceOn(store: RecordStore, create = false) {
  const clock = testClock();
  return openStoredAccount(store, ALICE_ID, { account: { backend: be, clock, dsaKey: null, limits: { maxAccountConversations: 4 }, random: seededRandom(1500) }, create });
}

test('a listing the store refuses (too many rows, LIMIT_EXCEEDED) does not stop the account from opening', async () => {
  const store = new MemoryStore();
  (await aliceOn(store, true)).close();
  const alice = await aliceOn(
    withKeys(store, async () => {
      throw new OtrLimitError('the account has more than maxRecordsPerAccount records');
    }),
  );
  const out = (await alice.conversation('bob@example.org')).receive('hello');
  await alice.commit(out);
  assert.ok((await store.keys(ALICE_ID)).includes('conv:bob@example.org'));
  await alice.close();
});

test('a listing that names no conversation, or a record deleted since: the account opens and those peers start afresh', async () => {
  const store = new MemoryStore();
  (await aliceOn(store, true)).close();
  const junk = ['account', 'conv:', 'other:x', 'conv:gone@example.org', 'conv:gone@example.org', 'conv:' + 'x'.repeat(200)];
  const alice = await aliceOn(withKeys(store, async () => junk));
  // Listed but not in the store: looked for, found gone, a fresh conversation whose first commit lands.
  const out = (await alice.conversation('gone@example.org')).receive('hello');
  await alice.commit(out);
  assert.ok((await store.keys(ALICE_ID)).includes('conv:gone@example.org'));
  // A listed record cannot be used without loading it first (it would be written over at generation 1).
  assert.throws(() => alice.account.conversation('x'.repeat(200)), (e: unknown) => (e as { code?: string }).code === 'STATE');
  // The junk counted at most as the records it names: new conversations are still taken and bounded.
  for (let k = 0; k < 8; k++) await alice.commit((await alice.conversation(`spam-${k}@evil.example`)).receive('buy'));
  assert.ok((await store.keys(ALICE_ID)).filter((key) => key.startsWith('conv:')).length <= 4);
  await alice.close();
});

test('the listing is made once, before the first conversation without a record, not at open (a restart answering known peers does not pay it)', async () => {
  const store = new MemoryStore();
  const first = await aliceOn(store, true);
  await first.commit((await first.conversation('known@example.org')).receive('hello'));
  await first.close();
  let listings = 0;
  const alice = await aliceOn(
    withKeys(store, async (id) => {
      listings++;
      return store.keys(id);
    }),
  );
  assert.is(listings, 0, 'not at open');
  await alice.commit((await alice.conversation('known@example.org')).receive('again'));
  assert.is(listings, 0, 'not for a conversation with a record');
  await alice.commit((await alice.conversation('new-1@example.org')).receive('hi'));
  assert.is(listings, 1, 'before the first new conversation');
  await alice.commit((await alice.conversation('new-2@example.org')).receive('hi'));
  assert.is(listings, 1, 'once');
  await alice.close();
});

test('Account.listRecords ignores keys of conversations already in use', () => {
  const a = Account.create({ accountId: ALICE_ID, backend: be, dsaKey: null, limits: { maxAccountConversations: 4 } });
  a.conversation('bob@example.org');
  a.listRecords(['conv:bob@example.org']);
  // Bob's conversation is the live one, usable as before.
  assert.is(a.conversation('bob@example.org').state, 'START');
});

test.run();
