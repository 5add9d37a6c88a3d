/**
 * Several server processes on one PostgreSQL (issue 16), as a deployment runs them: two real processes
 * (build/examples/prekey-server.js --store postgres://...) started together on one database and one key file;
 * publishers publishing through both; hundreds of clients fetching through both at once; each process killed
 * with SIGKILL under load and restarted, while a second round of publications is in flight. Then every prekey
 * is counted, straight from the database:
 * - no prekey was ever handed out twice, and none handed out is still stored (it could go out again);
 * - every prekey of every acknowledged publication is handed out or still stored — except at most one per
 *   retrieval that died with its process (its deletion committed, its answer never left: lost, never doubled);
 * - an unacknowledged publication is all or nothing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { pool } from './helpers/task-pool.js';
import { startPostgres } from './helpers/postgres.js';
import { killAllServers, killServer, startServer, UNLIMITED, type ServerProcess } from './helpers/prekey-server-process.js';
import { generatePrekeyMessages, type PrekeySecrets } from '../ts/prekey/index.js';
import { fetchEnsembles, runServerRequest, type PsClientLocal } from '../ts/prekey-server/index.js';
import { TcpPrekeyClient } from '../ts/prekey-server/tcp.js';
import { makePublisher, type Publisher } from './prekey-fixtures.test.js';

const b = WASM;
const PUBLISHERS = 12;
const FIRST = 16;
const SECOND = 8;
const FETCHERS = 240;
const ROUNDS = 3;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('two processes on one PostgreSQL, hundreds of fetchers, kill -9 of each under load: at most once, nothing acknowledged lost', async () => {
  const pg = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'otr-pks-pg-'));
  const { default: pgmod } = await import('pg');
  const db = new pgmod.Client({ connectionString: pg.url });
  try {
    const args = ['--data', dir, '--store', pg.url, '--key', join(dir, 'server.key'), ...UNLIMITED];
    // Started together: the schema and the key file are created once, whoever comes first.
    const servers: ServerProcess[] = await Promise.all([startServer(args), startServer(args)]);
    assert.equal(servers[0]!.info.publicKey, servers[1]!.info.publicKey, 'both processes use the one key');
    const info = servers[0]!.info;
    const port = (i: number) => servers[i % 2]!.port;

    const rnd = seededRandom(61);
    const pubs: Publisher[] = Array.from({ length: PUBLISHERS }, (_, i) => makePublisher(b, rnd, 0x100 + i, FIRST, `pub${i}@example.org`, 'x', Date.now()));
    const local = (i: number): PsClientLocal => ({ identity: `pub${i}@example.org`, instanceTag: pubs[i]!.profile.ownerTag, profile: pubs[i]!.profile, identityScalar: pubs[i]!.identityScalar });
    const key = (i: number, id: number) => `pub${i}@example.org/${0x100 + i}/${id}`;
    const acknowledged = new Set<string>();
    const unacknowledged: string[][] = [];

    const publish = async (i: number, prekeys: readonly PrekeySecrets[], withProfiles: boolean, via: number): Promise<void> => {
      const keys = prekeys.map((p) => key(i, p.message.id));
      try {
        const c = await TcpPrekeyClient.connect(port(via));
        try {
          const r = await runServerRequest(b, rnd, c.as(local(i).identity), local(i), info, {
            kind: 'publish',
            prekeys,
            ...(withProfiles ? { clientProfile: pubs[i]!.profile, prekeyProfile: pubs[i]!.prekeyProfile } : {}),
          });
          if (r.kind !== 'success') throw new Error(`publication refused: ${r.kind}`);
          for (const k of keys) acknowledged.add(k);
        } finally {
          c.close();
        }
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('publication refused')) throw e;
        unacknowledged.push(keys); // its process died under it
      }
    };

    const handed = new Map<string, number>();
    /** Requests written to a process that died before answering (a refused connection is not one). */
    let failedRequests = 0;
    let refusedConnections = 0;
    const fetcher = async (i: number): Promise<void> => {
      let c: TcpPrekeyClient | undefined;
      for (let r = 0; r < ROUNDS; r++) {
        const target = (i * 5 + r * 7) % PUBLISHERS;
        try {
          c ??= await TcpPrekeyClient.connect(port(i + r));
        } catch {
          refusedConnections++; // that process is down right now
          continue;
        }
        try {
          const res = await fetchEnsembles(c.as(`fetcher${i}@example.org`), 0x10000 + i, `pub${target}@example.org`);
          if (res.kind === 'ensembles')
            for (const e of res.ensembles) {
              const k = key(target, e.prekeyMessage.id);
              handed.set(k, (handed.get(k) ?? 0) + 1);
            }
        } catch {
          failedRequests++; // the process died under this request (or refused the connection while down)
          c?.close();
          c = undefined;
        }
      }
      c?.close();
    };

    // Phase 1: publications through both processes at once.
    await pool(PUBLISHERS, PUBLISHERS, (i) => publish(i, pubs[i]!.prekeys, true, i));
    assert.is(acknowledged.size, PUBLISHERS * FIRST, 'every first publication acknowledged');

    // Phase 2: hundreds of fetchers on both processes, a second round of publications, and kill -9 of each.
    const second = pubs.map((p) => generatePrekeyMessages(b, rnd, p.profile.ownerTag, SECOND, new Set(p.prekeys.map((x) => x.message.id))));
    const load = Promise.all([pool(FETCHERS, FETCHERS, fetcher), pool(PUBLISHERS, PUBLISHERS, (i) => publish(i, second[i]!, false, i + 1))]);
    // The first soon (publications through it die in flight), the second later (those through it were acknowledged).
    for (const [victim, after] of [[0, 250], [1, 1500]] as const) {
      await sleep(after);
      await killServer(servers[victim]!);
      servers[victim] = await startServer(args);
    }
    await load;
    // Phase 3: the survivors are served by both restarted processes.
    await pool(FETCHERS, FETCHERS, (i) => fetcher(FETCHERS + i));

    await db.connect();
    const rows = (await db.query('SELECT identity, tag, id FROM pks_prekeys')).rows as { identity: Buffer; tag: string; id: string }[];
    const stored = new Set(rows.map((r) => `${r.identity.toString('utf8')}/${Number(r.tag)}/${Number(r.id)}`));
    assert.is(stored.size, rows.length);

    for (const [k, n] of handed) assert.is(n, 1, `${k} handed out ${n} times`);
    for (const k of handed.keys()) assert.not.ok(stored.has(k), `${k} handed out and still stored`);
    const lost = [...acknowledged].filter((k) => !handed.has(k) && !stored.has(k));
    assert.ok(lost.length <= failedRequests, `${lost.length} acknowledged prekeys lost, only ${failedRequests} requests died with a process`);
    for (const batch of unacknowledged) {
      const present = batch.filter((k) => handed.has(k) || stored.has(k)).length;
      assert.ok(present === 0 || present + failedRequests >= batch.length, `a half-stored publication (${present} of ${batch.length})`);
    }
    const total = PUBLISHERS * (FIRST + SECOND);
    if (process.env.OTR_DEBUG) console.log({ total, acknowledged: acknowledged.size, handed: handed.size, stored: stored.size, lost: lost.length, failedRequests, refusedConnections, unacknowledged: unacknowledged.length });
    assert.ok(handed.size > PUBLISHERS * FIRST / 2, `most prekeys were handed out (${handed.size})`);
    assert.ok(failedRequests > 0, 'the kills hit requests in flight (otherwise this test proved nothing)');
    await Promise.all(servers.map((s) => killServer(s)));
  } finally {
    await killAllServers();
    await db.end().catch(() => {});
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
