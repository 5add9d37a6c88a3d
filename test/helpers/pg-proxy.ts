/**
 * A TCP proxy in front of a PostgreSQL server that can lose one message of the wire protocol on purpose, to
 * drive a commit whose outcome the client cannot know (test/attacks/s9-postgres.test.ts):
 *   - 'request': the client's matching message (e.g. the COMMIT) never reaches the server; both sockets close.
 *     The server sees its client vanish mid-transaction and rolls back.
 *   - 'reply': the matching message is forwarded, and the server's first bytes after it (its reply: the
 *     server answers only once it has executed, and for a COMMIT or an autocommitted statement after the
 *     commit) are dropped, and both sockets close. The client sees the connection die; the server committed.
 * `refuse` makes the proxy close every new connection at once (the database unreachable afterwards).
 *
 * The client's stream is parsed into messages (the startup message has no type byte; every later one is a type
 * byte and a 32-bit length that counts itself), so the match is on whole messages, not on bytes in a chunk.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface PgMessage {
  readonly type: string;
  readonly body: Buffer;
}

export interface PgProxy {
  readonly url: string;
  /**
   * Loses the next client message for which `match` holds, as `lose` says (see `lost`). With `thenRefuse`, the
   * loss also closes every other connection and sets `refuse`: nothing can be asked of the server afterwards.
   */
  arm(match: (m: PgMessage) => boolean, lose: 'request' | 'reply', thenRefuse?: boolean): void;
  /** How many messages were lost so far (a test checks its arm fired). */
  readonly lost: number;
  /** Whether new connections are closed at once. */
  refuse: boolean;
  close(): Promise<void>;
}

/** The SQL text of a simple query ('Q'), else undefined. */
export function queryText(m: PgMessage): string | undefined {
  return m.type === 'Q' ? m.body.subarray(0, m.body.indexOf(0)).toString('utf8') : undefined;
}

/** The prepared statement a Bind ('B') names (after the portal name), else undefined. */
export function boundStatement(m: PgMessage): string | undefined {
  if (m.type !== 'B') return undefined;
  const portalEnd = m.body.indexOf(0);
  return m.body.subarray(portalEnd + 1, m.body.indexOf(0, portalEnd + 1)).toString('utf8');
}

export async function startPgProxy(serverUrl: string): Promise<PgProxy> {
  const target = new URL(serverUrl);
  const sockets = new Set<Socket>();
  let armed: { match: (m: PgMessage) => boolean; lose: 'request' | 'reply'; thenRefuse: boolean } | undefined;
  let refuseOnCut = false;
  let lost = 0;
  const proxy = { refuse: false };

  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (proxy.refuse) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    let pending = Buffer.alloc(0);
    let started = false;
    let cutReply = false;
    const cut = () => {
      lost++;
      client.destroy();
      upstream.destroy();
      if (refuseOnCut) {
        proxy.refuse = true;
        for (const s of sockets) s.destroy();
      }
    };
    upstream.on('data', (d: Buffer) => {
      if (cutReply) cut();
      else client.write(d);
    });
    client.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      // Forward whole messages, one at a time, so that a lost one is lost exactly.
      for (;;) {
        const head = started ? 5 : 4;
        if (pending.length < head) return;
        const length = pending.readUInt32BE(started ? 1 : 0);
        const total = (started ? 1 : 0) + length;
        if (pending.length < total) return;
        const raw = pending.subarray(0, total);
        pending = pending.subarray(total);
        const message: PgMessage = started ? { type: String.fromCharCode(raw[0]!), body: raw.subarray(5) } : { type: '', body: raw.subarray(4) };
        started = true;
        if (armed && armed.match(message)) {
          const lose = armed.lose;
          refuseOnCut = armed.thenRefuse;
          armed = undefined;
          if (lose === 'request') return cut();
          cutReply = true;
        }
        upstream.write(raw);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = new URL(serverUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    arm(match: (m: PgMessage) => boolean, lose: 'request' | 'reply', thenRefuse = false) {
      armed = { match, lose, thenRefuse };
    },
    get lost() {
      return lost;
    },
    get refuse() {
      return proxy.refuse;
    },
    set refuse(v: boolean) {
      proxy.refuse = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
