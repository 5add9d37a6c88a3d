/**
 * Session 7 review of sealed records at rest against a hostile disk: a SQLite file (in-process and worker-thread
 * stores) edited between two runs, under every record AEAD (WASM with and without its SIMD stream, OpenSSL,
 * noble). Each edit — a truncated row, a bare header and tag, a flipped tag or ciphertext bit, an unknown
 * version byte, a row moved onto another record, a generation moved or made invalid, a row past
 * maxRecordBytes, bytes stored as text — must give a typed error (the same code under every AEAD), touch no
 * other record, and leave the AEAD working (a failed open leaves nothing behind in the module that breaks the
 * next seal or open). Before this, the on-disk edits were tested on the memory test store and the OpenSSL
 * AEAD only; this file pins them on SQLite for the WASM AEAD as well (it passed at once).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { settledAs } from '../helpers/settled.js';
import { nobleAead } from '../../ts/store/aead-noble.js';
import { opensslAead } from '../../ts/store/aead-openssl.js';
import type { SealAead } from '../../ts/store/aead.js';
import { sealedStoreWith, SEAL_OVERHEAD_BYTES } from '../../ts/store/sealing.js';
import { openSqliteStore } from '../../ts/store/sqlite.js';
import type { RecordStore } from '../../ts/store/types.js';
import type { WasmBackend } from '../../ts/backend/wasm/index.js';
import type { WasmContext } from '../../ts/backend/wasm/context.js';
import { WASM } from '../helpers/backends.js';

const ctx = (WASM as WasmBackend).context;
/**
 * The WASM record AEAD over a module (with its SIMD stream or not). Looked up by name: session 7 moved it from
 * `wasmSealAead` (backend/wasm/aead.ts) to a backend operation (`aeadOps` + store/aead-backend.ts
 * `backendSealAead`), and this test runs on either side of that change.
 */
type Any = (...a: unknown[]) => unknown;
const wasmAeadModule = (await import('../../ts/backend/wasm/aead.js')) as unknown as Record<string, Any>;
const backendModulePath = '../../ts/store/aead-backend.js';
async function wasmAead(simd?: WasmContext): Promise<SealAead> {
  if (typeof wasmAeadModule.wasmSealAead === 'function') return wasmAeadModule.wasmSealAead(ctx, nobleAead, simd) as SealAead;
  const { backendSealAead } = (await import(backendModulePath)) as Record<string, Any>;
  return backendSealAead!(wasmAeadModule.aeadOps!(ctx, simd), nobleAead) as SealAead;
}
const AEADS: readonly [string, SealAead][] = [
  ['wasm-simd', await wasmAead((WASM as WasmBackend).simdContext)],
  ['wasm', await wasmAead()],
  ['openssl', opensslAead],
  ['noble', nobleAead],
];
const HOST_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const LIMITS = { maxRecordBytes: 64 * 1024 };
const BOB = 500;
const CAROL = 700;
const ACCOUNT = 300;

function filled(n: number, v: number): Uint8Array {
  return new Uint8Array(n).fill(v);
}

type Row = { account: string; key: string; generation: number; bytes: Uint8Array };
/** Edits the row of conv:bob (found by its size: names are sealed) in the file, as an attacker with the disk. */
type Edit = (db: Database.Database, bob: Row, carol: Row) => void;

const setBytes = (db: Database.Database, r: Row, bytes: unknown) =>
  db.prepare('UPDATE otr4_records SET bytes = ? WHERE account = ? AND key = ?').run(bytes, r.account, r.key);
const setGeneration = (db: Database.Database, r: Row, g: unknown) =>
  db.prepare('UPDATE otr4_records SET generation = ? WHERE account = ? AND key = ?').run(g, r.account, r.key);
const flipped = (b: Uint8Array, at: number) => {
  const c = Uint8Array.from(b);
  c[at]! ^= 0x01;
  return c;
};

const EDITS: readonly [string, Edit][] = [
  ['truncated below the header and tag', (db, bob) => setBytes(db, bob, Buffer.from(bob.bytes.subarray(0, SEAL_OVERHEAD_BYTES - 1)))],
  ['empty', (db, bob) => setBytes(db, bob, Buffer.alloc(0))],
  ['a bare header and tag (no ciphertext)', (db, bob) => setBytes(db, bob, Buffer.from(bob.bytes.subarray(0, SEAL_OVERHEAD_BYTES)))],
  ['truncated by one byte', (db, bob) => setBytes(db, bob, Buffer.from(bob.bytes.subarray(0, bob.bytes.length - 1)))],
  ['one byte appended', (db, bob) => setBytes(db, bob, Buffer.concat([Buffer.from(bob.bytes), Buffer.from([0])]))],
  ['tag bit flipped', (db, bob) => setBytes(db, bob, Buffer.from(flipped(bob.bytes, bob.bytes.length - 1)))],
  ['ciphertext bit flipped', (db, bob) => setBytes(db, bob, Buffer.from(flipped(bob.bytes, 100)))],
  ['nonce bit flipped', (db, bob) => setBytes(db, bob, Buffer.from(flipped(bob.bytes, 3)))],
  ['unknown version byte', (db, bob) => setBytes(db, bob, Buffer.from(flipped(bob.bytes, 1 - 1).map((v, i) => (i === 0 ? 0x02 : v))))],
  ['carol\'s row moved onto bob', (db, bob, carol) => setBytes(db, bob, Buffer.from(carol.bytes))],
  ['generation moved forward', (db, bob) => setGeneration(db, bob, bob.generation + 1)],
  ['generation zero', (db, bob) => setGeneration(db, bob, 0)],
  ['generation negative', (db, bob) => setGeneration(db, bob, -1)],
  ['generation past 2^53', (db, bob) => setGeneration(db, bob, 2n ** 60n)],
  ['generation a real', (db, bob) => setGeneration(db, bob, 1.5)],
  ['generation as text', (db, bob) => setGeneration(db, bob, 'two')],
  ['bytes stored as text', (db, bob) => setBytes(db, bob, 'x'.repeat(bob.bytes.length))],
  ['bytes past maxRecordBytes', (db, bob) => setBytes(db, bob, Buffer.alloc(LIMITS.maxRecordBytes + 1))],
];

