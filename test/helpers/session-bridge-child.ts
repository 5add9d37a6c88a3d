/**
 * A bridge process for the kill -9 soak (scripts/soak-session.mjs): Alice's account on a SQLite file or a
 * PostgreSQL database, her conversation with Bob loaded from it. On stdin `recv ID TEXT` delivers a message
 * (at least once: the soak resends until `ack ID`); on its own it sends `a PID N` every few milliseconds.
 * Every outcome is committed before anything is printed: `wire TEXT` (transmitted), `shown TEXT`, `ack ID`.
 * For the soak's accounting (where a kill fell), each step is framed: `try send a PID N` / `try recv ID` when
 * it starts (before the call: nothing of it is durable yet), `committed` once its commit resolved, `done` when
 * everything it printed is out; and a
 * receive that shows nothing says why: `event ID TYPE DETAIL` (unreadable, ignored, message-lost, ...).
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { loadBackend } from '../../ts/backend/select.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import type { RecordStore } from '../../ts/store/types.js';
import type { Outcome } from '../../ts/session/events.js';

export const SOAK_ALICE = 'alice@soak.example';
export const SOAK_BOB = 'bob@soak.example';
export const SOAK_SEAL_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0x33 ^ (i * 7));

export async function openSoakStore(kind: string, target: string): Promise<RecordStore> {
  if (kind === 'sqlite') return (await import('../../ts/store/sqlite.js')).openSqliteStore({ path: target });
  return (await import('../../ts/store/postgres.js')).openPostgresStore({ connectionString: target, max: 2 });
}

async function main(): Promise<void> {
  const { kind, target } = JSON.parse(process.argv[2]!) as { kind: string; target: string };
  const backend = await loadBackend('wasm');
  const store = await openSoakStore(kind, target);
  // Healing off, as in scripts/soak-session.mjs (the harness relays data messages only).
  const alice = await openStoredAccount(store, SOAK_ALICE, { sealKey: SOAK_SEAL_KEY, account: { backend, policy: { healSessions: false } } });
  const conv = await alice.conversation(SOAK_BOB);
  const print = (line: string) => process.stdout.write(line + '\n');
  // One call and its commit at a time, in order: what is printed is durable.
  let chain: Promise<void> = Promise.resolve();
  let queued = 0;
  const step = (what: string, call: () => Outcome, after: (out: Outcome) => void) => {
    queued++;
    chain = chain.then(async () => {
      queued--;
      print(`try ${what}`);
      const out = call();
      await alice.commit(out);
      print('committed');
      for (const t of out.toSend) print(`wire ${t}`);
      for (const m of out.messages) print(`shown ${m.text}`);
      after(out);
      print('done');
    });
  };
  createInterface({ input: process.stdin }).on('line', (line) => {
    const m = /^recv (\d+) (.*)$/.exec(line);
    if (m)
      step(`recv ${m[1]}`, () => conv.receive(m[2]!), (out) => {
        for (const e of out.events) {
          if (e.type === 'unreadable') print(`event ${m[1]} unreadable ${e.code}:${e.detail.replace(/\s+/g, '_')}`);
          else if (e.type === 'ignored') print(`event ${m[1]} ignored ${e.reason.replace(/\s+/g, '_')}`);
          else if (e.type === 'message-lost' || e.type === 'rollback-suspected' || e.type === 'finished') print(`event ${m[1]} ${e.type} -`);
        }
        print(`ack ${m[1]}`);
      });
  });
  print('ready');
  let n = 0;
  // A new message only when the previous work is done: deliveries never wait behind a pile of sends.
  setInterval(() => {
    if (queued === 0) {
      const text = `a ${process.pid} ${n++}`;
      step(`send ${text}`, () => conv.send(text), () => {});
    }
  }, 5);
}

// Run only as a process of its own (the soak imports the constants above).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
