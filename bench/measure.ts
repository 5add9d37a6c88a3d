/**
 * What the bench CLI does with one case, written once for the CLI's own thread and for a case isolated in a
 * worker thread (bench/case-worker.ts): collect the suites' cases, and measure one round of one case.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Benchmark from 'benchmark';
import { loadBackend } from '../ts/backend/select.js';
import type { BenchCase, BenchContext, BenchResult, SuiteModule } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The backends every suite is handed. */
export async function benchContext(): Promise<BenchContext> {
  return { wasm: await loadBackend('wasm'), js: await loadBackend('js'), hybrid: await loadBackend('hybrid') };
}

/** Every case of every suite (in file order) whose name matches `filter`: the same list on every thread. */
export async function collectCases(ctx: BenchContext, filter: RegExp): Promise<BenchCase[]> {
  const cases: BenchCase[] = [];
  for (const f of readdirSync(join(here, 'suites')).filter((f) => f.endsWith('.js')).sort()) {
    const mod = (await import(pathToFileURL(join(here, 'suites', f)).href)) as SuiteModule;
    for (const c of await mod.cases(ctx)) if (filter.test(c.name)) cases.push(c);
  }
  return cases;
}

/** One round of `c` (its set-up already run): its own measurement, or benchmark.js timing `fn`. */
export async function measureRound(c: BenchCase, quick: boolean): Promise<BenchResult> {
  if (c.measure) {
    const m = await c.measure();
    return { name: c.name, impl: c.impl, opsPerSec: 1e6 / m.usPerOp, usPerOp: m.usPerOp, rme: m.rme, samples: m.samples, ...(m.extra ? { extra: m.extra } : {}) };
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
  return { name: c.name, impl: c.impl, opsPerSec: b.hz, usPerOp: 1e6 / b.hz, rme: b.stats.rme, samples: b.stats.sample.length };
}
