/**
 * Session 9 review, PostgreSQL: RecordStore.deleteRefused must delete a row only while `load` refuses it. The
 * hostile party is a database writer with SQL (schema changes included, as in s9-postgres), on a private
 * server (test/helpers/postgres.ts).
 */
import * as assert from 'uvu/assert';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../ts/store/postgres.js';
import type { PostgresServer } from '../helpers/postgres.js';
import { postgresSuite } from '../helpers/postgres-suite.js';
import { boundStatement, startPgProxy, type PgMessage, type PgProxy } from '../helpers/pg-proxy.js';
import { openAccountRecords } from '../../ts/store/account-records.js';
import { OtrStoreOutcomeUnknownError } from '../../ts/errors.js';

let server: PostgresServer;
let admin: pg.Client;
const opened: PostgresStore[] = [];

const { test, run } = postgresSuite(
  's9-review-postgres',
  (s, a) => ((server = s), (admin = a)),
  () => [...opened.map((s) => s.close()), ...proxies.map((p) => p.close())],
);

async function store(table: string): Promise<PostgresStore> {
  // Unnamed statements: the column types change under the store (a named plan would refuse its new result type).
  const s = await openPostgresStore({ connectionString: server.url, max: 2, table, namedStatements: false, limits: { maxRecordBytes: 64 } });
  opened.push(s);
  return s;
}

const bytes = Uint8Array.of(1, 2, 3);

for (const [what, sql] of [
  ['a domain over bytea', (t: string) => [`CREATE DOMAIN ${t}_blob AS bytea`, `ALTER TABLE ${t} ALTER COLUMN bytes TYPE ${t}_blob`]],
  ['a domain over a domain over bytea', (t: string) => [`CREATE DOMAIN ${t}_b1 AS bytea`, `CREATE DOMAIN ${t}_b2 AS ${t}_b1`, `ALTER TABLE ${t} ALTER COLUMN bytes TYPE ${t}_b2`]],
] as const) {
  test(`deleteRefused leaves a valid row alone when the bytes column is ${what} (load reads it as bytes)`, async () => {
    const t = `s9r_${what.length}_${what.split(' ').length}`;
    const s = await store(t);
    await s.commit('a', [{ key: 'k', generation: 1, bytes }]);
    for (const q of sql(t)) await admin.query(q);
    const loaded = await s.load('a', 'k');
    assert.equal(loaded && [...loaded.bytes], [1, 2, 3], 'load accepts the row');
    assert.is(await s.deleteRefused('a', 'k'), false, 'a row load accepts is not deleted');
    assert.is((await admin.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n, 1);
    // A refused one in that column still is.
    await admin.query(`UPDATE ${t} SET bytes = decode(repeat('5a', 65), 'hex')`);
    assert.is(await s.deleteRefused('a', 'k'), true, 'an oversized row is deleted');
    assert.is(await s.load('a', 'k'), undefined);
  });
}

test('deleteRefused and load agree on every text form of a generation (a column turned to text)', async () => {
  const t = 's9r_text';
  const s = await store(t);
  await admin.query(`ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${t}_generation_check`);
  await admin.query(`ALTER TABLE ${t} ALTER COLUMN generation TYPE text`);
  const forms = [' 5', '5 ', '+5', '05', '5.0', '5e0', '0', '-1', '9007199254740991', '9007199254740992', '99999999999999999999', '5\n', '\u0665', '５', ''];
  for (const g of forms) {
    await admin.query(`DELETE FROM ${t}`);
    await admin.query(`INSERT INTO ${t} (account, key, generation, bytes) VALUES ('a', 'k', $1, '\\x01')`, [g]);
    let loads = true;
    try {
      await s.load('a', 'k');
    } catch {
      loads = false;
    }
    const deleted = await s.deleteRefused('a', 'k');
    assert.is(deleted, !loads, `generation ${JSON.stringify(g)}: load ${loads ? 'accepts' : 'refuses'} it, deleteRefused ${deleted ? 'deleted' : 'kept'} it`);
  }
});


// ---- settleLost through a pooler: the client is told a process id that is not its server process ----

const proxies: PgProxy[] = [];
const isLoneUpdate = (m: PgMessage) => boundStatement(m)?.startsWith('otr4:u:') === true;

async function pooled(table: string, fakeBackendPid: number): Promise<{ proxy: PgProxy; store: PostgresStore }> {
  const proxy = await startPgProxy(server.url);
  proxies.push(proxy);
  proxy.fakeBackendPid = fakeBackendPid;
  const s = await openPostgresStore({ connectionString: proxy.url, max: 2, table });
  opened.push(s);
  return { proxy, store: s };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

test('a pooler commits after its client vanished: settling never says "nothing was written" of a commit that lands', async () => {
  // A process id no server process has (above Linux's pid_max): a pooler's own cancel key.
  const { proxy, store: s } = await pooled('s9r_pooler', 2_000_000_001);
  const r = await openAccountRecords(s, 'a@x');
  await r.commit([r.change('conv:p', Uint8Array.of(1))]);
  proxy.arm(isLoneUpdate, 'detach');
  const e = await rejection(r.commit([r.change('conv:p', Uint8Array.of(2))]));
  await new Promise((resolve) => setTimeout(resolve, 2 * proxy.detachDelayMs));
  const g = (await admin.query(`SELECT generation::int AS g FROM s9r_pooler WHERE key = 'conv:p'`)).rows[0].g as number;
  assert.is(g, 2, 'the server committed it (the pooler carried the statement on)');
  assert.ok(e instanceof OtrStoreOutcomeUnknownError, `the store cannot know the outcome: ${e.message}`);
  assert.not.match(e.message, /nothing was written/);
});

test('a lost commit never ends a server process that is not the one that ran it', async () => {
  const victim = new pg.Client({ connectionString: server.url });
  victim.on('error', () => {}); // ended by the store under test: reported by the check below, not as a crash
  await victim.connect();
  try {
    const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    const { proxy, store: s } = await pooled('s9r_victim', pid);
    const r = await openAccountRecords(s, 'a@x');
    await r.commit([r.change('conv:p', Uint8Array.of(1))]);
    proxy.arm(isLoneUpdate, 'reply');
    const e = await rejection(r.commit([r.change('conv:p', Uint8Array.of(2))])).catch(() => undefined);
    assert.ok(e === undefined || e instanceof OtrStoreOutcomeUnknownError, `written or unknown, never a wrong verdict: ${e?.message}`);
    assert.equal((await victim.query('SELECT 1 AS one')).rows, [{ one: 1 }], 'the other session was not ended');
  } finally {
    await victim.end().catch(() => {});
  }
});

run();
