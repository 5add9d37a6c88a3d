/**
 * The bench CLI: `npm run bench -- [--json FILE] [--filter REGEX] [--quick] [--rounds N]`.
 * Runs every case of every suite in bench/suites with benchmark.js, then prints, per operation, each
 * implementation's speed and its ratio to the others, all measured side by side in this one run. Cases with
 * the same name run one after the other, so their ratio comes from the same stretch of machine load; with
 * `--rounds N` the whole list runs N times and each case reports its median round (a shared, noisy machine
 * skews single rounds; the JSON then also lists every round's µs/op).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Benchmark from 'benchmark';
import { loadBackend } from '../ts/backend/select.js';
import { fmtUs, printTable, type BenchCase, type BenchResult, type SuiteModule } from './harness.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const jsonFile = opt('--json');
const filter = new RegExp(opt('--filter') ?? '.');
const quick = args.includes('--quick');
const rounds = Math.max(1, Number(opt('--rounds') ?? 1) | 0);

const here = dirname(fileURLToPath(import.meta.url));
const ctx = { wasm: await loadBackend('wasm'), js: await loadBackend('js'), hybrid: await loadBackend('hybrid') };

const cases: BenchCase[] = [];
for (const f of readdirSync(join(here, 'suites')).filter((f) => f.endsWith('.js')).sort()) {
  const mod = (await import(pathToFileURL(join(here, 'suites', f)).href)) as SuiteModule;
  for (const c of await mod.cases(ctx)) if (filter.test(c.name)) cases.push(c);
}

const perRound: BenchResult[][] = cases.map(() => []);
for (let round = 0; round < rounds; round++) {
  if (rounds > 1) process.stderr.write(`-- round ${round + 1}/${rounds}\n`);
  for (const [i, c] of cases.entries()) {
    if (round === 0) await c.setup?.();
    if (c.measure) {
      const m = await c.measure();
      const r: BenchResult = { name: c.name, impl: c.impl, opsPerSec: 1e6 / m.usPerOp, usPerOp: m.usPerOp, rme: m.rme, samples: m.samples, ...(m.extra ? { extra: m.extra } : {}) };
      perRound[i]!.push(r);
      process.stderr.write(`${r.name.padEnd(22)} ${r.impl.padEnd(7)} ${fmtUs(r.usPerOp).padStart(12)} µs/op  ±${r.rme.toFixed(1)}%${m.extra ? `  ${JSON.stringify(m.extra)}` : ''}\n`);
      if (round === rounds - 1) await c.teardown?.();
      continue;
    }
    await c.fn(); // warm up once and fail fast on a broken case
    const timing = { minSamples: quick ? 5 : 20, maxTime: quick ? 0.5 : 2 };
    const b = c.deferred
      ? new Benchmark(`${c.name} [${c.impl}]`, {
          ...timing,
          defer: true,
          fn: (d: { resolve(): void }) => (c.fn() as Promise<unknown>).then(() => d.resolve()),
        })
      : new Benchmark(`${c.name} [${c.impl}]`, c.fn, timing);
    if (c.deferred) await new Promise((done) => b.on('complete', done).run({ async: true }));
    else b.run();
    if (round === rounds - 1) await c.teardown?.();
    const r: BenchResult = {
      name: c.name,
      impl: c.impl,
      opsPerSec: b.hz,
      usPerOp: 1e6 / b.hz,
      rme: b.stats.rme,
      samples: b.stats.sample.length,
    };
    perRound[i]!.push(r);
    process.stderr.write(`${r.name.padEnd(22)} ${r.impl.padEnd(7)} ${fmtUs(r.usPerOp).padStart(12)} µs/op  ±${r.rme.toFixed(1)}%\n`);
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
