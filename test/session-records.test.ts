/**
 * Per-conversation records (issue 12): which records each call changes, lazy restore, the crash at every
 * point between call, commit and transmit, two processes on one account, a store that goes back, forget,
 * pending DAKEs expiring, and the size bound (the worst case every limit allows is trimmed and restores).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM as be } from './helpers/backends.js';
import { MemoryStore } from '../ts/store/memory.js';
import { Account } from '../ts/session/account.js';
import { Conversation } from '../ts/session/conversation.js';
import { decodeConversationRecord, encodeConversationRecord } from '../ts/session/records.js';
import { DEFAULT_LIMITS } from '../ts/limits.js';
import { OtrStoreConflictError, OtrStoreRollbackError, OtrStateError } from '../ts/errors.js';
import type { RecordChange, RecordStore, StoredRecord } from '../ts/store/types.js';
import type { StateValue } from '../ts/session/state-codec.js';
import { RawStore } from './helpers/raw-store.js';
import { seededRandom } from './helpers/rng.js';
import { T0, testClock } from './helpers/session-pair.js';
import {
  ALICE_ID,
  BOB_ID,
  commitAndSend,
  establishStored,
  makeStoredPair,
  openSide,
  pumpStored,
  reopen,
  Wire,
  type StoredPair,
} from './helpers/stored-pair.js';

const t = suite('session-records');
const keys = (c: readonly RecordChange[] | undefined) => (c ?? []).map((x) => `${x.key}@${x.generation}${x.bytes ? '' : ' deleted'}`);

/** Counts loads per key (lazy restore must not read what it does not use). */
class CountingStore extends MemoryStore {
  loads: string[] = [];
  override async load(a: string, k: string): Promise<StoredRecord | undefined> {
    this.loads.push(k);
    return super.load(a, k);
  }
}

t('every outcome lists the records its call changed, each at its next generation; unchanged state writes nothing', async () => {
  const p = await makeStoredPair(be, [new MemoryStore(), new MemoryStore()], 1);
  // A query changes nothing of Alice's state: no record.
  const q = p.a.conv.start();
  assert.equal(keys(q.changed), []);
  // Bob answers with an Identity: his conversation record is created.
  const r = p.b.conv.receive(q.toSend[0]!);
  assert.equal(keys(r.changed), [`conv:${ALICE_ID}@1`]);
  await commitAndSend(p, p.b, r);
  await pumpStored(p, p.b, p.a, r.toSend);
  assert.is(p.a.conv.state, 'ENCRYPTED_MESSAGES');
  // The DAKE recorded Alice's view of Bob's fingerprint: her account record changed with it (generation 2).
  assert.is(p.a.stored.account.recordGeneration('account'), 2);
  // Alice's first message to Bob makes him a contact in her trust store (session 11): her account record too.
  const before = p.a.stored.account.recordGeneration(`conv:${BOB_ID}`);
  const s = p.a.conv.send('hello');
  assert.equal(keys(s.changed), ['account@3', `conv:${BOB_ID}@${before + 1}`]);
  await commitAndSend(p, p.a, s);
  // A message after it: only the conversation's record, one generation up; the receiver likewise.
  const s2 = p.a.conv.send('again');
  assert.equal(keys(s2.changed), [`conv:${BOB_ID}@${before + 2}`]);
  await commitAndSend(p, p.a, s2);

  const got = p.b.conv.receive(s.toSend[0]!);
  assert.equal(got.messages.map((m) => m.text), ['hello']);
  assert.equal(keys(got.changed), [`conv:${ALICE_ID}@${p.b.stored.account.recordGeneration(`conv:${ALICE_ID}`)}`]);
  await p.b.stored.commit(got);
  // Forged and garbage input leaves the state as it was: no write (a flood cannot force fsyncs).
  const forged = p.b.conv.receive(s.toSend[0]!); // a replay
  assert.ok(forged.events.some((e) => e.type === 'unreadable'));
  assert.equal(keys(forged.changed), []);
  assert.equal(keys(p.b.conv.receive('?OTR:AAQDgarbage.').changed), []);
  // Plaintext stops the whitespace-tag advertising (a persisted flag): one write, then none.
  assert.is(p.b.conv.receive('just plaintext').changed!.length, 1);
  assert.equal(keys(p.b.conv.receive('more plaintext').changed), []);
});

