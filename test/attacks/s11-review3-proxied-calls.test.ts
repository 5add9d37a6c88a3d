/**
 * The recorded calls shared per prototype (session 11, ts/session/records.ts recordedCalls): one function per
 * call for every conversation, which finds its book through `this`. The per-conversation closures before them
 * ignored `this` and always ran on their own conversation. A host that reaches a conversation through a
 * wrapper — a Proxy (the reactive stores of UI frameworks wrap what they hold in one) or an object whose
 * prototype is the conversation — found the wrapper passed on as `this` to everything below: the re-entrancy
 * guard (conversation.ts callsUnderWay) then knew the wrapper, not the conversation, so a call on the
 * conversation itself from inside the wrapper's call (a clock or random callback) was no longer refused and
 * made the outer message unreadable (the session-7 attack, s7-reentry); and a wrapped call that threw left the
 * wrapper among the book's touched conversations beside the conversation, so the next call handed out the
 * same record twice in one outcome, and account.unload no longer saw the changes pending.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Outcome } from '../../ts/index.js';
import type { Conversation } from '../../ts/session/conversation.js';
import { OtrError, OtrStateError } from '../../ts/errors.js';
import { hookedPair } from '../helpers/hooked-pair.js';

function texts(to: Conversation, out: Outcome): string[] {
  const got: string[] = [];
  for (const t of out.toSend) for (const m of to.receive(t).messages) got.push(m.text);
  return got;
}

/** What `f` threw (undefined if it returned). */
function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** The wrappers a host may hold a conversation in. */
const WRAPPERS: readonly [string, (c: Conversation) => Conversation][] = [
  ['a Proxy', (c) => new Proxy(c, {})],
  ['a Proxy with a get trap', (c) => new Proxy(c, { get: (t, k) => Reflect.get(t, k, t) })],
  ['an object whose prototype is the conversation', (c) => Object.create(c) as Conversation],
];

test('attack: a call on the conversation from inside a wrapped call of it (a host callback) is refused; both sides go on', () => {
  let seed = 1300;
  for (const [name, wrap] of WRAPPERS) {
    for (const outerKind of ['send', 'receive'] as const) {
      const { a, b, arm, disarm, calls } = hookedPair(seed++, seed++);
      const w = wrap(a);
      assert.equal(texts(b, w.send('warm')), ['warm'], `${name}: a wrapped call works`);
      // How many callbacks one outer call of this kind makes: the nested call is tried at each.
      const before = calls();
      if (outerKind === 'send') assert.equal(texts(b, w.send('probe')), ['probe']);
      else assert.equal(w.receive(b.send('probe').toSend[0]!).messages.map((m) => m.text), ['probe']);
      const n = calls() - before;
      assert.ok(n >= 1, 'the host is called back during the call');
      let nestedRuns = 0;
      for (let at = 0; at < n; at++) {
        const inbound = b.send(`inbound ${at}`).toSend[0]!;
        const nested: { ran: boolean; error?: unknown } = { ran: false };
        arm(() => Object.assign(nested, { ran: true, error: thrownBy(() => a.send('nested: must not be sent')) }), at);
        const where = `${name}, ${outerKind}, callback ${at} of ${n}`;
        if (outerKind === 'send') assert.equal(texts(b, w.send(`outer ${at}`)), [`outer ${at}`], `${where}: the outer message`);
        else assert.equal(w.receive(inbound).messages.map((m) => m.text), [`inbound ${at}`], `${where}: the outer message`);
        disarm();
        // (A receive after the probe may call back fewer times: the probe's may have started a ratchet step.)
        if (!nested.ran) continue;
        nestedRuns++;
        assert.instance(nested.error, OtrStateError, `${where}: the nested call is refused`);
        assert.equal(texts(b, a.send(`after ${at}`)), [`after ${at}`], `${where}: alice -> bob goes on`);
        assert.equal(texts(a, b.send(`back ${at}`)), [`back ${at}`], `${where}: bob -> alice goes on`);
      }
      assert.ok(nestedRuns >= 1, `${name}, ${outerKind}: the nested call ran`);
    }
  }
});

test('attack: a wrapped call that throws leaves the conversation itself pending: one record per key, unload refused until handed out', () => {
  let seed = 1400;
  for (const [name, wrap] of WRAPPERS) {
    const { alice, a, b } = hookedPair(seed++, seed++);
    alice.changes();
    const w = wrap(a);
    // A call refused by the conversation (the host's mistake): the book counts the conversation as touched.
    assert.throws(() => w.send(42 as unknown as string), (e: unknown) => e instanceof OtrError, `${name}: refused`);
    assert.throws(() => alice.unload(a.peerId), (e: unknown) => e instanceof OtrError, `${name}: unload waits for the changes`);
    const out = a.send('next');
    const keys = (out.changed ?? []).map((c) => c.key);
    assert.equal(keys, [...new Set(keys)], `${name}: each record once in an outcome (${keys.join(', ')})`);
    assert.ok(keys.includes('conv:bob@example.org'), `${name}: the conversation's record`);
    assert.equal(texts(b, out), ['next']);
    assert.equal(alice.changes(), [], `${name}: nothing left pending`);
    alice.unload(a.peerId); // nothing pending now
  }
});

test.run();
