/**
 * The PostgreSQL store (ts/store/postgres.ts) against a real server started for this run
 * (test/helpers/postgres.ts): two node processes racing on one record (no update lost, every loss a typed
 * CONFLICT), a stale process, many stores starting at once on an empty database, hostile rows, a writer
 * killed with SIGKILL, then the shared contract.
 */
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../ts/store/postgres.js';
import { openAccountRecords } from '../ts/store/account-records.js';
import { CONTRACT } from './helpers/store-contract.js';
import { rejectsAsync } from './helpers/rejects.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';
import { setupSuite } from './helpers/setup-suite.js';
import { ackRecord, WRITER_SEAL_KEY, type WriterConfig } from './helpers/store-writer.js';

const WRITER = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'store-writer.js');

let server: PostgresServer;
let shared: PostgresStore;
const opened: PostgresStore[] = [];

const { test, run } = setupSuite(
  'store-postgres',
  async () => {
    server = await startPostgres();
    shared = await openPostgresStore({ connectionString: server.url, max: 4 });
  },
  async () => {
    await Promise.all(opened.map((s) => s.close()));
    await shared?.close();
    await server?.stop();
  },
);

async function store(options: Partial<Parameters<typeof openPostgresStore>[0]> = {}): Promise<PostgresStore> {
  const s = await openPostgresStore({ connectionString: server.url, max: 2, ...options });
  opened.push(s);
  return s;
}

function runWriter(config: WriterConfig): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`writer exited ${code}: ${err}`))));
  });
}

test('ten stores starting at once on an empty database (own table): schema created once, no error', async () => {
  const all = await Promise.all(Array.from({ length: 10 }, () => store({ table: 'startup_race', max: 1 })));
  await all[0]!.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array([1]) }]);
  assert.equal((await all[9]!.load('a@x', 'k'))?.bytes, new Uint8Array([1]));
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  const v = await c.query('SELECT count(*)::int AS n FROM startup_race_meta');
  await c.end();
  assert.is(v.rows[0].n, 1, 'one schema version row');
});

test('two node processes racing 40 increments each on one record: no update lost, losers get CONFLICT and retry', async () => {
  const account = 'race@x';
  const key = 'conv:contended';
  const rounds = 40;
  const outs = await Promise.all(
    [1, 2].map((id) => runWriter({ mode: 'race', kind: 'postgres', target: server.url, account, key, id, rounds })),
  );
  const stats = outs.map((o) => JSON.parse(o.trim()) as { wins: number; conflicts: number });
  assert.equal(stats.map((s) => s.wins), [rounds, rounds]);
  const r = await openAccountRecords(shared, account, { sealKey: WRITER_SEAL_KEY });
  const rec = await r.load(key);
  assert.is(rec?.generation, 2 * rounds, 'one generation per win');
  assert.is(rec?.bytes.length, 2 * rounds, 'the record lists every win');
  assert.is(rec!.bytes.filter((b) => b === 1).length, rounds, "process 1's wins all there");
  assert.is(rec!.bytes.filter((b) => b === 2).length, rounds, "process 2's wins all there");
  // Whether the two actually overlapped depends on scheduling; report it rather than assert timing.
  console.log(`  race: conflicts ${stats.map((s) => s.conflicts).join(' + ')}`);
});

test('a stale process (old pool, old generation) cannot overwrite newer state; both see CONFLICT, not success', async () => {
  const a = await store();
  const b = await store();
  const ra = await openAccountRecords(a, 'stale@x');
  const rb = await openAccountRecords(b, 'stale@x');
  await ra.commit([ra.change('account', new Uint8Array([0])), ra.change('conv:bob', new Uint8Array([1]))]);
  await rb.load('conv:bob');
  await rb.load('account');
  for (let g = 2; g <= 5; g++) await ra.commit([ra.change('conv:bob', new Uint8Array([g]))]);
  await rejectsAsync(rb.commit([rb.change('conv:bob', new Uint8Array([99]))]), 'CONFLICT');
  await rejectsAsync(rb.commit([rb.change('account', new Uint8Array([9])), rb.change('conv:bob', new Uint8Array([99]))]), 'CONFLICT');
  assert.equal((await ra.load('account'))?.generation, 1, 'the multi-record commit was rolled back entirely');
  assert.equal((await ra.load('conv:bob'))?.bytes, new Uint8Array([5]));
  // And the raw store: the same check without the helper's own tracking.
  await rejectsAsync(b.commit('stale@x', [{ key: 'conv:bob', generation: 3, bytes: new Uint8Array([7]) }]), 'CONFLICT');
});