t('saving after a message costs one record whatever the number of conversations', async () => {
  const p = await makeStoredPair(be, [new MemoryStore(), new MemoryStore()], 2);
  await establishStored(p);
  const one = p.a.conv.send('x'.repeat(100));
  await commitAndSend(p, p.a, one);
  // 40 more conversations with state of their own (each a pending DAKE of ours).
  for (let n = 0; n < 40; n++) {
    const c = await p.a.stored.conversation(`peer${n}@example.net`);
    await p.a.stored.commit(c.startDake());
  }
  const many = p.a.conv.send('y'.repeat(100));
  assert.is(many.changed!.length, 1);
  assert.is(many.changed![0]!.key, `conv:${BOB_ID}`);
  // The record is this conversation's alone: the same size as with one conversation (± a few bytes of counters).
  // (The first message also wrote the account record: Bob became a contact, session 11.)
  const oneConv = one.changed!.find((c) => c.key === `conv:${BOB_ID}`)!;
  assert.ok(Math.abs(many.changed![0]!.bytes!.length - oneConv.bytes!.length) < 16);
});

t('lazy restore: opening reads only the account record; a conversation is read and decoded on first use', async () => {
  const store = new CountingStore();
  const p = await makeStoredPair(be, [store, new MemoryStore()], 3);
  await establishStored(p);
  for (let n = 0; n < 10; n++) await p.a.stored.commit((await p.a.stored.conversation(`peer${n}@example.net`)).startDake());
  const m = p.b.conv.send('after the restart');
  await commitAndSend(p, p.b, m);
  store.loads = [];
  const again = await openStoredAccount2(p, store);
  assert.equal(store.loads, ['account']);
  assert.equal(again.account.peers, []);
  const conv = await again.conversation(BOB_ID);
  assert.equal(store.loads, ['account', `conv:${BOB_ID}`]);
  assert.equal(conv.receive(m.toSend[0]!).messages.map((x) => x.text), ['after the restart']);
});

async function openStoredAccount2(p: StoredPair, store: RecordStore) {
  const { openStoredAccount } = await import('../ts/session/account-store.js');
  return openStoredAccount(store, ALICE_ID, { account: { backend: be, random: p.a.random, clock: p.clock } });
}

type Point = 'none' | 'after-call' | 'after-commit';

/**
 * Alice sends, Bob receives, each "process" crashing at a chosen point of each step (its memory lost, the
 * next step runs on a process reopened from the store). Returns what was displayed and the wire's tally.
 */
async function crashRun(seed: number, sendCrash: Point[], recvCrash: Point[], unsafe = false) {
  const p = await makeStoredPair(be, [new MemoryStore(), new MemoryStore()], seed);
  await establishStored(p);
  const shown: string[] = [];
  let lostSend = 0;
  let lostRecv = 0;
  let replaysRefused = 0;
  for (let n = 0; n < sendCrash.length; n++) {
    const text = `message ${n}`;
    const out = p.a.conv.send(text);
    const point = sendCrash[n]!;
    if (unsafe) {
      // The unsafe order: on the wire first, then (maybe) saved.
      p.wire.note(out.toSend);
      if (point === 'none') await p.a.stored.commit(out);
      else p.a = await reopen(p, p.a);
    } else if (point === 'after-call') {
      p.a = await reopen(p, p.a);
      lostSend++;
      continue;
    } else {
      await p.a.stored.commit(out);
      if (point === 'after-commit') {
        p.a = await reopen(p, p.a);
        lostSend++;
        continue;
      }
      p.wire.note(out.toSend);
    }
    // Bob: receive, commit, then show; a crash before commit means the transport delivers the message again.
    const r = p.b.conv.receive(out.toSend[0]!);
    const rp = recvCrash[n % recvCrash.length]!;
    if (rp === 'after-call') {
      p.b = await reopen(p, p.b);
      const again = p.b.conv.receive(out.toSend[0]!);
      await p.b.stored.commit(again);
      shown.push(...again.messages.map((m) => m.text));
    } else {
      await p.b.stored.commit(r);
      if (rp === 'after-commit') {
        // Crashed before showing it: the redelivered copy is a replay and is refused.
        p.b = await reopen(p, p.b);
        const again = p.b.conv.receive(out.toSend[0]!);
        if (again.events.some((e) => e.type === 'unreadable')) replaysRefused++;
        shown.push(...again.messages.map((m) => m.text));
        lostRecv++;
      } else shown.push(...r.messages.map((m) => m.text));
    }
    // Bob answers now and then, so the ratchet turns both ways.
    if (n % 3 === 2) {
      const back = p.b.conv.send(`ack ${n}`);
      await commitAndSend(p, p.b, back);
      const got = p.a.conv.receive(back.toSend[0]!);
      await p.a.stored.commit(got);
    }
  }
  return { p, shown, lostSend, lostRecv, replaysRefused };
}

