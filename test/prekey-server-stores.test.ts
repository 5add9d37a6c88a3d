/**
 * The PrekeyStore contract, one suite run against every store (memory, the file log, SQLite, PostgreSQL on a
 * private server from test/helpers/postgres.ts): publish / count / take; the oldest prekey first; one
 * ensemble per unexpired instance; at most once under concurrent takes (and, for SQLite and PostgreSQL, from
 * two store objects on one database, as two processes would be); duplicate ids ignored; new profiles replace
 * old; limits refuse without changing anything; what was acknowledged survives a re-open.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtrError } from '../ts/errors.js';
import { openPrekeyStore } from '../ts/prekey-server/open-store.js';
import type { PrekeyStore, StoreLimits } from '../ts/prekey-server/store.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';

const NOW = 1_000_000_000n;
const LATER = 3_000_000_000n;
const prof = (n: number, expiry = 2_000_000_000n) => ({ bytes: Uint8Array.of(0xc0, n), expiry });
const pks = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, bytes: Uint8Array.of(0xee, (from + i) & 0xff, (from + i) >> 8) }));
const LIMITS: StoreLimits = { maxIdentities: 3, maxInstancesPerIdentity: 2, maxStoredPrekeysPerInstance: 300, maxStoredPrekeysTotal: 400 };

let pg: PostgresServer | undefined;
let pgDb = 0;
const dirs: string[] = [];

/** Each call: a fresh, empty store location of the kind, and an opener for it (call twice for two "processes"). */
async function fresh(kind: string): Promise<{ open: () => Promise<PrekeyStore>; shared: boolean; durable: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'otr-pks-store-'));
  dirs.push(dir);
  switch (kind) {
    case 'memory': {
      const s = (await openPrekeyStore('memory:', LIMITS)).store;
      return { open: async () => s, shared: false, durable: false };
    }
    case 'file':
      return { open: async () => (await openPrekeyStore(`file:${dir}`, LIMITS)).store, shared: false, durable: true };
    case 'sqlite':
      return { open: async () => (await openPrekeyStore(join(dir, 'p.sqlite'), LIMITS)).store, shared: true, durable: true };
    default: {
      pg ??= await startPostgres();
      // A database per case, so cases do not see each other's rows.
      const name = `case${pgDb++}`;
      const { default: pgmod } = await import('pg');
      const c = new pgmod.Client({ connectionString: pg.url });
      await c.connect();
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
      const url = pg.url.replace(/\/otr$/, `/${name}`);
      return { open: async () => (await openPrekeyStore(url, LIMITS)).store, shared: true, durable: true };
    }
  }
}

