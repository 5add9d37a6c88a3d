/**
 * Bytes allocated per call on the per-message path (session 11): what a pool worker — and any in-process user —
 * leaves for the garbage collector per data message. Two accounts in this process with one established
 * conversation (a DAKE), then `calls` rounds of: Alice sends 100 bytes (`send`), Bob receives it (`receive`),
 * and every 10th round Bob answers and Alice receives (`reply`: a change of direction, ratchet steps), as in
 * bridge.pool's op. Each call's Outcome carries its encoded records (`changed`), so "commit" here is the
 * record encoding the call does; nothing is stored.
 *
 * Measured exactly, not sampled: with a young generation large enough for the whole run (the flags below) no
 * collection happens between two readings, so the growth of V8's used heap across a call is what the call
 * allocated on the JS heap; ArrayBuffer backing stores (off that heap: Buffer slabs, typed arrays' stores) are
 * read from process.memoryUsage().arrayBuffers. The readings' own cost is measured with no call between them and
 * subtracted. A run where a collection happened anyway is refused.
 *
 *   node --expose-gc --min-semi-space-size=128 --max-semi-space-size=128 build/bench/alloc.js [calls=1000] [backend=wasm] [--profile]
 *
 * --profile adds a sampling heap profile (node:inspector, every 256 bytes, collected objects kept) of the same
 * calls and prints the functions that allocate the most, per call.
 */
import { Session as Inspector } from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { loadBackend } from '../ts/backend/select.js';
import type { BackendName } from '../ts/backend/types.js';
import { Account } from '../ts/session/account.js';
import type { Conversation } from '../ts/session/conversation.js';
import { completeDake } from './session-pair.js';

const CALLS = Number(process.argv[2] ?? 1000);
const BACKEND = (process.argv[3] ?? 'wasm') as BackendName;
const PROFILE = process.argv.includes('--profile');
const TEXT = 'a bridged message of about the length people type, with a little more to make it realistic.';
const NOW = 1_750_000_000_000;
const REPLY_EVERY = 10;
/** Callers named per allocating function in the profile (OTR_ALLOC_DEPTH, default 1). */
const DEPTH = Number(process.env.OTR_ALLOC_DEPTH ?? 1);

async function session(): Promise<[Conversation, Conversation]> {
  const backend = await loadBackend(BACKEND);
  const common = { backend, clock: () => NOW, dsaKey: null };
  const ca = Account.create({ accountId: 'alice@alloc.example', ...common }).conversation('bob@alloc.example');
  const cb = Account.create({ accountId: 'bob@alloc.example', ...common }).conversation('alice@alloc.example');
  completeDake(ca, cb, 'alloc');
  return [ca, cb];
}

type Phase = 'send' | 'receive' | 'reply';
const heap = () => getHeapStatistics().used_heap_size;
const buffers = () => process.memoryUsage().arrayBuffers;

async function main(): Promise<void> {
  const [a, b] = await session();
  const one = (i: number, f: (p: Phase, run: () => void) => void) => {
    let text = '';
    f('send', () => (text = a.send(TEXT).toSend[0]!));
    f('receive', () => {
      if (b.receive(text).messages.length !== 1) throw new Error('alloc: not received');
    });
    if (i % REPLY_EVERY === 0)
      f('reply', () => {
        for (const t of b.send(TEXT).toSend) if (a.receive(t).messages.length !== 1) throw new Error('alloc: reply not received');
      });
  };
  for (let i = 0; i < 3000; i++) one(i, (_, run) => run()); // warm-up: JIT, inline caches, lazy state
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('alloc: run with --expose-gc');

  // The readings' own allocation (the statistics object), measured with nothing between two of them.
  gc();
  let empty = 0;
  for (let i = 0; i < 200; i++) {
    const h0 = heap();
    empty += heap() - h0;
  }
  const overhead = empty / 200;

  let collections = 0;
  const obs = new PerformanceObserver((l) => (collections += l.getEntries().length));
  obs.observe({ entryTypes: ['gc'] });
  await new Promise((r) => setTimeout(r, 10));
  gc();
  await new Promise((r) => setTimeout(r, 10));
  collections = 0;
  const js: Record<Phase, number> = { send: 0, receive: 0, reply: 0 };
  const n: Record<Phase, number> = { send: 0, receive: 0, reply: 0 };
  const ab0 = buffers();
  for (let i = 0; i < CALLS; i++)
    one(i, (p, run) => {
      const h0 = heap();
      run();
      js[p] += heap() - h0 - overhead;
      n[p]++;
    });
  const ab = buffers() - ab0;
  await new Promise((r) => setTimeout(r, 10));
  obs.disconnect();
  if (collections > 0) throw new Error(`alloc: ${collections} collections during the run: give a larger --min-semi-space-size or fewer calls`);
  const rounds = n.send;
  const total = js.send + js.receive + js.reply;
  const row = (p: Phase) => `${p.padEnd(8)} ${(js[p] / n[p]).toFixed(0).padStart(7)} B per call (${n[p]} calls)`;
  console.log(`backend ${BACKEND}, ${rounds} rounds, JS heap allocated:`);
  for (const p of ['send', 'receive', 'reply'] as const) console.log(row(p));
  console.log(`per round (send + receive + a tenth of a reply): ${(total / rounds).toFixed(0)} B JS heap, ${(ab / rounds).toFixed(0)} B of ArrayBuffer stores still held (Buffer slabs are allocated in 8 KiB pieces)`);

  if (PROFILE) await profile(one);
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** The same calls under a sampling heap profile: bytes per round by allocating function. */
async function profile(one: (i: number, f: (p: Phase, run: () => void) => void) => void): Promise<void> {
  const s = new Inspector();
  s.connect();
  const post = (m: string, p: object = {}) => new Promise<unknown>((res, rej) => s.post(m, p, (e, r) => (e ? rej(e) : res(r))));
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  for (let i = 0; i < CALLS; i++) one(i, (_, run) => run());
  const { profile: p } = (await post('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } };
  const by = new Map<string, number>();
  const walk = (node: HeapNode, stack: string[]) => {
    const f = node.callFrame;
    const here = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/build\//, '')}:${f.lineNumber + 1}`;
    if (node.selfSize) {
      // Attributed to the function and its caller: a Buffer slice says little without who asked for it.
      const key = `${here}  ← ${stack.slice(-DEPTH).reverse().join(" ← ")}`;
      by.set(key, (by.get(key) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c, [...stack, here]);
  };
  walk(p.head, []);
  const total = [...by.values()].reduce((x, y) => x + y, 0);
  console.log(`\nsampled: ${(total / CALLS).toFixed(0)} B per round; top allocators (B per round):`);
  for (const [k, v] of [...by].sort((x, y) => y[1] - x[1]).slice(0, 40)) console.log(`${(v / CALLS).toFixed(0).padStart(6)}  ${k}`);
}

await main();
