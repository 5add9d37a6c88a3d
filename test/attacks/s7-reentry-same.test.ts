/**
 * Session 7 review: re-entry into the SAME conversation. The host's clock and random source run in the middle
 * of a send or a receive (s6-send-reentry covers a nested send on ANOTHER conversation). A host whose callback
 * sends or receives on the conversation that is already under way reads the ratchet state the outer operation
 * has not written back yet: two messages under one message key (a keystream reused), or a received ratchet step
 * overwritten by the outer send's older one (a lost session). Such a nested call must be refused, typed
 * (OtrStateError), and leave the outer operation and the session whole.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import type { Conversation } from '../../ts/session/conversation.js';
import { OtrError } from '../../ts/errors.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { pump, testClock } from '../helpers/session-pair.js';

function texts(to: Conversation, out: Outcome): string[] {
  const got: string[] = [];
  for (const t of out.toSend) for (const m of to.receive(t).messages) got.push(m.text);
  return got;
}

function hookedPair(seed: number) {
  const clock = testClock();
  const seeded = seededRandom(seed);
  let hook: (() => void) | undefined;
  let skip = 0;
  let calls = 0;
  const fire = () => {
    calls++;
    if (hook === undefined || skip-- > 0) return;
    const h = hook;
    hook = undefined;
    h();
  };
  const random = (n: number) => {
    fire();
    return seeded(n);
  };
  const hookedClock = Object.assign(() => {
    fire();
    return clock();
  }, { advance: clock.advance });
  const common = { backend: WASM, dsaKey: null };
  const alice = Account.create({ accountId: 'alice@example.org', random, clock: hookedClock, ...common });
  const bob = Account.create({ accountId: 'bob@example.org', random: seededRandom(seed + 1), clock, ...common });
  const a = alice.conversation('bob@example.org');
  const b = bob.conversation('alice@example.org');
  pump(a, b, a.start());
  assert.is(a.state, 'ENCRYPTED_MESSAGES');
  return {
    alice,
    a,
    b,
    arm: (h: () => void, at: number) => {
      hook = h;
      skip = at;
    },
    disarm: () => (hook = undefined),
    calls: () => calls,
  };
}

/** What a nested call did: its outcome, or the error it threw (typed or not). */
type Nested = { out?: Outcome; error?: unknown } | undefined;

function run(fn: () => Outcome): Nested {
  try {
    return { out: fn() };
  } catch (error) {
    return { error };
  }
}

test('attack: a send nested in a send of the same conversation (clock or random callback): refused typed, both ends stay in step', () => {
  for (const newRatchet of [false, true]) {
    const { a, b, arm, disarm, calls } = hookedPair(1701 + (newRatchet ? 10 : 0));
    assert.equal(texts(b, a.send('warm a')), ['warm a']);
    assert.equal(texts(a, b.send('warm b')), ['warm b']);
    if (!newRatchet) assert.equal(texts(b, a.send('same chain')), ['same chain']);
    const before = calls();
    if (newRatchet) assert.equal(texts(a, b.send('reply')), ['reply']);
    const probeFrom = calls();
    assert.equal(texts(b, a.send('probe')), ['probe']);
    const n = calls() - probeFrom;
    void before;
    let ran = 0;
    for (let at = 0; at < n; at++) {
      if (newRatchet) assert.equal(texts(a, b.send(`reply ${at}`)), [`reply ${at}`]);
      let inner: Nested;
      arm(() => (inner = run(() => a.send(`inner ${at}`))), at);
      const outer = a.send(`outer ${at}`);
      disarm();
      const where = `${newRatchet ? 'new ratchet' : 'same chain'}, callback ${at} of ${n}`;
      if (inner === undefined) continue;
      ran++;
      assert.ok(inner.error instanceof OtrError && (inner.error as OtrError).code === 'STATE', `${where}: the nested send is refused typed (got ${String(inner.error ?? 'a message')})`);
      assert.equal(texts(b, outer), [`outer ${at}`], `${where}: the outer message`);
      // Both ends still in step, both directions.
      assert.equal(texts(b, a.send(`after ${at}`)), [`after ${at}`], `${where}: a's next message`);
      assert.equal(texts(a, b.send(`back ${at}`)), [`back ${at}`], `${where}: b's next message`);
    }
    assert.ok(ran >= 2, `the hook ran inside ${ran} sends`);
  }
});

