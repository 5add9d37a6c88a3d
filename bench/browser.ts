/**
 * The bench suites in a real browser: `node build/bench/browser.js [--filter REGEX] [--quick] [--json FILE]`.
 * Bundles every suite in bench/suites with benchmark.js into one page, runs it in headless Chromium (the same
 * launcher as the browser tests), and prints the same per-operation table as bench/cli.ts, so WASM vs JS
 * ratios can be compared with Node's. `native` cases (node:crypto) have no browser counterpart and are left out;
 * `noble` cases run as they are. Suites built on Node-only modules are left out whole (NODE_ONLY_SUITES).
 */
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import type { Page } from 'playwright-core';
import { ROOT, assertChromium, launch, openAndWait, startServer } from '../test/browser/harness.js';
import { fmtUs, printTable, type BenchResult, type Impl } from './harness.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const filter = opt('--filter') ?? '.';
const quick = args.includes('--quick');
const jsonFile = opt('--json');

const OUT = join(ROOT, 'build', 'browser');
const SUITES = join(ROOT, 'build', 'bench', 'suites');

/**
 * Suites that cannot be bundled for a page, with the reason. offline.ts runs its prekey server and client in
 * worker threads over loopback TCP; esbuild cannot bundle node:worker_threads and node:net for the browser, and
 * stubbing them would only hide its fetch case behind a dead stand-in. Its dake.noninteractive case is measured
 * in Node (`npm run bench -- --filter noninteractive`).
 */
const NODE_ONLY_SUITES: Record<string, string> = {
  'offline.js': 'worker threads and a TCP prekey server (node:worker_threads, node:net)',
  'bridge.js': 'the SQLite and PostgreSQL record stores (better-sqlite3, pg, a PostgreSQL server process)',
  'pool.js': 'the worker pool (node:worker_threads)',
};

/**
 * Some suites build their node:crypto comparison objects while setting up (`native` cases). In the page those
 * calls hit this stand-in: an inert value that absorbs any call or property access, so setup completes; the
 * cases that would use it are never run (the page drops every `native` case before running anything).
 */
const nodeOnly: Plugin = {
  name: 'node-only',
  setup(b) {
    b.onResolve({ filter: /^node:crypto$/ }, () => ({ path: 'node:crypto', namespace: 'node-only' }));
    // benchmark.js finds lodash and platform through a private require() that bundlers cannot see; in a page
    // it falls back to the globals `_` and `platform`, which this module (imported first) sets.
    b.onResolve({ filter: /^bench-globals$/ }, () => ({ path: 'bench-globals', namespace: 'bench-globals' }));
    b.onLoad({ filter: /.*/, namespace: 'bench-globals' }, () => ({
      contents: `import _ from 'lodash'; import platform from 'platform'; globalThis._ = _; globalThis.platform = platform;`,
      resolveDir: join(ROOT, 'node_modules', 'benchmark'),
      loader: 'js',
    }));
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, () => ({
      contents: `
        export const inert = new Proxy(function () {}, { get: (_, k) => (k === Symbol.toPrimitive ? () => 0 : inert), apply: () => inert, construct: () => inert });
        export const createCipheriv = inert, createHash = inert, createHmac = inert, createDiffieHellman = inert, createPrivateKey = inert,
          createPublicKey = inert, diffieHellman = inert, generateKeyPairSync = inert, sign = inert, verify = inert;`,
      loader: 'js',
    }));
  },
};

