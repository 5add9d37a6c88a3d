/**
 * Session 9: a sealed conversation row that no longer opens (another key sealed it, a bit flipped, another
 * record's row swapped in, its generation column moved, bytes that are no sealed record at all) makes
 * `stored.conversation(peer)` reject typed, and `stored.forget(peer)` must still delete it — by compare-and-set
 * on the store's own generation, the only one readable — without ever deleting newer state a live writer put
 * there meanwhile: that writer wins (forget gets CONFLICT, the writer's row stays) or the writer gets CONFLICT.
 *
 * Store-agnostic (no Node imports): run by test/attacks/s9-forget-unreadable.test.ts on the memory and SQLite
 * stores, by the PostgreSQL suite (s9-postgres) and by the IndexedDB page (Chromium). Each case throws on the
 * first thing that does not hold; its message says what.
 */
import { openStoredAccount } from '../../ts/session/account-store.js';
import { sealedStore } from '../../ts/store/sealing.js';
import { settledAs } from '../helpers/settled.js';
import type { AccountOptions } from '../../ts/session/account.js';
import type { RecordChange, RecordStore, StoredRecord } from '../../ts/store/types.js';

const SEAL_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0x3c ^ (i * 11));
const OTHER_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0xa5 ^ (i * 5));
const BOB = 'bob@example.net';
const CAROL = 'carol@example.net';
const KEY = `conv:${BOB}`;
let accounts = 0;
/** Stores a case opened: closed when it ends, passed or failed (an open SQLite worker would keep the suite alive). */
const opened: RecordStore[] = [];

/** Runs a case, then closes every store in `opened` (shared with s9-forget-refused). */
export async function closingAll(opened: RecordStore[], run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } finally {
    await Promise.all(opened.splice(0).map((s) => s.close().catch(() => {})));
  }
}

function closing(run: () => Promise<void>): Promise<void> {
  return closingAll(opened, run);
}

export function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The row name and account name a sealed store gives (accountId, key): captured from a commit never made. */
export async function rowOf(accountId: string, key: string, sealKey = SEAL_KEY): Promise<{ account: string; key: string }> {
  let seen: { account: string; key: string } | undefined;
  const capture: RecordStore = {
    load: async () => undefined,
    keys: async () => [],
    commit: async (a, c) => {
      seen = { account: a, key: c[0]!.key };
      throw new Error('captured');
    },
    close: async () => {},
  };
  await sealedStore(capture, sealKey)
    .commit(accountId, [{ key, generation: 1, bytes: new Uint8Array(1) }])
    .catch(() => {});
  return seen!;
}

/** A store that hands every commit to `inner` under another (account, key): to seal a row for one place and land it in another. */
function redirect(inner: RecordStore, to: { account: string; key: string }): RecordStore {
  return {
    load: (_a, _k) => inner.load(to.account, to.key),
    keys: (a) => inner.keys(a),
    commit: (_a, c) => inner.commit(to.account, c.map((x) => ({ ...x, key: to.key }))),
    close: async () => {},
  };
}

/**
 * A store that runs `before(op)` ahead of every load and commit of `inner`, where the test plays a racing writer
 * at a chosen moment (the delete of forget, or the read it is based on).
 */
function hooked(inner: RecordStore, before: (op: { kind: 'load' | 'commit'; account: string; key: string; changes?: readonly RecordChange[] }) => Promise<void>): RecordStore {
  return {
    load: async (a, k) => {
      await before({ kind: 'load', account: a, key: k });
      return inner.load(a, k);
    },
    keys: (a) => inner.keys(a),
    commit: async (a, c) => {
      await before({ kind: 'commit', account: a, key: c[0]?.key ?? '', changes: c });
      return inner.commit(a, c);
    },
    close: async () => {},
  };
}

interface Setup {
  id: string;
  inner: RecordStore;
  /** The sealed view a host with the right key has (rows that open). */
  sealed: RecordStore;
  bobRow: { account: string; key: string };
  carolRow: { account: string; key: string };
}

