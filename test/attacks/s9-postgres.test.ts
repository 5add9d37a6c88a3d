/**
 * Session 9 robustness on PostgreSQL (a private server: test/helpers/postgres.ts): forget() of a sealed row that
 * does not open (the cases of test/attacks/s9-forget-unreadable.ts, plus a bit flipped by SQL at the same
 * generation), and a connection lost while a commit was in flight: its COMMIT (or lone autocommitted statement)
 * never reaching the server, or its reply lost after the server committed (test/helpers/pg-proxy.ts).
 */
import * as assert from 'uvu/assert';
import { handshakeDurably } from '../helpers/stored-pair.js';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../ts/store/postgres.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { settledAs } from '../helpers/settled.js';
import type { PostgresServer } from '../helpers/postgres.js';
import { postgresSuite } from '../helpers/postgres-suite.js';
import { WASM } from '../helpers/backends.js';
import { forgetUnreadableCases } from './s9-forget-unreadable.js';
import { REFUSED_LIMIT, forgetRefusedCases, type Hostile, type Planter } from './s9-forget-refused.js';
import { openAccountRecords } from '../../ts/store/account-records.js';
import { Account, type Outcome } from '../../ts/index.js';
import { seededRandom } from '../helpers/rng.js';
import { testClock } from '../helpers/session-pair.js';
import { boundStatement, queryText, startPgProxy, type PgMessage, type PgProxy } from '../helpers/pg-proxy.js';

let server: PostgresServer;
let admin: pg.Client;
const opened: PostgresStore[] = [];

const { test, run } = postgresSuite(
  's9-postgres',
  (s, a) => ((server = s), (admin = a)),
  () => [...opened.map((s) => s.close()), ...proxies.map((p) => p.close())],
);

async function store(table: string): Promise<PostgresStore> {
  const s = await openPostgresStore({ connectionString: server.url, max: 2, table });
  opened.push(s);
  return s;
}

let tables = 0;
for (const [name, run] of forgetUnreadableCases({ backend: WASM, dsaKey: null })) test(`PostgreSQL: ${name}`, () => run(() => store(`s9_forget_${tables++}`)));

/** The table of the store a refused-row case opened last (the planter writes behind it). */
let refusedTable = '';
async function refusedStore(named: boolean): Promise<PostgresStore> {
  refusedTable = `s9_refused_${tables++}`;
  const s = await openPostgresStore({ connectionString: server.url, max: 2, table: refusedTable, namedStatements: named, limits: { maxRecordBytes: REFUSED_LIMIT } });
  opened.push(s);
  return s;
}

/**
 * A hostile writer with SQL: an oversized row and generations the bigint column holds (0 and negative once it
 * drops the CHECK), and — having turned the column to text — text garbage and a fraction. The text column is
 * planted only under a store without named statements: a named statement prepared for the bigint column cannot
 * be planned again for a text one (the store then fails STATE on every statement, not only on that row).
 */
function pgPlanter(kinds: readonly Hostile[]): Planter {
  return {
    kinds,
    async plant(kind, account, key, generation) {
      const t = refusedTable;
      const set = async (sql: string, ...v: unknown[]) => {
        const r = await admin.query(`UPDATE ${t} SET ${sql} WHERE account = $1 AND key = $2`, [account, key, ...v]);
        if (r.rowCount !== 1) throw new Error(`planted ${r.rowCount} rows`);
      };
      if (kind === 'generation 0' || kind === 'negative generation') await admin.query(`ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${t}_generation_check`);
      if (kind === 'text generation' || kind === 'non-integer generation') {
        await admin.query(`ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${t}_generation_check`);
        await admin.query(`ALTER TABLE ${t} ALTER COLUMN generation TYPE text`);
      }
      if (kind === 'oversized') await set(`generation = $3, bytes = decode(repeat('5a', $4), 'hex')`, generation, REFUSED_LIMIT + 1);
      else if (kind === 'generation 0') await set('generation = 0');
      else if (kind === 'negative generation') await set('generation = -3');
      else if (kind === 'generation beyond 2^53') await set(`generation = ${2n ** 60n}`);
      else if (kind === 'text generation') await set(`generation = 'garbage'`);
      else if (kind === 'non-integer generation') await set(`generation = '2.5'`);
      else throw new Error(`cannot plant ${kind} in PostgreSQL`);
    },
  };
}

for (const [name, run] of forgetRefusedCases({ backend: WASM, dsaKey: null }, pgPlanter(['oversized', 'generation 0', 'negative generation', 'generation beyond 2^53'])))
  test(`PostgreSQL: ${name}`, () => run(() => refusedStore(true)));
