/**
 * One-way traffic in two builds in one process (session 16 [s16-reveal]): in each build, two accounts with one
 * established conversation; Alice only sends (about 100 bytes a message), Bob only reads; whatever Bob sends
 * back (a heartbeat) is delivered to Alice. Each call's records are encoded (the outcome's `changed`), nothing
 * is stored. After a warm-up of `warm` messages (past maxMacKeysToReveal, so a build that never reveals is at
 * its steady state), batches of messages alternate between the builds (the order flips every phase), timed by
 * this thread's CPU, Alice's calls and Bob's apart. Prints, per build, CPU µs per message for Bob's receive,
 * for Alice's calls (her send and the heartbeats she reads), min and median over the phases; and the record
 * bytes the calls hand to the store per message (Bob's, Alice's).
 *
 *   node build/bench/oneway-ab.js <build dir A> <build dir B> [phases=12] [messages per batch=640] [warm=1100] [limits JSON]
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { completeDake } from './session-pair.js';

const [dirA, dirB] = [process.argv[2], process.argv[3]].map((d) => resolve(d ?? '.'));
const PHASES = Number(process.argv[4] ?? 12);
const BATCH = Number(process.argv[5] ?? 640);
const WARM = Number(process.argv[6] ?? 1100);
const LIMITS = JSON.parse(process.argv[7] ?? '{}') as Record<string, number>;
const TEXT = 'a bridged message of about the length people type, with a little more to make it realistic.';
const NOW = 1_750_000_000_000;

interface Out {
  toSend: string[];
  messages: unknown[];
  changed?: { bytes?: Uint8Array }[];
}
interface Conv {
  state: string;
  start(): { toSend: string[] };
  send(text: string): Out;
  receive(text: string): Out;
}
interface Batch {
  bobMs: number;
  aliceMs: number;
  bobBytes: number;
  aliceBytes: number;
  heartbeats: number;
}

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const bytesOf = (o: Out) => (o.changed ?? []).reduce((n, c) => n + (c.bytes?.length ?? 0), 0);

async function build(dir: string): Promise<(n: number) => Batch> {
  const at = (p: string) => import(pathToFileURL(join(dir, 'build/ts', p)).href);
  const { loadBackend } = await at('backend/select.js');
  const { Account } = await at('session/account.js');
  const backend = await loadBackend('wasm');
  // The clock stands still: no time heartbeat, only what the MAC-key queue causes.
  const common = { backend, clock: () => NOW, dsaKey: null, limits: LIMITS };
  const a: Conv = Account.create({ accountId: 'alice@ab.example', ...common }).conversation('bob@ab.example');
  const b: Conv = Account.create({ accountId: 'bob@ab.example', ...common }).conversation('alice@ab.example');
  completeDake(a, b, 'oneway-ab');
  return (n) => {
    const r: Batch = { bobMs: 0, aliceMs: 0, bobBytes: 0, aliceBytes: 0, heartbeats: 0 };
    for (let i = 0; i < n; i++) {
      let t = cpu();
      const sent = a.send(TEXT);
      r.aliceMs += cpu() - t;
      r.aliceBytes += bytesOf(sent);
      t = cpu();
      const got = b.receive(sent.toSend[0]!);
      r.bobMs += cpu() - t;
      r.bobBytes += bytesOf(got);
      if (got.messages.length !== 1) throw new Error('oneway-ab: not received');
      for (const hb of got.toSend) {
        r.heartbeats++;
        t = cpu();
        const back = a.receive(hb);
        r.aliceMs += cpu() - t;
        r.aliceBytes += bytesOf(back);
      }
    }
    return r;
  };
}

const runs = { A: await build(dirA!), B: await build(dirB!) };
for (const r of Object.values(runs)) r(WARM);
const got: Record<'A' | 'B', Batch[]> = { A: [], B: [] };
for (let p = 0; p < PHASES; p++) {
  for (const n of p % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) got[n].push(runs[n](BATCH));
}
const fmt = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return `${s[0]!.toFixed(2)} / ${s[s.length >> 1]!.toFixed(2)}`;
};
console.log(`A = ${dirA}\nB = ${dirB}\nlimits ${JSON.stringify(LIMITS)}; ${PHASES} phases of ${BATCH} one-way messages after ${WARM}; CPU µs per message (min / median), record bytes per message`);
for (const n of ['A', 'B'] as const) {
  const bs = got[n];
  const per = (f: (b: Batch) => number) => bs.map((b) => (f(b) * 1000) / BATCH);
  const total = (f: (b: Batch) => number) => bs.reduce((s, b) => s + f(b), 0) / (BATCH * bs.length);
  console.log(
    `${n}\tBob receive ${fmt(per((b) => b.bobMs))}\tAlice ${fmt(per((b) => b.aliceMs))}\tboth ${fmt(per((b) => b.bobMs + b.aliceMs))}` +
      `\tbytes Bob ${total((b) => b.bobBytes).toFixed(0)} Alice ${total((b) => b.aliceBytes).toFixed(0)}\theartbeats ${bs.reduce((s, b) => s + b.heartbeats, 0)}`,
  );
}
