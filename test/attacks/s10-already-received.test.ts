/**
 * Session 10: a data message whose receive was already committed — redelivered after the host crashed between
 * the commit and showing it — is refused as before (`unreadable`, STATE), now with `reason: 'already-received'`
 * so the host can tell it from other failures. The attacks: that reason must never be given to a message that
 * is not authentic — bit-flipped copies, a forged authenticator, a copy re-MACed with a key we revealed (which
 * anyone who saw our message holds) — so it cannot serve as an oracle, and nothing on the wire changes.
 * On the memory and SQLite stores, each account restored from the store between the receive and the replay.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../ts/store/memory.js';
import { openSqliteStore } from '../../ts/store/sqlite.js';
import type { RecordStore } from '../../ts/store/types.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { Account, type Outcome } from '../../ts/index.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { decodeDataMessage } from '../../ts/wire/data.js';
import { authenticator, authenticatorMatches } from '../../ts/ratchet/keys.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { testClock } from '../helpers/session-pair.js';
import { handshakeDurably } from '../helpers/stored-pair.js';

const dir = mkdtempSync(join(tmpdir(), 'otr4-s10-replay-'));
let files = 0;
const SEAL_KEY = new Uint8Array(32).fill(5);
const AUTHENTICATOR_BYTES = 64;

type Unreadable = { code: string; reason?: string };
function unreadable(out: Outcome): Unreadable[] {
  return out.events.filter((e) => e.type === 'unreadable').map((e) => e as unknown as Unreadable);
}

/** A copy of an encoded data message's bytes (dearmour gives a view into a shared slab). */
function bytesOf(text: string): Uint8Array {
  return dearmour(text).slice();
}

/**
 * Alice (in `store`) and Bob (in memory) with a session; Bob sends `count` messages, Alice receives and commits
 * each (the last one never shown: the host "crashed"), then Alice is restored from the store.
 */
async function receivedThenRestored(store: RecordStore, count: number, text = (i: number) => `message ${i}`) {
  const clock = testClock();
  const options = { create: true, sealKey: SEAL_KEY, account: { backend: WASM, random: seededRandom(51), clock, dsaKey: null, policy: { healSessions: false } } };
  const first = await openStoredAccount(store, 'alice@x', options);
  const bob = Account.create({ accountId: 'bob@x', backend: WASM, random: seededRandom(52), clock, dsaKey: null, policy: { healSessions: false } });
  const a0 = await first.conversation('bob@x');
  const bc = bob.conversation('alice@x');
  await handshakeDurably(first, a0, bc);
  const sent: string[] = [];
  for (let i = 0; i < count; i++) {
    const wire = bc.send(text(i)).toSend;
    assert.is(wire.length, 1, 'one message, unfragmented');
    sent.push(wire[0]!);
    const got = a0.receive(wire[0]!);
    assert.equal(got.messages.map((m) => m.text), [text(i)]);
    await first.commit(got);
  }
  await first.close();
  const alice = await openStoredAccount(store, 'alice@x', { ...options, create: false });
  const a = await alice.conversation('bob@x');
  /** Alice receives `text` and commits the outcome, as a host does. */
  const receive = async (text: string): Promise<Outcome> => {
    const out = a.receive(text);
    await alice.commit(out);
    return out;
  };
  return { alice, a, bc, sent, receive };
}

const stores: [string, () => Promise<RecordStore>][] = [
  ['memory', async () => new MemoryStore()],
  ['SQLite', () => openSqliteStore({ path: join(dir, `s10-${files++}.db`) })],
];

