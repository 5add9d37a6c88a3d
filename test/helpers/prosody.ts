/**
 * A private Prosody XMPP server for one test file: its own config, data and log in a temporary folder, c2s on a
 * random free loopback port (no s2s, no HTTP, no admin socket), accounts created through prosodyctl with that
 * same config, a clean shutdown (SIGTERM, then SIGKILL after 5 s) and the folder removed.
 *
 * Prosody refuses to run as root: as root both prosody and prosodyctl run as the `prosody` user the Debian
 * package creates (Node's spawn uid/gid, which also drops supplementary groups); as any other user they run as
 * that user. A missing Prosody makes start() throw an error naming the package and its install command.
 * OTR_PROSODY / OTR_PROSODYCTL point at other binaries (the commands test points them at nothing).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROSODY = process.env.OTR_PROSODY ?? '/usr/bin/prosody';
export const PROSODYCTL = process.env.OTR_PROSODYCTL ?? '/usr/bin/prosodyctl';
export const PROSODY_INSTALL = 'apt-get install -y --no-install-recommends prosody';

export interface ProsodyOptions {
  /** The virtual host (accounts are user@domain). */
  domain?: string;
  /** c2s_stanza_size_limit in bytes (Prosody's minimum is 10000). */
  stanzaSizeLimit?: number;
}

export interface Prosody {
  readonly domain: string;
  readonly port: number;
  /** xmpp://127.0.0.1:<port>, for @xmpp/client's `service`. */
  readonly service: string;
  readonly stanzaSizeLimit: number;
  readonly dir: string;
  /** Creates an account with prosodyctl (same config); resolves when it exists. */
  addUser(user: string, password: string): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** A loopback port nobody listens on right now (Prosody binds it a moment later; start() retries a clash). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** uid/gid to run as: the `prosody` user when we are root, else ourselves (undefined). */
function runAs(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const r = spawnSync('getent', ['passwd', 'prosody'], { encoding: 'utf8' });
  const f = r.stdout?.trim().split(':');
  if (r.status !== 0 || !f || f.length < 4)
    throw new Error(`running as root, but there is no "prosody" user to run Prosody as (it comes with the Debian package): ${PROSODY_INSTALL}`);
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

const lua = (s: string): string => JSON.stringify(s); // a Lua string literal (same escapes for these paths)

function config(dir: string, domain: string, port: number, limit: number): string {
  return `-- written by test/helpers/prosody.ts for one test run
pidfile = ${lua(join(dir, 'prosody.pid'))}
data_path = ${lua(join(dir, 'data'))}
certificates = ${lua(join(dir, 'certs'))}
log = { { levels = { min = "${process.env.OTR_PROSODY_DEBUG ? "debug" : "info"}" }, to = "file", filename = ${lua(join(dir, 'prosody.log'))} } }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
c2s_direct_tls_ports = { }
s2s_ports = { }
http_ports = { }
https_ports = { }
-- Loopback only, no certificates: SCRAM-SHA-1 over plain TCP (the client never uses PLAIN unencrypted).
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = false
authentication = "internal_hashed"
-- A throwaway loopback server whose stored keys protect nothing: few SCRAM rounds, because @xmpp/client
-- computes them with one WebCrypto call each, which on a loaded 2-core machine takes seconds at Prosody's 10000.
default_iteration_count = 1024
storage = "internal"
c2s_stanza_size_limit = ${limit}
modules_enabled = { "roster", "saslauth", "disco", "ping", "offline" }
modules_disabled = { "s2s", "s2s_auth_certs", "tls", "admin_socket", "carbons" }
VirtualHost ${lua(domain)}
`;
}

export async function startProsody(o: ProsodyOptions = {}): Promise<Prosody> {
  for (const [bin, what] of [
    [PROSODY, 'prosody'],
    [PROSODYCTL, 'prosodyctl'],
  ] as const)
    if (!existsSync(bin)) throw new Error(`${what} not found at ${bin}. The XMPP tests need the Debian package prosody: ${PROSODY_INSTALL} (it is listed in .ci/apt-packages)`);
  const domain = o.domain ?? 'localhost';
  const limit = o.stanzaSizeLimit ?? 10_000;
  const owner = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'otr4-prosody-'));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'certs')); // none: loopback only; the empty folder spares a startup error in the log
  if (owner) for (const p of [dir, join(dir, 'data'), join(dir, 'certs')]) chownSync(p, owner.uid, owner.gid);
  const cfg = join(dir, 'prosody.cfg.lua');
  const logFile = join(dir, 'prosody.log');
  const readLog = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const spawnOpts = { cwd: dir, ...(owner ?? {}), env: { ...process.env, HOME: dir } };

  let proc: ChildProcess | undefined;
  let port = 0;
  let output = '';
  // A port picked free can be taken before Prosody binds it: try a few.
  for (let attempt = 0; attempt < 4 && !proc; attempt++) {
    port = await freePort();
    writeFileSync(cfg, config(dir, domain, port, limit), { mode: 0o644 });
    const p = spawn(PROSODY, ['--config', cfg, '-F'], { ...spawnOpts, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    let spawnError: Error | undefined;
    p.on('error', (e) => (spawnError = e));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (spawnError || p.exitCode !== null || p.signalCode !== null) break;
      // Listening on the port is not enough: another program may have taken it between freePort() and the bind.
      if (readLog().includes(`Activated service 'c2s' on [127.0.0.1]:${port}`) && (await canConnect(port))) {
        proc = p;
        break;
      }
      if (/Failed to open server port/i.test(readLog())) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!proc) {
      p.kill('SIGKILL');
      if (spawnError) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`could not start ${PROSODY}: ${spawnError.message}. ${PROSODY_INSTALL}`);
      }
      if (!/Failed to open server port|address already in use/i.test(readLog() + output)) {
        const why = `Prosody did not start listening on 127.0.0.1:${port}:\n${output}\n${readLog()}`;
        rmSync(dir, { recursive: true, force: true });
        throw new Error(why);
      }
    }
  }
  if (!proc) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Prosody found no free port in 4 attempts:\n${readLog()}`);
  }
  const server = proc;
  const exited = new Promise<void>((resolve) => {
    if (server.exitCode !== null) resolve();
    else server.once('exit', () => resolve());
  });

  return {
    domain,
    port,
    service: `xmpp://127.0.0.1:${port}`,
    stanzaSizeLimit: limit,
    dir,
    log: readLog,
    addUser(user, password) {
      return new Promise((resolve, reject) => {
        const c = spawn(PROSODYCTL, ['--config', cfg, 'register', user, domain, password], { ...spawnOpts, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
        c.on('error', (e) => reject(new Error(`could not run ${PROSODYCTL}: ${e.message}. ${PROSODY_INSTALL}`)));
        c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`prosodyctl register ${user}@${domain} exited with ${code}:\n${out}`))));
      });
    },
    async stop() {
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGTERM');
        const t = setTimeout(() => server.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
