/**
 * Drives bridge processes (examples/xmpp-bridge, `--json --wire`) for the XMPP tests: starts one per account
 * and resource against a Prosody from test/helpers/prosody.ts (state in a file, or `sqlite:PATH`), types commands into its stdin, and waits for
 * the JSON lines it prints. Every line is kept, so a test can check everything that crossed the bridge.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Prosody } from './helpers/prosody.js';

/** The compiled bridge (this file runs from build/test/). */
export const BRIDGE = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'xmpp-bridge', 'main.js');

export type Line = Record<string, unknown> & { type: string };

export class BridgeProc {
  readonly lines: Line[] = [];
  private proc: ChildProcessWithoutNullStreams;
  private buf = '';
  private stderr = '';
  private waiters = new Set<() => void>();
  exited = false;

  constructor(
    readonly name: string,
    server: Prosody,
    user: string,
    password: string,
    resource: string,
    statePath: string,
    env: Record<string, string> = {},
    extra: string[] = [],
  ) {
    const jid = `${user}@${server.domain}/${resource}`;
    // "sqlite:PATH" keeps the state in the SQLite record store; anything else is a state file.
    const where = statePath.startsWith('sqlite:') ? ['--store', statePath] : ['--state', statePath];
    this.proc = spawn(process.execPath, [BRIDGE, '--jid', jid, '--service', server.service, ...where, '--json', '--wire', ...extra], {
      env: { ...process.env, XMPP_PASSWORD: password, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const l = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        try {
          this.lines.push(JSON.parse(l) as Line);
        } catch {
          this.lines.push({ type: 'unparsed', text: l });
        }
      }
      for (const w of this.waiters) w();
    });
    this.proc.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.proc.on('error', (e) => (this.stderr += `spawn error: ${e.message}`));
    this.proc.on('exit', () => {
      this.exited = true;
      for (const w of this.waiters) w();
    });
    this.proc.stdin.on('error', () => {});
  }

  type(line: string): void {
    this.proc.stdin.write(line + '\n');
  }

  /** Waits for the `n`-th line (counting from `from`) that satisfies `pred`. */
  async waitFor(pred: (l: Line) => boolean, what: string, o: { from?: number; timeoutMs?: number } = {}): Promise<Line> {
    const deadline = Date.now() + (o.timeoutMs ?? 45_000);
    for (;;) {
      const hit = this.lines.slice(o.from ?? 0).find(pred);
      if (hit) return hit;
      if (this.exited) throw new Error(`${this.name} exited while waiting for ${what}:\n${this.dump()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no ${what} within ${(o.timeoutMs ?? 45_000) / 1000} s:\n${this.dump()}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, Math.max(1, deadline - Date.now()));
        this.waiters.add(done);
      });
    }
  }

  of(type: string): Line[] {
    return this.lines.filter((l) => l.type === type);
  }

  dump(): string {
    return `${this.lines.map((l) => (l.type === 'wire' ? `wire ${String(l.dir)} ${String(l.jid)} ${String(l.body).slice(0, 50)}` : JSON.stringify(l))).join('\n')}\nstderr: ${this.stderr}`;
  }

  /** kill -9: no chance to write anything more. */
  async kill9(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGKILL');
    await gone;
  }

  /** /quit, then SIGKILL if it does not exit within 5 s. */
  async quit(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.proc.once('exit', r));
    this.type('/quit');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
}

/**
 * The OTRv4 data messages among `bodies` (fragments reassembled), decoded: what a test needs to check that no
 * message key was used twice.
 */
export async function dataMessages(bodies: string[]): Promise<{ ecdh: string; messageId: number; ratchetId: number; ciphertext: string }[]> {
  const { dearmour } = await import('../ts/codec/armour.js');
  const { decodeDataMessage } = await import('../ts/wire/data.js');
  const whole: string[] = [];
  const parts = new Map<string, string[]>();
  for (const b of bodies) {
    const f = /^\?OTR\|([0-9a-f]+)\|([0-9a-f]+)\|([0-9a-f]+),(\d+),(\d+),([^,]*),$/i.exec(b);
    if (!f) {
      if (b.startsWith('?OTR:')) whole.push(b);
      continue;
    }
    const key = `${f[1]}|${f[2]}|${f[3]}`;
    const list = parts.get(key) ?? [];
    list[Number(f[4]) - 1] = f[6]!;
    parts.set(key, list);
    if (list.filter((p) => p !== undefined).length === Number(f[5])) {
      whole.push(list.join(''));
      parts.delete(key);
    }
  }
  const out = [];
  for (const w of whole) {
    const bytes = dearmour(w);
    if (bytes[2] !== 0x03) continue; // not a data message (DAKE messages)
    const m = decodeDataMessage(bytes);
    out.push({ ecdh: Buffer.from(m.ecdh).toString('hex'), messageId: m.messageId, ratchetId: m.ratchetId, ciphertext: Buffer.from(m.ciphertext).toString('hex') });
  }
  return out;
}

export const wireOut = (p: BridgeProc): string[] => p.lines.filter((l) => l.type === 'wire' && l.dir === 'out').map((l) => String(l.body));
