/**
 * Version negotiation through the one conversation API: an Account that allows v3 and v4 meets a peer that
 * only speaks OTRv3 (our own V3Conversation, which the interop suite proves against libotr) and falls back;
 * the application sees the same Outcome shapes, with events naming version 3. And the policy can forbid it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../ts/index.js';
import { V3Conversation } from '../ts/v3/index.js';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { testDsaKey, BOB_TAG } from './interop/v3-pair.js';

const now = () => 1_700_000_000_000;

function setup(policy = {}) {
  const alice = Account.create({ accountId: 'alice', backend: WASM, random: seededRandom(1), clock: now, dsaKey: testDsaKey(0xa11ce), policy });
  const conv = alice.conversation('bob');
  const bob = new V3Conversation({ backend: WASM, dsaKey: testDsaKey(0xb0b), instanceTag: BOB_TAG, random: seededRandom(2), now });
  return { alice, conv, bob };
}

/** Delivers Alice's output to the v3 peer and back until quiet; returns Alice's outcomes. */
function pump(conv: ReturnType<Account['conversation']>, bob: V3Conversation, first: Outcome): { alice: Outcome[]; bobUser: string[] } {
  const alice: Outcome[] = [];
  const bobUser: string[] = [];
  let toBob = first.toSend;
  for (let guard = 0; toBob.length && guard < 20; guard++) {
    const toAlice: string[] = [];
    for (const m of toBob) {
      const r = bob.receive(m);
      bobUser.push(...r.toUser);
      toAlice.push(...r.toSend);
    }
    toBob = [];
    for (const m of toAlice) {
      const r = conv.receive(m);
      alice.push(r);
      toBob.push(...r.toSend);
    }
  }
  return { alice, bobUser };
}

test('a v3-only peer answers our ?OTRv34? query and we speak OTRv3 with it, through the same API', () => {
  const { conv, bob } = setup();
  const start = conv.start();
  assert.ok(start.toSend[0]!.startsWith('?OTRv34?'));
  const log = pump(conv, bob, start);
  const enc = log.alice.flatMap((o) => o.events).find((e) => e.type === 'encrypted');
  assert.ok(enc && enc.type === 'encrypted' && enc.version === 3);
  assert.is(conv.version, 3);
  assert.is(conv.state, 'ENCRYPTED_MESSAGES');
  assert.is(bob.msgstate, 'encrypted');
  assert.ok(conv.ssid);
  // Messages both ways.
  const out = conv.send('hello over v3');
  assert.ok(out.toSend[0]!.startsWith('?OTR:AAM'), 'a v3 data message');
  assert.equal(bob.receive(out.toSend[0]!).toUser, ['hello over v3']);
  const back = bob.send('and back');
  const got = conv.receive(back.toSend[0]!);
  assert.equal(got.messages.map((m) => [m.text, m.encrypted, m.version]), [['and back', true, 3]]);
  // Ending: the peer is told, and we are back in START.
  const end = conv.end();
  bob.receive(end.toSend[0]!);
  assert.is(bob.msgstate, 'finished');
  assert.is(conv.version, undefined);
});

test('SMP over OTRv3 through the same API reports the same smp events', () => {
  const { conv, bob } = setup();
  pump(conv, bob, conv.start());
  const start = conv.startSmp('shared secret', 'our secret?');
  const asked = bob.receive(start.toSend[0]!);
  assert.ok(asked.events.some((e) => e.type === 'smpRequest' && e.question === 'our secret?'));
  const answers = bob.respondSmp('shared secret').toSend.map((m) => conv.receive(m));
  const log = answers.map((o) => pump(conv, bob, o).alice);
  const smp = [...answers, ...log.flat()].flatMap((o) => o.events).filter((e) => e.type === 'smp');
  assert.ok(smp.some((e) => e.type === 'smp' && e.status === 'succeeded'), JSON.stringify(smp));
});

test('a policy without v3 ignores OTRv3 and never offers it', () => {
  const { conv, bob } = setup({ allowV3: false });
  assert.is(conv.start().toSend[0], '?OTRv4?');
  const commit = bob.startAke().toSend[0]!;
  const r = conv.receive(commit);
  assert.equal(r.toSend, []);
  assert.ok(r.events.some((e) => e.type === 'ignored'));
});

test('persisting an account mid-v3-conversation and restoring it continues the session', () => {
  const { alice, conv, bob } = setup();
  pump(conv, bob, conv.start());
  const restored = Account.restore(alice.serialize(), { backend: WASM, random: seededRandom(3), clock: now });
  const c2 = restored.conversation('bob');
  assert.is(c2.version, 3);
  assert.equal(bob.receive(c2.send('after restore').toSend[0]!).toUser, ['after restore']);
});

test.run();
