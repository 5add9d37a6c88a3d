/**
 * Persistence at every step, on both backends. One scripted conversation — query and DAKE, messages both ways
 * with DH and brace-key ratchets, out-of-order delivery, a heartbeat, SMP, an extra symmetric key, fragmented
 * messages (a per-peer policy override), end, FINISHED, and a restarted DAKE — runs twice with the same
 * seeded randomness and clock: straight, and with both accounts serialised and restored after every single
 * step. The restored accounts get the very same random source objects, so they continue the same streams.
 * The two runs must put byte-identical strings on the wire and report identical messages and events.
 *
 * One deliberate exception: reassembly buffers are transient (conversation.ts keeps half-received fragmented
 * messages in memory only), so the restoring run does not reload between two fragments of one message;
 * it reloads before the first and after the last.
 *
 * Also: Account.restore on truncated, bit-flipped and random state bytes throws an OtrError or restores
 * something, and never throws anything else.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, OtrError, type Outcome, type OtrEvent, type ReceivedMessage } from '../ts/index.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import type { Conversation } from '../ts/session/conversation.js';
import type { RandomSource } from '../ts/crypto/random.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { randomInt, seededUniform } from './helpers/channel.js';
import { readFragmentHeader } from './helpers/session-model.js';
import { ALICE_ID, BOB_ID, testClock, type TestClock } from './helpers/session-pair.js';

type Who = 'A' | 'B';

interface Entry {
  readonly step: string;
  readonly who: Who;
  readonly toSend: string[];
  readonly messages: ReceivedMessage[];
  readonly events: OtrEvent[];
}

/** Runs the script; with `persist`, both accounts are serialised and restored after every step. */
class Driver {
  readonly log: Entry[] = [];
  readonly net: Record<Who, string[]> = { A: [], B: [] };
  reloads = 0;
  private readonly clock: TestClock = testClock();
  private readonly rand: Record<Who, RandomSource>;
  private acct: Record<Who, Account>;

  constructor(
    private readonly be: CryptoBackend,
    seed: number,
    private readonly persist: boolean,
  ) {
    this.rand = { A: seededRandom(seed), B: seededRandom(seed + 1) };
    const common = { backend: be, clock: this.clock, dsaKey: null };
    this.acct = {
      A: Account.create({ accountId: ALICE_ID, random: this.rand.A, ...common }),
      B: Account.create({ accountId: BOB_ID, random: this.rand.B, ...common }),
    };
  }

  conv(w: Who): Conversation {
    return this.acct[w].conversation(w === 'A' ? BOB_ID : ALICE_ID);
  }

  account(w: Who): Account {
    return this.acct[w];
  }

  private reload(): void {
    this.reloads++;
    for (const w of ['A', 'B'] as const) {
      const bytes = this.acct[w].serialize();
      this.acct[w] = Account.restore(bytes, { backend: this.be, random: this.rand[w], clock: this.clock });
      assert.equal(this.acct[w].serialize(), bytes, 'serialize(restore(s)) != s');
    }
  }

  /** One step by `who`; its output goes on the wire to the other side. */
  act(who: Who, step: string, fn: (c: Conversation) => Outcome, reload = true): Outcome {
    const out = fn(this.conv(who));
    this.log.push({ step, who, toSend: [...out.toSend], messages: out.messages, events: out.events });
    this.net[who === 'A' ? 'B' : 'A'].push(...out.toSend);
    if (this.persist && reload) this.reload();
    return out;
  }

  /** Delivers the `index`-th string waiting for `to`. */
  deliver(to: Who, index = 0): Outcome {
    const [text] = this.net[to].splice(index, 1);
    if (text === undefined) throw new Error(`nothing waiting for ${to}`);
    const f = readFragmentHeader(text);
    return this.act(to, `receive ${text.slice(0, 12)}`, (c) => c.receive(text), !f || f.index === f.total);
  }

  /** Delivers everything in flight, both ways, until quiet. */
  settle(): void {
    for (let guard = 0; this.net.A.length || this.net.B.length; guard++) {
      if (guard > 1000) throw new Error('did not settle');
      if (this.net.B.length) this.deliver('B');
      else this.deliver('A');
    }
  }

  tick(ms: number): void {
    this.clock.advance(ms);
  }
}

