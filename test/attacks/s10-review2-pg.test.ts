/**
 * Session 10 review (hostile) of the PostgreSQL store's transaction-id settle and its open-time version check:
 *   - the version check when the server (or a pooler) answers it with NULL, or with an error (current_setting
 *     failing): a typed refusal, nothing created;
 *   - ending a server process "only while it runs that transaction" (backend_xid = $3::xid8::xid, valid SQL on
 *     the server the tests run): a process running another transaction, or none, is left alone — the one
 *     running it is ended, and its transaction then reads as rolled back.
 * A private server: test/helpers/postgres.ts; the pooler: test/helpers/pg-proxy.ts.
 */
import * as assert from 'uvu/assert';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../ts/store/postgres.js';
import { OtrStateError } from '../../ts/errors.js';
import { rejectsAsync } from '../helpers/rejects.js';
import type { PostgresServer } from '../helpers/postgres.js';
import { postgresSuite } from '../helpers/postgres-suite.js';
import { startPgProxy, type PgProxy } from '../helpers/pg-proxy.js';

let server: PostgresServer;
let admin: pg.Client;
const opened: PostgresStore[] = [];
const proxies: PgProxy[] = [];
const clients: pg.Client[] = [];

const { test, run } = postgresSuite(
  's10-review2-pg',
  (s, a) => ((server = s), (admin = a)),
  () => [...opened.map((s) => s.close()), ...proxies.map((p) => p.close()), ...clients.map((c) => c.end().catch(() => {}))],
);

function message(type: string, body: Buffer): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out.write(type, 0, 'latin1');
  out.writeUInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

/** Rewrites the reply to the one-column query naming `column`: `as` replaces its RowDescription, its rows and CommandComplete are dropped. */
function replaceReply(proxy: PgProxy, column: string, as: (type: string, raw: Buffer) => Buffer): void {
  let inReply = false;
  proxy.rewrite = (type, raw) => {
    if (type === 'T' && raw.readUInt16BE(5) === 1 && raw.subarray(7).toString('latin1').startsWith(`${column}\0`)) inReply = true;
    if (!inReply) return raw;
    if (type === 'Z') {
      inReply = false;
      return raw;
    }
    return as(type, raw);
  };
}

async function tableExists(t: string): Promise<boolean> {
  return (await admin.query('SELECT to_regclass($1) IS NOT NULL AS e', [t])).rows[0].e as boolean;
}

test('the server version answered NULL: refused at open, typed, naming no version; nothing created', async () => {
  const proxy = await startPgProxy(server.url);
  proxies.push(proxy);
  replaceReply(proxy, 'v', (type, raw) => {
    if (type !== 'D') return raw;
    const body = Buffer.alloc(6);
    body.writeUInt16BE(1, 0);
    body.writeInt32BE(-1, 2); // NULL
    return message('D', body);
  });
  const e = await rejectsAsync(openPostgresStore({ connectionString: proxy.url, max: 1, table: 's10r2_null' }));
  assert.ok(e instanceof OtrStateError, String(e));
  assert.match(e.message, /PostgreSQL 13 or later is needed \(the server says nothing\)/);
  assert.not.ok(await tableExists('s10r2_null'), 'the schema transaction rolled back');
});

test('the server version query fails (current_setting answered by an error): refused at open, typed; nothing created', async () => {
  const proxy = await startPgProxy(server.url);
  proxies.push(proxy);
  replaceReply(proxy, 'v', (type) => {
    if (type !== 'T') return Buffer.alloc(0); // its rows and CommandComplete: dropped
    const fields = Buffer.from('SERROR\0C42704\0Munrecognized configuration parameter "server_version_num"\0\0', 'latin1');
    return message('E', fields);
  });
  const e = await rejectsAsync(openPostgresStore({ connectionString: proxy.url, max: 1, table: 's10r2_err' }));
  assert.ok(e instanceof OtrStateError, String(e));
  assert.match(e.message, /42704/);
  assert.not.ok(await tableExists('s10r2_err'));
  // The same server without the lie: opens.
  const s = await openPostgresStore({ connectionString: server.url, max: 1, table: 's10r2_err' });
  opened.push(s);
  assert.ok(await tableExists('s10r2_err'));
});

type Proc = { pid: number; started: string };
async function connected(): Promise<{ c: pg.Client; proc: Proc }> {
  const c = new pg.Client({ connectionString: server.url });
  c.on('error', () => {});
  await c.connect();
  clients.push(c);
  const r = await c.query(`SELECT pid, (extract(epoch FROM backend_start) * 1000000)::bigint::text AS started FROM pg_stat_activity WHERE pid = pg_backend_pid()`);
  return { c, proc: r.rows[0] as Proc };
}
const alive = async (p: Proc) => (await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [p.pid])).rows[0].n === 1;

test('ending a process for a transaction id: one running another transaction, or none, is left alone; the one running it is ended and the transaction reads as rolled back', async () => {
  const store = await openPostgresStore({ connectionString: server.url, max: 2, table: 's10r2_end' });
  opened.push(store);
  const endProcess = (p: Proc, xid: string) => (store as unknown as { endProcess(p: Proc, xid: string): Promise<void> }).endProcess(p, xid);
  const x = await connected(); // another client, in a transaction of its own
  const y = await connected(); // the transaction being settled
  const idle = await connected(); // a client in no transaction
  await x.c.query('BEGIN');
  await x.c.query('CREATE TEMP TABLE s10r2_x (i int)');
  await y.c.query('BEGIN');
  const yXid = (await y.c.query('SELECT pg_current_xact_id()::text AS xid')).rows[0].xid as string;
  assert.ok(/^[1-9][0-9]*$/.test(yXid));
  await endProcess(x.proc, yXid);
  await endProcess(idle.proc, yXid);
  assert.ok(await alive(x.proc), 'a process running another transaction is not ended');
  assert.ok(await alive(idle.proc), 'a process running no transaction is not ended');
  assert.equal((await x.c.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
  assert.is((await admin.query('SELECT pg_xact_status($1::xid8) AS s', [yXid])).rows[0].s, 'in progress');
  await endProcess(y.proc, yXid);
  for (let i = 0; i < 500 && (await alive(y.proc)); i++) await new Promise((r) => setTimeout(r, 10));
  assert.not.ok(await alive(y.proc), 'the process running the transaction is ended');
  assert.is((await admin.query('SELECT pg_xact_status($1::xid8) AS s', [yXid])).rows[0].s, 'aborted');
  await x.c.query('ROLLBACK');
});

run();
