/**
 * Offline conversations:
 *   dake.noninteractive — ensemble validation plus the Non-Interactive-Auth message on both sides (Alice
 *                         validates Bob's ensemble and makes the message; Bob verifies it against his stored
 *                         prekey and profiles; both ratchets seeded), on each backend;
 *   prekeyserver.fetch  — one ensemble retrieval over loopback TCP (query out, the server core takes a prekey
 *                         from its MemoryStore, retrieval message back, decoded): ops/s = ensembles served per
 *                         second to one sequential client. The durable FileStore's fsync is left out (it
 *                         measures the disk, not the code).
 *
 * benchmark.js cases are synchronous, and a TCP round trip is not: the server runs in one worker thread, the
 * client in another, and the measured function hands the client a request through shared memory and blocks
 * (Atomics.wait) until it is answered. This module is also the workers' entry point (see `workerData.role`).
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
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
    const got = receiveNonInteractiveAuth(b, systemRandom, bob.local, fresh(), sent.message, now);
    if (got.established.ssid[0] !== sent.established.ssid[0]) throw new Error('offline bench: SSIDs differ');
    return got;
  };
}

// ---- prekeyserver.fetch: workers ----

const TARGET = 'bob@example.org';
/** Below the store's per-instance limit (1000) with room for what is left. */
const REFILL = 900;

async function serverWorker(): Promise<void> {
  const { loadBackend } = await import('../../ts/backend/select.js');
  const { PrekeyServer, MemoryStore } = await import('../../ts/prekey-server/index.js');
  const { listenTcp } = await import('../../ts/prekey-server/tcp.js');
  const b = await loadBackend('wasm');
  const now = Date.now();
  const bob = party(b, 0x0b0b, TARGET, 'x', now);
  const pp = createPrekeyProfile(b, systemRandom, { ownerTag: 0x0b0b, identitySecret: bob.identitySecret, expiry: expiryFromNow(now) });
  const [template] = generatePrekeyMessages(b, systemRandom, 0x0b0b, 1);
  const store = new MemoryStore();
  let nextId = 1;
  const refill = async () => {
    const prekeys = Array.from({ length: REFILL }, () => {
      const id = nextId++;
      return { id, bytes: encodePrekeyMessage({ ...template!.message, id }) };
    });
    await store.publish(TARGET, {
      instanceTag: 0x0b0b,
      clientProfile: { bytes: bob.profile.encoded, expiry: bob.profile.expiry },
      prekeyProfile: { bytes: pp.profile.encoded, expiry: pp.profile.expiry },
      prekeys,
    });
  };
  // Keep the store from running dry between benchmark samples (a refill costs no crypto).
  const take = store.take.bind(store);
  store.take = async (identity, nowSeconds, max) => {
    if (store.index.count(TARGET, 0x0b0b) < 10) await refill();
    return take(identity, nowSeconds, max);
  };
  await refill();
  const core = new PrekeyServer({
    backend: b,
    random: systemRandom,
    now: Date.now,
    identity: 'prekey.bench',
    identitySecret: systemRandom(57),
    store,
    fetchRate: { burst: 1e12, perSecond: 1e12 },
  });
  const tcp = await listenTcp(core);
  parentPort!.postMessage(tcp.port);
}

async function clientWorker(port: number, flag: Int32Array): Promise<void> {
  const { TcpPrekeyClient } = await import('../../ts/prekey-server/tcp.js');
  const { fetchEnsembles } = await import('../../ts/prekey-server/flows.js');
  let c = await TcpPrekeyClient.connect(port);
  parentPort!.postMessage('ready');
  for (;;) {
    // Atomics.waitAsync is in Node >= 16 but not in the ES2022 lib this project compiles against.
    const w = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync(flag, 0, 0);
    if (w.async) await w.value;
    let served = -1;
    try {
      const r = await fetchEnsembles(c.as('alice@example.org'), 0x0a0a, TARGET);
      served = r.kind === 'ensembles' ? r.ensembles.length : -1;
    } catch {
      // The server closes idle connections (the other suites run for minutes first): reconnect and retry once.
      c = await TcpPrekeyClient.connect(port);
      const r = await fetchEnsembles(c.as('alice@example.org'), 0x0a0a, TARGET);
      served = r.kind === 'ensembles' ? r.ensembles.length : -1;
    }
    Atomics.store(flag, 1, served);
    Atomics.store(flag, 0, 0);
    Atomics.notify(flag, 0);
  }
}

if (!isMainThread && workerData?.role === 'offline-bench-server') void serverWorker();
if (!isMainThread && workerData?.role === 'offline-bench-client') void clientWorker(workerData.port, new Int32Array(workerData.flag));

/**
 * The loopback fetch case. Its server and client workers start in `setup`, right before the case is measured:
 * started at collection time they would sit idle while the other suites run, and the server closes idle
 * connections.
 */
function fetchCase(): Pick<BenchCase, 'fn' | 'setup'> {
  const flag = new Int32Array(new SharedArrayBuffer(8));
  let ready = false;
  const setup = async () => {
    const self = new URL(import.meta.url);
    const server = new Worker(self, { workerData: { role: 'offline-bench-server' } });
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', resolve);
      server.once('error', reject);
    });
    const client = new Worker(self, { workerData: { role: 'offline-bench-client', port, flag: flag.buffer } });
    await new Promise((resolve, reject) => {
      client.once('message', resolve);
      client.once('error', reject);
    });
    server.unref();
    client.unref();
    ready = true;
  };
  const fn = () => {
    if (!ready) throw new Error('prekeyserver.fetch: setup did not run');
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    const deadline = Date.now() + 30_000;
    while (Atomics.load(flag, 0) === 1) {
      if (Date.now() > deadline) throw new Error('prekeyserver.fetch: the client worker did not answer in 30 s');
      Atomics.wait(flag, 0, 1, 1000);
    }
    if (Atomics.load(flag, 1) !== 1) throw new Error('prekeyserver.fetch: no ensemble served');
    return flag[1];
  };
  return { fn, setup };
}

export function cases(ctx: BenchContext): BenchCase[] {
  return [
    { name: 'dake.noninteractive', impl: 'wasm', fn: nonInteractive(ctx.wasm) },
    { name: 'dake.noninteractive', impl: 'js', fn: nonInteractive(ctx.js) },
    { name: 'prekeyserver.fetch', impl: 'wasm', ...fetchCase() },
  ];
}
