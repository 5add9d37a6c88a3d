/**
 * Session 15 (docs/stores.md "Session 15: the lone statement's settle"): what the records comparison that
 * settles a lost lone autocommitted statement says when another writer acts between the lost reply and the
 * settle read. The limit session 9 left ("a delete … looks like not written") is narrower for the lone path
 * than its words: a record another writer deleted after a lone update is neither the update nor the state
 * before it, so the outcome is unknown (never "nothing was written", which would make the caller retry onto a
 * record that is gone). Only a record brought back to exactly the generation before (deleted, re-created and
 * advanced) reads as not written; closing that needs the statement's transaction id, which comes back only on
 * the reply that was lost. A private server: test/helpers/postgres.ts; the cut: test/helpers/pg-proxy.ts.
 */
import * as assert from 'uvu/assert';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../ts/store/postgres.js';
import { openAccountRecords } from '../../ts/store/account-records.js';
import { OtrStoreOutcomeUnknownError } from '../../ts/errors.js';
import { rejectsAsync } from '../helpers/rejects.js';
import type { PostgresServer } from '../helpers/postgres.js';
import { postgresSuite } from '../helpers/postgres-suite.js';
import { boundStatement, startPgProxy, type PgMessage, type PgProxy } from '../helpers/pg-proxy.js';

let server: PostgresServer;
let admin: pg.Client;
const opened: PostgresStore[] = [];
const proxies: PgProxy[] = [];

const { test, run } = postgresSuite(
  's15-pg-lone-settle',
  (s, a) => ((server = s), (admin = a)),
  () => [...opened.map((s) => s.close()), ...proxies.map((p) => p.close())],
);

const b = (...v: number[]) => new Uint8Array(v);
const isLoneUpdate = (m: PgMessage) => boundStatement(m)?.startsWith('otr4:u:') === true;

async function open(url: string, table: string): Promise<PostgresStore> {
  const s = await openPostgresStore({ connectionString: url, max: 2, table });
  opened.push(s);
  return s;
}

async function rows(table: string): Promise<Record<string, number>> {
  const r = (await admin.query(`SELECT key, generation::int AS g FROM ${table} ORDER BY key`)).rows as { key: string; g: number }[];
  return Object.fromEntries(r.map((x) => [x.key, x.g]));
}

test('a lone update whose reply was lost, its record deleted by another writer before the settle: unknown, never "nothing was written"', async () => {
  const t = 's15_lone_deleted';
  const proxy = await startPgProxy(server.url);
  proxies.push(proxy);
  const store = await open(proxy.url, t);
  const other = await open(server.url, t);
  const r = await openAccountRecords(store, 'a@x');
  await r.commit([r.change('account', b(1)), r.change('conv:p', b(1))]);
  proxy.arm(isLoneUpdate, 'reply');
  // Another process forgets the record the lost update wrote (its compare-and-set names generation 2).
  proxy.onLost = async () => void (await other.commit('a@x', [{ key: 'conv:p', generation: 3, bytes: null }]));
  const e = await rejectsAsync(r.commit([r.change('conv:p', b(2))]));
  assert.is(proxy.lost, 1);
  assert.ok(e instanceof OtrStoreOutcomeUnknownError, `${(e as { code?: string }).code}: ${e.message}`);
  assert.match(e.message, /neither this commit nor the state before it/);
  assert.equal(await rows(t), { account: 1 }, 'the other writer deleted it');
});

run();
