/**
 * Entry of the IndexedDB store page (build/browser/store-indexeddb.js, loaded by store-indexeddb.html). It
 * exposes `otrStoreIdb` on window; test/store-indexeddb.test.ts calls it through Playwright. Everything runs
 * against the real IndexedDB of Chromium: the shared contract (plain and sealed), a commit that must still be
 * there after the page is reloaded, and values written behind the store's back (hostile or tampered).
 */
import { openIndexedDbStore } from '../../../ts/store/indexeddb.js';
import { sealedStore, SEAL_OVERHEAD_BYTES } from '../../../ts/store/sealing.js';
import { openAccountRecords } from '../../../ts/store/account-records.js';
import { settledAs } from '../../helpers/settled.js';
import type { RecordStore } from '../../../ts/store/types.js';
import { runContract } from '../../helpers/store-contract.js';
import { openRaw, rawPut } from './idb-raw.js';

const SEAL = Uint8Array.from({ length: 32 }, (_, i) => 0x11 * (i + 1));
let dbs = 0;

function codeOf(p: Promise<unknown>): Promise<string> {
  return settledAs(p, 'accepted');
}

async function rawGetAll(name: string): Promise<{ key: [string, string]; value: { generation: number; bytes: Uint8Array } }[]> {
  const db = await openRaw(name);
  const tx = db.transaction('records', 'readonly');
  const store = tx.objectStore('records');
  const [keys, values] = await Promise.all(
    [store.getAllKeys(), store.getAll()].map((r) => new Promise<unknown[]>((res) => (r.onsuccess = () => res(r.result as unknown[])))),
  );
  db.close();
  return keys!.map((k, i) => ({ key: k as [string, string], value: values![i] as { generation: number; bytes: Uint8Array } }));
}

const api = {
  contract: () => runContract((limits) => openIndexedDbStore({ name: limits ? `otr4-limits-${dbs++}` : 'otr4-contract', limits }), 'idb'),

  sealedContract: () =>
    runContract(async (limits) => {
      const inner = await openIndexedDbStore({
        name: limits ? `otr4-sealed-limits-${dbs++}` : 'otr4-sealed',
        limits: limits && { ...limits, maxRecordBytes: (limits.maxRecordBytes ?? 4 << 20) + SEAL_OVERHEAD_BYTES, maxRecordKeyBytes: 1024 },
      });
      return sealedStore(inner, SEAL, { limits });
    }, 'idb-sealed'),

  /** Commits generations 1..n of a sealed record; the test reloads the page and calls `read`. */
  async write(n: number): Promise<number> {
    const store = await openIndexedDbStore({ name: 'otr4-persist' });
    const r = await openAccountRecords(store, 'alice@example.org', { sealKey: SEAL });
    for (let g = 1; g <= n; g++) await r.commit([r.change('conv:bob', new Uint8Array(2100).fill(g))]);
    await store.close();
    return n;
  },

  async read(): Promise<{ generation?: number; ok: boolean; keys: string[] }> {
    const store = await openIndexedDbStore({ name: 'otr4-persist' });
    const r = await openAccountRecords(store, 'alice@example.org', { sealKey: SEAL });
    const rec = await r.load('conv:bob');
    const keys = await r.keys();
    await store.close();
    return { generation: rec?.generation, ok: !!rec && rec.bytes.length === 2100 && rec.bytes.every((b) => b === rec.generation), keys };
  },

  /** Values written behind the store: each must be a typed error code, never a crash or a wrong record. */
  async hostile(): Promise<Record<string, string>> {
    const name = 'otr4-hostile';
    const store = await openIndexedDbStore({ name, limits: { maxRecordBytes: 1000, maxRecordsPerAccount: 4 } });
    const a = 'a@x';
    const rows: [string, unknown][] = [
      ['not-object', 'just a string'],
      ['gen-string', { generation: '3', bytes: new Uint8Array(1) }],
      ['gen-zero', { generation: 0, bytes: new Uint8Array(1) }],
      ['gen-huge', { generation: 2 ** 60, bytes: new Uint8Array(1) }],
      ['bytes-array', { generation: 1, bytes: [1, 2, 3] }],
      ['bytes-buffer', { generation: 1, bytes: new ArrayBuffer(4) }],
      ['bytes-oversized', { generation: 1, bytes: new Uint8Array(1001) }],
    ];
    for (const [key, v] of rows) await rawPut(name, [a, key], v);
    await rawPut(name, ['b@x', 'x'.repeat(2000)], { generation: 1, bytes: new Uint8Array(1) });
    const out: Record<string, string> = {};
    for (const [key] of rows) out[key] = await codeOf(store.load(a, key));
    out['keys-too-many'] = await codeOf(store.keys(a));
    out['keys-too-long'] = await codeOf(store.keys('b@x'));
    out['commit-over-hostile'] = await codeOf(store.commit(a, [{ key: 'gen-string', generation: 4, bytes: new Uint8Array(1) }]));
    await store.close();
    return out;
  },

  /** A sealed row edited in IndexedDB: flipped bit, row moved to another record, generation edited. */
  async tamper(): Promise<Record<string, string>> {
    const name = 'otr4-tamper';
    const inner: RecordStore = await openIndexedDbStore({ name });
    const s = sealedStore(inner, SEAL);
    await s.commit('a@x', [
      { key: 'conv:bob', generation: 1, bytes: new Uint8Array(100).fill(1) },
      { key: 'conv:eve', generation: 1, bytes: new Uint8Array(100).fill(2) },
    ]);
    const [bob, eve] = await rawGetAll(name);
    const out: Record<string, string> = {};
    const flipped = bob!.value.bytes.slice();
    flipped[50]! ^= 1;
    await rawPut(name, bob!.key, { ...bob!.value, bytes: flipped });
    out.flip = await codeOf(Promise.all([s.load('a@x', 'conv:bob'), s.load('a@x', 'conv:eve')]));
    await rawPut(name, bob!.key, { ...eve!.value });
    out.moved = await codeOf(Promise.all([s.load('a@x', 'conv:bob'), s.load('a@x', 'conv:eve')]));
    await rawPut(name, bob!.key, { ...bob!.value, generation: 2 });
    out.generation = await codeOf(Promise.all([s.load('a@x', 'conv:bob'), s.load('a@x', 'conv:eve')]));
    await rawPut(name, bob!.key, bob!.value);
    out.restored = await codeOf(Promise.all([s.load('a@x', 'conv:bob'), s.load('a@x', 'conv:eve')]));
    const dump = JSON.stringify((await rawGetAll(name)).map((r) => r.key));
    out.dumpShowsNames = String(/bob|eve|a@x/.test(dump));
    await s.close();
    return out;
  },
};

export type OtrStoreIdb = typeof api;
(globalThis as unknown as { otrStoreIdb: OtrStoreIdb }).otrStoreIdb = api;
