/**
 * The bridge.* family (issue: bridge-grade state), per record store (impl = memory, sqlite, postgres):
 *   bridge.save.1conv          save after a message: a real send of 100 bytes and the commit of its Outcome (one
 *                              sealed conversation record, through openStoredAccount), on an account with 1
 *                              conversation;
 *   bridge.save.1000conv       the same on an account with 1,000 conversations (round-robin over them). The
 *                              issue's target: within 1.5× of bridge.save.1conv;
 *   bridge.save.1000conv.plain the same without sealing (what sealing costs);
 *   bridge.save.1000conv.syncnormal  SQLite only, synchronous=NORMAL instead of FULL (what the fsync costs;
 *                              docs/stores.md says why FULL is the default).
 *   bridge.save.1000conv.x16   16 saves of 16 different conversations issued together (a bridge handling 16
 *                              messages in one event-loop turn); one op = all 16 durable. SQLite groups them
 *                              into one transaction (one fsync); PostgreSQL runs them on its pool.
 *   bridge.restore.1000conv.store   the store's share of restoring a 1,000-conversation account until its first
 *                              message can be decrypted: open the account's records (sealed), load the account
 *                              record and one conversation's (lazy restore loads nothing else);
 *   bridge.keys.1000conv       listing the account's 1,000 record keys (sealed: each name is opened).
 *   bridge.save.1000conv.worker, .x16.worker   SQLite with the connection on a worker thread (the event loop
 *                              stays free during the fsync).
 * Real records (issue 12): one OTRv4 session is established between two accounts, and its conversation
 * records are attached under 1,000 peer ids (each a full session, cloned: the bench needs state, not distinct
 * keys). A save is a real `send` of 100 bytes whose Outcome's `changed` is committed. Also:
 *   bridge.message            send + commit + receive + commit, 100 B, on 1,000 live sessions (both accounts in
 *                             the store, sealed) — the targets: memory ≤ 60 µs, SQLite ≤ 200 µs;
 *   bridge.restore.1000conv   openStoredAccount on an account of 1,000 conversations until the first message is
 *                             decrypted (the account record and one conversation read, decoded, decrypted) ≤ 10 ms.
 *                             Bob's message starts a new DH ratchet step, so this is dominated by one 3072-bit
 *                             modexp (and an X448) on the backend.
 * Backends: the cases above run the `wasm` backend (as they always have). A Node bridge runs the default,
 * `hybrid` (OpenSSL's modexp for the 3072-bit DH); these run it, impl still = the store:
 *   bridge.message.hybrid, bridge.restore.1000conv.hybrid   the same cases on the `hybrid` backend.
 * The disk's share, apart from the code's (impl = the store):
 *   bridge.message.syncnormal      SQLite synchronous=NORMAL (no fsync per commit; as bridge.save.1000conv.syncnormal);
 *   bridge.message.synccommitoff, bridge.save.1000conv.synccommitoff   PostgreSQL with synchronous_commit=off on
 *                             the connection: the server does not wait for its WAL flush before answering COMMIT
 *                             (NOT durable: what a commit costs without the disk; the default is on).
 *   bridge.fsync                   (impl sqlite) the disk's floor: one minimal SQLite commit (one 8-byte row updated, WAL,
 *                             synchronous=FULL, BEGIN IMMEDIATE) on a file beside the others. bridge.message on SQLite
 *                             commits twice (each account before it transmits), so 2 × this is what no code can cut;
 *   bridge.fsync.bare              (impl sqlite) the bare disk: 4 KiB written to a file and fdatasync'ed (no SQLite).
 *   bridge.commit.syncnormal, .raw (impl sqlite) one lone NORMAL commit of a 2,345-byte row over 2,000 rows: through
 *                             the store, or the store's statement by hand on better-sqlite3 (see commitCase).
 * The CPU's share, apart (impl memory; see messagePartCase): bridge.message.calls (send + receive, records encoded,
 * nothing committed) and bridge.message.protocol (send + receive, no record encoded).
 * SQLite writes to a file in the OS temp folder (a real disk here, so FULL pays a real fsync); PostgreSQL is a
 * private server on loopback (test/helpers/postgres.ts) with fsync on.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCase, Impl } from '../harness.js';
import type { RecordStore } from '../../ts/store/types.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { openAccountRecords } from '../../ts/store/account-records.js';
import { COMMIT_OWNED } from '../../ts/store/owned.js';
import { startPostgres, type PostgresServer } from '../../test/helpers/postgres.js';
import { loadBackend } from '../../ts/backend/select.js';
import { Account } from '../../ts/session/account.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { conversationKey } from '../../ts/session/records.js';
import type { Conversation } from '../../ts/session/conversation.js';
import type { Outcome } from '../../ts/session/events.js';

const ALICE = 'alice@bench.example';
const BOB = 'bob@bench.example';
const TEXT = 'x'.repeat(100);
/** A fixed clock: no heartbeats, no expiry, the same work every round. */
const NOW = 1_750_000_000_000;
const clock = () => NOW;

