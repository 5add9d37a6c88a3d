/**
 * The bench CLI: `npm run bench -- [--json FILE] [--filter REGEX] [--quick] [--rounds N]`.
 * Runs every case of every suite in bench/suites with benchmark.js, then prints, per operation, each
 * implementation's speed and its ratio to the others, all measured side by side in this one run. Cases with
 * the same name run one after the other, so their ratio comes from the same stretch of machine load; with
 * `--rounds N` the whole list runs N times and each case reports its median round (a shared, noisy machine
 * skews single rounds; the JSON then also lists every round's µs/op). `--isolate REGEX`: the matching cases run
 * each in a worker thread of its own (bench/case-worker.ts), so their heaps do not hold one another's state.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fmtUs, printTable, type BenchCase, type BenchResult } from './harness.js';
import { benchContext, collectCases, measureRound } from './measure.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const jsonFile = opt('--json');
const filterText = opt('--filter') ?? '.';
const filter = new RegExp(filterText);
const quick = args.includes('--quick');
const rounds = Math.max(1, Number(opt('--rounds') ?? 1) | 0);
/** Cases whose name matches run in a worker thread each (bench/case-worker.ts: a heap of their own). */
const isolate = opt('--isolate') === undefined ? undefined : new RegExp(opt('--isolate')!);

const cases: BenchCase[] = (await collectCases(await benchContext(), filter)).map((c, index) =>
  isolate?.test(c.name) ? isolatedCase(c, index) : c,
);

/** `c` run in its own worker thread: set up there, measured there round by round, torn down there. */
function isolatedCase(c: BenchCase, index: number): BenchCase {
  let worker: Worker | undefined;
  let pending: ((m: { ok: boolean; result?: BenchResult; error?: string }) => void) | undefined;
  const next = () => new Promise<{ ok: boolean; result?: BenchResult; error?: string }>((resolve) => (pending = resolve));
  const ask = async (op?: 'setup' | 'round' | 'teardown') => {
    const answer = next();
    if (op) worker!.postMessage(op);
    const m = await answer;
    if (!m.ok) throw new Error(`isolated ${c.name} [${c.impl}]: ${m.error}`);
    return m.result;
  };
  return {
    name: c.name,
    impl: c.impl,
    fn: () => undefined,
    async setup() {
      worker = new Worker(new URL('./case-worker.js', import.meta.url), { workerData: { filter: filterText, index, name: c.name, impl: c.impl, quick } });
      worker.on('message', (m) => pending?.(m));
      worker.on('error', (e) => pending?.({ ok: false, error: e.stack ?? String(e) }));
      // A worker that ends without an 'error' event (process.exit in a suite, a crash) must not leave the run waiting.
      worker.on('exit', (code) => pending?.({ ok: false, error: `the worker exited (code ${code})` }));
      await ask(); // the worker has collected its cases
      await ask('setup');
    },
    async measure() {
      const r = (await ask('round'))!;
      return { usPerOp: r.usPerOp, rme: r.rme, samples: r.samples, ...(r.extra ? { extra: r.extra } : {}) };
    },
    async teardown() {
      await ask('teardown');
      await worker!.terminate();
    },
  };
}

const perRound: BenchResult[][] = cases.map(() => []);
for (let round = 0; round < rounds; round++) {
  if (rounds > 1) process.stderr.write(`-- round ${round + 1}/${rounds}\n`);
  for (const [i, c] of cases.entries()) {
    if (round === 0) await c.setup?.();
    const r = await measureRound(c, quick);
    perRound[i]!.push(r);
    process.stderr.write(`${r.name.padEnd(22)} ${r.impl.padEnd(7)} ${fmtUs(r.usPerOp).padStart(12)} µs/op  ±${r.rme.toFixed(1)}%${r.extra ? `  ${JSON.stringify(r.extra)}` : ''}\n`);
    if (round === rounds - 1) await c.teardown?.();
  }
}
/** The median round of each case (by µs/op), with every round's figure when there were several. */
const results: (BenchResult & { roundsUsPerOp?: number[] })[] = perRound.map((rs) => {
  const sorted = [...rs].sort((a, b) => a.usPerOp - b.usPerOp);
  const med = sorted[(sorted.length - 1) >> 1]!;
  return rs.length > 1 ? { ...med, roundsUsPerOp: rs.map((r) => r.usPerOp) } : med;
});

printTable(results);

if (jsonFile) {
  const out = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', results: results.map(({ rme, samples, ...r }) => ({ ...r, rme, samples })) };
  writeFileSync(jsonFile, JSON.stringify(out, null, 2));
  console.log(`\nwrote ${jsonFile}`);
}