for (const [name, run] of forgetRefusedCases({ backend: WASM, dsaKey: null }, pgPlanter(['text generation', 'non-integer generation'])).slice(2, 3))
  test(`PostgreSQL, unnamed statements, generation column turned to text: ${name}`, () => run(() => refusedStore(false)));

test('PostgreSQL: a sealed row with a bit flipped by SQL at its own generation is BAD_MAC, and forget() deletes it', async () => {
  const s = await store('s9_flip');
  const options = { account: { backend: WASM, dsaKey: null }, create: true, sealKey: Uint8Array.from({ length: 32 }, (_, i) => 0x77 ^ i) };
  const setup = await openStoredAccount(s, 'alice@x', options);
  await setup.conversation('bob@x');
  await setup.commit(setup.account.changes({ all: true }));
  // The conversation's row is the one written second (generation 1 both; the account's is bigger).
  const rows = (await admin.query('SELECT account, key, generation::text AS generation, bytes FROM s9_flip ORDER BY octet_length(bytes)')).rows;
  await setup.close();
  const conv = rows[0]!;
  const flipped = Buffer.from(conv.bytes);
  flipped[flipped.length - 1]! ^= 1;
  await admin.query('UPDATE s9_flip SET bytes = $1 WHERE account = $2 AND key = $3', [flipped, conv.account, conv.key]);
  const stored = await openStoredAccount(s, 'alice@x', options);
  assert.is(await settledAs(stored.conversation('bob@x')), 'BAD_MAC');
  assert.is(await settledAs(stored.forget('bob@x')), 'ok');
  assert.is((await admin.query('SELECT count(*)::int AS n FROM s9_flip WHERE key = $1', [conv.key])).rows[0].n, 0, 'deleted');
  assert.is((await stored.conversation('bob@x')).state, 'START');
  await stored.close();
});


// ---- A connection lost while a commit was in flight (session 9) ----

const proxies: PgProxy[] = [];
const b = (...v: number[]) => new Uint8Array(v);
const isCommit = (m: PgMessage) => queryText(m) === 'COMMIT';
const isLoneUpdate = (m: PgMessage) => boundStatement(m)?.startsWith('otr4:u:') === true;
const isLoneDelete = (m: PgMessage) => boundStatement(m)?.startsWith('otr4:r:') === true;

/** A store whose connections go through a proxy that can lose the COMMIT or its reply. */
async function proxied(table: string): Promise<{ proxy: PgProxy; store: PostgresStore }> {
  const proxy = await startPgProxy(server.url);
  proxies.push(proxy);
  const s = await openPostgresStore({ connectionString: proxy.url, max: 2, table });
  opened.push(s);
  return { proxy, store: s };
}

async function generations(table: string): Promise<Record<string, number>> {
  const rows = (await admin.query(`SELECT key, generation::int AS g FROM ${table} ORDER BY key`)).rows as { key: string; g: number }[];
  return Object.fromEntries(rows.map((r) => [r.key, r.g]));
}

/** The error a promise rejected with (the test fails if it resolved). */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

test('the reply to COMMIT lost after the server committed (transaction, creation, lone update, lone delete): resolved as written, and the next commits go on', async () => {
  const { proxy, store: s } = await proxied('s9_lost_reply');
  const r = await openAccountRecords(s, 'a@x');
  await r.commit([r.change('account', b(1)), r.change('conv:p', b(1))]);
  proxy.arm(isCommit, 'reply');
  assert.is(await settledAs(r.commit([r.change('account', b(2)), r.change('conv:p', b(2))])), 'ok', 'two records: durable, so resolved');
  proxy.arm(isCommit, 'reply');
  assert.is(await settledAs(r.commit([r.change('conv:q', b(1))])), 'ok', 'a creation (a transaction)');
  proxy.arm(isLoneUpdate, 'reply');
  assert.is(await settledAs(r.commit([r.change('conv:p', b(3))])), 'ok', 'a lone update');
  proxy.arm(isLoneDelete, 'reply');
  assert.is(await settledAs(r.commit([r.change('conv:q', null)])), 'ok', 'a lone delete');
  assert.is(proxy.lost, 4, 'every reply was lost');
  assert.equal(await generations('s9_lost_reply'), { account: 2, 'conv:p': 3 });
  // The helper's book agrees with the database: the next commits are at the next generations, no CONFLICT.
  await r.commit([r.change('conv:p', b(4))]);
  await r.commit([r.change('account', b(3)), r.change('conv:p', b(5))]);
  assert.equal(await generations('s9_lost_reply'), { account: 3, 'conv:p': 5 });
  assert.equal((await r.load('conv:p'))?.bytes, b(5));
});

