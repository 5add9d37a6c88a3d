/**
 * Session 9: a conversation row that the store itself refuses on load — larger than maxRecordBytes
 * (LIMIT_EXCEEDED), a generation column that is no generation (0, negative, fractional, beyond 2^53, text), a
 * value of the wrong type (MALFORMED) — written behind the store by a hostile disk or database writer. Every use
 * of the conversation rejects typed, and `stored.forget(peer)` must still remove it: the store deletes the row
 * only while it is one it refuses (RecordStore.deleteRefused, a condition the store evaluates on the row as it
 * stands), so a valid row a live writer put there meanwhile is never deleted (forget gets CONFLICT), and a
 * writer based on the refused row that comes after the delete gets CONFLICT.
 *
 * Store-agnostic (no Node imports): run by s9-forget-refused.test.ts (memory, SQLite, SQLite on a worker), by
 * s9-postgres.test.ts and by the IndexedDB page (Chromium). Each store says how a hostile writer plants a row
 * (`Planter`); the memory store cannot hold a refused row, so it runs only the cases that need none.
 */
import { openStoredAccount } from '../../ts/session/account-store.js';
import { sealedStore } from '../../ts/store/sealing.js';
import { OtrLimitError } from '../../ts/errors.js';
import { settledAs } from '../helpers/settled.js';
import { check, closingAll, equal, rowOf } from './s9-forget-unreadable.js';
import type { AccountOptions } from '../../ts/session/account.js';
import type { RecordChange, RecordStore } from '../../ts/store/types.js';

/** The maxRecordBytes the stores under test are opened with: an oversized row is this + 1 bytes (cheap to plant). */
export const REFUSED_LIMIT = 1 << 16;

/** How a hostile writer spoils a row. Each store plants the kinds its database can hold. */
export type Hostile =
  | 'oversized'
  | 'generation 0'
  | 'negative generation'
  | 'non-integer generation'
  | 'generation beyond 2^53'
  | 'text generation'
  | 'bytes not bytes'
  | 'not a record';

export interface Planter {
  readonly kinds: readonly Hostile[];
  /**
   * Spoils the row (account, key) as the store names them (sealed: the keyed names), which exists, behind the
   * store. 'oversized' keeps the row's generation column valid: `generation` is the one to give it.
   */
  plant(kind: Hostile, account: string, key: string, generation: number): Promise<void>;
}

const SEAL_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0x5e ^ (i * 7));
const BOB = 'bob@example.net';
const CAROL = 'carol@example.net';
const KEY = `conv:${BOB}`;
let accounts = 0;
const opened: RecordStore[] = [];

function closing(run: () => Promise<void>): Promise<void> {
  return closingAll(opened, run);
}

interface Setup {
  id: string;
  inner: RecordStore;
  /** What the host's seal key makes of the store (undefined: the account is not sealed). */
  sealed: RecordStore | undefined;
  bobRow: { account: string; key: string };
}

async function setUp(makeStore: () => Promise<RecordStore>, account: Omit<AccountOptions, 'accountId'>, seal = true): Promise<Setup> {
  const inner = await makeStore();
  opened.push(inner);
  const id = `alice-s9r-${accounts++}@example.org`;
  const stored = await openStoredAccount(inner, id, { account, create: true, sealKey: seal ? SEAL_KEY : undefined });
  await stored.conversation(BOB);
  await stored.conversation(CAROL);
  await stored.commit(stored.account.changes({ all: true }));
  await stored.close();
  return {
    id,
    inner,
    sealed: seal ? sealedStore(inner, SEAL_KEY) : undefined,
    bobRow: seal ? await rowOf(id, KEY, SEAL_KEY) : { account: id, key: KEY },
  };
}

/** The record as the host reads it (through its seal key, if any). */
function hostView(s: Setup): RecordStore {
  return s.sealed ?? s.inner;
}

/** The raw row's generation as the store holds it (it loads: the row is a valid one). */
async function rawGeneration(s: Setup): Promise<number> {
  return (await s.inner.load(s.bobRow.account, s.bobRow.key))!.generation;
}

