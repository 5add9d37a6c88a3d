/**
 * Entry of the session 9 IndexedDB page (build/browser/s9-indexeddb.js, loaded by s9-indexeddb.html), driven by
 * test/attacks/s9-indexeddb.test.ts through Playwright: forget() of a sealed row that does not open (the cases of
 * test/attacks/s9-forget-unreadable.ts). Every answer is 'held' or what failed; nothing here asserts on its own.
 */
import { openIndexedDbStore } from '../../../ts/store/indexeddb.js';
import { init } from '../../../ts/index.js';
import { forgetUnreadableCases } from '../../attacks/s9-forget-unreadable.js';

let dbs = 0;

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
};

export type OtrS9Idb = typeof api;
(globalThis as unknown as { otrS9Idb: OtrS9Idb }).otrS9Idb = api;
