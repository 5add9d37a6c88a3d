/**
 * Devices (issue 13, item 2): the peer logged in twice (two instance tags of one account id). Messages for
 * another of our instances are `ignored` with a reason (never `unreadable`, never answered with an error);
 * `send(text, { instance: 'all' })` reaches every device with a session; `conversation.devices` lists them
 * with fingerprint, trust and state. Both backends.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../ts/index.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { ALICE_ID, BOB_ID, establish, makePair, pump, type Pair } from './helpers/session-pair.js';

const PHONE_TAG = 0x7777_0700;

/** Bob's second device: another account object under Bob's id, with its own keys and instance tag. */
function phone(p: Pair, be: (typeof BACKENDS)[number]) {
  const acct = Account.create({ accountId: BOB_ID, backend: be, random: seededRandom(800), clock: p.clock, dsaKey: null, instanceTag: PHONE_TAG });
  return { acct, conv: acct.conversation(ALICE_ID) };
}

for (const be of BACKENDS) {
  test(`two devices of the peer: devices lists both; send to 'all' reaches each; each ignores the other's copy [${be.name}]`, () => {
    const p = makePair(be, 400);
    establish(p);
    const ph = phone(p, be);
    pump(ph.conv, p.a, ph.conv.startDake());
    assert.is(ph.conv.state, 'ENCRYPTED_MESSAGES');
    p.a.verifyFingerprint(p.bob.fingerprint);

    const devices = p.a.devices.sort((x, y) => x.instance - y.instance);
    assert.is(devices.length, 2);
    const laptop = devices.find((d) => d.instance === p.bob.instanceTag)!;
    const mobile = devices.find((d) => d.instance === PHONE_TAG)!;
    assert.equal(
      { fp: laptop.fingerprint, trust: laptop.trust, state: laptop.state, v: laptop.version, current: laptop.current },
      { fp: p.bob.fingerprint, trust: 'verified-hand', state: 'ENCRYPTED_MESSAGES', v: 4, current: false },
    );
    assert.equal(
      { fp: mobile.fingerprint, trust: mobile.trust, state: mobile.state, current: mobile.current, healing: mobile.healing },
      { fp: ph.acct.fingerprint, trust: 'unverified', state: 'ENCRYPTED_MESSAGES', current: true, healing: false },
    );

    const out = p.a.send('to every device', { instance: 'all' });
    assert.is(out.toSend.length, 2);
    // The network delivers every copy to both devices (as XMPP carbons or a shared account would).
    for (const [dev, tag] of [[p.b, p.bob.instanceTag], [ph.conv, PHONE_TAG]] as const) {
      const results = out.toSend.map((t) => dev.receive(t));
      assert.equal(results.flatMap((r) => r.messages.map((m) => m.text)), ['to every device'], `device ${tag.toString(16)}`);
      const other = results.find((r) => r.messages.length === 0)!;
      assert.equal(other.toSend, [], 'a copy for the other device is never answered with an error');
      assert.ok(other.events.some((e) => e.type === 'ignored' && /another of our instances/.test(e.reason)), JSON.stringify(other.events));
      assert.not.ok(other.events.some((e) => e.type === 'unreadable'));
    }
    // Without 'all', only the current device gets it.
    assert.is(p.a.send('just the phone').toSend.length, 1);
  });

  test(`send to 'all' with no session behaves like send (queued under requireEncryption) [${be.name}]`, () => {
    const p = makePair(be, 401, { policy: { requireEncryption: true } });
    const out = p.a.send('early', { instance: 'all' });
    assert.ok(out.events.some((e) => e.type === 'not-sent' && e.reason === 'queued'));
    assert.ok(out.toSend.every((s) => s.startsWith('?OTR')), 'nothing in plaintext');
    assert.equal(p.a.devices, []);
  });

  test(`a message for our other instance from an instance we have no session with is ignored, not answered [${be.name}]`, () => {
    const p = makePair(be, 402);
    establish(p);
    const ph = phone(p, be);
    // Alice's second device (another instance of Alice) talks with Bob's phone; Alice's laptop sees the traffic.
    const aliceTablet = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(801), clock: p.clock, dsaKey: null, instanceTag: 0x7777_0800 });
    const t = aliceTablet.conversation(BOB_ID);
    pump(ph.conv, t, ph.conv.startDake());
    const stray = ph.conv.send('for the tablet').toSend[0]!;
    const r = p.a.receive(stray);
    assert.equal(r.toSend, []);
    assert.ok(r.events.some((e) => e.type === 'ignored' && /another of our instances/.test(e.reason)));
    assert.not.ok(r.events.some((e) => e.type === 'unreadable'));
    assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  });
}

test.run();
