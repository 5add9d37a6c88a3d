/**
 * otr4/pool against the same conversation run on this thread: with the same seeded randomness and clock
 * (test/helpers/pool-env.ts gives each worker account the stream its in-process twin gets), every Outcome
 * of every call — toSend strings, messages, events — and the final serialized accounts must be identical,
 * byte for byte. Then ordering: calls made without waiting run in the order made, across batches, next to
 * other accounts' calls, and while the account moves to another worker.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../ts/index.js';
import { OtrPool, type PoolConversation } from '../ts/pool/index.js';
import type { Conversation } from '../ts/session/conversation.js';
import { dearmour } from '../ts/codec/armour.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { MemoryStore, PrekeyServer, fetchEnsembles, runServerRequest } from '../ts/prekey-server/index.js';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { POOL_CLOCK, seedOf } from './helpers/pool-env.js';
import { inProcessTransport } from './helpers/prekey-transport.js';

const ENV = new URL('./helpers/pool-env.js', import.meta.url);
const A = 'alice@example.org';
const B = 'bob@example.org';

/** One side of a conversation, in-process or in the pool; the script below drives both the same way. */
interface Side {
  call(method: string, args: unknown[]): Promise<Outcome>;
}

const local = (c: Conversation): Side => ({
  call: async (method, args) => (c as unknown as Record<string, (...a: unknown[]) => Outcome>)[method]!(...args),
});
const pooled = (c: PoolConversation): Side => ({
  call: (method, args) => (c as unknown as Record<string, (...a: unknown[]) => Promise<Outcome>>)[method]!(...args),
});

function localAccount(id: string, dsa = false): Account {
  return Account.create({ accountId: id, backend: WASM, random: seededRandom(seedOf(id)), clock: POOL_CLOCK, ...(dsa ? {} : { dsaKey: null }) });
}

/** Delivers `out.toSend` to the other side and the replies back until quiet; logs every Outcome. */
async function pump(from: Side, to: Side, out: Outcome, log: Outcome[]): Promise<void> {
  let queue = out.toSend.map((t) => [to, t] as const);
  while (queue.length) {
    const next: (readonly [Side, string])[] = [];
    for (const [dst, text] of queue) {
      const r = await dst.call('receive', [text]);
      log.push(r);
      for (const t of r.toSend) next.push([dst === to ? from : to, t]);
    }
    queue = next;
  }
}

/** A scripted conversation: DAKE, runs and alternations (ratchets, brace keys), out of order, SMP, TLV 7, end. */
async function script(a: Side, b: Side): Promise<Outcome[]> {
  const log: Outcome[] = [];
  const say = async (s: Side, method: string, args: unknown[]) => {
    const o = await s.call(method, args);
    log.push(o);
    return o;
  };
  await pump(a, b, await say(a, 'start', []), log);
  for (let i = 0; i < 7; i++) {
    const [s, r] = i % 3 === 2 ? [b, a] : [a, b];
    await pump(s, r, await say(s, 'send', [`message ${i} ✓`]), log);
  }
  const late = await say(a, 'send', ['late']);
  await pump(a, b, await say(a, 'send', ['early']), log);
  await pump(a, b, late, log);
  await pump(a, b, await say(a, 'send', ['with a key', { extraKey: { context: new Uint8Array([0, 0, 0, 7]), data: new Uint8Array([1, 2]) } }]), log);
  await pump(a, b, await say(a, 'startSmp', ['our secret', 'what is it?']), log);
  await pump(b, a, await say(b, 'answerSmp', ['our secret']), log);
  await say(a, 'poll', []);
  await pump(b, a, await say(b, 'end', []), log);
  await say(a, 'send', ['after the end']);
  await pump(a, b, await say(a, 'startDake', []), log);
  await pump(b, a, await say(b, 'send', ['second session']), log);
  return log;
}

