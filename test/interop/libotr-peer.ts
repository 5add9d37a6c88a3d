/**
 * Drives test/interop/peer.c (a libotr 4.1.x client) over stdin/stdout for test/v3-interop.test.ts: builds it
 * with test/interop/build.sh, spawns it, sends one command per line and collects its output lines up to
 * "done". Messages are escaped the way peer.c expects (backslash and newline).
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file runs from build/test/interop/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const PEER_BIN = join(ROOT, 'build', 'test', 'interop', 'peer');

/** The Debian packages the peer is built from (all listed in .ci/apt-packages, which `npm test` installs). */
export const PEER_PACKAGES = 'gcc libc6-dev pkg-config libotr5-dev libgcrypt20-dev';
export const PEER_INSTALL = `apt-get install -y --no-install-recommends ${PEER_PACKAGES}`;

let buildResult: { ok: boolean; output: string } | undefined;

/**
 * Compiles the peer (once per process); on failure returns the compiler's output with the packages to install,
 * and every later LibotrPeer.start() fails with that message, so each test fails on its own and says why.
 */
export function buildPeer(): { ok: boolean; output: string } {
  const r = spawnSync('sh', [join(ROOT, 'test', 'interop', 'build.sh'), PEER_BIN], { encoding: 'utf8' });
  const ok = r.status === 0 && existsSync(PEER_BIN);
  const output = `${r.error?.message ?? ''}${r.stdout ?? ''}${r.stderr ?? ''}`;
  buildResult = {
    ok,
    output: ok ? output : `${output.trim()}\nThe libotr peer needs the Debian packages ${PEER_PACKAGES}: ${PEER_INSTALL}`,
  };
  return buildResult;
}

const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const unesc = (s: string): string => s.replace(/\\(n|\\)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));

export interface PeerOutput {
  /** Messages libotr put on the network. */
  send: string[];
  /** Messages libotr showed its user. */
  user: string[];
  /** "event …" lines, without the "event " prefix. */
  events: string[];
  /** Other result lines (symkey, status). */
  other: string[];
}

export class LibotrPeer {
  private proc: ChildProcessWithoutNullStreams;
  private buf = '';
  private lines: string[] = [];
  private waiter: (() => void) | null = null;
  private dir: string;
  /** Set when the process could not be started or failed later ('error' event): reported by the next read. */
  private failure: Error | null = null;
  fingerprint = '';
  instanceTag = 0;

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'otr3-peer-'));
    this.proc = spawn(PEER_BIN, [this.dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      this.waiter?.();
    });
    this.proc.on('exit', () => this.waiter?.());
    // Without this listener a spawn failure (ENOENT, EACCES) is an uncaught exception that ends the whole run.
    this.proc.on('error', (e) => {
      this.failure = e;
      this.waiter?.();
    });
    this.proc.stdin.on('error', (e) => {
      this.failure ??= e;
    });
  }

  static async start(): Promise<LibotrPeer> {
    if (buildResult && !buildResult.ok)
      throw new Error(`the libotr peer was not built (the first test shows why); it needs ${PEER_PACKAGES}: ${PEER_INSTALL}`);
    if (!existsSync(PEER_BIN)) throw new Error(`the libotr peer ${PEER_BIN} does not exist; it needs ${PEER_PACKAGES}: ${PEER_INSTALL}`);
    const p = new LibotrPeer();
    const ready = await p.readUntil((l) => l.startsWith('ready '));
    const [, fp, tag] = ready[ready.length - 1]!.split(' ');
    p.fingerprint = fp!;
    p.instanceTag = parseInt(tag!, 16);
    return p;
  }

  private async readUntil(stop: (line: string) => boolean, timeoutMs = 15000): Promise<string[]> {
    const out: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.lines.length) {
        const l = this.lines.shift()!;
        out.push(l);
        if (stop(l)) return out;
      }
      if (this.failure) throw new Error(`libotr peer failed (${this.failure.message}) after: ${out.join(' | ')}`);
      if (this.proc.exitCode !== null) throw new Error(`libotr peer exited (${this.proc.exitCode}) after: ${out.join(' | ')}`);
      if (Date.now() > deadline) throw new Error(`libotr peer timed out after: ${out.join(' | ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  /** Runs one command and sorts its output. */
  async cmd(line: string): Promise<PeerOutput> {
    this.proc.stdin.write(esc(line) + '\n');
    const lines = await this.readUntil((l) => l === 'done');
    const o: PeerOutput = { send: [], user: [], events: [], other: [] };
    for (const l of lines.slice(0, -1)) {
      if (l.startsWith('send ')) o.send.push(unesc(l.slice(5)));
      else if (l.startsWith('user ')) o.user.push(unesc(l.slice(5)));
      else if (l.startsWith('event ')) o.events.push(unesc(l.slice(6)));
      else o.other.push(l);
    }
    return o;
  }

  async close(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.pid !== undefined) {
      this.proc.stdin.write('quit\n');
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.proc.kill();
          resolve();
        }, 2000);
        this.proc.on('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
