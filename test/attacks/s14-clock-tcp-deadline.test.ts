/**
 * Attack (session 14, the prekey server's clocks): the TCP transport's line deadline (attacks/prekey-server-
 * slowloris) was measured on the wall clock (Date.now). Stepped back while a line was being trickled, the time
 * left became the deadline plus the step: a slow-loris connection mid-line at an NTP step of an hour held its
 * slot an hour. Stepped forward, the time left went negative: an honest slow line in progress was cut. The
 * deadline now runs on performance.now. The wall clock is stepped here by replacing Date.now for the length of
 * one test; the deadlines are hundreds of ms, as in the slow-loris tests.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createConnection, type Socket } from 'node:net';
import { JS } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { MemoryStore, PrekeyServer } from '../../ts/prekey-server/index.js';
import { listenTcp } from '../../ts/prekey-server/tcp.js';

const HOUR = 3_600_000;
const realNow = Date.now;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function core(): PrekeyServer {
  return new PrekeyServer({ backend: JS, random: seededRandom(1), now: () => 1_700_000_000_000, identity: 'prekey.test', identitySecret: seededRandom(2)(57), store: new MemoryStore() });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ port, host: '127.0.0.1' }, () => resolve(s));
    s.on('error', () => {});
    s.once('error', reject);
  });
}

/** Steps the wall clock by `ms` until `restore`. */
function stepWallClock(ms: number) {
  Date.now = () => realNow() + ms;
  return () => {
    Date.now = realNow;
  };
}

test('a wall clock stepped back an hour mid-line does not extend a trickling connection’s deadline', async () => {
  const tcp = await listenTcp(core(), { idleMs: 5_000, lineDeadlineMs: 400 });
  const s = await open(tcp.port);
  let restore = () => {};
  const timer = setInterval(() => s.writable && s.write('a'), 100);
  try {
    s.write('a');
    await sleep(150);
    restore = stepWallClock(-HOUR);
    await sleep(900);
    assert.is(tcp.connections(), 0, 'the trickling connection outlived its line deadline by the step');
  } finally {
    restore();
    clearInterval(timer);
    s.destroy();
    await tcp.close();
  }
});

test('a wall clock stepped forward mid-line does not cut an honest slow line', async () => {
  const tcp = await listenTcp(core(), { idleMs: 5_000, lineDeadlineMs: 2_000 });
  const s = await open(tcp.port);
  let restore = () => {};
  try {
    s.setEncoding('utf8');
    const reply = new Promise<string>((resolve) => s.once('data', (d: string) => resolve(d)));
    const closed = new Promise<string>((resolve) => s.once('close', () => resolve('closed')));
    s.write('x@y\t');
    await sleep(100);
    restore = stepWallClock(HOUR);
    for (const piece of ['AAQ=', '.\n']) {
      s.write(piece);
      await sleep(100);
    }
    assert.match(await Promise.race([reply, closed]), /^!MALFORMED/, 'the line was cut before its deadline');
  } finally {
    restore();
    s.destroy();
    await tcp.close();
  }
});

test.run();
