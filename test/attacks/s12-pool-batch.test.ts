/**
 * Session 12: a worker answers a batch with its results packed in one buffer (ts/pool/result-batch.ts), which
 * the main thread reads back into Outcomes. That buffer is input to the main thread: a broken worker (a bug,
 * corrupted memory) could send anything. Asserted:
 *   - the codec: every truncation and every single-byte change of genuine packed batches, and crafted lengths
 *     and counts, either decode or are refused with OtrDecodeError — never another exception, never a read past
 *     the buffer, never an allocation the bytes do not pay for; genuine batches round-trip exactly (strings with
 *     lone surrogates and non-Latin text, messages with and without a version, deleted records);
 *   - the pool: a forged answer (test/helpers/pool-env-forge.ts alters it inside the worker before it crosses)
 *     rejects the batch's calls with OtrPoolError 'internal', the worker is replaced, its accounts reload from
 *     the records the main thread holds — so the rejected call had no effect (Alice's next message reuses its
 *     message id) — and the session goes on.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OtrDecodeError, type Outcome } from '../../ts/index.js';
import { OtrPoolError, type PoolConversation } from '../../ts/pool/index.js';
import { packable, packResults, unpackResults } from '../../ts/pool/result-batch.js';
import type { CallResult } from '../../ts/pool/protocol.js';
import { dearmour } from '../../ts/codec/armour.js';
import { decodeDataMessage } from '../../ts/wire/data.js';
import { seededUniform } from '../helpers/channel.js';
import { poolPair } from '../helpers/pool-pair.js';
import { armForge, type ForgeMode } from '../helpers/pool-env-forge.js';

const FORGE_ENV = new URL('../helpers/pool-env-forge.js', import.meta.url);

const outcomes: Outcome[] = [
  {
    toSend: ['?OTR:AAQD' + 'x'.repeat(300) + '.', ''],
    messages: [{ text: 'hello', encrypted: true, instance: 0x1234_5678, version: 4 }],
    events: [],
    changed: [
      { key: 'conv:bob@example.org', generation: 7, bytes: new Uint8Array([1, 2, 3, 250]) },
      { key: 'account', generation: 2 ** 40, bytes: new Uint8Array(0) },
      { key: 'conv:gone', generation: 3, bytes: null },
    ],
  },
  { toSend: [], messages: [{ text: 'lone \ud800 surrogate, ünïcödé, 漢字 😀', encrypted: false, instance: 0 }], events: [], changed: [] },
  { toSend: ['x'], messages: [{ text: 'v3', encrypted: true, instance: 0xffffffff, version: 3 }], events: [], changed: [{ key: 'conv:é', generation: 1, bytes: new Uint8Array([9]) }] },
];
const structured: CallResult = { ok: false, error: { name: 'OtrStateError', code: 'STATE', message: 'no' } };

/** A packed batch of the outcomes above with a structured result in the middle. */
function genuine(): { packed: ArrayBuffer; structured: (CallResult | null)[]; calls: number } {
  const results = [undefined, structured, undefined, undefined];
  const os = [outcomes[0], undefined, outcomes[1], outcomes[2]];
  for (const o of os) if (o) assert.ok(packable(o));
  const p = packResults(results, os);
  return { ...p, calls: 4 };
}

