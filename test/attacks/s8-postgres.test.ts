/**
 * Session 8 review of the PostgreSQL store (ts/store/postgres.ts) against a hostile or failing database, on a
 * private server (test/helpers/postgres.ts): columns of the wrong type, NULLs, generations that are not positive
 * integers, a record stored twice (the primary key dropped, before and behind an open store), sealed rows moved
 * between records, accounts and generations, two writers racing through the helper, a connection killed in the
 * middle of a transaction and just before COMMIT, a server that refuses COMMIT, an exhausted pool, and a
 * conversation record that does not decode through openStoredAccount. Every case must end in a typed error or
 * the documented outcome, with the rows as they were and the store usable after.
 */
import * as assert from 'uvu/assert';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../ts/store/postgres.js';
import { openAccountRecords, type StoreEvent } from '../../ts/store/account-records.js';
import { OtrStoreConflictError } from '../../ts/errors.js';
import { settledAs } from '../helpers/settled.js';
import { rejectsAsync } from '../helpers/rejects.js';
import type { PostgresServer } from '../helpers/postgres.js';
import { postgresSuite } from '../helpers/postgres-suite.js';
import { storedAccountCases } from './s8-stored-account.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { WASM } from '../helpers/backends.js';

let server: PostgresServer;
let admin: pg.Client;
const opened: PostgresStore[] = [];
const pools: pg.Pool[] = [];

const { test, run } = postgresSuite(
  's8-postgres',
  (s, a) => ((server = s), (admin = a)),
  () => [...opened.map((s) => s.close()), ...pools.map((p) => p.end())],
);

async function store(options: Partial<Parameters<typeof openPostgresStore>[0]> = {}): Promise<PostgresStore> {
  const s = await openPostgresStore({ connectionString: server.url, max: 2, ...options });
  opened.push(s);
  return s;
}

function hostPool(config: pg.PoolConfig = {}): pg.Pool {
  const p = new pg.Pool({ connectionString: server.url, max: 2, ...config });
  p.on('error', () => {});
  pools.push(p);
  return p;
}

const b = (...v: number[]) => new Uint8Array(v);
type RawRow = { account: string; key: string; generation: string; bytes: Buffer | null };
async function rawRows(table: string): Promise<RawRow[]> {
  return (await admin.query(`SELECT account, key, generation::text AS generation, bytes FROM ${table} ORDER BY account, key, generation`)).rows;
}

/** What a call ended in: 'ok', an OtrError's code, or 'untyped ...' (a failure of the test). */
const outcome = settledAs;

test('hostile column values: negative, zero, fractional, huge and NULL generations, NULL bytes -> MALFORMED; a commit over them touches nothing', async () => {
  const s = await store({ table: 'h_values' });
  // What a damaged or hand-edited table can hold once its constraints are gone.
  await admin.query('ALTER TABLE h_values DROP CONSTRAINT h_values_generation_check');
  await admin.query('ALTER TABLE h_values ALTER COLUMN generation DROP NOT NULL, ALTER COLUMN bytes DROP NOT NULL');
  await admin.query('ALTER TABLE h_values ALTER COLUMN generation TYPE numeric');
  const values: [string, string | null][] = [
    ['negative', '-1'],
    ['zero', '0'],
    ['fraction', '1.5'],
    ['huge', '99999999999999999999999999'],
    ['past-2^53', '9007199254740993'],
    ['null-generation', null],
  ];
  for (const [k, g] of values) await admin.query('INSERT INTO h_values VALUES ($1, $2, $3, $4)', ['a@x', k, g, Buffer.from([1])]);
  await admin.query("INSERT INTO h_values VALUES ('a@x', 'null-bytes', 1, NULL)");
  const before = await rawRows('h_values');
  for (const [k] of values) {
    assert.is(await outcome(s.load('a@x', k)), 'MALFORMED', `load ${k}`);
    // A lone update and a lone delete (autocommitted statements), and one inside a transaction.
    for (const g of [1, 2, 3]) {
      assert.is(await outcome(s.commit('a@x', [{ key: k, generation: g + 1, bytes: b(9) }])), 'CONFLICT', `update ${k} at ${g + 1}`);
      assert.is(await outcome(s.commit('a@x', [{ key: k, generation: g + 1, bytes: null }])), 'CONFLICT', `delete ${k} at ${g + 1}`);
    }
    assert.is(await outcome(s.commit('a@x', [{ key: k, generation: 1, bytes: b(9) }, { key: 'fresh', generation: 1, bytes: b(9) }])), 'CONFLICT', `insert over ${k}`);
  }
  assert.is(await outcome(s.load('a@x', 'null-bytes')), 'MALFORMED');
  assert.equal(await rawRows('h_values'), before, 'no row written');
  assert.equal((await s.keys('a@x')).sort(), [...values.map(([k]) => k), 'null-bytes'].sort());
  // A row at the expected generation is replaced whatever its bytes were (they are never read), as on SQLite.
  await s.commit('a@x', [{ key: 'null-bytes', generation: 2, bytes: b(2) }]);
  assert.equal((await s.load('a@x', 'null-bytes'))?.bytes, b(2));
});

