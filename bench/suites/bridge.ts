/**
 * The bridge.* family (issue: bridge-grade state), per record store (impl = memory, sqlite, postgres):
 *   bridge.save.1conv          save after a message: one sealed conversation record (2,150 bytes, the size a
 *                              conversation's state has in practice) committed through openAccountRecords, on
 *                              an account with 1 conversation;
 *   bridge.save.1000conv       the same on an account with 1,000 conversations (round-robin over them). The
 *                              issue's target: within 1.5× of bridge.save.1conv;
 *   bridge.save.1000conv.plain the same without sealing (what sealing costs);
 *   bridge.save.1000conv.syncnormal  SQLite only, synchronous=NORMAL instead of FULL (what the fsync costs;
 *                              docs/stores.md says why FULL is the default).
 *   bridge.save.1000conv.x16   16 saves of 16 different conversations issued together (a bridge handling 16
 *                              messages in one event-loop turn); one op = all 16 durable. SQLite groups them
 *                              into one transaction (one fsync); PostgreSQL runs them on its pool.
 *   bridge.restore.1000conv.store   the store's share of restoring a 1,000-conversation account until its first
 *                              message can be decrypted: open the account's records (sealed), load the account
 *                              record and one conversation's (lazy restore loads nothing else);
 *   bridge.keys.1000conv       listing the account's 1,000 record keys (sealed: each name is opened).
 *   bridge.save.1000conv.worker, .x16.worker   SQLite with the connection on a worker thread (the event loop
 *                              stays free during the fsync).
 * The records are synthetic until the session layer produces real ones; a commit does not depend on their
 * content. SQLite writes to a file in the OS temp folder (a real disk here, so FULL pays a real fsync);
 * PostgreSQL is a private server on loopback (test/helpers/postgres.ts) with fsync on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCase, Impl } from '../harness.js';
import type { RecordStore } from '../../ts/store/types.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { openAccountRecords, type AccountRecords } from '../../ts/store/account-records.js';
import { startPostgres, type PostgresServer } from '../../test/helpers/postgres.js';

const RECORD_BYTES = 2150;
const SEAL_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0x5a ^ i);

let dir: string | undefined;
function tempFile(name: string): string {
  if (!dir) {
    const made = (dir = mkdtempSync(join(tmpdir(), 'otr4-bench-')));
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return join(dir, name);
}

let server: Promise<PostgresServer> | undefined;

async function makeStore(impl: Impl, label: string): Promise<RecordStore> {
  if (impl === 'memory') return new MemoryStore();
  if (impl === 'sqlite') {
    const { openSqliteStore } = await import('../../ts/store/sqlite.js');
    return openSqliteStore({
      path: tempFile(`${label}.sqlite`),
      synchronous: label.includes('syncnormal') ? 'normal' : 'full',
      worker: label.includes('worker'),
    });
  }
  server ??= startPostgres({ fsync: true });
  const { openPostgresStore } = await import('../../ts/store/postgres.js');
  return openPostgresStore({ connectionString: (await server).url, max: 8 });
}

function record(i: number, g: number): Uint8Array {
  const b = new Uint8Array(RECORD_BYTES);
  for (let j = 0; j < b.length; j += 64) b[j] = (i + g + j) & 0xff;
  return b;
}

/** Fills an account with the account record and `conversations` conversation records, 100 per commit. */
async function seed(records: AccountRecords, conversations: number): Promise<void> {
  await records.commit([records.change('account', record(0, 1))]);
  for (let i = 0; i < conversations; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(conversations, i + 100); j++) batch.push(records.change(`conv:peer${j}@bench.example`, record(j, 1)));
    await records.commit(batch);
  }
}

function readCase(impl: Impl, name: string, what: 'restore' | 'keys'): BenchCase {
  let store: RecordStore | undefined;
  let next = 0;
  const label = `${impl}-${name.replace(/[^a-z0-9]+/gi, '-')}`;
  const account = `${label}@bench.example`;
  return {
    name,
    impl,
    deferred: true,
    async setup() {
      store = await makeStore(impl, label);
      const records = await openAccountRecords(store, account, { sealKey: SEAL_KEY });
      await seed(records, 1000);
      await records.close();
    },
    async fn() {
      const records = await openAccountRecords(store!, account, { sealKey: SEAL_KEY });
      if (what === 'keys') {
        if ((await records.keys()).length !== 1001) throw new Error('bridge.keys: wrong count');
      } else {
        next = (next + 1) % 1000;
        const [acct, conv] = await Promise.all([records.load('account'), records.load(`conv:peer${next}@bench.example`)]);
        if (!acct || !conv) throw new Error('bridge.restore: missing record');
      }
      await records.close();
    },
    async teardown() {
      await store?.close();
    },
  };
}

function saveCase(impl: Impl, name: string, conversations: number, sealed: boolean, together = 1): BenchCase {
  let store: RecordStore | undefined;
  let records: AccountRecords | undefined;
  let next = 0;
  const label = `${impl}-${name.replace(/[^a-z0-9]+/gi, '-')}`;
  return {
    name,
    impl,
    deferred: true,
    async setup() {
      store = await makeStore(impl, label);
      records = await openAccountRecords(store, `${label}@bench.example`, sealed ? { sealKey: SEAL_KEY } : {});
      await seed(records, conversations);
    },
    fn() {
      const r = records!;
      const saves: Promise<void>[] = [];
      for (let k = 0; k < together; k++) {
        const key = `conv:peer${next}@bench.example`;
        next = (next + 1) % conversations;
        saves.push(r.commit([r.change(key, record(next, r.generation(key)! + 1))]));
      }
      return together === 1 ? saves[0] : Promise.all(saves);
    },
    async teardown() {
      await records?.close();
      await store?.close();
    },
  };
}

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const impl of ['memory', 'sqlite', 'postgres'] as const) {
    out.push(saveCase(impl, 'bridge.save.1conv', 1, true));
    out.push(saveCase(impl, 'bridge.save.1000conv', 1000, true));
    out.push(saveCase(impl, 'bridge.save.1000conv.plain', 1000, false));
    out.push(saveCase(impl, 'bridge.save.1000conv.x16', 1000, true, 16));
    out.push(readCase(impl, 'bridge.restore.1000conv.store', 'restore'));
    out.push(readCase(impl, 'bridge.keys.1000conv', 'keys'));
  }
  out.push(saveCase('sqlite', 'bridge.save.1000conv.syncnormal', 1000, true));
  out.push(saveCase('sqlite', 'bridge.save.1000conv.worker', 1000, true));
  out.push(saveCase('sqlite', 'bridge.save.1000conv.x16.worker', 1000, true, 16));
  // The PostgreSQL server (if one was started) stops, and the temp folder goes, when the bench process exits.
  return out;
}
