/**
 * Offline conversations:
 *   dake.noninteractive      — ensemble validation plus the Non-Interactive-Auth message on both sides (Alice
 *                              validates Bob's ensemble and makes the message; Bob verifies it against his
 *                              stored prekey and profiles; both ratchets seeded), on each backend;
 *   prekeyserver.fetch       — one ensemble retrieval over loopback TCP (query out, the server core takes a
 *                              prekey from its store, retrieval message back, decoded): ops/s = ensembles
 *                              served per second to one sequential client, per store: impl `memory` (no
 *                              durability: the code alone), `file` (the append-only log, an fsync per take),
 *                              `sqlite` (WAL, synchronous=FULL: an fsync per take), `postgres` (a private
 *                              server with fsync on, the store's pool in the server worker);
 *   prekeyserver.fetch.2proc — two real server processes (build/examples/prekey-server.js) on one PostgreSQL,
 *                              one sequential client on each, both asked at once: one op = TWO ensembles, so
 *                              ensembles/s = 2 × ops/s.
 * The durable stores run on the machine's disk in a temporary folder; their figures measure the disk's fsync
 * as much as the code, which is the point of comparing them.
 *
 * benchmark.js cases are synchronous, and a TCP round trip is not: the server runs in one worker thread (or
 * process), the client in another, and the measured function hands the client a request through shared
 * memory and blocks (Atomics.wait) until it is answered. This module is also the workers' entry point (see
 * `workerData.role`).
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchCase, BenchContext } from '../harness.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import { systemRandom } from '../../ts/crypto/random.js';
import { ed448KeyPair } from '../../ts/crypto/eddsa.js';
import { createClientProfile, expiryFromNow } from '../../ts/profile/client-profile.js';
import { addPrekeyProfile, addPrekeys, createPrekeyProfile, EMPTY_PREKEY_OWNER_STATE, encodePrekeyMessage, generatePrekeyMessages, type PrekeyEnsemble, type PrekeyOwnerState } from '../../ts/prekey/index.js';
import { receiveNonInteractiveAuth, sendNonInteractiveAuth, type OfflineLocal } from '../../ts/offline/index.js';

const enc = new TextEncoder();

function party(b: CryptoBackend, tag: number, acct: string, peer: string, nowMs: number) {
  const identitySecret = systemRandom(57);
  const identityScalar = ed448KeyPair(b, identitySecret).scalar;
  const forgingKey = ed448KeyPair(b, systemRandom(57)).publicKey;
  const profile = createClientProfile(b, { ownerTag: tag, identitySecret, forgingKey, versions: '4', expiry: expiryFromNow(nowMs) });
  const local: OfflineLocal = { instanceTag: tag, profile, identityScalar, accountId: enc.encode(acct), peerAccountId: enc.encode(peer) };
  return { identitySecret, profile, local };
}

function nonInteractive(b: CryptoBackend): () => unknown {
  const now = Date.now();
  const bob = party(b, 0x0b0b, 'bob@example.org', 'alice@example.org', now);
  const alice = party(b, 0x0a0a, 'alice@example.org', 'bob@example.org', now);
  const pp = createPrekeyProfile(b, systemRandom, { ownerTag: 0x0b0b, identitySecret: bob.identitySecret, expiry: expiryFromNow(now) });
  const [prekey] = generatePrekeyMessages(b, systemRandom, 0x0b0b, 1);
  const owner = addPrekeys(addPrekeyProfile(EMPTY_PREKEY_OWNER_STATE, pp), [prekey!], now);
  const ensemble: PrekeyEnsemble = { clientProfile: bob.profile, prekeyProfile: pp.profile, prekeyMessage: prekey!.message };
  // Bob's success wipes the used prekey's secrets: each round gets copies, so the same prekey serves again.
  const fresh = (): PrekeyOwnerState => ({
    profiles: owner.profiles,
    prekeys: owner.prekeys.map((p) => ({ ...p, ecdh: { ...p.ecdh, secret: p.ecdh.secret.slice() }, dh: { ...p.dh, secret: p.dh.secret.slice() } })),
  });
  return () => {
    const sent = sendNonInteractiveAuth(b, systemRandom, alice.local, ensemble, now);
    const got = receiveNonInteractiveAuth(b, bob.local, fresh(), sent.message, now);
    if (got.established.ssid[0] !== sent.established.ssid[0]) throw new Error('offline bench: SSIDs differ');
    return got;
  };
}

// ---- prekeyserver.fetch: workers ----

const TARGET = 'bob@example.org';
/** Below the store's per-instance limit (1000) with room for what is left. */
const REFILL = 900;
/** The 2proc seeding: prekeys per target per batch (the bench's own store object has the limit raised). */
const SEED = 20_000;