interface RealSession {
  aliceAccount: Uint8Array;
  bobAccount: Uint8Array;
  /** Alice's record of her conversation with Bob, and Bob's of his with Alice (state values in records). */
  aliceConv: Uint8Array;
  bobConv: Uint8Array;
}

let real: Promise<RealSession> | undefined;
/** One real OTRv4 session between Alice and Bob (a DAKE), its records taken once. */
function realSession(): Promise<RealSession> {
  real ??= (async () => {
    const backend = await wasm();
    const common = { backend, clock, dsaKey: null };
    const a = Account.create({ accountId: ALICE, ...common });
    const b = Account.create({ accountId: BOB, ...common });
    const ca = a.conversation(BOB);
    const cb = b.conversation(ALICE);
    let queue: { to: Conversation; text: string }[] = ca.start().toSend.map((text) => ({ to: cb, text }));
    while (queue.length) {
      const next: typeof queue = [];
      for (const m of queue) for (const text of m.to.receive(m.text).toSend) next.push({ to: m.to === cb ? ca : cb, text });
      queue = next;
    }
    if (ca.state !== 'ENCRYPTED_MESSAGES') throw new Error('bridge bench: DAKE failed');
    const take = (acct: Account) => {
      const all = acct.changes({ all: true });
      return { account: all.find((c) => c.key === 'account')!.bytes!, conv: all.find((c) => c.key !== 'account')!.bytes! };
    };
    const ta = take(a);
    const tb = take(b);
    return { aliceAccount: ta.account, bobAccount: tb.account, aliceConv: ta.conv, bobConv: tb.conv };
  })();
  return real;
}

/** The conversation record `bytes` (of peer `from`) re-addressed to peer `to`: the same session under another peer id. */
async function readdress(bytes: Uint8Array, from: string, to: string): Promise<Uint8Array> {
  const { decodeConversationRecord, encodeConversationRecord } = await import('../../ts/session/records.js');
  return encodeConversationRecord(to, decodeConversationRecord(bytes, from, 64 << 20) ?? null);
}

const peerName = (who: string, i: number) => `${who}${i}@bench.example`;

/** The store's account ids of one case (PostgreSQL is one database for every case). */
interface Ids {
  alice: string;
  bob: string;
}
const idsOf = (label: string): Ids => ({ alice: `${label}-alice`, bob: `${label}-bob` });
let backendP: ReturnType<typeof loadBackend> | undefined;
const wasm = () => (backendP ??= loadBackend('wasm'));
let hybridP: ReturnType<typeof loadBackend> | undefined;
/** The backend a case's sessions run on: `wasm` (the original cases) or `hybrid` (Node's default). */
type BackendName = 'wasm' | 'hybrid';
const backendOf = (name: BackendName) => (name === 'wasm' ? wasm() : (hybridP ??= loadBackend('hybrid')));
/** The name suffix of a case on `backend` (none for wasm: the existing names keep their meaning). */
const suffixOf = (name: BackendName) => (name === 'wasm' ? '' : `.${name}`);

/**
 * Seeds `store` with Alice's account (and, with `withBob`, Bob's) holding `conversations` real sessions:
 * Alice's conversation i is with bob<i>, Bob's with alice<i> (one account each side; records re-addressed).
 */
