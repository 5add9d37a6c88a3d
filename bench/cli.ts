/**
 * The bench CLI: `npm run bench -- [--json FILE] [--filter REGEX] [--quick]`.
 * Runs every case of every suite in bench/suites with benchmark.js, then prints, per operation, each
 * implementation's speed and its ratio to the others, all measured side by side in this one run.
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

const here = dirname(fileURLToPath(import.meta.url));
const ctx = { wasm: await loadBackend('wasm'), js: await loadBackend('js') };

const cases: BenchCase[] = [];
for (const f of readdirSync(join(here, 'suites')).filter((f) => f.endsWith('.js')).sort()) {
  const mod = (await import(pathToFileURL(join(here, 'suites', f)).href)) as SuiteModule;
  for (const c of await mod.cases(ctx)) if (filter.test(c.name)) cases.push(c);
}

const results: BenchResult[] = [];
for (const c of cases) {
  await c.setup?.();
  if (c.measure) {
    const m = await c.measure();
    const r: BenchResult = { name: c.name, impl: c.impl, opsPerSec: 1e6 / m.usPerOp, usPerOp: m.usPerOp, rme: m.rme, samples: m.samples, ...(m.extra ? { extra: m.extra } : {}) };
    results.push(r);
    process.stderr.write(`${r.name.padEnd(22)} ${r.impl.padEnd(7)} ${fmtUs(r.usPerOp).padStart(12)} µs/op  ±${r.rme.toFixed(1)}%${m.extra ? `  ${JSON.stringify(m.extra)}` : ''}\n`);
    continue;
  }
  c.fn(); // warm up once and fail fast on a broken case
  const b = new Benchmark(`${c.name} [${c.impl}]`, c.fn, { minSamples: quick ? 5 : 20, maxTime: quick ? 0.5 : 2 });
  b.run();
  const r: BenchResult = {
    name: c.name,
    impl: c.impl,
    opsPerSec: b.hz,
    usPerOp: 1e6 / b.hz,
    rme: b.stats.rme,
    samples: b.stats.sample.length,
  };
  results.push(r);
  process.stderr.write(`${r.name.padEnd(22)} ${r.impl.padEnd(7)} ${fmtUs(r.usPerOp).padStart(12)} µs/op  ±${r.rme.toFixed(1)}%\n`);
}

printTable(results);

if (jsonFile) {
  const out = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', results: results.map(({ rme, samples, ...r }) => ({ ...r, rme, samples })) };
  writeFileSync(jsonFile, JSON.stringify(out, null, 2));
  console.log(`\nwrote ${jsonFile}`);
}
