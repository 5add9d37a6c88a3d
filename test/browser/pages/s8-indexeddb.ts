/**
 * Entry of the session 8 IndexedDB attack page (build/browser/s8-indexeddb.js, loaded by s8-indexeddb.html),
 * driven by test/attacks/s8-indexeddb.test.ts through Playwright: values and keys written behind the store by
 * another script of the origin, a connection closed under the store, another tab upgrading the database, two
 * tabs committing one account, and lazy restore through openStoredAccount.
 * Every answer is an error code or a fact the test compares; nothing here asserts on its own.
 */
import { openIndexedDbStore, type IndexedDbStore } from '../../../ts/store/indexeddb.js';
import { openAccountRecords, type AccountRecords, type StoreEvent } from '../../../ts/store/account-records.js';
import { settledAs } from '../../helpers/settled.js';
import { init } from '../../../ts/index.js';
import { storedAccountCases } from '../../attacks/s8-stored-account.js';
import { openRaw, rawPut } from './idb-raw.js';

let dbs = 0;

function codeOf(p: Promise<unknown>): Promise<string> {
  return settledAs(p, 'accepted');
}

/** A call that might throw out of itself instead of rejecting (a contract break: reported as such). */
function codeOfCall(f: () => Promise<unknown>): Promise<string> {
  try {
    return codeOf(f());
  } catch (e) {
    return Promise.resolve(`threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
}

/** The store of the other tab (one per page), and its helper. */
let tab: { store: IndexedDbStore; records: AccountRecords; events: StoreEvent[] } | undefined;

const api = {
  /** Values the store never writes: each load must be a typed error. */
  async values(): Promise<Record<string, string>> {
    const name = `s8-values-${dbs++}`;
    const store = await openIndexedDbStore({ name, limits: { maxRecordBytes: 1000 } });
    const rows: [string, unknown][] = [
      ['missing-fields', {}],
      ['no-bytes', { generation: 1 }],
      ['no-generation', { bytes: new Uint8Array(1) }],
      ['gen-negative', { generation: -1, bytes: new Uint8Array(1) }],
      ['gen-fraction', { generation: 1.5, bytes: new Uint8Array(1) }],
      ['gen-nan', { generation: NaN, bytes: new Uint8Array(1) }],
      ['gen-infinity', { generation: Infinity, bytes: new Uint8Array(1) }],
      ['gen-number-object', { generation: new Number(2), bytes: new Uint8Array(1) }],
      ['gen-bigint', { generation: 2n, bytes: new Uint8Array(1) }],
      ['bytes-string', { generation: 1, bytes: 'AAAA' }],
      ['bytes-int16', { generation: 1, bytes: new Int16Array(2) }],
      ['bytes-blob', { generation: 1, bytes: new Blob([new Uint8Array(4)]) }],
      ['null', null],
      ['array', [1, new Uint8Array(1)]],
      ['bytes-huge', { generation: 1, bytes: new Uint8Array(4 << 20) }],
    ];
    for (const [key, v] of rows) await rawPut(name, ['a@x', key], v);
    const out: Record<string, string> = {};
    for (const [key] of rows) out[key] = await codeOf(store.load('a@x', key));
    // A commit over each expects generation 1 (none of them holds a valid one): refused, nothing written.
    for (const [key] of rows) out[`commit:${key}`] = await codeOf(store.commit('a@x', [{ key, generation: 2, bytes: new Uint8Array(1) }]));
    await store.close();
    return out;
  },

  /** Keys in an account's range that are not [account, text]: keys() must refuse them, never list a record twice. */
  async keys(): Promise<Record<string, string>> {
    const name = `s8-keys-${dbs++}`;
    const store = await openIndexedDbStore({ name });
    const good = { generation: 1, bytes: new Uint8Array(1) };
    const cases: [string, IDBValidKey][] = [
      ['three-part', ['k', 'extra']],
      ['number', [5]],
      ['date', [new Date(0)]],
      ['binary', [new Uint8Array([1, 2])]],
      ['nested-array', [['k']]],
      ['account-only', []],
    ];
    const out: Record<string, string> = {};
    for (const [label, rest] of cases) {
      const account = `${label}@x`;
      await store.commit(account, [{ key: 'k', generation: 1, bytes: new Uint8Array(1) }]);
      await rawPut(name, [account, ...(rest as IDBValidKey[])], good);
      out[label] = await codeOf(store.keys(account).then((k) => (k.length === 1 && k[0] === 'k' ? k : Promise.reject(new Error(JSON.stringify(k))))));
    }
    await store.close();
    return out;
  },

  /** The connection closed under the store (by other code of the page, or the browser): every call typed. */
  async closedUnder(): Promise<Record<string, string>> {
    const store = await openIndexedDbStore({ name: `s8-closed-${dbs++}` });
    await store.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array(1) }]);
    (store as unknown as { db: IDBDatabase }).db.close();
    return {
      load: await codeOfCall(() => store.load('a@x', 'k')),
      keys: await codeOfCall(() => store.keys('a@x')),
      commit: await codeOfCall(() => store.commit('a@x', [{ key: 'k', generation: 2, bytes: new Uint8Array(1) }])),
    };
  },

  /** Another tab upgrading the database while a commit runs: the commit lands whole or not at all; then typed. */
  async versionChange(): Promise<Record<string, string>> {
    const name = `s8-version-${dbs++}`;
    const store = await openIndexedDbStore({ name });
    await store.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array(10).fill(1) }]);
    const inFlight = codeOf(store.commit('a@x', [{ key: 'k', generation: 2, bytes: new Uint8Array(10).fill(2) }, { key: 'j', generation: 1, bytes: new Uint8Array(10).fill(2) }]));
    const upgraded = await openRaw(name, 2, (db) => db.createObjectStore('other'));
    upgraded.close();
    const out: Record<string, string> = { inFlight: await inFlight };
    out.loadAfter = await codeOfCall(() => store.load('a@x', 'k'));
    out.commitAfter = await codeOfCall(() => store.commit('a@x', [{ key: 'k', generation: 3, bytes: new Uint8Array(1) }]));
    out.reopen = await codeOf(openIndexedDbStore({ name }));
    const db = await openRaw(name);
    const got = await new Promise<{ generation: number; bytes: Uint8Array }[]>((res) => {
      const r = db.transaction('records', 'readonly').objectStore('records').getAll();
      r.onsuccess = () => res(r.result);
    });
    db.close();
    // Whole or nothing: both records at the new state, or only k at generation 1.
    const whole = got.length === 2 && got.every((v) => v.bytes.every((x) => x === 2));
    const none = got.length === 1 && got[0]!.generation === 1 && got[0]!.bytes.every((x) => x === 1);
    out.atomic = String(whole ? out.inFlight === 'accepted' : none && out.inFlight !== 'accepted');
    return out;
  },

  /** Two tabs on one account: each page opens its store and helper on the shared database. */
  async tabOpen(name: string): Promise<void> {
    const store = await openIndexedDbStore({ name });
    const events: StoreEvent[] = [];
    tab = { store, events, records: await openAccountRecords(store, 'tabs@x', { onEvent: (e) => events.push(e) }) };
  },
  async tabLoad(): Promise<number | undefined> {
    await tab!.records.load('account');
    return (await tab!.records.load('conv:p'))?.generation;
  },
  async tabCommit(value: number): Promise<{ code: string; conflictEvents: number }> {
    tab!.events.length = 0;
    const code = await codeOf(tab!.records.commit([tab!.records.change('conv:p', new Uint8Array([value])), tab!.records.change('account', new Uint8Array([value]))]));
    return { code, conflictEvents: tab!.events.filter((e) => e.type === 'conflict').length };
  },
  async tabRead(): Promise<{ conv?: number[]; account?: number[]; generation?: number }> {
    const conv = await tab!.store.load('tabs@x', 'conv:p');
    const account = await tab!.store.load('tabs@x', 'account');
    return { conv: conv && [...conv.bytes], account: account && [...account.bytes], generation: conv?.generation };
  },

  /** openStoredAccount over IndexedDB: the shared lazy-restore attacks (test/attacks/s8-stored-account.ts). */
  async storedAccount(): Promise<Record<string, string>> {
    await init({ backend: 'wasm' });
    const out: Record<string, string> = {};
    for (const [name, run] of storedAccountCases({ dsaKey: null })) {
      try {
        await run(() => openIndexedDbStore({ name: `s8-stored-${dbs++}` }));
        out[name] = 'held';
      } catch (e) {
        out[name] = `${(e as Error)?.name}: ${(e as Error)?.message}`;
      }
    }
    return out;
  },
};

export type OtrS8Idb = typeof api;
(globalThis as unknown as { otrS8Idb: OtrS8Idb }).otrS8Idb = api;
