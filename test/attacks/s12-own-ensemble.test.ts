/**
 * Attack (session 12; left open by session 11's review): a hostile prekey server answers Alice's query for Bob's
 * ensembles with Alice's own (she published them to the same server). Everything in them validates — her own
 * signatures — so she used to run the non-interactive DAKE with herself: an instance keyed by her own instance
 * tag (every message from it is ignored as reflected, so the session can never hear back), her text encrypted
 * to nobody, `send()` aimed there from then on, and her own fingerprint recorded as Bob's last-seen key — after
 * which the real Bob's key reads as a change (a takeover warning; with policy.refuseUnverifiedChange, Bob's
 * genuine sessions refused). Nobody learns anything, but Bob is unreachable until the user sorts out the trust
 * store by hand.
 *
 * Now an ensemble whose instance tag is ours, or whose long-term key is ours while the peer is not our own
 * account, is refused before any signature is checked (InvalidEnsembleError, defect `own-ensemble`), reported
 * like every refused ensemble (an `ignored` event); nothing is sent, nothing recorded. Writing to another
 * device of our own account that shares our long-term key (peer = our account id, another instance tag) stays
 * possible.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { fetchEnsembles, runServerRequest } from '../../ts/prekey-server/index.js';
import { chooseEnsembles, InvalidEnsembleError, type PrekeyEnsemble } from '../../ts/prekey/index.js';
import { sendNonInteractiveAuth } from '../../ts/offline/index.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, BOB_ID } from '../helpers/session-pair.js';
import { prekeyWorld } from '../helpers/prekey-world.js';

function world(seed: number) {
  const { clock, transport, info } = prekeyWorld(be, seed);
  const mk = (id: string, s: number, identitySecret?: Uint8Array) =>
    Account.create({ accountId: id, backend: be, random: seededRandom(s), clock, dsaKey: null, ...(identitySecret ? { identitySecret } : {}) });
  /** `account` publishes under `identity`; what the server hands out for that identity. */
  const published = async (account: Account, identity: string): Promise<PrekeyEnsemble[]> => {
    const res = await runServerRequest(be, account.random, transport(identity), account.prekeyServerLocal(identity), info, account.prekeyPublication(3));
    assert.equal(res, { kind: 'success' });
    const fetched = await fetchEnsembles(transport('someone@example.org'), 0x1234_5678, identity);
    if (fetched.kind !== 'ensembles') throw new Error(`no ensembles for ${identity}`);
    return [...fetched.ensembles];
  };
  return { clock, mk, published };
}

test("our own ensemble handed out as the peer's: refused before any work, nothing sent or recorded", async () => {
  const w = world(4100);
  const alice = w.mk(ALICE_ID, 4102);
  const own = await w.published(alice, ALICE_ID);
  const conv = alice.conversation(BOB_ID);
  const out = conv.sendOffline(own, 'hello Bob'); // the hostile server's answer to "Bob's ensembles"
  assert.is(out.toSend.length, 0, 'nothing sent to ourselves');
  assert.not.ok(out.events.some((e) => e.type === 'encrypted'), 'no session with ourselves');
  assert.ok(out.events.some((e) => e.type === 'ignored' && /own-ensemble/.test(e.reason)), JSON.stringify(out.events));
  assert.is(conv.state, 'START', 'as fresh');
  assert.equal(conv.devices, [], 'no instance under our own tag');
  assert.is(alice.fingerprints.get(BOB_ID), undefined, "our own fingerprint is not recorded as Bob's");
});

test("the real Bob afterwards: his key is Bob's first, not a change (refuseUnverifiedChange does not refuse him)", async () => {
  const w = world(4200);
  const alice = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(4202), clock: w.clock, dsaKey: null, policy: { refuseUnverifiedChange: true } });
  const bob = w.mk(BOB_ID, 4203);
  const own = await w.published(alice, ALICE_ID);
  alice.conversation(BOB_ID).sendOffline(own, 'hello Bob');
  // Bob, online: an interactive DAKE.
  const a = alice.conversation(BOB_ID);
  const b = bob.conversation(ALICE_ID);
  let toBob = a.start().toSend;
  const events = [];
  for (let guard = 0; toBob.length > 0 && guard < 10; guard++) {
    const toAlice = toBob.flatMap((m) => b.receive(m).toSend);
    const outs = toAlice.map((m) => a.receive(m));
    events.push(...outs.flatMap((o) => o.events));
    toBob = outs.flatMap((o) => o.toSend);
  }
  assert.not.ok(events.some((e) => e.type === 'session-refused' || e.type === 'fingerprint-changed'), JSON.stringify(events.map((e) => e.type)));
  assert.is(a.state, 'ENCRYPTED_MESSAGES');
  assert.equal(a.receive(b.send('it is really me').toSend[0]!).messages.map((m) => m.text), ['it is really me']);
});

test('another device of ours sharing our long-term key, handed out as a stranger: refused; to our own account: allowed', async () => {
  const w = world(4300);
  const alice = w.mk(ALICE_ID, 4302);
  // A second device of Alice's with the same long-term key and its own instance tag, publishing under her id.
  const device = w.mk(ALICE_ID, 4303, alice.identity.secret);
  assert.is.not(device.instanceTag, alice.instanceTag);
  const deviceEnsembles = await w.published(device, ALICE_ID);
  const toBob = alice.conversation(BOB_ID).sendOffline(deviceEnsembles, 'hello Bob');
  assert.is(toBob.toSend.length, 0);
  assert.ok(toBob.events.some((e) => e.type === 'ignored' && /own-ensemble/.test(e.reason)));
  assert.is(alice.fingerprints.get(BOB_ID), undefined);
  // Writing to her own account's other device is a conversation with herself on purpose: allowed.
  const toSelf = alice.conversation(ALICE_ID).sendOffline(deviceEnsembles, 'note to my other device');
  assert.ok(toSelf.events.some((e) => e.type === 'encrypted'));
  assert.equal(
    toSelf.toSend.flatMap((m) => device.conversation(ALICE_ID).receive(m).messages.map((x) => x.text)),
    ['note to my other device'],
  );
});

test('refused before the signatures are checked: our own tag with a broken signature is `own-ensemble`, not BAD_SIGNATURE', async () => {
  const w = world(4400);
  const alice = w.mk(ALICE_ID, 4402);
  const [e] = await w.published(alice, ALICE_ID);
  const sig = Uint8Array.from(e!.clientProfile.signature);
  sig[0]! ^= 1;
  const broken: PrekeyEnsemble = { ...e!, clientProfile: { ...e!.clientProfile, signature: sig } };
  const choice = chooseEnsembles(be, [broken], { nowMs: w.clock(), own: { instanceTag: alice.instanceTag, identityKey: alice.identity.publicKey } });
  assert.is(choice.chosen.length, 0);
  assert.instance(choice.rejected[0]!.error, InvalidEnsembleError);
  assert.is(choice.rejected[0]!.error.defect, 'own-ensemble');
  // The lower-level entry refuses it too (the rule is the non-interactive DAKE's, not only the conversation's).
  const local = { instanceTag: alice.instanceTag, profile: alice.clientProfile, identityScalar: alice.identity.scalar, accountId: new TextEncoder().encode(ALICE_ID), peerAccountId: new TextEncoder().encode(BOB_ID) };
  try {
    sendNonInteractiveAuth(be, alice.random, local, e!, w.clock());
    assert.unreachable('our own ensemble accepted');
  } catch (err) {
    assert.instance(err, InvalidEnsembleError);
    assert.is((err as InvalidEnsembleError).defect, 'own-ensemble');
  }
});

test.run();
