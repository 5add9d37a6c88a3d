/**
 * The hostile.v3.* bench cases (bench/suites/hostile-v3.ts) measure what they say: run far more often than a
 * conversation keeps contexts (so eviction is exercised), each forged message still does its full work every
 * time — a D-H Commit is answered with a D-H Key, a D-H Key with a Reveal Signature (the 1536-bit DH ran), a
 * forged Reveal Signature is refused without an answer, a first fragment is taken — and the honest reference
 * completes its AKE. Timing is the bench's business; this only guards against a case turning cheap for the
 * wrong reason (a throttle, a replay cache, a full instance table).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LIMITS, type Outcome } from '../ts/index.js';
import { dearmour } from '../ts/codec/armour.js';
import { decodeMessage } from '../ts/v3/messages.js';
import { MessageTypeV3 } from '../ts/wire/header.js';
import { cases } from '../bench/suites/hostile-v3.js';
import { JS, WASM } from './helpers/backends.js';

const REPEATS = DEFAULT_LIMITS.maxInstancesPerConversation * 2 + 3;

const typeOf = (o: Outcome): number[] => o.toSend.map((t) => decodeMessage(dearmour(t)).type);

test('every forged OTRv3 message does its full work on every repeat', async () => {
  const cs = await cases({ wasm: WASM, js: JS });
  assert.equal(
    cs.map((c) => `${c.name}/${c.impl}`),
    ['wasm', 'js'].flatMap((i) => ['honest', 'dh-commit', 'dh-key', 'reveal-sig', 'fragment'].map((n) => `hostile.v3.${n}/${i}`)),
  );
  const wasm = new Map(cs.filter((c) => c.impl === 'wasm').map((c) => [c.name, c]));
  for (let i = 0; i < REPEATS; i++) {
    assert.equal(typeOf(wasm.get('hostile.v3.dh-commit')!.fn() as Outcome), [MessageTypeV3.dhKey], `D-H Commit #${i}`);
    assert.equal(typeOf(wasm.get('hostile.v3.dh-key')!.fn() as Outcome), [MessageTypeV3.revealSignature], `D-H Key #${i}`);
    const rs = wasm.get('hostile.v3.reveal-sig')!.fn() as Outcome;
    assert.equal(rs.toSend, [], `Reveal Signature #${i} answered`);
    assert.ok(rs.events.some((e) => e.type === 'ignored'), `Reveal Signature #${i} not refused`);
    assert.not.ok(rs.events.some((e) => e.type === 'encrypted'));
    const fr = wasm.get('hostile.v3.fragment')!.fn() as Outcome;
    assert.equal(fr.toSend, []);
    assert.not.ok(fr.events.some((e) => e.type === 'ignored' || e.type === 'throttled'), `fragment #${i} refused`);
  }
});

test('the honest reference completes an AKE for every sample', async () => {
  const cs = await cases({ wasm: WASM, js: JS });
  const m = await cs.find((c) => c.name === 'hostile.v3.honest' && c.impl === 'wasm')!.measure!();
  assert.ok(m.samples >= 10);
  assert.ok(m.usPerOp > 0 && Number.isFinite(m.usPerOp));
});

test.run();