test('hostile column types: bytes as text, keys as bytea -> MALFORMED on load and keys', async () => {
  const w = await store({ table: 'h_types' });
  await w.commit('a@x', [{ key: 'k', generation: 1, bytes: b(1, 2, 3) }]);
  await admin.query("ALTER TABLE h_types ALTER COLUMN bytes TYPE text USING encode(bytes, 'hex')");
  assert.is(await outcome((await store({ table: 'h_types' })).load('a@x', 'k')), 'MALFORMED');
  const w2 = await store({ table: 'h_keys' });
  await w2.commit('a@x', [{ key: 'k', generation: 1, bytes: b(1) }]);
  await admin.query("ALTER TABLE h_keys ALTER COLUMN key TYPE bytea USING convert_to(key, 'UTF8')");
  assert.is(await outcome((await store({ table: 'h_keys' })).keys('a@x')), 'MALFORMED');
  // The store that prepared its statements before the change: typed too (the server refuses the cached plans).
  assert.not.match(await outcome(w.load('a@x', 'k')), /^untyped/);
  assert.not.match(await outcome(w2.keys('a@x')), /^untyped/);
});

test('a record stored twice (primary key dropped behind an open store): load, keys, lone update and delete, transactions -> MALFORMED, nothing written', async () => {
  const s = await store({ table: 'h_twice' });
  await s.commit('a@x', [
    { key: 'k', generation: 1, bytes: b(1) },
    { key: 'other', generation: 1, bytes: b(7) },
  ]);
  await s.commit('a@x', [{ key: 'k', generation: 2, bytes: b(2) }]);
  await admin.query('ALTER TABLE h_twice DROP CONSTRAINT h_twice_pkey');
  // The same record twice: a stale copy at the same generation (the dangerous case: both match the WHERE clause).
  await admin.query("INSERT INTO h_twice VALUES ('a@x', 'k', 2, '\\x0202')");
  const before = await rawRows('h_twice');
  assert.is(await outcome(s.load('a@x', 'k')), 'MALFORMED', 'load');
  assert.is(await outcome(s.keys('a@x')), 'MALFORMED', 'keys lists k twice');
  assert.is(await outcome(s.commit('a@x', [{ key: 'k', generation: 3, bytes: b(3) }])), 'MALFORMED', 'lone update');
  assert.is(await outcome(s.commit('a@x', [{ key: 'k', generation: 3, bytes: null }])), 'MALFORMED', 'lone delete');
  assert.is(await outcome(s.commit('a@x', [{ key: 'k', generation: 3, bytes: b(3) }, { key: 'other', generation: 2, bytes: b(8) }])), 'MALFORMED', 'in a transaction');
  assert.equal(await rawRows('h_twice'), before, 'neither copy written, nothing else either');
  // The record stored once still works.
  await s.commit('a@x', [{ key: 'other', generation: 2, bytes: b(8) }]);
  assert.equal((await s.load('a@x', 'other'))?.bytes, b(8));
  // And a store opened on that table now refuses it up front.
  assert.is(await outcome(store({ table: 'h_twice' })), 'MALFORMED', 'open refuses a table without its primary key');
});