test('attack: a receive nested in a send of the same conversation: refused typed, nothing lost (the message can be given again)', () => {
  const { a, b, arm, disarm, calls } = hookedPair(1801);
  assert.equal(texts(b, a.send('warm a')), ['warm a']);
  assert.equal(texts(a, b.send('warm b')), ['warm b']);
  const probeFrom = calls();
  assert.equal(texts(b, a.send('probe')), ['probe']);
  const n = calls() - probeFrom;
  let ran = 0;
  for (let at = 0; at < n; at++) {
    // b starts a new ratchet: its message, received inside a's send, would move a's ratchet.
    const fromB = b.send(`from b ${at}`).toSend;
    let inner: Nested;
    arm(() => (inner = run(() => a.receive(fromB[0]!))), at);
    const outer = a.send(`outer ${at}`);
    disarm();
    const where = `callback ${at} of ${n}`;
    let got: string[] = [];
    if (inner !== undefined) {
      ran++;
      assert.ok(inner.error instanceof OtrError && (inner.error as OtrError).code === 'STATE', `${where}: the nested receive is refused typed (got ${String(inner.error ?? 'an outcome')})`);
    }
    got = a.receive(fromB[0]!).messages.map((m) => m.text);
    assert.equal(got, [`from b ${at}`], `${where}: b's message, given again after the send`);
    assert.equal(texts(b, outer), [`outer ${at}`], `${where}: the outer message`);
    assert.equal(texts(b, a.send(`after ${at}`)), [`after ${at}`], `${where}: a's next message`);
    assert.equal(texts(a, b.send(`back ${at}`)), [`back ${at}`], `${where}: b's next message`);
  }
  assert.ok(ran >= 2, `the hook ran inside ${ran} sends`);
});

test('attack: a send nested in a receive of the same conversation (its clock callbacks): refused typed, the message read, both ends in step', () => {
  const { a, b, arm, disarm, calls } = hookedPair(2001);
  assert.equal(texts(b, a.send('warm a')), ['warm a']);
  assert.equal(texts(a, b.send('warm b')), ['warm b']);
  // Count the callbacks of one receive of a new ratchet's first message.
  const probe = b.send('probe').toSend;
  const from = calls();
  assert.equal(a.receive(probe[0]!).messages.map((m) => m.text), ['probe']);
  const n = calls() - from;
  let ran = 0;
  for (let at = 0; at < n; at++) {
    assert.equal(texts(b, a.send(`turn ${at}`)), [`turn ${at}`]); // so b's next message starts a new ratchet
    const fromB = b.send(`from b ${at}`).toSend;
    let inner: Nested;
    arm(() => (inner = run(() => a.send(`inner ${at}`))), at);
    const got = a.receive(fromB[0]!).messages.map((m) => m.text);
    disarm();
    const where = `callback ${at} of ${n}`;
    assert.equal(got, [`from b ${at}`], `${where}: the received message`);
    if (inner === undefined) continue;
    ran++;
    assert.ok(inner.error instanceof OtrError && (inner.error as OtrError).code === 'STATE', `${where}: the nested send is refused typed (got ${String(inner.error ?? 'a message')})`);
    assert.equal(texts(b, a.send(`after ${at}`)), [`after ${at}`], `${where}: a's next message`);
    assert.equal(texts(a, b.send(`back ${at}`)), [`back ${at}`], `${where}: b's next message`);
  }
  assert.ok(ran >= 1, `the hook ran inside ${ran} receives`);
});

test('attack: forget() or unload() of the conversation from inside its own send: refused typed, the send and the session whole', () => {
  const { alice, a, b, arm, disarm } = hookedPair(1901);
  assert.equal(texts(b, a.send('warm a')), ['warm a']);
  assert.equal(texts(a, b.send('warm b')), ['warm b']);
  const wipers: [string, () => unknown][] = [
    ['conversation.forget()', () => a.forget()],
    ['account.forget(peer)', () => alice.forget('bob@example.org')],
    ['account.unload(peer)', () => alice.unload('bob@example.org')],
  ];
  for (const [what, wipeIt] of wipers) {
    for (let at = 0; at < 2; at++) {
      let error: unknown = 'not run';
      arm(() => {
        try {
          wipeIt();
          error = undefined;
        } catch (e) {
          error = e;
        }
      }, at);
      const outer = a.send(`outer ${what} ${at}`);
      disarm();
      assert.ok(error instanceof OtrError && (error as OtrError).code === 'STATE', `${what} at callback ${at}: refused typed (got ${String(error)})`);
      assert.equal(texts(b, outer), [`outer ${what} ${at}`], `${what} at callback ${at}: the outer message`);
      assert.equal(texts(a, b.send(`back ${what} ${at}`)), [`back ${what} ${at}`]);
    }
  }
  // Outside a call, forget still works.
  const gone = alice.forget('bob@example.org');
  assert.ok(gone.changed?.some((c) => c.key === 'conv:bob@example.org' && c.bytes === null), 'forgotten: the record is deleted');
});

test.run();
