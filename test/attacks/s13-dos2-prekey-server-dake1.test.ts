/**
 * Attack (session 13, cost of hostile input): DAKE-1s to the prekey server from many addresses. Answering one
 * costs the server a client-profile check (an Ed448 signature, a DSA one for a transitional profile) and the
 * DAKE-2 ring signature — ~2.4 ms of CPU with WASM, about a DAKE step — paid from `publishBurst` /
 * `publishPerSecond` per publisher identity and per requester (an IPv6 /64). Those buckets are per key, and a
 * limiter keeps up to maxRateLimitKeys (10,000) of them: from 5,000 /64s, each under an identity of its own,
 * ~5,000 DAKE-1s a second (~12 cores). Now one bucket for the whole server (limits publishServerBurst /
 * publishServerPerSecond) pays for every DAKE-1 as well, after the requester's own buckets and before the
 * profile is looked at: past it the DAKE-1 is refused with OtrLimitError (a `rate-limited` event, limiter
 * `publish-server`, not the per-key `publish`) — honest ones too, during a flood — and the budget comes back with time. Work is counted on
 * the server's backend (Ed448 multiplications), never timed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { runServerRequest, startServerDake } from '../../ts/prekey-server/index.js';
import type { Limits } from '../../ts/limits.js';
import { OtrLimitError } from '../../ts/errors.js';
import { ServerStats } from '../../ts/prekey-server/stats.js';
import { countedPrekeyServer, makePublisher } from '../prekey-fixtures.test.js';

function setUp(limits: Partial<Limits>) {
  const { counted, rnd, clock, server } = countedPrekeyServer(13_400, limits);
  const client = (i: number) => {
    const who = `m${i}@example.org`;
    const tag = 0x300 + i;
    const p = makePublisher(WASM, rnd, tag, 1, who);
    return { who, requester: `2001:db8:${i.toString(16)}::1`, local: { identity: who, instanceTag: tag, profile: p.profile, identityScalar: p.identityScalar } };
  };
  const dake1 = (c: ReturnType<typeof client>) => server.handle(c.who, startServerDake(WASM, rnd, c.local).message, { requester: c.requester });
  return { counted, rnd, clock, server, client, dake1 };
}

test('DAKE-1s from many addresses together are bounded by the server-wide budget, before the profile is checked', async () => {
  const { counted, clock, server, client, dake1 } = setUp({ publishBurst: 10, publishPerSecond: 0.001, publishServerBurst: 4, publishServerPerSecond: 0.001 });
  // Ten identities from ten /64s, each well within its own buckets (1 DAKE-1 of its 10).
  const clients = Array.from({ length: 10 }, (_, i) => client(i));
  const answered: number[] = [];
  const stats = new ServerStats();
  for (const [i, c] of clients.entries()) {
    const before = counted.costs.ed448Mul;
    const r = await dake1(c);
    stats.record({ ...r, replied: r.reply !== undefined });
    if (r.reply) {
      answered.push(i);
      continue;
    }
    assert.instance(r.error, OtrLimitError, `client ${i}: ${r.error?.message}`);
    // The server's own limiter by name, so an operator tells a flood from one abusive identity or address.
    assert.equal(r.events, [{ type: 'rate-limited', limiter: 'publish-server', identity: c.who }]);
    assert.is(counted.costs.ed448Mul, before, `client ${i}: a refused DAKE-1 costs no Ed448 work`);
  }
  assert.equal(answered, [0, 1, 2, 3], 'four DAKE-2s: the server-wide burst');
  assert.equal(stats.total.rateLimited, { publish: 0, 'publish-server': 6, 'publish-prekeys-server': 0, requester: 0, target: 0, pending: 0 });
  assert.is(server.pendingDakes, 4);
  // The budget comes back with time, for everyone: an honest storage request completes.
  clock.elapse(10_000_000);
  const c = clients[9]!;
  const info = { identity: 'prekey.test', publicKey: server.publicKey };
  const send = async (text: string) => {
    const r = await server.handleText(c.who, text, { requester: c.requester });
    if (!r.reply) throw r.error;
    return r.reply;
  };
  const r = await runServerRequest(WASM, seededRandom(5), send, c.local, info, { kind: 'storage-status' });
  assert.is(r.kind, 'storage-status', JSON.stringify(r));
});

test("a DAKE-1 its own buckets refuse spends nothing of the server's budget", async () => {
  const { server, client, dake1 } = setUp({ publishBurst: 1, publishPerSecond: 0.001, publishServerBurst: 2, publishServerPerSecond: 0.001 });
  const noisy = client(0);
  assert.ok((await dake1(noisy)).reply, 'its first DAKE-1, within everything');
  for (let i = 0; i < 5; i++) assert.instance((await dake1(noisy)).error, OtrLimitError, 'its own bucket is empty');
  // One token of the server's two is left for someone else.
  assert.ok((await dake1(client(1))).reply, 'another publisher still gets its DAKE-2');
  assert.instance((await dake1(client(2))).error, OtrLimitError, 'and then the server-wide bucket is empty');
  assert.is(server.pendingDakes, 2);
});

test.run();
