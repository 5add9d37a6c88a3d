/**
 * Sessions that heal (issue 13, item 3): the peer's ERROR_1/ERROR_2, or unreadable data messages in a row from
 * an instance we have a session with, start a new DAKE by itself; messages the peer may not have read are
 * re-sent on the new session; sends during the repair are queued; expiry queues and restarts. Every step is a
 * `heal` event. Both backends.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome, type OtrEvent } from '../ts/index.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { dearmour, armour } from '../ts/codec/armour.js';
import { ALICE_ID, BOB_ID, establish, makePair, pump } from './helpers/session-pair.js';

const evs = (outs: Outcome[]): OtrEvent[] => outs.flatMap((o) => o.events);
const shown = (outs: Outcome[]) => outs.flatMap((o) => o.messages.map((m) => m.text));
const heals = (outs: Outcome[]) => evs(outs).filter((e) => e.type === 'heal').map((e) => (e.type === 'heal' ? `${e.step}:${e.reason}${e.count !== undefined ? `:${e.count}` : ''}` : ''));

for (const be of BACKENDS) {
  test(`the peer lost its session (crash without state): its error makes us re-key and re-send what it did not read [${be.name}]`, () => {
    const p = makePair(be, 500);
    establish(p);
    pump(p.a, p.b, p.a.send('read before the crash'));
    // Bob comes back with nothing but his keys: a state saved before any conversation.
    const fresh = Account.create({ accountId: BOB_ID, backend: be, random: seededRandom(5001), clock: p.clock, dsaKey: null, instanceTag: p.bob.instanceTag });
    const b2 = fresh.conversation(ALICE_ID);
    const lost = p.a.send('lost in the crash');
    const log = pump(p.a, b2, lost);
    // Bob never answered after the first message either, so OTR cannot know he read it: both are sent again
    // (at-least-once; docs/trust.md). A reply from Bob would have confirmed the first.
    assert.equal(shown(log.b), ['read before the crash', 'lost in the crash'], 'what the peer may not have read arrives on the new session');
    assert.equal(heals(log.a), ['started:peer-error:2', 'completed:peer-error', 'resent:peer-error:2']);
    assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
    assert.is(b2.state, 'ENCRYPTED_MESSAGES');
    assert.equal(shown(pump(b2, p.a, b2.send('back')).b), ['back']);
  });

  test(`a reply confirms what came before it: only later messages are re-sent [${be.name}]`, () => {
    const p = makePair(be, 504);
    establish(p);
    pump(p.a, p.b, p.a.send('confirmed'));
    pump(p.b, p.a, p.b.send('reply'));
    const fresh = Account.create({ accountId: BOB_ID, backend: be, random: seededRandom(5041), clock: p.clock, dsaKey: null, instanceTag: p.bob.instanceTag });
    const b2 = fresh.conversation(ALICE_ID);
    const log = pump(p.a, b2, p.a.send('unconfirmed'));
    assert.equal(shown(log.b), ['unconfirmed']);
  });

  test(`unreadable data in a row from an instance with a session starts a repair; readable ones reset the count [${be.name}]`, () => {
    const p = makePair(be, 501);
    establish(p);
    const damaged = () => {
      const bytes = dearmour(p.b.send('x').toSend[0]!);
      bytes[bytes.length - 3]! ^= 1; // inside the authenticator
      return armour(bytes);
    };
    const first = [p.a.receive(damaged()), p.a.receive(damaged())];
    assert.equal(heals(first), []);
    pump(p.b, p.a, p.b.send('fine')); // a readable message in between resets the run
    const run = [p.a.receive(damaged()), p.a.receive(damaged()), p.a.receive(damaged())];
    assert.equal(heals(run), ['started:unreadable:0']);
    // During the repair, Alice's sends wait for the new session.
    const waiting = p.a.send('after the repair');
    assert.ok(waiting.events.some((e) => e.type === 'not-sent' && e.reason === 'queued'));
    assert.is(p.a.devices[0]!.healing, true);
    const identity = run[2]!.toSend.find((s) => s.startsWith('?OTR:'))!;
    const log = pump(p.a, p.b, { toSend: [identity], messages: [], events: [] });
    assert.equal(shown(log.b), ['after the repair']);
    assert.ok(heals(log.a).includes('completed:unreadable'));
  });

  test(`expiry: the next message is queued and a new DAKE starts instead of refusing it [${be.name}]`, () => {
    const p = makePair(be, 502, { policy: { sessionExpiryMs: 60_000 } });
    establish(p);
    p.clock.advance(61_000);
    pump(p.a, p.b, p.a.poll()); // Alice expires: the disconnect reaches Bob (FINISHED)
    assert.is(p.b.state, 'FINISHED');
    const out = p.a.send('after a long pause');
    assert.ok(out.events.some((e) => e.type === 'not-sent' && e.reason === 'queued'));
    assert.equal(heals([out]), ['started:expired:0']);
    const log = pump(p.a, p.b, out);
    assert.equal(shown(log.b), ['after a long pause']);
    assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
    assert.is(p.b.state, 'ENCRYPTED_MESSAGES');
    // The peer's own end is still the user's decision: no restart when the peer ended.
    pump(p.b, p.a, p.b.end());
    const refused = p.a.send('to a peer who ended');
    assert.ok(refused.events.some((e) => e.type === 'not-sent' && e.reason === 'finished'));
    assert.equal(refused.toSend, []);
  });

  test(`policy.healSessions false: the peer's error changes nothing while encrypted [${be.name}]`, () => {
    const p = makePair(be, 503, { policy: { healSessions: false } });
    establish(p);
    const r = p.a.receive('?OTR Error: ERROR_1: Unreadable message');
    assert.equal(r.toSend, []);
    assert.equal(heals([r]), []);
    assert.ok(r.events.some((e) => e.type === 'peer-error'));
  });
}

test.run();
