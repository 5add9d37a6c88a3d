/**
 * Attack (session 14, the prekey server's clocks). The server aged its pending DAKEs and dated its rate-limit
 * buckets by the host's wall clock (`now`, Date.now in production), which an NTP step or a restored VM moves
 * either way:
 * - stepped back, a pending DAKE's age (`now - createdMs`) went negative and stayed below pendingDakeTtlMs until
 *   the clock caught up: a table a flood filled (one DAKE per address, which the table's fairness never evicts
 *   for a newcomer) stayed full, and every newcomer was refused, for the length of the step — an hour, not a
 *   minute;
 * - stepped forward, every DAKE in flight was suddenly older than pendingDakeTtlMs: an honest client's DAKE-3,
 *   sent a second after its DAKE-1, found nothing;
 * - a bucket lost the time after a step back (the step is counted neither way, but neither is the wait after
 *   it until the next request dates the bucket) and regained its whole burst at a step forward.
 * Now ages and buckets run on a monotonic clock (`monotonicNow`, performance.now by default); the wall clock
 * stays for what the spec dates (profile and prekey expiry). Both clocks are driven by hand here: the wall clock
 * steps, the monotonic one only advances. Counted by the server's answers, never timed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM as b } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import type { Limits } from '../../ts/limits.js';
import { encodeEnsembleQuery, receiveDake2, receiveServerResult, startServerDake, type PrekeyServerOptions, type PsClientLocal } from '../../ts/prekey-server/index.js';
import { OtrLimitError } from '../../ts/errors.js';
import { clockedPrekeyServer, makePublisher } from '../prekey-fixtures.test.js';

const MAX = 8;
const TTL = 60_000;
const HOUR = 3_600_000;

function setup(seed: number, extra: Partial<PrekeyServerOptions> = {}, limits: Partial<Limits> = {}) {
  const { clock, server, info } = clockedPrekeyServer(b, seed, {
    limits: { maxPendingDakes: MAX, pendingDakeTtlMs: TTL, ...limits },
    // Wide open unless a test says otherwise: the pending table's expiry is what the first tests look at.
    publishRate: { burst: 1_000, perSecond: 1 },
    ...extra,
  });
  const rnd = seededRandom(seed + 2);
  const client = (i: number): PsClientLocal & { address: string } => {
    const p = makePublisher(b, rnd, 0x500 + i, 1, `c${i}@example.org`);
    return { identity: `c${i}@example.org`, instanceTag: p.profile.ownerTag, profile: p.profile, identityScalar: p.identityScalar, address: `203.0.113.${i}` };
  };
  const dake1 = (c: ReturnType<typeof client>) => {
    const st = startServerDake(b, rnd, c);
    return server.handle(c.identity, st.message, { requester: c.address }).then((r) => ({ r, st }));
  };
  /** A whole storage-status request's DAKE, its DAKE-3 sent after `between` runs. */
  const storageStatus = async (c: ReturnType<typeof client>, between: () => void) => {
    const { r, st } = await dake1(c);
    assert.ok(r.reply, `DAKE-1 answered (${r.error?.message})`);
    const n = receiveDake2(b, rnd, c, info, st.state, r.reply!, { kind: 'storage-status' });
    between();
    const res = await server.handle(c.identity, n.message, { requester: c.address });
    if (res.error) return res.error;
    assert.equal(receiveServerResult(b, c, n.state, res.reply!), { kind: 'storage-status', count: 0, low: true });
    return undefined;
  };
  /** One flood DAKE-1 per address until the table is full (never finished). */
  const fill = async () => {
    for (let i = 0; i < MAX; i++) assert.ok((await dake1(client(100 + i))).r.reply, 'the flood takes a slot');
    assert.is(server.pendingDakes, MAX);
    assert.instance((await dake1(client(200))).r.error, OtrLimitError, 'a full table refuses a newcomer');
  };
  return { clock, server, client, dake1, storageStatus, fill };
}

test('after the wall clock steps back an hour, a table a flood filled frees up after pendingDakeTtlMs, not an hour', async () => {
  const s = setup(14_500);
  await s.fill();
  s.clock.now -= HOUR; // an NTP step back
  s.clock.elapse(TTL + 1);
  const { r } = await s.dake1(s.client(1));
  assert.ok(r.reply, `a newcomer a TTL after the flood was refused (${r.error?.message}): the flood's DAKEs, dated an hour ahead, did not expire`);
});

