/**
 * Attack (session 16, a host's action: maxInstancesPerConversation raised, then lowered; and a hostile record).
 * OTRv3's restore took every context of a state (up to 65,536, bounded by the record's bytes) whatever the limit,
 * and checked each one's meaning — the peer's DSA key costs two modular powers (its subgroup checks) — so a
 * state written under a higher limit came back over the lower one, and a hostile state of a thousand encrypted
 * contexts cost a thousand DSA key checks per decode. Now the restore keeps what the live bound lets a peer hold,
 * chosen by the live ranking (contextsInEvictionOrder, shared with the admission): idle contexts first, then
 * stale AKEs, then fresh ones, then encrypted sessions least recently sent on; never the current one. The
 * others are wiped unread, and the caller hears how many. Only the kept contexts are checked: shown here with
 * dropped contexts whose DSA keys are invalid (a check would refuse the state).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type StateValue, decodeState, encodeState } from '../../ts/session/state-codec.js';
import { V3Conversation } from '../../ts/v3/index.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { JS } from '../helpers/backends.js';
import { encryptedPair, type Side } from '../interop/v3-pair.js';

type Obj = Record<string, unknown>;
const NOW = 1_800_000_000_000;
const PROTECT = DEFAULT_LIMITS.pendingDakeProtectMs;

interface Fixture {
  b: Side;
  state: Obj;
  encrypted: Obj;
  /** An AKE in progress (our D-H Commit to anyone), as a context's auth. */
  ake: unknown;
}

/** Bob encrypted with Alice, and a D-H Commit of his to anyone (an AKE state to copy into contexts). */
function fixture(): Fixture {
  const { b } = encryptedPair(JS);
  b.conv.startAke();
  const state = decodeState('otrv3', b.conv.serialize()) as Obj;
  const encrypted = (state.instances as Obj[])[0]!;
  return { b, state, encrypted, ake: (state.master as Obj).auth };
}

type Kind = { tag: number; sentAt: number; kind: 'idle' | 'ake' | 'encrypted'; broken?: boolean };

function context(f: Fixture, k: Kind): Obj {
  const base = { ...f.encrypted, theirTag: k.tag, lastSentAt: k.sentAt };
  const c: Obj = k.kind === 'encrypted' ? base : { ...base, msgstate: 'plaintext', keys: null, peer: null, smp: { kind: 'expect1' }, auth: k.kind === 'ake' ? f.ake : { kind: 'none' } };
  // A DSA key no check accepts (an even p): the state is refused if this context is ever checked.
  if (k.broken) c.peer = { ...(c.peer as Obj), longTerm: { ...((c.peer as Obj).longTerm as Obj), p: 4n } };
  return c;
}

function state(f: Fixture, kinds: readonly Kind[], current: number): Uint8Array {
  return encodeState('otrv3', { ...f.state, instances: kinds.map((k) => context(f, k)), current } as StateValue);
}

function restore(f: Fixture, bytes: Uint8Array, maxInstancesPerConversation: number): { conv: V3Conversation; told: [number, number, string][] } {
  const told: [number, number, string][] = [];
  try {
    const conv = V3Conversation.restore({ ...f.b.opts, now: () => NOW, limits: { maxInstancesPerConversation } }, bytes, (i, n, what) => told.push([i, n, what]));
    return { conv, told };
  } catch (e) {
    assert.unreachable(`refused: ${(e as Error).message}`);
    throw e;
  }
}

const tags = (c: V3Conversation) => c.instances.map((i) => i.instance);

test('the ranking is the admission\'s: idle first, stale AKEs, fresh AKEs, then sessions least recently sent on; the current one stays', () => {
  const f = fixture();
  const kinds: Kind[] = [
    { tag: 0x101, sentAt: NOW, kind: 'idle' },
    { tag: 0x102, sentAt: NOW - 1000, kind: 'ake' },
    { tag: 0x103, sentAt: 5, kind: 'encrypted' },
    { tag: 0x104, sentAt: NOW - PROTECT - 1, kind: 'ake' },
    { tag: 0x105, sentAt: 1, kind: 'encrypted' },
    { tag: 0x106, sentAt: 9, kind: 'encrypted' },
  ];
  const expected: Record<number, number[]> = {
    6: [0x101, 0x102, 0x103, 0x104, 0x105, 0x106],
    5: [0x102, 0x103, 0x104, 0x105, 0x106],
    4: [0x102, 0x103, 0x105, 0x106],
    3: [0x103, 0x105, 0x106],
    2: [0x105, 0x106],
    1: [0x105],
    0: [0x105],
  };
  for (const [limit, kept] of Object.entries(expected)) {
    const r = restore(f, state(f, kinds, 0x105), Number(limit));
    assert.equal(tags(r.conv), kept, `limit ${limit}`);
    assert.equal(r.told, kept.length < kinds.length ? [[0, kinds.length - kept.length, 'instances']] : [], `limit ${limit}: told`);
    assert.is(r.conv.current, 0x105);
  }
});

test('round trip: what a trimmed restore saves restores as it is, nothing trimmed again', () => {
  const f = fixture();
  const kinds: Kind[] = Array.from({ length: 8 }, (_, i) => ({ tag: 0x200 + i, sentAt: 100 + ((i * 5) % 8), kind: 'encrypted' }));
  const first = restore(f, state(f, kinds, 0x200), 3);
  assert.equal(tags(first.conv), [0x200, 0x203, 0x206], 'the current one and the two most recently sent on');
  const saved = first.conv.serialize();
  const again = restore(f, saved, 3);
  assert.equal(again.told, []);
  assert.equal(again.conv.serialize(), saved);
});

test('a hostile state of 1,000 encrypted contexts: the 32 kept are the only ones checked', () => {
  const f = fixture();
  const n = 1000;
  const keep = DEFAULT_LIMITS.maxInstancesPerConversation;
  // Most recently sent on: the last `keep` tags (the current one, 0x1000, among the least recent, kept anyway).
  const kept = new Set([0x1000, ...Array.from({ length: keep - 1 }, (_, i) => 0x1000 + n - keep + 1 + i)]);
  const kinds: Kind[] = Array.from({ length: n }, (_, i) => ({ tag: 0x1000 + i, sentAt: i, kind: 'encrypted', broken: !kept.has(0x1000 + i) }));
  const r = restore(f, state(f, kinds, 0x1000), keep);
  assert.equal(tags(r.conv), [...kept]);
  assert.equal(r.told, [[0, n - keep, 'instances']]);
});

test('a remote instance twice is still refused, kept or not', () => {
  const f = fixture();
  const kinds: Kind[] = [
    { tag: 0x101, sentAt: 0, kind: 'idle' },
    { tag: 0x101, sentAt: 0, kind: 'idle' },
    { tag: 0x102, sentAt: 0, kind: 'encrypted' },
  ];
  assert.throws(() => V3Conversation.restore({ ...f.b.opts, now: () => NOW, limits: { maxInstancesPerConversation: 1 } }, state(f, kinds, 0x102)), /appears twice/);
});

test.run();
