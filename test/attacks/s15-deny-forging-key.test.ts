/**
 * Session 15: the spec's option to keep the forging key (otrv4.md §Forger Keys: "a secure messaging
 * application should ask users whether or not they would like to save the forging keys"), off by default.
 * `forgingPublicKey` takes the public half of a pair the host made (generateForgingKey, otr4/forge) and keeps
 * apart; the account never sees the secret. With it, the user can show "Bob" starting a DAKE that the user's
 * own software accepts — the online forgery the forging key exists for — while a judge cannot tell from the
 * protocol whether this user kept the key. Hostile input: a value that is not a valid point is refused typed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { OtrArgumentError } from '../../ts/errors.js';
import { forgeAuthI, forgeIdentity, generateForgingKey } from '../../ts/forge/index.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, BOB_ID, testClock } from '../helpers/session-pair.js';

const be = WASM;

function accounts(seed: number, forgingPublicKey?: Uint8Array) {
  const clock = testClock();
  const common = { backend: be, clock, dsaKey: null };
  const alice = Account.create({ accountId: ALICE_ID, random: seededRandom(seed), ...common, ...(forgingPublicKey ? { forgingPublicKey } : {}) });
  const bob = Account.create({ accountId: BOB_ID, random: seededRandom(seed + 1), ...common });
  return { alice, bob, clock };
}

/** "Bob" starts a DAKE with Alice, forged by whoever holds `signer`; Alice's real account answers. Returns her state. */
function forgedDakeFromBob(seed: number, forgingPublicKey: Uint8Array | undefined, signer: { secret: Uint8Array; public: Uint8Array }) {
  const { alice, bob } = accounts(seed, forgingPublicKey);
  const rnd = seededRandom(seed + 2);
  const a = alice.conversation(BOB_ID);
  const id = forgeIdentity(be, rnd, { profile: bob.clientProfile, accountId: BOB_ID }, alice.instanceTag);
  const authR = a.receive(id.message).toSend;
  assert.is(authR.length, 1, 'Alice answers the Identity');
  const i = forgeAuthI(be, rnd, { identity: id, authR: authR[0]!, responderAccountId: ALICE_ID, signer });
  a.receive(i.message);
  return a.state;
}

test('a kept forging key: its holder forges a DAKE "from Bob" that her own account accepts', () => {
  const forging = generateForgingKey(be, seededRandom(1530));
  const { alice } = accounts(1531, forging.public);
  assert.equal([...alice.clientProfile.forgingKey], [...forging.public], 'the profile carries the kept key');
  assert.is(forgedDakeFromBob(1531, forging.public, forging), 'ENCRYPTED_MESSAGES');
});

test('by default (the key wiped), nobody can make that forgery: no other secret signs for her forging key', () => {
  const other = generateForgingKey(be, seededRandom(1532));
  assert.throws(() => forgedDakeFromBob(1533, undefined, other), /not a member of the ring/);
});

test('the kept key restores with the account (public half only: the record has no secret of it)', () => {
  const forging = generateForgingKey(be, seededRandom(1534));
  const { alice, clock } = accounts(1535, forging.public);
  const restored = Account.restore(alice.serialize(), { backend: be, clock });
  assert.equal([...restored.clientProfile.forgingKey], [...forging.public]);
  const hex = Buffer.from(alice.serialize()).toString('hex');
  assert.not.ok(hex.includes(Buffer.from(forging.secret).toString('hex')), 'the secret is nowhere in the record');
});

test('refused, typed: a forging key that is not 57 bytes or not a valid point', () => {
  const clock = testClock();
  for (const bad of [new Uint8Array(56), new Uint8Array(57).fill(0xff), 'key' as unknown as Uint8Array]) {
    assert.throws(
      () => Account.create({ accountId: ALICE_ID, backend: be, clock, dsaKey: null, random: seededRandom(1536), forgingPublicKey: bad }),
      (e: unknown) => e instanceof OtrArgumentError,
    );
  }
});

test.run();
