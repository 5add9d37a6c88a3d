/**
 * A TCP proxy in front of a PostgreSQL server that can lose one message of the wire protocol on purpose, to
 * drive a commit whose outcome the client cannot know (test/attacks/s9-postgres.test.ts, s10-pg-xact.test.ts):
 *   - 'request': the client's matching message (e.g. the COMMIT) never reaches the server; both sockets close.
 *     The server sees its client vanish mid-transaction and rolls back.
 *   - 'reply': the matching message is forwarded, and the server's first bytes after it (its reply: the
 *     server answers only once it has executed, and for a COMMIT or an autocommitted statement after the
 *     commit) are dropped, and both sockets close. The client sees the connection die; the server committed.
 *   - 'detach': as a pooler does when its client vanishes (session 9 review): the client's connection closes at
 *     once, but the matching message still reaches the server a little later (`detachDelayMs`) on the server
 *     connection, which is closed only after the server answered it. The server commits after the client saw
 *     its connection die.
 *   - 'hold' (session 10): the client's connection closes at once, the matching message is never sent, and the
 *     server connection is kept open: the server's transaction stays open (idle in transaction) until its
 *     process is ended, as behind a pooler that keeps a vanished client's server connection.
 * `onLost`, when set, runs once the message is lost and the server connections are closed, before the client
 * sees its own connection close: another writer acting "between the lost commit and the settle read".
 * `rewrite`, when set, sees (and may replace) every server message before the client does: a pooler that lies.
 * `refuse` makes the proxy close every new connection at once (the database unreachable afterwards).
 * `fakeBackendPid` replaces the server process id in BackendKeyData with another, as a pooler's own cancel key
 * does (the client then knows no process of the server).
 * `movesSessions` (an option of startPgProxy) makes the proxy act like a pooler in transaction mode: each client
 * connection has two server connections, and whenever the server says it is idle (ReadyForQuery 'I', outside a
 * transaction) the client's next message goes to the other one. A transaction stays on one server connection;
 * two transactions of one client run in two server processes.
 *
 * The client's stream is parsed into messages (the startup message has no type byte; every later one is a type
 * byte and a 32-bit length that counts itself), so the match is on whole messages, not on bytes in a chunk; the
 * server's stream too (BackendKeyData rewritten, ReadyForQuery read).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface PgMessage {
  readonly type: string;
  readonly body: Buffer;
}

type Loss = 'request' | 'reply' | 'detach' | 'hold';

export interface PgProxy {
  readonly url: string;
  /**
   * Loses the next client message for which `match` holds, as `lose` says (see `lost`). With `thenRefuse`, the
   * loss also closes every other connection and sets `refuse`: nothing can be asked of the server afterwards.
   */
  arm(match: (m: PgMessage) => boolean, lose: Loss, thenRefuse?: boolean): void;
  /** How many messages were lost so far (a test checks its arm fired). */
  readonly lost: number;
  /** Whether new connections are closed at once. */
  refuse: boolean;
  /** When set: the process id every later connection is told in BackendKeyData. */
  fakeBackendPid: number | undefined;
  /** How long a 'detach' holds its message before the server gets it. */
  detachDelayMs: number;
  /** When set: awaited after a loss, before the client's connection is closed (then cleared). */
  onLost: (() => Promise<void>) | undefined;
  /** When set: every later server message to a client passes through it (a hostile pooler's rewriting). */
  rewrite: ((type: string, raw: Buffer) => Buffer) | undefined;
  /** How many times a client's messages moved to its other server connection (movesSessions). */
  readonly moves: number;
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

/** Splits a stream of typed messages (type byte, 32-bit length counting itself) into whole messages. */
function framer(each: (type: string, raw: Buffer) => void): (d: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (d) => {
    pending = pending.length === 0 ? d : Buffer.concat([pending, d]);
    for (;;) {
      if (pending.length < 5) return;
      const total = 1 + pending.readUInt32BE(1);
      if (pending.length < total) return;
      const raw = pending.subarray(0, total);
      pending = pending.subarray(total);
      each(String.fromCharCode(raw[0]!), raw);
    }
  };
}

