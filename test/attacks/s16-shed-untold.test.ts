/**
 * Attack (session 16, [s16-review] "left"): a restore's `state-trimmed` events were told only with the
 * conversation's first recorded outcome, but the trimmed record can be handed out before that — by
 * `changes({ all: true })`, or by the flush of another conversation's call — and then an `unload()` (or the
 * conversation's eviction) lost them while the store already held the trimmed record. Shedding during such a
 * flush (over limits.maxConversationStateBytes) lost its events the same way. Now what such a flush trims is
 * kept on the account, per peer, until the next outcome of that peer's conversation (reloaded or not) tells
 * it, or the host takes it (`account.untoldEvents()`).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type OtrEvent } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { ALICE_ID, establish, makePair, type Pair } from '../helpers/session-pair.js';
import type { Limits } from '../../ts/limits.js';
import type { RecordChange, StoredRecord } from '../../ts/store/types.js';

const be = WASM;
const LOW: Partial<Limits> = { maxStoredMessageKeys: 50, maxMacKeysToReveal: 100 };
const trims = (events: readonly OtrEvent[]) => events.flatMap((e) => (e.type === 'state-trimmed' ? [`${e.what}:${e.count}`] : []));

function fromRecords(p: Pair, records: readonly StoredRecord[], limits: Partial<Limits>): Account {
  const account = Account.fromRecord(records.find((r) => r.key === 'account')!, { backend: be, clock: p.clock, limits });
  for (const r of records) if (r.key !== 'account' && r.bytes) account.attachRecord({ key: r.key, bytes: r.bytes, generation: r.generation });
  return account;
}

/**
 * Bob with 300 stored skipped keys and 200 MAC keys to reveal, saved under the default limits but for
 * revealMacKeysAt (Infinity: a one-way reader queues keys as before session 16, s16-reveal).
 */
function loadedBob(seed: number): Pair {
  const p = makePair(be, seed, { limits: { revealMacKeysAt: Infinity } });
  establish(p);
  p.a.receive(p.b.send('hi').toSend[0]!);
  for (let i = 0; i < 300; i++) p.a.send(`h${i}`);
  for (let i = 0; i < 200; i++) p.b.receive(p.a.send(`m${i}`).toSend[0]!);
  return p;
}

const written = (changes: readonly RecordChange[]) => changes.find((c) => c.key === `conv:${ALICE_ID}`)!;

test('restore, changes({ all: true }), unload, reload: the first outcome still tells what the restore trimmed', () => {
  const p = loadedBob(1681);
  const bob = fromRecords(p, p.bob.records(), LOW);
  bob.conversation(ALICE_ID); // decoded (trimmed), no call yet
  const change = written(bob.changes({ all: true }));
  assert.ok(change.bytes, 'the trimmed record handed out');
  bob.unload(ALICE_ID);
  bob.attachRecord({ key: change.key, bytes: change.bytes!, generation: change.generation });
  const out = bob.conversation(ALICE_ID).receive('plain');
  assert.equal(trims(out.events), ['skipped-keys:250', 'mac-keys:375'], 'told once, with the next outcome');
  assert.equal(trims(bob.conversation(ALICE_ID).receive('again').events), [], 'once');
  assert.equal(bob.untoldEvents(), []);
});

test('the host may take them at once (untoldEvents), and they are then not told again', () => {
  const p = loadedBob(1682);
  const bob = fromRecords(p, p.bob.records(), LOW);
  bob.conversation(ALICE_ID);
  bob.changes({ all: true });
  const untold = bob.untoldEvents();
  assert.equal(untold.map((u) => [u.peer, trims(u.events)]), [[ALICE_ID, ['skipped-keys:250', 'mac-keys:375']]]);
  assert.equal(bob.untoldEvents(), [], 'taken');
  assert.equal(trims(bob.conversation(ALICE_ID).receive('plain').events), []);
});

test('shedding during changes() (over maxConversationStateBytes) is told too, not dropped', () => {
  const p = loadedBob(1683);
  // Under the default lists, a bound that the stored keys do not fit: shed at the write changes() makes.
  const max = 20_000;
  const bob = fromRecords(p, p.bob.records(), { maxConversationStateBytes: max });
  bob.conversation(ALICE_ID);
  const change = written(bob.changes({ all: true }));
  assert.ok(change.bytes!.length <= max);
  bob.unload(ALICE_ID);
  bob.attachRecord({ key: change.key, bytes: change.bytes!, generation: change.generation });
  const told = trims(bob.conversation(ALICE_ID).receive('plain').events);
  assert.ok(told.length > 0 && told.every((t) => t.startsWith('skipped-keys') || t.startsWith('mac-keys')), told.join());
});

test('serialize() carries the trimmed state: the trims wait on the account, where an unload does not lose them', () => {
  const p = loadedBob(1685);
  const bob = fromRecords(p, p.bob.records(), LOW);
  bob.conversation(ALICE_ID);
  const bytes = bob.serialize();
  bob.unload(ALICE_ID);
  assert.equal(bob.untoldEvents().map((u) => [u.peer, trims(u.events)]), [[ALICE_ID, ['skipped-keys:250', 'mac-keys:375']]]);
  // What the bytes hold is the trimmed state: restored, nothing is trimmed (or told) again.
  const again = Account.restore(bytes, { backend: be, clock: p.clock, limits: LOW });
  assert.equal(trims(again.conversation(ALICE_ID).receive('plain').events), []);
});

test('a forgotten conversation forgets its untold events', () => {
  const p = loadedBob(1684);
  const bob = fromRecords(p, p.bob.records(), LOW);
  bob.conversation(ALICE_ID);
  bob.changes({ all: true });
  bob.forget(ALICE_ID);
  assert.equal(bob.untoldEvents(), []);
  assert.equal(trims(bob.conversation(ALICE_ID).receive('plain').events), []);
});

test.run();
