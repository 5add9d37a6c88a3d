/**
 * Session 10: a transaction whose COMMIT reply was lost is settled by its transaction id (pg_xact_status), not
 * by reading the records back — which could not tell "not written" from "written, then deleted (and perhaps
 * recreated) by another writer" within the settle (docs/stores.md, "Session 9 review"). The connection is cut
 * by test/helpers/pg-proxy.ts, which also plays the poolers: one that carries a vanished client's COMMIT on or
 * holds its transaction open, one that moves a client's transactions between server connections, one that
 * rewrites what the server said. A private server: test/helpers/postgres.ts.
 */
import * as assert from 'uvu/assert';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../ts/store/postgres.js';
import { openAccountRecords } from '../../ts/store/account-records.js';
import { OtrStoreOutcomeUnknownError } from '../../ts/errors.js';
import { settledAs } from '../helpers/settled.js';
import { rejectsAsync } from '../helpers/rejects.js';
import type { PostgresServer } from '../helpers/postgres.js';
import { postgresSuite } from '../helpers/postgres-suite.js';
import { queryText, startPgProxy, type PgMessage, type PgProxy } from '../helpers/pg-proxy.js';

let server: PostgresServer;
let admin: pg.Client;
const opened: PostgresStore[] = [];
const proxies: PgProxy[] = [];

const { test, run } = postgresSuite(
  's10-pg-xact',
  (s, a) => ((server = s), (admin = a)),
  () => [...opened.map((s) => s.close()), ...proxies.map((p) => p.close())],
);

const b = (...v: number[]) => new Uint8Array(v);
const isCommit = (m: PgMessage) => queryText(m) === 'COMMIT';
/** A process id no server process has (above Linux's pid_max): a pooler's own cancel key. */
const POOLER_PID = 2_000_000_001;

async function direct(table: string): Promise<PostgresStore> {
  const s = await openPostgresStore({ connectionString: server.url, max: 2, table });
  opened.push(s);
  return s;
}

async function proxied(table: string, how: { fakePid?: number; movesSessions?: boolean } = {}): Promise<{ proxy: PgProxy; store: PostgresStore }> {
  const proxy = await startPgProxy(server.url, { movesSessions: how.movesSessions });
  proxies.push(proxy);
  proxy.fakeBackendPid = how.fakePid;
  // A pooler in transaction mode cannot keep named statements (PostgresStoreOptions.namedStatements).
  const s = await openPostgresStore({ connectionString: proxy.url, max: 2, table, namedStatements: !how.movesSessions });
  opened.push(s);
  return { proxy, store: s };
}

async function rows(table: string): Promise<Record<string, [number, number[]]>> {
  const r = (await admin.query(`SELECT key, generation::int AS g, bytes FROM ${table} ORDER BY key`)).rows as { key: string; g: number; bytes: Buffer }[];
  return Object.fromEntries(r.map((x) => [x.key, [x.g, [...x.bytes]]]));
}

test('a creation whose COMMIT reply was lost, its record deleted by another writer before the settle: resolved as written, not "nothing was written"', async () => {
  const t = 's10_deleted';
  const { proxy, store } = await proxied(t);
  const other = await direct(t);
  const r = await openAccountRecords(store, 'a@x');
  await r.commit([r.change('account', b(1))]);
  proxy.arm(isCommit, 'reply');
  // Another process forgets the record the lost commit created, after the server committed, before any settle.
  proxy.onLost = () => other.commit('a@x', [{ key: 'conv:q', generation: 2, bytes: null }]);
  assert.is(await settledAs(r.commit([r.change('conv:q', b(1))])), 'ok', 'it was written (a retry would re-create a record another writer deleted)');
  assert.is(proxy.lost, 1);
  assert.equal(await rows(t), { account: [1, [1]] }, 'the other writer deleted it');
});

test('two records written, one deleted and recreated by another writer within the settle: resolved as written, the book goes on', async () => {
  const t = 's10_recreated';
  const { proxy, store } = await proxied(t);
  const other = await direct(t);
  const r = await openAccountRecords(store, 'a@x');
  await r.commit([r.change('account', b(1)), r.change('conv:p', b(1))]);
  proxy.arm(isCommit, 'reply');
  proxy.onLost = async () => {
    await other.commit('a@x', [{ key: 'conv:p', generation: 3, bytes: null }]);
    await other.commit('a@x', [{ key: 'conv:p', generation: 1, bytes: b(7) }]);
  };
  assert.is(await settledAs(r.commit([r.change('account', b(2)), r.change('conv:p', b(2))])), 'ok');
  assert.equal(await rows(t), { account: [2, [2]], 'conv:p': [1, [7]] });
  // The account record is at the generation the helper's book says: its next commit is no conflict.
  await r.commit([r.change('account', b(3))]);
  assert.equal((await rows(t)).account, [3, [3]]);
});

test('behind a pooler (its own cancel key) that carries the COMMIT on after its client vanished: resolved as written by the transaction id', async () => {
  const t = 's10_pooler_detach';
  const { proxy, store } = await proxied(t, { fakePid: POOLER_PID });
  const r = await openAccountRecords(store, 'a@x');
  await r.commit([r.change('account', b(1)), r.change('conv:p', b(1))]);
  proxy.arm(isCommit, 'detach');
  assert.is(await settledAs(r.commit([r.change('account', b(2)), r.change('conv:p', b(2))])), 'ok', 'waited for the transaction to end, not for a process');
  assert.equal(await rows(t), { account: [2, [2]], 'conv:p': [2, [2]] });
});

