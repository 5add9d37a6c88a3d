/**
 * The reference server as a real process on 127.0.0.1 (build/examples/prekey-server.js, WASM backend, the
 * durable FileStore): concurrent publishers and hundreds of fetchers; every prekey handed out at most once;
 * the server killed (SIGKILL) and restarted mid-run — once when idle (nothing acknowledged is lost: handed out
 * + still stored == published) and once under load (still at most once); connection and line limits; and the
 * FileStore on its own: torn-tail recovery, compaction, re-open, storage limits.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, appendFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { pool } from './helpers/task-pool.js';
import { OtrError } from '../ts/errors.js';
import { encodePrekeyMessage, generatePrekeyMessages } from '../ts/prekey/index.js';
import { fetchEnsembles, runServerRequest } from '../ts/prekey-server/index.js';
import { FileStore } from '../ts/prekey-server/file-store.js';
import { TcpPrekeyClient } from '../ts/prekey-server/tcp.js';
import { makePublisher, type Publisher } from './prekey-fixtures.test.js';
import { killAllServers, killServer, startServer as startProcess, UNLIMITED, type ServerProcess } from './helpers/prekey-server-process.js';

const b = WASM;
const PUBLISHERS = 16;
const PREKEYS = 12;
const FETCHERS = 200;

type Running = ServerProcess;

/** The durable file log in `dir` (the store this suite tests under kill -9), limits out of the way. */
function startServer(dir: string, extra: string[] = []): Promise<Running> {
  return startProcess(['--data', dir, '--store', `file:${join(dir, 'store')}`, ...UNLIMITED, ...extra]);
}

const kill = (r: Running) => killServer(r);
const killAll = killAllServers;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

const handedOut = new Map<string, number>();
function record(identity: string, tag: number, id: number): void {
  const k = `${identity}/${tag}/${id}`;
  handedOut.set(k, (handedOut.get(k) ?? 0) + 1);
}

/** One fetcher: its own connection, `rounds` queries for random publishers. Connection errors are tolerated
 *  (the server may be killed under it); every ensemble received is recorded. */
async function fetcher(port: number, i: number, rounds: number): Promise<number> {
  let got = 0;
  let c: TcpPrekeyClient;
  try {
    c = await TcpPrekeyClient.connect(port);
  } catch {
    return 0;
  }
  try {
    for (let r = 0; r < rounds; r++) {
      const target = `pub${(i * 7 + r * 3) % PUBLISHERS}@example.org`;
      const res = await fetchEnsembles(c.as(`fetcher${i}@example.org`), 0x10000 + i, target);
      if (res.kind === 'ensembles')
        for (const e of res.ensembles) {
          record(target, e.prekeyMessage.ownerTag, e.prekeyMessage.id);
          got++;
        }
    }
  } catch (e) {
    if (!(e instanceof Error)) throw e;
  } finally {
    c.close();
  }
  return got;
}