for (const kind of ['memory', 'file', 'sqlite', 'postgres']) {
  test(`[${kind}] publish, count, take oldest first, one per unexpired instance, duplicates, profile replacement`, async () => {
    const { open } = await fresh(kind);
    const s = await open();
    try {
      await s.publish('bob', { instanceTag: 0x100, clientProfile: prof(1), prekeyProfile: prof(2), prekeys: pks(1, 3) });
      await s.publish('bob', { instanceTag: 0x200, clientProfile: prof(3), prekeyProfile: prof(4, 1_500_000_000n), prekeys: pks(10, 2) });
      await s.publish('bob', { instanceTag: 0x100, prekeys: [...pks(3, 2)] }); // id 3 is a duplicate: ignored
      assert.is(await s.count('bob', 0x100), 4);
      assert.is(await s.count('bob', 0x999), 0);
      const t1 = (await s.take('bob', NOW, 16)).sort((a, b) => a.instanceTag - b.instanceTag);
      assert.equal(t1.map((e) => [e.instanceTag, e.prekey.id, e.remaining]), [[0x100, 1, 3], [0x200, 10, 1]]);
      assert.equal(t1[0]!.clientProfile, prof(1).bytes);
      assert.equal(t1[0]!.prekey.bytes, pks(1, 1)[0]!.bytes);
      assert.equal(t1[1]!.prekeyProfile, prof(4).bytes);
      // `max` bounds the ensembles; an instance whose profile expired is skipped.
      assert.is((await s.take('bob', NOW, 1)).length, 1);
      const late = await s.take('bob', 1_600_000_000n, 16);
      assert.equal(late.map((e) => e.instanceTag), [0x100], 'the instance with the expired prekey profile is skipped');
      // New profiles replace old ones; prekeys alone keep them.
      await s.publish('bob', { instanceTag: 0x200, prekeyProfile: prof(5), prekeys: [] });
      const t2 = await s.take('bob', 1_600_000_000n, 16);
      assert.ok(t2.some((e) => e.instanceTag === 0x200 && e.prekeyProfile[1] === 5));
      assert.equal(await s.take('bob', LATER, 16), [], 'everything expired');
      assert.equal(await s.take('nobody', NOW, 16), []);
      // An instance with prekeys but no profiles is never served.
      await s.publish('carol', { instanceTag: 0x300, prekeys: pks(1, 2) });
      assert.equal(await s.take('carol', NOW, 16), []);
    } finally {
      await s.close();
    }
  });

  test(`[${kind}] limits refuse a publication whole and change nothing`, async () => {
    const { open } = await fresh(kind);
    const s = await open();
    try {
      const refused = async (p: Promise<void>, what: string) =>
        p.then(
          () => assert.unreachable(`${what} accepted`),
          (e: unknown) => assert.is((e as OtrError).code, 'LIMIT_EXCEEDED', what),
        );
      await s.publish('a', { instanceTag: 1, prekeys: pks(1, 250) });
      await refused(s.publish('a', { instanceTag: 1, prekeys: pks(1000, 51) }), 'per instance');
      await s.publish('a', { instanceTag: 2, prekeys: pks(1, 100) });
      await refused(s.publish('a', { instanceTag: 3, prekeys: [] }), 'instances per identity');
      await refused(s.publish('b', { instanceTag: 1, prekeys: pks(1, 51) }), 'in all');
      await s.publish('b', { instanceTag: 1, prekeys: pks(1, 50) });
      await s.publish('c', { instanceTag: 1, prekeys: [] });
      await refused(s.publish('d', { instanceTag: 1, prekeys: [] }), 'identities');
      assert.is(await s.count('a', 1), 250);
      assert.is(await s.count('a', 3), 0);
      assert.is(await s.count('b', 1), 50);
    } finally {
      await s.close();
    }
  });

  test(`[${kind}] at most once: 200 concurrent takes${kind === 'sqlite' || kind === 'postgres' ? ' from two store objects on one database' : ''}; acknowledged state survives a re-open`, async () => {
    const { open, shared, durable } = await fresh(kind);
    const s1 = await open();
    const s2 = shared ? await open() : s1;
    try {
      for (let tag = 1; tag <= 2; tag++) await s1.publish('bob', { instanceTag: tag, clientProfile: prof(1), prekeyProfile: prof(2), prekeys: pks(1, 150) });
      const seen = new Map<string, number>();
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? s2 : s1).take('bob', NOW, 16)));
      for (const r of results)
        for (const e of r) {
          const k = `${e.instanceTag}/${e.prekey.id}`;
          seen.set(k, (seen.get(k) ?? 0) + 1);
        }
      for (const [k, n] of seen) assert.is(n, 1, `${k} handed out ${n} times`);
      const left = (await s1.count('bob', 1)) + (await s1.count('bob', 2));
      assert.is(seen.size + left, 300, 'every prekey is either handed out once or still stored');
      assert.ok(seen.size >= 200, `handed out ${seen.size}`);
      if (durable) {
        if (s2 !== s1) await s2.close();
        await s1.close();
        const again = await open();
        assert.is((await again.count('bob', 1)) + (await again.count('bob', 2)), left, 'the same after a re-open');
        const more = await again.take('bob', NOW, 16);
        for (const e of more) assert.not.ok(seen.has(`${e.instanceTag}/${e.prekey.id}`), 'handed out again after a re-open');
        await again.close();
      }
    } finally {
      await s1.close();
      if (s2 !== s1) await s2.close();
    }
  });
}

test('a failing store (database down): a typed STATE error and a store-error event, never an exception; serving resumes', async () => {
  const { loadBackend } = await import('../ts/backend/select.js');
  const { MemoryStore, PrekeyServer, ensembleQuery, toServerText } = await import('../ts/prekey-server/index.js');
  const { ServerStats } = await import('../ts/prekey-server/stats.js');
  let down = true;
  class Flaky extends MemoryStore {
    override async take(identity: string, nowSeconds: bigint, max: number) {
      if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return super.take(identity, nowSeconds, max);
    }
  }
  const server = new PrekeyServer({ backend: await loadBackend('js'), random: (n) => new Uint8Array(n).fill(7), now: () => 1_700_000_000_000, identity: 'p', identitySecret: new Uint8Array(57).fill(1), store: new Flaky() });
  const stats = new ServerStats();
  const q = toServerText(ensembleQuery(0x0a0a, 'bob@example.org'));
  const r = await server.handleText('a@x', q);
  assert.is(r.reply, undefined);
  assert.is(r.error?.code, 'STATE');
  assert.match(r.error!.message, /store unavailable/);
  assert.equal(r.events, [{ type: 'store-error', message: 'connect ECONNREFUSED 127.0.0.1:5432' }]);
  stats.record({ ...r, replied: false });
  assert.is(stats.total.storeErrors, 1);
  down = false;
  assert.ok((await server.handleText('a@x', q)).reply, 'serving again once the store is back');
});

test.after(async () => {
  await pg?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test.run();
