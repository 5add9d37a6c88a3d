/**
 * A private PostgreSQL server for one test run: a fresh cluster in a temporary folder, listening on a free
 * loopback port only, removed again on stop (or when the process exits). Used by the store and prekey-server
 * suites so that they test against a real server without any set-up by the person running them.
 *
 * The server binaries come from Debian's `postgresql` package. When they are missing, `startPostgres()`
 * rejects with a message naming the package, so only the suites that need it fail.
 * PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user that the Debian
 * package creates, and every server command runs through `runuser`.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const POSTGRES_MISSING =
  'PostgreSQL server binaries not found: install the Debian package postgresql (apt-get install -y postgresql)';

export interface PostgresServer {
  /** A connection string for `pg` (superuser `otr`, no password, database `otr`). */
  readonly url: string;
  readonly port: number;
  /** Stops the server (immediately) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** The folder holding initdb and pg_ctl: the newest Debian cluster version, else whatever is on PATH. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(base, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const path = which.stdout.trim();
  return which.status === 0 && path ? path.slice(0, path.lastIndexOf('/')) : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function userIds(name: string): { uid: number; gid: number } | undefined {
  const u = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (u.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server command, as the postgres user when we are root. */
function runAs(cmd: string, args: string[]): SpawnSyncReturns<string> {
  return isRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' })
    : spawnSync(cmd, args, { encoding: 'utf8' });
}

function check(r: SpawnSyncReturns<string>, what: string, log?: string): void {
  if (r.status === 0) return;
  const tail = log && existsSync(log) ? `\n${readFileSync(log, 'utf8').slice(-2000)}` : '';
  throw new Error(`${what} failed (exit ${r.status}): ${r.stderr || r.stdout}${tail}`);
}

/**
 * Starts a new cluster. Options: `fsync` on or off (off by default: the suites kill clients, not the server,
 * and a server's page cache survives a client's death).
 */
export async function startPostgres(options: { fsync?: boolean } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(POSTGRES_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'otr4-pg-'));
  if (isRoot) {
    const ids = userIds('postgres');
    if (!ids) throw new Error(`${POSTGRES_MISSING} (no postgres user to run the server as)`);
    chownSync(dir, ids.uid, ids.gid);
  }
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  check(runAs(join(bin, 'initdb'), ['-D', data, '-U', 'otr', '-A', 'trust', '-E', 'UTF8', '--no-sync']), 'initdb');
  const port = await freePort();
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    `-c fsync=${options.fsync ? 'on' : 'off'}`,
    '-c max_connections=200',
  ].join(' ');
  check(runAs(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', serverOptions, '-w', '-t', '60', 'start']), 'pg_ctl start', log);
  let stopped = false;
  const stopSync = (): void => {
    if (stopped) return;
    stopped = true;
    runAs(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopSync);
  check(runAs(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'otr', '-d', 'postgres', '-c', 'CREATE DATABASE otr']), 'createdb');
  return {
    url: `postgres://otr@127.0.0.1:${port}/otr`,
    port,
    async stop() {
      process.removeListener('exit', stopSync);
      stopSync();
    },
  };
}
