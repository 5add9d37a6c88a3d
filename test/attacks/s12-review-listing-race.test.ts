/**
 * Attack (session 12 review, a busy host): the store's listing of records is made when the first conversation
 * without a record is asked for, and it is a snapshot taken by the store before its answer comes back. A
 * forget() that completes in between (its read, its delete committed) left the forgotten peer in that answer:
 * listed again, a record counted against limits.maxAccountConversations that the store no longer held. Each
 * such phantom made the account evict one record early, until a new conversation at the bound tried to load it.
 * The listing now leaves out the peers the account dropped while it was under way.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RecordStore } from '../../ts/store/types.js';
import { ALICE_ID } from '../helpers/session-pair.js';
import { countedRecords, openSmallAccount, twoStrangersStore } from '../helpers/record-flood.js';

test('a forget() that lands while the listing is under way is not listed again', async () => {
  const store = await twoStrangersStore(1290);
  // The store answers the listing with the keys it held when asked, after the test lets it.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow = new Proxy(store, {
    get(target, name) {
      if (name === 'keys')
        return async (id: string) => {
          const snapshot = await target.keys(id);
          await gate;
          return snapshot;
        };
      const v = Reflect.get(target, name, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as RecordStore;
  const alice = await openSmallAccount(slow, 1290);
  const asked = alice.conversation('new@example.org'); // no record: the listing starts
  await new Promise((r) => setTimeout(r, 10));
  await alice.forget('a@evil.example');
  release();
  await alice.commit((await asked).receive('hello'));
  const rows = (await store.keys(ALICE_ID)).filter((k) => k.startsWith('conv:'));
  assert.equal(rows.sort(), ['conv:b@evil.example', 'conv:new@example.org']);
  assert.is(countedRecords(alice), rows.length, 'the account counts the records the store holds (before: the forgotten one too)');
  await alice.close();
});

test.run();
