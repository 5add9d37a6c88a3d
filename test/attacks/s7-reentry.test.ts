/**
 * Re-entrancy of a conversation's calls (session 7; the guard at the end of ts/session/conversation.ts). The
 * host's clock and random source run in the middle of a send or a receive; a host whose callback calls the
 * SAME conversation from there (send, receive, end, forget, poll, SMP; account.forget / unload of it) used to
 * run that call on state the outer call was about to overwrite: a send nested in a send's clock call made
 * that message and every later one unreadable by the peer. Now the nested call is refused (OtrStateError, nothing changed), the outer call
 * completes, and the session goes on both ways. Calls on ANOTHER conversation from a callback stay allowed, and
 * the shared send buffers keep each message's own text (s6-send-reentry covers sends inside sends; this adds
 * sends inside receives).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Account, Outcome } from '../../ts/index.js';
import type { Conversation } from '../../ts/session/conversation.js';
import { OtrArgumentError, OtrError, OtrStateError } from '../../ts/errors.js';
import { WASM } from '../helpers/backends.js';
import { makePair, establish } from '../helpers/session-pair.js';
import { hookedPair } from '../helpers/hooked-pair.js';

function texts(to: Conversation, out: Outcome): string[] {
  const got: string[] = [];
  for (const t of out.toSend) for (const m of to.receive(t).messages) got.push(m.text);
  return got;
}

type Nested = (a: Conversation, fromBob: string, alice: Account) => unknown;
const NESTED: readonly [string, Nested][] = [
  ['send', (a) => a.send('nested: must not be sent')],
  ['receive', (a, fromBob) => a.receive(fromBob)],
  ['end', (a) => a.end()],
  ['poll', (a) => a.poll()],
  ['forget', (a) => a.forget()],
  ['startSmp', (a) => a.startSmp('secret', 'q?')],
  // The account's calls that wipe the conversation (through wipeAll).
  ['account.forget', (a, _m, alice) => alice.forget(a.peerId)],
  ['account.unload', (a, _m, alice) => alice.unload(a.peerId)],
];

test('attack: a call on the same conversation from inside its send or receive (clock / random callback) is refused; both sides go on', () => {
  let checked = 0;
  for (const outerKind of ['send', 'receive'] as const) {
    for (const [nestedName, nested] of NESTED) {
      for (const newRatchet of [false, true]) {
        const { alice, a, b, arm, disarm, calls } = hookedPair(1100 + checked, 1101 + checked);
        assert.equal(texts(b, a.send('warm a')), ['warm a']);
        assert.equal(texts(a, b.send('warm b')), ['warm b']);
        // Count the callbacks of one outer call of this kind (the probe is a real message).
        const probe = () => {
          if (newRatchet) assert.equal(texts(a, b.send('turn')), ['turn']); // alice's next send starts a ratchet step
          return outerKind === 'send' ? b : a;
        };
        probe();
        const before = calls();
        if (outerKind === 'send') assert.equal(texts(b, a.send('probe')), ['probe']);
        else assert.equal(texts(a, b.send('probe')), ['probe']);
        const n = calls() - before;
        assert.ok(n >= 1, 'the host is called back during the call');
        for (let at = 0; at < n; at++) {
          probe();
          const fromBob = b.send(`pending ${at}`).toSend[0]!;
          const inbound = b.send(`inbound ${at}`).toSend[0]!;
          let refused: unknown;
          let ran = false;
          arm(() => {
            ran = true;
            try {
              nested(a, fromBob, alice);
            } catch (e) {
              refused = e;
            }
          }, at);
          const where = `${outerKind} with ${nestedName} nested at callback ${at} of ${n}${newRatchet ? ', new ratchet' : ''}`;
          if (outerKind === 'send') assert.equal(texts(b, a.send(`outer ${at}`)), [`outer ${at}`], `${where}: the outer message`);
          else assert.equal(a.receive(inbound).messages.map((m) => m.text), [`inbound ${at}`], `${where}: the outer message`);
          disarm();
          assert.ok(ran, `${where}: the callback ran`);
          assert.instance(refused, OtrStateError, `${where}: refused`);
          assert.is((refused as OtrError).code, 'STATE');
          // Nothing changed by the refused call: the pending message still opens, the session works both ways.
          assert.equal(a.receive(fromBob).messages.map((m) => m.text), [`pending ${at}`], `${where}: the nested receive's message`);
          assert.equal(texts(b, a.send(`after ${at}`)), [`after ${at}`], `${where}: alice → bob afterwards`);
          assert.equal(texts(a, b.send(`back ${at}`)), [`back ${at}`], `${where}: bob → alice afterwards`);
          assert.is(a.state, 'ENCRYPTED_MESSAGES');
          checked++;
        }
      }
    }
  }
  assert.ok(checked >= 2 * NESTED.length * 2 * 2, `${checked} nested positions checked`);
});

/** One outer send from `a` with `nested` made from its first host callback: what the nested call threw, and the outcome. */
function sendWithNested(h: ReturnType<typeof hookedPair>, nested: () => unknown): { refused: unknown; out: Outcome } {
  let refused: unknown;
  h.arm(() => {
    try {
      nested();
    } catch (e) {
      refused = e;
    }
  }, 0);
  const out = h.a.send('outer');
  h.disarm();
  return { refused, out };
}

