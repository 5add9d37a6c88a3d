// Bundles the compiled library (build/ts) with esbuild:
//   dist/index.js          ESM for Node and for apps' own bundlers (the package's "exports"); @noble/* stay
//                          dependencies so an app that already has them does not ship them twice
//   dist/store*.js         the record stores' entry points (otr4/store, otr4/store/sqlite, /postgres, /indexeddb).
//                          They take the error classes from ./index.js (so `instanceof OtrStoreConflictError`
//                          holds whichever entry an app imported it from) and leave better-sqlite3 and pg as
//                          imports that only the sqlite/postgres entries make; build/bundle-meta.json records
//                          every output's imports so a test can check that nothing else reaches them
//   dist/otr.browser.js    one self-contained, minified ESM file for a plain <script type="module"> (everything
//                          inlined: @noble/*, and the WASM, which scripts/build-wasm.mjs embeds as base64)
// The WASM needs no loader or asset plumbing in either build. Prints raw and gzip sizes of each output and of
// the embedded WASM (`--json FILE` also writes them), so size changes show up in review.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const common = { entryPoints: ['build/ts/index.js'], bundle: true, format: 'esm', target: 'es2022', legalComments: 'none', logLevel: 'warning' };
const core = await build({ ...common, outfile: 'dist/index.js', platform: 'neutral', external: ['@noble/*'], sourcemap: true, metafile: true });
const storeEntries = {
  store: 'build/ts/store/index.js',
  'store-sqlite': 'build/ts/store/sqlite.js',
  'store-postgres': 'build/ts/store/postgres.js',
  'store-indexeddb': 'build/ts/store/indexeddb.js',
};
/** Every import of errors.js inside the store bundles becomes an import of the core entry, sitting beside them. */
const errorsFromCore = {
  name: 'errors-from-core',
  setup(b) {
    b.onResolve({ filter: /\/errors\.js$/ }, () => ({ path: './index.js', external: true }));
  },
};
const stores = await build({
  ...common,
  entryPoints: storeEntries,
  outdir: 'dist',
  platform: 'neutral',
  external: ['@noble/*', 'better-sqlite3', 'pg', 'node:*'],
  plugins: [errorsFromCore],
  sourcemap: true,
  metafile: true,
});
writeFileSync('build/bundle-meta.json', JSON.stringify({ outputs: { ...core.metafile.outputs, ...stores.metafile.outputs } }));
// keepNames: error classes take their `name` from the class (OtrError, OtrDecodeError...), which minifying
// would otherwise turn into one letter in every message an app shows or logs.
await build({ ...common, outfile: 'dist/otr.browser.js', platform: 'browser', minify: true, keepNames: true });

const sizes = {};
const measure = (label, bytes) => {
  sizes[label] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
for (const f of ['dist/index.js', 'dist/otr.browser.js', ...Object.keys(storeEntries).map((e) => `dist/${e}.js`)]) measure(f, readFileSync(f));
for (const f of ['build/otr.wasm', 'build/otr-simd.wasm']) if (existsSync(f)) measure(`${f} (embedded as base64)`, readFileSync(f));

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const [label, s] of Object.entries(sizes)) console.log(`${label}: ${kib(s.raw)} raw, ${kib(s.gzip)} gzip`);
const i = process.argv.indexOf('--json');
if (i > 0 && process.argv[i + 1]) writeFileSync(process.argv[i + 1], `${JSON.stringify(sizes, null, 2)}\n`);