t('a crash at every point between call, commit and transmit: no key reused, no replay shown, every loss counted', async () => {
  const points: Point[] = ['none', 'after-call', 'after-commit'];
  const sendCrash: Point[] = [];
  for (const a of points) for (const b of points) sendCrash.push(a, b, 'none');
  const { p, shown, lostSend, lostRecv, replaysRefused } = await crashRun(10, sendCrash, ['none', 'after-call', 'none', 'after-commit']);
  assert.is(p.wire.reused, 0);
  // Every message sent was either shown once, or lost where the crash fell: never shown twice.
  assert.is(new Set(shown).size, shown.length);
  const sentCount = sendCrash.length;
  assert.is(shown.length + lostSend + lostRecv, sentCount);
  assert.is(replaysRefused, lostRecv);
  assert.ok(lostSend > 0 && lostRecv > 0);
  // Both sessions are alive at the end.
  const last = p.a.conv.send('still alive');
  await commitAndSend(p, p.a, last);
  assert.equal(p.b.conv.receive(last.toSend[0]!).messages.map((m) => m.text), ['still alive']);
});

t('the checker can fail: transmitting before committing reuses a message key after a crash', async () => {
  const { p } = await crashRun(11, ['none', 'after-call', 'none', 'after-call', 'none'], ['none'], true);
  assert.ok(p.wire.reused > 0, 'the unsafe order should have reused a key');
});

t('two processes on one account: the stale one cannot commit, so it never transmits under a used key', async () => {
  const p = await makeStoredPair(be, [new MemoryStore(), new MemoryStore()], 4);
  await establishStored(p);
  const second = await reopen(p, p.a); // another process, same account, same store
  const first = p.a.conv.send('from process 1');
  await commitAndSend(p, p.a, first);
  const stale = second.conv.send('from process 2');
  let refused: unknown;
  try {
    await second.stored.commit(stale);
    p.wire.note(stale.toSend);
  } catch (e) {
    refused = e;
  }
  assert.ok(refused instanceof OtrStoreConflictError);
  assert.is(p.wire.reused, 0);
  // The stale process must reload; then it goes on from the newest state.
  const third = await reopen(p, p.a);
  const next = third.conv.send('after reload');
  await commitAndSend(p, third, next);
  assert.is(p.wire.reused, 0);
  for (const text of [...first.toSend, ...next.toSend]) p.b.conv.receive(text);
});

t('a store that goes back under an unloaded conversation: sessions dropped without encrypting, restartable', async () => {
  const store = new RawStore();
  const p = await makeStoredPair(be, [store, new MemoryStore()], 5);
  await establishStored(p);
  await commitAndSend(p, p.a, p.a.conv.send('one'));
  const backup = store.snapshot();
  const two = p.a.conv.send('two');
  await commitAndSend(p, p.a, two);
  p.a.stored.unload(BOB_ID);
  assert.throws(() => p.a.stored.account.conversation(BOB_ID), (e: unknown) => e instanceof OtrStateError);
  store.restore(backup);
  const conv = await p.a.stored.conversation(BOB_ID);
  assert.is(conv.state, 'FINISHED');
  const dropped = p.a.events.find((e) => e.type === 'sessions-dropped');
  assert.ok(dropped && dropped.type === 'sessions-dropped' && dropped.events.some((e) => e.type === 'finished' && e.reason === 'rollback'));
  // Nothing is encrypted with the old keys: sending is refused.
  const s = conv.send('three');
  assert.equal(s.toSend, []);
  assert.ok(s.events.some((e) => e.type === 'not-sent'));
  // A new DAKE makes a fresh session.
  p.a.conv = conv;
  p.wire.note([]);
  await pumpStored(p, p.a, p.b, await commitAndSend(p, p.a, conv.start()));
  assert.is(conv.state, 'ENCRYPTED_MESSAGES');
  const four = conv.send('four');
  await commitAndSend(p, p.a, four);
  assert.equal(p.b.conv.receive(four.toSend[0]!).messages.map((m) => m.text), ['four']);
  assert.is(p.wire.reused, 0);
});

