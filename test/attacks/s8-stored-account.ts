/**
 * Lazy restore through openStoredAccount against a real store (session 8): a conversation record that does not
 * decode must fail typed on every use of `stored.conversation(peer)` — a rejected promise each time, never a
 * throw out of the call, never a fresh conversation whose first commit would overwrite the record — while the
 * rest of the account works, the record stays as it was in the store, a reopened account refuses it again, and
 * `forget(peer)` is the way out. Shared by the PostgreSQL suite (Node) and the IndexedDB page (Chromium): each
 * passes a function that opens its store (plain, unsealed; the sealed case wraps it here).
 */
import { openStoredAccount, type StoredAccount } from '../../ts/session/account-store.js';
import { sealedStore } from '../../ts/store/sealing.js';
import { settledAs } from '../helpers/settled.js';
import type { AccountOptions } from '../../ts/session/account.js';
import type { RecordStore } from '../../ts/store/types.js';

const SEAL_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0x5a ^ (i * 7));
const BOB = 'bob@example.net';
const KEY = `conv:${BOB}`;
let accounts = 0;

function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

/** How a call ended: 'ok', 'threw' (out of the call itself: a contract break), an OtrError's code, or 'untyped'. */
async function settle(call: () => Promise<unknown>): Promise<string> {
  let p: Promise<unknown>;
  try {
    p = call();
  } catch (e) {
    return `threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`;
  }
  return settledAs(p);
}

/** Hostile conversation records made from a genuine one (Carol's, of the same account). */
function hostile(genuine: Uint8Array, accountRecord: Uint8Array): [string, Uint8Array][] {
  const flipped = genuine.slice();
  flipped[genuine.length >> 1]! ^= 0x40;
  return [
    ['garbage', Uint8Array.from({ length: 600 }, (_, i) => (i * 37 + 11) & 0xff)],
    ['truncated', genuine.slice(0, genuine.length - 3)],
    ['a bit flipped', flipped],
    ["carol's record on bob's key", genuine],
    ['the account record on a conversation key', accountRecord],
    ['empty', new Uint8Array(0)],
  ];
}

async function run(makeStore: () => Promise<RecordStore>, account: Omit<AccountOptions, 'accountId'>, sealed: boolean): Promise<void> {
  const inner = await makeStore();
  const id = `alice-${accounts++}@example.org`;
  const options = { account, create: true, ...(sealed ? { sealKey: SEAL_KEY } : {}) };
  // The rows as the store sees them: through the same sealing (a "cleverly valid-looking" row: it opens).
  const raw: RecordStore = sealed ? sealedStore(inner, SEAL_KEY) : inner;
  const setup = await openStoredAccount(inner, id, options);
  // Carol's conversation written as a record (a new conversation is written once something changes; `all`
  // writes every live one now).
  await setup.conversation('carol@example.net');
  await setup.commit(setup.account.changes({ all: true }));
  const genuine = (await raw.load(id, 'conv:carol@example.net'))!.bytes;
  const accountRecord = (await raw.load(id, 'account'))!.bytes;
  await setup.close();

  for (const [label, bytes] of hostile(genuine, accountRecord)) {
    const where = `${sealed ? 'sealed' : 'plain'}, ${label}`;
    const before = await raw.load(id, KEY);
    const generation = (before?.generation ?? 0) + 1;
    await raw.commit(id, [{ key: KEY, generation, bytes }]);
    for (let open = 0; open < 2; open++) {
      const stored: StoredAccount = await openStoredAccount(inner, id, options);
      for (let attempt = 1; attempt <= 3; attempt++) {
        const got = await settle(() => stored.conversation(BOB));
        check(got !== 'ok' && !got.startsWith('threw') && !got.startsWith('untyped'), `${where}, open ${open}, attempt ${attempt}: ${got}`);
      }
      // The account goes on: another conversation commits, the account record commits.
      await stored.conversation(`dave-${open}@example.net`);
      await stored.commit(stored.account.changes({ all: true }));
      check((await raw.load(id, `conv:dave-${open}@example.net`)) !== undefined, `${where}: another conversation committed`);
      const after = await raw.load(id, KEY);
      check(after?.generation === generation && equal(after.bytes, bytes), `${where}, open ${open}: the record was rewritten`);
      await stored.close();
    }
    // The way out: forget deletes it (at its next generation); the conversation then starts afresh.
    const stored = await openStoredAccount(inner, id, options);
    await stored.forget(BOB);
    check((await raw.load(id, KEY)) === undefined, `${where}: forget deleted the record`);
    const fresh = await stored.conversation(BOB);
    check(fresh.state === 'START', `${where}: a fresh conversation after forget`);
    await stored.commit(stored.account.changes({ all: true }));
    check((await raw.load(id, KEY))?.generation === 1, `${where}: the fresh conversation's record`);
    await stored.close();
    // Back to no record for the next label.
    await raw.commit(id, [{ key: KEY, generation: 2, bytes: null }]);
  }
  await inner.close();
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** [name, run(makeStore, account options)] pairs: a suite registers each as a test. */
export function storedAccountCases(account: Omit<AccountOptions, 'accountId'>): [string, (makeStore: () => Promise<RecordStore>) => Promise<void>][] {
  return [
    ['openStoredAccount: a conversation record that does not decode fails typed on every use, is never overwritten (plain)', (m) => run(m, account, false)],
    ['openStoredAccount: a sealed conversation record that opens but does not decode, the same (sealed)', (m) => run(m, account, true)],
  ];
}
