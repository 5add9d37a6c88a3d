/**
 * The per-message path of two builds in one process (session 11): in each build, two accounts with one
 * established conversation; batches of rounds — Alice sends about 100 bytes, Bob receives (each call's records
 * encoded, nothing stored: bridge.message.calls without a store) — alternate between the builds (the order flips
 * every phase), timed by this thread's CPU (the process is this one thread: no workers; collections the batch
 * caused on it included). Prints µs per message, min and median over the phases, per build.
 *
 *   node build/bench/message-ab.js <build dir A> <build dir B> [phases=20] [messages per batch=2000] [backend=wasm]
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { completeDake } from './session-pair.js';

const [dirA, dirB] = [process.argv[2], process.argv[3]].map((d) => resolve(d ?? '.'));
const PHASES = Number(process.argv[4] ?? 20);
const ROUNDS = Number(process.argv[5] ?? 2000);
const BACKEND = process.argv[6] ?? 'wasm';
const TEXT = 'a bridged message of about the length people type, with a little more to make it realistic.';
const NOW = 1_750_000_000_000;

interface Conv {
  state: string;
  start(): { toSend: string[] };
  send(text: string): { toSend: string[] };
  receive(text: string): { toSend: string[]; messages: unknown[] };
}

async function build(dir: string): Promise<(n: number) => number> {
  const at = (p: string) => import(pathToFileURL(join(dir!, 'build/ts', p)).href);
  const { loadBackend } = await at('backend/select.js');
  const { Account } = await at('session/account.js');
  const backend = await loadBackend(BACKEND);
  const common = { backend, clock: () => NOW, dsaKey: null };
  const a: Conv = Account.create({ accountId: 'alice@ab.example', ...common }).conversation('bob@ab.example');
  const b: Conv = Account.create({ accountId: 'bob@ab.example', ...common }).conversation('alice@ab.example');
  completeDake(a, b, 'message-ab');
  // Returns the CPU ms of n rounds of send + receive; every REPLY_EVERY rounds Bob answers, untimed (without
  // answers Bob's record would grow by a queued MAC key per message).
  return (n) => {
    let spent = 0;
    for (let k = 0; k < n; k += REPLY_EVERY) {
      const t = cpu();
      for (let j = 0; j < REPLY_EVERY; j++) if (b.receive(a.send(TEXT).toSend[0]!).messages.length !== 1) throw new Error('message-ab: not received');
      spent += cpu() - t;
      // Untimed: Bob's answer, and Alice's next message, which starts her next ratchet (an ECDH step, and a
      // 3072-bit DH step every third ratchet): what is timed is messages on an established chain, as data.100.
      for (const t of b.send(TEXT).toSend) a.receive(t);
      b.receive(a.send(TEXT).toSend[0]!);
    }
    return spent;
  };
}
const REPLY_EVERY = 20;

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

const runs = { A: await build(dirA!), B: await build(dirB!) };
for (const r of Object.values(runs)) r(3000); // warm-up: JIT
const us: Record<'A' | 'B', number[]> = { A: [], B: [] };
for (let p = 0; p < PHASES; p++) {
  for (const n of p % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
    us[n].push((runs[n](ROUNDS) * 1000) / ROUNDS);
  }
}
const fmt = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return `${s[0]!.toFixed(2)} / ${s[s.length >> 1]!.toFixed(2)}`;
};
console.log(`A = ${dirA}\nB = ${dirB}\n${PHASES} phases of ${ROUNDS} rounds, ${BACKEND}; CPU µs per message sent and received (the answers every ${REPLY_EVERY} untimed), min / median`);
for (const n of ['A', 'B'] as const) console.log(`${n}\t${fmt(us[n])}`);