test('sealed rows moved between records, accounts and generations on PostgreSQL: BAD_MAC; an older genuine row: ROLLBACK', async () => {
  const s = await store({ table: 'h_sealed' });
  const sealKey = Uint8Array.from({ length: 32 }, (_, i) => 0x30 + i);
  const alice = await openAccountRecords(s, 'alice@x', { sealKey });
  const mallory = await openAccountRecords(s, 'mallory@x', { sealKey });
  await alice.commit([alice.change('conv:bob', new Uint8Array(500).fill(1)), alice.change('conv:carol', new Uint8Array(700).fill(2))]);
  await mallory.commit([mallory.change('conv:bob', new Uint8Array(300).fill(3))]);
  const first = (await rawRows('h_sealed')).find((r) => r.bytes!.length === 541)!;
  await alice.commit([alice.change('conv:bob', new Uint8Array(500).fill(4))]);
  const rows = await rawRows('h_sealed');
  const bob = rows.find((r) => r.bytes!.length === 541)!;
  const carol = rows.find((r) => r.bytes!.length === 741)!;
  const mal = rows.find((r) => r.bytes!.length === 341)!;
  const set = (bytes: Buffer, g: string) => admin.query('UPDATE h_sealed SET bytes = $1, generation = $2 WHERE account = $3 AND key = $4', [bytes, g, bob.account, bob.key]);
  const cases: [string, () => Promise<unknown>, string][] = [
    ["carol's row on bob's record", () => set(carol.bytes!, bob.generation), 'BAD_MAC'],
    ["mallory's row on alice's record", () => set(mal.bytes!, bob.generation), 'BAD_MAC'],
    ['generation moved forward', () => set(bob.bytes!, '3'), 'BAD_MAC'],
    ['the older row under the newer generation', () => set(first.bytes!, bob.generation), 'BAD_MAC'],
  ];
  for (const [name, edit, code] of cases) {
    await edit();
    // A fresh helper (nothing seen): the seal alone must refuse it.
    const fresh = await openAccountRecords(s, 'alice@x', { sealKey });
    assert.is(await outcome(fresh.load('conv:bob')), code, name);
    await set(bob.bytes!, bob.generation);
  }
  // The older row with its own generation opens (it is genuine); the helper that saw generation 2 calls it a rollback.
  await set(first.bytes!, first.generation);
  assert.is(await outcome(alice.load('conv:bob')), 'ROLLBACK');
  assert.equal((await alice.load('conv:carol'))?.bytes, new Uint8Array(700).fill(2), 'the other record unharmed');
});