test('the guard is released when a call throws, and the refused call is reported in the record book as nothing new', () => {
  const h = hookedPair(1300, 1301);
  const { alice, a, b } = h;
  assert.throws(() => a.send('a\0b'), (e: unknown) => e instanceof OtrArgumentError);
  assert.equal(texts(b, a.send('after a throw')), ['after a throw'], 'the next call is not refused');
  const { refused, out } = sendWithNested(h, () => a.send('nested'));
  assert.instance(refused, OtrStateError);
  assert.equal(texts(b, out), ['outer']);
  assert.equal(out.changed!.map((c) => c.key), ['conv:bob@example.org'], 'one record change: the outer send\'s');
  assert.equal(alice.changes().length, 0, 'nothing left pending by the refused call');
});

test('account.unload of the conversation from inside its send is refused before the record book hears of it', () => {
  const h = hookedPair(1350, 1351);
  const { alice, a, b } = h;
  assert.equal(texts(b, a.send('warm')), ['warm']);
  const { refused, out } = sendWithNested(h, () => alice.unload(a.peerId));
  assert.instance(refused, OtrStateError);
  assert.equal(texts(b, out), ['outer']);
  assert.equal(out.changed!.map((c) => c.key), ['conv:bob@example.org'], 'one record change: the outer send\'s');
  assert.equal(alice.changes().length, 0, 'nothing left pending by the refused unload');
  assert.is(alice.conversation(a.peerId), a, 'the conversation is still the live one');
  // The book's own view (internal): a live conversation it believed unloaded would refuse conversation(peer)
  // once the host dropped its reference and asked again, and its compare base was wiped.
  const book = (alice as unknown as { book: { isUnloaded(peer: string): boolean } }).book;
  assert.not.ok(book.isUnloaded(a.peerId), 'the record book was not told of the refused unload');
  assert.equal(texts(b, a.send('after')), ['after']);
});

test('a call on ANOTHER conversation from inside a receive\'s callbacks runs, and each message keeps its own text', () => {
  const { a, b, arm, disarm, calls } = hookedPair(1400, 1401);
  const other = makePair(WASM, 1401);
  establish(other);
  assert.equal(texts(b, a.send('warm')), ['warm']);
  const before = calls();
  assert.equal(a.receive(b.send('probe').toSend[0]!).messages.map((m) => m.text), ['probe']);
  const n = calls() - before;
  let ran = 0;
  for (let at = 0; at < n; at++) {
    let inner: Outcome | undefined;
    arm(() => {
      inner = other.a.send(`inner ${at}: for dave only`);
    }, at);
    const got = a.receive(b.send(`outer ${at}: for alice only`).toSend[0]!);
    disarm();
    assert.equal(got.messages.map((m) => m.text), [`outer ${at}: for alice only`]);
    if (inner === undefined) continue; // fewer callbacks in this receive than in the probe (which began a ratchet step)
    assert.equal(texts(other.b, inner), [`inner ${at}: for dave only`]);
    ran++;
  }
  assert.ok(ran >= 2, `the hook ran inside ${ran} receives`);
  assert.equal(texts(b, a.send('still fine')), ['still fine']);
});

test.run();
