/**
 * Attack: draining a victim's prekey supply (issue 10). Before: 59 ensembles at once and all 99 within 5 s
 * (per-target bucket 60 burst / 10 per second), the per-requester key over TCP was whatever identity the
 * client wrote, and the bucket table was an LRU that an attacker could flush to give the victim's bucket back
 * full. Now: lower per-target defaults, the requester keyed on the remote address, a bucket table that
 * cannot be flushed, and a `prekeys-low` signal (server event; client-side `low` on the storage status).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { encodePrekeyMessage } from '../../ts/prekey/index.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { ensembleQuery, fetchEnsembles, MemoryStore, PrekeyServer, RateLimiter, runServerRequest, toServerText, type ServerEvent } from '../../ts/prekey-server/index.js';
import { listenTcp, TcpPrekeyClient } from '../../ts/prekey-server/tcp.js';
import { makePublisher, NOW_MS, serverClock } from '../prekey-fixtures.test.js';

const b = WASM;
const BOB = 'bob@example.org';
const BOB_TAG = 0x0b0b;

/** A server whose store holds `n` prekeys for Bob (one real prekey message under n ids: no crypto per prekey). */
async function setup(n: number, opts: Partial<ConstructorParameters<typeof PrekeyServer>[0]> = {}) {
  const rnd = seededRandom(7);
  const bob = makePublisher(b, rnd, BOB_TAG, 1, BOB, 'x', NOW_MS);
  const clock = serverClock();
  const store = new MemoryStore();
  const server = new PrekeyServer({ backend: b, random: rnd, ...clock.options, identity: 'prekey.test', identitySecret: seededRandom(8)(57), store, ...opts });
  const template = bob.prekeys[0]!.message;
  await store.publish(BOB, {
    instanceTag: BOB_TAG,
    clientProfile: { bytes: bob.profile.encoded, expiry: bob.profile.expiry },
    prekeyProfile: { bytes: bob.prekeyProfile.profile.encoded, expiry: bob.prekeyProfile.profile.expiry },
    prekeys: Array.from({ length: n }, (_, i) => ({ id: i + 1, bytes: encodePrekeyMessage({ ...template, id: i + 1 }) })),
  });
  return { clock, store, server, bob, rnd };
}

test('default limits: a botnet (many requesters, many identities) gets at most the target burst in 5 s', async () => {
  const { clock, store, server } = await setup(99);
  const q = toServerText(ensembleQuery(0x0a0a, BOB));
  let handed = 0;
  // 59 at once, then one request every 50 ms for 5 s, each from a fresh identity and a fresh address.
  for (let i = 0; i < 159; i++) {
    if (i >= 59) clock.elapse(50);
    const r = await server.handleText(`attacker${i}@example.org`, q, { requester: `10.0.${i >> 8}.${i & 255}` });
    handed += r.handedOut ?? 0;
  }
  const allowed = DEFAULT_LIMITS.fetchTargetBurst + Math.floor(5 * DEFAULT_LIMITS.fetchTargetPerSecond);
  assert.ok(handed <= allowed, `handed out ${handed} ensembles in 5 s (allowed ${allowed})`);
  assert.is(await store.count(BOB, BOB_TAG), 99 - handed);
  // Draining all 99 takes at least (99 - burst) / rate seconds: more than 45 minutes with the defaults.
  assert.ok((99 - DEFAULT_LIMITS.fetchTargetBurst) / DEFAULT_LIMITS.fetchTargetPerSecond > 45 * 60);
});

test('over TCP the requester is the remote address, not the identity the client writes', async () => {
  const { server } = await setup(0);
  const tcp = await listenTcp(server);
  const c = await TcpPrekeyClient.connect(tcp.port);
  try {
    let answered = 0;
    let limited = 0;
    for (let i = 0; i < 40; i++) {
      // A fresh claimed identity and a fresh (empty) target every time: only the address ties them together.
      await fetchEnsembles(c.as(`claimed${i}@example.org`), 0x0a0a, `nobody${i}@example.org`).then(
        () => answered++,
        (e: { code?: string }) => {
          assert.is(e.code, 'LIMIT_EXCEEDED');
          limited++;
        },
      );
    }
    assert.is(answered, DEFAULT_LIMITS.fetchRequesterBurst, 'the address bucket allowed its burst');
    assert.is(limited, 40 - DEFAULT_LIMITS.fetchRequesterBurst);
  } finally {
    c.close();
    await tcp.close();
  }
});

