/**
 * Attack: a hostile conversation record in the store (a row edited on disk, moved from another key, written by
 * another program, or too big to decode). Conversation records are decoded lazily, on the conversation's first
 * use, so the attack lands at `account.conversation(peer)`, long after the account opened. Every such record
 * must be refused with a typed error on every use — never a crash, never silently replaced by a fresh
 * conversation on the second try (that would overwrite the evidence with the next commit) — while the rest of
 * the account keeps working, and `forget(peer)` is the way out.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, OtrError } from '../../ts/index.js';
import { encodeState, type StateValue } from '../../ts/session/state-codec.js';
import { encodeConversationRecord } from '../../ts/session/records.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, BOB_ID, establish, makePair, testClock } from '../helpers/session-pair.js';

const KEY = `conv:${BOB_ID}`;

/** A real conversation record of an established session (Alice's, with Bob). */
function realRecord(): { state: StateValue; bytes: Uint8Array } {
  const p = makePair(be, 700);
  establish(p);
  const state = p.a.toState();
  return { state, bytes: encodeConversationRecord(BOB_ID, state) };
}

/** The state envelope of a conversation record up to its value: append a hand-made value. */
function envelope(): Uint8Array {
  const whole = encodeState('conversation', null); // ... then one Null tag (0)
  return whole.subarray(0, whole.length - 1);
}

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

function hostileRecords(): Record<string, Uint8Array> {
  const real = realRecord();
  const rand = seededRandom(7);
  const garbage = rand(4096);
  const ARRAY = 7;
  const deep = new Uint8Array(200_000 * 5 + 1);
  for (let i = 0; i < 200_000; i++) deep.set([ARRAY, 0, 0, 0, 1], i * 5); // 200 000 nested one-element arrays
  const tooBig = encodeConversationRecord(BOB_ID, { ...(real.state as Record<string, StateValue>), pad: new Uint8Array(DEFAULT_LIMITS.maxStateBytes) });
  const shape = (state: StateValue) => encodeConversationRecord(BOB_ID, state);
  return {
    ...hostileMacKeys(real.state, shape),
    garbage,
    truncated: real.bytes.subarray(0, real.bytes.length >> 1),
    'another peer': encodeConversationRecord('mallory@example.net', real.state),
    'an account record': Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(3), clock: testClock(), dsaKey: null }).serialize(),
    'nested past the depth limit': join(envelope(), deep),
    'an array count of 2^31': join(envelope(), Uint8Array.of(ARRAY, 0x7f, 0xff, 0xff, 0xff)),
    'over maxStateBytes': tooBig,
    'state is a string': shape('hello'),
    'instances is a number': shape({ ...(real.state as Record<string, StateValue>), instances: 5 }),
    'ratchet keys of the wrong size': shape(JSON.parse(JSON.stringify(real.state, (_k, v) => (v instanceof Uint8Array ? [] : v)), (_k, v) => (Array.isArray(v) && v.length === 0 ? new Uint8Array(3) : v))),
  };
}

/** The real state with every ratchet's MAC keys to reveal replaced by `macs`. */
function withMacKeys(state: StateValue, macs: StateValue): StateValue {
  const s = state as Record<string, StateValue>;
  const instances = (s.instances as Record<string, StateValue>[]).map((i) => ({ ...i, ratchet: { ...(i.ratchet as Record<string, StateValue>), macKeysToReveal: macs } }));
  return { ...s, instances };
}

/**
 * The MAC-key queue's two formats (session 7: one bytes value of whole 64-byte keys; before: a list of
 * 64-byte values), each made of whole 64-byte keys (how many is bounded by the record's bytes; more than the
 * limit restores trimmed since session 15).
 */
function hostileMacKeys(state: StateValue, shape: (s: StateValue) => Uint8Array): Record<string, Uint8Array> {
  return {
    'MAC keys: a partial key': shape(withMacKeys(state, new Uint8Array(100))),
    // (More keys than the limit is no longer refused: restored trimmed, session 15 — the test below.)
    'MAC keys (list): a key of 63 bytes': shape(withMacKeys(state, [new Uint8Array(64), new Uint8Array(63)])),
    'MAC keys (list): a key that is a list': shape(withMacKeys(state, [[new Uint8Array(64)]])),
    'MAC keys: a string': shape(withMacKeys(state, 'keys')),
    'MAC keys: null': shape(withMacKeys(state, null)),
  };
}

test('MAC keys past the limit, in either format, restore trimmed to the newest the live bound keeps (session 15, attacks/s15-restore-lowered-limits)', () => {
  const real = realRecord();
  const most = DEFAULT_LIMITS.maxStoredMessageKeys * 4;
  const kept = Math.floor((DEFAULT_LIMITS.maxMacKeysToReveal * 3) / 4);
  const keys = seededRandom(5)(most * 64);
  const list = Array.from({ length: most }, (_, n) => keys.slice(n * 64, n * 64 + 64));
  for (const macs of [keys, list] as StateValue[]) {
    const alice = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(11), clock: testClock(), dsaKey: null });
    alice.attachRecord({ key: KEY, generation: 3, bytes: encodeConversationRecord(BOB_ID, withMacKeys(real.state, macs)) });
    const conv = alice.conversation(BOB_ID);
    assert.is(conv.state, 'ENCRYPTED_MESSAGES');
    const inst = (conv.toState() as { instances: { ratchet: { macKeysToReveal: Uint8Array } }[] }).instances[0]!;
    assert.ok(inst.ratchet.macKeysToReveal instanceof Uint8Array && Buffer.from(inst.ratchet.macKeysToReveal).equals(Buffer.from(keys.subarray((most - kept) * 64))), 'the newest keys, in order, as one value');
  }
});

test('every hostile conversation record is refused typed on every use; the account goes on; forget() recovers', () => {
  for (const [label, bytes] of Object.entries(hostileRecords())) {
    const alice = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(11), clock: testClock(), dsaKey: null });
    alice.changes();
    alice.attachRecord({ key: KEY, generation: 3, bytes });
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        alice.conversation(BOB_ID);
        assert.unreachable(`${label}: accepted (attempt ${attempt})`);
      } catch (e) {
        assert.instance(e, OtrError, `${label} (attempt ${attempt}): ${(e as Error)?.constructor?.name} ${(e as Error)?.message}`);
        // Refused for what was made hostile, not for something else on the way.
        if (label.startsWith('MAC keys')) assert.match((e as Error).message, /macKeysToReveal/, label);
      }
    }
    // Nothing was written over the record, and the rest of the account works.
    assert.equal(alice.changes(), [], `${label}: a write`);
    const carol = alice.conversation('carol@example.net').start();
    assert.ok(carol.toSend.length > 0, label);
    // The way out: forget deletes the record (at its next generation); the conversation then starts afresh.
    const out = alice.forget(BOB_ID);
    assert.equal(out.changed, [{ key: KEY, generation: 4, bytes: null }], label);
    assert.is(alice.conversation(BOB_ID).state, 'START', label);
  }
});

test('the real record the hostile ones are made from is accepted (the test can tell them apart)', () => {
  const alice = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(11), clock: testClock(), dsaKey: null });
  alice.attachRecord({ key: KEY, generation: 3, bytes: realRecord().bytes });
  assert.is(alice.conversation(BOB_ID).state, 'ENCRYPTED_MESSAGES');
});

test.run();