test('a database restored to an older state under a running process: ROLLBACK, not silent acceptance', async () => {
  const r = await openAccountRecords(shared, 'restore@x');
  await r.commit([r.change('conv:bob', new Uint8Array([1]))]);
  await r.commit([r.change('conv:bob', new Uint8Array([2]))]);
  await r.commit([r.change('conv:bob', new Uint8Array([3]))]);
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  await c.query(`UPDATE otr4_records SET generation = 2, bytes = '\\x02' WHERE account = 'restore@x'`);
  await c.end();
  await rejectsAsync(r.load('conv:bob'), 'ROLLBACK');
  await rejectsAsync(r.commit([r.change('conv:bob', new Uint8Array([4]))]), 'ROLLBACK');
});

test('hostile rows: generation past 2^53, oversized bytes (never transferred), over-long keys, too many keys', async () => {
  const s = await store({ table: 'hostile', limits: { maxRecordBytes: 1000, maxRecordKeyBytes: 64, maxRecordsPerAccount: 3 } });
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  const ins = (a: string, k: string, g: string, b: Buffer) => c.query('INSERT INTO hostile VALUES ($1, $2, $3, $4)', [a, k, g, b]);
  await ins('a@x', 'huge-gen', '9007199254740993', Buffer.from([1]));
  await ins('a@x', 'big', '1', Buffer.alloc(50_000_000 / 50, 1));
  await ins('a@x', 'ok', '2', Buffer.alloc(1000, 1));
  await ins('a@x', 'fourth', '1', Buffer.from([1]));
  await ins('b@x', 'k'.repeat(65), '1', Buffer.from([1]));
  await c.end();
  await rejectsAsync(s.load('a@x', 'huge-gen'), 'MALFORMED');
  await rejectsAsync(s.load('a@x', 'big'), 'LIMIT_EXCEEDED');
  assert.is((await s.load('a@x', 'ok'))?.bytes.length, 1000);
  await rejectsAsync(s.keys('a@x'), 'LIMIT_EXCEEDED');
  await rejectsAsync(s.keys('b@x'), 'MALFORMED');
  await rejectsAsync(s.commit('a@x', [{ key: 'huge-gen', generation: 5, bytes: new Uint8Array(1) }]), 'CONFLICT');
});

test('rows stay inline: the table is created with toast_tuple_target and fillfactor, an older table gets them at open', async () => {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  const options = async (table: string) => ((await c.query('SELECT reloptions FROM pg_class WHERE oid = $1::regclass', [table])).rows[0].reloptions ?? []) as string[];
  try {
    const s = await store({ table: 'inline_rows' });
    assert.equal((await options('inline_rows')).sort(), ['fillfactor=70', 'toast_tuple_target=8160']);
    // A 2.2 KB sealed-size record (random bytes, as sealing makes them: nothing to compress) is written inline.
    const bytes = new Uint8Array(randomBytes(2191));
    await s.commit('a@x', [{ key: 'k', generation: 1, bytes }]);
    await s.commit('a@x', [{ key: 'k', generation: 2, bytes }]);
    const toast = (await c.query("SELECT reltoastrelid::regclass::text AS t FROM pg_class WHERE oid = 'inline_rows'::regclass")).rows[0].t as string;
    assert.is((await c.query(`SELECT count(*)::int AS n FROM ${toast}`)).rows[0].n, 0, 'nothing in the TOAST table');
    assert.equal((await s.load('a@x', 'k'))?.bytes, bytes);
    // A table made by an earlier version (no options), with a record in it: opening sets them, the record reads back.
    await c.query('CREATE TABLE older_rows (account text NOT NULL, key text NOT NULL, generation bigint NOT NULL CHECK (generation >= 1), bytes bytea NOT NULL, PRIMARY KEY (account, key))');
    await c.query('CREATE TABLE older_rows_meta (version integer NOT NULL)');
    await c.query('INSERT INTO older_rows_meta VALUES (1)');
    await c.query("INSERT INTO older_rows VALUES ('a@x', 'k', 3, '\\x0102')");
    const older = await store({ table: 'older_rows' });
    assert.equal((await options('older_rows')).sort(), ['fillfactor=70', 'toast_tuple_target=8160']);
    assert.equal((await older.load('a@x', 'k'))?.bytes, new Uint8Array([1, 2]));
  } finally {
    await c.end();
  }
});

