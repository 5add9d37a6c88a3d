/**
 * The SQLite store (ts/store/sqlite.ts): hostile rows written with plain SQL into its file, a writer process
 * killed with SIGKILL mid-stream (every acknowledged commit must be there after restart), two processes'
 * worth of store instances on one file, then the shared contract.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../ts/store/sqlite.js';
import { openAccountRecords } from '../ts/store/account-records.js';
import { CONTRACT } from './helpers/store-contract.js';
import { rejectsAsync } from './helpers/rejects.js';
import { OtrError, OtrStoreConflictError } from '../ts/errors.js';
import { ackRecord, WRITER_SEAL_KEY, type WriterConfig } from './helpers/store-writer.js';

const t = suite('store-sqlite');
const dir = mkdtempSync(join(tmpdir(), 'otr4-sqlite-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = () => join(dir, `db${files++}.sqlite`);
const WRITER = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'store-writer.js');

t('a path in a folder that does not exist is the host\'s argument, refused typed (in-thread and on the worker)', async () => {
  const path = join(dir, 'no-such-folder', 'x.sqlite');
  await rejectsAsync(openSqliteStore({ path }), 'INVALID_ARGUMENT');
  await rejectsAsync(openSqliteStore({ path, worker: true }), 'INVALID_ARGUMENT');
});

t('zero set-up: a new file gets its schema, WAL and synchronous=FULL; records survive reopening', async () => {
  const path = file();
  const s = await openSqliteStore({ path });
  await s.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array([1, 2]) }]);
  await s.close();
  const db = new Database(path, { readonly: true });
  assert.is(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.is(db.pragma('user_version', { simple: true }), 1);
  db.close();
  const again = await openSqliteStore({ path });
  assert.equal((await again.load('a@x', 'k'))?.bytes, new Uint8Array([1, 2]));
  await again.close();
  await rejectsAsync(again.load('a@x', 'k'), 'STATE');
});

t('a database from a newer schema version is refused (typed), not misread', async () => {
  const path = file();
  const db = new Database(path);
  db.pragma('user_version = 7');
  db.close();
  await rejectsAsync(openSqliteStore({ path }), 'STATE');
});

t('hostile rows written behind the store: wrong types, huge generations, oversized and non-blob bytes, bad keys', async () => {
  const path = file();
  const s = await openSqliteStore({ path, limits: { maxRecordBytes: 1000, maxRecordKeyBytes: 64, maxRecordsPerAccount: 5 } });
  const db = new Database(path);
  const ins = db.prepare('INSERT OR REPLACE INTO otr4_records (account, key, generation, bytes) VALUES (?, ?, ?, ?)');
  const cases: [string, unknown, unknown, string][] = [
    ['gen-zero', 0, Buffer.from([1]), 'MALFORMED'],
    ['gen-negative', -5, Buffer.from([1]), 'MALFORMED'],
    ['gen-text', 'seven', Buffer.from([1]), 'MALFORMED'],
    ['gen-real', 1.5, Buffer.from([1]), 'MALFORMED'],
    ['gen-huge', 2n ** 62n, Buffer.from([1]), 'MALFORMED'],
    ['bytes-text', 1, 'not a blob', 'MALFORMED'],
    ['bytes-int', 1, 42, 'MALFORMED'],
    ['bytes-oversized', 1, Buffer.alloc(1001), 'LIMIT_EXCEEDED'],
  ];
  db.defaultSafeIntegers(true);
  for (const [key, g, b] of cases) ins.run('a@x', key, g, b);
  for (const [key, , , code] of cases) await rejectsAsync(s.load('a@x', key), code);
  ins.run('a@x', 'fine', 3, Buffer.alloc(1000, 7));
  assert.equal((await s.load('a@x', 'fine'))?.generation, 3);
  // keys(): one record too many, and keys that are not text or too long.
  await rejectsAsync(s.keys('a@x'), 'LIMIT_EXCEEDED');
  ins.run('b@x', Buffer.from('blob-key'), 1, Buffer.from([1]));
  await rejectsAsync(s.keys('b@x'), 'MALFORMED');
  ins.run('c@x', 'k'.repeat(65), 1, Buffer.from([1]));
  await rejectsAsync(s.keys('c@x'), 'MALFORMED');
  // A hostile row also cannot be "updated" past: its generation does not match anything a writer expects.
  await rejectsAsync(s.commit('a@x', [{ key: 'gen-text', generation: 8, bytes: new Uint8Array(1) }]), 'CONFLICT');
  db.close();
  await s.close();
});

// A commit of one update or delete (every message's) runs as ONE autocommitted statement, with no transaction
// around it to roll back: whatever the file holds, that statement must write at most the one row it means, and
// every refusal must be typed (session 5 left this path without its own attack test).
t('hostile disk under the lone autocommit path: mistyped, huge and missing generations are CONFLICT, nothing written', async () => {
  const path = file();
  const s = await openSqliteStore({ path, limits: { maxRecordBytes: 1000 } });
  const db = new Database(path);
  db.defaultSafeIntegers(true);
  const ins = db.prepare('INSERT OR REPLACE INTO otr4_records (account, key, generation, bytes) VALUES (?, ?, ?, ?)');
  const rowOf = db.prepare('SELECT generation, bytes FROM otr4_records WHERE account = ? AND key = ?');
  const cases: [string, unknown][] = [
    ['gen-text', 'four'],
    ['gen-real', 4.5],
    ['gen-blob', Buffer.from([4])],
    ['gen-huge', 2n ** 62n],
    ['gen-zero', 0],
    ['gen-negative', -4],
  ];
  for (const [key, g] of cases) ins.run('a@x', key, g, Buffer.from([1, 2, 3]));
  for (const [key, g] of cases) {
    for (const next of [5, 2, Number.MAX_SAFE_INTEGER]) {
      // alone in its turn, so each is the one-statement path: an update, then a delete
      await rejectsAsync(s.commit('a@x', [{ key, generation: next, bytes: new Uint8Array([9]) }]), 'CONFLICT');
      await rejectsAsync(s.commit('a@x', [{ key, generation: next, bytes: null }]), 'CONFLICT');
    }
    const row = rowOf.get('a@x', key) as { generation: unknown; bytes: Buffer };
    assert.equal(row.generation, typeof g === 'number' ? (Number.isInteger(g) ? BigInt(g) : g) : g, `${key}: generation untouched`);
    assert.equal([...row.bytes], [1, 2, 3], `${key}: bytes untouched`);
  }
  await rejectsAsync(s.commit('a@x', [{ key: 'absent', generation: 2, bytes: new Uint8Array([9]) }]), 'CONFLICT');
  await rejectsAsync(s.commit('a@x', [{ key: 'absent', generation: 2, bytes: null }]), 'CONFLICT');
  assert.is(rowOf.get('a@x', 'absent'), undefined);
  // A row at the expected generation whose bytes are hostile (oversized, not a blob) is simply replaced: the
  // compare-and-set is on the generation, and the old bytes are never read.
  ins.run('a@x', 'big', 4, Buffer.alloc(5000, 1));
  ins.run('a@x', 'text', 4, 'not a blob');
  await rejectsAsync(s.load('a@x', 'big'), 'LIMIT_EXCEEDED');
  await s.commit('a@x', [{ key: 'big', generation: 5, bytes: new Uint8Array([5]) }]);
  await s.commit('a@x', [{ key: 'text', generation: 5, bytes: new Uint8Array([6]) }]);
  assert.equal((await s.load('a@x', 'big'))?.bytes, new Uint8Array([5]));
  assert.equal((await s.load('a@x', 'text'))?.bytes, new Uint8Array([6]));
  db.close();
  await s.close();
});

t('hostile disk under the lone autocommit path: duplicate rows for one record — one statement writes at most one row', async () => {
  const path = file();
  const s = await openSqliteStore({ path });
  await s.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array([1]) }]);
  await s.commit('a@x', [{ key: 'd', generation: 1, bytes: new Uint8Array([1]) }]);
  // Behind the open store, the table is rebuilt without its primary key and each record is there twice at
  // generation 3 (what a rewritten schema or a damaged unique index can present to the UPDATE).
  const db = new Database(path);
  db.exec(`BEGIN; ALTER TABLE otr4_records RENAME TO old; CREATE TABLE otr4_records (account TEXT NOT NULL, key TEXT NOT NULL,
    generation INTEGER NOT NULL, bytes BLOB NOT NULL); DROP TABLE old;
    INSERT INTO otr4_records VALUES ('a@x', 'k', 3, x'aa'), ('a@x', 'k', 3, x'bb'), ('a@x', 'd', 3, x'aa'), ('a@x', 'd', 3, x'bb'); COMMIT;`);
  const rows = (key: string) => db.prepare('SELECT generation, hex(bytes) AS b FROM otr4_records WHERE key = ? ORDER BY b').all(key) as { generation: number; b: string }[];
  // An autocommitted statement cannot be rolled back after the fact: it must not touch the second row at all.
  let outcome: unknown;
  try {
    await s.commit('a@x', [{ key: 'k', generation: 4, bytes: new Uint8Array([0xcc]) }]);
    outcome = 'written';
  } catch (e) {
    assert.instance(e, OtrError, `update: ${(e as Error).message}`);
    outcome = (e as OtrError).code;
  }
  const k = rows('k');
  assert.is(k.length, 2);
  assert.is(k.filter((r) => r.generation === 4).length, outcome === 'written' ? 1 : 0, `update ${String(outcome)}: ${JSON.stringify(k)}`);
  assert.is(outcome, 'MALFORMED', 'a record stored twice is reported as such');
  try {
    await s.commit('a@x', [{ key: 'd', generation: 4, bytes: null }]);
    outcome = 'deleted';
  } catch (e) {
    assert.instance(e, OtrError, `delete: ${(e as Error).message}`);
    outcome = (e as OtrError).code;
  }
  assert.is(rows('d').length, outcome === 'deleted' ? 1 : 2, `delete ${String(outcome)}`);
  assert.is(outcome, 'MALFORMED', 'a record stored twice is reported as such');
  // In a transaction (two changes) the same refusal rolls the other change back.
  await rejectsAsync(
    s.commit('a@x', [
      { key: 'new', generation: 1, bytes: new Uint8Array([1]) },
      { key: 'k', generation: 4, bytes: new Uint8Array([0xcc]) },
    ]),
    'MALFORMED',
  );
  assert.is(rows('new').length, 0);
  assert.equal(rows('k').map((r) => r.generation), [3, 3]);
  db.close();
  await s.close();
  // Reopened, such a table is refused before any statement runs on it.
  await rejectsAsync(openSqliteStore({ path }), 'MALFORMED');
});

t('hostile disk under the lone autocommit path: the page holding the record is damaged — typed error, never the driver\'s', async () => {
  const path = file();
  let s = await openSqliteStore({ path });
  const big = (n: number) => new Uint8Array(2200).fill(n);
  for (let i = 0; i < 40; i++) await s.commit('a@x', [{ key: `conv:${i}`, generation: 1, bytes: big(i) }]);
  for (let i = 0; i < 40; i++) await s.commit('a@x', [{ key: `conv:${i}`, generation: 2, bytes: big(i + 1) }]);
  await s.close();
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const page = (db.prepare("SELECT pageno FROM dbstat WHERE name = 'otr4_records' AND pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET 5").get() as { pageno: number }).pageno;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (page - 1) * pageSize); // the whole leaf page
  closeSync(fd);
  s = await openSqliteStore({ path });
  const codes = new Set<string>();
  for (let i = 0; i < 40; i++) {
    for (const change of [{ key: `conv:${i}`, generation: 3, bytes: big(i + 2) }, { key: `conv:${i}`, generation: 3, bytes: null }]) {
      try {
        await s.commit('a@x', [change]);
        codes.add('ok');
        break;
      } catch (e) {
        assert.instance(e, OtrError, `conv:${i}: ${(e as Error).name}: ${(e as Error).message}`);
        codes.add((e as OtrError).code);
      }
    }
  }
  await s.close();
  assert.ok(codes.has('MALFORMED'), `the damaged page was reported: ${[...codes]}`);
  assert.ok(codes.has('ok'), `the intact records were written: ${[...codes]}`);
});

t('sealed records in the file: flipping a byte of a row with SQL is BAD_MAC through the helper, never bytes', async () => {
  const path = file();
  const s = await openSqliteStore({ path });
  const r = await openAccountRecords(s, 'a@x', { sealKey: WRITER_SEAL_KEY });
  await r.commit([r.change('conv:bob', ackRecord(1))]);
  const db = new Database(path);
  const row = db.prepare('SELECT account, key, bytes FROM otr4_records').get() as { account: string; key: string; bytes: Buffer };
  assert.not.ok(row.account.includes('a@x') || row.key.includes('bob'), 'names are sealed in the file');
  row.bytes[100]! ^= 4;
  db.prepare('UPDATE otr4_records SET bytes = ? WHERE account = ? AND key = ?').run(row.bytes, row.account, row.key);
  db.close();
  const fresh = await openAccountRecords(s, 'a@x', { sealKey: WRITER_SEAL_KEY });
  await rejectsAsync(fresh.load('conv:bob'), 'BAD_MAC');
  await s.close();
});

t('group commit: 60 concurrent commits of many accounts, some conflicting, share a transaction yet each is atomic on its own', async () => {
  const path = file();
  const s = await openSqliteStore({ path });
  const bytes = (n: number) => new Uint8Array([n]);
  await s.commit('acct0@x', [{ key: 'conv:shared', generation: 1, bytes: bytes(0) }]);
  const results = await Promise.allSettled(
    Array.from({ length: 60 }, (_, i) =>
      i % 10 === 5
        ? // a stale writer: expects generation 4 of the shared record, and also creates its own record
          s.commit('acct0@x', [
            { key: `conv:lost${i}`, generation: 1, bytes: bytes(i) },
            { key: 'conv:shared', generation: 5, bytes: bytes(i) },
          ])
        : s.commit(`acct${i}@x`, [
            { key: 'account', generation: 1, bytes: bytes(i) },
            { key: `conv:peer${i}`, generation: 1, bytes: bytes(i) },
          ]),
    ),
  );
  results.forEach((r, i) => {
    if (i % 10 === 5) assert.is(r.status === 'rejected' && (r.reason as { code?: string }).code, 'CONFLICT', `commit ${i}`);
    else assert.is(r.status, 'fulfilled', `commit ${i}`);
  });
  await s.close();
  const again = await openSqliteStore({ path });
  for (let i = 0; i < 60; i++) {
    if (i % 10 === 5) assert.is(await again.load('acct0@x', `conv:lost${i}`), undefined, `the conflicting commit ${i} left nothing`);
    else assert.equal((await again.load(`acct${i}@x`, `conv:peer${i}`))?.bytes, bytes(i), `commit ${i} is durable`);
  }
  assert.is((await again.load('acct0@x', 'conv:shared'))?.generation, 1);
  await again.close();
});

t('close() writes the commits already accepted and refuses new ones', async () => {
  const path = file();
  const s = await openSqliteStore({ path });
  const accepted = s.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array([7]) }]);
  const closing = s.close();
  await rejectsAsync(s.commit('a@x', [{ key: 'k2', generation: 1, bytes: new Uint8Array([8]) }]), 'STATE');
  await accepted;
  await closing;
  const again = await openSqliteStore({ path });
  assert.equal((await again.load('a@x', 'k'))?.bytes, new Uint8Array([7]));
  await again.close();
});

t('a file that is not a database, and a database whose pages were overwritten: typed errors, never a crash or wrong bytes', async () => {
  const garbage = file();
  writeFileSync(garbage, Buffer.alloc(8192, 0x5a));
  await rejectsAsync(openSqliteStore({ path: garbage }), 'MALFORMED');

  // 200 sealed records, checkpointed into the main file, then every page after the first two overwritten
  // at a few offsets. Whatever SQLite still reads must come back typed: a corrupt page (MALFORMED), a blob
  // whose bytes changed (BAD_MAC through the seal), or the intact record.
  const path = file();
  const s = await openSqliteStore({ path });
  const r = await openAccountRecords(s, 'a@x', { sealKey: WRITER_SEAL_KEY });
  for (let i = 0; i < 200; i += 50) await r.commit(Array.from({ length: 50 }, (_, j) => r.change(`conv:p${i + j}`, ackRecord(i + j))));
  await s.close();
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  for (let off = 8192; off + 64 < size; off += 4096 * 7) writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, off + 1000);
  closeSync(fd);
  const codes = new Map<string, number>();
  const count = (c: string) => codes.set(c, (codes.get(c) ?? 0) + 1);
  let opened;
  try {
    opened = await openSqliteStore({ path });
  } catch (e) {
    assert.instance(e, OtrError, `open: ${(e as Error).message}`);
    count((e as OtrError).code);
  }
  if (opened) {
    const fresh = await openAccountRecords(opened, 'a@x', { sealKey: WRITER_SEAL_KEY });
    for (let i = 0; i < 200; i++) {
      try {
        const rec = await fresh.load(`conv:p${i}`);
        if (rec === undefined) count('missing');
        else {
          assert.equal(rec.bytes, ackRecord(i), `record ${i} came back with other bytes`);
          count('intact');
        }
      } catch (e) {
        assert.instance(e, OtrError, `record ${i}: ${(e as Error).name}: ${(e as Error).message}`);
        count((e as OtrError).code);
      }
    }
    await opened.close();
  }
  console.log(`  overwritten pages: ${JSON.stringify(Object.fromEntries(codes))}`);
  // A damaged index hides rows rather than failing: verifyOnOpen refuses the file up front instead.
  await rejectsAsync(openSqliteStore({ path, verifyOnOpen: true }), 'MALFORMED');
  const healthy = file();
  await (await openSqliteStore({ path: healthy })).close();
  await (await openSqliteStore({ path: healthy, verifyOnOpen: true })).close();
  assert.ok([...codes.keys()].some((c) => c !== 'intact'), `the damage was noticed: ${JSON.stringify([...codes])}`);
});

/** Starts a writer; resolves with the last generation it acknowledged before it was SIGKILLed. */
function killWriterAfter(config: WriterConfig, acks: number, extraMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = 0;
    let seen = 0;
    let buffered = '';
    let err = '';
    let armed = false;
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      buffered += d;
      let i: number;
      while ((i = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        const m = /^ack (\d+)$/.exec(line);
        if (m) {
          last = Number(m[1]);
          if (++seen >= acks && !armed) {
            armed = true;
            setTimeout(() => child.kill('SIGKILL'), extraMs);
          }
        }
      }
    });
    child.on('close', (code, signal) => {
      // 'close', not 'exit': every ack line the writer printed before it was killed has been read by then.
      if (signal === 'SIGKILL') resolve(last);
      else reject(new Error(`writer exited ${code} ${signal}: ${err}`));
    });
  });
}

