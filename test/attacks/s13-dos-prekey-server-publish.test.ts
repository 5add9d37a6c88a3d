/**
 * Attack (session 13, cost of hostile input): publications from many addresses. Verifying a publication costs
 * the server a DH proof term and a group check per prekey message (a 255-prekey publication: 257 3072-bit
 * exponentiations, 522 Ed448 multiplications, ~0.4 s of CPU), paid from buckets per identity and per requester
 * (test/attacks/prekey-server-publish-cpu). Those are per key, and a limiter keeps up to maxRateLimitKeys
 * (10,000) of them: from 5,000 IPv6 /64s, each under an identity of its own, ~2.5 million prekey verifications
 * at once and 5,000 a second after (~8 cores). Now a bucket for the whole server (limits
 * publishPrekeysServerBurst / PerSecond) pays for every verification as well, after the publisher's own
 * buckets: past it a publication gets a MAC'd Failure before any prekey is verified, and nothing is stored;
 * the refusal's `rate-limited` event names the limiter `publish-prekeys-server` (the per-key ones: `publish`).
 * Verifications are counted on the server's backend (one Legendre symbol per prekey message), never timed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { runServerRequest, type ServerEvent } from '../../ts/prekey-server/index.js';
import { countedPrekeyServer, makePublisher } from '../prekey-fixtures.test.js';

test('publications from many addresses together are bounded by the server-wide budget, before verification', async () => {
  const { counted, rnd, clock, store, server, info } = countedPrekeyServer(13_300, {
    publishPrekeysBurst: 10,
    publishPrekeysPerSecond: 0.001,
    publishPrekeysServerBurst: 30,
    publishPrekeysServerPerSecond: 0.001,
  });
  const events: ServerEvent[] = [];
  const publishAs = async (i: number) => {
    const who = `m${i}@example.org`;
    const tag = 0x200 + i;
    const p = makePublisher(WASM, rnd, tag, 6, who);
    const send = async (text: string) => {
      const r = await server.handleText(who, text, { requester: `2001:db8:${i.toString(16)}::1` });
      events.push(...(r.events ?? []));
      if (!r.reply) throw r.error;
      return r.reply;
    };
    const local = { identity: who, instanceTag: tag, profile: p.profile, identityScalar: p.identityScalar };
    return runServerRequest(WASM, rnd, send, local, info, { kind: 'publish', clientProfile: p.profile, prekeyProfile: p.prekeyProfile, prekeys: p.prekeys });
  };
  // Ten publishers, each within its own buckets (6 of its 10), from ten addresses.
  const results = [];
  for (let i = 0; i < 10; i++) results.push((await publishAs(i)).kind);
  assert.equal(results.filter((r) => r === 'success').length, 5, JSON.stringify(results));
  assert.ok(counted.costs.legendre <= 30, `${counted.costs.legendre} prekey messages verified; the server's budget is 30`);
  let stored = 0;
  for (let i = 0; i < 10; i++) stored += await store.count(`m${i}@example.org`, 0x200 + i);
  assert.is(stored, 30, 'what a refused publication carried is not stored');
  // Each refusal names the server's own limiter, not the per-key `publish`: an operator tells a flood from
  // one abusive identity or address.
  const limited = events.filter((e) => e.type === 'rate-limited');
  assert.equal(limited, results.flatMap((r, i) => (r === 'success' ? [] : [{ type: 'rate-limited', limiter: 'publish-prekeys-server', identity: `m${i}@example.org` }])));
  // The budget comes back with time, for everyone.
  clock.elapse(10_000_000);
  assert.equal((await publishAs(10)).kind, 'success');
});

test.run();