async function benchStoreRecord(b: CryptoBackend, target: string, firstId: number, n: number) {
  const now = Date.now();
  const bob = party(b, 0x0b0b, target, 'x', now);
  const pp = createPrekeyProfile(b, systemRandom, { ownerTag: 0x0b0b, identitySecret: bob.identitySecret, expiry: expiryFromNow(now) });
  const [template] = generatePrekeyMessages(b, systemRandom, 0x0b0b, 1);
  let nextId = firstId;
  return (count = n) => ({
    instanceTag: 0x0b0b,
    clientProfile: { bytes: bob.profile.encoded, expiry: bob.profile.expiry },
    prekeyProfile: { bytes: pp.profile.encoded, expiry: pp.profile.expiry },
    prekeys: Array.from({ length: count }, () => {
      const id = nextId++;
      return { id, bytes: encodePrekeyMessage({ ...template!.message, id }) };
    }),
  });
}

async function serverWorker(spec: string): Promise<void> {
  const { loadBackend } = await import('../../ts/backend/select.js');
  const { PrekeyServer } = await import('../../ts/prekey-server/index.js');
  const { openPrekeyStore } = await import('../../ts/prekey-server/open-store.js');
  const { listenTcp } = await import('../../ts/prekey-server/tcp.js');
  const b = await loadBackend('wasm');
  const { store } = await openPrekeyStore(spec);
  const record = await benchStoreRecord(b, TARGET, 1, REFILL);
  // Keep the store from running dry between benchmark samples (a refill costs no crypto; counted locally, so
  // the measured path is the server's own take and nothing more).
  let left = 0;
  const take = store.take.bind(store);
  store.take = async (identity, nowSeconds, max) => {
    if (left < 10) {
      await store.publish(TARGET, record());
      left += REFILL;
    }
    const out = await take(identity, nowSeconds, max);
    left -= out.length;
    return out;
  };
  const core = new PrekeyServer({
    backend: b,
    random: systemRandom,
    now: Date.now,
    identity: 'prekey.bench',
    identitySecret: systemRandom(57),
    store,
    fetchRate: { burst: 1e12, perSecond: 1e12 },
    targetRate: { burst: 1e12, perSecond: 1e12 },
  });
  const tcp = await listenTcp(core, { idleMs: 600_000 });
  parentPort!.postMessage(tcp.port);
}

