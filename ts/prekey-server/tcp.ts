/**
 * The reference server's transport: TCP (node:net), newline-delimited UTF-8 frames. Node only.
 *
 *   client → server:  <identity> TAB <prekey-server message: base64 ".">  LF
 *   server → client:  <prekey-server message>  LF          (the protocol's reply)
 *                   | "!" <OtrErrorCode> " " <reason>  LF   (the protocol sends nothing: a transport-level
 *                                                          notice so a synchronous client need not time out)
 *
 * `<identity>` is the sender's network identity (what an XMPP server would authenticate as the bare JID);
 * this transport takes it as claimed, so it suits loopback, tests and deployments behind an authenticating
 * front end — not the open internet. Because the claim is free, the rate limits are keyed on the remote
 * address (an IPv6 /64 counts as one address), passed to the core as `requester`. One request at a time per
 * connection (the spec's synchronous model): a connection's next line is read only after the previous reply
 * is written.
 *
 * Bounds (ts/limits.ts): at most `maxConnections` sockets and `maxConnectionsPerAddress` from one address
 * (more are closed at once); lines of at most the server's message limit plus the identity (a longer line
 * gets "!LIMIT_EXCEEDED" and the socket is closed); no reading while a request is handled (so pipelined lines
 * queue in the kernel, not in memory). Time: a connection waiting for a request is closed after `idleMs`
 * without a byte, and a request line must be complete within `lineDeadlineMs` of its first byte — a deadline
 * for the whole line, not an idle timer that each trickled byte would reset (slow-loris).
 *
 * `drain()` stops accepting, closes waiting connections, lets each busy one finish the request it is
 * handling (its reply is written), then closes it.
 */
import { createConnection, createServer, isIPv6, type Server, type Socket } from 'node:net';
import { OtrError, type OtrErrorCode } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { PrekeyServer, ServerReply } from './server.js';

export interface TcpServerOptions {
  readonly port?: number;
  readonly host?: string;
  readonly maxConnections?: number;
  readonly maxConnectionsPerAddress?: number;
  readonly maxLineChars?: number;
  /** Close a connection that sends nothing for this long while no request is in hand. */
  readonly idleMs?: number;
  /** Close a connection whose request line is not complete this long after its first byte. */
  readonly lineDeadlineMs?: number;
  /** Called after each request is answered (for the operator's counters and log). */
  readonly onRequest?: (r: Omit<ServerReply, 'reply'> & { readonly replied: boolean }) => void;
}

export interface RunningTcpServer {
  readonly port: number;
  readonly server: Server;
  /** Open sockets right now. */
  connections(): number;
  /** Stops accepting and closes every connection once it has answered the request in hand. */
  drain(): Promise<void>;
  /** Closes everything at once. */
  close(): Promise<void>;
}