/** Reopens the killed writer's file and checks its record: every acknowledged commit is there, and at most one
 *  more (killed between its commit and printing its ack); returns the stored generation. */
async function storedAfterKill(path: string, acked: number, run: number): Promise<number> {
  const s = await openSqliteStore({ path });
  const r = await openAccountRecords(s, 'bridge@x', { sealKey: WRITER_SEAL_KEY });
  const rec = await r.load('conv:peer');
  await s.close();
  assert.ok(rec !== undefined && rec.generation >= acked && rec.generation <= acked + 1, `run ${run}: acked ${acked}, stored ${rec?.generation}`);
  assert.equal(rec.bytes, ackRecord(rec.generation), `run ${run}: the stored record is the one of its generation`);
  return rec.generation;
}

t('kill -9 of a writer process, five times: every acknowledged commit is in the file after restart', async () => {
  const path = file();
  const config: WriterConfig = { mode: 'ack', kind: 'sqlite', target: path, account: 'bridge@x', key: 'conv:peer' };
  let previous = 0;
  for (let run = 0; run < 5; run++) {
    const acked = await killWriterAfter(config, 20 + run * 7, run * 3);
    assert.ok(acked > previous, `run ${run}: progress (${acked} after ${previous})`);
    previous = await storedAfterKill(path, acked, run);
  }
});

