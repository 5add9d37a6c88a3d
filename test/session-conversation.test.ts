/**
 * Full OTRv4 conversations through the public API, on both backends: query -> DAKE -> messages both ways
 * (with DH ratchets and brace-key steps), out-of-order delivery, fragments, TLVs, extra symmetric keys,
 * SMP, ending and restarting, persistence at every step.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome, type OtrEvent } from '../ts/index.js';
import { makePair as pair, pump } from './helpers/session-pair.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import type { Policy } from '../ts/index.js';
import { joinTextPlaintext } from '../ts/wire/tlv.js';

function makePair(b: CryptoBackend, seed: number, policy: Partial<Policy> = {}) {
  const p = pair(b, seed, { policy });
  return { ...p, c: p.clock };
}

const events = (outs: Outcome[]): OtrEvent[] => outs.flatMap((o) => o.events);
const texts = (outs: Outcome[]): string[] => outs.flatMap((o) => o.messages.map((m) => m.text));

for (const be of BACKENDS) {
  const t = (name: string, fn: () => void) => test(`${name} [${be.name}]`, fn);

  t('query starts the DAKE; both sides reach ENCRYPTED_MESSAGES with the same SSID', () => {
    const { a, b } = makePair(be, 1);
    const log = pump(a, b, a.start());
    assert.is(a.state, 'ENCRYPTED_MESSAGES');
    assert.is(b.state, 'ENCRYPTED_MESSAGES');
    assert.ok(a.ssid && a.ssid.length === 16);
    assert.is(a.ssid, b.ssid);
    const encA = events(log.a).find((e) => e.type === 'encrypted');
    const encB = events(log.b).find((e) => e.type === 'encrypted');
    assert.ok(encA && encB);
    assert.is(a.version, 4);
  });

  t('messages both ways, alternating and in runs, arrive exactly once and in clear only on the right side', () => {
    const { a, b } = makePair(be, 2);
    pump(a, b, a.start());
    for (let i = 0; i < 12; i++) {
      const [s, r] = i % 3 === 2 ? [b, a] : [a, b];
      const out = s.send(`message ${i} ✓`);
      assert.is(out.toSend.length, 1);
      assert.ok(out.toSend[0]!.startsWith('?OTR:'));
      assert.not.ok(out.toSend[0]!.includes('message'));
      const got = r.receive(out.toSend[0]!);
      assert.equal(texts([got]), [`message ${i} ✓`]);
      assert.ok(got.messages[0]!.encrypted);
      assert.equal(events([got]).filter((e) => e.type === 'unreadable'), []);
    }
  });

  t('out-of-order delivery inside a chain and across ratchets', () => {
    const { a, b } = makePair(be, 3);
    pump(a, b, a.start());
    const m = [0, 1, 2, 3].map((i) => a.send(`a${i}`).toSend[0]!);
    assert.equal(texts([b.receive(m[2]!)]), ['a2']);
    assert.equal(texts([b.receive(m[0]!)]), ['a0']);
    const reply = b.send('b0').toSend[0]!;
    assert.equal(texts([b.receive(m[3]!)]), ['a3']);
    assert.equal(texts([a.receive(reply)]), ['b0']);
    assert.equal(texts([b.receive(m[1]!)]), ['a1']);
    // Replay: rejected without an error message (the key was used), the session survives.
    const replay = b.receive(m[1]!);
    assert.equal(texts([replay]), []);
    assert.ok(events([replay]).some((e) => e.type === 'unreadable'));
    assert.equal(texts([b.receive(a.send('after').toSend[0]!)]), ['after']);
  });

  t('a forged or corrupted data message changes nothing', () => {
    const { a, b } = makePair(be, 4);
    pump(a, b, a.start());
    const good = a.send('hello').toSend[0]!;
    const chars = good.split('');
    const i = 40;
    chars[i] = chars[i] === 'A' ? 'B' : 'A';
    const bad = b.receive(chars.join(''));
    assert.equal(texts([bad]), []);
    assert.ok(events([bad]).some((e) => e.type === 'unreadable'));
    assert.equal(texts([b.receive(good)]), ['hello']);
  });

  t('fragmentation: a small maxMessageSize splits every message and the peer reassembles it', () => {
    const { a, b } = makePair(be, 5, { maxMessageSize: 160 });
    pump(a, b, a.start());
    const out = a.send('x'.repeat(600));
    assert.ok(out.toSend.length > 3);
    assert.ok(out.toSend.every((f) => f.length <= 160 && f.startsWith('?OTR|')));
    const got = out.toSend.map((f) => b.receive(f));
    assert.equal(texts(got), ['x'.repeat(600)]);
  });

  t('extra symmetric key: both sides derive the same key with the same context', () => {
    const { a, b } = makePair(be, 6);
    pump(a, b, a.start());
    const ctx = Uint8Array.of(0, 0, 0, 7);
    const out = a.send('file key', { extraKey: { context: ctx, data: Uint8Array.of(1, 2, 3) } });
    const sent = events([out]).find((e) => e.type === 'extra-key');
    const recv = events([b.receive(out.toSend[0]!)]).find((e) => e.type === 'extra-key');
    assert.ok(sent && recv && sent.type === 'extra-key' && recv.type === 'extra-key');
    assert.equal(sent.key, recv.key);
    assert.equal(recv.context, ctx);
    assert.equal(recv.data, Uint8Array.of(1, 2, 3));
    assert.is(sent.key.length, 64);
  });

  t('SMP: the same secret succeeds on both sides, a different one fails on both', () => {
    for (const [answer, expected] of [
      ['blue', 'succeeded'],
      ['green', 'failed'],
    ] as const) {
      const { a, b } = makePair(be, 7);
      pump(a, b, a.start());
      const start = a.startSmp('blue', 'favourite colour?');
      const asked = b.receive(start.toSend[0]!);
      const ask = events([asked]).find((e) => e.type === 'smp');
      assert.ok(ask && ask.type === 'smp' && ask.status === 'asked' && ask.question === 'favourite colour?');
      const log = pump(b, a, b.answerSmp(answer));
      const final = [...events(log.a), ...events(log.b)].filter((e) => e.type === 'smp' && (e.status === 'succeeded' || e.status === 'failed'));
      assert.is(final.length, 2);
      assert.ok(final.every((e) => e.type === 'smp' && e.status === expected));
      // The conversation is still usable.
      assert.equal(texts([b.receive(a.send('still here').toSend[0]!)]), ['still here']);
    }
  });

  t('no plaintext stays in the shared send buffer: wiped after every message, TLV-only, padded and extra-key ones too', () => {
    const { a, b } = makePair(be, 29, { paddingBlock: 64 });
    pump(a, b, a.start());
    const shared = () => new Uint8Array(joinTextPlaintext('', [], 0).plaintext.buffer);
    for (const [text, opts] of [
      ['the secret plan ✓', {}],
      ['with an extra key', { extraKey: { context: Uint8Array.of(0, 0, 0, 1), data: Uint8Array.of(9, 9) } }],
    ] as const) {
      const out = a.send(text, opts);
      assert.ok(shared().every((x) => x === 0), 'the buffer is zero after send');
      assert.equal(texts([b.receive(out.toSend[0]!)]), [text]);
    }
    const ended = a.end();
    assert.ok(shared().every((x) => x === 0), 'and after the disconnect TLV');
    b.receive(ended.toSend[0]!);
    assert.is(b.state, 'FINISHED');
  });

  t('end: the peer goes to FINISHED and refuses to send in plaintext; a new DAKE restarts', () => {
    const { a, b } = makePair(be, 8);
    pump(a, b, a.start());
    const end = a.end();
    assert.is(a.state, 'START');
    const got = b.receive(end.toSend[0]!);
    assert.ok(events([got]).some((e) => e.type === 'finished'));
    assert.is(b.state, 'FINISHED');
    const refused = b.send('oops');
    assert.equal(refused.toSend, []);
    assert.ok(events([refused]).some((e) => e.type === 'not-sent'));
    pump(b, a, b.startDake());
    assert.is(a.state, 'ENCRYPTED_MESSAGES');
    assert.is(b.state, 'ENCRYPTED_MESSAGES');
    assert.equal(texts([a.receive(b.send('again').toSend[0]!)]), ['again']);
  });

  t('requireEncryption queues a message, starts OTR, and sends it encrypted once the DAKE completes', () => {
    const { a, b } = makePair(be, 9, { requireEncryption: true });
    const out = a.send('secret plans');
    assert.ok(out.toSend.length === 1 && out.toSend[0]!.startsWith('?OTRv'));
    const log = pump(a, b, out);
    assert.equal(texts(log.b), ['secret plans']);
  });

  t('persistence: serialise and restore both accounts after every step; the conversation is unchanged', () => {
    const { c, alice, bob } = makePair(be, 10);
    let A = alice;
    let B = bob;
    const reload = () => {
      A = Account.restore(A.serialize(), { backend: be, random: seededRandom(99), clock: c });
      B = Account.restore(B.serialize(), { backend: be, random: seededRandom(98), clock: c });
    };
    let wireAB = A.conversation('bob@example.org').start().toSend;
    const received: string[] = [];
    for (let round = 0; round < 10; round++) {
      const wireBA: string[] = [];
      for (const m of wireAB) {
        reload();
        const r = B.conversation('alice@example.org').receive(m);
        received.push(...texts([r]));
        wireBA.push(...r.toSend);
      }
      wireAB = [];
      for (const m of wireBA) {
        reload();
        const r = A.conversation('bob@example.org').receive(m);
        received.push(...texts([r]));
        wireAB.push(...r.toSend);
      }
      reload();
      if (A.conversation('bob@example.org').state === 'ENCRYPTED_MESSAGES') wireAB.push(...A.conversation('bob@example.org').send(`r${round}`).toSend);
    }
    assert.is(B.conversation('alice@example.org').state, 'ENCRYPTED_MESSAGES');
    assert.ok(received.filter((x) => x.startsWith('r')).length >= 5, received.join(','));
  });
}

test('plaintext and whitespace tags: shown, and a tag starts the DAKE', () => {
  const be = BACKENDS[0]!;
  const { a, b } = makePair(be, 11, { sendWhitespaceTag: true });
  const out = a.send('hi there');
  assert.ok(out.toSend[0]!.includes('\x20\x09\x20\x20\x09\x09\x09\x09'));
  const got = b.receive(out.toSend[0]!);
  assert.equal(texts([got]), ['hi there']);
  assert.ok(got.toSend.length === 1, 'an Identity message answers the tag');
  pump(b, a, got);
  assert.is(a.state, 'ENCRYPTED_MESSAGES');
});

test.run();