t('a store that goes back under a live conversation: the commit fails ROLLBACK, nothing is transmitted, sessions dropped', async () => {
  const store = new RawStore();
  const p = await makeStoredPair(be, [store, new MemoryStore()], 6);
  await establishStored(p);
  const backup = store.snapshot();
  await commitAndSend(p, p.a, p.a.conv.send('one'));
  store.restore(backup);
  const two = p.a.conv.send('two');
  let err: unknown;
  try {
    await p.a.stored.commit(two);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof OtrStoreRollbackError);
  assert.is(p.a.conv.state, 'FINISHED');
  // What the store holds now says FINISHED too: a restart cannot bring the used keys back.
  const restarted = await reopen(p, p.a);
  assert.is(restarted.conv.state, 'FINISHED');
});

t('peer evidence: a message from a ratchet we have not reached is reported as rollback-suspected', async () => {
  const store = new RawStore();
  const p = await makeStoredPair(be, [store, new MemoryStore()], 7);
  await establishStored(p);
  const backup = store.snapshot();
  // Alice's ratchet turns (she receives, then sends a new ratchet); Bob answers on the newer ratchet.
  const m1 = p.b.conv.send('b1');
  await commitAndSend(p, p.b, m1);
  await p.a.stored.commit(p.a.conv.receive(m1.toSend[0]!));
  const m2 = p.a.conv.send('a1');
  await commitAndSend(p, p.a, m2);
  await p.b.stored.commit(p.b.conv.receive(m2.toSend[0]!));
  const m3 = p.b.conv.send('b2');
  await commitAndSend(p, p.b, m3);
  // Alice's whole store is restored from the backup before a restart: the new process has seen nothing newer.
  store.restore(backup);
  const a = await reopen(p, p.a);
  const r = a.conv.receive(m3.toSend[0]!);
  assert.ok(r.events.some((e) => e.type === 'rollback-suspected'), JSON.stringify(r.events));
});

t('forget deletes the record; the conversation starts afresh', async () => {
  const store = new MemoryStore();
  const p = await makeStoredPair(be, [store, new MemoryStore()], 8);
  await establishStored(p);
  assert.ok(await store.load(ALICE_ID, `conv:${BOB_ID}`));
  const out = p.a.stored.account.forget(BOB_ID);
  assert.equal(keys(out.changed).map((k) => k.endsWith(' deleted')), [true]);
  await p.a.stored.commit(out);
  assert.is(await store.load(ALICE_ID, `conv:${BOB_ID}`), undefined);
  const fresh = await p.a.stored.conversation(BOB_ID);
  assert.is(fresh.state, 'START');
  // And through the helper, for a record not loaded in this process.
  const again = await reopen(p, p.b);
  await again.stored.forget(ALICE_ID);
  assert.is(await p.b.store.load(BOB_ID, `conv:${ALICE_ID}`), undefined);
});

t('pending DAKEs expire on poll (ours and unauthenticated ones), with events, and the record shrinks', async () => {
  const p = await makeStoredPair(be, [new MemoryStore(), new MemoryStore()], 9);
  const q = p.a.conv.start();
  const id = p.b.conv.receive(q.toSend[0]!); // Bob awaits Auth-R (unbound)
  await p.b.stored.commit(id);
  const other = await p.b.stored.conversation('carol@example.net');
  await p.b.stored.commit(other.startDake());
  p.clock.advance(DEFAULT_LIMITS.pendingDakeExpiryMs - 1000);
  assert.equal(p.b.conv.poll().events, []);
  p.clock.advance(2000);
  const polled = p.b.conv.poll();
  assert.ok(polled.events.some((e) => e.type === 'dake-expired'));
  assert.is(p.b.conv.state, 'START');
  assert.is(polled.changed!.length, 1);
  const expired = other.poll();
  assert.ok(expired.events.some((e) => e.type === 'dake-expired'));
});

