/**
 * Attack: downgrade and hijack through OTRv3 (issue 10, "Downgrade and hijack through OTRv3"). A single
 * injected `?OTRv3?` (or a whitespace tag, or any OTRv3-encoded message) used to be acted on in every OTRv4
 * state: an established OTRv4 session silently switched to OTRv3 and send() went to whoever answered — a third
 * party with her own DSA key read the next message. otrv4.md: OTRv3 messages are taken into account only in
 * START; in ENCRYPTED_MESSAGES and FINISHED queries and whitespace tags are displayed or ignored. A possible
 * downgrade is reported (`downgrade`), a change of what send() uses is reported (`version-switched`,
 * `instance-switched`), and with policy.allowV3 false nothing OTRv3 ever happens.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Outcome, OtrEvent } from '../../ts/index.js';
import { tagPlaintext } from '../../ts/codec/whitespace.js';
import { WASM } from '../helpers/backends.js';
import { pump, texts } from '../helpers/session-pair.js';
import { MALLORY_TAG, establishedV34, makeV34Pair, mallory, pumpV3 } from './attacker.js';

const be = WASM;
const events = (outs: Outcome[]): OtrEvent[] => outs.flatMap((o) => o.events);

test('ENCRYPTED_MESSAGES: an injected ?OTRv3? is ignored, reported as a downgrade, and send() still goes to Bob on v4', () => {
  const p = establishedV34(be, 10);
  const m = mallory(be, p.clock);
  const outs = pumpV3(p.a, m, ['?OTRv3?']);
  assert.equal(outs.flatMap((o) => o.toSend), [], 'nothing sent to the attacker');
  const ev = events(outs);
  assert.ok(ev.some((e) => e.type === 'downgrade' && e.reason === 'v3-only-offer'));
  assert.ok(ev.some((e) => e.type === 'ignored'));
  assert.not.ok(ev.some((e) => e.type === 'encrypted'));
  assert.is(p.a.version, 4);
  assert.is(m.msgstate, 'plaintext');
  const sent = p.a.send('for bob only').toSend;
  assert.equal(texts([p.b.receive(sent[0]!)]), ['for bob only']);
  assert.equal(m.receive(sent[0]!).toUser, [], 'the attacker reads nothing');
});

test("ENCRYPTED_MESSAGES: an attacker's D-H Commit is ignored and reported; no D-H Key is sent", () => {
  const p = establishedV34(be, 11);
  const m = mallory(be, p.clock);
  const commit = m.startAke().toSend;
  const outs = commit.map((c) => p.a.receive(c));
  assert.equal(outs.flatMap((o) => o.toSend), []);
  assert.ok(events(outs).some((e) => e.type === 'downgrade' && e.reason === 'v3-ake'));
  assert.is(p.a.version, 4);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
});

test('ENCRYPTED_MESSAGES: a whitespace tag offering only v3 is displayed with a warning, nothing starts', () => {
  const p = establishedV34(be, 12);
  const out = p.a.receive(tagPlaintext('hi there', [3]));
  assert.equal(out.toSend, []);
  assert.equal(out.messages.map((x) => x.text), ['hi there']);
  assert.ok(out.events.some((e) => e.type === 'unencrypted-warning'));
  assert.is(p.a.version, 4);
});

test('FINISHED: OTRv3 queries and messages are ignored (otrv4.md §FINISHED)', () => {
  const p = establishedV34(be, 13);
  pump(p.b, p.a, p.b.end());
  assert.is(p.a.state, 'FINISHED');
  const m = mallory(be, p.clock);
  const outs = pumpV3(p.a, m, ['?OTRv3?', ...mallory(be, p.clock, 78).startAke().toSend]);
  assert.equal(outs.flatMap((o) => o.toSend), []);
  assert.is(p.a.state, 'FINISHED');
  assert.equal(p.a.send('typed').toSend, [], 'FINISHED still refuses to send');
});

test('WAITING_AUTH_R: an OTRv3 D-H Commit does not hijack the OTRv4 DAKE under way', () => {
  const p = makeV34Pair(be, 14);
  const identity = p.a.startDake().toSend;
  assert.is(p.a.state, 'WAITING_AUTH_R');
  const m = mallory(be, p.clock);
  const outs = m.startAke().toSend.map((c) => p.a.receive(c));
  assert.equal(outs.flatMap((o) => o.toSend), []);
  // The OTRv4 DAKE completes as if nothing happened.
  pump(p.a, p.b, { toSend: identity, messages: [], events: [] });
  assert.is(p.a.version, 4);
  assert.is(p.b.version, 4);
});

test('START after an OTRv4 session: a v3-only query still falls back (policy allows it) but is reported, and so is the version switch', () => {
  const p = establishedV34(be, 15);
  p.a.end();
  p.b.end();
  assert.is(p.a.state, 'START');
  const m = mallory(be, p.clock);
  const outs = pumpV3(p.a, m, ['?OTRv3?']);
  const ev = events(outs);
  assert.ok(ev.some((e) => e.type === 'downgrade' && e.reason === 'v3-only-offer'), 'the offer is reported');
  assert.ok(ev.some((e) => e.type === 'downgrade' && e.reason === 'v3-session'), 'the session is reported');
  assert.ok(ev.some((e) => e.type === 'version-switched' && e.from === 4 && e.to === 3 && e.instance === MALLORY_TAG));
  assert.is(p.a.version, 3);
});

test('a first contact that only speaks OTRv3 is no downgrade: no event, plain fallback', () => {
  const p = makeV34Pair(be, 16);
  const m = mallory(be, p.clock);
  const ev = events(pumpV3(p.a, m, ['?OTRv3?']));
  assert.not.ok(ev.some((e) => e.type === 'downgrade' || e.type === 'version-switched'));
  assert.is(p.a.version, 3);
});

test('policy.allowV3 false: nothing OTRv3 ever happens, in any state', () => {
  const p = makeV34Pair(be, 17, { policy: { allowV3: false } });
  const m = mallory(be, p.clock);
  const outs = pumpV3(p.a, m, ['?OTRv3?', tagPlaintext('x', [3]), ...m.startAke().toSend]);
  assert.equal(outs.flatMap((o) => o.toSend), []);
  assert.is(p.a.version, undefined);
  assert.is(p.a.state, 'START');
});

test('an OTRv3 session upgraded to OTRv4 by a new DAKE is reported as a version switch', () => {
  const p = makeV34Pair(be, 18);
  // Bob speaks only OTRv3 at first (per-peer policy), then allows OTRv4 and starts a DAKE.
  p.b.setPolicy({ allowV4: false });
  pump(p.a, p.b, p.a.start());
  assert.is(p.a.version, 3);
  p.b.setPolicy({ allowV4: true });
  const log = pump(p.b, p.a, p.b.startDake());
  assert.is(p.a.version, 4);
  assert.ok(events(log.b).some((e) => e.type === 'version-switched' && e.from === 3 && e.to === 4));
});

test.run();