test('the bucket table cannot be flushed: an emptied victim bucket stays empty under a flood of new keys', async () => {
  // Requesters unlimited here, so the flood reaches the per-target table (32 buckets).
  const { clock, server } = await setup(50, { fetchRate: { burst: 1e6, perSecond: 1e6, maxKeys: 1e6 }, targetRate: { burst: 3, perSecond: 0.001, maxKeys: 32 } });
  const q = (who: string) => toServerText(ensembleQuery(0x0a0a, who));
  let handed = 0;
  for (let i = 0; i < 3; i++) handed += (await server.handleText('a@x', q(BOB), { requester: `r${i}` })).handedOut ?? 0;
  assert.is(handed, 3);
  assert.is((await server.handleText('a@x', q(BOB), { requester: 'r-next' })).error?.code, 'LIMIT_EXCEEDED');
  // The flood: hundreds of new requesters asking for hundreds of new targets (an LRU would forget Bob's bucket).
  for (let i = 0; i < 500; i++) await server.handleText(`f${i}@x`, q(`t${i}@x`), { requester: `flood${i}` });
  clock.elapse(1000);
  for (let i = 0; i < 20; i++) {
    const r = await server.handleText('a@x', q(BOB), { requester: `after${i}` });
    assert.is(r.handedOut ?? 0, 0, 'Bob\'s emptied bucket came back full');
  }
});

test('RateLimiter: full table → shared overflow bucket; refilled buckets are pruned, emptied ones never', () => {
  const clock = { now: 0 };
  const rl = new RateLimiter({ burst: 2, perSecond: 1, maxKeys: 4, pruneIntervalMs: 0 }, () => clock.now);
  assert.ok(rl.allow('victim') && rl.allow('victim'));
  assert.not.ok(rl.allow('victim'));
  for (const k of ['a', 'b', 'c']) assert.ok(rl.allow(k));
  assert.is(rl.size, 4);
  // Table full: newcomers share one overflow bucket of `burst` tokens.
  assert.ok(rl.allow('n1'));
  assert.ok(rl.allow('n2'));
  assert.not.ok(rl.allow('n3'));
  assert.not.ok(rl.allow('victim'), 'the victim\'s bucket was not evicted');
  assert.is(rl.size, 4);
  // After a full refill every bucket carries no information and may go: newcomers get their own again.
  clock.now += 2000;
  assert.ok(rl.allow('n4'));
  assert.ok(rl.size <= 4);
  assert.ok(rl.allow('victim') && rl.allow('victim'), 'refilled at its rate, no faster');
  assert.not.ok(rl.allow('victim'));
});

test('prekeys-low: the server signals when a retrieval leaves an instance low; the storage status reads low', async () => {
  const { server, bob, rnd } = await setup(DEFAULT_LIMITS.prekeysLowThreshold + 2);
  const events: ServerEvent[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await server.handleText('alice@example.org', toServerText(ensembleQuery(0x0a0a, BOB)));
    assert.is(r.handedOut, 1);
    events.push(...(r.events ?? []));
  }
  const low = events.filter((e) => e.type === 'prekeys-low');
  assert.equal(
    low.map((e) => e.type === 'prekeys-low' && e.remaining),
    [DEFAULT_LIMITS.prekeysLowThreshold, DEFAULT_LIMITS.prekeysLowThreshold - 1],
  );
  assert.equal(low[0], { type: 'prekeys-low', identity: BOB, instanceTag: BOB_TAG, remaining: DEFAULT_LIMITS.prekeysLowThreshold });
  const send = async (text: string) => {
    const r = await server.handleText(BOB, text);
    if (!r.reply) throw r.error;
    return r.reply;
  };
  const local = { identity: BOB, instanceTag: BOB_TAG, profile: bob.profile, identityScalar: bob.identityScalar };
  const info = { identity: 'prekey.test', publicKey: server.publicKey };
  const st = await runServerRequest(b, rnd, send, local, info, { kind: 'storage-status' });
  assert.equal(st, { kind: 'storage-status', count: DEFAULT_LIMITS.prekeysLowThreshold - 1, low: true });
});

test.run();
