/**
 * Attack: CPU through publications (issue 10, the one-message CPU bound as it applies to the server). Anyone
 * can make a key, run the DAKE and publish; each prekey message costs the server a 3072-bit group check
 * (~13 ms with WASM: one 255-prekey publication measured 3.4 s of server CPU), and a publication's prekey
 * messages can be re-sent under each new DAKE at almost no cost to the sender. The prekey messages are now
 * paid from a budget per identity and per requester (limits publishPrekeysBurst / PerSecond) BEFORE any of
 * them is verified: over budget, the publication gets a MAC'd Failure and nothing is stored.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { MemoryStore, PrekeyServer, runServerRequest, type ServerEvent } from '../../ts/prekey-server/index.js';
import { makePublisher, serverClock } from '../prekey-fixtures.test.js';

const b = WASM;

test('publications beyond the verification budget are refused before verification, per identity and per address', async () => {
  const rnd = seededRandom(12);
  const clock = serverClock();
  const store = new MemoryStore();
  const server = new PrekeyServer({
    backend: b,
    random: rnd,
    ...clock.options,
    identity: 'prekey.test',
    identitySecret: seededRandom(13)(57),
    store,
    limits: { publishPrekeysBurst: 10, publishPrekeysPerSecond: 0.01 },
  });
  const info = { identity: 'prekey.test', publicKey: server.publicKey };
  const events: ServerEvent[] = [];
  const publishAs = async (who: string, address: string, tag: number, n: number) => {
    const p = makePublisher(b, rnd, tag, n, who);
    const send = async (text: string) => {
      const r = await server.handleText(who, text, { requester: address });
      events.push(...(r.events ?? []));
      if (!r.reply) throw r.error;
      return r.reply;
    };
    const local = { identity: who, instanceTag: tag, profile: p.profile, identityScalar: p.identityScalar };
    return runServerRequest(b, rnd, send, local, info, { kind: 'publish', clientProfile: p.profile, prekeyProfile: p.prekeyProfile, prekeys: p.prekeys });
  };
  assert.equal(await publishAs('m1@example.org', '198.51.100.7', 0x101, 6), { kind: 'success' });
  // The same identity again: 6 more would exceed its 10.
  assert.equal(await publishAs('m1@example.org', '198.51.100.8', 0x101, 6), { kind: 'failure' });
  // A fresh identity from the same address: the address's budget is spent too.
  assert.equal(await publishAs('m2@example.org', '198.51.100.7', 0x102, 6), { kind: 'failure' });
  assert.is(await store.count('m1@example.org', 0x101), 6);
  assert.is(await store.count('m2@example.org', 0x102), 0, 'nothing stored from a refused publication');
  assert.ok(events.filter((e) => e.type === 'rate-limited' && e.limiter === 'publish').length >= 2);
  // Profiles alone (no prekey messages) cost nothing from this budget; the budget comes back with time.
  assert.equal(await publishAs('m3@example.org', '198.51.100.7', 0x103, 0), { kind: 'success' });
  clock.elapse(1_000_000);
  assert.equal(await publishAs('m2@example.org', '198.51.100.7', 0x102, 6), { kind: 'success' });
});

test.run();
