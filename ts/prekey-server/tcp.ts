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
 * front end — not the open internet. One request at a time per connection (the spec's synchronous model):
 * a connection's next line is read only after the previous reply is written.
 *
 * Bounds: at most `maxConnections` sockets (more are closed at once), lines of at most the server's message
 * limit plus the identity (a longer line gets "!LIMIT_EXCEEDED" and the socket is closed), no reading while
 * a request is handled (so pipelined lines queue in the kernel, not in memory), idle sockets closed after `idleMs`.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { OtrError, type OtrErrorCode } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { PrekeyServer } from './server.js';

export interface TcpServerOptions {
  readonly port?: number;
  readonly host?: string;
  readonly maxConnections?: number;
  readonly maxLineChars?: number;
  readonly idleMs?: number;
}

export interface RunningTcpServer {
  readonly port: number;
  readonly server: Server;
  /** Open sockets right now. */
  connections(): number;
  close(): Promise<void>;
}

export async function listenTcp(core: PrekeyServer, o: TcpServerOptions = {}): Promise<RunningTcpServer> {
  const maxConnections = o.maxConnections ?? DEFAULT_LIMITS.maxConnections;
  const maxLine = o.maxLineChars ?? DEFAULT_LIMITS.maxServerMessageChars + DEFAULT_LIMITS.maxIdentityBytes + 2;
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    if (sockets.size >= maxConnections) {
      sock.destroy();
      return;
    }
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setEncoding('utf8');
    sock.setTimeout(o.idleMs ?? DEFAULT_LIMITS.serverIdleMs, () => sock.destroy());
    let buf = '';
    let busy = false;
    const pump = async () => {
      if (busy) return;
      busy = true;
      // Read nothing more while lines wait: otherwise a client that pipelines short lines without waiting for
      // replies grows `buf` without bound (the length check below only catches one overlong line).
      sock.pause();
      try {
        for (let nl = buf.indexOf('\n'); nl >= 0 && !sock.destroyed; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const tab = line.indexOf('\t');
          let out: string;
          if (tab <= 0) out = '!MALFORMED expected <identity> TAB <message>';
          else {
            const r = await core.handleText(line.slice(0, tab), line.slice(tab + 1));
            out = r.reply ?? `!${r.error?.code ?? 'STATE'} ${(r.error?.message ?? 'no reply').replace(/[\r\n]/g, ' ')}`;
          }
          if (!sock.destroyed) sock.write(out + '\n');
        }
      } catch {
        sock.destroy();
      } finally {
        busy = false;
      }
      if (buf.indexOf('\n') >= 0) void pump();
      else if (!sock.destroyed) sock.resume();
    };
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > maxLine && buf.indexOf('\n') < 0) {
        sock.end('!LIMIT_EXCEEDED line too long\n');
        sock.destroy();
        return;
      }
      void pump();
    });
  });
  server.maxConnections = maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    server,
    connections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
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
