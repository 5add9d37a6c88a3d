/**
 * Attack (session 11, review of limits.maxAccountConversations): a hostile disk against the listing at open.
 *
 * openStoredAccount counts every conversation record the store lists; the helper loads a listed record before
 * the bound can evict it. A row that does not open (a sealed row moved or edited: BAD_MAC; a row the store
 * refuses) never loads, so it stayed listed and counted for the life of the process: the account sat above its
 * bound for good, every new record evicted the excess from the records that did load — the host's contact
 * first, there being nothing else — and every new peer's first message retried a batch of reads that fail
 * (found: Carol evicted by one stranger's plaintext, with 20 unopenable rows listed; failing before the fix).
 * Now a listed row that fails to load for its own fault is no longer counted (the store keeps it; forget()
 * deletes it, as before the listing).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Conversation } from '../../ts/index.js';
import { OtrCryptoError } from '../../ts/errors.js';
import { MemoryStore } from '../../ts/store/memory.js';
import type { RecordStore } from '../../ts/store/types.js';
import { openStoredAccount, type StoredAccount } from '../../ts/session/account-store.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, testClock } from '../helpers/session-pair.js';

const clock = testClock();

const JUNK = Array.from({ length: 20 }, (_, k) => `conv:junk-${k}@evil.example`);

/** `store` with 20 more rows listed that never open, and a count of the loads tried. */
function hostileDisk(store: MemoryStore): { disk: RecordStore; loads: () => number } {
  let loads = 0;
  const disk = new Proxy(store, {
    get(target, name) {
      if (name === 'keys') return async (a: string) => [...(await target.keys(a)), ...JUNK];
      if (name === 'load')
        return async (a: string, key: string) => {
          loads++;
          if (JUNK.includes(key)) throw new OtrCryptoError('BAD_MAC', 'the sealed row does not open');
          return target.load(a, key);
        };
      const v = Reflect.get(target, name, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as RecordStore;
  return { disk, loads: () => loads };
}

async function aliceOn(store: RecordStore, create = false): Promise<StoredAccount> {
  return openStoredAccount(store, ALICE_ID, { account: { backend: be, clock, dsaKey: null, limits: { maxAccountConversations: 8 }, random: seededRandom(2500) }, create });
}

/** Carol's side, and Alice's session with her (Alice started it and wrote), committed. */
async function carolOf(alice: StoredAccount): Promise<Conversation> {
  const carol = Account.create({ accountId: 'carol@example.org', backend: be, clock, dsaKey: null, random: seededRandom(2501) }).conversation(ALICE_ID);
  let toCarol = (await commitOut(alice, 'carol@example.org', (c) => c.start())).toSend;
  while (toCarol.length > 0) {
    const toAlice = toCarol.flatMap((m) => carol.receive(m).toSend);
    toCarol = [];
    for (const m of toAlice) toCarol.push(...(await commitOut(alice, 'carol@example.org', (c) => c.receive(m))).toSend);
  }
  return carol;
}

async function commitOut(alice: StoredAccount, peer: string, call: (c: Conversation) => ReturnType<Conversation['receive']>) {
  const out = call(await alice.conversation(peer));
  await alice.commit(out);
  return out;
}

test('rows listed at open that never load do not keep the account over its bound: the contact stays, strangers go', async () => {
  const store = new MemoryStore();
  let alice = await aliceOn(store, true);
  const carol = await carolOf(alice);
  await alice.close();
  const { disk, loads } = hostileDisk(store);
  alice = await aliceOn(disk);
  const sent = await commitOut(alice, 'carol@example.org', (c) => c.send('hello Carol'));
  assert.equal(sent.toSend.flatMap((m) => carol.receive(m).messages.map((x) => x.text)), ['hello Carol']);
  const evicted: string[] = [];
  const before = loads();
  for (let k = 0; k < 12; k++) {
    const out = await commitOut(alice, `spam-${k}@evil.example`, (c) => c.receive('buy now'));
    for (const e of out.events) if (e.type === 'conversation-evicted') evicted.push(e.peer);
  }
  assert.not.ok(evicted.includes('carol@example.org'), `the contact was evicted: ${evicted.join(', ')}`);
  assert.ok(evicted.length >= 12 - 7, `strangers evicted: ${evicted.join(', ')}`);
  // Each stranger's first message costs its own load, plus each unopenable row tried once at most.
  assert.ok(loads() - before <= 12 + JUNK.length, `${loads() - before} loads for 12 strangers`);
  const rows = (await store.keys(ALICE_ID)).filter((k) => k.startsWith('conv:'));
  assert.ok(rows.length <= 8, rows.join(', '));
  const out = await commitOut(alice, 'carol@example.org', (c) => c.send('still here'));
  assert.equal(out.toSend.flatMap((m) => carol.receive(m).messages.map((x) => x.text)), ['still here']);
  await alice.close();
});

test.run();