for (const [kind, makeStore] of stores) {
  test(`${kind}: a message received and committed, redelivered after a restore, is unreadable STATE with reason already-received (the last one and earlier ones)`, async () => {
    const store = await makeStore();
    try {
      const { alice, sent, receive } = await receivedThenRestored(store, 3);
      for (const [what, text] of [['the last (never shown)', sent[2]!], ['the first', sent[0]!], ['the last again', sent[2]!]] as const) {
        const out = await receive(text);
        assert.equal(out.messages, [], `${what}: nothing shown twice`);
        assert.equal(unreadable(out), [{ ...unreadable(out)[0]!, code: 'STATE', reason: 'already-received' }], `${what}: ${JSON.stringify(out.events)}`);
        assert.is(out.toSend.length, 1, `${what}: the same answer on the wire as any unreadable message (an OTR error)`);
      }
      await alice.close();
    } finally {
      await store.close();
    }
  });

  test(`${kind}: bit-flipped and forged copies of an already-received message never get the reason`, async () => {
    const store = await makeStore();
    try {
      const { alice, sent, receive } = await receivedThenRestored(store, 2);
      const original = bytesOf(sent[1]!);
      const m = decodeDataMessage(original);
      // Every byte the authenticator covers, and the authenticator itself; one bit each (a different bit per byte).
      const covered = m.authenticated.length + AUTHENTICATOR_BYTES;
      let flips = 0;
      for (let at = 0; at < covered; at++) {
        const flipped = original.slice();
        flipped[at]! ^= 1 << at % 8;
        const out = await receive(armour(flipped));
        assert.equal(out.messages, [], `flip at ${at}: nothing shown`);
        for (const u of unreadable(out)) assert.is(u.reason, undefined, `flip at byte ${at}: ${JSON.stringify(u)}`);
        flips++;
      }
      assert.is(flips, covered);
      // A random authenticator on the original's bytes.
      const forged = original.slice();
      forged.set(seededRandom(53)(AUTHENTICATOR_BYTES), m.authenticated.length);
      const out = await receive(armour(forged));
      assert.equal(unreadable(out).map((u) => u.reason), [undefined]);
      // The original still gets it: the refusals above changed nothing.
      assert.equal(unreadable(await receive(sent[1]!)).map((u) => u.reason), ['already-received']);
      await alice.close();
    } finally {
      await store.close();
    }
  });

  test(`${kind}: once our message revealed the MAC keys, a replay is plain STATE, and a copy re-MACed with a revealed key never gets the reason`, async () => {
    const store = await makeStore();
    try {
      const { alice, a, sent, receive } = await receivedThenRestored(store, 2);
      const reply = a.send('revealing');
      await alice.commit(reply);
      const revealed = decodeDataMessage(bytesOf(reply.toSend[0]!)).revealedMacs.slice();
      assert.ok(revealed.length >= 2 * 64, `our reply revealed the MAC keys of Bob's messages (${revealed.length / 64})`);
      const replay = unreadable(await receive(sent[1]!));
      assert.equal(replay.map((u) => [u.code, u.reason]), [['STATE', undefined]], 'nothing of ours can authenticate it any more');
      // Anyone who saw our reply can MAC a message with those keys: an altered copy of Bob's message, re-MACed.
      const original = bytesOf(sent[1]!);
      let forgeries = 0;
      for (let k = 0; k < revealed.length / 64; k++) {
        const key = revealed.subarray(k * 64, (k + 1) * 64);
        const forged = original.slice();
        const f = decodeDataMessage(forged);
        forged[f.authenticated.length - 1]! ^= 0x80; // the ciphertext's last byte
        forged.set(authenticator(WASM, key, f.authenticated), f.authenticated.length);
        assert.ok(authenticatorMatches(WASM, key, f.authenticated, f.authenticator), 'the forgery verifies under the revealed key');
        const out = await receive(armour(forged));
        assert.equal(out.messages, []);
        assert.equal(unreadable(out).map((u) => u.reason), [undefined], `re-MACed with revealed key ${k}`);
        forgeries++;
      }
      assert.ok(forgeries >= 2);
      await alice.close();
    } finally {
      await store.close();
    }
  });
}

test('the work is bounded: only the 16 newest keys are tried, and one for a message of more than 16 KiB (ratchet/replay.ts)', async () => {
  const store = new MemoryStore();
  const small = await receivedThenRestored(store, 18);
  const reasons = async (text: string) => unreadable(await small.receive(text)).map((u) => u.reason);
  assert.equal(await reasons(small.sent[17]!), ['already-received'], 'the newest');
  assert.equal(await reasons(small.sent[2]!), ['already-received'], 'the 16th newest');
  assert.equal(await reasons(small.sent[1]!), [undefined], 'the 17th newest: not tried');
  await small.alice.close();
  const big = await receivedThenRestored(new MemoryStore(), 2, (i) => `${i}`.padEnd(20_000, 'x'));
  assert.ok(decodeDataMessage(bytesOf(big.sent[1]!)).authenticated.length > 16 * 1024);
  assert.equal(unreadable(await big.receive(big.sent[1]!)).map((u) => u.reason), ['already-received'], 'the newest');
  assert.equal(unreadable(await big.receive(big.sent[0]!)).map((u) => u.reason), [undefined], 'one try only');
  await big.alice.close();
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