function script(d: Driver): void {
  d.act('A', 'query', (c) => c.start());
  d.settle();
  assert.is(d.conv('A').state, 'ENCRYPTED_MESSAGES');
  // Both ways, in runs and alternating: DH steps (every third ratchet) and brace-key steps.
  for (let i = 0; i < 9; i++) {
    const w: Who = i % 3 === 2 ? 'B' : 'A';
    d.act(w, `send ${i}`, (c) => c.send(`message ${i} from ${w}`));
    if (i % 2 === 1) d.settle();
  }
  d.settle();
  // Out of order, across a ratchet.
  for (let i = 0; i < 4; i++) d.act('A', `ooo ${i}`, (c) => c.send(`ooo ${i}`));
  d.deliver('B', 2);
  d.deliver('B', 0);
  d.act('B', 'reply', (c) => c.send('reply while a1, a3 are late'));
  d.deliver('A');
  d.deliver('B', 1);
  d.deliver('B', 0);
  // A heartbeat: after a minute of our silence, a received data message is answered by an empty one.
  d.tick(61_000);
  d.act('A', 'after a minute', (c) => c.send('after a minute'));
  d.settle();
  // SMP.
  d.act('A', 'smp start', (c) => c.startSmp('s3cret', 'our secret?'));
  d.deliver('B');
  d.act('B', 'smp answer', (c) => c.answerSmp('s3cret'));
  d.settle();
  // Extra symmetric key.
  d.act('A', 'esk', (c) => c.send('file', { extraKey: { context: Uint8Array.of(0, 0, 0, 1), data: Uint8Array.of(9) } }));
  d.settle();
  // Fragments (a per-peer policy override, itself persisted).
  d.act('A', 'policy', (c) => (c.setPolicy({ maxMessageSize: 220 }), { toSend: [], messages: [], events: [] }));
  d.act('B', 'policy', (c) => (c.setPolicy({ maxMessageSize: 300 }), { toSend: [], messages: [], events: [] }));
  d.act('A', 'long a', (c) => c.send('A long message that will not fit in one piece. '.repeat(8)));
  d.act('B', 'long b', (c) => c.send('And a long answer, in pieces too. '.repeat(10)));
  d.settle();
  d.act('A', 'policy', (c) => (c.setPolicy({ maxMessageSize: 0 }), { toSend: [], messages: [], events: [] }));
  // End; the peer is FINISHED and refuses to send; it ends too; a new DAKE; messages again.
  d.act('A', 'end', (c) => c.end());
  d.settle();
  assert.is(d.conv('B').state, 'FINISHED');
  d.act('B', 'refused', (c) => c.send('not sent'));
  d.act('B', 'end', (c) => c.end());
  d.act('B', 'restart', (c) => c.startDake());
  d.settle();
  assert.is(d.conv('A').state, 'ENCRYPTED_MESSAGES');
  assert.is(d.conv('B').state, 'ENCRYPTED_MESSAGES');
  d.act('B', 'again b', (c) => c.send('again from B'));
  d.act('A', 'again a', (c) => c.send('again from A'));
  d.settle();
}

for (const be of BACKENDS) {
  test(`a scripted conversation restored after every step is byte-identical to the straight run [${be.name}]`, () => {
    const straight = new Driver(be, 31337, false);
    script(straight);
    const restored = new Driver(be, 31337, true);
    script(restored);
    assert.ok(restored.reloads > 60, `only ${restored.reloads} reloads`);
    assert.is(restored.log.length, straight.log.length);
    restored.log.forEach((e, i) => assert.equal(e, straight.log[i], `step ${i} (${e.who}: ${e.step}) differs`));
    // The script did what it says.
    const shown = straight.log.flatMap((e) => e.messages.map((m) => m.text));
    for (const t of ['message 8 from B', 'ooo 1', 'after a minute', 'file', 'again from A', 'again from B']) assert.ok(shown.includes(t), t);
    const ev = straight.log.flatMap((e) => e.events);
    assert.is(ev.filter((e) => e.type === 'encrypted').length, 4);
    assert.is(ev.filter((e) => e.type === 'smp' && e.status === 'succeeded').length, 2);
    assert.is(ev.filter((e) => e.type === 'extra-key').length, 2);
    assert.ok(ev.some((e) => e.type === 'not-sent'));
    assert.ok(straight.log.some((e) => e.step === 'receive ?OTR:AAQDOI' || e.toSend.some((s) => s.startsWith('?OTR|'))), 'no fragments');
    assert.ok(straight.log.some((e) => e.step.startsWith('receive') && e.toSend.length === 1 && e.messages.length === 0 && e.events.length === 0), 'no heartbeat');
  });

  test(`restore of damaged state: an OtrError or a state, never another exception [${be.name}]`, () => {
    const d = new Driver(be, 4711, false);
    d.act('A', 'query', (c) => c.start());
    d.settle();
    d.act('A', 'hold', (c) => c.send('skipped'));
    d.act('A', 'x', (c) => c.send('x'));
    d.deliver('B', 1); // leaves a stored skipped key in Bob's state
    const bytes = d.account('B').serialize();
    const opts = { backend: be, random: seededRandom(1), clock: () => 1_700_000_000_000 };
    const attempt = (b: Uint8Array, what: string): 'ok' | 'rejected' => {
      try {
        Account.restore(b, opts);
        return 'ok';
      } catch (e) {
        if (!(e instanceof OtrError)) assert.unreachable(`${what}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
        return 'rejected';
      }
    };
    for (let n = 0; n < bytes.length; n += be.name === 'js' ? 3 : 1) assert.is(attempt(bytes.subarray(0, n), `truncated to ${n}`), 'rejected', `truncated to ${n}`);
    const u = seededUniform(be.name === 'js' ? 5 : 6);
    let accepted = 0;
    const stride = be.name === 'js' ? 7 : 2;
    for (let i = 0; i < bytes.length; i += stride) {
      const m = bytes.slice();
      m[i]! ^= 1 << randomInt(u, 8);
      if (attempt(m, `flip at ${i}`) === 'ok') accepted++;
    }
    for (let i = 0; i < 300; i++) {
      const m = new Uint8Array(randomInt(u, 2 * bytes.length));
      for (let k = 0; k < m.length; k++) m[k] = randomInt(u, 256);
      if (i % 2) m.set(bytes.subarray(0, Math.min(m.length, 16 + randomInt(u, 64))));
      attempt(m, `random ${i}`);
    }
    assert.ok(accepted < bytes.length / stride, 'no flip was rejected');
  });
}

test.run();