function decodesOrRefuses(packed: ArrayBuffer, s: unknown, calls: number): 'ok' | 'refused' {
  try {
    unpackResults(packed, s, calls);
    return 'ok';
  } catch (e) {
    if (e instanceof OtrDecodeError) return 'refused';
    throw new Error(`not a typed refusal: ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
}

test('packed results round-trip exactly, and what cannot be packed exactly is not packable', () => {
  const g = genuine();
  const back = unpackResults(g.packed, g.structured, g.calls);
  assert.equal(back[1], structured);
  for (const [i, o] of [[0, outcomes[0]!], [2, outcomes[1]!], [3, outcomes[2]!]] as const) {
    const r = back[i]!;
    assert.ok(r.ok);
    if (!r.ok) continue;
    assert.equal(r.value, o);
    assert.equal(r.records, o.changed!.length > 0 ? o.changed : undefined);
  }
  assert.is((back[2] as { value: Outcome }).value.messages[0]!.text, outcomes[1]!.messages[0]!.text); // the lone surrogate too
  // Events, extra keys, foreign shapes: structured instead (packable says no).
  assert.not.ok(packable({ ...outcomes[1]!, events: [{ type: 'ended', instance: 1 }] }));
  assert.not.ok(packable({ ...outcomes[1]!, extra: 1 }));
  assert.not.ok(packable({ ...outcomes[1]!, messages: [{ text: 'x', encrypted: true, instance: 1, version: 5 }] }));
  assert.not.ok(packable({ ...outcomes[1]!, messages: [{ text: 'x', encrypted: true, instance: 1, other: 1 }] }));
  assert.not.ok(packable({ ...outcomes[1]!, changed: [{ key: 'k', generation: 1.5, bytes: null }] }));
  assert.not.ok(packable({ toSend: [], messages: [], events: [] }));
});

test('every truncation, extension and single-byte change of a packed batch decodes or is refused with OtrDecodeError', () => {
  const g = genuine();
  const bytes = new Uint8Array(g.packed);
  let refused = 0;
  for (let n = 0; n < bytes.length; n++) {
    assert.is(decodesOrRefuses(bytes.slice(0, n).buffer, g.structured, g.calls), 'refused', `truncated to ${n}`);
    refused++;
  }
  assert.is(decodesOrRefuses(new Uint8Array([...bytes, 0]).buffer, g.structured, g.calls), 'refused', 'trailing byte');
  const rnd = seededUniform(12);
  for (let i = 0; i < bytes.length; i++)
    for (const v of [0, 0xff, 0x7f, 0x80, 1 + Math.floor(rnd() * 254)]) {
      const m = bytes.slice();
      if (m[i] === v) continue;
      m[i] = v;
      if (decodesOrRefuses(m.buffer, g.structured, g.calls) === 'refused') refused++;
    }
  assert.ok(refused > bytes.length, `${refused} refused`);
});

test('counts and lengths the bytes cannot hold are refused before anything is allocated for them', () => {
  const g = genuine();
  const at = (f: (v: DataView) => void) => {
    const b = g.packed.slice(0);
    f(new DataView(b));
    return b;
  };
  for (const [what, b] of [
    ['batch count', at((v) => v.setUint32(0, 0xffffffff, true))],
    ['toSend count', at((v) => v.setUint32(5, 0xffffffff, true))],
    ['string length', at((v) => v.setUint32(10, 0xfffffff0, true))],
    ['odd UTF-16 length', at((v) => (v.setUint8(9, 1), v.setUint32(10, 3, true)))],
    ['string kind', at((v) => v.setUint8(9, 7))],
    ['tag', at((v) => v.setUint8(4, 2))],
  ] as const)
    assert.is(decodesOrRefuses(b, g.structured, g.calls), 'refused', what);
  // The structured side must match the calls and the tags.
  assert.is(decodesOrRefuses(g.packed, g.structured.slice(1), g.calls), 'refused', 'short structured');
  assert.is(decodesOrRefuses(g.packed, 'x', g.calls), 'refused', 'structured not an array');
  assert.is(decodesOrRefuses(g.packed, g.structured.map(() => null), g.calls), 'refused', 'structured result missing');
  assert.is(decodesOrRefuses(g.packed, g.structured.map(() => structured), g.calls), 'refused', 'structured where packed');
  assert.is(decodesOrRefuses(g.packed, g.structured, g.calls + 1), 'refused', 'more calls than results');
  assert.is(decodesOrRefuses('x' as unknown as ArrayBuffer, g.structured, g.calls), 'refused', 'not a buffer');
  // A bad generation (not a safe integer) and bad message flags.
  const one = packResults([undefined], [outcomes[2]]).packed;
  const gen = one.slice(0);
  const dv = new DataView(gen);
  // toSend ['x'] (4 + 5 + 1), messages [v3] (4 + 5 + 2 + 1 + 4), changed count, key 'conv:é' (5 + 2 × 6).
  const genAt = 5 + 10 + 16 + 4 + 17;
  dv.setFloat64(genAt, Number.NaN, true);
  assert.is(decodesOrRefuses(gen, [null], 1), 'refused', 'NaN generation');
  dv.setFloat64(genAt, 1.5, true);
  assert.is(decodesOrRefuses(gen, [null], 1), 'refused', 'fractional generation');
  const flags = one.slice(0);
  new DataView(flags).setUint8(5 + 10 + 4 + 7, 0x40);
  assert.is(decodesOrRefuses(flags, [null], 1), 'refused', 'message flags');
});

const messageId = (o: Outcome) => decodeDataMessage(dearmour(o.toSend[0]!)).messageId;

async function rejectsInternal(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, OtrPoolError);
    assert.is((e as OtrPoolError).reason, 'internal', (e as Error).message);
    return;
  }
  assert.unreachable('the forged answer was accepted');
}

async function readable(from: PoolConversation, to: PoolConversation, text: string): Promise<number> {
  const out = await from.send(text);
  assert.equal((await to.receive(out.toSend[0]!)).messages.map((m) => m.text), [text]);
  return messageId(out);
}

// The two modes on `results` first: they apply to unpacked answers too (before session 12, such an answer
// rejected its calls as 'missing result' but left the worker, which had run them, in place: their effect stayed).
const MODES: ForgeMode[] = ['results-not-array', 'results-short', 'truncated', 'trailing', 'tag', 'count', 'huge-count', 'string-length', 'record-length', 'packed-not-buffer'];

test('a forged answer: its calls reject (internal), the worker is replaced, the call had no effect, the session goes on', async () => {
  const { pool, a, b } = await poolPair(FORGE_ENV, {}, 2);
  try {
    const A = 'alice@example.org';
    for (const mode of MODES) {
      const id = await readable(a, b, `before ${mode}`);
      const slot = pool.workerOf(A)!;
      const before = pool.stats().workers[slot]!;
      await armForge(before.threadId, mode);
      await rejectsInternal(a.send(`forged ${mode}`));
      const after = pool.stats().workers[slot]!;
      assert.is(after.restarts, before.restarts + 1, `${mode}: the worker was replaced`);
      // Reloaded from the records held here: the rejected send's message id is used again by the next one.
      assert.is(await readable(a, b, `after ${mode}`), id + 1, `${mode}: the rejected call had no effect`);
      assert.is.not(pool.stats().workers[slot]!.threadId, before.threadId);
      assert.ok((await readable(b, a, `reply ${mode}`)) >= 0);
    }
  } finally {
    await pool.close();
  }
});

test('a pool answer is refused whole: calls of the same batch reject together, other workers are untouched', async () => {
  const { pool, a, b } = await poolPair(FORGE_ENV, {}, 2);
  try {
    const slotA = pool.workerOf('alice@example.org')!;
    const slotB = pool.workerOf('bob@example.org')!;
    assert.is.not(slotA, slotB);
    const restartsB = pool.stats().workers[slotB]!.restarts;
    await armForge(pool.stats().workers[slotA]!.threadId, 'tag');
    // Several calls made in one turn leave in one batch.
    const calls = [a.send('one'), a.send('two'), a.send('three')];
    for (const c of calls) await rejectsInternal(c);
    assert.is(pool.stats().workers[slotB]!.restarts, restartsB);
    await readable(a, b, 'still fine');
    await readable(b, a, 'both ways');
  } finally {
    await pool.close();
  }
});

test.run();
