// Bundles the compiled library (build/ts) with esbuild:
//   dist/index.js          ESM for Node and for apps' own bundlers (the package's "exports"); @noble/* stay
//                          dependencies so an app that already has them does not ship them twice
//   dist/otr.browser.js    one self-contained, minified ESM file for a plain <script type="module"> (everything
//                          inlined: @noble/*, and the WASM, which scripts/build-wasm.mjs embeds as base64)
// The WASM needs no loader or asset plumbing in either build. Prints raw and gzip sizes of each output and of
// the embedded WASM (`--json FILE` also writes them), so size changes show up in review.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const common = { entryPoints: ['build/ts/index.js'], bundle: true, format: 'esm', target: 'es2022', legalComments: 'none', logLevel: 'warning' };
await build({ ...common, outfile: 'dist/index.js', platform: 'neutral', external: ['@noble/*'], sourcemap: true });
// otr4/pool (Node only): dist/pool/index.js and the worker it starts, dist/pool/worker.js (found next to it by
// import.meta.url). Both import the core as '../index.js', kept external, so the pool, its workers and the app
// share dist/index.js and its error classes (instanceof OtrError holds across the two entry points).
const coreExternal = { name: 'core-external', setup: (b) => b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: '../index.js', external: true })) };
await build({ ...common, entryPoints: ['build/ts/pool/index.js', 'build/ts/pool/worker.js'], outfile: undefined, outdir: 'dist/pool', platform: 'node', plugins: [coreExternal], sourcemap: true });
// keepNames: error classes take their `name` from the class (OtrError, OtrDecodeError...), which minifying
// would otherwise turn into one letter in every message an app shows or logs.
await build({ ...common, outfile: 'dist/otr.browser.js', platform: 'browser', minify: true, keepNames: true });

const sizes = {};
const measure = (label, bytes) => {
  sizes[label] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
for (const f of ['dist/index.js', 'dist/otr.browser.js', 'dist/pool/index.js', 'dist/pool/worker.js']) measure(f, readFileSync(f));
for (const f of ['build/otr.wasm', 'build/otr-simd.wasm']) if (existsSync(f)) measure(`${f} (embedded as base64)`, readFileSync(f));

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const [label, s] of Object.entries(sizes)) console.log(`${label}: ${kib(s.raw)} raw, ${kib(s.gzip)} gzip`);
const i = process.argv.indexOf('--json');
if (i > 0 && process.argv[i + 1]) writeFileSync(process.argv[i + 1], `${JSON.stringify(sizes, null, 2)}\n`);