async function seedReal(store: RecordStore, sealed: boolean, conversations: number, withBob: boolean, ids: Ids): Promise<void> {
  const s = await realSession();
  const sides: [string, Uint8Array, Uint8Array, string, string][] = [[ids.alice, s.aliceAccount, s.aliceConv, BOB, 'bob']];
  if (withBob) sides.push([ids.bob, s.bobAccount, s.bobConv, ALICE, 'alice']);
  for (const [id, account, conv, peer, prefix] of sides) {
    const records = await openAccountRecords(store, id, sealed ? { sealKey: SEAL_KEY } : {});
    await records.commit([records.change('account', account)]);
    for (let i = 0; i < conversations; i += 100) {
      const batch = [];
      for (let j = i; j < Math.min(conversations, i + 100); j++) batch.push(records.change(conversationKey(peerName(prefix, j)), await readdress(conv, peer, peerName(prefix, j))));
      await records.commit(batch);
    }
    await records.close();
  }
}

const SEAL_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0x5a ^ i);

let dir: string | undefined;
function tempFile(name: string): string {
  if (!dir) {
    const made = (dir = mkdtempSync(join(tmpdir(), 'otr4-bench-')));
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return join(dir, name);
}

let server: Promise<PostgresServer> | undefined;

async function makeStore(impl: Impl, label: string): Promise<RecordStore> {
  if (impl === 'memory') return new MemoryStore();
  if (impl === 'sqlite') {
    const { openSqliteStore } = await import('../../ts/store/sqlite.js');
    return openSqliteStore({
      path: tempFile(`${label}.sqlite`),
      synchronous: label.includes('syncnormal') ? 'normal' : 'full',
      worker: label.includes('worker'),
    });
  }
  server ??= startPostgres({ fsync: true });
  const { openPostgresStore } = await import('../../ts/store/postgres.js');
  const url = (await server).url;
  if (!label.includes('synccommitoff')) return openPostgresStore({ connectionString: url, max: 8 });
  // The same server, the setting on this pool's connections only (libpq's `options`): COMMIT answers before
  // the WAL is flushed. Checked, so that a driver ignoring the option cannot pass for it.
  const off = `${url}?options=${encodeURIComponent('-c synchronous_commit=off')}`;
  const store = await openPostgresStore({ connectionString: off, max: 8 });
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: off });
  await c.connect();
  const setting = (await c.query('SHOW synchronous_commit')).rows[0]?.synchronous_commit;
  await c.end();
  if (setting !== 'off') throw new Error(`bridge bench: synchronous_commit is ${setting}, not off`);
  return store;
}


function readCase(impl: Impl, name: string, what: 'restore' | 'keys'): BenchCase {
  let store: RecordStore | undefined;
  let next = 0;
  const label = `${impl}-${name.replace(/[^a-z0-9]+/gi, '-')}`;
  const account = `${label}@bench.example`;
  return {
    name,
    impl,
    deferred: true,
    async setup() {
      store = await makeStore(impl, label);
      await seedReal(store, true, 1000, false, { alice: account, bob: '' });
    },
    async fn() {
      const records = await openAccountRecords(store!, account, { sealKey: SEAL_KEY });
      if (what === 'keys') {
        if ((await records.keys()).length !== 1001) throw new Error('bridge.keys: wrong count');
      } else {
        next = (next + 1) % 1000;
        const [acct, conv] = await Promise.all([records.load('account'), records.load(conversationKey(peerName('bob', next)))]);
        if (!acct || !conv) throw new Error('bridge.restore: missing record');
      }
      await records.close();
    },
    async teardown() {
      await store?.close();
    },
  };
}

/** Restoring a 1,000-conversation account until its first message is decrypted (the whole path, sealed). */
function restoreCase(impl: Impl, backendName: BackendName = 'wasm'): BenchCase {
  let store: RecordStore | undefined;
  let message = '';
  let next = 0;
  const label = `${impl}-bridge-restore-full${suffixOf(backendName).replace('.', '-')}`;
  const ids = idsOf(label);
  return {
    name: `bridge.restore.1000conv${suffixOf(backendName)}`,
    impl,
    deferred: true,
    async setup() {
      store = await makeStore(impl, label);
      await seedReal(store, true, 1000, true, ids);
      // A message from Bob: every one of Alice's 1,000 (identical) sessions can decrypt it; nothing is committed.
      const bob = await openStoredAccount(store, ids.bob, { otrAccountId: BOB, sealKey: SEAL_KEY, account: { backend: await backendOf(backendName), clock } });
      message = (await bob.conversation(peerName('alice', 0))).send(TEXT).toSend[0]!;
      await bob.close();
    },
    async fn() {
      const backend = await backendOf(backendName);
      const alice = await openStoredAccount(store!, ids.alice, { otrAccountId: ALICE, sealKey: SEAL_KEY, account: { backend, clock } });
      next = (next + 1) % 1000;
      const conv = await alice.conversation(peerName('bob', next));
      if (conv.receive(message).messages[0]?.text !== TEXT) throw new Error('bridge.restore: not decrypted');
      await alice.close();
    },
    async teardown() {
      await store?.close();
    },
  };
}

