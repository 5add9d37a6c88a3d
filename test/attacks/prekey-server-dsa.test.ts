/**
 * Attack: a client profile with a 1-megabit DSA `p` (issue 10, "one message must not cost seconds of CPU").
 * Before the bound, the server read the transitional key unbounded and checked it with BigInt modPow: one
 * DAKE-1 froze the prekey server for every client for 13.5 s. The bound itself lives in ts/crypto/dsa.ts
 * (readBoundedDsaPublicKey, used by the profile decoder): the server must refuse such a profile while
 * decoding — a typed MALFORMED error naming DSA p, no reply, no arithmetic — in a DAKE-1 and in a published
 * client profile alike, and keep serving.
 * (This suite expects that bound: it passes once main's af79e7b is merged with this branch.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ed448KeyPair } from '../../ts/crypto/eddsa.js';
import { expiryFromNow, signClientProfile } from '../../ts/profile/client-profile.js';
import { encodeDake1, ensembleQuery, MemoryStore, PrekeyServer, runServerRequest, toServerText } from '../../ts/prekey-server/index.js';
import { makePublisher, NOW_MS } from '../prekey-fixtures.test.js';
import { OtrError } from '../../ts/errors.js';

const b = WASM;

/** A profile signed (Ed448) by the attacker's own key, carrying a DSA key whose p has `bits` bits. */
function hostileProfile(tag: number, bits: number) {
  const rnd = seededRandom(3);
  const secret = rnd(57);
  const p = (1n << BigInt(bits - 1)) | 1n;
  return signClientProfile(
    b,
    {
      ownerTag: tag,
      identityKey: ed448KeyPair(b, secret).publicKey,
      forgingKey: ed448KeyPair(b, rnd(57)).publicKey,
      versions: '34',
      expiry: expiryFromNow(NOW_MS),
      dsaKey: { p, q: (1n << 159n) | 1n, g: 2n, y: 3n },
      transitionalSignature: rnd(40),
    },
    secret,
  );
}

function server() {
  return new PrekeyServer({ backend: b, random: seededRandom(1), now: () => NOW_MS, identity: 'prekey.test', identitySecret: seededRandom(2)(57), store: new MemoryStore() });
}

test('a DAKE-1 whose client profile has a 1-megabit DSA p is refused while decoding, and the server keeps serving', async () => {
  const s = server();
  const profile = hostileProfile(0x4444, 1 << 20);
  const dake1 = encodeDake1({ senderTag: 0x4444, profile, i: ed448KeyPair(b, seededRandom(9)(57)).publicKey });
  const r = await s.handleText('mallory@example.org', toServerText(dake1), { requester: '192.0.2.1' });
  assert.is(r.reply, undefined, 'no reply');
  assert.instance(r.error, OtrError);
  assert.is(r.error!.code, 'MALFORMED', r.error!.message);
  assert.match(r.error!.message, /DSA p/);
  assert.is(s.pendingDakes, 0);
  const ok = await s.handleText('alice@example.org', toServerText(ensembleQuery(0x0a0a, 'bob@example.org')));
  assert.ok(ok.reply, 'still serving');
});

test('a publication carrying such a client profile is refused while decoding', async () => {
  const s = server();
  const rnd = seededRandom(4);
  const bob = makePublisher(b, rnd, 0x0b0b, 0);
  const local = { identity: 'bob@example.org', instanceTag: 0x0b0b, profile: bob.profile, identityScalar: bob.identityScalar };
  const send = async (text: string) => {
    const r = await s.handleText('bob@example.org', text);
    if (!r.reply) throw r.error;
    return r.reply;
  };
  await runServerRequest(b, rnd, send, local, { identity: 'prekey.test', publicKey: s.publicKey }, { kind: 'publish', clientProfile: hostileProfile(0x0b0b, 1 << 20) }).then(
    () => assert.unreachable('accepted'),
    (e: unknown) => {
      assert.instance(e, OtrError);
      assert.is((e as OtrError).code, 'MALFORMED', (e as Error).message);
    },
  );
});

test.run();
