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

const api = {
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
