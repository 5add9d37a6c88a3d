/**
 * Attack (session 14, review of session 13's server-wide prekey-server budgets, 'publish-server' and
 * 'publish-prekeys-server'). Those budgets are one token bucket each for the whole server (rate-limit.ts), so
 * what a bucket does wrong now affects every publisher at once:
 * - the wall clock (Date.now in production) stepping back: a bucket dated after the new time regained nothing
 *   until the clock caught up again — an NTP step of an hour, right after a flood emptied the bucket, refused
 *   every publisher's DAKE-1 for that hour;
 * - a publication the server-wide budget refuses during a flood still spent the publisher's own per-identity and
 *   per-requester tokens (n per prekey message): two honest retries of a 255-prekey publication emptied its own
 *   bucket (512, 1 a second), so it stayed refused (limiter 'publish') minutes after the flood had ended. A DAKE-1
 *   the server-wide bucket refuses likewise spent its publisher's per-identity token;
 * - a budget configured as NaN (a programming slip: limits are not otherwise checked) allowed everything, so the
 *   server failed open instead of closed.
 * Counted by the server's answers, never timed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { MemoryStore, PrekeyServer, runServerRequest, startServerDake } from '../../ts/prekey-server/index.js';
import type { Limits } from '../../ts/limits.js';
import { OtrArgumentError, OtrLimitError } from '../../ts/errors.js';
import { countedPrekeyServer, makePublisher } from '../prekey-fixtures.test.js';
import { seededRandom } from '../helpers/rng.js';

function setUp(limits: Partial<Limits>) {
  const { rnd, clock, server, info } = countedPrekeyServer(14_100, limits);
  const client = (i: number, prekeys = 1) => {
    const who = `m${i}@example.org`;
    const tag = 0x400 + i;
    const p = makePublisher(WASM, rnd, tag, prekeys, who);
    return { who, requester: `2001:db8:${i.toString(16)}::1`, p, local: { identity: who, instanceTag: tag, profile: p.profile, identityScalar: p.identityScalar } };
  };
  type Client = ReturnType<typeof client>;
  const dake1 = (c: Client) => server.handle(c.who, startServerDake(WASM, rnd, c.local).message, { requester: c.requester });
  const publish = async (c: Client) => {
    const send = async (text: string) => {
      const r = await server.handleText(c.who, text, { requester: c.requester });
      if (!r.reply) throw r.error;
      return r.reply;
    };
    const r = await runServerRequest(WASM, rnd, send, c.local, info, { kind: 'publish', clientProfile: c.p.profile, prekeyProfile: c.p.prekeyProfile, prekeys: c.p.prekeys });
    return r.kind;
  };
  return { clock, server, client, dake1, publish };
}

test('the wall clock stepping back does not freeze the server-wide DAKE-1 budget until it catches up', async () => {
  const { clock, client, dake1 } = setUp({ publishServerBurst: 2, publishServerPerSecond: 1 });
  assert.ok((await dake1(client(0))).reply);
  assert.ok((await dake1(client(1))).reply);
  assert.instance((await dake1(client(2))).error, OtrLimitError, 'the flood emptied the server-wide bucket');
  clock.now -= 3_600_000; // an NTP step back of an hour
  assert.instance((await dake1(client(3))).error, OtrLimitError, 'nothing regained at the step itself');
  clock.elapse(5_000);
  const r = await dake1(client(4));
  assert.ok(r.reply, `five seconds later (5 tokens at 1 a second) the server still refused: ${r.error?.message}`);
});

test('a DAKE-1 the server-wide budget refuses spends nothing of its publisher’s own bucket', async () => {
  const { clock, client, dake1 } = setUp({ publishBurst: 2, publishPerSecond: 0.001, publishServerBurst: 1, publishServerPerSecond: 0.5 });
  assert.ok((await dake1(client(0))).reply, 'the flood takes the server-wide token');
  const honest = client(1);
  assert.instance((await dake1(honest)).error, OtrLimitError, 'refused by the server-wide bucket');
  assert.instance((await dake1(honest)).error, OtrLimitError, 'and again');
  clock.elapse(2_000); // the flood is over: one server-wide token back
  const r = await dake1(honest);
  assert.ok(r.reply, `refused by its own bucket (${JSON.stringify(r.events)}): the server's refusals spent its two tokens`);
});

test('a publication the server-wide budget refuses spends nothing of its publisher’s own prekey budget', async () => {
  const { clock, client, publish } = setUp({
    publishPrekeysBurst: 12,
    publishPrekeysPerSecond: 0.001,
    publishPrekeysServerBurst: 6,
    publishPrekeysServerPerSecond: 1,
  });
  assert.is(await publish(client(0, 6)), 'success', 'the flood takes the server-wide budget');
  const honest = client(1, 6);
  assert.is(await publish(honest), 'failure', 'refused by the server-wide budget');
  assert.is(await publish(honest), 'failure', 'and again');
  clock.elapse(6_000); // the flood is over: six server-wide tokens back
  assert.is(await publish(honest), 'success', "refused by its own budget: the server's refusals spent its 12 tokens");
});

test('a budget that is not a number is refused when the server is made, not taken as no limit', () => {
  for (const limits of [{ publishServerBurst: NaN }, { publishPrekeysServerPerSecond: NaN }, { publishBurst: NaN }] as Partial<Limits>[]) {
    assert.throws(
      () => new PrekeyServer({ backend: WASM, random: seededRandom(1), now: () => 0, identity: 'prekey.test', identitySecret: new Uint8Array(57), store: new MemoryStore(), limits }),
      (e: unknown) => e instanceof OtrArgumentError,
      JSON.stringify(Object.keys(limits)),
    );
  }
});

test.run();