async function setUp(makeStore: () => Promise<RecordStore>, account: Omit<AccountOptions, 'accountId'>): Promise<Setup> {
  const inner = await makeStore();
  opened.push(inner);
  const id = `alice-s9-${accounts++}@example.org`;
  const stored = await openStoredAccount(inner, id, { account, create: true, sealKey: SEAL_KEY });
  await stored.conversation(BOB);
  await stored.conversation(CAROL);
  await stored.commit(stored.account.changes({ all: true }));
  await stored.close();
  return { id, inner, sealed: sealedStore(inner, SEAL_KEY), bobRow: await rowOf(id, KEY), carolRow: await rowOf(id, `conv:${CAROL}`) };
}

/** Ways a sealed row stops opening: each turns Bob's row into one that the seal key no longer opens. */
const unopenable: [string, (s: Setup) => Promise<void>][] = [
  [
    'sealed with another key',
    async (s) => {
      const plain = (await s.sealed.load(s.id, KEY))!;
      await sealedStore(redirect(s.inner, s.bobRow), OTHER_KEY).commit(s.id, [{ key: KEY, generation: plain.generation + 1, bytes: plain.bytes }]);
    },
  ],
  [
    'a bit flipped (written at the next generation)',
    async (s) => {
      const row = (await s.inner.load(s.bobRow.account, s.bobRow.key))!;
      const flipped = row.bytes.slice();
      flipped[flipped.length >> 1]! ^= 0x10;
      await s.inner.commit(s.bobRow.account, [{ key: s.bobRow.key, generation: row.generation + 1, bytes: flipped }]);
    },
  ],
  [
    "carol's row swapped onto bob's",
    async (s) => {
      const row = (await s.inner.load(s.bobRow.account, s.bobRow.key))!;
      const carol = (await s.inner.load(s.carolRow.account, s.carolRow.key))!;
      await s.inner.commit(s.bobRow.account, [{ key: s.bobRow.key, generation: row.generation + 1, bytes: carol.bytes }]);
    },
  ],
  [
    'its own bytes under a moved generation',
    async (s) => {
      const row = (await s.inner.load(s.bobRow.account, s.bobRow.key))!;
      await s.inner.commit(s.bobRow.account, [{ key: s.bobRow.key, generation: row.generation + 1, bytes: row.bytes }]);
    },
  ],
  [
    'not a sealed record at all',
    async (s) => {
      const row = (await s.inner.load(s.bobRow.account, s.bobRow.key))!;
      await s.inner.commit(s.bobRow.account, [{ key: s.bobRow.key, generation: row.generation + 1, bytes: new Uint8Array([7, 7, 7]) }]);
    },
  ],
];

async function rawRow(s: Setup): Promise<StoredRecord | undefined> {
  return s.inner.load(s.bobRow.account, s.bobRow.key);
}

/** forget deletes a row that does not open; the account goes on; Bob starts afresh. */
async function forgetsUnopenable(makeStore: () => Promise<RecordStore>, account: Omit<AccountOptions, 'accountId'>): Promise<void> {
  for (const [label, spoil] of unopenable) {
    const s = await setUp(makeStore, account);
    await spoil(s);
    const stored = await openStoredAccount(s.inner, s.id, { account, sealKey: SEAL_KEY });
    const refused = await settledAs(stored.conversation(BOB));
    check(refused === 'BAD_MAC' || refused === 'MALFORMED', `${label}: conversation() ${refused}`);
    const forgot = await settledAs(stored.forget(BOB));
    check(forgot === 'ok', `${label}: forget() ${forgot}`);
    check((await rawRow(s)) === undefined, `${label}: the row is gone`);
    const fresh = await stored.conversation(BOB);
    check(fresh.state === 'START', `${label}: a fresh conversation after forget`);
    await stored.commit(stored.account.changes({ all: true }));
    check((await s.sealed.load(s.id, KEY))?.generation === 1, `${label}: the fresh conversation's record at generation 1`);
    check((await s.sealed.load(s.id, `conv:${CAROL}`)) !== undefined, `${label}: carol's record untouched`);
    await stored.close();
  }
}