async function sealedOn(path: string, aead: SealAead, worker: boolean): Promise<RecordStore> {
  return sealedStoreWith(aead, await openSqliteStore({ path, worker, synchronous: 'normal', backgroundCheckpoint: false, limits: LIMITS }), HOST_KEY, { limits: LIMITS });
}

function rows(path: string): Row[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT account, key, generation, bytes FROM otr4_records').all() as Row[]).map((r) => ({ ...r, bytes: new Uint8Array(r.bytes) }));
  } finally {
    db.close();
  }
}

function outcome(p: Promise<unknown>): Promise<string> {
  return settledAs(p, 'opened');
}

test('attack: every edit of a sealed row on disk is a typed error, the same under every AEAD; other records and the AEAD unharmed', async () => {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 's7-sealed-'));
  try {
    for (const [name, aead] of AEADS.slice(0, 2)) assert.ok(['wasm', 'backend'].includes(aead.name as string), `${name}: the module's AEAD (${aead.name})`);
    const codes = new Map<string, string>();
    let n = 0;
    for (const worker of [false, true]) {
      // The worker store (errors crossing a thread) under one AEAD; the in-process one under each.
      for (const [aeadName, aead] of worker ? AEADS.slice(0, 1) : AEADS) {
        for (const [editName, edit] of EDITS) {
          const where = `${worker ? 'worker' : 'in-process'} SQLite, ${aeadName}, ${editName}`;
          const path = join(dir, `db${n++}.sqlite`);
          let s = await sealedOn(path, aead, worker);
          await s.commit('alice@x', [
            { key: 'account', generation: 1, bytes: filled(ACCOUNT, 1) },
            { key: 'conv:bob', generation: 1, bytes: filled(BOB, 2) },
            { key: 'conv:carol', generation: 1, bytes: filled(CAROL, 3) },
          ]);
          await s.commit('alice@x', [{ key: 'conv:bob', generation: 2, bytes: filled(BOB, 4) }]);
          await s.close();
          const all = rows(path);
          const bob = all.find((r) => r.bytes.length === BOB + SEAL_OVERHEAD_BYTES)!;
          const carol = all.find((r) => r.bytes.length === CAROL + SEAL_OVERHEAD_BYTES)!;
          assert.ok(bob && carol, `${where}: rows found`);
          const db = new Database(path);
          edit(db, bob, carol);
          db.close();

          s = await sealedOn(path, aead, worker);
          const got = await outcome(s.load('alice@x', 'conv:bob'));
          assert.not.ok(got === 'opened' || got.startsWith('untyped'), `${where}: ${got}`);
          const before = codes.get(editName);
          if (before === undefined) codes.set(editName, got);
          else assert.is(got, before, `${where}: the same code as under the other AEADs and stores`);
          // The other records still open, and the AEAD still seals and opens.
          assert.equal((await s.load('alice@x', 'conv:carol'))!.bytes, filled(CAROL, 3), `${where}: carol`);
          assert.equal((await s.load('alice@x', 'account'))!.bytes, filled(ACCOUNT, 1), `${where}: account`);
          await s.commit('alice@x', [{ key: 'conv:dave', generation: 1, bytes: filled(900, 5) }]);
          assert.equal((await s.load('alice@x', 'conv:dave'))!.bytes, filled(900, 5), `${where}: a new record round-trips`);
          assert.equal((await s.keys('alice@x')).sort(), ['account', 'conv:bob', 'conv:carol', 'conv:dave'], `${where}: keys`);
          await s.close();
        }
      }
    }
    if (process.env.S7_SHOW) console.log(Object.fromEntries(codes));
    // The codes themselves: authentication failures are BAD_MAC, shapes the store or sealer refuse are MALFORMED.
    assert.is(codes.get('tag bit flipped'), 'BAD_MAC');
    assert.is(codes.get('carol\'s row moved onto bob'), 'BAD_MAC');
    assert.is(codes.get('generation moved forward'), 'BAD_MAC');
    assert.is(codes.get('bytes past maxRecordBytes'), 'LIMIT_EXCEEDED');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
