/**
 * The RecordStore contract as one list of cases, run against every store: memory, SQLite and PostgreSQL in
 * Node (uvu), IndexedDB in Chromium (the page bundles this file). It uses no test framework, only throws, so
 * the same cases run in a page. Each case gets a fresh account id, so stores can be shared between cases.
 * Attack cases first: stale writers, racing writers, partial commits, absurd sizes.
 */
import { OtrError } from '../../ts/errors.js';
import type { Limits } from '../../ts/limits.js';
import type { RecordChange, RecordStore } from '../../ts/store/types.js';

export type MakeStore = (limits?: Partial<Limits>) => Promise<RecordStore>;

export interface ContractCase {
  name: string;
  run(make: MakeStore, accountId: string): Promise<void>;
}

function fail(msg: string): never {
  throw new Error(msg);
}

function eq(got: unknown, want: unknown, what: string): void {
  const g = JSON.stringify(got, (_, v) => (v instanceof Uint8Array ? `bytes:${Array.from(v).join(',')}` : v));
  const w = JSON.stringify(want, (_, v) => (v instanceof Uint8Array ? `bytes:${Array.from(v).join(',')}` : v));
  if (g !== w) fail(`${what}: got ${g.slice(0, 200)}, want ${w.slice(0, 200)}`);
}

/** The promise must reject with an OtrError of `code` (never another error, never success). */
async function refuses(p: Promise<unknown>, code: string, what: string): Promise<OtrError> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof OtrError)) fail(`${what}: untyped error ${(e as Error)?.name}: ${(e as Error)?.message}`);
    if (e.code !== code) fail(`${what}: code ${e.code} (${e.message}), want ${code}`);
    return e;
  }
  return fail(`${what}: accepted, want ${code}`);
}

const bytes = (...b: number[]) => new Uint8Array(b);
const put = (key: string, generation: number, b: Uint8Array | null): RecordChange => ({ key, generation, bytes: b });

