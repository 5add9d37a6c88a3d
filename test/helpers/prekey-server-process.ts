/**
 * The reference prekey server (build/examples/prekey-server.js) as a real child process, for the suites that
 * test it as an operator would run it: started with the given options, ready once its JSON "listening" line
 * is out; every stdout line kept; killed with any signal; and every process started here is SIGKILLed by
 * `killAllServers()` so a failing test never leaves one running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hexToBytes } from '../../ts/bytes.js';
import type { PsServerInfo } from '../../ts/prekey-server/client.js';

export const SERVER_JS = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'examples', 'prekey-server.js');

/** Options that switch the rate limits and per-address caps out of the way (a load test comes from one address). */
export const UNLIMITED = ['--fetch-burst', '1000000', '--fetch-rate', '100000', '--target-burst', '1000000', '--target-rate', '100000', '--publish-burst', '100000', '--publish-rate', '100000', '--publish-prekeys-burst', '1000000', '--publish-prekeys-rate', '100000', '--max-connections-per-address', '1000'];

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly info: PsServerInfo;
  /** Every stdout line so far (the first is the words line, the second the JSON listening line). */
  readonly lines: string[];
  /** Resolves with the exit code (null if killed by a signal) and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

const children = new Set<ChildProcess>();

export function startServer(args: readonly string[], identity = 'prekey.test'): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER_JS, '--port', '0', '--identity', identity, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const lines: string[] = [];
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => (err += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      out += c;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const l = out.slice(0, nl);
        out = out.slice(nl + 1);
        lines.push(l);
        if (l.startsWith('{') && (JSON.parse(l) as { event?: string }).event === 'listening') {
          clearTimeout(timer);
          const j = JSON.parse(l) as { port: number; publicKey: string };
          resolve({ child, port: j.port, info: { identity, publicKey: hexToBytes(j.publicKey) }, lines, exited, stderr: () => err });
        }
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`server exited (${code ?? signal}) before listening: ${lines.join('\n')} ${err}`)));
  });
}

export function killServer(p: { child: ChildProcess }, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    p.child.kill(signal);
  });
}

export async function killAllServers(): Promise<void> {
  await Promise.all([...children].map((child) => killServer({ child })));
}