test('a flood’s DAKEs still hold the table for pendingDakeTtlMs after a step back (no early expiry either)', async () => {
  const s = setup(14_510);
  await s.fill();
  s.clock.now -= HOUR;
  s.clock.elapse(TTL - 1_000);
  assert.instance((await s.dake1(s.client(1))).r.error, OtrLimitError, 'the flood holds its slots for their lifetime');
});

test('a forward step of the wall clock does not expire an honest DAKE in flight', async () => {
  const s = setup(14_520);
  const err = await s.storageStatus(s.client(1), () => {
    s.clock.now += HOUR; // an NTP step forward between DAKE-1 and DAKE-3
    s.clock.elapse(1_000);
  });
  assert.is(err, undefined, `the DAKE-3 a second after its DAKE-1 was refused: ${err?.message}`);
});

test('a DAKE still expires pendingDakeTtlMs after its DAKE-1 on the monotonic clock, whatever the wall clock did', async () => {
  const s = setup(14_530);
  const err = await s.storageStatus(s.client(1), () => {
    s.clock.now -= HOUR;
    s.clock.elapse(TTL);
  });
  assert.is(err?.code, 'STATE', 'the DAKE expired');
});

test('a bucket regains tokens at its rate right after the wall clock steps back', async () => {
  const s = setup(14_540, { publishRate: { burst: 2, perSecond: 1 } });
  const c = s.client(1);
  assert.ok((await s.dake1(c)).r.reply);
  assert.ok((await s.dake1(c)).r.reply);
  assert.instance((await s.dake1(c)).r.error, OtrLimitError, 'the bucket is empty');
  s.clock.now -= HOUR;
  s.clock.elapse(1_000);
  const { r } = await s.dake1(c);
  assert.ok(r.reply, `a second after the step the bucket had regained nothing (${r.error?.message})`);
});

test('a forward step of the wall clock does not refill a bucket', async () => {
  const s = setup(14_550, { publishRate: { burst: 2, perSecond: 0.01 } });
  const c = s.client(1);
  assert.ok((await s.dake1(c)).r.reply);
  assert.ok((await s.dake1(c)).r.reply);
  s.clock.now += HOUR;
  s.clock.elapse(1_000);
  const { r } = await s.dake1(c);
  assert.instance(r.error, OtrLimitError, 'the step forward handed the whole burst back');
  assert.ok(r.events?.some((e) => e.type === 'rate-limited' && e.limiter === 'publish'));
});

test('the server-wide budget too runs on the monotonic clock', async () => {
  const s = setup(14_560, {}, { publishServerBurst: 1, publishServerPerSecond: 1 });
  assert.ok((await s.dake1(s.client(1))).r.reply);
  s.clock.now -= HOUR;
  s.clock.elapse(1_000);
  assert.ok((await s.dake1(s.client(2))).r.reply, 'a second after a step back, one token is back');
  s.clock.now += 2 * HOUR;
  const { r } = await s.dake1(s.client(3));
  assert.ok(r.events?.some((e) => e.type === 'rate-limited' && e.limiter === 'publish-server'), 'a step forward gave nothing back');
});

test('what the spec dates stays on the wall clock: a client profile expired by it is refused', async () => {
  const s = setup(14_570);
  const c = s.client(1);
  s.clock.now += 10 * 365 * 24 * HOUR; // far past the profile's expiry; the monotonic clock does not move
  const { r } = await s.dake1(c);
  assert.ok(r.error, 'an expired client profile was accepted');
  assert.not.instance(r.error, OtrLimitError);
});

test('ensemble queries: a requester the target’s bucket refuses spends no token of its own', async () => {
  const s = setup(14_580, { fetchRate: { burst: 2, perSecond: 0.001 }, targetRate: { burst: 1, perSecond: 0.001 } });
  const query = (identity: string) =>
    s.server.handle('alice@example.org', encodeEnsembleQuery({ senderTag: 0x1234, identity, versions: '4' }), { requester: '198.51.100.1' });
  assert.ok((await query('drained@example.org')).reply, 'the first query takes the target’s one token');
  const refused = await query('drained@example.org');
  assert.ok(refused.events?.some((e) => e.type === 'rate-limited' && e.limiter === 'target'), 'refused by the target’s bucket');
  const r = await query('other@example.org');
  assert.ok(r.reply, `the requester's own bucket refused (${JSON.stringify(r.events)}): the target's refusals spent its token`);
});

test.run();