/**
 * A racing writer replaces the unopenable row with one that opens, (a) between forget's read of the generation
 * and its delete, (b) just before that read: forget must not delete it — CONFLICT, the writer's row stays — and
 * a second forget (the row opens now) deletes it. (c) A writer whose base is the unopenable row's generation,
 * landing after forget deleted it: CONFLICT for the writer, nothing written.
 */
async function racingWriter(makeStore: () => Promise<RecordStore>, account: Omit<AccountOptions, 'accountId'>): Promise<void> {
  for (const moment of ['before the delete', 'before the read'] as const) {
    const base = await setUp(makeStore, account);
    const genuine = (await base.sealed.load(base.id, KEY))!.bytes;
    await unopenable[1]![1](base); // a bit flipped
    const spoiled = (await rawRow(base))!;
    let raced = false;
    // Loads of Bob's row: conversation() below, forget's attach, then forget's read of the stored generation.
    let bobLoads = 0;
    const s: Setup = {
      ...base,
      inner: hooked(base.inner, async (op) => {
        if (raced || op.account !== base.bobRow.account || op.key !== base.bobRow.key) return;
        const due = moment === 'before the delete' ? op.kind === 'commit' && op.changes?.[0]?.bytes === null : op.kind === 'load' && ++bobLoads === 3;
        if (!due) return;
        raced = true;
        // Another process with the right key heals the record: a row that opens, at the next generation.
        await base.sealed.commit(base.id, [{ key: KEY, generation: spoiled.generation + 1, bytes: genuine }]);
      }),
    };
    const stored = await openStoredAccount(s.inner, s.id, { account, sealKey: SEAL_KEY });
    check((await settledAs(stored.conversation(BOB))) === 'BAD_MAC', `${moment}: the row does not open`);
    const forgot = await settledAs(stored.forget(BOB));
    check(raced, `${moment}: the racing writer ran`);
    check(forgot === 'CONFLICT', `${moment}: forget() ${forgot}, expected CONFLICT`);
    const now = await base.sealed.load(base.id, KEY);
    check(now?.generation === spoiled.generation + 1 && equal(now.bytes, genuine), `${moment}: the writer's row stays`);
    // The row opens now: forget takes the ordinary way and deletes it.
    const again = await settledAs(stored.forget(BOB));
    check(again === 'ok', `${moment}: second forget() ${again}`);
    check((await rawRow(base)) === undefined, `${moment}: deleted by the second forget`);
    await stored.close();
  }
  // (c) the writer comes second.
  const s = await setUp(makeStore, account);
  const genuine = (await s.sealed.load(s.id, KEY))!.bytes;
  await unopenable[0]![1](s); // sealed with another key
  const spoiled = (await rawRow(s))!;
  const stored = await openStoredAccount(s.inner, s.id, { account, sealKey: SEAL_KEY });
  check((await settledAs(stored.forget(BOB))) === 'ok', 'writer second: forget');
  const late = await settledAs(s.sealed.commit(s.id, [{ key: KEY, generation: spoiled.generation + 1, bytes: genuine }]));
  check(late === 'CONFLICT', `writer second: its commit ${late}`);
  check((await rawRow(s)) === undefined, 'writer second: nothing written');
  await stored.close();
}

/** [name, run(makeStore)] pairs: a suite registers each as a test. */
export function forgetUnreadableCases(account: Omit<AccountOptions, 'accountId'>): [string, (makeStore: () => Promise<RecordStore>) => Promise<void>][] {
  return [
    ['forget() deletes a sealed conversation row that does not open (5 ways), by compare-and-set on the stored generation', (m) => closing(() => forgetsUnopenable(m, account))],
    ['forget() of a row that does not open never deletes a racing writer\'s newer row (CONFLICT), nor lets a writer based on it write after', (m) => closing(() => racingWriter(m, account))],
  ];
}