for (const checkpoints of ['records', 'every-call'] as const)
test(`a conversation through the pool equals the same conversation in-process, byte for byte (checkpoints '${checkpoints}')`, async () => {
  const la = localAccount(A);
  const lb = localAccount(B);
  if (checkpoints === 'records') {
    la.changes();
    lb.changes(); // what createAccount hands out in this mode: the account record at generation 1
  }
  const expected = await script(local(la.conversation(B)), local(lb.conversation(A)));

  const pool = await OtrPool.start({ workers: 2, backend: 'wasm', environment: ENV, checkpoints });
  try {
    const ia = await pool.createAccount({ accountId: A, dsaKey: null });
    const ib = await pool.createAccount({ accountId: B, dsaKey: null });
    assert.is(ia.fingerprint, la.fingerprint);
    assert.is(ib.instanceTag, lb.instanceTag);
    assert.is.not(pool.workerOf(A), pool.workerOf(B), 'the two accounts live in different workers');
    const got = await script(pooled(pool.conversation(A, B)), pooled(pool.conversation(B, A)));
    assert.is(got.length, expected.length);
    got.forEach((o, i) => assert.equal(o, expected[i], `outcome ${i}`));
    assert.ok(got.some((o) => o.events.some((e) => e.type === 'extra-key')));
    assert.ok(got.some((o) => o.events.some((e) => e.type === 'smp' && e.status === 'succeeded')));
    // The checkpoints are the accounts' bytes exactly; in 'records' mode the records the pool keeps are the
    // accounts' records exactly (bytes and generations), and checkpoint() still serializes.
    assert.equal(await pool.checkpoint(A), la.serialize());
    if (checkpoints === 'records') {
      const held = pool.lastRecords(B)!;
      const want = lb.records();
      assert.equal(held.map((r) => [r.key, r.generation]), want.map((r) => [r.key, r.generation]));
      held.forEach((r, i) => assert.equal(r.bytes, want[i]!.bytes, r.key));
    } else assert.equal(pool.lastCheckpoint(B), lb.serialize());
    const info = await pool.conversation(A, B).info();
    const lc = la.conversation(B);
    assert.equal(info, { state: lc.state, version: lc.version, ssid: lc.ssid, peerFingerprint: lc.peerFingerprint, instanceTags: lc.instanceTags, currentInstance: lc.currentInstance });
  } finally {
    await pool.close();
  }
});

test('key generation in the worker: an account with the default policy (a DSA key) equals its in-process twin', async () => {
  const id = 'carol@example.org';
  const twin = localAccount(id, true);
  const pool = await OtrPool.start({ workers: 1, backend: 'wasm', environment: ENV });
  try {
    const info = await pool.createAccount({ accountId: id });
    assert.is(info.fingerprint, twin.fingerprint);
    // The pool holds the new account's record (keys, the DSA key) exactly as the twin encodes it.
    assert.equal(pool.lastRecords(id)![0]!.bytes, twin.records()[0]!.bytes);
    twin.changes(); // as the pool's createAccount did: the account record handed out (generation 1)
    // The OTRv3 side of it works too: an OTRv3-only query is answered by the worker's account.
    const out = await pool.conversation(id, 'dave@example.org').receive('?OTRv3?');
    assert.equal(out, twin.conversation('dave@example.org').receive('?OTRv3?'));
    assert.ok(out.toSend.length > 0);
  } finally {
    await pool.close();
  }
});

/** The message id of an armoured data message (its position in the sending chain). */
const messageId = (text: string) => decodeDataMessage(dearmour(text)).messageId;