test('the COMMIT never sent, the transaction left open on the server (in progress): its process is ended, then "nothing was written", and a retry commits', async () => {
  const t = 's10_held';
  const { proxy, store } = await proxied(t);
  const r = await openAccountRecords(store, 'a@x');
  await r.commit([r.change('account', b(1)), r.change('conv:p', b(1))]);
  proxy.arm(isCommit, 'hold');
  const e = await rejectsAsync(r.commit([r.change('account', b(2)), r.change('conv:p', b(2))]));
  assert.is((e as { code?: string }).code, 'STATE');
  assert.match(e.message, /rolled back: nothing was written/, e.message);
  assert.equal(await rows(t), { account: [1, [1]], 'conv:p': [1, [1]] });
  await r.commit([r.change('account', b(2)), r.change('conv:p', b(2))]);
  assert.equal(await rows(t), { account: [2, [2]], 'conv:p': [2, [2]] });
});

test('behind a pooler that holds the transaction open past the wait: unknown, never "nothing was written"', async () => {
  const t = 's10_pooler_hold';
  const { proxy, store } = await proxied(t, { fakePid: POOLER_PID });
  const r = await openAccountRecords(store, 'a@x');
  await r.commit([r.change('account', b(1))]);
  proxy.arm(isCommit, 'hold');
  const e = await rejectsAsync(r.commit([r.change('account', b(2)), r.change('conv:p', b(1))]));
  assert.ok(e instanceof OtrStoreOutcomeUnknownError, e.message);
  assert.match(e.message, /still in progress/);
});

test('a pooler that moves the session between transactions: the id asked about is that transaction\'s (a lost COMMIT request rolled back, a lost reply written)', async () => {
  const t = 's10_moving';
  const { proxy, store } = await proxied(t, { fakePid: POOLER_PID, movesSessions: true });
  const other = await direct(t);
  const r = await openAccountRecords(store, 'a@x');
  for (let i = 1; i <= 4; i++) await r.commit([r.change('account', b(i)), r.change(`conv:${i}`, b(i))]);
  assert.ok(proxy.moves >= 4, `transactions ran on both server connections (${proxy.moves} moves)`);
  // The COMMIT never reaches the server: that transaction rolled back, though the ones before it committed.
  proxy.arm(isCommit, 'request');
  const e = await rejectsAsync(r.commit([r.change('account', b(5)), r.change('conv:1', b(5))]));
  assert.is((e as { code?: string }).code, 'STATE', e.message);
  assert.match(e.message, /rolled back: nothing was written/, e.message);
  assert.equal((await rows(t)).account, [4, [4]]);
  // The reply is lost after the server committed, and another writer deletes a record it wrote.
  proxy.arm(isCommit, 'reply');
  proxy.onLost = () => other.commit('a@x', [{ key: 'conv:9', generation: 2, bytes: null }]);
  assert.is(await settledAs(r.commit([r.change('account', b(5)), r.change('conv:9', b(9))])), 'ok');
  assert.is(proxy.lost, 2);
  assert.equal((await rows(t)).account, [5, [5]]);
  assert.is((await rows(t))['conv:9'], undefined);
});

/** Replaces the value of every one-column row named `column` the server sends (RowDescription, then DataRow). */
function lieAbout(proxy: PgProxy, column: string, value: string): void {
  let next = false;
  proxy.rewrite = (type, raw) => {
    if (type === 'T') next = raw.readUInt16BE(5) === 1 && raw.subarray(7).toString('latin1').startsWith(`${column}\0`);
    if (type !== 'D' || !next) return raw;
    next = false;
    const bytes = Buffer.from(value, 'latin1');
    const out = Buffer.alloc(1 + 4 + 2 + 4 + bytes.length);
    out.write('D', 0, 'latin1');
    out.writeUInt32BE(out.length - 1, 1);
    out.writeUInt16BE(1, 5);
    out.writeUInt32BE(bytes.length, 7);
    bytes.copy(out, 11);
    return out;
  };
}

for (const [what, xid] of [
  ['in the future (another server)', '900000000000'],
  ['too old for the server to know (NULL)', '3'],
] as const) {
  test(`a pooler that lies about the transaction id, ${what}: a lost reply is unknown, never written or not written`, async () => {
    const t = `s10_lie_${xid.length}`;
    const { proxy, store } = await proxied(t);
    const r = await openAccountRecords(store, 'a@x');
    await r.commit([r.change('account', b(1))]);
    lieAbout(proxy, 'xid', xid);
    proxy.arm(isCommit, 'reply');
    const e = await rejectsAsync(r.commit([r.change('account', b(2)), r.change('conv:p', b(1))]));
    assert.ok(e instanceof OtrStoreOutcomeUnknownError, e.message);
  });
}

test('a pooler that sends no usable transaction id (not a number): settled by the records, as a lone statement is', async () => {
  const t = 's10_lie_text';
  const { proxy, store } = await proxied(t);
  const r = await openAccountRecords(store, 'a@x');
  await r.commit([r.change('account', b(1))]);
  lieAbout(proxy, 'xid', '12; DROP TABLE s10_lie_text');
  proxy.arm(isCommit, 'reply');
  assert.is(await settledAs(r.commit([r.change('account', b(2)), r.change('conv:p', b(1))])), 'ok', 'the records say written');
  assert.equal(await rows(t), { account: [2, [2]], 'conv:p': [1, [1]] });
});

test('a server older than PostgreSQL 13 (no pg_current_xact_id / pg_xact_status) is refused at open, naming the version', async () => {
  const proxy = await startPgProxy(server.url);
  proxies.push(proxy);
  lieAbout(proxy, 'v', '120017');
  const e = await rejectsAsync(openPostgresStore({ connectionString: proxy.url, max: 1, table: 's10_old' }));
  assert.is((e as { code?: string }).code, 'STATE');
  assert.match(e.message, /PostgreSQL 13 or later is needed \(the server says 120017\)/);
});

run();