async function withStore(make: MakeStore, fn: (s: RecordStore) => Promise<void>, limits?: Partial<Limits>): Promise<void> {
  const s = await make(limits);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

async function state(s: RecordStore, a: string, key: string): Promise<[number, number[]] | undefined> {
  const r = await s.load(a, key);
  return r && [r.generation, Array.from(r.bytes)];
}

export const CONTRACT: ContractCase[] = [
  {
    name: 'a stale writer (same base generation, second) gets CONFLICT naming the record; the newer state stays',
    run: (make, a) =>
      withStore(make, async (s) => {
        await s.commit(a, [put('conv:bob', 1, bytes(1))]);
        await s.commit(a, [put('conv:bob', 2, bytes(2))]);
        const e = await refuses(s.commit(a, [put('conv:bob', 2, bytes(66))]), 'CONFLICT', 'stale writer');
        eq((e as OtrError & { key?: string }).key, 'conv:bob', 'conflict names the record');
        await refuses(s.commit(a, [put('conv:bob', 1, bytes(66))]), 'CONFLICT', 'create over an existing record');
        await refuses(s.commit(a, [put('conv:bob', 4, bytes(66))]), 'CONFLICT', 'skipping a generation');
        eq(await state(s, a, 'conv:bob'), [2, [2]], 'the newer state survives');
      }),
  },
  {
    name: 'two writers racing from one base: exactly one wins, the other gets CONFLICT',
    run: (make, a) =>
      withStore(make, async (s) => {
        await s.commit(a, [put('conv:bob', 1, bytes(1))]);
        for (let round = 2; round < 8; round++) {
          const results = await Promise.allSettled([
            s.commit(a, [put('conv:bob', round, bytes(round, 0xa))]),
            s.commit(a, [put('conv:bob', round, bytes(round, 0xb))]),
          ]);
          const won = results.filter((r) => r.status === 'fulfilled').length;
          eq(won, 1, `round ${round}: winners`);
          const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
          eq((lost.reason as OtrError).code, 'CONFLICT', `round ${round}: the loser's error`);
          const winner = results[0]!.status === 'fulfilled' ? 0xa : 0xb;
          eq(await state(s, a, 'conv:bob'), [round, [round, winner]], `round ${round}: the winner's bytes`);
        }
      }),
  },
  {
    name: 'a commit is all or nothing: one conflicting change means no change is written',
    run: (make, a) =>
      withStore(make, async (s) => {
        await s.commit(a, [put('account', 1, bytes(1)), put('conv:bob', 1, bytes(1))]);
        await refuses(
          s.commit(a, [put('account', 2, bytes(2)), put('conv:carol', 1, bytes(3)), put('conv:bob', 5, bytes(5))]),
          'CONFLICT',
          'one bad change',
        );
        eq(await state(s, a, 'account'), [1, [1]], 'account untouched');
        eq(await state(s, a, 'conv:carol'), undefined, 'new record not created');
        eq((await s.keys(a)).sort(), ['account', 'conv:bob'], 'keys unchanged');
        await s.commit(a, [put('account', 2, bytes(2)), put('conv:carol', 1, bytes(3)), put('conv:bob', 2, bytes(5))]);
        eq(await state(s, a, 'conv:bob'), [2, [5]], 'a correct commit then applies');
      }),
  },
  {
    name: 'delete (bytes null) is compare-and-set too; a deleted record can be created again from generation 1',
    run: (make, a) =>
      withStore(make, async (s) => {
        await s.commit(a, [put('conv:bob', 1, bytes(1)), put('conv:carol', 1, bytes(1))]);
        await refuses(s.commit(a, [put('conv:bob', 3, null)]), 'CONFLICT', 'delete with the wrong base');
        await refuses(s.commit(a, [put('conv:dave', 2, null)]), 'CONFLICT', 'delete of a missing record');
        await refuses(s.commit(a, [put('conv:dave', 1, null)]), 'INVALID_ARGUMENT', 'a delete at generation 1 deletes nothing');
        await s.commit(a, [put('conv:bob', 2, null)]);
        eq(await s.load(a, 'conv:bob'), undefined, 'deleted');
        eq(await s.keys(a), ['conv:carol'], 'no longer listed');
        await refuses(s.commit(a, [put('conv:bob', 3, bytes(3))]), 'CONFLICT', 'a stale writer cannot resurrect it');
        await s.commit(a, [put('conv:bob', 1, bytes(9))]);
        eq(await state(s, a, 'conv:bob'), [1, [9]], 'created again');
      }),
  },
  {
    name: 'absurd input is refused before the database: sizes (LIMIT_EXCEEDED), generations and shapes (INVALID_ARGUMENT)',
    run: (make, a) =>
      withStore(
        make,
        async (s) => {
          await refuses(s.commit(a, [put('big', 1, new Uint8Array(4097))]), 'LIMIT_EXCEEDED', 'record over maxRecordBytes');
          await refuses(s.commit(a, [put('k'.repeat(65), 1, bytes(1))]), 'LIMIT_EXCEEDED', 'key over maxRecordKeyBytes');
          await refuses(s.commit('é'.repeat(33), [put('k', 1, bytes(1))]), 'LIMIT_EXCEEDED', 'account id over maxRecordKeyBytes (UTF-8)');
          await refuses(s.commit(a, Array.from({ length: 9 }, (_, i) => put(`k${i}`, 1, bytes(1)))), 'LIMIT_EXCEEDED', 'too many changes');
          for (const g of [0, -1, 1.5, NaN, Infinity, 2 ** 53, '2' as unknown as number])
            await refuses(s.commit(a, [put('k', g, bytes(1))]), 'INVALID_ARGUMENT', `generation ${String(g)}`);
          await refuses(s.commit(a, [put('k', 1, bytes(1)), put('k', 1, bytes(2))]), 'INVALID_ARGUMENT', 'one key twice');
          await refuses(s.commit(a, [put('', 1, bytes(1))]), 'INVALID_ARGUMENT', 'empty key');
          await refuses(s.commit(a, [{ key: 'k', generation: 1, bytes: [1, 2] as unknown as Uint8Array }]), 'INVALID_ARGUMENT', 'bytes not bytes');
          await refuses(s.commit(a, 'nope' as unknown as RecordChange[]), 'INVALID_ARGUMENT', 'changes not an array');
          await refuses(s.load(a, ''), 'INVALID_ARGUMENT', 'load of an empty key');
          eq(await s.keys(a), [], 'nothing was written');
          await s.commit(a, [put('k'.repeat(64), 1, new Uint8Array(4096))]);
          eq((await s.load(a, 'k'.repeat(64)))?.bytes.length, 4096, 'exactly at the limits is fine');
        },
        { maxRecordBytes: 4096, maxRecordKeyBytes: 64, maxChangesPerCommit: 8 },
      ),
  },
  {
    name: 'more records than maxRecordsPerAccount are refused (keys() could no longer list them)',
    run: (make, a) =>
      withStore(
        make,
        async (s) => {
          await s.commit(a, [put('a', 1, bytes(1)), put('b', 1, bytes(1)), put('c', 1, bytes(1))]);
          await refuses(s.commit(a, [put('d', 1, bytes(1))]), 'LIMIT_EXCEEDED', 'a fourth record');
          await s.commit(a, [put('a', 2, bytes(2)), put('c', 2, null)]);
          await s.commit(a, [put('d', 1, bytes(1))]);
          eq((await s.keys(a)).sort(), ['a', 'b', 'd'], 'updates and deletes stay possible at the limit');
        },
        { maxRecordsPerAccount: 3 },
      ),
  },
  {
    name: 'round trip: bytes, generations and keys (UTF-8, empty record); accounts are separate; bytes are copied',
    run: (make, a) =>
      withStore(make, async (s) => {
        eq(await s.load(a, 'account'), undefined, 'nothing yet');
        eq(await s.keys(a), [], 'no keys yet');
        const mine = bytes(1, 2, 3);
        await s.commit(a, [put('account', 1, mine), put('conv:bøb@例え.jp', 1, new Uint8Array(0))]);
        mine.fill(0);
        eq(await state(s, a, 'account'), [1, [1, 2, 3]], 'the store kept its own copy');
        eq(await state(s, a, 'conv:bøb@例え.jp'), [1, []], 'empty record, unicode key');
        const got = await s.load(a, 'account');
        got!.bytes.fill(9);
        eq(await state(s, a, 'account'), [1, [1, 2, 3]], 'the caller got a copy');
        eq((await s.keys(a)).sort(), ['account', 'conv:bøb@例え.jp'], 'keys');
        const other = `${a}/other`;
        eq(await s.keys(other), [], 'another account sees nothing');
        await s.commit(other, [put('account', 1, bytes(7))]);
        eq(await state(s, a, 'account'), [1, [1, 2, 3]], 'same key, other account: independent');
        await s.commit(a, [put('account', 2, bytes(4, 5))]);
        eq(await state(s, other, 'account'), [1, [7]], 'and the other way round');
        await s.commit(a, []);
      }),
  },
  {
    name: 'a second store instance on the same database sees every acknowledged commit and loses races the same way',
    run: (make, a) =>
      withStore(make, async (s1) =>
        withStore(make, async (s2) => {
          await s1.commit(a, [put('conv:bob', 1, bytes(1))]);
          eq(await state(s2, a, 'conv:bob'), [1, [1]], 'visible to the second instance');
          await s2.commit(a, [put('conv:bob', 2, bytes(2))]);
          await refuses(s1.commit(a, [put('conv:bob', 2, bytes(3))]), 'CONFLICT', 'the first is now stale');
          eq(await state(s1, a, 'conv:bob'), [2, [2]], 'and reads the newer state');
        }),
      ),
  },
  {
    name: 'bytes changed by the caller right after commit() (not awaited) do not change what is stored',
    run: (make, a) =>
      withStore(make, async (s) => {
        const mine = new Uint8Array(64).fill(1);
        const pending = s.commit(a, [put('conv:bob', 1, mine)]);
        mine.fill(0xee);
        await pending;
        eq(await state(s, a, 'conv:bob'), [1, Array.from(new Uint8Array(64).fill(1))], 'the bytes as they were at the call');
      }),
  },
  {
    name: 'a larger account: 300 conversations of 2.1 KB, listed and loaded back intact',
    run: (make, a) =>
      withStore(make, async (s) => {
        const rec = (i: number) => Uint8Array.from({ length: 2150 }, (_, j) => (i * 31 + j) & 0xff);
        for (let i = 0; i < 300; i += 50)
          await s.commit(
            a,
            Array.from({ length: 50 }, (_, j) => put(`conv:peer${i + j}@example.org`, 1, rec(i + j))),
          );
        eq((await s.keys(a)).length, 300, 'listed');
        for (const i of [0, 137, 299]) eq(await state(s, a, `conv:peer${i}@example.org`), [1, Array.from(rec(i))], `record ${i}`);
      }),
  },
];

/** Runs every case with a fresh account id each; returns failures (empty when all pass). For pages. */
export async function runContract(make: MakeStore, prefix: string): Promise<{ name: string; error?: string }[]> {
  const out: { name: string; error?: string }[] = [];
  let i = 0;
  for (const c of CONTRACT) {
    try {
      await c.run(make, `${prefix}-${i++}@example.org`);
      out.push({ name: c.name });
    } catch (e) {
      out.push({ name: c.name, error: `${(e as Error).name}: ${(e as Error).message}` });
    }
  }
  return out;
}
