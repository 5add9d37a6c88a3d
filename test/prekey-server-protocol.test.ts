/**
 * The prekey-server protocol in process (client functions against the server core, MemoryStore, injected
 * clock and randomness), on both backends: publication with proofs, storage status, retrieval handing each
 * prekey out once, the full offline conversation through the server, everything the server must refuse
 * (with or without a Failure message), client-side checks, rate limits, bounded pending DAKEs, and hostile
 * input to every decoder and to the server (which keeps serving).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BACKENDS, JS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { assertBitFlipsSafe, assertRandomSafe, assertTruncationsRejected } from './helpers/mutate.js';
import { hexToBytes } from '../ts/bytes.js';
import { OtrError } from '../ts/errors.js';
import { ed448KeyPair } from '../ts/crypto/eddsa.js';
import { PrekeyServerUsage } from '../ts/crypto/usage.js';
import { expiryFromNow } from '../ts/profile/client-profile.js';
import { chooseEnsembles, createPrekeyProfile, generatePrekeyMessages, type PrekeySecrets } from '../ts/prekey/index.js';
import { receiveNonInteractiveAuth, sendNonInteractiveAuth } from '../ts/offline/index.js';
import {
  decodePsMessage,
  encodeDake3,
  encodeOutcome,
  ensembleQuery,
  fetchEnsembles,
  fromServerText,
  proofContext,
  proveDh,
  proveEcdh,
  PsType,
  receiveDake2,
  receiveEnsembles,
  receiveServerResult,
  runServerRequest,
  startServerDake,
  toServerText,
  verifyDhProof,
  verifyEcdhProof,
  type PsClientLocal,
} from '../ts/prekey-server/index.js';
import { clockedPrekeyServer, makeParty, makePublisher, NOW_MS, type Publisher } from './prekey-fixtures.test.js';
import { rejects, rejectsAsync } from './helpers/rejects.js';

const BOB_TAG = 0x0b0b0b0b;
const ALICE_TAG = 0x0a0a0a0a;
const TORSION = hexToBytes('fe' + 'ff'.repeat(27) + 'fe' + 'ff'.repeat(27) + '00');

const makeServer = clockedPrekeyServer;

function psLocal(p: Publisher | ReturnType<typeof makeParty>, identity: string): PsClientLocal {
  return { identity, instanceTag: p.profile.ownerTag, profile: p.profile, identityScalar: p.identityScalar };
}

for (const b of BACKENDS) {
  const t = suite(`prekey server protocol [${b.name}]`);

  t('publish, storage status, retrieval at most once, and the offline conversation through the server', async () => {
    const rnd = seededRandom(21);
    const { server, info, transport } = makeServer(b, 100);
    const bob = makePublisher(b, rnd, BOB_TAG, 3);
    const bobPs = psLocal(bob, 'bob@example.org');
    const pub = await runServerRequest(b, rnd, transport('bob@example.org'), bobPs, info, {
      kind: 'publish',
      clientProfile: bob.profile,
      prekeyProfile: bob.prekeyProfile,
      prekeys: bob.prekeys,
    });
    assert.equal(pub, { kind: 'success' });
    assert.equal(await runServerRequest(b, rnd, transport('bob@example.org'), bobPs, info, { kind: 'storage-status' }), { kind: 'storage-status', count: 3, low: true });
    assert.is(server.pendingDakes, 0);

    const alice = makeParty(b, rnd, ALICE_TAG, 'alice@example.org', 'bob@example.org');
    const seen = new Set<number>();
    const r = await fetchEnsembles(transport('alice@example.org'), ALICE_TAG, 'bob@example.org');
    assert.is(r.kind, 'ensembles');
    if (r.kind !== 'ensembles') return;
    const choice = chooseEnsembles(b, r.ensembles, { nowMs: NOW_MS });
    assert.is(choice.chosen.length, 1);
    const ens = choice.chosen[0]!;
    seen.add(ens.prekeyMessage.id);
    const sent = sendNonInteractiveAuth(b, rnd, alice.local, ens, NOW_MS);
    const got = receiveNonInteractiveAuth(b, bob.local, bob.owner, sent.message, NOW_MS);
    assert.equal(got.established.ssid, sent.established.ssid);
    // The other two prekeys, each once, then nothing.
    for (let i = 0; i < 2; i++) {
      const more = await fetchEnsembles(transport('carol@example.org'), 0x0c0c0c0c, 'bob@example.org');
      assert.is(more.kind, 'ensembles');
      if (more.kind === 'ensembles') {
        assert.not.ok(seen.has(more.ensembles[0]!.prekeyMessage.id), 'a prekey handed out twice');
        seen.add(more.ensembles[0]!.prekeyMessage.id);
      }
    }
    const none = await fetchEnsembles(transport('carol@example.org'), 0x0c0c0c0c, 'bob@example.org');
    assert.is(none.kind, 'none');
    assert.equal(await runServerRequest(b, rnd, transport('bob@example.org'), bobPs, info, { kind: 'storage-status' }), { kind: 'storage-status', count: 0, low: true });
    // Nobody at all, or versions we do not store: "no ensembles".
    assert.is((await fetchEnsembles(transport('x@example.org'), 0x0c0c0c0c, 'nobody@example.org')).kind, 'none');
  });

  t('two devices: one ensemble per instance; prekeys alone later; expired profiles are not served', async () => {
    const rnd = seededRandom(22);
    const { clock, info, transport } = makeServer(b, 200);
    const d1 = makePublisher(b, rnd, 0x1111, 2);
    const d2 = makePublisher(b, rnd, 0x2222, 1);
    for (const d of [d1, d2]) {
      const res = await runServerRequest(b, rnd, transport('bob@example.org'), psLocal(d, 'bob@example.org'), info, {
        kind: 'publish',
        clientProfile: d.profile,
        prekeyProfile: d.prekeyProfile,
        prekeys: d.prekeys,
      });
      assert.is(res.kind, 'success');
    }
    const r = await fetchEnsembles(transport('a@x'), ALICE_TAG, 'bob@example.org');
    assert.is(r.kind === 'ensembles' && r.ensembles.length, 2);
    // d2 is out of prekeys; it uploads more without profiles.
    const extra = generatePrekeyMessages(b, rnd, 0x2222, 2);
    const res = await runServerRequest(b, rnd, transport('bob@example.org'), psLocal(d2, 'bob@example.org'), info, { kind: 'publish', prekeys: extra });
    assert.is(res.kind, 'success');
    const r2 = await fetchEnsembles(transport('a@x'), ALICE_TAG, 'bob@example.org');
    assert.is(r2.kind === 'ensembles' && r2.ensembles.length, 2);
    // A week later every profile has expired: nothing is served although prekeys remain.
    clock.now += 8 * 86400_000;
    assert.is((await fetchEnsembles(transport('a@x'), ALICE_TAG, 'bob@example.org')).kind, 'none');
  });

  t('refusals: no reply, or a MAC-checked Failure', async () => {
    const rnd = seededRandom(23);
    const { server, info, transport } = makeServer(b, 300, { limits: { maxStoredPrekeysPerInstance: 4 } });
    const bob = makePublisher(b, rnd, BOB_TAG, 2);
    const local = psLocal(bob, 'bob@example.org');
    const send = transport('bob@example.org');

    // DAKE-3 without a DAKE: no reply.
    const orphan = encodeDake3({ senderTag: BOB_TAG, sigma: new Uint8Array(342), message: new Uint8Array(3) });
    const r0 = await server.handle('bob@example.org', orphan);
    assert.is(r0.reply, undefined);
    assert.is(r0.error?.code, 'STATE');

    // A tampered DAKE-3 signature: no reply, and the DAKE is over.
    {
      const s = startServerDake(b, rnd, local);
      const d2 = fromServerText(await send(toServerText(s.message)));
      const n = receiveDake2(b, rnd, local, info, s.state, d2, { kind: 'storage-status' });
      const bad = n.message.slice();
      bad[20]! ^= 1;
      const r = await server.handle('bob@example.org', bad);
      assert.is(r.reply, undefined);
      assert.is(r.error?.code, 'BAD_SIGNATURE');
      assert.is((await server.handle('bob@example.org', n.message)).error?.code, 'STATE', 'no second try on the same DAKE');
    }
    // DAKE-3 from another identity than DAKE-1's: no pending DAKE for it.
    {
      const s = startServerDake(b, rnd, local);
      const d2 = fromServerText(await send(toServerText(s.message)));
      const n = receiveDake2(b, rnd, local, info, s.state, d2, { kind: 'storage-status' });
      assert.is((await server.handle('mallory@example.org', n.message)).error?.code, 'STATE');
    }

    /** Runs a DAKE and returns the raw DAKE-3 bytes with `mutate` applied to the attached message. */
    const publishWith = async (request: Parameters<typeof receiveDake2>[6], mutate?: (m: Uint8Array) => Uint8Array) => {
      const s = startServerDake(b, rnd, local);
      const d2 = fromServerText(await send(toServerText(s.message)));
      const n = receiveDake2(b, rnd, local, info, s.state, d2, request);
      let msg = n.message;
      if (mutate) {
        const dake3 = decodePsMessage(n.message);
        if (dake3.type !== PsType.dake3) throw new Error('not DAKE-3');
        msg = encodeDake3({ senderTag: dake3.senderTag, sigma: dake3.sigma, message: mutate(dake3.message) });
      }
      const r = await server.handle('bob@example.org', msg);
      return { r, result: r.reply ? receiveServerResult(b, local, n.state, r.reply) : undefined };
    };
    const full = { kind: 'publish' as const, clientProfile: bob.profile, prekeyProfile: bob.prekeyProfile, prekeys: bob.prekeys };

    // A flipped MAC byte: Failure (checked by the client) — the DAKE signature still verifies because it does
    // not cover the attached message; the MAC does.
    const macFlip = await publishWith(full, (m) => {
      const c = m.slice();
      c[c.length - 1]! ^= 1;
      return c;
    });
    assert.equal(macFlip.result, { kind: 'failure' });
    assert.is(macFlip.r.error?.code, 'BAD_MAC');

    // Invalid values, each with valid MACs and proofs over them: Failure.
    const torsionPrekey: PrekeySecrets = { ...bob.prekeys[0]!, message: { ...bob.prekeys[0]!.message, y: TORSION } };
    const cases: [string, Parameters<typeof receiveDake2>[6], string][] = [
      ['invalid Y', { kind: 'publish', prekeys: [torsionPrekey] }, 'INVALID_POINT'],
      ['prekey of another instance', { kind: 'publish', prekeys: generatePrekeyMessages(b, rnd, BOB_TAG + 1, 1) }, 'INVALID_ARGUMENT'],
      ['expired prekey profile', { kind: 'publish', prekeyProfile: createPrekeyProfile(b, rnd, { ownerTag: BOB_TAG, identitySecret: bob.identitySecret, expiry: expiryFromNow(NOW_MS - 86400_000, 3600) }) }, 'EXPIRED'],
      ['prekey profile by another key', { kind: 'publish', prekeyProfile: createPrekeyProfile(b, rnd, { ownerTag: BOB_TAG, identitySecret: rnd(57), expiry: expiryFromNow(NOW_MS) }) }, 'BAD_SIGNATURE'],
      ['client profile of another key', { kind: 'publish', clientProfile: makeParty(b, rnd, BOB_TAG, 'x', 'y').profile }, 'BAD_SIGNATURE'],
      ['too many prekeys for the instance', { kind: 'publish', prekeys: generatePrekeyMessages(b, rnd, BOB_TAG, 5) }, 'LIMIT_EXCEEDED'],
    ];
    for (const [what, req, code] of cases) {
      if (code === 'INVALID_ARGUMENT') {
        // The client refuses to build it; the server-side check is exercised by the proofs test below.
        await rejectsAsync(publishWith(req), code);
        continue;
      }
      const out = await publishWith(req);
      assert.equal(out.result, { kind: 'failure' }, what);
      assert.is(out.r.error?.code, code, `${what}: ${out.r.error?.message}`);
    }
    // Nothing of the refused publications was stored.
    assert.equal(await runServerRequest(b, rnd, send, local, info, { kind: 'storage-status' }), { kind: 'storage-status', count: 0, low: true });
    // And the server still serves a good publication.
    assert.equal((await publishWith(full)).result, { kind: 'success' });
  });

  t('client-side checks: wrong server key, forged outcome, answers for another instance', async () => {
    const rnd = seededRandom(24);
    const { info, transport } = makeServer(b, 400);
    const bob = makePublisher(b, rnd, BOB_TAG, 1);
    const local = psLocal(bob, 'bob@example.org');
    const send = transport('bob@example.org');
    const s = startServerDake(b, rnd, local);
    const d2 = fromServerText(await send(toServerText(s.message)));
    const impostor = { ...info, publicKey: ed448KeyPair(b, rnd(57)).publicKey };
    rejects(() => receiveDake2(b, rnd, local, impostor, s.state, d2, { kind: 'storage-status' }), 'BAD_SIGNATURE');
    rejects(() => receiveDake2(b, rnd, { ...local, identity: 'other@example.org' }, info, s.state, d2, { kind: 'storage-status' }), 'BAD_SIGNATURE');
    const n = receiveDake2(b, rnd, local, info, s.state, d2, { kind: 'publish', prekeys: bob.prekeys });
    const forged = encodeOutcome({ type: PsType.success, receiverTag: BOB_TAG, mac: new Uint8Array(64) });
    rejects(() => receiveServerResult(b, local, n.state, forged), 'BAD_MAC');
    const real = fromServerText(await send(toServerText(n.message)));
    assert.equal(receiveServerResult(b, local, n.state, real), { kind: 'success' });
    const q = fromServerText(await transport('a@x')(toServerText(ensembleQuery(ALICE_TAG, 'bob@example.org'))));
    rejects(() => receiveEnsembles(q, ALICE_TAG + 1, 'bob@example.org'), 'STATE');
    rejects(() => receiveEnsembles(q, ALICE_TAG, 'carol@example.org'), 'STATE');
  });

  t('proofs: honest ones verify; any change to c, v, a value or the context fails', () => {
    const rnd = seededRandom(25);
    const m = proofContext(b, rnd(64));
    const ps = generatePrekeyMessages(b, rnd, BOB_TAG, 3);
    const ecdhPairs = ps.map((p) => p.ecdh);
    const dhPairs = ps.map((p) => p.dh);
    const ep = proveEcdh(b, rnd, PrekeyServerUsage.proofMessageEcdh, ecdhPairs, m);
    const dp = proveDh(b, rnd, dhPairs, m);
    const Y = ps.map((p) => p.message.y);
    const B = ps.map((p) => p.message.b);
    assert.ok(verifyEcdhProof(b, PrekeyServerUsage.proofMessageEcdh, Y, m, ep));
    assert.ok(verifyDhProof(b, B, m, dp));
    const flip = (a: Uint8Array, i = 3) => {
      const c = a.slice();
      c[i]! ^= 1;
      return c;
    };
    assert.not.ok(verifyEcdhProof(b, PrekeyServerUsage.proofMessageEcdh, Y, m, { ...ep, c: flip(ep.c) }));
    assert.not.ok(verifyEcdhProof(b, PrekeyServerUsage.proofMessageEcdh, Y, m, { ...ep, v: flip(ep.v) }));
    assert.not.ok(verifyEcdhProof(b, PrekeyServerUsage.proofSharedEcdh, Y, m, ep), 'usage is bound');
    assert.not.ok(verifyEcdhProof(b, PrekeyServerUsage.proofMessageEcdh, [Y[0]!, Y[2]!, Y[1]!], m, ep));
    assert.not.ok(verifyEcdhProof(b, PrekeyServerUsage.proofMessageEcdh, Y, flip(m), ep));
    // A key whose secret the prover does not know (someone else's Y) fails.
    const stranger = generatePrekeyMessages(b, rnd, BOB_TAG, 1)[0]!;
    assert.not.ok(verifyEcdhProof(b, PrekeyServerUsage.proofMessageEcdh, [Y[0]!, Y[1]!, stranger.message.y], m, ep));
    assert.not.ok(verifyDhProof(b, B, m, { ...dp, c: flip(dp.c) }));
    assert.not.ok(verifyDhProof(b, B, m, { ...dp, v: flip(dp.v, 10) }));
    assert.not.ok(verifyDhProof(b, [B[0]!, B[1]!, stranger.message.b], m, dp));
    assert.not.ok(verifyDhProof(b, B, flip(m), dp));
  });

  t('rate limits per identity (injected clock) and bounded pending DAKEs', async () => {
    const rnd = seededRandom(26);
    const { clock, server, info, transport } = makeServer(b, 500, {
      fetchRate: { burst: 3, perSecond: 1 },
      targetRate: { burst: 3, perSecond: 1 },
      publishRate: { burst: 2, perSecond: 0.5 },
      limits: { maxPendingDakes: 3, pendingDakeTtlMs: 10_000 },
    });
    const q = toServerText(ensembleQuery(ALICE_TAG, 'bob@example.org'));
    for (let i = 0; i < 3; i++) assert.ok((await server.handleText('alice@example.org', q)).reply);
    assert.is((await server.handleText('alice@example.org', q)).error?.code, 'LIMIT_EXCEEDED');
    // Per requested identity too: another requester for the same target is limited.
    assert.is((await server.handleText('carol@example.org', q)).error?.code, 'LIMIT_EXCEEDED');
    clock.elapse(1500);
    assert.ok((await server.handleText('alice@example.org', q)).reply, 'tokens come back with time');
    // Publishing: two DAKE-1s, then refused.
    const bob = makePublisher(b, rnd, BOB_TAG, 1);
    const local = psLocal(bob, 'bob@example.org');
    for (let i = 0; i < 2; i++) assert.ok((await server.handle('bob@example.org', startServerDake(b, rnd, local).message)).reply);
    assert.is((await server.handle('bob@example.org', startServerDake(b, rnd, local).message)).error?.code, 'LIMIT_EXCEEDED');
    // Pending DAKEs: at most 3, however many identities start one (each its own requester here, holding one:
    // a full table refuses the newcomers rather than evict anyone's only DAKE; attacks/prekey-server-dake-flood).
    for (let i = 0; i < 6; i++) await server.handle(`user${i}@example.org`, startServerDake(b, rnd, local).message);
    assert.is(server.pendingDakes, 3);
    // A DAKE left waiting past its time is gone (the full table's DAKEs expire first, which makes room).
    clock.elapse(11_000);
    const late = { ...local, identity: 'late@example.org' };
    const s = startServerDake(b, rnd, late);
    const d2 = fromServerText(await transport('late@example.org')(toServerText(s.message)));
    const n = receiveDake2(b, rnd, late, info, s.state, d2, { kind: 'storage-status' });
    clock.elapse(11_000);
    assert.is((await server.handle('late@example.org', n.message)).error?.code, 'STATE');
  });

  if (b === JS) {
    t('hostile input: every decoder, and the server keeps serving', async () => {
      const rnd = seededRandom(27);
      const { server, info, transport } = makeServer(b, 600);
      const bob = makePublisher(b, rnd, BOB_TAG, 2);
      const local = psLocal(bob, 'bob@example.org');
      // Collect one of every message the protocol has, from a real run.
      const samples: Uint8Array[] = [];
      const s = startServerDake(b, rnd, local);
      samples.push(s.message);
      const d2 = fromServerText(await transport('bob@example.org')(toServerText(s.message)));
      samples.push(d2);
      const n = receiveDake2(b, rnd, local, info, s.state, d2, { kind: 'publish', clientProfile: bob.profile, prekeyProfile: bob.prekeyProfile, prekeys: bob.prekeys });
      samples.push(n.message);
      const dake3 = decodePsMessage(n.message);
      if (dake3.type === PsType.dake3) samples.push(dake3.message);
      samples.push(fromServerText(await transport('bob@example.org')(toServerText(n.message))));
      const q = ensembleQuery(ALICE_TAG, 'bob@example.org');
      samples.push(q);
      samples.push(fromServerText(await transport('a@x')(toServerText(q))));
      samples.push(fromServerText(await transport('a@x')(toServerText(ensembleQuery(ALICE_TAG, 'nobody')))));
      const types = new Set(samples.map((m) => decodePsMessage(m).type));
      assert.is(types.size, samples.length, 'one sample per type');
      const codec = { decode: (x: Uint8Array) => decodePsMessage(x) };
      for (const m of samples) {
        assertTruncationsRejected(codec, m);
        assertBitFlipsSafe(codec, m, m.length > 1500 ? 11 : 1);
        assertRandomSafe(codec, 31, 200, m);
      }
      assertRandomSafe(codec, 32, 500);
      // The server: random and mutated input never throws, always a typed error or a protocol reply.
      const r = seededRandom(33);
      for (let i = 0; i < 300; i++) {
        const base = samples[i % samples.length]!;
        const m = base.slice(0, r(1)[0]! * 4);
        if (m.length > 0) m[r(1)[0]! % m.length]! ^= 1 << (i % 8);
        const out = await server.handle(`fuzz${i % 7}@example.org`, i % 3 === 0 ? r(r(1)[0]!) : m);
        assert.ok(out.reply || out.error instanceof OtrError);
      }
      for (const text of ['', '.', 'not base64!.', 'AAAA', '='.repeat(10) + '.', 'A'.repeat(300_000)]) {
        const out = await server.handleText('x@example.org', text);
        assert.instance(out.error, OtrError);
      }
      // Still serving.
      const fresh = makePublisher(b, rnd, 0x4444, 1);
      assert.equal(
        await runServerRequest(b, rnd, transport('dora@example.org'), psLocal(fresh, 'dora@example.org'), info, {
          kind: 'publish',
          clientProfile: fresh.profile,
          prekeyProfile: fresh.prekeyProfile,
          prekeys: fresh.prekeys,
        }),
        { kind: 'success' },
      );
    });
  }

  t.run();
}
