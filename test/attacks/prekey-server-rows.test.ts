/**
 * Attack: a hostile database under the prekey server. Rows of the SQLite file or the PostgreSQL tables are
 * rewritten behind the store's back (another program, a bad restore, an attacker with write access): values
 * far larger than any publication could carry, values of the wrong type, instance tags and prekey ids outside
 * uint32. A retrieval must refuse each with a typed error (LIMIT_EXCEEDED for size, MALFORMED otherwise) —
 * never a TypeError, a wrong number passed on, or a huge row read in full — and a sound row must still serve.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtrError } from '../../ts/errors.js';
import { openPrekeyStore } from '../../ts/prekey-server/open-store.js';
import type { PrekeyStore, StoreLimits } from '../../ts/prekey-server/store.js';
import { storedBytesCap } from '../../ts/prekey-server/store-rows.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';

const NOW = 1_000_000_000n;
const LIMITS: StoreLimits = { maxIdentities: 10, maxInstancesPerIdentity: 4, maxStoredPrekeysPerInstance: 10, maxStoredPrekeysTotal: 100, maxServerMessageChars: 4096 };
const CAP = storedBytesCap(LIMITS);
const prof = (n: number) => ({ bytes: Uint8Array.of(0xc0, n), expiry: 2_000_000_000n });

/** A store with 'bob' (instance 0x100, two prekeys) and a way to run raw SQL on its database. */
interface Rig {
  readonly store: PrekeyStore;
  sql(text: string, ...values: unknown[]): Promise<void>;
  done(): Promise<void>;
}

let pg: PostgresServer | undefined;
let pgDb = 0;
const dirs: string[] = [];

async function rig(kind: 'sqlite' | 'postgres'): Promise<Rig> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'otr-pks-rows-'));
    dirs.push(dir);
    const path = join(dir, 'p.sqlite');
    const store = (await openPrekeyStore(path, LIMITS)).store;
    const Sqlite = (await import('better-sqlite3')).default;
    const db = new Sqlite(path);
    return {
      store,
      sql: async (text, ...values) => void db.prepare(text).run(...values),
      done: async () => (db.close(), store.close()),
    };
  }
  pg ??= await startPostgres();
  const { default: pgmod } = await import('pg');
  const name = `rows${pgDb++}`;
  const admin = new pgmod.Client({ connectionString: pg.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = pg.url.replace(/\/otr$/, `/${name}`);
  const store = (await openPrekeyStore(url, LIMITS)).store;
  const c = new pgmod.Client({ connectionString: url });
  await c.connect();
  return {
    store,
    sql: async (text, ...values) => void (await c.query(text.replace('?', '$1'), values)),
    done: async () => (await c.end(), await store.close()),
  };
}

async function refused(s: PrekeyStore, code: string, what: string): Promise<void> {
  await s.take('bob', NOW, 16).then(
    () => assert.unreachable(`${what}: served`),
    (e: unknown) => {
      assert.instance(e, OtrError, `${what}: ${String(e)}`);
      assert.is((e as OtrError).code, code, what);
    },
  );
}

/** Each corruption: [description, SQL per kind, expected code]. `?` is the one parameter (a size). */
const CORRUPTIONS: readonly [string, { sqlite: string; postgres: string }, string | number, string][] = [
  ['client profile far larger than any publication', { sqlite: 'UPDATE pks_instances SET cp = zeroblob(?)', postgres: "UPDATE pks_instances SET cp = decode(repeat('00', ?), 'hex')" }, 8 << 20, 'LIMIT_EXCEEDED'],
  ['prekey profile one byte over the cap', { sqlite: 'UPDATE pks_instances SET pp = zeroblob(?)', postgres: "UPDATE pks_instances SET pp = decode(repeat('00', ?), 'hex')" }, CAP + 1, 'LIMIT_EXCEEDED'],
  ['prekey message far larger than any publication', { sqlite: 'UPDATE pks_prekeys SET bytes = zeroblob(?)', postgres: "UPDATE pks_prekeys SET bytes = decode(repeat('00', ?), 'hex')" }, 8 << 20, 'LIMIT_EXCEEDED'],
  ['instance tag beyond uint32', { sqlite: 'UPDATE pks_instances SET tag = tag + ?; UPDATE pks_prekeys SET tag = tag + ?', postgres: 'UPDATE pks_instances SET tag = tag + ?; UPDATE pks_prekeys SET tag = tag + ?' }, 2 ** 40, 'MALFORMED'],
  ['negative prekey id', { sqlite: 'UPDATE pks_prekeys SET id = ?', postgres: 'UPDATE pks_prekeys SET id = ?' }, -5, 'MALFORMED'],
];

for (const kind of ['sqlite', 'postgres'] as const) {
  for (const [what, sql, value, code] of CORRUPTIONS) {
    test(`[${kind}] ${what} → ${code}`, async () => {
      const r = await rig(kind);
      try {
        await r.store.publish('bob', { instanceTag: 0x100, clientProfile: prof(1), prekeyProfile: prof(2), prekeys: [{ id: 1, bytes: Uint8Array.of(0xee, 1) }] });
        for (const stmt of sql[kind].split('; ')) await r.sql(stmt, ...(stmt.includes('?') ? [value] : []));
        await refused(r.store, code, what);
        // A sound identity next to the bad rows still serves.
        await r.store.publish('carol', { instanceTag: 0x200, clientProfile: prof(3), prekeyProfile: prof(4), prekeys: [{ id: 7, bytes: Uint8Array.of(0xee, 7) }] });
        const ok = await r.store.take('carol', NOW, 16);
        assert.equal(ok.map((e) => [e.instanceTag, e.prekey.id]), [[0x200, 7]]);
      } finally {
        await r.done();
      }
    });
  }
}

test('[sqlite] values of the wrong type (text, real) are refused as MALFORMED', async () => {
  for (const [stmt, what] of [
    ["UPDATE pks_instances SET cp = 'not bytes'", 'text client profile'],
    ["UPDATE pks_prekeys SET bytes = 'x'", 'text prekey message'],
    ['UPDATE pks_instances SET tag = 256.5; UPDATE pks_prekeys SET tag = 256.5', 'fractional instance tag'],
    ['UPDATE pks_prekeys SET id = 1.25', 'fractional prekey id'],
  ] as const) {
    const r = await rig('sqlite');
    try {
      await r.store.publish('bob', { instanceTag: 0x100, clientProfile: prof(1), prekeyProfile: prof(2), prekeys: [{ id: 1, bytes: Uint8Array.of(0xee, 1) }] });
      for (const s of stmt.split('; ')) await r.sql(s);
      await refused(r.store, 'MALFORMED', what);
    } finally {
      await r.done();
    }
  }
});

test('a value exactly at the cap is served', async () => {
  const r = await rig('sqlite');
  try {
    await r.store.publish('bob', { instanceTag: 0x100, clientProfile: { bytes: new Uint8Array(CAP), expiry: 2_000_000_000n }, prekeyProfile: prof(2), prekeys: [{ id: 1, bytes: new Uint8Array(CAP) }] });
    const [e] = await r.store.take('bob', NOW, 16);
    assert.is(e?.clientProfile.length, CAP);
    assert.is(e?.prekey.bytes.length, CAP);
  } finally {
    await r.done();
  }
});

test.after(async () => {
  await pg?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test.run();