test('hundreds of clients, kill -9 and restart twice: every prekey handed out at most once, none lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'otr-prekey-'));
  try {
    const rnd = seededRandom(41);
    const pubs: Publisher[] = Array.from({ length: PUBLISHERS }, (_, i) => makePublisher(b, rnd, 0x100 + i, PREKEYS, `pub${i}@example.org`, 'x', Date.now()));
    let srv = await startServer(dir);

    // Phase 1: all publishers publish concurrently while fetchers already ask (some find nothing yet).
    const publishAll = pool(PUBLISHERS, PUBLISHERS, async (i) => {
      const c = await TcpPrekeyClient.connect(srv.port);
      try {
        const p = pubs[i]!;
        const local = { identity: `pub${i}@example.org`, instanceTag: p.profile.ownerTag, profile: p.profile, identityScalar: p.identityScalar };
        return await runServerRequest(b, rnd, c.as(local.identity), local, srv.info, { kind: 'publish', clientProfile: p.profile, prekeyProfile: p.prekeyProfile, prekeys: p.prekeys });
      } finally {
        c.close();
      }
    });
    const early = pool(FETCHERS / 2, 50, (i) => fetcher(srv.port, i, 1));
    const results = await publishAll;
    await early;
    assert.ok(results.every((r) => r.kind === 'success'));
    const total = PUBLISHERS * PREKEYS;

    const storedNow = async (): Promise<number> => {
      let stored = 0;
      for (let i = 0; i < PUBLISHERS; i++) {
        const c = await TcpPrekeyClient.connect(srv.port);
        const p = pubs[i]!;
        const local = { identity: `pub${i}@example.org`, instanceTag: p.profile.ownerTag, profile: p.profile, identityScalar: p.identityScalar };
        const st = await runServerRequest(b, rnd, c.as(local.identity), local, srv.info, { kind: 'storage-status' });
        c.close();
        if (st.kind === 'storage-status') stored += st.count;
      }
      return stored;
    };

    // Kill while idle, restart on the same directory: exactly what was acknowledged is there.
    const rss = rssMb(srv.child.pid!);
    await kill(srv);
    srv = await startServer(dir);
    assert.is((await storedNow()) + handedOut.size, total, 'nothing lost across an idle kill -9');

    // Phase 2: hundreds of fetchers; the server is killed under load and restarted.
    const under = pool(FETCHERS, 100, (i) => fetcher(srv.port, i, 2));
    await new Promise((r) => setTimeout(r, 150));
    await kill(srv);
    await under;
    srv = await startServer(dir);
    await pool(FETCHERS, 100, (i) => fetcher(srv.port, FETCHERS + i, 3));

    // At most once, always.
    for (const [k, n] of handedOut) assert.is(n, 1, `${k} handed out ${n} times`);
    // None lost: what is still stored (asked through the authenticated storage status) plus what was handed
    // out is everything published — except at most the requests in flight when the server died under load
    // (their prekey's removal may have reached the disk before the reply reached the socket).
    const stored = await storedNow();
    const lost = total - stored - handedOut.size;
    if (process.env.OTR_DEBUG) console.log({ total, stored, handedOut: handedOut.size, lost, rss });
    assert.ok(lost >= 0 && lost <= 100, `lost ${lost} prekeys (at most the 100 requests in flight at the kill)`);
    assert.ok(handedOut.size > total / 2, 'most prekeys were handed out');
    assert.ok(rss < 400, `server RSS ${rss.toFixed(0)} MB`);
    await kill(srv);
  } finally {
    await killAll();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('connection and line limits; a bad line never stops the server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'otr-prekey-'));
  try {
    const srv = await startServer(dir, ['--max-connections', '8']);
    const socks = await Promise.all(
      Array.from({ length: 20 }, () => new Promise<import('node:net').Socket>((res) => {
        const s = createConnection({ port: srv.port, host: '127.0.0.1' }, () => res(s));
        s.on('error', () => {});
      })),
    );
    await new Promise((r) => setTimeout(r, 200));
    const open = socks.filter((s) => !s.destroyed && s.readable).length;
    assert.ok(open <= 8 + 1, `${open} connections stayed open`);
    for (const s of socks) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const c = await TcpPrekeyClient.connect(srv.port);
    // Malformed frames and messages: transport-level refusals with typed codes.
    for (const [line, code] of [
      ['no tab here', 'MALFORMED'],
      ['x@y\tnot base64.', 'MALFORMED'],
      ['x@y\tAAQ=.', 'MALFORMED'],
    ] as const) {
      try {
        await c.request(line.split('\t')[0]!, line.includes('\t') ? line.split('\t')[1]! : '');
        assert.unreachable('accepted');
      } catch (e) {
        assert.instance(e, OtrError);
        assert.ok((e as OtrError).code === code || (e as OtrError).code === 'MALFORMED', (e as Error).message);
      }
    }
    // An over-long line closes that connection only.
    const big = await TcpPrekeyClient.connect(srv.port);
    await big.request('x@y', 'A'.repeat(400_000) + '.').then(
      () => assert.unreachable('accepted'),
      (e: unknown) => assert.ok(e instanceof Error),
    );
    const none = await fetchEnsembles(c.as('a@b'), 0x1234, 'nobody@example.org');
    assert.is(none.kind, 'none', 'still serving');
    // Pipelined lines (sent without waiting for replies) are all answered, in order, one reply each.
    const raw = await new Promise<import('node:net').Socket>((res) => {
      const s = createConnection({ port: srv.port, host: '127.0.0.1' }, () => res(s));
      s.on('error', () => {});
    });
    raw.setEncoding('utf8');
    let got = '';
    const replies = new Promise<string[]>((res) => {
      raw.on('data', (d: string) => {
        got += d;
        const lines = got.split('\n');
        if (lines.length > 50) res(lines.slice(0, 50));
      });
    });
    for (let i = 0; i < 50; i++) raw.write('x@y\tAAQ=.\n');
    const lines = await replies;
    assert.is(lines.length, 50);
    for (const l of lines) assert.ok(l.startsWith('!MALFORMED'), l);
    raw.destroy();
    c.close();
    big.close();
  } finally {
    await killAll();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FileStore: torn tail cut, compaction, re-open, limits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'otr-store-'));
  try {
    const rnd = seededRandom(42);
    const pms = generatePrekeyMessages(b, rnd, 0x1234, 6).map((p) => ({ id: p.message.id, bytes: encodePrekeyMessage(p.message) }));
    const cp = { bytes: Uint8Array.of(1, 2, 3), expiry: 2_000_000_000n };
    const limits = { maxStoredPrekeysPerInstance: 8, maxStoredPrekeysTotal: 10, maxInstancesPerIdentity: 2, maxIdentities: 3 };
    let s = await FileStore.open(dir, { limits, compactMinBytes: 1 });
    await s.publish('bob', { instanceTag: 0x1234, clientProfile: cp, prekeyProfile: cp, prekeys: pms });
    const took = await s.take('bob', 1_000_000_000n, 4);
    assert.is(took.length, 1);
    await s.close();
    // A crash mid-append: garbage after the last record is cut off on open, nothing acknowledged is lost.
    const log = join(dir, 'prekeys.log');
    appendFileSync(log, Uint8Array.of(0, 0, 1, 0, 9, 9, 9));
    s = await FileStore.open(dir);
    assert.is(await s.count('bob', 0x1234), 5);
    const again = await s.take('bob', 1_000_000_000n, 4);
    assert.not.equal(again[0]!.prekey.id, took[0]!.prekey.id, 'never the same prekey twice');
    await s.close();
    assert.ok(statSync(log).size > 0);
    // Re-open once more (compaction ran with compactMinBytes = 1): same state.
    s = await FileStore.open(dir);
    assert.is(await s.count('bob', 0x1234), 4);
    // Expired profiles are not served.
    assert.is((await s.take('bob', 3_000_000_000n, 4)).length, 0);
    await s.close();
    // Limits: refused publications change nothing.
    s = await FileStore.open(join(dir, 'b'), { limits });
    await s.publish('a', { instanceTag: 0x100, prekeys: pms.slice(0, 6) });
    for (const [id, r] of [
      ['per instance', s.publish('a', { instanceTag: 0x100, prekeys: generatePrekeyMessages(b, rnd, 0x100, 3).map((p) => ({ id: p.message.id, bytes: encodePrekeyMessage(p.message) })) })],
      ['in all', s.publish('c', { instanceTag: 0x100, prekeys: generatePrekeyMessages(b, rnd, 0x100, 5).map((p) => ({ id: p.message.id, bytes: encodePrekeyMessage(p.message) })) })],
    ] as const) {
      await r.then(
        () => assert.unreachable(`${id} accepted`),
        (e: unknown) => assert.is((e as OtrError).code, 'LIMIT_EXCEEDED'),
      );
    }
    await s.publish('a', { instanceTag: 0x101, prekeys: [] });
    await s.publish('a', { instanceTag: 0x102, prekeys: [] }).then(
      () => assert.unreachable('third instance accepted'),
      (e: unknown) => assert.is((e as OtrError).code, 'LIMIT_EXCEEDED'),
    );
    assert.is(s.index.prekeyCount, 6);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
