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
// keepNames: error classes take their `name` from the class (OtrError, OtrDecodeError...), which minifying
// would otherwise turn into one letter in every message an app shows or logs.
await build({ ...common, outfile: 'dist/otr.browser.js', platform: 'browser', minify: true, keepNames: true });

const sizes = {};
const measure = (label, bytes) => {
  sizes[label] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
for (const f of ['dist/index.js', 'dist/otr.browser.js']) measure(f, readFileSync(f));
for (const f of ['build/otr.wasm', 'build/otr-simd.wasm']) if (existsSync(f)) measure(`${f} (embedded as base64)`, readFileSync(f));

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const [label, s] of Object.entries(sizes)) console.log(`${label}: ${kib(s.raw)} raw, ${kib(s.gzip)} gzip`);
const i = process.argv.indexOf('--json');
if (i > 0 && process.argv[i + 1]) writeFileSync(process.argv[i + 1], `${JSON.stringify(sizes, null, 2)}\n`);
