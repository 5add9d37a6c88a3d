/**
 * Attack (liveness): a flood of valid DAKE-1s against the prekey server from many addresses. Before the fix the
 * pending-DAKE table dropped its oldest entry when full, so any flood of maxPendingDakes DAKE-1s — one valid
 * client profile reused under fresh claimed identities, each from its own address so no per-address bucket
 * bites — evicted an honest client's DAKE before its DAKE-3 came; and a DAKE-1 claiming the honest client's
 * identity and tag from another address replaced it outright. Now the table is shared fairly by requester (the
 * address the transport vouches for): a requester's DAKE is keyed by its address too, a full table evicts only
 * from the requester holding the most (never one holding a single DAKE for a newcomer), and otherwise refuses
 * the newcomer (LIMIT_EXCEEDED, a `rate-limited` event with limiter 'pending').
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM as b } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { resolveLimits } from '../../ts/limits.js';
import { MemoryStore, PrekeyServer, PsType, decodePsMessage, receiveDake2, receiveServerResult, startServerDake, type PsClientLocal, type PsServerInfo } from '../../ts/prekey-server/index.js';
import { makePublisher, NOW_MS } from '../prekey-fixtures.test.js';

const MAX = 16;
const HONEST = { identity: 'bob@example.org', address: '198.51.100.7' };

function setup(seed: number) {
  const limits = { maxPendingDakes: MAX };
  const server = new PrekeyServer({
    backend: b,
    random: seededRandom(seed),
    now: () => NOW_MS,
    identity: 'prekey.example.org',
    identitySecret: seededRandom(seed + 1)(57),
    store: new MemoryStore(resolveLimits(limits)),
    limits,
    // The per-address DAKE buckets are another defence (they refill: over a DAKE's lifetime an address gets
    // publishBurst + 60 s of refill): wide open here, so that the table's own fairness is what is tested.
    publishRate: { burst: 1_000, perSecond: 1 },
  });
  const info: PsServerInfo = { identity: 'prekey.example.org', publicKey: server.publicKey };
  const rnd = seededRandom(seed + 2);
  const bob = makePublisher(b, rnd, 0x0b0b0b0b, 1);
  const local: PsClientLocal = { identity: HONEST.identity, instanceTag: bob.profile.ownerTag, profile: bob.profile, identityScalar: bob.identityScalar };
  // The attacker: one valid client profile, one DAKE-1, sent under any identity it likes.
  const mallory = makePublisher(b, rnd, 0x0e0e0e0e, 1, 'mallory@evil.example');
  const flood = startServerDake(b, rnd, { identity: 'x', instanceTag: mallory.profile.ownerTag, profile: mallory.profile, identityScalar: mallory.identityScalar }).message;
  return { server, info, rnd, local, flood };
}

/** The honest client's DAKE-1 → DAKE-2 → (its DAKE-3, sent later by `finish`). */
async function honestStart(s: ReturnType<typeof setup>) {
  const st = startServerDake(b, s.rnd, s.local);
  const r = await s.server.handle(HONEST.identity, st.message, { requester: HONEST.address });
  assert.ok(r.reply, `honest DAKE-1 answered (${r.error?.message})`);
  const n = receiveDake2(b, s.rnd, s.local, s.info, st.state, r.reply!, { kind: 'storage-status' });
  return async () => {
    const res = await s.server.handle(HONEST.identity, n.message, { requester: HONEST.address });
    assert.is(res.error, undefined, `honest DAKE-3: ${res.error?.message}`);
    assert.is(res.request, 'storage-status');
    assert.equal(receiveServerResult(b, s.local, n.state, res.reply!), { kind: 'storage-status', count: 0, low: true });
  };
}

test('a flood of valid DAKE-1s from many addresses (one each) does not evict an honest pending DAKE', async () => {
  const s = setup(100);
  const finish = await honestStart(s);
  let answered = 0;
  for (let i = 0; i < 4 * MAX; i++) {
    const r = await s.server.handle(`x${i}@evil.example`, s.flood, { requester: `203.0.113.${i}` });
    if (r.reply) answered++;
    else {
      assert.is(r.error?.code, 'LIMIT_EXCEEDED', r.error?.message);
      assert.ok(r.events?.some((e) => e.type === 'rate-limited' && e.limiter === 'pending'), 'the refusal is reported');
    }
  }
  assert.is(answered, MAX - 1, 'the flood takes the free slots, no more');
  assert.ok(s.server.pendingDakes <= MAX);
  await finish();
});

test('a flood from a few addresses (many each) evicts only its own DAKEs; an honest client arriving later still gets in', async () => {
  const s = setup(200);
  const finish = await honestStart(s);
  for (let i = 0; i < 3 * MAX; i++) {
    const r = await s.server.handle(`y${i}@evil.example`, s.flood, { requester: `203.0.113.${i % 2}` });
    assert.ok(r.reply, `answered: the requester evicts its own (${r.error?.message})`);
  }
  assert.is(s.server.pendingDakes, MAX);
  await finish();
  // The table is full of the two flooding addresses: a newcomer evicts from the one holding the most.
  const late = await honestStart(s);
  await late();
});

test('a DAKE-1 claiming the honest identity and tag from another address does not replace the honest DAKE', async () => {
  const s = setup(300);
  const finish = await honestStart(s);
  // Same network identity and the same DAKE-1 shape (the honest tag), from the attacker's address.
  const forged = startServerDake(b, s.rnd, s.local).message;
  const r = await s.server.handle(HONEST.identity, forged, { requester: '203.0.113.66' });
  assert.ok(r.reply, 'answered: its own DAKE');
  assert.is(decodePsMessage(r.reply!).type, PsType.dake2);
  await finish();
});

test.run();
