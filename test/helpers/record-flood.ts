/**
 * What the records-bound attack tests share (sessions 12–13): a store that counts the conversation records read
 * from it, an account's decoded conversations and counted records, a DAKE or exchange delivered until both sides
 * are quiet, and the listing-race tests' small account with two strangers' records.
 */
import { Account, type Conversation } from '../../ts/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import type { RecordStore } from '../../ts/store/types.js';
import { openStoredAccount, type StoredAccount } from '../../ts/session/account-store.js';
import { WASM as be } from './backends.js';
import { seededRandom } from './rng.js';
import { ALICE_ID, testClock, type TestClock } from './session-pair.js';

/** `store` counting the conversation records read from it. */
export function countingStore(store: MemoryStore): { store: RecordStore; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(store, {
    get(target, name) {
      const v = Reflect.get(target, name, target) as unknown;
      if (name === 'load')
        return (account: string, key: string) => {
          if (key.startsWith('conv:')) reads++;
          return (v as (a: string, k: string) => unknown).call(target, account, key);
        };
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as RecordStore;
  return { store: proxy, reads: () => reads };
}

/** Decoded conversations (not attached bytes): Account's own map. */
export const decodedConversations = (a: Account): number => (a as unknown as { conversations: Map<string, Conversation> }).conversations.size;

/** Delivers `first` (the remote's messages) to `local` and the replies back until both sides are quiet. */
export function deliverUntilQuiet(local: Conversation, remote: Conversation, first: readonly string[]): void {
  let toLocal = [...first];
  for (let guard = 0; toLocal.length > 0; guard++) {
    if (guard > 20) throw new Error('exchange did not settle');
    const toRemote = toLocal.flatMap((m) => local.receive(m).toSend);
    toLocal = toRemote.flatMap((m) => remote.receive(m).toSend);
  }
}

/** The records an account counts against limits.maxAccountConversations (its record book's count). */
export const countedRecords = (a: StoredAccount): number => (a.account as unknown as { book: { conversationRecordCount: number } }).book.conversationRecordCount;

/** Alice's account kept in `store`, with a bound of 4 conversation records (the listing-race tests). */
export function openSmallAccount(store: RecordStore, seed: number, create = false): Promise<StoredAccount> {
  return openStoredAccount(store, ALICE_ID, { account: { backend: be, clock: testClock(), dsaKey: null, limits: { maxAccountConversations: 4 }, random: seededRandom(seed) }, create });
}

/** A store holding Alice's account with two strangers' plaintext records (a@ and b@evil.example). */
export async function twoStrangersStore(seed: number): Promise<MemoryStore> {
  const store = new MemoryStore();
  const first = await openSmallAccount(store, seed, true);
  for (const peer of ['a@evil.example', 'b@evil.example']) await first.commit((await first.conversation(peer)).receive('buy now'));
  await first.close();
  return store;
}

/**
 * `count` JIDs of a hostile server each start a DAKE with `alice` (her user asks for nothing) and complete it, a
 * quarter of a second apart: sessions worth 1 each, whose peers a small trust store forgets. Throws if one fails.
 */
export function sybilSessions(alice: Account, clock: TestClock, count: number, seed: number): void {
  for (let k = 0; k < count; k++) {
    clock.advance(250);
    const peer = `sybil-${k}@evil.example`;
    const sybil = Account.create({ accountId: peer, backend: be, clock, dsaKey: null, random: seededRandom(seed + k) }).conversation(ALICE_ID);
    deliverUntilQuiet(alice.conversation(peer), sybil, sybil.start().toSend);
    if (alice.conversation(peer).state !== 'ENCRYPTED_MESSAGES') throw new Error(`the DAKE with ${peer} did not complete`);
  }
}