test('two writers (two pools) racing on one record through the helper, 25 rounds: exactly one wins each round, the other gets CONFLICT and an event', async () => {
  const events: StoreEvent[][] = [[], []];
  const stores = [await store({ table: 'h_race' }), await store({ table: 'h_race' })];
  const writers = await Promise.all(stores.map((s, i) => openAccountRecords(s, 'race@x', { onEvent: (e) => events[i]!.push(e) })));
  await writers[0]!.commit([writers[0]!.change('conv:p', b(0)), writers[0]!.change('account', b(0))]);
  for (let round = 1; round <= 25; round++) {
    await Promise.all(writers.map((w) => Promise.all([w.load('conv:p'), w.load('account')])));
    // Odd rounds: one-record commits (the autocommitted statement); even rounds: two records (a transaction).
    const results = await Promise.allSettled(
      writers.map((w, i) => w.commit(round % 2 ? [w.change('conv:p', b(round, i))] : [w.change('conv:p', b(round, i)), w.change('account', b(round, i))])),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.is(won.length, 1, `round ${round}: one winner`);
    const loser = 1 - won[0]!;
    const reason = (results[loser] as PromiseRejectedResult).reason;
    assert.ok(reason instanceof OtrStoreConflictError, `round ${round}: ${reason}`);
    assert.ok(events[loser]!.some((e) => e.type === 'conflict'), `round ${round}: the loser was told`);
    events[0]!.length = events[1]!.length = 0;
    const stored = await stores[0]!.load('race@x', 'conv:p');
    assert.equal(stored?.bytes, b(round, won[0]!), `round ${round}: the winner's bytes`);
    assert.is(stored?.generation, round + 1);
    if (round % 2 === 0) assert.equal((await stores[0]!.load('race@x', 'account'))?.bytes, b(round, won[0]!), 'both records from one writer');
  }
});

/**
 * A host pool whose connections run `hook(client, text)` before each statement: the test kills the connection
 * (pg_terminate_backend from another session) at a chosen statement, deterministically, without timing.
 */
function hookedPool(hook: (c: pg.PoolClient, text: string) => Promise<void>): pg.Pool {
  const p = hostPool({ max: 2 });
  const connect = p.connect.bind(p) as () => Promise<pg.PoolClient>;
  const install = (c: pg.PoolClient): pg.PoolClient => {
    const marked = c as pg.PoolClient & { hooked?: boolean };
    if (!marked.hooked) {
      marked.hooked = true;
      const query = c.query.bind(c) as (...a: unknown[]) => Promise<unknown>;
      (c as { query: unknown }).query = async (q: unknown, ...rest: unknown[]) => {
        await hook(c, typeof q === 'string' ? q : String((q as { text?: string }).text));
        return query(q, ...rest);
      };
    }
    return c;
  };
  // pool.connect() (transactions) and pool.connect(callback) (pool.query: lone statements) alike.
  (p as { connect: unknown }).connect = (cb?: (e: unknown, c?: pg.PoolClient) => void) => {
    const got = connect().then(install);
    if (!cb) return got;
    got.then((c) => cb(undefined, c), (e) => cb(e));
    return undefined;
  };
  return p;
}

async function kill(c: pg.PoolClient): Promise<void> {
  const pid = (c as unknown as { processID: number }).processID;
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  // The server closes the socket; wait until this client has seen it, so the next statement fails for sure.
  await new Promise<void>((resolve) => {
    const conn = (c as unknown as { connection: { stream: { destroyed: boolean; once(e: string, f: () => void): void } } }).connection;
    if (conn.stream.destroyed) resolve();
    else conn.stream.once('close', () => resolve());
  });
}

test('a connection killed mid-transaction, before COMMIT, and under a lone update: STATE, nothing half-written, the pool recovers', async () => {
  let killAt: RegExp | undefined;
  const pool = hookedPool(async (c, text) => {
    if (killAt && killAt.test(text)) {
      killAt = undefined;
      await kill(c);
    }
  });
  const s = await store({ pool, table: 'h_drop' });
  await s.commit('a@x', [{ key: 'j', generation: 1, bytes: b(1) }, { key: 'k', generation: 1, bytes: b(1) }]);
  const before = await rawRows('h_drop');
  for (const at of [/\bUPDATE\b/, /^COMMIT$/]) {
    killAt = at;
    assert.is(await outcome(s.commit('a@x', [{ key: 'j', generation: 2, bytes: b(2) }, { key: 'k', generation: 2, bytes: b(2) }])), 'STATE', `killed at ${at}`);
    assert.is(killAt, undefined, 'the kill happened');
    assert.equal(await rawRows('h_drop'), before, `killed at ${at}: nothing written`);
  }
  killAt = /\bUPDATE\b/;
  assert.is(await outcome(s.commit('a@x', [{ key: 'j', generation: 2, bytes: b(2) }])), 'STATE', 'lone update');
  assert.equal(await rawRows('h_drop'), before);
  killAt = /^SELECT generation/;
  assert.is(await outcome(s.load('a@x', 'j')), 'STATE', 'load');
  // The dead connections left the pool: every later call works, on the same store.
  for (let i = 0; i < 4; i++) assert.ok(await s.load('a@x', 'j'));
  await s.commit('a@x', [{ key: 'j', generation: 2, bytes: b(2) }, { key: 'k', generation: 2, bytes: b(2) }]);
  await s.commit('a@x', [{ key: 'j', generation: 3, bytes: b(3) }]);
  assert.equal((await s.load('a@x', 'j'))?.bytes, b(3));
  assert.equal((await s.load('a@x', 'k'))?.bytes, b(2));
});

test('a server that refuses COMMIT (a deferred constraint trigger): STATE, nothing written; the helper commits the same generation after', async () => {
  const s = await store({ table: 'h_commit' });
  await admin.query(`CREATE FUNCTION h_commit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF EXISTS (SELECT 1 FROM h_commit_poison) THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NULL; END $$`);
  await admin.query('CREATE TABLE h_commit_poison (on_ boolean)');
  await admin.query(`CREATE CONSTRAINT TRIGGER h_commit_refuse AFTER INSERT OR UPDATE OR DELETE ON h_commit
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION h_commit_refuse()`);
  const r = await openAccountRecords(s, 'a@x');
  await r.commit([r.change('account', b(1)), r.change('conv:p', b(1))]);
  await admin.query('INSERT INTO h_commit_poison VALUES (true)');
  const before = await rawRows('h_commit');
  const e = await rejectsAsync(r.commit([r.change('account', b(2)), r.change('conv:p', b(2))]), 'STATE');
  assert.match(e.message, /refused at commit/);
  await rejectsAsync(r.commit([r.change('conv:p', b(2))]), 'STATE');
  await rejectsAsync(r.commit([r.change('conv:new', b(2))]), 'STATE');
  assert.equal(await rawRows('h_commit'), before, 'nothing written');
  await admin.query('DELETE FROM h_commit_poison');
  // The refused commits moved nothing: the same changes go through at the same generations now.
  await r.commit([r.change('account', b(2)), r.change('conv:p', b(2))]);
  assert.equal((await r.load('conv:p'))?.generation, 2);
});

test('an exhausted pool: calls wait for a connection and get a typed STATE at the pool timeout; a one-connection pool never deadlocks itself', async () => {
  const pool = hostPool({ max: 1, connectionTimeoutMillis: 200 });
  const s = await store({ pool, table: 'h_pool' });
  await s.commit('a@x', [{ key: 'k', generation: 1, bytes: b(1) }]);
  const held = await pool.connect(); // the host holds the only connection
  try {
    assert.is(await outcome(s.load('a@x', 'k')), 'STATE');
    assert.is(await outcome(s.keys('a@x')), 'STATE');
    assert.is(await outcome(s.commit('a@x', [{ key: 'k', generation: 2, bytes: b(2) }])), 'STATE');
    assert.is(await outcome(s.commit('a@x', [{ key: 'k', generation: 2, bytes: b(2) }, { key: 'j', generation: 1, bytes: b(2) }])), 'STATE');
  } finally {
    held.release();
  }
  // Many calls at once on the one connection: transactions and lone statements queue, none waits on itself.
  const one = hostPool({ max: 1 });
  const q = await store({ pool: one, table: 'h_pool' });
  const calls = Array.from({ length: 30 }, (_, i) =>
    i % 3 === 0 ? q.commit('p@x', [{ key: `a${i}`, generation: 1, bytes: b(i) }, { key: `b${i}`, generation: 1, bytes: b(i) }]) : i % 3 === 1 ? q.load('a@x', 'k') : q.keys('a@x'),
  );
  await Promise.all(calls);
  assert.is((await q.keys('p@x')).length, 20);
  assert.equal((await q.load('a@x', 'k'))?.bytes, b(1), 'the refused commits wrote nothing');
});

for (const [name, run] of storedAccountCases({ backend: WASM, dsaKey: null })) test(`PostgreSQL: ${name}`, () => run(() => store({ table: 'h_stored' })));

test('openStoredAccount on PostgreSQL: a sealed conversation row with a bit flipped by SQL is BAD_MAC on every use, never replaced', async () => {
  const s = await store({ table: 'h_stored_mac' });
  const options = { account: { backend: WASM, dsaKey: null }, create: true, sealKey: Uint8Array.from({ length: 32 }, (_, i) => 0x77 ^ i) };
  const setup = await openStoredAccount(s, 'alice@x', options);
  await setup.conversation('bob@x');
  await setup.commit(setup.account.changes({ all: true }));
  await setup.close();
  const rows = await rawRows('h_stored_mac');
  const account = (await openAccountRecords(s, 'alice@x', { sealKey: options.sealKey })).load('account');
  const accountSize = (await account)!.bytes.length + 41;
  const conv = rows.find((r) => r.bytes!.length !== accountSize)!;
  const flipped = Buffer.from(conv.bytes!);
  flipped[flipped.length - 1]! ^= 1;
  await admin.query('UPDATE h_stored_mac SET bytes = $1 WHERE account = $2 AND key = $3', [flipped, conv.account, conv.key]);
  const stored = await openStoredAccount(s, 'alice@x', options);
  for (let i = 0; i < 3; i++) assert.is(await outcome(stored.conversation('bob@x')), 'BAD_MAC');
  await stored.conversation('carol@x');
  await stored.commit(stored.account.changes({ all: true }));
  assert.equal((await rawRows('h_stored_mac')).find((r) => r.key === conv.key), { ...conv, bytes: flipped }, 'the row as it was');
  assert.is(await outcome(stored.forget('bob@x')), 'ok', 'forgotten (session 9: at the stored generation)');
  await stored.close();
});

run();
