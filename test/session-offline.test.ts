/**
 * Offline conversations through the public API: Bob publishes prekeys to a prekey server and goes offline;
 * Alice fetches his ensembles and writes; Bob comes back, completes the non-interactive DAKE and reads every
 * message; they continue online. The used prekey is gone (a replay is refused), also across persistence.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../ts/index.js';
import { fetchEnsembles, runServerRequest } from '../ts/prekey-server/index.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { ALICE_ID, BOB_ID } from './helpers/session-pair.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import { prekeyWorld } from './helpers/prekey-world.js';

const texts = (o: Outcome[]): string[] => o.flatMap((x) => x.messages.map((m) => m.text));

function setup(be: CryptoBackend, seed: number) {
  const { clock, server, transport, info } = prekeyWorld(be, seed);
  const mk = (id: string, s: number) => Account.create({ accountId: id, backend: be, random: seededRandom(s), clock, dsaKey: null });
  return { clock, server, transport, info, alice: mk(ALICE_ID, seed + 2), bob: mk(BOB_ID, seed + 3) };
}

for (const be of BACKENDS) {
  test(`publish, go offline, receive offline messages, continue online [${be.name}]`, async () => {
    const { transport, info, alice, bob } = setup(be, 10);
    const res = await runServerRequest(be, bob.random, transport(BOB_ID), bob.prekeyServerLocal(BOB_ID), info, bob.prekeyPublication(3));
    assert.equal(res, { kind: 'success' });

    // Bob is offline. Alice fetches his ensembles and writes.
    const fetched = await fetchEnsembles(transport(ALICE_ID), alice.instanceTag, BOB_ID);
    assert.is(fetched.kind, 'ensembles');
    if (fetched.kind !== 'ensembles') return;
    const a = alice.conversation(BOB_ID);
    const first = a.sendOffline(fetched.ensembles, 'hello while you were away');
    assert.ok(first.events.some((e) => e.type === 'encrypted'));
    assert.is(a.state, 'ENCRYPTED_MESSAGES');
    const later = [a.send('second offline message'), a.send('third')];
    const wire = [...first.toSend, ...later.flatMap((o) => o.toSend)];

    // Bob comes back (restored from storage, to be sure the prekey secrets persist) and reads everything.
    const bob2 = Account.restore(bob.serialize(), { backend: be, random: seededRandom(77), clock: bob.clock });
    const b = bob2.conversation(ALICE_ID);
    const outs = wire.map((w) => b.receive(w));
    assert.equal(texts(outs), ['hello while you were away', 'second offline message', 'third']);
    assert.is(b.ssid, a.ssid);
    assert.is(b.state, 'ENCRYPTED_MESSAGES');

    // Online from here on, both ways.
    assert.equal(texts([a.receive(b.send('back online').toSend[0]!)]), ['back online']);
    assert.equal(texts([b.receive(a.send('welcome back').toSend[0]!)]), ['welcome back']);

    // The prekey was used once: the same Non-Interactive-Auth replayed to a fresh copy of Bob is refused.
    const bob3 = Account.restore(bob2.serialize(), { backend: be, random: seededRandom(78), clock: bob.clock });
    const replay = bob3.conversation(ALICE_ID).receive(first.toSend[0]!);
    assert.ok(replay.events.some((e) => e.type === 'ignored'));
    assert.not.ok(replay.events.some((e) => e.type === 'encrypted'));
  });
}

test('starting an offline conversation after an online one ends the online session first (TLV 1)', async () => {
  const be = BACKENDS[0]!;
  const { transport, info, alice, bob } = setup(be, 30);
  const a = alice.conversation(BOB_ID);
  const b = bob.conversation(ALICE_ID);
  // Online first.
  let wire = a.start().toSend;
  for (let i = 0; i < 4 && wire.length; i++) {
    const next: string[] = [];
    for (const w of wire) next.push(...(i % 2 === 0 ? b : a).receive(w).toSend);
    wire = next;
  }
  assert.is(a.state, 'ENCRYPTED_MESSAGES');
  const online = a.ssid;
  // Bob publishes and goes offline; Alice switches to offline messaging.
  await runServerRequest(be, bob.random, transport(BOB_ID), bob.prekeyServerLocal(BOB_ID), info, bob.prekeyPublication(1));
  const f = await fetchEnsembles(transport(ALICE_ID), alice.instanceTag, BOB_ID);
  if (f.kind !== 'ensembles') throw new Error('no ensembles');
  const out = a.sendOffline(f.ensembles, 'now offline');
  assert.is(out.toSend.length, 3, 'disconnect, Non-Interactive-Auth, data');
  const got = out.toSend.map((w) => b.receive(w));
  assert.ok(got[0]!.events.some((e) => e.type === 'finished'));
  assert.equal(texts(got), ['now offline']);
  assert.is(b.ssid, a.ssid);
  assert.not.equal(a.ssid, online);
});

test('publishing for a year keeps only live prekey profiles (expired ones are pruned, not accumulated)', () => {
  const be = BACKENDS[0]!;
  const { clock, bob } = setup(be, 40);
  for (let week = 0; week < 70; week++) {
    bob.prekeyPublication(1);
    clock.advance(7 * 24 * 3600 * 1000);
  }
  assert.ok(bob.prekeyOwnerState.profiles.length <= 3, `${bob.prekeyOwnerState.profiles.length} profiles kept`);
  // And the state still restores.
  Account.restore(bob.serialize(), { backend: be, clock });
});

test('invalid ensembles are refused with a reason, valid ones still used', async () => {
  const be = BACKENDS[0]!;
  const { transport, info, alice, bob } = setup(be, 20);
  await runServerRequest(be, bob.random, transport(BOB_ID), bob.prekeyServerLocal(BOB_ID), info, bob.prekeyPublication(2));
  const f = await fetchEnsembles(transport(ALICE_ID), alice.instanceTag, BOB_ID);
  if (f.kind !== 'ensembles') throw new Error('no ensembles');
  const good = f.ensembles[0]!;
  const forged = { ...good, prekeyProfile: { ...good.prekeyProfile, signature: good.prekeyProfile.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) } };
  const out = alice.conversation(BOB_ID).sendOffline([forged], 'x');
  assert.equal(out.toSend, []);
  assert.ok(out.events.some((e) => e.type === 'ignored'));
  const ok = alice.conversation(BOB_ID).sendOffline([forged, good], 'y');
  assert.is(ok.toSend.length, 2);
});

test.run();