/** forget() removes each kind of refused row; the account goes on; Bob starts afresh; Carol is untouched. */
async function forgetsRefused(makeStore: () => Promise<RecordStore>, planter: Planter, account: Omit<AccountOptions, 'accountId'>, seal: boolean): Promise<void> {
  for (const kind of seal ? planter.kinds : (['oversized'] as const)) {
    const label = `${seal ? 'sealed' : 'unsealed'}, ${kind}`;
    const s = await setUp(makeStore, account, seal);
    await planter.plant(kind, s.bobRow.account, s.bobRow.key, (await rawGeneration(s)) + 1);
    check((await settledAs(s.inner.load(s.bobRow.account, s.bobRow.key))) !== 'ok', `${label}: the store refuses the planted row`);
    const stored = await openStoredAccount(s.inner, s.id, { account, sealKey: seal ? SEAL_KEY : undefined });
    const refused = await settledAs(stored.conversation(BOB));
    check(refused === 'LIMIT_EXCEEDED' || refused === 'MALFORMED', `${label}: conversation() ${refused}`);
    const forgot = await settledAs(stored.forget(BOB));
    check(forgot === 'ok', `${label}: forget() ${forgot}`);
    check((await s.inner.load(s.bobRow.account, s.bobRow.key)) === undefined, `${label}: the row is gone`);
    const fresh = await stored.conversation(BOB);
    check(fresh.state === 'START', `${label}: a fresh conversation after forget`);
    await stored.commit(stored.account.changes({ all: true }));
    check((await hostView(s).load(s.id, KEY))?.generation === 1, `${label}: the fresh conversation's record at generation 1`);
    check((await hostView(s).load(s.id, `conv:${CAROL}`)) !== undefined, `${label}: carol's record untouched`);
    await stored.close();
  }
}

/** `inner` with `before()` run ahead of its deleteRefused: the moment a racing writer plays. */
function beforeDelete(inner: RecordStore, before: () => Promise<void>): RecordStore {
  return {
    load: (a, k) => inner.load(a, k),
    keys: (a) => inner.keys(a),
    commit: (a, c) => inner.commit(a, c),
    async deleteRefused(a, k) {
      await before();
      return inner.deleteRefused!(a, k);
    },
    close: async () => {},
  };
}

/**
 * (a) A racing writer replaces the oversized row (its generation column valid: a compare-and-set can update
 * it) with a valid one just before the delete: the delete must not take it — forget CONFLICT, the writer's row
 * stays — and a second forget deletes it the ordinary way. (b) A writer based on the refused row's generation,
 * landing after forget deleted it: CONFLICT, nothing written.
 */
async function racingWriter(makeStore: () => Promise<RecordStore>, planter: Planter, account: Omit<AccountOptions, 'accountId'>): Promise<void> {
  const base = await setUp(makeStore, account);
  const genuine = (await base.sealed!.load(base.id, KEY))!.bytes;
  const spoiledAt = (await rawGeneration(base)) + 1;
  await planter.plant('oversized', base.bobRow.account, base.bobRow.key, spoiledAt);
  let raced = false;
  const racing = beforeDelete(base.inner, async () => {
    raced = true;
    await base.sealed!.commit(base.id, [{ key: KEY, generation: spoiledAt + 1, bytes: genuine }]);
  });
  const stored = await openStoredAccount(racing, base.id, { account, sealKey: SEAL_KEY });
  check((await settledAs(stored.conversation(BOB))) === 'LIMIT_EXCEEDED', 'racing: the row is refused');
  const forgot = await settledAs(stored.forget(BOB));
  check(raced, 'racing: the writer ran');
  check(forgot === 'CONFLICT', `racing: forget() ${forgot}, expected CONFLICT`);
  const now = await base.sealed!.load(base.id, KEY);
  check(now?.generation === spoiledAt + 1 && equal(now.bytes, genuine), "racing: the writer's row stays");
  const again = await settledAs(stored.forget(BOB));
  check(again === 'ok', `racing: second forget() ${again}`);
  check((await base.inner.load(base.bobRow.account, base.bobRow.key)) === undefined, 'racing: deleted by the second forget');
  await stored.close();

  const s = await setUp(makeStore, account);
  const genuine2 = (await s.sealed!.load(s.id, KEY))!.bytes;
  const at = (await rawGeneration(s)) + 1;
  await planter.plant('oversized', s.bobRow.account, s.bobRow.key, at);
  const stored2 = await openStoredAccount(s.inner, s.id, { account, sealKey: SEAL_KEY });
  check((await settledAs(stored2.forget(BOB))) === 'ok', 'writer second: forget');
  const late = await settledAs(s.sealed!.commit(s.id, [{ key: KEY, generation: at + 1, bytes: genuine2 }]));
  check(late === 'CONFLICT', `writer second: its commit ${late}`);
  check((await s.inner.load(s.bobRow.account, s.bobRow.key)) === undefined, 'writer second: nothing written');
  await stored2.close();
}