/**
 * A save after a message: a real send of 100 bytes on one of `conversations` sessions (round-robin) and the
 * commit of its Outcome. `together` sends on different conversations are committed at once.
 */
function saveCase(impl: Impl, name: string, conversations: number, sealed: boolean, together = 1): BenchCase {
  let store: RecordStore | undefined;
  let alice: Awaited<ReturnType<typeof openStoredAccount>> | undefined;
  const convs: Conversation[] = [];
  let next = 0;
  const label = `${impl}-${name.replace(/[^a-z0-9]+/gi, '-')}`;
  return {
    name,
    impl,
    deferred: true,
    async setup() {
      store = await makeStore(impl, label);
      await seedReal(store, sealed, conversations, false, idsOf(label));
      alice = await openStoredAccount(store, idsOf(label).alice, { otrAccountId: ALICE, ...(sealed ? { sealKey: SEAL_KEY } : {}), account: { backend: await wasm(), clock } });
      for (let i = 0; i < conversations; i++) convs.push(await alice.conversation(peerName('bob', i)));
    },
    fn() {
      const saves: Promise<void>[] = [];
      for (let k = 0; k < together; k++) {
        const out: Outcome = convs[next]!.send(TEXT);
        next = (next + 1) % conversations;
        saves.push(alice!.commit(out));
      }
      return together === 1 ? saves[0] : Promise.all(saves);
    },
    async teardown() {
      await alice?.close();
      await store?.close();
    },
  };
}

/**
 * The parts of bridge.message (memory only, the same 1,000 live sessions, sealed): `.calls` is send + receive
 * with their Outcomes (each call's record encoded and compared by the record book) and no commit;
 * `.protocol` is send + receive through Conversation.prototype, past the book's instrumentation: no record is
 * encoded (what the session and ratchet layers cost alone). bridge.message − .calls = the two commits (seal,
 * checks, store); .calls − .protocol = the two records encoded. For docs/stores.md's floor only: neither is a
 * real bridge's operation (nothing is durable, and .protocol leaves the book unaware of the change).
 */
function messagePartCase(part: 'calls' | 'protocol'): BenchCase {
  let store: RecordStore | undefined;
  const pairs: [Conversation, Conversation][] = [];
  let next = 0;
  const N = 1000;
  const name = `bridge.message.${part}`;
  return {
    name,
    impl: 'memory',
    async setup() {
      const ids = idsOf(`memory-${name.replace(/[^a-z0-9]+/gi, '-')}`);
      store = new MemoryStore();
      await seedReal(store, true, N, true, ids);
      const account = { backend: await wasm(), clock };
      const alice = await openStoredAccount(store, ids.alice, { otrAccountId: ALICE, sealKey: SEAL_KEY, account });
      const bob = await openStoredAccount(store, ids.bob, { otrAccountId: BOB, sealKey: SEAL_KEY, account });
      for (let i = 0; i < N; i++) pairs.push([await alice.conversation(peerName('bob', i)), await bob.conversation(peerName('alice', i))]);
    },
    fn() {
      const [a, b] = pairs[next]!;
      next = (next + 1) % N;
      const P = Object.getPrototypeOf(a) as Conversation;
      const out = part === 'calls' ? a.send(TEXT) : P.send.call(a, TEXT);
      const got = part === 'calls' ? b.receive(out.toSend[0]!) : P.receive.call(b, out.toSend[0]!);
      if (got.messages.length !== 1) throw new Error(`${name}: not received`);
    },
    async teardown() {
      await store?.close();
    },
  };
}