export async function startPgProxy(serverUrl: string, options: { movesSessions?: boolean } = {}): Promise<PgProxy> {
  const target = new URL(serverUrl);
  const sockets = new Set<Socket>();
  let armed: { match: (m: PgMessage) => boolean; lose: Loss; thenRefuse: boolean } | undefined;
  let refuseOnCut = false;
  let lost = 0;
  let moves = 0;
  const proxy = {
    refuse: false,
    fakeBackendPid: undefined as number | undefined,
    detachDelayMs: 300,
    onLost: undefined as (() => Promise<void>) | undefined,
    rewrite: undefined as ((type: string, raw: Buffer) => Buffer) | undefined,
  };

  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (proxy.refuse) {
      client.destroy();
      return;
    }
    const fakePid = proxy.fakeBackendPid;
    const upstreams: Socket[] = [];
    let active = 0;
    // The server said it is outside a transaction: a session-moving pooler may switch connections now.
    let idle = false;
    // A server connection carrying on (detach) or kept (hold) for a client that is gone.
    let orphan: Socket | undefined;
    let cutReply = false;
    let cutting = false;
    // After a 'detach' or 'hold': where the client's later messages go (carried later, or nowhere).
    let carry: ((raw: Buffer) => void) | undefined;

    const cut = () => {
      if (cutting) return;
      cutting = true;
      lost++;
      for (const u of upstreams) u.destroy();
      const hook = proxy.onLost;
      proxy.onLost = undefined;
      const finish = () => {
        client.destroy();
        if (refuseOnCut) {
          proxy.refuse = true;
          for (const s of sockets) s.destroy();
        }
      };
      if (hook) void hook().then(finish, finish);
      else finish();
    };
    /** The client vanished (as the proxy made it): its server connection `u` lives on (hook first, if any). */
    const orphanAndClose = (u: Socket) => {
      lost++;
      cutting = true;
      orphan = u;
      for (const other of upstreams) if (other !== u) other.destroy();
      const hook = proxy.onLost;
      proxy.onLost = undefined;
      if (hook) void hook().then(() => client.destroy(), () => client.destroy());
      else client.destroy();
    };

    const open = (index: number): Socket => {
      const u = connect(Number(target.port), target.hostname);
      sockets.add(u);
      upstreams.push(u);
      // A server connection that closes closes the client's — unless the proxy closed it on purpose.
      u.on('close', () => {
        sockets.delete(u);
        if (u !== orphan && !cutting) client.destroy();
      });
      u.on('error', () => {
        if (u !== orphan && !cutting) client.destroy();
      });
      // The second server connection's greeting is the pooler's business: swallowed up to its ReadyForQuery.
      let greeting = index > 0;
      u.on(
        'data',
        framer((type, raw) => {
          if (u === orphan) {
            if (type === 'Z') u.destroy(); // the server answered: the pooler drops the connection
            return;
          }
          if (greeting) {
            if (type === 'Z') greeting = false;
            return;
          }
          if (cutReply) return cut();
          if (type === 'K' && fakePid !== undefined) raw.writeInt32BE(fakePid, 5);
          if (type === 'Z') idle = raw[5] === 0x49; // 'I'
          client.write(proxy.rewrite ? proxy.rewrite(type, raw) : raw);
        }),
      );
      return u;
    };
    open(0);

    client.on('close', () => {
      for (const u of upstreams) if (u !== orphan) u.destroy();
    });
    let started = false;
    let pending: Buffer = Buffer.alloc(0);
    const startup = (raw: Buffer) => {
      started = true;
      upstreams[0]!.write(raw);
      if (options.movesSessions) open(1).write(raw);
    };
    const forward = (type: string, raw: Buffer) => {
      if (options.movesSessions && idle) {
        active = 1 - active;
        moves++;
      }
      idle = false;
      const u = upstreams[active]!;
      if (armed && armed.match({ type, body: raw.subarray(5) })) {
        const lose = armed.lose;
        refuseOnCut = armed.thenRefuse;
        armed = undefined;
        if (lose === 'request') return void cut();
        if (lose === 'detach') {
          // With what the client sends after it (an extended query's Execute and Sync): all of it, later.
          const carried: Buffer[] = [raw];
          carry = (more) => carried.push(more);
          setTimeout(() => u.write(Buffer.concat(carried)), proxy.detachDelayMs);
          return orphanAndClose(u);
        }
        if (lose === 'hold') {
          carry = () => {};
          return orphanAndClose(u);
        }
        cutReply = true;
      }
      if (carry) return carry(raw);
      u.write(raw);
    };
    const frames = framer(forward);
    client.on('data', (d: Buffer) => {
      if (started) return frames(d);
      // The startup message has no type byte: its 32-bit length comes first.
      pending = Buffer.concat([pending, d]);
      if (pending.length < 4 || pending.length < pending.readUInt32BE(0)) return;
      const length = pending.readUInt32BE(0);
      startup(pending.subarray(0, length));
      const rest = pending.subarray(length);
      pending = Buffer.alloc(0);
      if (rest.length > 0) frames(rest);
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
    arm(match: (m: PgMessage) => boolean, lose: Loss, thenRefuse = false) {
      armed = { match, lose, thenRefuse };
    },
    get lost() {
      return lost;
    },
    get moves() {
      return moves;
    },
    get refuse() {
      return proxy.refuse;
    },
    set refuse(v: boolean) {
      proxy.refuse = v;
    },
    get fakeBackendPid() {
      return proxy.fakeBackendPid;
    },
    set fakeBackendPid(v: number | undefined) {
      proxy.fakeBackendPid = v;
    },
    get detachDelayMs() {
      return proxy.detachDelayMs;
    },
    set detachDelayMs(v: number) {
      proxy.detachDelayMs = v;
    },
    get rewrite() {
      return proxy.rewrite;
    },
    set rewrite(v: ((type: string, raw: Buffer) => Buffer) | undefined) {
      proxy.rewrite = v;
    },
    get onLost() {
      return proxy.onLost;
    },
    set onLost(v: (() => Promise<void>) | undefined) {
      proxy.onLost = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
