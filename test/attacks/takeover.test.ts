/**
 * Attack: session takeover without the host noticing (issue 10, "Session takeover must be visible"). Anyone
 * with any key can run a DAKE under the peer's instance tag (replacing the honest session) or under a new tag
 * (which then becomes the instance send() uses); the host used to see only another `encrypted` event. The
 * spec allows a new DAKE, so the library tells the host: `session-replaced`, `instance-switched` and
 * `fingerprint-changed` (against the last fingerprint seen for this peer, kept in the account's saved state).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type OtrEvent } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, BOB_ID, establish, makePair, pump, type Pair } from '../helpers/session-pair.js';

const be = WASM;

/** Mallory: her own keys, claiming to be Bob, under `tag`. */
function mallory(p: Pair, tag: number, seed = 500) {
  const acct = Account.create({ accountId: BOB_ID, backend: be, random: seededRandom(seed), clock: p.clock, dsaKey: null, instanceTag: tag });
  return { acct, conv: acct.conversation(ALICE_ID) };
}

function eventsAtAlice(p: Pair, from: ReturnType<typeof mallory>['conv']): OtrEvent[] {
  return pump(from, p.a, from.startDake()).b.flatMap((o) => o.events);
}

test("a DAKE under the peer's own instance tag with another key: session-replaced and fingerprint-changed", () => {
  const p = makePair(be, 90);
  establish(p);
  const honest = p.a.peerFingerprint!;
  const m = mallory(p, p.bob.instanceTag);
  const ev = eventsAtAlice(p, m.conv);
  assert.ok(ev.some((e) => e.type === 'encrypted'));
  assert.ok(ev.some((e) => e.type === 'session-replaced' && e.instance === p.bob.instanceTag));
  const changed = ev.find((e) => e.type === 'fingerprint-changed');
  assert.ok(changed && changed.type === 'fingerprint-changed' && changed.previous === honest && changed.fingerprint === m.acct.fingerprint);
  assert.not.ok(ev.some((e) => e.type === 'instance-switched'), 'same instance');
});

test('a DAKE under a new instance tag that becomes current: instance-switched and fingerprint-changed', () => {
  const p = makePair(be, 91);
  establish(p);
  const m = mallory(p, 0x6666_0600);
  const ev = eventsAtAlice(p, m.conv);
  const sw = ev.find((e) => e.type === 'instance-switched');
  assert.ok(sw && sw.type === 'instance-switched' && sw.from === p.bob.instanceTag && sw.to === 0x6666_0600 && sw.version === 4);
  assert.ok(ev.some((e) => e.type === 'fingerprint-changed'));
  assert.not.ok(ev.some((e) => e.type === 'session-replaced'), 'a new instance replaces no session');
  assert.is(p.a.currentInstance, 0x6666_0600);
});

test("the honest peer's new DAKE on the same instance: session-replaced only (same fingerprint)", () => {
  const p = makePair(be, 92);
  establish(p);
  const ev = pump(p.b, p.a, p.b.startDake()).b.flatMap((o) => o.events);
  assert.ok(ev.some((e) => e.type === 'session-replaced'));
  assert.not.ok(ev.some((e) => e.type === 'fingerprint-changed' || e.type === 'instance-switched'));
});

test("the honest peer's second device: instance-switched, but the same fingerprint is no change", () => {
  const p = makePair(be, 93);
  establish(p);
  // The same identity key on another device, under another tag.
  const other = Account.create({ accountId: BOB_ID, backend: be, random: seededRandom(94), clock: p.clock, dsaKey: null, identitySecret: p.bob.identity.secret, instanceTag: 0x7777_0700 });
  const ev = eventsAtAlice(p, other.conversation(ALICE_ID));
  assert.ok(ev.some((e) => e.type === 'instance-switched'));
  // The forging key differs per device here, so the fingerprint (H, F) differs too: reported.
  assert.is(ev.some((e) => e.type === 'fingerprint-changed'), other.fingerprint !== p.bob.fingerprint);
});

test('the last-seen fingerprint is kept in the saved account: a takeover after a restart is still reported', () => {
  const p = makePair(be, 95);
  establish(p);
  p.a.end();
  const restored = Account.restore(p.alice.serialize(), { backend: be, random: p.randA, clock: p.clock });
  const a2 = restored.conversation(BOB_ID);
  const m = mallory(p, p.bob.instanceTag, 501);
  const ev = pump(m.conv, a2, m.conv.startDake()).b.flatMap((o) => o.events);
  assert.ok(ev.some((e) => e.type === 'fingerprint-changed'));
  // The record now holds Mallory's fingerprint (the trust decision is the host's).
  assert.is(restored.fingerprints.get(BOB_ID)?.v4, m.acct.fingerprint);
});

test.run();
