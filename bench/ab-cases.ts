/**
 * The bench cases of one build, for the A/B scripts that load two builds in one process (suite-ab.ts,
 * bridge-ab.ts): collected by that build's own suites and backends, keyed `name [impl]`, those `keep` accepts.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchCase, BenchContext } from './harness.js';

interface Measure {
  benchContext(): Promise<BenchContext>;
  collectCases(ctx: BenchContext, filter: RegExp): Promise<BenchCase[]>;
}

export async function casesOfBuild(dir: string, filter: RegExp, keep: (c: BenchCase) => boolean): Promise<Map<string, BenchCase>> {
  const m = (await import(pathToFileURL(join(dir, 'build/bench/measure.js')).href)) as Measure;
  const out = new Map<string, BenchCase>();
  for (const c of await m.collectCases(await m.benchContext(), filter)) if (keep(c)) out.set(`${c.name} [${c.impl}]`, c);
  return out;
}