/** A state value with `instances` sessions, each holding `skipped` skipped keys and `macs` MAC keys to reveal. */
function worstCase(conv: Conversation, instances: number, skipped: number, macs: number): StateValue {
  const base = conv.toState() as Record<string, StateValue>;
  const inst = (base.instances as StateValue[])[0] as Record<string, StateValue>;
  const ratchet = inst.ratchet as Record<string, StateValue>;
  const key = (n: number) => Uint8Array.from({ length: 64 }, (_, i) => (n + i) & 0xff);
  const list: StateValue[] = [];
  for (let n = 0; n < instances; n++) {
    list.push({
      ...inst,
      peerTag: 0x1000 + n,
      ratchet: {
        ...ratchet,
        skipped: Array.from({ length: skipped }, (_, m) => ({ ratchetId: 1, messageId: m, theirEcdh: ratchet.theirEcdh, mkEnc: key(m), esk: key(m + 1), storedAt: T0 })),
        macKeysToReveal: Array.from({ length: macs }, (_, m) => key(m)),
      },
    });
  }
  return { ...base, instances: list, current: 0x1000 };
}

t('bounded: the worst case every limit allows is trimmed to maxConversationStateBytes, oldest first, and restores', async () => {
  const p = await makeStoredPair(be, [new MemoryStore(), new MemoryStore()], 12);
  await establishStored(p);
  const L = DEFAULT_LIMITS;
  const huge = worstCase(p.a.conv, L.maxInstancesPerConversation, L.maxStoredMessageKeys, L.maxMacKeysToReveal);
  // Such a conversation would not even fit restore's limit whole.
  assert.ok(encodeConversationRecord(BOB_ID, huge).length > L.maxStateBytes);
  // Built in memory (the account that grew it accepts big states); what it writes must fit the default limits.
  const account = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(99), clock: testClock(), dsaKey: null, limits: { maxStateBytes: 64 << 20 } });
  account.attachRecord({ key: `conv:${BOB_ID}`, generation: 1, bytes: encodeConversationRecord(BOB_ID, huge) });
  const conv = account.conversation(BOB_ID);
  const out = conv.poll();
  const change = out.changed!.find((c) => c.key === `conv:${BOB_ID}`)!;
  assert.ok(change.bytes!.length <= L.maxConversationStateBytes, `${change.bytes!.length}`);
  const trims = out.events.filter((e) => e.type === 'state-trimmed');
  // Skipped keys go first (every one, here), then unrevealed MAC keys; the sessions themselves stay.
  const what = trims.map((e) => (e.type === 'state-trimmed' ? e.what : ''));
  assert.is(what[0], 'skipped-keys');
  assert.ok(what.lastIndexOf('skipped-keys') < what.indexOf('mac-keys'));
  assert.equal(conv.instanceTags.length, L.maxInstancesPerConversation);
  // What was written decodes and restores.
  const back = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(98), clock: testClock(), dsaKey: null });
  back.attachRecord({ key: `conv:${BOB_ID}`, generation: 2, bytes: change.bytes! });
  assert.is(back.conversation(BOB_ID).state, 'ENCRYPTED_MESSAGES');
  // A record of another peer is refused (a row moved in an unsealed store).
  assert.throws(() => decodeConversationRecord(change.bytes!, 'mallory@example.net', L.maxStateBytes));
});

t('serialize()/restore() carry the records generations: a restored copy commits where it left off', async () => {
  const store = new MemoryStore();
  const p = await makeStoredPair(be, [store, new MemoryStore()], 13);
  await establishStored(p);
  const whole = p.a.stored.account.serialize();
  const copy = Account.restore(whole, { backend: be, random: p.a.random, clock: p.clock });
  assert.is(copy.recordGeneration(`conv:${BOB_ID}`), p.a.stored.account.recordGeneration(`conv:${BOB_ID}`));
  const out = copy.conversation(BOB_ID).send('from the copy');
  await store.commit(ALICE_ID, out.changed!);
  // changes({ all: true }) rewrites everything (moving from serialize() to a store).
  const fresh = new MemoryStore();
  const moved = Account.restore(whole, { backend: be, random: seededRandom(5), clock: p.clock });
  const all = moved.changes({ all: true });
  assert.equal(all.map((c) => c.key).sort(), ['account', `conv:${BOB_ID}`]);
  void fresh;
  void openSide;
  void Wire;
});

t.run();