/** One sequential client; with `refill` (2proc: the server is another process) it tops up its target itself. */
async function clientWorker(port: number, flag: Int32Array, target: string, refill?: string): Promise<void> {
  const { TcpPrekeyClient } = await import('../../ts/prekey-server/tcp.js');
  const { fetchEnsembles } = await import('../../ts/prekey-server/flows.js');
  let topUp = async () => {};
  if (refill) {
    const { loadBackend } = await import('../../ts/backend/select.js');
    const { PgStore } = await import('../../ts/prekey-server/pg-store.js');
    const { resolveLimits } = await import('../../ts/limits.js');
    const store = await PgStore.open(refill, { limits: resolveLimits({ maxStoredPrekeysPerInstance: 1e9, maxStoredPrekeysTotal: 1e9 }), poolSize: 1 });
    const record = await benchStoreRecord(await loadBackend('wasm'), target, 1, SEED);
    let left = 0;
    topUp = async () => {
      if (left-- > 100) return;
      await store.publish(target, record());
      left += SEED;
    };
  }
  await topUp();
  let c = await TcpPrekeyClient.connect(port);
  parentPort!.postMessage('ready');
  for (;;) {
    // Atomics.waitAsync is in Node >= 16 but not in the ES2022 lib this project compiles against.
    const w = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync(flag, 0, 0);
    if (w.async) await w.value;
    let served = -1;
    await topUp();
    try {
      const r = await fetchEnsembles(c.as('alice@example.org'), 0x0a0a, target);
      served = r.kind === 'ensembles' ? r.ensembles.length : -1;
    } catch {
      // The server closes idle connections (the other suites run for minutes first): reconnect and retry once.
      c = await TcpPrekeyClient.connect(port);
      const r = await fetchEnsembles(c.as('alice@example.org'), 0x0a0a, target);
      served = r.kind === 'ensembles' ? r.ensembles.length : -1;
    }
    Atomics.store(flag, 1, served);
    Atomics.store(flag, 0, 0);
    Atomics.notify(flag, 0);
  }
}

if (!isMainThread && workerData?.role === 'offline-bench-server') void serverWorker(workerData.spec);
if (!isMainThread && workerData?.role === 'offline-bench-client') void clientWorker(workerData.port, new Int32Array(workerData.flag), workerData.target, workerData.refill);

// ---- prekeyserver.fetch: the cases ----

const cleanups: (() => void)[] = [];
process.once('exit', () => {
  for (const c of cleanups.splice(0)) c();
});

let postgres: Promise<{ url: (db: string) => Promise<string> }> | undefined;

/** One private PostgreSQL (fsync on, like the other durable stores) for the run; a fresh database per case. */
function benchPostgres(): Promise<{ url: (db: string) => Promise<string> }> {
  postgres ??= (async () => {
    const { startPostgres } = await import('../../test/helpers/postgres.js');
    // OTR_BENCH_PG_FSYNC=off measures the code and the database without the disk's flush (for comparison only).
    const server = await startPostgres({ fsync: process.env.OTR_BENCH_PG_FSYNC !== 'off' });
    cleanups.push(() => void server.stop());
    const pg = (await import('pg')).default;
    return {
      url: async (db: string) => {
        const c = new pg.Client({ connectionString: server.url });
        await c.connect();
        await c.query(`CREATE DATABASE ${db}`);
        await c.end();
        return server.url.replace(/\/otr$/, `/${db}`);
      },
    };
  })();
  return postgres;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'otr-bench-pks-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startClient(port: number, flag: Int32Array, target: string, refill?: string): Promise<void> {
  const client = new Worker(new URL(import.meta.url), { workerData: { role: 'offline-bench-client', port, flag: flag.buffer, target, ...(refill ? { refill } : {}) } });
  await new Promise((resolve, reject) => {
    client.once('message', resolve);
    client.once('error', reject);
  });
  client.unref();
}

/** Hands each flag's client a request and blocks until every one has answered. */
function ask(name: string, flags: readonly Int32Array[]): number {
  for (const f of flags) {
    Atomics.store(f, 0, 1);
    Atomics.notify(f, 0);
  }
  let served = 0;
  for (const f of flags) {
    const deadline = Date.now() + 30_000;
    while (Atomics.load(f, 0) === 1) {
      if (Date.now() > deadline) throw new Error(`${name}: the client worker did not answer in 30 s`);
      Atomics.wait(f, 0, 1, 1000);
    }
    if (Atomics.load(f, 1) !== 1) throw new Error(`${name}: no ensemble served`);
    served += f[1]!;
  }
  return served;
}

