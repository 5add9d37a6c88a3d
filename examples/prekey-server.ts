/**
 * The reference OTRv4 prekey server: the transport-agnostic core (ts/prekey-server/server.ts) over TCP
 * (ts/prekey-server/tcp.ts: newline-delimited "<identity> TAB <message>" frames) with the durable append-only
 * FileStore. Run after `npx tsc -p .`:
 *
 *   node build/examples/prekey-server.js [--port 0] [--host 127.0.0.1] [--dir ./prekey-data]
 *        [--identity prekey.localhost] [--max-connections 1024]
 *        [--fetch-burst 60] [--fetch-rate 10] [--publish-burst 20] [--publish-rate 1]
 *
 * On start it prints one line: `listening <port> <server fingerprint, hex> <server public key H_s, hex>`. The server's long-term key seed
 * lives in <dir>/server.key (created on first start, written to a temporary file, fsync'ed, renamed). SIGTERM
 * and SIGINT close the socket and the store; SIGKILL loses nothing acknowledged (see file-store.ts).
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { loadBackend } from '../ts/backend/select.js';
import { bytesToHex, wipe } from '../ts/bytes.js';
import { systemRandom } from '../ts/crypto/random.js';
import { PrekeyServer } from '../ts/prekey-server/server.js';
import { FileStore } from '../ts/prekey-server/file-store.js';
import { listenTcp } from '../ts/prekey-server/tcp.js';
import { resolveLimits } from '../ts/limits.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

async function loadOrCreateKey(dir: string): Promise<Uint8Array> {
  const path = join(dir, 'server.key');
  try {
    const k = new Uint8Array(await fsp.readFile(path));
    if (k.length !== 57) throw new Error(`${path} must hold 57 bytes`);
    return k;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = systemRandom(57);
  const tmp = `${path}.tmp`;
  const fh = await fsp.open(tmp, 'w', 0o600);
  try {
    await fh.write(key);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path);
  return key;
}

async function main(): Promise<void> {
  const dir = arg('dir', './prekey-data');
  await fsp.mkdir(dir, { recursive: true });
  const limits = resolveLimits({ maxConnections: Number(arg('max-connections', '1024')), maxConnectionsPerAddress: Number(arg('max-connections-per-address', '16')) });
  const backend = await loadBackend('wasm');
  const store = await FileStore.open(join(dir, 'store'), { limits });
  const identitySecret = await loadOrCreateKey(dir);
  const core = new PrekeyServer({
    backend,
    random: systemRandom,
    now: Date.now,
    identity: arg('identity', 'prekey.localhost'),
    identitySecret,
    store,
    limits,
    fetchRate: { burst: Number(arg('fetch-burst', String(limits.fetchRequesterBurst))), perSecond: Number(arg('fetch-rate', String(limits.fetchRequesterPerSecond))) },
    targetRate: { burst: Number(arg('target-burst', String(limits.fetchTargetBurst))), perSecond: Number(arg('target-rate', String(limits.fetchTargetPerSecond))) },
    publishRate: { burst: Number(arg('publish-burst', '20')), perSecond: Number(arg('publish-rate', '1')) },
  });
  wipe(identitySecret); // the core keeps only the derived scalar; the seed need not stay in memory
  const tcp = await listenTcp(core, { port: Number(arg('port', '0')), host: arg('host', '127.0.0.1'), maxConnections: limits.maxConnections, maxConnectionsPerAddress: limits.maxConnectionsPerAddress });
  process.stdout.write(`listening ${tcp.port} ${bytesToHex(core.fingerprint)} ${bytesToHex(core.publicKey)}\n`);
  const stop = async () => {
    await tcp.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((e) => {
  process.stderr.write(`prekey-server: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
