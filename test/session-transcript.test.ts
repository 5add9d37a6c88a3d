/**
 * A whole conversation through the public API is byte-stable (vectors/transcripts/conversation.json): with
 * seeded randomness and a fixed clock, query -> DAKE -> messages both ways (with ratchets) -> SMP -> end puts
 * exactly the stored strings on the wire, on both backends. Any change to a wire format, a KDF input, the
 * order of random draws or the session's choices shows up here as a diff.
 *
 * Regenerate (only for a deliberate, reviewed change):  OTR_WRITE_VECTORS=1 node scripts/run-tests.mjs session-transcript
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Outcome } from '../ts/index.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import type { Conversation } from '../ts/session/conversation.js';
import { BACKENDS } from './helpers/backends.js';
import { makePair, T0 } from './helpers/session-pair.js';

const FILE = new URL('../../vectors/transcripts/conversation.json', import.meta.url);
const SEED = 20260101;

interface Step {
  /** Who acted: "alice" or "bob". */
  readonly by: string;
  /** What they did: a call ("send ...", "startSmp", "end") or "receive" (of the previous step's strings, in order). */
  readonly action: string;
  /** The strings it put on the wire. */
  readonly wire: string[];
  /** Plaintexts it showed, and the types of its events. */
  readonly shown: string[];
  readonly events: string[];
}

interface Transcript {
  readonly description: string;
  readonly seed: number;
  readonly nowMs: number;
  readonly aliceInstanceTag: number;
  readonly bobInstanceTag: number;
  readonly ssid: string;
  readonly steps: Step[];
}

function run(be: CryptoBackend): Transcript {
  const p = makePair(be, SEED);
  const steps: Step[] = [];
  const name = (c: Conversation) => (c === p.a ? 'alice' : 'bob');
  const peer = (c: Conversation) => (c === p.a ? p.b : p.a);
  const record = (c: Conversation, action: string, o: Outcome): Outcome => {
    steps.push({ by: name(c), action, wire: o.toSend, shown: o.messages.map((m) => m.text), events: o.events.map((e) => (e.type === 'smp' ? `smp:${e.status}` : e.type)) });
    return o;
  };
  /** `c` acts, then the strings go back and forth until quiet; every receive is a step. */
  const exchange = (c: Conversation, action: string, o: Outcome) => {
    let queue = record(c, action, o).toSend.map((t) => ({ to: peer(c), t }));
    while (queue.length) {
      const next: typeof queue = [];
      for (const { to, t } of queue) for (const r of record(to, 'receive', to.receive(t)).toSend) next.push({ to: peer(to), t: r });
      queue = next;
    }
  };
  exchange(p.a, 'start (query)', p.a.start());
  exchange(p.a, 'send "Hi Bob"', p.a.send('Hi Bob'));
  exchange(p.a, 'send "Are you there?"', p.a.send('Are you there?'));
  exchange(p.b, 'send "Yes, hi Alice ✓"', p.b.send('Yes, hi Alice ✓'));
  exchange(p.a, 'send "Good"', p.a.send('Good'));
  exchange(p.b, 'send "Let us check"', p.b.send('Let us check'));
  exchange(p.a, 'startSmp("octopus", "Our mascot?")', p.a.startSmp('octopus', 'Our mascot?'));
  exchange(p.b, 'answerSmp("octopus")', p.b.answerSmp('octopus'));
  exchange(p.b, 'send "Verified"', p.b.send('Verified'));
  const ssid = p.a.ssid ?? '';
  if (ssid !== p.b.ssid) throw new Error('the two sides disagree on the SSID');
  exchange(p.a, 'end', p.a.end());
  return {
    description:
      'A full OTRv4 conversation through Account/Conversation (this project): query, interactive DAKE, messages both ways ' +
      '(DH and brace-key ratchets), SMP with a question, end. Alice = Account.create({ accountId: "alice@example.org", random: ' +
      'seededRandom(seed), clock: () => nowMs, dsaKey: null }), Bob the same with "bob@example.org" and seededRandom(seed + 1) ' +
      '(test/helpers/rng.ts); default policy and limits. Each step is one call; "receive" steps take the strings of the step ' +
      'that produced them, in order. Written by test/session-transcript.test.ts.',
    seed: SEED,
    nowMs: T0,
    aliceInstanceTag: p.alice.instanceTag,
    bobInstanceTag: p.bob.instanceTag,
    ssid,
    steps,
  };
}

if (process.env.OTR_WRITE_VECTORS === '1') {
  const path = fileURLToPath(FILE);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(run(BACKENDS[BACKENDS.length - 1]!), null, 2) + '\n');
}

const expected: Transcript = JSON.parse(readFileSync(FILE, 'utf8'));

for (const be of BACKENDS) {
  test(`the stored conversation is reproduced byte for byte [${be.name}]`, () => {
    const got = run(be);
    assert.is(got.steps.length, expected.steps.length, 'number of steps');
    got.steps.forEach((s, i) => assert.equal(s, expected.steps[i], `step ${i}: ${s.by} ${s.action}`));
    assert.is(got.ssid, expected.ssid);
    assert.is(got.aliceInstanceTag, expected.aliceInstanceTag);
    assert.is(got.bobInstanceTag, expected.bobInstanceTag);
  });
}

test('the stored transcript is a whole conversation', () => {
  const shown = expected.steps.flatMap((s) => s.shown);
  assert.equal(shown, ['Hi Bob', 'Are you there?', 'Yes, hi Alice ✓', 'Good', 'Let us check', 'Verified']);
  const ev = expected.steps.flatMap((s) => s.events);
  assert.is(ev.filter((e) => e === 'encrypted').length, 2);
  assert.ok(ev.includes('smp:asked'));
  assert.is(ev.filter((e) => e === 'smp:succeeded').length, 2);
  assert.ok(ev.includes('finished'));
  assert.ok(expected.steps[0]!.wire[0]!.startsWith('?OTRv'));
  assert.ok(expected.steps.slice(1).every((s) => s.wire.every((w) => w.startsWith('?OTR:'))));
  assert.match(expected.ssid, /^[0-9a-f]{16}$/);
});

test.run();