test('COMMIT lost before the server got it: resolved as not written (STATE, says so), rows as before, the same changes commit at the same generations', async () => {
  const { proxy, store: s } = await proxied('s9_lost_request');
  const r = await openAccountRecords(s, 'a@x');
  await r.commit([r.change('account', b(1)), r.change('conv:p', b(1))]);
  for (const [what, match, changes] of [
    ['two records', isCommit, () => [r.change('account', b(2)), r.change('conv:p', b(2))]],
    ['a lone update', isLoneUpdate, () => [r.change('conv:p', b(2))]],
  ] as const) {
    proxy.arm(match, 'request');
    const e = await failure(r.commit(changes()));
    assert.is((e as { code?: string }).code, 'STATE', what);
    assert.match(e.message, /nothing was written/, `${what}: ${e.message}`);
    assert.equal(await generations('s9_lost_request'), { account: 1, 'conv:p': 1 }, `${what}: nothing written`);
  }
  assert.is(proxy.lost, 2);
  await r.commit([r.change('account', b(2)), r.change('conv:p', b(2))]);
  assert.equal(await generations('s9_lost_request'), { account: 2, 'conv:p': 2 });
});

test('the reply lost and the database unreachable after: STATE that says the outcome is unknown; once reachable, the conflict it leaves is resolved by a reload', async () => {
  const { proxy, store: s } = await proxied('s9_lost_unknown');
  const r = await openAccountRecords(s, 'a@x');
  await r.commit([r.change('conv:p', b(1))]);
  proxy.arm(isLoneUpdate, 'reply', true);
  const e = await failure(r.commit([r.change('conv:p', b(2))]));
  assert.is((e as { code?: string }).code, 'STATE');
  assert.match(e.message, /outcome is unknown/, e.message);
  proxy.refuse = false;
  // It was written: the helper, which could not know, commits the next change from its old base and is refused.
  assert.equal(await generations('s9_lost_unknown'), { 'conv:p': 2 });
  assert.is(await settledAs(r.commit([r.change('conv:p', b(3))])), 'CONFLICT');
  assert.equal((await r.load('conv:p'))?.bytes, b(2));
  await r.commit([r.change('conv:p', b(3))]);
});

test('openStoredAccount over a lost COMMIT reply: the commit resolves, the message goes out, the session goes on; unknown outcomes never reuse a key', async () => {
  const { proxy, store: s } = await proxied('s9_lost_session');
  const clock = testClock();
  const options = { create: true, sealKey: new Uint8Array(32).fill(9), account: { backend: WASM, random: seededRandom(31), clock, dsaKey: null } };
  const stored = await openStoredAccount(s, 'alice@x', options);
  const bob = Account.create({ accountId: 'bob@x', backend: WASM, random: seededRandom(32), clock, dsaKey: null });
  const a = await stored.conversation('bob@x');
  const bc = bob.conversation('alice@x');
  const durable = async (out: Outcome): Promise<string[]> => {
    await stored.commit(out);
    return out.toSend;
  };
  await handshakeDurably(stored, a, bc);
  const read: string[] = [];
  const refused: string[] = [];
  const deliver = (toSend: readonly string[]) => {
    for (const t of toSend) {
      const got = bc.receive(t);
      read.push(...got.messages.map((m) => m.text));
      refused.push(...got.events.filter((ev) => ev.type === 'unreadable').map((ev) => JSON.stringify(ev)));
    }
  };
  deliver(await durable(a.send('one')));
  proxy.arm(isLoneUpdate, 'reply');
  const lost = a.send('two: reply lost');
  assert.is(await settledAs(stored.commit(lost)), 'ok', 'resolved as written');
  deliver(lost.toSend);
  for (const text of ['three', 'four']) deliver(await durable(a.send(text)));
  // Unknown: not transmitted (the commit failed); the next commit is refused (it was written); the host reopens.
  proxy.arm(isLoneUpdate, 'reply', true);
  const unknown = a.send('five: never sent');
  assert.is(await settledAs(stored.commit(unknown)), 'STATE');
  proxy.refuse = false;
  assert.is(await settledAs(stored.commit(a.send('six: refused'))), 'CONFLICT');
  await stored.close();
  const again = await openStoredAccount(s, 'alice@x', { ...options, create: false });
  const a2 = await again.conversation('bob@x');
  const seven = a2.send('seven');
  await again.commit(seven);
  deliver(seven.toSend);
  const back = bc.send('back');
  const got = a2.receive(back.toSend[0]!);
  await again.commit(got);
  assert.equal(got.messages.map((m) => m.text), ['back']);
  assert.equal(read, ['one', 'two: reply lost', 'three', 'four', 'seven']);
  assert.equal(refused, [], 'Bob refused nothing: no key served twice');
  assert.is(proxy.lost, 2);
  await again.close();
});

run();
