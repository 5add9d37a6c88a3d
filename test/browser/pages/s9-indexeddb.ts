/**
 * Entry of the session 9 IndexedDB page (build/browser/s9-indexeddb.js, loaded by s9-indexeddb.html), driven by
 * test/attacks/s9-indexeddb.test.ts through Playwright: forget() of a sealed row that does not open (the cases of
 * test/attacks/s9-forget-unreadable.ts), and a value far over maxRecordBytes written behind the store (what bounds
 * the memory a load of it takes: docs/stores.md, session 9). Every answer is 'held', an error code or what failed;
 * nothing here asserts on its own.
 */
import { openIndexedDbStore } from '../../../ts/store/indexeddb.js';
import { init } from '../../../ts/index.js';
import { forgetUnreadableCases } from '../../attacks/s9-forget-unreadable.js';
import { REFUSED_LIMIT, forgetRefusedCases, type Planter } from '../../attacks/s9-forget-refused.js';
import { settledAs } from '../../helpers/settled.js';
import { rawPut } from './idb-raw.js';

let dbs = 0;

/** The account and key of the oversized value. */
const HUGE: [string, string] = ['huge@x', 'conv:huge'];

const huge = {
  /** Another script of the origin writes a record of `mib` MiB (generation 1) where the store keeps Bob's. */
  async put(name: string, mib: number): Promise<void> {
    await openIndexedDbStore({ name }).then((s) => s.close()); // the database, made by the store
    await rawPut(name, HUGE, { account: HUGE[0], key: HUGE[1], generation: 1, bytes: new Uint8Array(mib << 20).fill(0x5a) });
  },
  /** `loads` loads of it and a commit from a stale base: what each settled as. */
  async refuse(name: string, loads: number): Promise<string[]> {
    const store = await openIndexedDbStore({ name });
    const out: string[] = [];
    for (let i = 0; i < loads; i++) out.push(await settledAs(store.load(...HUGE)));
    out.push(await settledAs(store.commit(HUGE[0], [{ key: HUGE[1], generation: 5, bytes: new Uint8Array(3) }])));
    await store.close();
    return out;
  },
  /** The way out: a commit at the next generation replaces it (its bytes never read), then it loads. */
  async replace(name: string): Promise<string[]> {
    const store = await openIndexedDbStore({ name });
    const out = [await settledAs(store.commit(HUGE[0], [{ key: HUGE[1], generation: 2, bytes: new Uint8Array(3) }]))];
    const now = await store.load(...HUGE);
    out.push(`${now?.generation}:${now?.bytes.length}`);
    await store.close();
    return out;
  },
};

/** The database of the store a refused-row case opened last (the planter writes behind it). */
let refusedDb = '';

/** Another script of the origin puts a value the store refuses where it keeps a record. */
const idbPlanter: Planter = {
  kinds: ['oversized', 'generation 0', 'negative generation', 'non-integer generation', 'generation beyond 2^53', 'text generation', 'bytes not bytes', 'not a record'],
  async plant(kind, account, key, generation) {
    const small = new Uint8Array([1, 2, 3]);
    const record = (g: unknown, bytes: unknown = small) => ({ account, key, generation: g, bytes });
    const value =
      kind === 'oversized' ? record(generation, new Uint8Array(REFUSED_LIMIT + 1).fill(0x5a))
      : kind === 'generation 0' ? record(0)
      : kind === 'negative generation' ? record(-3)
      : kind === 'non-integer generation' ? record(2.5)
      : kind === 'generation beyond 2^53' ? record(2 ** 60)
      : kind === 'text generation' ? record(String(generation))
      : kind === 'bytes not bytes' ? record(generation, 'not bytes')
      : 42;
    await rawPut(refusedDb, [account, key], value);
  },
};

const api = {
  /** forget() of a row the store refuses on load (test/attacks/s9-forget-refused.ts). */
  async forgetRefused(): Promise<Record<string, string>> {
    await init({ backend: 'wasm' });
    const out: Record<string, string> = {};
    for (const [name, run] of forgetRefusedCases({ dsaKey: null }, idbPlanter)) {
      try {
        await run(() => openIndexedDbStore({ name: (refusedDb = `s9-refused-${dbs++}`), limits: { maxRecordBytes: REFUSED_LIMIT } }));
        out[name] = 'held';
      } catch (e) {
        out[name] = `${(e as Error)?.name}: ${(e as Error)?.message}`;
      }
    }
    return out;
  },

  /** forget() of a sealed row that does not open, and racing writers (test/attacks/s9-forget-unreadable.ts). */
  async forgetUnreadable(): Promise<Record<string, string>> {
    await init({ backend: 'wasm' });
    const out: Record<string, string> = {};
    for (const [name, run] of forgetUnreadableCases({ dsaKey: null })) {
      try {
        await run(() => openIndexedDbStore({ name: `s9-forget-${dbs++}` }));
        out[name] = 'held';
      } catch (e) {
        out[name] = `${(e as Error)?.name}: ${(e as Error)?.message}`;
      }
    }
    return out;
  },

  huge,
};

export type OtrS9Idb = typeof api;
(globalThis as unknown as { otrS9Idb: OtrS9Idb }).otrS9Idb = api;