test('calls made without waiting run in the order made: across batches, beside other accounts, and through a move', async () => {
  const la = localAccount(A);
  const lb = localAccount(B);
  const pool = await OtrPool.start({ workers: 2, backend: 'wasm', environment: ENV, maxBatchCalls: 4 });
  try {
    await pool.createAccount({ accountId: A, dsaKey: null });
    await pool.createAccount({ accountId: B, dsaKey: null });
    await pool.createAccount({ accountId: 'eve@example.org', dsaKey: null });
    const a = pool.conversation(A, B);
    const b = pool.conversation(B, A);
    const log: Outcome[] = [];
    await pump(pooled(a), pooled(b), await a.start(), log);
    const la2b = la.conversation(B);
    await pump(local(la2b), local(lb.conversation(A)), la2b.start(), []);

    // 30 sends at once (8 batches of 4), interleaved with another account's calls: byte-identical to 30
    // sends in order in-process (each send draws randomness and advances the chain, so any reordering shows).
    const noise = pool.conversation('eve@example.org', 'mallory@example.org');
    const sends: Promise<Outcome>[] = [];
    const other: Promise<Outcome>[] = [];
    for (let i = 0; i < 30; i++) {
      sends.push(a.send(`in order ${i}`));
      other.push(noise.send(`noise ${i}`));
    }
    const outs = await Promise.all(sends);
    await Promise.all(other);
    outs.forEach((o, i) => assert.equal(o, la2b.send(`in order ${i}`), `send ${i}`));

    // A move in the middle of a run: the calls made during it wait and follow the account. (A reload
    // restarts the test's seeded stream, so order is read from the chain's message ids instead of bytes.)
    const more: Promise<Outcome>[] = [];
    for (let i = 0; i < 10; i++) more.push(a.send(`before move ${i}`));
    const from = pool.workerOf(A)!;
    const moved = pool.move(A, 1 - from);
    for (let i = 0; i < 10; i++) more.push(a.send(`after move ${i}`));
    await moved;
    const texts = (await Promise.all(more)).map((o) => o.toSend[0]!);
    assert.is(pool.workerOf(A), 1 - from);
    const ids = texts.map(messageId);
    for (let i = 1; i < ids.length; i++) assert.is(ids[i], ids[i - 1]! + 1, 'message ids follow the call order');
    // Bob reads every one, in the order they were made.
    const read: string[] = [];
    for (const t of [...outs.map((o) => o.toSend[0]!), ...texts]) read.push(...(await b.receive(t)).messages.map((m) => m.text));
    assert.equal(read, [...Array.from({ length: 30 }, (_, i) => `in order ${i}`), ...Array.from({ length: 10 }, (_, i) => `before move ${i}`), ...Array.from({ length: 10 }, (_, i) => `after move ${i}`)]);
    const st = pool.stats();
    assert.ok(st.batches > 10, 'many batches were used');
    // The synchronous-stretch histogram: ordered percentiles within the maximum (HDR buckets: 1% slack), the sum at least the max.
    assert.ok(st.p99SyncMs > 0 && st.p99SyncMs <= st.p999SyncMs && st.p999SyncMs <= st.maxSyncMs * 1.01 + 1e-3, JSON.stringify(st));
    assert.ok(st.totalSyncMs >= st.maxSyncMs - 1e-3);
  } finally {
    await pool.close();
  }
});

test('an offline conversation through the pool: ensembles fetched on this thread, Non-Interactive-Auth made in a worker', async () => {
  const server = new PrekeyServer({ backend: WASM, random: seededRandom(5), now: POOL_CLOCK, identity: 'prekey.example.org', identitySecret: seededRandom(6)(57), store: new MemoryStore() });
  const transport = inProcessTransport(server);
  const info = { identity: 'prekey.example.org', publicKey: server.publicKey };
  // Bob publishes (on this thread, with his secrets), then goes into the pool carrying his prekey secrets.
  const bob = localAccount(B);
  assert.equal(await runServerRequest(WASM, bob.random, transport(B), bob.prekeyServerLocal(B), info, bob.prekeyPublication(2)), { kind: 'success' });
  const pool = await OtrPool.start({ workers: 2, backend: 'wasm', environment: ENV });
  try {
    const alice = await pool.createAccount({ accountId: A, dsaKey: null });
    await pool.loadAccount(B, bob.serialize());
    const fetched = await fetchEnsembles(transport(A), alice.instanceTag, B);
    if (fetched.kind !== 'ensembles') throw new Error('no ensembles');
    const first = await pool.conversation(A, B).sendOffline(fetched.ensembles, 'while you were away');
    assert.ok(first.events.some((e) => e.type === 'encrypted'));
    const read: string[] = [];
    for (const t of first.toSend) read.push(...(await pool.conversation(B, A).receive(t)).messages.map((m) => m.text));
    assert.equal(read, ['while you were away']);
    assert.is((await pool.conversation(B, A).info()).state, 'ENCRYPTED_MESSAGES');
  } finally {
    await pool.close();
  }
});

test.run();