/** send + commit + receive + commit, 100 B, round-robin over 1,000 live sessions (both sides in one store, sealed). */
function messageCase(impl: Impl, sealed: boolean, variant: '' | '.hybrid' | '.syncnormal' | '.synccommitoff' = ''): BenchCase {
  let store: RecordStore | undefined;
  let alice: Awaited<ReturnType<typeof openStoredAccount>> | undefined;
  let bob: Awaited<ReturnType<typeof openStoredAccount>> | undefined;
  const pairs: [Conversation, Conversation][] = [];
  let next = 0;
  const N = 1000;
  const name = `bridge.message${sealed ? '' : '.plain'}${variant}`;
  return {
    name,
    impl,
    deferred: true,
    async setup() {
      const label = `${impl}-${name.replace(/[^a-z0-9]+/gi, '-')}`;
      const ids = idsOf(label);
      store = await makeStore(impl, label);
      await seedReal(store, sealed, N, true, ids);
      const backend = await backendOf(variant === '.hybrid' ? 'hybrid' : 'wasm');
      const seal = sealed ? { sealKey: SEAL_KEY } : {};
      alice = await openStoredAccount(store, ids.alice, { otrAccountId: ALICE, ...seal, account: { backend, clock } });
      bob = await openStoredAccount(store, ids.bob, { otrAccountId: BOB, ...seal, account: { backend, clock } });
      for (let i = 0; i < N; i++) pairs.push([await alice.conversation(peerName('bob', i)), await bob.conversation(peerName('alice', i))]);
    },
    async fn() {
      const [a, b] = pairs[next]!;
      next = (next + 1) % N;
      const out = a.send(TEXT);
      await alice!.commit(out);
      const got = b.receive(out.toSend[0]!);
      await bob!.commit(got);
      if (got.messages.length !== 1) throw new Error('bridge.message: not received');
    },
    async teardown() {
      await alice?.close();
      await bob?.close();
      await store?.close();
    },
  };
}

/** A better-sqlite3 connection of the floor cases on a file in the temp folder, WAL, at the given sync level. */
async function walDatabase(name: string, synchronous: 'FULL' | 'NORMAL') {
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(tempFile(name));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  return db;
}

/**
 * One SQLite commit alone, synchronous=NORMAL (docs/stores.md, "SQLite commit cost: session 9"): a 2,345-byte
 * row (a sealed conversation record's size) updated at its next generation, round-robin over 2,000 rows (the
 * two accounts of bridge.message), through the store as the helper hands it a sealed row (`store`:
 * COMMIT_OWNED, its event-loop hop, checks and checkpoints included) or as the store's own UPDATE run on
 * better-sqlite3 by hand (`raw`: the statement alone, SQLite's automatic checkpoint). `store` − `raw` is what
 * the store adds to SQLite; `raw` is SQLite's floor for a multi-process-safe WAL commit of such a row.
 */
function commitCase(how: 'store' | 'raw'): BenchCase {
  const ROWS = 2000;
  const SIZE = 2345;
  const gens = new Array<number>(ROWS).fill(1);
  let next = 0;
  let one: (() => Promise<void> | void) | undefined;
  let done: (() => Promise<void> | void) | undefined;
  return {
    name: how === 'store' ? 'bridge.commit.syncnormal' : 'bridge.commit.syncnormal.raw',
    impl: 'sqlite',
    deferred: how === 'store',
    async setup() {
      const rows = () => Array.from({ length: ROWS }, (_, i) => ({ key: `conv:${i}`, generation: 1, bytes: new Uint8Array(SIZE).fill(i & 0xff) }));
      if (how === 'store') {
        const { SqliteStore } = await import('../../ts/store/sqlite-store.js');
        const store = await SqliteStore.open({ path: tempFile('commit-store.sqlite'), synchronous: 'normal' });
        for (let i = 0; i < ROWS; i += 100) await store.commit('acct', rows().slice(i, i + 100));
        one = () => {
          const i = next;
          next = (next + 1) % ROWS;
          return store[COMMIT_OWNED]('acct', [{ key: `conv:${i}`, generation: ++gens[i]!, bytes: new Uint8Array(SIZE) }]);
        };
        done = () => store.close();
        return;
      }
      const db = await walDatabase('commit-raw.sqlite', 'NORMAL');
      db.exec('CREATE TABLE r (account TEXT NOT NULL, key TEXT NOT NULL, generation INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (account, key))');
      const insert = db.prepare('INSERT INTO r VALUES (?, ?, ?, ?)');
      db.transaction(() => rows().forEach((r) => insert.run('acct', r.key, 1, r.bytes)))();
      // The store's statement: compare-and-set on the generation, and the record stored exactly once.
      const update = db.prepare(
        'UPDATE r SET generation = ?, bytes = ? WHERE account = ? AND key = ? AND generation = ? AND (SELECT count(*) FROM r AS once WHERE once.account = ? AND once.key = ?) = 1',
      );
      one = () => {
        const i = next;
        next = (next + 1) % ROWS;
        const key = `conv:${i}`;
        const g = ++gens[i]!;
        if (update.run(g, new Uint8Array(SIZE), 'acct', key, g - 1, 'acct', key).changes !== 1) throw new Error('bridge.commit.syncnormal.raw: not written');
      };
      done = () => void db.close();
    },
    fn() {
      return one!();
    },
    async teardown() {
      await done?.();
    },
  };
}

