/**
 * Pins (session 14, deniability and downgrade audit): the ways into OTRv3 that downgrade.test.ts does not walk
 * one by one, against an established OTRv4 session whose both ends allow OTRv3 — the AKE's first message in
 * fragments, and an OTR error message (OTRv3's ERROR_START_AKE answers one with a query; we answer an
 * unreadable-message error with an OTRv4 repair DAKE, policy.healSessions). Neither may start anything
 * OTRv3, nor move send() off OTRv4: Alice's next message still reaches Bob on OTRv4.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Outcome } from '../../ts/index.js';
import { V3Conversation } from '../../ts/v3/index.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { testDsaKey } from '../interop/v3-pair.js';
import { MALLORY_TAG, establishedV34, type V34Pair } from './attacker.js';
import { pump } from '../helpers/session-pair.js';

const be = WASM;

/** Nothing OTRv3 was sent or started; whatever Alice answered (OTRv4 only) reaches Bob; send() stays on v4. */
function stillOnV4(p: V34Pair, outs: Outcome[]): void {
  const answers = outs.flatMap((o) => o.toSend);
  // OTRv4 messages are "?OTR:AAQ" (protocol version 4), OTRv3's "?OTR:AAM".
  assert.ok(answers.every((s) => s.startsWith('?OTR:AAQ')), `only OTRv4 answers: ${answers.map((s) => s.slice(0, 12))}`);
  assert.not.ok(outs.some((o) => o.events.some((e) => e.type === 'version-switched' || (e.type === 'encrypted' && e.version === 3))));
  pump(p.a, p.b, { ...outs[0]!, toSend: answers });
  assert.is(p.a.version, 4);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  const sent = p.a.send('still v4').toSend;
  const got = sent.flatMap((s) => p.b.receive(s).messages);
  assert.equal(got.map((m) => [m.text, m.version]), [['still v4', 4]]);
}

test('ENCRYPTED_MESSAGES: a fragmented OTRv3 D-H Commit is reassembled and ignored, never answered', () => {
  const p = establishedV34(be, 1410);
  const m = new V3Conversation({ backend: be, dsaKey: testDsaKey(0x3a11), instanceTag: MALLORY_TAG, random: seededRandom(7), now: p.clock, fragmentSize: 120 });
  const parts = m.startAke().toSend;
  assert.ok(parts.length > 1 && parts[0]!.startsWith('?OTR|'), 'the commit is fragmented');
  const outs = parts.map((s) => p.a.receive(s));
  assert.ok(outs.some((o) => o.events.some((e) => e.type === 'downgrade' || e.type === 'ignored')), 'reported');
  stillOnV4(p, outs);
});

test('ENCRYPTED_MESSAGES: an injected OTR error message starts nothing OTRv3 (at most an OTRv4 repair DAKE)', () => {
  const p = establishedV34(be, 1411);
  stillOnV4(p, [p.a.receive('?OTR Error: ERROR_1: Unreadable message')]);
});

test.run();
