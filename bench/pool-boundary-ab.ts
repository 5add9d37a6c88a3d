/**
 * The thread boundary alone, A/B in one process (session 12): what a batch of results costs the main thread
 * to receive — structured-cloned CallResults (sessions 1–11) against the packed batch (ts/pool/result-batch.ts)
 * — and what each costs the worker to send. A worker posts `BATCHES` batches of 8 results shaped like
 * bridge.pool's (alternately a send's Outcome: one ~850-character data message and a changed ~2.2 KB record; and
 * a receive's: one ~90-character message and the record), fresh records each time as the library makes them;
 * the main thread reads every result as the pool does (unpackResults for the packed form) and touches each
 * field. The formats alternate round by round; per round, CPU time of each thread (Linux schedstat).
 *
 *   node build/bench/pool-boundary-ab.js [rounds=12] [batches=2000]
 *
 * Prints min / median over the rounds: µs per result on the main thread and in the worker.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import type { Outcome } from '../ts/session/events.js';
import type { BatchReply, CallResult } from '../ts/pool/protocol.js';
import { packResults, unpackResults } from '../ts/pool/result-batch.js';

const CALLS = 8;
const RECORD = 2200;
const TEXT = 'a bridged message of about the length people type, with a little more to make it realistic.';
const WIRE = '?OTR:AAQD' + 'QUJD'.repeat(210) + '.';

function cpuMs(task: string): number {
  return Number(readFileSync(`/proc/${task}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

function outcome(i: number, gen: number): Outcome {
  const bytes = new Uint8Array(RECORD);
  bytes[0] = i;
  bytes[RECORD - 1] = gen & 0xff;
  const changed = [{ key: `conv:bob${i}@bridge.example`, generation: gen, bytes }];
  return i % 2 === 0
    ? { toSend: [WIRE.slice(0, WIRE.length - (gen % 3))], messages: [], events: [], changed }
    : { toSend: [], messages: [{ text: TEXT, encrypted: true, instance: 0x100 + i, version: 4 }], events: [], changed };
}

if (!isMainThread) {
  const port = parentPort!;
  const self = readlinkSync('/proc/thread-self');
  let gen = 1;
  port.on('message', ({ packed, batches }: { packed: boolean; batches: number }) => {
    const c0 = cpuMs(self);
    for (let b = 0; b < batches; b++) {
      const os = Array.from({ length: CALLS }, (_, i) => outcome(i, gen++));
      if (packed) {
        const { packed: buf, structured } = packResults(new Array<CallResult | undefined>(CALLS).fill(undefined), os);
        for (const o of os) for (const c of o.changed!) c.bytes?.fill(0); // as the worker wipes them
        port.postMessage({ kind: 'result', id: b, results: structured, packed: buf } satisfies BatchReply, [buf]);
      } else {
        const results: CallResult[] = os.map((o) => ({ ok: true, value: o, records: o.changed! }));
        port.postMessage({ kind: 'result', id: b, results } satisfies BatchReply, os.map((o) => o.changed![0]!.bytes!.buffer as ArrayBuffer));
      }
    }
    port.postMessage({ done: cpuMs(self) - c0 });
  });
} else {
  const ROUNDS = Number(process.argv[2] ?? 12);
  const BATCHES = Number(process.argv[3] ?? 2000);
  const main = `${process.pid}/task/${process.pid}`;
  const w = new Worker(new URL(import.meta.url));
  let sink = 0;
  /** Reads a result as the pool and a host would: every field of the Outcome and of its records. */
  const touch = (r: CallResult) => {
    if (!r.ok) return;
    const o = r.value as Outcome;
    for (const t of o.toSend) sink += t.length;
    for (const m of o.messages) sink += m.text.length + m.instance;
    for (const c of o.changed!) sink += c.generation + (c.bytes ? c.bytes[0]! + c.key.length : 0);
  };
  const round = (packed: boolean) =>
    new Promise<[number, number]>((resolve) => {
      const c0 = cpuMs(main);
      w.removeAllListeners('message');
      w.on('message', (m: BatchReply | { done: number }) => {
        if ('done' in m) return resolve([(cpuMs(main) - c0) * 1000 / (BATCHES * CALLS), (m.done * 1000) / (BATCHES * CALLS)]);
        const results = m.packed !== undefined ? unpackResults(m.packed, m.results, CALLS) : (m.results as CallResult[]);
        for (const r of results) touch(r);
      });
      w.postMessage({ packed, batches: BATCHES });
    });
  const rows: Record<'structured' | 'packed', [number, number][]> = { structured: [], packed: [] };
  await round(false); // warm-up, both
  await round(true);
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [false, true] : [true, false];
    for (const packed of order) rows[packed ? 'packed' : 'structured'].push(await round(packed));
  }
  await w.terminate();
  const fmt = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `${s[0]!.toFixed(2)} / ${s[s.length >> 1]!.toFixed(2)}`;
  };
  console.log(`${ROUNDS} rounds of ${BATCHES} batches × ${CALLS} results; µs per result, min / median (sink ${sink % 7})`);
  for (const k of ['structured', 'packed'] as const) console.log(`${k}\tmain ${fmt(rows[k].map((x) => x[0]))}\tworker ${fmt(rows[k].map((x) => x[1]))}`);
}