/**
 * The loopback fetch case on one store. Its server and client workers start in `setup`, right before the case
 * is measured: started at collection time they would sit idle while the other suites run.
 */
function fetchCase(kind: 'memory' | 'file' | 'sqlite' | 'postgres'): Pick<BenchCase, 'fn' | 'setup'> {
  const flag = new Int32Array(new SharedArrayBuffer(8));
  let ready = false;
  const setup = async () => {
    const spec =
      kind === 'memory' ? 'memory:' : kind === 'file' ? `file:${tempDir()}` : kind === 'sqlite' ? join(tempDir(), 'bench.sqlite') : await (await benchPostgres()).url('fetch1');
    const server = new Worker(new URL(import.meta.url), { workerData: { role: 'offline-bench-server', spec } });
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', resolve);
      server.once('error', reject);
    });
    server.unref();
    await startClient(port, flag, TARGET);
    ready = true;
  };
  const fn = () => {
    if (!ready) throw new Error('prekeyserver.fetch: setup did not run');
    return ask('prekeyserver.fetch', [flag]);
  };
  return { fn, setup };
}

/** Two server processes on one PostgreSQL, a client on each, both asked at once (one op = two ensembles). */
function fetch2procCase(): Pick<BenchCase, 'fn' | 'setup'> {
  const flags = [new Int32Array(new SharedArrayBuffer(8)), new Int32Array(new SharedArrayBuffer(8))];
  let ready = false;
  const setup = async () => {
    const url = await (await benchPostgres()).url('fetch2');
    const dir = tempDir();
    const serverJs = fileURLToPath(new URL('../../examples/prekey-server.js', import.meta.url));
    const unlimited = ['--fetch-burst', '1000000000', '--fetch-rate', '1000000000', '--target-burst', '1000000000', '--target-rate', '1000000000', '--idle-ms', '600000', '--stats-interval', '0'];
    const ports = await Promise.all(
      [0, 1].map(
        (i) =>
          new Promise<number>((resolve, reject) => {
            // One key file for both (created by whichever comes first), as a deployment would have it.
            const child = spawn(process.execPath, [serverJs, '--port', '0', '--store', url, '--key', join(dir, 'server.key'), '--identity', 'prekey.bench', ...unlimited], { stdio: ['ignore', 'pipe', 'inherit'] });
            cleanups.push(() => child.kill('SIGKILL'));
            let out = '';
            child.stdout!.setEncoding('utf8');
            child.stdout!.on('data', (c: string) => {
              out += c;
              const m = /"event":"listening".*?"port":(\d+)/.exec(out);
              if (m) {
                // Ready: from now on the server must not keep the bench alive.
                child.unref();
                (child.stdout as unknown as { unref(): void }).unref();
                resolve(Number(m[1]));
              }
            });
            child.once('exit', (code) => reject(new Error(`prekeyserver.fetch.2proc: server ${i} exited (${code})`)));
          }),
      ),
    );
    await Promise.all(ports.map((port, i) => startClient(port, flags[i]!, `bob${i}@example.org`, url)));
    ready = true;
  };
  const fn = () => {
    if (!ready) throw new Error('prekeyserver.fetch.2proc: setup did not run');
    return ask('prekeyserver.fetch.2proc', flags);
  };
  return { fn, setup };
}

export function cases(ctx: BenchContext): BenchCase[] {
  return [
    { name: 'dake.noninteractive', impl: 'wasm', fn: nonInteractive(ctx.wasm) },
    { name: 'dake.noninteractive', impl: 'js', fn: nonInteractive(ctx.js) },
    ...(['memory', 'file', 'sqlite', 'postgres'] as const).map((kind) => ({ name: 'prekeyserver.fetch', impl: kind, ...fetchCase(kind) })),
    { name: 'prekeyserver.fetch.2proc', impl: 'postgres', ...fetch2procCase() },
  ];
}