/** The page bundle: every compiled suite, both backends, benchmark.js, and a small driver on `window`. */
async function buildPage(): Promise<void> {
  const suites = readdirSync(SUITES)
    .filter((f) => f.endsWith('.js') && !(f in NODE_ONLY_SUITES))
    .sort();
  for (const [f, why] of Object.entries(NODE_ONLY_SUITES)) process.stderr.write(`left out (Node only): ${f.replace(/\.js$/, '')}: ${why}\n`);
  const imports = suites.map((f, i) => `import * as s${i} from ${JSON.stringify(join(SUITES, f))};`).join('\n');
  const contents = `
    import 'bench-globals';
    ${imports}
    import Benchmark from 'benchmark';
    import { loadBackend } from ${JSON.stringify(join(ROOT, 'build', 'ts', 'backend', 'select.js'))};
    const suites = [${suites.map((_, i) => `s${i}`).join(', ')}];
    // Node's Buffer appears only in that same native setup code: it gets the inert stand-in too.
    import { inert } from 'node:crypto';
    globalThis.__nodeOnlyBuffer = inert;
    let cases = [];
    window.bench = {
      async load(filter) {
        const ctx = { wasm: await loadBackend('wasm'), js: await loadBackend('js') };
        const re = new RegExp(filter);
        cases = [];
        for (const s of suites) for (const c of await s.cases(ctx)) if (c.impl !== 'native' && !c.setup && re.test(c.name)) cases.push(c);
        return { cases: cases.map((c) => ({ name: c.name, impl: c.impl })), simd: ctx.wasm.wasm?.simd ?? false };
      },
      run(i, quick) {
        const c = cases[i];
        c.fn();
        const b = new Benchmark(c.name + ' [' + c.impl + ']', c.fn, { minSamples: quick ? 5 : 20, maxTime: quick ? 0.5 : 2 });
        b.run();
        if (b.error) throw b.error;
        return { name: c.name, impl: c.impl, opsPerSec: b.hz, usPerOp: 1e6 / b.hz, rme: b.stats.rme, samples: b.stats.sample.length };
      },
    };
  `;
  mkdirSync(OUT, { recursive: true });
  await build({
    stdin: { contents, resolveDir: join(ROOT, 'bench'), sourcefile: 'bench-page.js', loader: 'js' },
    outfile: join(OUT, 'bench.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    plugins: [nodeOnly],
    define: { Buffer: 'globalThis.__nodeOnlyBuffer', 'process.env.OTR_CASES': 'undefined' },
    logLevel: 'warning',
  });
  writeFileSync(
    join(OUT, 'bench.html'),
    '<!doctype html><meta charset="utf-8"><title>otr4 benchmarks</title><script type="module">' +
      "import('./bench.js').then(() => { window.benchReady = true; });</script>",
  );
}

async function main(): Promise<void> {
  assertChromium(); // before anything is built or served: a missing Chromium is named at once
  await buildPage();
  const server = await startServer();
  const browser = await launch({ wasm: true });
  try {
    const { page } = await openAndWait<boolean>(browser, `${server.url}/build/browser/bench.html`, 'benchReady');
    const ua = await page.evaluate(() => navigator.userAgent);
    const listed = await page.evaluate((f) => (globalThis as unknown as { bench: { load(f: string): Promise<{ cases: { name: string; impl: Impl }[]; simd: boolean }> } }).bench.load(f), filter);
    process.stderr.write(`${ua}\nWASM SIMD module: ${listed.simd ? 'loaded' : 'not available'}; ${listed.cases.length} cases\n`);
    const results: BenchResult[] = [];
    for (let i = 0; i < listed.cases.length; i++) {
      const r = await runOne(page, i);
      results.push(r);
      process.stderr.write(`${r.name.padEnd(22)} ${r.impl.padEnd(7)} ${fmtUs(r.usPerOp).padStart(12)} µs/op  ±${r.rme.toFixed(1)}%\n`);
    }
    printTable(results);
    if (jsonFile) {
      writeFileSync(jsonFile, JSON.stringify({ browser: ua, simd: listed.simd, results }, null, 2));
      console.log(`\nwrote ${jsonFile}`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

function runOne(page: Page, i: number): Promise<BenchResult> {
  return page.evaluate(([i, q]) => (globalThis as unknown as { bench: { run(i: number, q: boolean): BenchResult } }).bench.run(i, q), [i, quick] as [number, boolean]);
}

await main();