/** The key a remote address counts under: the address, or its /64 for IPv6 (one subscriber's usual share). */
export function addressKey(remote: string | undefined): string {
  if (!remote) return '?';
  if (remote.startsWith('::ffff:') && remote.includes('.')) return remote.slice(7);
  if (!isIPv6(remote)) return remote;
  const [head = '', tail = ''] = remote.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = remote.includes('::') ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g || '0', 16).toString(16)).join(':')}::/64`;
}

interface Conn {
  readonly sock: Socket;
  busy: boolean;
}

export async function listenTcp(core: PrekeyServer, o: TcpServerOptions = {}): Promise<RunningTcpServer> {
  const maxConnections = o.maxConnections ?? DEFAULT_LIMITS.maxConnections;
  const perAddress = o.maxConnectionsPerAddress ?? DEFAULT_LIMITS.maxConnectionsPerAddress;
  const maxLine = o.maxLineChars ?? DEFAULT_LIMITS.maxServerMessageChars + DEFAULT_LIMITS.maxIdentityBytes + 2;
  const idleMs = o.idleMs ?? DEFAULT_LIMITS.serverIdleMs;
  const lineMs = o.lineDeadlineMs ?? DEFAULT_LIMITS.serverLineDeadlineMs;
  const conns = new Set<Conn>();
  const byAddress = new Map<string, number>();
  let draining = false;
  let drained: (() => void) | null = null;
  const checkDrained = () => {
    if (draining && conns.size === 0) drained?.();
  };

  const server = createServer((sock) => {
    const addr = addressKey(sock.remoteAddress);
    const fromAddr = byAddress.get(addr) ?? 0;
    if (draining || conns.size >= maxConnections || fromAddr >= perAddress) {
      sock.destroy();
      return;
    }
    byAddress.set(addr, fromAddr + 1);
    const conn: Conn = { sock, busy: false };
    conns.add(conn);
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => sock.destroy(), Math.max(0, ms));
    };
    /**
     * When the first byte of the pending (incomplete) line arrived, on performance.now: on the wall clock an NTP
     * step back mid-line added the step to the deadline (a slow-loris slot held an hour), a step forward cut an
     * honest line (attacks/s14-clock-tcp-deadline).
     */
    let lineStart = 0;
    /** Characters after the last newline received (the line being received). */
    let partial = 0;
    sock.on('close', () => {
      clearTimeout(timer);
      conns.delete(conn);
      const n = (byAddress.get(addr) ?? 1) - 1;
      if (n > 0) byAddress.set(addr, n);
      else byAddress.delete(addr);
      checkDrained();
    });
    sock.on('error', () => sock.destroy());
    sock.setEncoding('utf8');
    arm(idleMs);
    let buf = '';
    const pump = async () => {
      if (conn.busy) return;
      conn.busy = true;
      clearTimeout(timer); // the server's turn: our own work never counts against the client
      // Read nothing more while lines wait: otherwise a client that pipelines short lines without waiting for
      // replies grows `buf` without bound (the length check below only catches one overlong line).
      sock.pause();
      try {
        for (let nl = buf.indexOf('\n'); nl >= 0 && !sock.destroyed; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          // A line that arrived whole (its newline in the same chunk) escapes the length check in 'data',
          // which counts only the unfinished tail: the bound applies to every line, complete or not.
          if (line.length > maxLine) {
            sock.end('!LIMIT_EXCEEDED line too long\n');
            sock.destroy();
            break;
          }
          const tab = line.indexOf('\t');
          let out: string;
          if (tab <= 0) {
            out = '!MALFORMED expected <identity> TAB <message>';
            o.onRequest?.({ request: 'invalid', replied: false });
          } else {
            const { reply, ...rest } = await core.handleText(line.slice(0, tab), line.slice(tab + 1), { requester: addr });
            out = reply ?? `!${rest.error?.code ?? 'STATE'} ${(rest.error?.message ?? 'no reply').replace(/[\r\n]/g, ' ')}`;
            o.onRequest?.({ ...rest, replied: reply !== undefined });
          }
          if (!sock.destroyed) sock.write(out + '\n');
          if (draining) break;
        }
      } catch {
        sock.destroy();
      } finally {
        conn.busy = false;
      }
      if (sock.destroyed) return;
      if (draining) {
        sock.end(() => sock.destroy());
        return;
      }
      if (buf.indexOf('\n') >= 0) void pump();
      else {
        // Waiting again: a started line keeps the deadline it had (pipelined bytes started it now), an empty
        // buffer gets the idle timer.
        if (buf.length > 0) {
          lineStart = performance.now();
          arm(lineMs);
        } else arm(idleMs);
        sock.resume();
      }
    };
    sock.on('data', (chunk: string) => {
      if (buf.length === 0 && chunk.length > 0) {
        // A new line starts: its deadline runs from now and later bytes do not extend it.
        lineStart = performance.now();
        if (!conn.busy) arm(lineMs);
      }
      // Only the new chunk is searched: scanning the whole buffer per chunk would be quadratic in a trickled line.
      const nl = chunk.lastIndexOf('\n');
      const complete = nl >= 0;
      partial = complete ? chunk.length - nl - 1 : partial + chunk.length;
      buf += chunk;
      if (partial > maxLine) {
        sock.end('!LIMIT_EXCEEDED line too long\n');
        sock.destroy();
        return;
      }
      if (complete) void pump();
      else if (!conn.busy) arm(lineMs - (performance.now() - lineStart));
    });
  });
  server.maxConnections = maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  return {
    port,
    server,
    connections: () => conns.size,
    async drain() {
      draining = true;
      server.close();
      const all = new Promise<void>((resolve) => {
        drained = resolve;
      });
      for (const c of conns) if (!c.busy) c.sock.end(() => c.sock.destroy());
      checkDrained();
      await all;
      await closed;
    },
    async close() {
      draining = true;
      server.close();
      for (const c of conns) c.sock.destroy();
      await closed;
    },
  };
}

/** A transport-level refusal ("!CODE reason"), surfaced to clients as an OtrError with that code. */
export class TransportRefusal extends OtrError {
  constructor(code: OtrErrorCode, message: string) {
    super(code, message);
    this.name = 'TransportRefusal';
  }
}

/** A client connection: one request at a time, replies matched in order. */
export class TcpPrekeyClient {
  private buf = '';
  private waiters: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  private closedError: Error | null = null;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => {
      this.buf += c;
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiters.shift()?.resolve(line);
      }
    });
    const fail = (e: Error) => {
      this.closedError = e;
      for (const w of this.waiters.splice(0)) w.reject(e);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('connection closed')));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<TcpPrekeyClient> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ port, host }, () => resolve(new TcpPrekeyClient(s)));
      s.once('error', reject);
    });
  }

  /**
   * Sends one message as `identity`; resolves with the reply text, or rejects with a TransportRefusal. With
   * no reply within `timeoutMs` the connection is closed (replies are matched by order, so it cannot be
   * reused) and every pending request rejects.
   */
  request(identity: string, text: string, timeoutMs = DEFAULT_LIMITS.serverIdleMs): Promise<string> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => this.sock.destroy(new Error('prekey server did not answer in time')), timeoutMs);
      this.waiters.push({
        resolve: (line) => {
          clearTimeout(timer);
          if (line.startsWith('!')) {
            const sp = line.indexOf(' ');
            const code = (sp > 0 ? line.slice(1, sp) : line.slice(1)) as OtrError['code'];
            reject(new TransportRefusal(code, sp > 0 ? line.slice(sp + 1) : 'refused'));
          } else resolve(line);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.sock.write(`${identity}\t${text}\n`);
    });
  }

  /** A transport function for flows.ts, bound to one identity. */
  as(identity: string): (text: string) => Promise<string> {
    return (text) => this.request(identity, text);
  }

  close(): void {
    this.sock.destroy();
  }
}