// WAL checkpoints run on a worker thread (sqlite-checkpoint.ts): the WAL must stay bounded under a steady writer
// (the store copies the pages a background pass could not reach, so the WAL starts over), the records must be in
// the database file itself, and close() must end the worker — also when nothing else keeps the process alive.
t('background checkpoints: a steady writer keeps the WAL bounded (its pages reach the database file), every record intact', async () => {
  const path = file();
  const s = await openSqliteStore({ path, synchronous: 'normal' });
  const rec = (g: number) => new Uint8Array(2200).fill(g & 0xff);
  await s.commit('a@x', Array.from({ length: 50 }, (_, i) => ({ key: `conv:${i}`, generation: 1, bytes: rec(1) })));
  const gens = new Array(50).fill(1);
  for (let k = 0; k < 8000; k++) {
    const i = k % 50;
    await s.commit('a@x', [{ key: `conv:${i}`, generation: ++gens[i], bytes: rec(gens[i]) }]);
  }
  const wal = statSync(`${path}-wal`).size;
  // Without checkpoints 8,000 pages (33 MB). With them it starts over every ~1,000 pages once the worker runs;
  // its file keeps its high-water mark, which the commits made while the worker started and ran its first,
  // cold pass set (~2,000–2,500 pages here; more on a slower disk, as nothing makes the writer wait for it).
  assert.ok(wal < 6000 * 4096, `the WAL is bounded: ${wal} bytes`);
  await s.close();
  const again = await openSqliteStore({ path });
  for (let i = 0; i < 50; i++) assert.equal((await again.load('a@x', `conv:${i}`))?.bytes, rec(gens[i]), `conv:${i}`);
  await again.close();
  // backgroundCheckpoint: false — SQLite's automatic checkpoint in-thread, the same records.
  const inline = await openSqliteStore({ path, synchronous: 'normal', backgroundCheckpoint: false });
  for (let k = 0; k < 1500; k++) {
    const i = k % 50;
    await inline.commit('a@x', [{ key: `conv:${i}`, generation: ++gens[i], bytes: rec(gens[i]) }]);
  }
  await inline.close();
  const last = await openSqliteStore({ path });
  assert.equal((await last.load('a@x', 'conv:7'))?.generation, gens[7]);
  await last.close();
});

