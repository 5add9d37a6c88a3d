/**
 * Attack (session 10, hostile review of limits.maxAccountPendingDakes): the eviction of an UNLOADED stranger
 * deletes its record in another conversation's outcome. If the store does not take that commit (busy, I/O:
 * not a conflict), the account's book has already forgotten the record (no longer unloaded, generation 0)
 * while the store still holds it. Through openStoredAccount the record is found again on that peer's next
 * use (loaded, attached at the store's generation), so its next commit is not refused; and the commit the store
 * refused goes again (commitFailed) so the strangers' records stay bounded.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OtrStateError } from '../../ts/index.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { WASM as be } from '../helpers/backends.js';
import { flakyStore } from '../helpers/flaky-store.js';
import { ALICE_ID, testClock } from '../helpers/session-pair.js';
import { attackerIdentity, makeAttacker } from './attacker.js';


test("an unloaded stranger's eviction whose commit failed: the record is loaded again on the peer's next use and commits go on", async () => {
  const { inner, store, failNext } = flakyStore();
  const clock = testClock();
  const stored = await openStoredAccount(store, ALICE_ID, { account: { backend: be, clock, dsaKey: null, limits: { maxAccountPendingDakes: 2 } }, create: true });
  let k = 0;
  const identity = async (peer: string) => {
    clock.advance(250);
    const x = makeAttacker(be, { tag: 0x5600_0000 + k, seed: 9800 + k++, nowMs: clock() });
    return (await stored.conversation(peer)).receive(attackerIdentity(be, x, peer, ALICE_ID));
  };
  const victim = 'old@evil.example';
  await stored.commit(await identity(victim));
  stored.unload(victim);
  await stored.commit(await identity('s1@evil.example'));
  const evicting = await identity('s2@evil.example');
  assert.ok(evicting.changed!.some((c) => c.key === 'conv:' + victim && c.bytes === null), 'the unloaded record is deleted in this outcome');
  failNext();
  let refused = false;
  try {
    await stored.commit(evicting);
  } catch (e) {
    refused = e instanceof OtrStateError;
  }
  assert.ok(refused, 'the store refused that commit');
  assert.ok(await inner.load(ALICE_ID, 'conv:' + victim), 'the store still holds the record');
  // Later commits are taken (the refused records went again at the store's generations).
  await stored.commit(await identity('s3@evil.example'));
  // The victim's JID again: its record is found, and its change commits over it (no CONFLICT).
  const again = await identity(victim);
  assert.is(again.toSend.length, 1);
  await stored.commit(again);
  const conv = (await inner.keys(ALICE_ID)).filter((key) => key.startsWith('conv:'));
  assert.ok(conv.length <= 3, `stranger records: ${conv.join(', ')}`);
  await stored.close();
});

test.run();
