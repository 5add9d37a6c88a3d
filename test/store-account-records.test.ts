/**
 * openAccountRecords (ts/store/account-records.ts) with synthetic records: rollback detection (on load and
 * on commit), stale copies refused before the store, two "processes" (two helpers on one store) racing,
 * ordering of un-awaited commits, events, sealing through the helper. Attack cases first.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openAccountRecords, type StoreEvent } from '../ts/store/account-records.js';
import { OtrStoreRollbackError } from '../ts/errors.js';
import { RawStore } from './helpers/raw-store.js';
import { MemoryStore } from '../ts/store/memory.js';
import { COMMIT_OWNED } from '../ts/store/owned.js';
import { sealedStore } from '../ts/store/sealing.js';
import type { RecordChange } from '../ts/store/types.js';
import { rejectsAsync } from './helpers/rejects.js';

const t = suite('store-account-records');
const A = 'alice@example.org';
const bytes = (...b: number[]) => new Uint8Array(b);
const SEAL = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);

async function open(store: RawStore, options: Parameters<typeof openAccountRecords>[2] = {}) {
  const events: StoreEvent[] = [];
  const r = await openAccountRecords(store, A, { onEvent: (e) => events.push(e), ...options });
  return { r, events };
}

for (const sealed of [false, true]) {
  const opts = sealed ? { sealKey: SEAL } : {};
  const tag = sealed ? '[sealed] ' : '';

  t(`${tag}a store restored from a backup: load throws ROLLBACK (known, found) and emits an event, no state handed out`, async () => {
    const store = new RawStore();
    const { r, events } = await open(store, opts);
    await r.commit([r.change('conv:bob', bytes(1))]);
    const backup = store.snapshot();
    await r.commit([r.change('conv:bob', bytes(2))]);
    await r.commit([r.change('conv:bob', bytes(3))]);
    store.restore(backup);
    const e = (await rejectsAsync(r.load('conv:bob'), 'ROLLBACK')) as OtrStoreRollbackError;
    assert.ok(e instanceof OtrStoreRollbackError);
    assert.equal([e.key, e.known, e.found], ['conv:bob', 3, 1]);
    assert.equal(events, [{ type: 'rollback', key: 'conv:bob', known: 3, found: 1 }]);
    await rejectsAsync(r.load('conv:bob'), 'ROLLBACK'); // and again: not forgotten after one report
    // A record that vanished counts too.
    store.restore(new Map());
    const gone = (await rejectsAsync(r.load('conv:bob'), 'ROLLBACK')) as OtrStoreRollbackError;
    assert.is(gone.found, 0);
  });

  t(`${tag}a commit onto a rolled-back store is classified ROLLBACK, not CONFLICT; nothing written`, async () => {
    const store = new RawStore();
    const { r, events } = await open(store, opts);
    await r.commit([r.change('conv:bob', bytes(1))]);
    await r.commit([r.change('conv:bob', bytes(2))]);
    const backup = store.snapshot();
    await r.commit([r.change('conv:bob', bytes(3))]);
    store.restore(backup);
    const e = (await rejectsAsync(r.commit([r.change('conv:bob', bytes(4))]), 'ROLLBACK')) as OtrStoreRollbackError;
    assert.equal([e.known, e.found], [3, 2]);
    assert.equal(events.at(-1), { type: 'rollback', key: 'conv:bob', known: 3, found: 2 });
    assert.is((await store.load([...store.rows.keys()][0]!, [...store.onlyAccount().keys()][0]!))?.generation, 2);
  });

  t(`${tag}a stale copy based exactly on the rolled-back generation is refused before the store (which would accept it)`, async () => {
    const store = new RawStore();
    const { r, events } = await open(store, opts);
    await r.commit([r.change('conv:bob', bytes(1))]);
    const backup = store.snapshot();
    await r.commit([r.change('conv:bob', bytes(2))]);
    store.restore(backup);
    const commits = store.calls.commit;
    // The caller's state is still the one of generation 1 (e.g. a stale Account object): it produces 2 again.
    await rejectsAsync(r.commit([{ key: 'conv:bob', generation: 2, bytes: bytes(99) }]), 'CONFLICT');
    assert.is(store.calls.commit, commits, 'the store was not reached');
    assert.equal(events.at(-1), { type: 'conflict', key: 'conv:bob', generation: 2 });
  });

  t(`${tag}resolveRollback accepts the store's state (after the caller ended the conversation); commits go on from there`, async () => {
    const store = new RawStore();
    const { r } = await open(store, opts);
    await r.commit([r.change('conv:bob', bytes(1))]);
    const backup = store.snapshot();
    await r.commit([r.change('conv:bob', bytes(2))]);
    store.restore(backup);
    await rejectsAsync(r.load('conv:bob'), 'ROLLBACK');
    const rec = await r.resolveRollback('conv:bob');
    assert.equal([rec?.generation, rec?.bytes], [1, bytes(1)]);
    assert.is(r.generation('conv:bob'), 1);
    await r.commit([r.change('conv:bob', bytes(5))]);
    assert.equal((await r.load('conv:bob'))?.bytes, bytes(5));
  });

  t(`${tag}two processes on one store: the second writer from the same base gets CONFLICT and an event; after a reload it goes on`, async () => {
    const store = new RawStore();
    const p1 = await open(store, opts);
    const p2 = await open(store, opts);
    await p1.r.commit([p1.r.change('account', bytes(0)), p1.r.change('conv:bob', bytes(1))]);
    assert.equal((await p2.r.load('conv:bob'))?.bytes, bytes(1));
    await p2.r.load('account');
    await p1.r.commit([p1.r.change('conv:bob', bytes(2))]);
    const e = await rejectsAsync(p2.r.commit([p2.r.change('account', bytes(9)), p2.r.change('conv:bob', bytes(22))]), 'CONFLICT');
    assert.match(e.message, /conv:bob/);
    assert.equal(p2.events, [{ type: 'conflict', key: 'conv:bob', generation: 2 }]);
    assert.equal((await p1.r.load('account'))?.generation, 1, 'all or nothing: the account record was not written');
    assert.is(p2.r.generation('conv:bob'), 1, "p2's copy is still generation 1");
    const before = store.calls.commit;
    await rejectsAsync(p2.r.commit([p2.r.change('conv:bob', bytes(22))]), 'CONFLICT');
    assert.is(store.calls.commit, before, 'retrying the stale copy is refused without reaching the store');
    const fresh = await p2.r.load('conv:bob');
    assert.equal([fresh?.generation, fresh?.bytes], [2, bytes(2)]);
    await p2.r.commit([p2.r.change('conv:bob', bytes(3))]);
    await rejectsAsync(p1.r.commit([p1.r.change('conv:bob', bytes(33))]), 'CONFLICT');
  });

  t(`${tag}commits not awaited between calls still land in call order (generation 1..20), unrelated records in parallel`, async () => {
    const store = new RawStore();
    const { r } = await open(store, opts);
    const pending: Promise<void>[] = [];
    for (let g = 1; g <= 20; g++) {
      pending.push(r.commit({ changed: [{ key: 'conv:bob', generation: g, bytes: bytes(g) }] }));
      pending.push(r.commit({ changed: [{ key: `conv:peer${g}`, generation: 1, bytes: bytes(g) }] }));
    }
    await Promise.all(pending);
    const rec = await r.load('conv:bob');
    assert.equal([rec?.generation, rec?.bytes], [20, bytes(20)]);
    assert.is((await r.keys()).length, 21);
  });

  t(`${tag}a failed commit in a chain does not wedge the next ones on that record`, async () => {
    const store = new RawStore();
    const { r } = await open(store, opts);
    const bad = r.commit([{ key: 'conv:bob', generation: 5, bytes: bytes(5) }]);
    const good = r.commit([{ key: 'conv:bob', generation: 1, bytes: bytes(1) }]);
    await rejectsAsync(bad, 'CONFLICT');
    await good;
    assert.is(r.generation('conv:bob'), 1);
  });
}

// A store that applies a commit before it returns (the memory store: ts/store/owned.ts APPLIED) takes the helper's
// fast path (no promise chain, no ordering entry): every check must hold on it as on a store that answers later.
for (const sealed of [false, true]) {
  const opts = sealed ? { sealKey: SEAL } : {};
  const tag = sealed ? '[sealed] ' : '';

  t(`${tag}memory store (applied at the call): generations move at once, stale changes and other writers are refused and told`, async () => {
    const store = new MemoryStore();
    const events: StoreEvent[] = [];
    const r = await openAccountRecords(store, A, { ...opts, onEvent: (e) => events.push(e) });
    const first = r.change('conv:bob', bytes(1));
    const sameBase = r.change('conv:bob', bytes(2));
    const p1 = r.commit([first]);
    assert.is(r.generation('conv:bob'), 1, 'landed before commit() returned');
    await rejectsAsync(r.commit([sameBase]), 'CONFLICT'); // stale: refused before the store
    assert.equal(events, [{ type: 'conflict', key: 'conv:bob', generation: 1 }]);
    await p1;
    // Another writer (a second helper on the same store) that did not see generation 1: the store refuses it,
    // and the helper classifies the refusal (a conflict, not a rollback) with its event.
    const otherEvents: StoreEvent[] = [];
    const other = await openAccountRecords(store, A, { ...opts, onEvent: (e) => otherEvents.push(e) });
    await rejectsAsync(other.commit([other.change('conv:bob', bytes(9))]), 'CONFLICT');
    assert.equal(otherEvents, [{ type: 'conflict', key: 'conv:bob', generation: 1 }]);
    assert.is(other.generation('conv:bob'), undefined, 'nothing based on a refused commit');
    assert.equal((await r.load('conv:bob'))?.bytes, bytes(1));
    // A refused commit goes the ordinary way (its ordering entry): one made right after waits for it, then lands.
    const bad = r.commit([{ key: 'conv:bob', generation: 7, bytes: bytes(7) }]);
    const good = r.commit([r.change('conv:bob', bytes(2))]);
    await rejectsAsync(bad, 'CONFLICT');
    await good;
    assert.is(r.generation('conv:bob'), 2);
    assert.equal((await r.load('conv:bob'))?.bytes, bytes(2));
    // Deletes take the fast path too: the record is gone, the generation known absent (0).
    await r.commit([r.change('conv:bob', null)]);
    assert.is(r.generation('conv:bob'), 0);
    assert.is(await r.load('conv:bob'), undefined);
    await r.close();
  });
}

t('[sealed] the row id and associated data the helper keeps per record are that record\'s: commits of several records in varying order all open under their own names', async () => {
  const store = new MemoryStore();
  const r = await openAccountRecords(store, A, { sealKey: SEAL });
  const keys = ['account', 'conv:bob', 'conv:carol', 'conv:dave'];
  const last = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    // One, two or three records per commit, rotating which come first.
    const picked = keys.slice(i % 4).concat(keys.slice(0, i % 4)).slice(0, 1 + (i % 3));
    await r.commit(picked.map((k) => r.change(k, bytes(i, k.length))));
    for (const k of picked) last.set(k, i);
  }
  const fresh = sealedStore(store, SEAL); // computes every row id and associated data afresh
  for (const k of keys) {
    const rec = await fresh.load(A, k);
    assert.equal(rec?.bytes, bytes(last.get(k)!, k.length), k);
    assert.is(rec?.generation, r.generation(k));
  }
});

t('delete and re-create through the helper; generation() and change() follow', async () => {
  const store = new RawStore();
  const { r } = await open(store);
  assert.is(r.generation('conv:bob'), undefined);
  assert.equal(r.change('conv:bob', bytes(1)), { key: 'conv:bob', generation: 1, bytes: bytes(1) });
  await r.commit([r.change('conv:bob', bytes(1))]);
  await r.commit([r.change('conv:bob', null)]);
  assert.is(r.generation('conv:bob'), 0);
  assert.is(await r.load('conv:bob'), undefined);
  await r.commit([r.change('conv:bob', bytes(7))]);
  assert.equal((await r.load('conv:bob'))?.generation, 1);
});

t('bad input is typed: not a RecordStore, bad account id, bad changes shape', async () => {
  await rejectsAsync(openAccountRecords({} as never, A), 'INVALID_ARGUMENT');
  await rejectsAsync(openAccountRecords(new RawStore(), ''), 'INVALID_ARGUMENT');
  await rejectsAsync(openAccountRecords(new RawStore(), A, { sealKey: new Uint8Array(8) }), 'INVALID_ARGUMENT');
  const { r } = await open(new RawStore());
  await rejectsAsync(r.commit({} as never), 'INVALID_ARGUMENT');
  await rejectsAsync(r.commit(null as never), 'INVALID_ARGUMENT');
  await rejectsAsync(r.commit([{ key: 'k', generation: 0, bytes: null }]), 'INVALID_ARGUMENT');
});

t('a listener that throws does not replace the typed error', async () => {
  const store = new RawStore();
  const r = await openAccountRecords(store, A, {
    onEvent: () => {
      throw new Error('listener bug');
    },
  });
  await r.commit([r.change('k', bytes(1))]);
  await rejectsAsync(r.commit([{ key: 'k', generation: 1, bytes: bytes(2) }]), 'CONFLICT');
});

t('closing a sealed helper wipes its keys but leaves the shared store (and other accounts) working', async () => {
  const store = new RawStore();
  const a = await openAccountRecords(store, A, { sealKey: SEAL });
  const b = await openAccountRecords(store, 'bob@example.org', { sealKey: SEAL });
  await a.commit([a.change('account', bytes(1))]);
  await a.close();
  await rejectsAsync(a.load('account'), 'STATE');
  // A record committed before (its row id and associated data kept in the helper's memo) is refused too, a
  // write and a delete alike: nothing reaches the store once the keys are wiped.
  await rejectsAsync(a.commit([a.change('account', bytes(3))]), 'STATE');
  await rejectsAsync(a.commit([a.change('account', null)]), 'STATE');
  await b.commit([b.change('account', bytes(2))]);
  const again = await openAccountRecords(store, A, { sealKey: SEAL });
  assert.equal((await again.load('account'))?.bytes, bytes(1));
});

// The handover (ts/store/owned.ts): the helper takes the caller's bytes at the call, and a store that takes a
// commit's arrays gets arrays nobody else holds.
for (const sealed of [false, true]) {
  const opts = sealed ? { sealKey: SEAL } : {};
  const tag = sealed ? '[sealed] ' : '';

  t(`${tag}handover: the caller wipes its buffer right after commit() and before earlier commits landed: the store holds the bytes as given`, async () => {
    const store = new MemoryStore();
    const r = await openAccountRecords(store, A, opts);
    const first = bytes(1, 2, 3);
    const second = bytes(4, 5, 6, 7);
    const p1 = r.commit([r.change('conv:bob', first)]);
    const p2 = r.commit([{ key: 'conv:bob', generation: 2, bytes: second }]); // waits for p1
    first.fill(0);
    second.fill(0);
    await Promise.all([p1, p2]);
    assert.equal((await r.load('conv:bob'))?.bytes, bytes(4, 5, 6, 7));
  });

  t(`${tag}handover: an owning store receives arrays that are not the caller's, and the caller's stay untouched`, async () => {
    const kept: Uint8Array[] = [];
    const inner = new MemoryStore();
    const spy = {
      load: inner.load.bind(inner),
      keys: inner.keys.bind(inner),
      commit: inner.commit.bind(inner),
      close: inner.close.bind(inner),
      [COMMIT_OWNED](a: string, changes: readonly RecordChange[]) {
        for (const c of changes) if (c.bytes) kept.push(c.bytes);
        return inner[COMMIT_OWNED](a, changes);
      },
    };
    const r = await openAccountRecords(spy, A, opts);
    const mine = bytes(9, 8, 7, 6, 5);
    await r.commit([r.change('conv:bob', mine)]);
    assert.is(kept.length, 1);
    assert.ok(kept[0] !== mine && kept[0]!.buffer !== mine.buffer);
    assert.equal(mine, bytes(9, 8, 7, 6, 5));
    assert.equal((await r.load('conv:bob'))?.bytes, mine);
  });

  t(`${tag}handover to a store without it (copies at the call): our copies are wiped once it settled, refused or not`, async () => {
    const seen: Uint8Array[] = [];
    const raw = new RawStore();
    const spy = {
      load: raw.load.bind(raw),
      keys: raw.keys.bind(raw),
      close: raw.close.bind(raw),
      commit(a: string, changes: readonly RecordChange[]) {
        for (const c of changes) if (c.bytes) seen.push(c.bytes);
        return raw.commit(a, changes);
      },
    };
    const r = await openAccountRecords(spy, A, opts);
    await r.commit([r.change('conv:bob', bytes(1, 2, 3))]);
    await rejectsAsync(r.commit([{ key: 'conv:carol', generation: 2, bytes: bytes(4, 5, 6) }]), 'CONFLICT');
    assert.is(seen.length, 2);
    if (!sealed) for (const b of seen) assert.ok(b.every((x) => x === 0), 'plaintext copy left unwiped');
    assert.equal((await r.load('conv:bob'))?.bytes, bytes(1, 2, 3));
  });
}

t('MemoryStore[COMMIT_OWNED] keeps the arrays it is given; its public commit copies; a refused owned commit wipes them', async () => {
  const s = new MemoryStore();
  const row = bytes(1, 2, 3);
  await s[COMMIT_OWNED]('a', [{ key: 'k', generation: 1, bytes: row }]);
  row[0] = 9; // what handing over means: the store's array now (never done by the library)
  assert.equal((await s.load('a', 'k'))?.bytes, bytes(9, 2, 3));
  const mine = bytes(4, 5);
  await s.commit('a', [{ key: 'k', generation: 2, bytes: mine }]);
  mine.fill(0);
  assert.equal((await s.load('a', 'k'))?.bytes, bytes(4, 5));
  const refused = bytes(7, 7);
  await rejectsAsync(s[COMMIT_OWNED]('a', [{ key: 'k', generation: 5, bytes: refused }]), 'CONFLICT');
  assert.equal(refused, bytes(0, 0));
});

t.run();
