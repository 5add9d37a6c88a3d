/**
 * Attack (session 13 review, a busy host): the listing race session 12 closed ([s12-review], attacks/s12-review-
 * listing-race) for a delete made WHILE the store's listing is under way, tried from the other side: a delete
 * handed out BEFORE the listing is asked for, whose commit the store applies only after it answered the listing
 * (a slow commit, a host that commits in the background). The listing is the store's snapshot, so it may still
 * name the forgotten record; the account no longer holds it, and counted it again: a phantom record against
 * limits.maxAccountConversations, one record evicted early per phantom until a new conversation at the bound
 * looks for it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RecordStore } from '../../ts/store/types.js';
import { COMMIT_OWNED } from '../../ts/store/owned.js';
import { ALICE_ID } from '../helpers/session-pair.js';
import { countedRecords, openSmallAccount, twoStrangersStore } from '../helpers/record-flood.js';

test('a forget() whose commit lands after the listing was answered is not listed again', async () => {
  const store = await twoStrangersStore(1390);
  // The store applies commits when the test lets it (the listing is answered at once).
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let held = false;
  const slow = new Proxy(store, {
    get(target, name) {
      if (name === 'commit' || name === COMMIT_OWNED) {
        const commit = (Reflect.get(target, name, target) as (id: string, c: unknown) => Promise<void>).bind(target);
        return async (id: string, changes: unknown) => {
          held = true;
          await gate;
          return commit(id, changes);
        };
      }
      const v = Reflect.get(target, name, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as RecordStore;
  const alice = await openSmallAccount(slow, 1390);
  const forgetting = alice.forget('a@evil.example'); // its delete handed out, its commit held
  for (let i = 0; i < 20 && !held; i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(held, 'the delete reached the store and waits there');
  const asked = alice.conversation('new@example.org'); // no record: the listing starts, answered before the commit
  await new Promise((r) => setTimeout(r, 10));
  release();
  await forgetting;
  const conv = await asked;
  await alice.commit(conv.receive('hello'));
  const rows = (await store.keys(ALICE_ID)).filter((k) => k.startsWith('conv:'));
  assert.equal(rows.sort(), ['conv:b@evil.example', 'conv:new@example.org']);
  assert.is(countedRecords(alice), rows.length, 'the account counts the records the store holds (not the forgotten one too)');
  await alice.close();
});

test.run();