test('a role that does not own the table (only granted its rows) still opens the store, without the storage settings', async () => {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    await c.query('CREATE TABLE granted_rows (account text NOT NULL, key text NOT NULL, generation bigint NOT NULL CHECK (generation >= 1), bytes bytea NOT NULL, PRIMARY KEY (account, key))');
    await c.query('CREATE TABLE granted_rows_meta (version integer NOT NULL)');
    await c.query('INSERT INTO granted_rows_meta VALUES (1)');
    await c.query('CREATE ROLE bridge_app LOGIN');
    await c.query('GRANT SELECT, INSERT, UPDATE, DELETE ON granted_rows, granted_rows_meta TO bridge_app');
    await c.query('GRANT CREATE, USAGE ON SCHEMA public TO bridge_app');
    const s = await store({ table: 'granted_rows', connectionString: server.url.replace('//otr@', '//bridge_app@') });
    await s.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array([7]) }]);
    assert.equal((await s.load('a@x', 'k'))?.bytes, new Uint8Array([7]));
    assert.is((await c.query("SELECT reloptions FROM pg_class WHERE oid = 'granted_rows'::regclass")).rows[0].reloptions, null);
  } finally {
    await c.end();
  }
});

test('named statements: two stores with different tables on one host pool do not collide; namedStatements: false works alike', async () => {
  const pool = new pg.Pool({ connectionString: server.url, max: 1 });
  try {
    const one = await openPostgresStore({ pool, table: 'named_one' });
    const two = await openPostgresStore({ pool, table: 'named_two' });
    const plain = await openPostgresStore({ pool, table: 'named_one', namedStatements: false });
    await one.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array([1]) }]);
    await two.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array([2]) }]);
    await plain.commit('a@x', [{ key: 'k', generation: 2, bytes: new Uint8Array([3]) }]);
    await rejectsAsync(one.commit('a@x', [{ key: 'k', generation: 2, bytes: new Uint8Array([4]) }]), 'CONFLICT');
    assert.equal((await one.load('a@x', 'k'))?.bytes, new Uint8Array([3]));
    assert.equal((await two.load('a@x', 'k'))?.bytes, new Uint8Array([2]));
    assert.equal((await plain.load('a@x', 'k'))?.generation, 2);
    await Promise.all([one.close(), two.close(), plain.close()]);
  } finally {
    await pool.end();
  }
});

test('the database going away is a typed STATE error: a dropped table, a refused connection', async () => {
  const s = await store({ table: 'dropped' });
  await s.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array([1]) }]);
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  await c.query('DROP TABLE dropped');
  await c.end();
  await rejectsAsync(s.load('a@x', 'k'), 'STATE');
  await rejectsAsync(s.keys('a@x'), 'STATE');
  await rejectsAsync(s.commit('a@x', [{ key: 'k', generation: 2, bytes: new Uint8Array([2]) }]), 'STATE');
  await rejectsAsync(s.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array([2]) }, { key: 'j', generation: 1, bytes: new Uint8Array([2]) }]), 'STATE');
  const url = server.url.replace(`:${server.port}/`, ':1/');
  await rejectsAsync(openPostgresStore({ connectionString: url, max: 1 }), 'STATE');
});

test('a writer process killed with SIGKILL three times: every acknowledged commit is in the database', async () => {
  const config: WriterConfig = { mode: 'ack', kind: 'postgres', target: server.url, account: 'kill@x', key: 'conv:peer' };
  let previous = 0;
  for (let run = 0; run < 3; run++) {
    const acked = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [WRITER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let last = 0;
      let seen = 0;
      let buf = '';
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.stdout.on('data', (d) => {
        buf += d;
        for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
          const m = /^ack (\d+)$/.exec(buf.slice(0, i));
          if (m && ((last = Number(m[1])), ++seen === 15 + 10 * run)) child.kill('SIGKILL');
        }
      });
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(last) : reject(new Error(`writer exited ${code}: ${err}`))));
    });
    const r = await openAccountRecords(shared, 'kill@x', { sealKey: WRITER_SEAL_KEY });
    const rec = await r.load('conv:peer');
    assert.ok(rec !== undefined && rec.generation >= acked && rec.generation <= acked + 1, `run ${run}: acked ${acked}, stored ${rec?.generation}`);
    assert.ok(acked > previous);
    assert.equal(rec.bytes, ackRecord(rec.generation));
    previous = rec.generation;
  }
});

let n = 0;
for (const c of CONTRACT) {
  test(c.name, () => c.run(async (limits) => (limits ? store({ limits }) : { ...sharedView() }), `pg-${n++}@example.org`));
}

/** The shared store without its close(): cases close what they are given. */
function sharedView() {
  return { load: shared.load.bind(shared), keys: shared.keys.bind(shared), commit: shared.commit.bind(shared), close: async () => {} };
}

run();