/** The disk's floor under bridge.message on SQLite: a minimal durable commit (`sqlite`) or the bare fdatasync (`bare`). */
function fsyncCase(what: 'sqlite' | 'bare'): BenchCase {
  let done: (() => void) | undefined;
  let run: (() => void) | undefined;
  return {
    name: what === 'sqlite' ? 'bridge.fsync' : 'bridge.fsync.bare',
    impl: 'sqlite',
    async setup() {
      if (what === 'bare') {
        const fd = openSync(tempFile('fsync.bare'), 'w');
        const block = new Uint8Array(4096);
        run = () => {
          writeSync(fd, block, 0, block.length, 0);
          fdatasyncSync(fd);
        };
        done = () => closeSync(fd);
        return;
      }
      const db = await walDatabase('fsync.sqlite', 'FULL');
      db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
      db.prepare('INSERT OR REPLACE INTO t (id, n) VALUES (1, 0)').run();
      const update = db.prepare('UPDATE t SET n = n + 1 WHERE id = 1');
      const commit = db.transaction(() => update.run());
      run = () => void commit.immediate();
      done = () => db.close();
    },
    fn() {
      run!();
    },
    async teardown() {
      done?.();
    },
  };
}

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const impl of ['memory', 'sqlite', 'postgres'] as const) {
    out.push(saveCase(impl, 'bridge.save.1conv', 1, true));
    out.push(saveCase(impl, 'bridge.save.1000conv', 1000, true));
    out.push(saveCase(impl, 'bridge.save.1000conv.plain', 1000, false));
    out.push(saveCase(impl, 'bridge.save.1000conv.x16', 1000, true, 16));
    out.push(messageCase(impl, true));
    out.push(messageCase(impl, false));
    out.push(restoreCase(impl));
    out.push(readCase(impl, 'bridge.restore.1000conv.store', 'restore'));
    out.push(readCase(impl, 'bridge.keys.1000conv', 'keys'));
  }
  for (const impl of ['memory', 'sqlite', 'postgres'] as const) {
    out.push(messageCase(impl, true, '.hybrid'));
    out.push(restoreCase(impl, 'hybrid'));
  }
  out.push(saveCase('sqlite', 'bridge.save.1000conv.syncnormal', 1000, true));
  out.push(messageCase('sqlite', true, '.syncnormal'));
  out.push(saveCase('postgres', 'bridge.save.1000conv.synccommitoff', 1000, true));
  out.push(messageCase('postgres', true, '.synccommitoff'));
  out.push(messagePartCase('calls'));
  out.push(messagePartCase('protocol'));
  out.push(fsyncCase('sqlite'));
  out.push(fsyncCase('bare'));
  out.push(commitCase('store'));
  out.push(commitCase('raw'));
  out.push(saveCase('sqlite', 'bridge.save.1000conv.worker', 1000, true));
  out.push(saveCase('sqlite', 'bridge.save.1000conv.x16.worker', 1000, true, 16));
  // The PostgreSQL server (if one was started) stops, and the temp folder goes, when the bench process exits.
  return out;
}
