/**
 * The reference OTRv4 prekey server, as an operator runs it: the transport-agnostic core
 * (ts/prekey-server/server.ts) over TCP (ts/prekey-server/tcp.ts) on a store chosen by one string
 * (ts/prekey-server/open-store.ts: SQLite by default, PostgreSQL for several processes, the file log, memory).
 *
 *   npm run prekey-server -- --help
 *
 * Output (stdout): the first line says in words where it listens, its identity and fingerprint, its store and
 * the limits in force; the second is the same as one JSON object ({"event":"listening",...}) for scripts and
 * tests; then one JSON line per interval with the counts per request class ({"event":"stats",...}), and on
 * SIGTERM/SIGINT {"event":"stopping"}, the final counts and {"event":"stopped"}: it stops accepting, lets
 * every connection finish the request in hand, closes the store and exits 0. Errors go to stderr (exit 1;
 * exit 2 for a bad command line). Nothing secret is ever printed.
 */
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadBackend } from '../ts/backend/select.js';
import { bytesToHex, wipe } from '../ts/bytes.js';
import { systemRandom } from '../ts/crypto/random.js';
import { PrekeyServer } from '../ts/prekey-server/server.js';
import { openPrekeyStore } from '../ts/prekey-server/open-store.js';
import { listenTcp } from '../ts/prekey-server/tcp.js';
import { ServerStats } from '../ts/prekey-server/stats.js';
import { DEFAULT_LIMITS, resolveLimits, type Limits } from '../ts/limits.js';

const L = DEFAULT_LIMITS;

/** Every option, its default and what it does: the one source of --help and of parsing. */
const OPTIONS = {
  host: { v: '127.0.0.1', help: 'listen address (0.0.0.0 or :: for every interface)' },
  port: { v: '7777', help: 'listen port (0: any free port, printed on the first lines)' },
  data: { v: './prekey-data', help: 'folder for the default key file and the default store' },
  store: { v: '', help: 'where prekeys live: postgres://user[:pass]@host:port/db (several processes may share it), sqlite:PATH or PATH (default <data>/prekeys.sqlite), file:DIR (the append-only log, one process), memory: (lost on exit)' },
  key: { v: '', help: 'server identity key file: the 57-byte Ed448 seed, created (mode 0600) if missing (default <data>/server.key); every process of one service must use the same file' },
  'on-corruption': { v: 'refuse', help: 'a damaged file log (file:DIR): refuse to start (changing nothing), or quarantine it (rename it aside and start empty; nothing is handed out twice, stored prekeys are lost)' },
  identity: { v: 'prekey.localhost', help: "the server's identity, as clients know it (e.g. prekey.example.org)" },
  'max-connections': { v: String(L.maxConnections), help: 'open connections in all' },
  'max-connections-per-address': { v: String(L.maxConnectionsPerAddress), help: 'open connections from one remote address (an IPv6 /64 counts as one)' },
  'idle-ms': { v: String(L.serverIdleMs), help: 'close a connection that sends nothing for this long between requests' },
  'line-deadline-ms': { v: String(L.serverLineDeadlineMs), help: 'close a connection whose request line is not complete this long after its first byte' },
  'fetch-burst': { v: String(L.fetchRequesterBurst), help: 'ensemble queries one remote address may make at once ...' },
  'fetch-rate': { v: String(L.fetchRequesterPerSecond), help: '... and regains per second' },
  'target-burst': { v: String(L.fetchTargetBurst), help: 'ensemble queries for one identity, from everybody, at once (bounds how fast its prekeys can be drained) ...' },
  'target-rate': { v: String(L.fetchTargetPerSecond), help: '... and regained per second' },
  'publish-burst': { v: String(L.publishBurst), help: 'DAKEs (publications, storage requests) one identity or address may start at once ...' },
  'publish-rate': { v: String(L.publishPerSecond), help: '... and regains per second' },
  'publish-server-burst': { v: String(L.publishServerBurst), help: 'DAKEs the whole server may start at once, every identity and address together ...' },
  'publish-server-rate': { v: String(L.publishServerPerSecond), help: '... and regains per second' },
  'publish-prekeys-burst': { v: String(L.publishPrekeysBurst), help: 'prekey messages one identity or address may have verified at once (each costs a 3072-bit check; at least 255) ...' },
  'publish-prekeys-rate': { v: String(L.publishPrekeysPerSecond), help: '... and regains per second' },
  'publish-prekeys-server-burst': { v: String(L.publishPrekeysServerBurst), help: 'prekey messages the whole server may have verified at once, every publisher together ...' },
  'publish-prekeys-server-rate': { v: String(L.publishPrekeysServerPerSecond), help: '... and regains per second' },
  'max-prekeys-per-instance': { v: String(L.maxStoredPrekeysPerInstance), help: 'prekey messages stored per device (identity, instance tag)' },
  'max-prekeys-total': { v: String(L.maxStoredPrekeysTotal), help: 'prekey messages stored in all' },
  'max-instances-per-identity': { v: String(L.maxInstancesPerIdentity), help: 'devices stored per identity' },
  'max-identities': { v: String(L.maxIdentities), help: 'identities stored in all' },
  'low-threshold': { v: String(L.prekeysLowThreshold), help: 'a device with at most this many prekeys left is counted as prekeys-low' },
  'max-pending-dakes': { v: String(L.maxPendingDakes), help: 'DAKEs waiting for their DAKE-3 at once (shared fairly by address)' },
  'max-log-bytes': { v: String(L.maxPrekeyLogBytes), help: 'largest file-store log (checked before it is read at start; raise it to open a bigger genuine log)' },
  'stats-interval': { v: '60', help: 'seconds between stats lines (0: only the final one)' },
  'drain-timeout-ms': { v: '10000', help: 'on SIGTERM, how long to wait for requests in hand before closing anyway' },
} as const;
type Option = keyof typeof OPTIONS;

