/**
 * Attack: slow-loris on the TCP prekey server (issue 10). 40 sockets sending one byte every 8 s held every
 * slot forever, because the only timer was an idle timer that each byte reset. Now a request line must be
 * whole within a deadline from its first byte, and one address holds at most a few connections. The deadlines
 * here are configured short (hundreds of ms), so nothing waits for real-world timeouts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createConnection, type Socket } from 'node:net';
import { JS } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { fetchEnsembles, MemoryStore, PrekeyServer } from '../../ts/prekey-server/index.js';
import { addressKey, listenTcp, TcpPrekeyClient } from '../../ts/prekey-server/tcp.js';

function core(): PrekeyServer {
  return new PrekeyServer({ backend: JS, random: seededRandom(1), now: Date.now, identity: 'prekey.test', identitySecret: seededRandom(2)(57), store: new MemoryStore() });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ port, host: '127.0.0.1' }, () => resolve(s));
    s.on('error', () => {});
    s.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('trickling sockets are closed at the line deadline and the slots serve honest clients again', async () => {
  const tcp = await listenTcp(core(), { maxConnections: 8, maxConnectionsPerAddress: 8, idleMs: 5_000, lineDeadlineMs: 400 });
  const trickle: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    for (let i = 0; i < 8; i++) {
      const s = await open(tcp.port);
      trickle.push(s);
      s.write('a'); // a request line starts ...
      timers.push(setInterval(() => s.writable && s.write('a'), 100)); // ... and never ends, a byte per 100 ms
    }
    await sleep(150);
    assert.is(tcp.connections(), 8, 'every slot is taken');
    // Each byte arrives well within the idle time, so only a deadline for the whole line frees the slots.
    await sleep(700);
    assert.is(tcp.connections(), 0, 'all trickling connections were closed at the line deadline');
    assert.ok(trickle.every((s) => s.destroyed || !s.readable || s.readableEnded), 'the attacker sees its sockets closed');
    const c = await TcpPrekeyClient.connect(tcp.port);
    const r = await fetchEnsembles(c.as('alice@example.org'), 0x1234, 'nobody@example.org');
    assert.is(r.kind, 'none', 'an honest client is served');
    c.close();
  } finally {
    for (const t of timers) clearInterval(t);
    for (const s of trickle) s.destroy();
    await tcp.close();
  }
});

test('a connection that never sends is closed after the idle time; an honest slow line within the deadline is served', async () => {
  const tcp = await listenTcp(core(), { idleMs: 300, lineDeadlineMs: 2_000 });
  try {
    const silent = await open(tcp.port);
    await sleep(600);
    assert.ok(silent.destroyed || silent.readableEnded || tcp.connections() === 0, 'the silent connection was closed');
    silent.destroy();
    // A line sent in three pieces, 100 ms apart, completes well within its deadline: answered.
    const s = await open(tcp.port);
    s.setEncoding('utf8');
    const reply = new Promise<string>((resolve) => s.once('data', (d: string) => resolve(d)));
    for (const piece of ['x@y\t', 'AAQ=', '.\n']) {
      s.write(piece);
      await sleep(100);
    }
    assert.match(await reply, /^!MALFORMED/);
    s.destroy();
  } finally {
    await tcp.close();
  }
});

test('one address holds at most maxConnectionsPerAddress slots', async () => {
  const tcp = await listenTcp(core(), { maxConnections: 64, maxConnectionsPerAddress: 4, idleMs: 5_000 });
  const socks: Socket[] = [];
  try {
    for (let i = 0; i < 40; i++) socks.push(await open(tcp.port));
    await sleep(150);
    assert.is(tcp.connections(), 4);
  } finally {
    for (const s of socks) s.destroy();
    await tcp.close();
  }
});

test('address keys: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
  assert.is(addressKey('127.0.0.1'), '127.0.0.1');
  assert.is(addressKey('::ffff:10.1.2.3'), '10.1.2.3');
  assert.is(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), addressKey('2001:db8:1:2::1'));
  assert.is.not(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
  assert.is(addressKey('::1'), '0:0:0:0::/64');
  assert.is(addressKey(undefined), '?');
});

test.run();