t('background checkpoints: a worker that cannot open the file hands checkpoints back to the store (WAL still bounded)', async () => {
  const path = file();
  const s = await openSqliteStore({ path, synchronous: 'normal' });
  // The open connection keeps its file; the worker, started later, finds no file under the name.
  renameSync(path, `${path}.moved`);
  const rec = (g: number) => new Uint8Array(2200).fill(g & 0xff);
  await s.commit('a@x', [{ key: 'k', generation: 1, bytes: rec(1) }]);
  // 300 pages start the worker (at 250); it fails to open and says so.
  for (let g = 2; g <= 300; g++) await s.commit('a@x', [{ key: 'k', generation: g, bytes: rec(g) }]);
  await new Promise((r) => setTimeout(r, 1500));
  for (let g = 301; g <= 6000; g++) await s.commit('a@x', [{ key: 'k', generation: g, bytes: rec(g) }]);
  const wal = statSync(`${path}-wal`).size;
  assert.ok(wal < 2000 * 4096, `SQLite's own checkpoint is back: the WAL is ${wal} bytes (4,000+ pages without it)`);
  assert.equal((await s.load('a@x', 'k'))?.bytes, rec(6000));
  await s.close();
});

t('background checkpoints: close() ends the worker and the process exits on its own', async () => {
  const path = file();
  const store = join(dirname(fileURLToPath(import.meta.url)), '..', 'ts', 'store', 'sqlite.js');
  const code = `import { openSqliteStore } from ${JSON.stringify(store)};
    const s = await openSqliteStore({ path: ${JSON.stringify(path)}, synchronous: 'normal' });
    const b = new Uint8Array(4096 * 3);
    await s.commit('a@x', [{ key: 'k', generation: 1, bytes: b }]);
    for (let g = 2; g < 700; g++) await s.commit('a@x', [{ key: 'k', generation: g, bytes: b }]);
    await new Promise((r) => setTimeout(r, 300)); // the checkpoint worker was asked for (2,800 pages) and runs
    await s.close();
    console.log('closed');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exit = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  assert.is(exit, 0, `exit ${exit}: ${err}`);
  assert.is(out.trim(), 'closed');
});

t('kill -9 of a synchronous=NORMAL writer during background checkpoints: every acknowledged commit survives', async () => {
  const path = file();
  const config: WriterConfig = { mode: 'ack', kind: 'sqlite', target: path, account: 'bridge@x', key: 'conv:peer', synchronous: 'normal' };
  let previous = 0;
  for (let run = 0; run < 3; run++) {
    // 1,000 pages ask for a checkpoint; killed somewhere in the second or third (at a random moment after).
    const acked = await killWriterAfter(config, 1500 + run * 700, Math.floor(Math.random() * 40));
    assert.ok(acked > previous, `run ${run}: progress (${acked} after ${previous})`);
    previous = await storedAfterKill(path, acked, run);
  }
});

const shared = file();
let n = 0;
for (const c of CONTRACT) {
  t(c.name, () => c.run((limits) => openSqliteStore({ path: limits ? file() : shared, limits }), `sqlite-${n++}@example.org`));
}

// The same contract with the connection on a worker thread; a worker store and an in-thread one share the file.
for (const c of CONTRACT) {
  t(`[worker] ${c.name}`, () =>
    c.run((limits) => openSqliteStore({ path: limits ? file() : shared, limits, worker: n % 2 === 0 || limits !== undefined }), `sqlite-w${n++}@example.org`),
  );
}

t('[worker] group commit with a conflict in the batch, typed errors rebuilt across the thread, close writes accepted commits', async () => {
  const path = file();
  const s = await openSqliteStore({ path, worker: true });
  const results = await Promise.allSettled(
    Array.from({ length: 40 }, (_, i) =>
      s.commit(i % 8 === 3 ? 'same@x' : `w${i}@x`, [{ key: i % 8 === 3 ? 'k' : 'account', generation: 1, bytes: new Uint8Array([i]) }]),
    ),
  );
  const conflicts = results.filter((r) => r.status === 'rejected');
  assert.is(conflicts.length, 4, 'of five creations of one record, four lose');
  for (const r of conflicts) {
    const e = (r as PromiseRejectedResult).reason;
    assert.instance(e, OtrStoreConflictError);
    assert.is((e as OtrStoreConflictError).key, 'k');
  }
  await rejectsAsync(s.load('a@x', ''), 'INVALID_ARGUMENT');
  await rejectsAsync(s.commit('a@x', [{ key: 'f', generation: 1, bytes: (() => 1) as unknown as Uint8Array }]), 'INVALID_ARGUMENT');
  const accepted = s.commit('late@x', [{ key: 'account', generation: 1, bytes: new Uint8Array([9]) }]);
  await s.close();
  await accepted;
  await rejectsAsync(s.load('late@x', 'account'), 'STATE');
  const again = await openSqliteStore({ path });
  assert.equal((await again.load('late@x', 'account'))?.bytes, new Uint8Array([9]));
  assert.is((await again.keys('w0@x')).length, 1);
  await again.close();
  await rejectsAsync(openSqliteStore({ path: join(dir, 'no', 'such', 'dir.sqlite'), worker: true }), 'INVALID_ARGUMENT'); // better-sqlite3's TypeError for a missing folder, typed as the host's argument
});

t.run();
