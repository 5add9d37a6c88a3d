// Kill -9 soak of the durable stores (store layer only; the session-level soak of issue 12 builds on it):
//
//   node scripts/soak-store.mjs [--kills N] [--kind sqlite|postgres|both] [--writers W]
//
// W writer processes (build/test/helpers/store-writer.js, mode 'soak') share one sealed record on one SQLite
// file or one PostgreSQL database (a private server, test/helpers/postgres.ts, fsync on). Each loads the
// record, commits generation + 1 through openAccountRecords (compare-and-set), prints `ack G`, and reloads on
// a conflict. The soak SIGKILLs a random writer at a random moment and starts a new one, N times, then checks:
//   - no generation was acknowledged by two writers (compare-and-set held across kills and restarts);
//   - the stored generation is at least the highest acknowledged one (no acknowledged commit lost), and at
//     most that plus the writers killed between commit and ack;
//   - the stored record is the one its writer wrote for that generation (no torn or mixed write).
// Needs `npm run build` (or tsc) first. Exit code 0 when every check holds.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { build, opt, root, soakKinds, soakTarget } from './soak-common.mjs';

const WRITER = join(root, 'build', 'test', 'helpers', 'store-writer.js');
const kills = Number(opt('--kills', '200'));
const writers = Number(opt('--writers', '2'));
const kinds = soakKinds();

const { ackRecord, WRITER_SEAL_KEY } = await import(build('test/helpers/store-writer.js'));
const { openAccountRecords } = await import(build('ts/store/account-records.js'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function soak(kind) {
  const { target, done } = await soakTarget(kind, 'otr4-soak-', 'soak.sqlite');
  const account = 'soak@example.org';
  const key = 'conv:peer@example.net';
  const acked = new Map(); // generation -> writer id
  let duplicates = 0;
  let failures = 0;
  let nextId = 1;
  const live = new Set();

  function start() {
    const id = nextId++ % 250 || 1;
    const child = spawn(process.execPath, [WRITER, JSON.stringify({ mode: 'soak', kind, target, account, key, id })], { stdio: ['ignore', 'pipe', 'pipe'] });
    // 'close', not 'exit': every ack the writer printed before it died is read before it counts as gone.
    const w = { child, id, buf: '', err: '', ready: false, done: new Promise((r) => child.on('close', (code, signal) => r({ code, signal }))) };
    child.stdout.on('data', (d) => {
      w.buf += d;
      for (let i; (i = w.buf.indexOf('\n')) >= 0; w.buf = w.buf.slice(i + 1)) {
        const line = w.buf.slice(0, i);
        if (line === 'ready') w.ready = true;
        const m = /^ack (\d+)$/.exec(line);
        if (!m) continue;
        const g = Number(m[1]);
        if (acked.has(g)) duplicates++;
        else acked.set(g, id);
      }
    });
    child.stderr.on('data', (d) => (w.err += d));
    live.add(w);
    w.done.then(({ signal }) => {
      live.delete(w);
      if (signal !== 'SIGKILL') {
        failures++;
        console.error(`writer ${id} exited on its own: ${w.err.slice(0, 500)}`);
      }
    });
    return w;
  }

  const t0 = Date.now();
  for (let i = 0; i < writers; i++) start();
  for (let k = 0; k < kills; k++) {
    // Kill a writer that is past its start-up (connected, record loaded), at a random point of its commits.
    while (![...live].some((w) => w.ready)) await sleep(5);
    await sleep(Math.floor(Math.random() * 300));
    const victims = [...live].filter((w) => w.ready);
    const w = victims[Math.floor(Math.random() * victims.length)];
    if (w) {
      w.child.kill('SIGKILL');
      await w.done;
    }
    start();
  }
  for (const w of [...live]) {
    w.child.kill('SIGKILL');
    await w.done;
  }

  let store;
  if (kind === 'sqlite') store = await (await import(build('ts/store/sqlite.js'))).openSqliteStore({ path: target });
  else store = await (await import(build('ts/store/postgres.js'))).openPostgresStore({ connectionString: target, max: 1 });
  const records = await openAccountRecords(store, account, { sealKey: WRITER_SEAL_KEY });
  const rec = await records.load(key);
  await store.close();
  await done();

  const maxAck = Math.max(0, ...acked.keys());
  const stored = rec?.generation ?? 0;
  const writerOfStored = rec?.bytes[4];
  const intact = rec !== undefined && Buffer.from(rec.bytes).equals(Buffer.from(ackRecord(stored, writerOfStored)));
  const ok =
    duplicates === 0 &&
    failures === 0 &&
    stored >= maxAck &&
    stored <= maxAck + kills + writers &&
    intact &&
    (!acked.has(stored) || acked.get(stored) === writerOfStored);
  const unacked = stored - acked.size;
  console.log(
    `${kind}: ${kills} kills in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${writers} writers; ${acked.size} generations acknowledged, ` +
      `stored generation ${stored} (highest ack ${maxAck}); ${unacked} committed without an ack (the writer died between commit and print); ` +
      `acknowledged twice: ${duplicates}; record intact: ${intact}; writers that failed: ${failures} => ${ok ? 'OK' : 'FAILED'}`,
  );
  return ok;
}

let allOk = true;
for (const kind of kinds) allOk = (await soak(kind)) && allOk;
process.exit(allOk ? 0 : 1);