class UsageError extends Error {}

function usage(): string {
  const lines = ['Usage: npm run prekey-server -- [--option value]...', '', 'The reference OTRv4 prekey server over TCP ("<identity> TAB <message>" lines; see docs/prekey-server.md).', ''];
  for (const [name, o] of Object.entries(OPTIONS)) lines.push(`  --${name.padEnd(28)} ${o.help}${o.v ? ` [${o.v}]` : ''}`);
  lines.push(`  --${'help'.padEnd(28)} this text`, '', 'Signals: SIGTERM or SIGINT drain (finish requests in hand) and stop; exit status 0.');
  return lines.join('\n') + '\n';
}

function parseArgs(argv: readonly string[]): Record<Option, string> {
  const out = Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, o.v])) as Record<Option, string>;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    // Own keys only: `in` would also take --constructor, --toString, --__proto__ (Object.prototype's).
    if (!a.startsWith('--') || !Object.hasOwn(OPTIONS, a.slice(2))) throw new UsageError(`unknown option ${a}`);
    const v = argv[i + 1];
    if (v === undefined) throw new UsageError(`${a} needs a value`);
    out[a.slice(2) as Option] = v;
    i++;
  }
  return out;
}

/** Longest delay a Node timer takes: a larger one fires after 1 ms instead (idle and line deadlines, stats, drain). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Upper bounds of the options that have one; every other number is bounded by MAX_SAFE_INTEGER. */
const MAX: Partial<Record<Option, number>> = {
  port: 65535,
  'idle-ms': MAX_TIMER_MS,
  'line-deadline-ms': MAX_TIMER_MS,
  'drain-timeout-ms': MAX_TIMER_MS,
  'stats-interval': Math.floor(MAX_TIMER_MS / 1000),
};

/** A plain decimal (no '', hex, exponent or spaces, which Number() would take), >= 0 and within its bound. */
function num(o: Record<Option, string>, name: Option, integer = true): number {
  const text = o[name];
  const max = MAX[name] ?? Number.MAX_SAFE_INTEGER;
  const n = (integer ? /^\d{1,16}$/ : /^\d{1,16}(\.\d{1,32})?$/).test(text) ? Number(text) : NaN;
  if (!(n <= max)) throw new UsageError(`--${name} must be a ${integer ? 'whole ' : ''}number from 0 to ${max}, not ${JSON.stringify(text.slice(0, 40))}`);
  return n;
}

