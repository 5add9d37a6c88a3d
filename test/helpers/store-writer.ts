/**
 * A writer process for the multi-process store tests (run as `node build/test/helpers/store-writer.js JSON`):
 *   mode 'ack'  — commits generation after generation of one record, printing `ack G` on stdout only after
 *                 commit(G) resolved, and the next commit only once the line is out (say, below),
 *                 until it is killed. The parent kills it with SIGKILL and checks that every acknowledged
 *                 generation is in the store.
 *   mode 'race' — `rounds` times: load the record, append its id byte, commit generation + 1, and on a
 *                 CONFLICT reload and try again. Prints `{"wins":N,"conflicts":M}`. Two of these on one
 *                 database must never lose an update: the final record lists every win of both.
 *   mode 'soak' — like 'ack', but several of these share the record: each loads, commits generation + 1
 *                 (its id in byte 4), prints `ack G`, and on a CONFLICT reloads and goes on. Used by
 *                 scripts/soak-store.mjs, which kills and restarts them: no generation may be acknowledged
 *                 by two writers, none may be missing after restart.
 * Records go through openAccountRecords, sealed, as a bridge would write them.
 */
import { openAccountRecords } from '../../ts/store/account-records.js';
import { OtrError } from '../../ts/errors.js';
import type { RecordStore } from '../../ts/store/types.js';

export interface WriterConfig {
  mode: 'ack' | 'race' | 'soak';
  kind: 'sqlite' | 'postgres';
  /** A file name (sqlite) or a connection string (postgres). */
  target: string;
  account: string;
  key: string;
  id?: number;
  rounds?: number;
  /** SQLite only: the store's synchronous level (default: the store's default, FULL). */
  synchronous?: 'full' | 'normal';
}

export const WRITER_SEAL_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 ^ i);
/** Each acknowledged generation's record: the generation in its first 4 bytes, then a filler of ~2.1 KB. */
export function ackRecord(g: number, writer = 0): Uint8Array {
  const b = new Uint8Array(2150).fill(g & 0xff);
  new DataView(b.buffer).setUint32(0, g);
  b[4] = writer;
  return b;
}

async function openStore(c: WriterConfig): Promise<RecordStore> {
  if (c.kind === 'sqlite') return (await import('../../ts/store/sqlite.js')).openSqliteStore({ path: c.target, ...(c.synchronous ? { synchronous: c.synchronous } : {}) });
  return (await import('../../ts/store/postgres.js')).openPostgresStore({ connectionString: c.target, max: 2 });
}

/**
 * Writes a line and waits until Node has handed it to the OS. A pipe write is synchronous on Linux only while
 * the pipe has room: when the parent (a loaded machine) reads late, the rest is queued in this process, and a
 * SIGKILL lost up to 163 queued acks (acked 1,900, stored 2,063), so the "at most one commit unacknowledged"
 * check failed although nothing acknowledged was lost.
 */
function say(line: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(line, (e) => (e ? reject(e) : resolve())));
}

async function main(): Promise<void> {
  const c = JSON.parse(process.argv[2]!) as WriterConfig;
  const store = await openStore(c);
  const records = await openAccountRecords(store, c.account, { sealKey: WRITER_SEAL_KEY });
  if (c.mode === 'ack') {
    let g = (await records.load(c.key))?.generation ?? 0;
    process.stdout.write('ready\n');
    for (;;) {
      g++;
      await records.commit([{ key: c.key, generation: g, bytes: ackRecord(g) }]);
      await say(`ack ${g}\n`);
    }
  }
  if (c.mode === 'soak') {
    let rec = await records.load(c.key);
    process.stdout.write('ready\n');
    for (;;) {
      const g = (rec?.generation ?? 0) + 1;
      try {
        await records.commit([{ key: c.key, generation: g, bytes: ackRecord(g, c.id ?? 0) }]);
        await say(`ack ${g}\n`);
        rec = { key: c.key, generation: g, bytes: new Uint8Array(0) };
      } catch (e) {
        if (!(e instanceof OtrError && e.code === 'CONFLICT')) throw e;
        rec = await records.load(c.key);
      }
    }
  }
  let wins = 0;
  let conflicts = 0;
  while (wins < (c.rounds ?? 0)) {
    const rec = await records.load(c.key);
    const next = new Uint8Array((rec?.bytes.length ?? 0) + 1);
    if (rec) next.set(rec.bytes);
    next[next.length - 1] = c.id ?? 0;
    try {
      await records.commit([{ key: c.key, generation: (rec?.generation ?? 0) + 1, bytes: next }]);
      wins++;
    } catch (e) {
      if (!(e instanceof OtrError && e.code === 'CONFLICT')) throw e;
      conflicts++;
    }
  }
  await records.close();
  await store.close();
  process.stdout.write(`${JSON.stringify({ wins, conflicts })}\n`);
}

// Only as a process of its own: the tests import ackRecord from here too.
if (process.argv[1]?.endsWith('store-writer.js'))
  main().catch((e) => {
    process.stderr.write(`writer failed: ${(e as Error).stack}\n`);
    process.exit(1);
  });
