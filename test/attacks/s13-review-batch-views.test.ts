/**
 * Attack (session 13 review): the pool's packed results (session 12, ts/pool/result-batch.ts) give a changed
 * record's bytes as a VIEW into the batch's one buffer — a buffer that also holds the other calls' results of
 * that batch: other accounts' records (their ratchet keys, in the clear unless the host seals) and every
 * decrypted message text. The SQLite worker store (openSqliteStore({ worker: true })) sent a commit's changes to
 * its thread by structured clone, and a structured clone of a view copies its WHOLE buffer: wired as the pool's
 * docs show (`onRecords: (id, changes) => store.commit(id, changes)`), every commit of one account copied the
 * batch's other accounts' records and plaintext into the store's thread, where only the committed rows' ranges
 * were zeroed afterwards — the rest stayed in that thread's heap until collected (and a batch of k accounts was
 * copied k times).
 *
 * Now the worker store copies each row into a buffer of its own and transfers it: only the rows cross, and the
 * store's thread zeroes all of what it received.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SqliteWorkerStore } from '../../ts/store/sqlite-worker.js';
import { packResults, unpackResults } from '../../ts/pool/result-batch.js';
import type { Outcome } from '../../ts/session/events.js';
import type { RecordChange } from '../../ts/store/types.js';

const dir = mkdtempSync(join(tmpdir(), 'otr4-s13-batch-views-'));
const enc = new TextEncoder();
const B_RECORD = enc.encode('B-RECORD: the other account\'s ratchet keys');
const B_TEXT = 'B-PLAINTEXT: a message the other account decrypted';

/** Whether `needle` occurs in `hay`. */
function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** Every byte array reachable in `v`, each as its whole buffer (what a structured clone or transfer carries). */
function buffers(v: unknown, out: Uint8Array[] = []): Uint8Array[] {
  if (v instanceof Uint8Array) out.push(new Uint8Array(v.buffer));
  else if (Array.isArray(v)) for (const x of v) buffers(x, out);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) buffers(x, out);
  return out;
}

/** One pool batch of two accounts' calls, packed by the worker and read back on the main thread as the pool does. */
function batchOfTwo(): { a: RecordChange[]; b: RecordChange[] } {
  const outcomeA: Outcome = { toSend: ['?OTR:AAQD'], messages: [], events: [], changed: [{ key: 'conv:bob@example.org', generation: 1, bytes: enc.encode('A-RECORD') }] };
  const outcomeB: Outcome = {
    toSend: [],
    messages: [{ text: B_TEXT, encrypted: true, instance: 0x1234, version: 4 }],
    events: [],
    changed: [{ key: 'conv:carol@example.org', generation: 9, bytes: B_RECORD.slice() }],
  };
  const { packed, structured } = packResults([undefined, undefined], [outcomeA, outcomeB]);
  const [ra, rb] = unpackResults(packed, structured, 2);
  const a = (ra as { records: RecordChange[] }).records;
  const b = (rb as { records: RecordChange[] }).records;
  // The premise: the two accounts' records are views into one buffer, which holds B's message text too.
  assert.is(a[0]!.bytes!.buffer, b[0]!.bytes!.buffer);
  assert.ok(contains(new Uint8Array(a[0]!.bytes!.buffer), enc.encode(B_TEXT)));
  return { a, b };
}

test("a commit of one account's packed records sends its rows only, none of the batch's other bytes", async () => {
  const sent: Uint8Array[][] = [];
  const store = await SqliteWorkerStore.open({ path: join(dir, 'views.sqlite') }, {
    startWorker: (data) => {
      const w = new Worker(new URL('../../ts/store/sqlite-worker.js', import.meta.url), { workerData: data });
      const post = w.postMessage.bind(w);
      w.postMessage = (m: unknown, transfer?: readonly ArrayBuffer[]) => {
        if ((m as { op?: string }).op === 'commit') sent.push(buffers(m).map((x) => x.slice()));
        post(m, transfer as ArrayBuffer[]);
      };
      return w;
    },
  });
  try {
    const { a } = batchOfTwo();
    await store.commit('alice', a);
    assert.is(sent.length, 1);
    for (const buf of sent[0]!) {
      // Before: the whole batch buffer crossed (B's record and decrypted text in it), once per account's commit.
      assert.not.ok(contains(buf, B_RECORD), "the other account's record does not cross with this commit");
      assert.not.ok(contains(buf, enc.encode(B_TEXT)), "the batch's decrypted messages do not cross with this commit");
      assert.is(buf.length, 'A-RECORD'.length, 'only the row itself crosses');
    }
    const row = await store.load('alice', 'conv:bob@example.org');
    assert.equal(row && new TextDecoder().decode(row.bytes), 'A-RECORD', 'the row is stored as given');
    assert.is(row!.generation, 1);
    assert.equal(new TextDecoder().decode(a[0]!.bytes!), 'A-RECORD', "the caller's bytes are left as they were");
  } finally {
    await store.close();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