/** Reads the seed, or creates it atomically if absent (link fails if another process created it first). */
async function loadOrCreateKey(path: string): Promise<Uint8Array> {
  for (;;) {
    try {
      // The Buffer itself is returned (a copy would leave the seed in the read buffer, never wiped).
      const k = await fsp.readFile(path);
      if (k.length !== 57) {
        const n = k.length;
        wipe(k);
        throw new Error(`${path} must hold exactly 57 bytes (an Ed448 seed), it holds ${n}`);
      }
      return k;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await fsp.mkdir(dirname(path), { recursive: true });
    const key = systemRandom(57);
    const tmp = `${path}.${process.pid}.tmp`;
    const fh = await fsp.open(tmp, 'w', 0o600);
    try {
      await fh.write(key);
      await fh.sync();
    } catch (e) {
      wipe(key);
      throw e;
    } finally {
      await fh.close();
    }
    try {
      await fsp.link(tmp, path);
      const d = await fsp.open(dirname(path), 'r');
      await d.sync().finally(() => d.close());
      return key;
    } catch (e) {
      wipe(key);
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      await fsp.unlink(tmp).catch(() => {});
    }
  }
}

const STORE_WORDS = { postgres: 'PostgreSQL database', sqlite: 'SQLite database', file: 'append-only log in', memory: 'memory (nothing survives a restart)' } as const;

function rate(burst: number, perSecond: number): string {
  return `${burst} at once + ${perSecond >= 1 ? `${+perSecond.toFixed(3)}/s` : `1 per ${+(1 / perSecond).toFixed(1)} s`}`;
}

function line(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), ...obj }) + '\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage());
    return;
  }
  const o = parseArgs(argv);
  const limits: Limits = resolveLimits({
    maxConnections: num(o, 'max-connections'),
    maxConnectionsPerAddress: num(o, 'max-connections-per-address'),
    serverIdleMs: num(o, 'idle-ms'),
    serverLineDeadlineMs: num(o, 'line-deadline-ms'),
    fetchRequesterBurst: num(o, 'fetch-burst'),
    fetchRequesterPerSecond: num(o, 'fetch-rate', false),
    fetchTargetBurst: num(o, 'target-burst'),
    fetchTargetPerSecond: num(o, 'target-rate', false),
    publishBurst: num(o, 'publish-burst'),
    publishPerSecond: num(o, 'publish-rate', false),
    publishServerBurst: num(o, 'publish-server-burst'),
    publishServerPerSecond: num(o, 'publish-server-rate', false),
    publishPrekeysBurst: num(o, 'publish-prekeys-burst'),
    publishPrekeysPerSecond: num(o, 'publish-prekeys-rate', false),
    publishPrekeysServerBurst: num(o, 'publish-prekeys-server-burst'),
    publishPrekeysServerPerSecond: num(o, 'publish-prekeys-server-rate', false),
    maxStoredPrekeysPerInstance: num(o, 'max-prekeys-per-instance'),
    maxStoredPrekeysTotal: num(o, 'max-prekeys-total'),
    maxInstancesPerIdentity: num(o, 'max-instances-per-identity'),
    maxIdentities: num(o, 'max-identities'),
    prekeysLowThreshold: num(o, 'low-threshold'),
    maxPendingDakes: num(o, 'max-pending-dakes'),
    maxPrekeyLogBytes: num(o, 'max-log-bytes'),
  });
  const port = num(o, 'port');
  const statsMs = num(o, 'stats-interval', false) * 1000;
  const drainMs = num(o, 'drain-timeout-ms');
  const storeSpec = o.store || join(o.data, 'prekeys.sqlite');
  const keyPath = o.key || join(o.data, 'server.key');
  if (!o.store) await fsp.mkdir(o.data, { recursive: true });

  const backend = await loadBackend('wasm');
  if (o['on-corruption'] !== 'refuse' && o['on-corruption'] !== 'quarantine') throw new UsageError('--on-corruption is refuse or quarantine');
  const opened = await openPrekeyStore(storeSpec, limits, { onCorruption: o['on-corruption'] });
  const identitySecret = await loadOrCreateKey(keyPath);
  let core: PrekeyServer;
  try {
    core = new PrekeyServer({ backend, random: systemRandom, now: Date.now, identity: o.identity, identitySecret, store: opened.store, limits });
  } finally {
    wipe(identitySecret); // the core keeps only the derived scalar; the seed need not stay in memory (nor after a throw)
  }
  const stats = new ServerStats();
  const tcp = await listenTcp(core, {
    port,
    host: o.host,
    maxConnections: limits.maxConnections,
    maxConnectionsPerAddress: limits.maxConnectionsPerAddress,
    idleMs: limits.serverIdleMs,
    lineDeadlineMs: limits.serverLineDeadlineMs,
    onRequest: (r) => stats.record(r),
  });
  // Signal handlers before the first line: a supervisor (or a test) may send SIGTERM as soon as it reads it.
  const timer = statsMs > 0 ? setInterval(() => line({ event: 'stats', intervalS: statsMs / 1000, ...stats.take() }), statsMs) : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    line({ event: 'stopping', signal, connections: tcp.connections() });
    let timedOut = false;
    await Promise.race([
      tcp.drain(),
      new Promise<void>((r) =>
        setTimeout(() => {
          timedOut = true;
          r();
        }, drainMs).unref(),
      ),
    ]);
    if (timedOut) await tcp.close();
    await opened.store.close();
    line({ event: 'stats', final: true, ...stats.total });
    line({ event: 'stopped', drained: !timedOut });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const fp = bytesToHex(core.fingerprint);
  const where = o.host.includes(':') ? `[${o.host}]:${tcp.port}` : `${o.host}:${tcp.port}`;
  process.stdout.write(
    `prekey server "${o.identity}" listening on ${where} (TCP), identity fingerprint ${fp}, ` +
      `store: ${STORE_WORDS[opened.kind]}${opened.kind === 'memory' ? '' : ` ${opened.where}`}; ` +
      `limits: ${limits.maxConnections} connections (${limits.maxConnectionsPerAddress} per address), ` +
      `request line within ${limits.serverLineDeadlineMs / 1000} s, idle ${limits.serverIdleMs / 1000} s; ` +
      `fetches per address ${rate(limits.fetchRequesterBurst, limits.fetchRequesterPerSecond)}, ` +
      `per target identity ${rate(limits.fetchTargetBurst, limits.fetchTargetPerSecond)}; ` +
      `DAKEs per identity or address ${rate(limits.publishBurst, limits.publishPerSecond)}, ` +
      `by the whole server ${rate(limits.publishServerBurst, limits.publishServerPerSecond)}; ` +
      `prekeys verified per identity or address ${rate(limits.publishPrekeysBurst, limits.publishPrekeysPerSecond)}, ` +
      `by the whole server ${rate(limits.publishPrekeysServerBurst, limits.publishPrekeysServerPerSecond)}; ` +
      `stored: ${limits.maxStoredPrekeysPerInstance} prekeys per device, ${limits.maxStoredPrekeysTotal} in all, ` +
      `${limits.maxInstancesPerIdentity} devices per identity, ${limits.maxIdentities} identities; prekeys-low at ${limits.prekeysLowThreshold}\n`,
  );
  line({
    event: 'listening',
    host: o.host,
    port: tcp.port,
    identity: o.identity,
    fingerprint: fp,
    publicKey: bytesToHex(core.publicKey),
    store: { kind: opened.kind, where: opened.where },
    pid: process.pid,
    limits: {
      maxConnections: limits.maxConnections,
      maxConnectionsPerAddress: limits.maxConnectionsPerAddress,
      serverLineDeadlineMs: limits.serverLineDeadlineMs,
      serverIdleMs: limits.serverIdleMs,
      fetchRequesterBurst: limits.fetchRequesterBurst,
      fetchRequesterPerSecond: limits.fetchRequesterPerSecond,
      fetchTargetBurst: limits.fetchTargetBurst,
      fetchTargetPerSecond: limits.fetchTargetPerSecond,
      publishBurst: limits.publishBurst,
      publishPerSecond: limits.publishPerSecond,
      publishServerBurst: limits.publishServerBurst,
      publishServerPerSecond: limits.publishServerPerSecond,
      publishPrekeysBurst: limits.publishPrekeysBurst,
      publishPrekeysPerSecond: limits.publishPrekeysPerSecond,
      publishPrekeysServerBurst: limits.publishPrekeysServerBurst,
      publishPrekeysServerPerSecond: limits.publishPrekeysServerPerSecond,
      maxStoredPrekeysPerInstance: limits.maxStoredPrekeysPerInstance,
      maxStoredPrekeysTotal: limits.maxStoredPrekeysTotal,
      maxInstancesPerIdentity: limits.maxInstancesPerIdentity,
      maxIdentities: limits.maxIdentities,
      prekeysLowThreshold: limits.prekeysLowThreshold,
      maxPendingDakes: limits.maxPendingDakes,
      maxPrekeyLogBytes: limits.maxPrekeyLogBytes,
    },
  });
}

main().catch((e) => {
  if (e instanceof UsageError) {
    process.stderr.write(`prekey-server: ${e.message}\n\n${usage()}`);
    process.exit(2);
  }
  process.stderr.write(`prekey-server: ${(e as Error).message ?? e}\n`);
  process.exit(1);
});