/** deleteRefused on a row the store loads, and on none: nothing deleted (false), the row as it was. */
async function neverValid(makeStore: () => Promise<RecordStore>, account: Omit<AccountOptions, 'accountId'>): Promise<void> {
  for (const seal of [true, false]) {
    const s = await setUp(makeStore, account, seal);
    check(typeof s.inner.deleteRefused === 'function', 'the store implements deleteRefused');
    const before = (await s.inner.load(s.bobRow.account, s.bobRow.key))!;
    const deleted = await s.inner.deleteRefused!(s.bobRow.account, s.bobRow.key);
    check(deleted === false, `seal ${seal}: deleteRefused of a valid row answered ${deleted}`);
    const after = await s.inner.load(s.bobRow.account, s.bobRow.key);
    check(after?.generation === before.generation && equal(after.bytes, before.bytes), `seal ${seal}: the valid row is intact`);
    check((await s.inner.deleteRefused!(s.bobRow.account, 'conv:nobody')) === false, `seal ${seal}: deleteRefused of no row`);
    check((await settledAs(s.inner.deleteRefused!('', 'x'))) === 'INVALID_ARGUMENT', `seal ${seal}: an empty account id is refused`);
  }
}

/**
 * A store without deleteRefused (a host's own), whose load refuses Bob's row: forget rejects typed (STATE), its
 * message naming the way out, and deletes nothing.
 */
async function storeWithout(makeStore: () => Promise<RecordStore>, account: Omit<AccountOptions, 'accountId'>): Promise<void> {
  const s = await setUp(makeStore, account);
  const refusing: RecordStore = {
    load: async (a, k) => {
      if (a === s.bobRow.account && k === s.bobRow.key) throw new OtrLimitError(`stored record ${JSON.stringify(k)} of 99999999 bytes exceeds maxRecordBytes`);
      return s.inner.load(a, k);
    },
    keys: (a) => s.inner.keys(a),
    commit: (a, c: readonly RecordChange[]) => s.inner.commit(a, c),
    close: async () => {},
  };
  const stored = await openStoredAccount(refusing, s.id, { account, sealKey: SEAL_KEY });
  check((await settledAs(stored.conversation(BOB))) === 'LIMIT_EXCEEDED', 'without: conversation() refused');
  let message = '';
  const forgot = await settledAs(
    stored.forget(BOB).catch((e: unknown) => {
      message = (e as Error).message;
      throw e;
    }),
  );
  check(forgot === 'STATE', `without: forget() ${forgot}, expected STATE`);
  check(message.includes('deleteRefused') && message.includes(s.bobRow.key), `without: the message names the way out and the row: ${message}`);
  check((await s.inner.load(s.bobRow.account, s.bobRow.key)) !== undefined, 'without: nothing deleted');
  await stored.close();
}

/**
 * [name, run(makeStore)] pairs: a suite registers each as a test. `makeStore` must open the store with
 * `limits: { maxRecordBytes: REFUSED_LIMIT }`. Without a planter (the memory store) only the cases that plant
 * nothing.
 */
export function forgetRefusedCases(
  account: Omit<AccountOptions, 'accountId'>,
  planter?: Planter,
): [string, (makeStore: () => Promise<RecordStore>) => Promise<void>][] {
  const cases: [string, (makeStore: () => Promise<RecordStore>) => Promise<void>][] = [
    ['deleteRefused never deletes a row the store loads (nor a missing one)', (m) => closing(() => neverValid(m, account))],
    ['forget() through a store without deleteRefused: STATE naming the way out, nothing deleted', (m) => closing(() => storeWithout(m, account))],
  ];
  if (planter === undefined) return cases;
  return [
    ...cases,
    [`forget() deletes a sealed row the store refuses (${planter.kinds.join(', ')})`, (m) => closing(() => forgetsRefused(m, planter, account, true))],
    ['forget() deletes an unsealed row the store refuses (oversized)', (m) => closing(() => forgetsRefused(m, planter, account, false))],
    ["forget() of a refused row never deletes a racing writer's valid row (CONFLICT), nor lets a writer based on it write after", (m) => closing(() => racingWriter(m, planter, account))],
  ];
}
