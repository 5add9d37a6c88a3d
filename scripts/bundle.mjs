// Bundles the compiled library (build/ts) with esbuild:
//   dist/index.node.js     ESM for Node (the package's "node" export condition): the hybrid backend, which
//                          hands MODP exponentiation and large ChaCha20 inputs to node:crypto (OpenSSL)
//   dist/index.js          ESM for apps' own bundlers and other runtimes (the "import" condition): no
//                          node:crypto anywhere, the hybrid backend replaced by its stub
//   dist/store*.js         the record stores' entry points (otr4/store, otr4/store/sqlite, /postgres, /indexeddb);
//                          better-sqlite3 and pg stay imports that only the sqlite/postgres entries make;
//   dist/store.node.js     otr4/store for Node (its "node" export condition): the same, sealing records with
//                          OpenSSL through node:crypto ('#seal-aead', as '#hybrid' below) where dist/store.js
//                          seals with @noble/ciphers;
//                          build/bundle-meta.json records every output's imports so a test can check that
//                          nothing else reaches them
//   dist/errors.js         the error classes, imported by all of the above, so `instanceof OtrError` (and
//                          OtrStoreConflictError...) holds whichever entry an app took a class from
//   dist/otr.browser.js    one self-contained, minified ESM file for a plain <script type="module"> (everything
//                          inlined: @noble/*, and the WASM, which scripts/build-wasm.mjs embeds as base64)
// In the first two, @noble/* stay dependencies so an app that already has them does not ship them twice.
// The WASM needs no loader or asset plumbing in any build. Prints raw and gzip sizes of each output and of
// the embedded WASM (`--json FILE` also writes them), so size changes show up in review; and fails if
// 'node:crypto' appears in a bundle meant for browsers.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { resolve } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

// ts/backend/select.ts loads the hybrid backend with `import('#hybrid')`, which package.json "imports" maps
// to ts/backend/hybrid/index.ts under the "node" condition and to ./unavailable.ts (same exports, no
// node:crypto) otherwise: esbuild's node platform takes the first, the neutral and browser ones the second,
// and so does any bundler that compiles build/ts itself for a browser.
const common = { entryPoints: ['build/ts/index.js'], bundle: true, format: 'esm', target: 'es2022', legalComments: 'none', logLevel: 'warning' };
/** Every import of errors.js in the library becomes an import of the one shared dist/errors.js. */
const sharedErrors = {
  name: 'shared-errors',
  setup(b) {
    b.onResolve({ filter: /\/errors\.js$/ }, (a) => (a.kind === 'entry-point' ? undefined : { path: './errors.js', external: true }));
  },
};
const shared = { ...common, external: ['@noble/*'], plugins: [sharedErrors], sourcemap: true, metafile: true };
await build({ ...shared, entryPoints: ['build/ts/errors.js'], outfile: 'dist/errors.js', platform: 'neutral' });
const coreNode = await build({ ...shared, outfile: 'dist/index.node.js', platform: 'node' });
const core = await build({ ...shared, outfile: 'dist/index.js', platform: 'neutral' });
const storeEntries = {
  store: 'build/ts/store/index.js',
  'store-sqlite': 'build/ts/store/sqlite.js',
  'store-postgres': 'build/ts/store/postgres.js',
  'store-indexeddb': 'build/ts/store/indexeddb.js',
};
const stores = await build({ ...shared, entryPoints: storeEntries, outdir: 'dist', platform: 'neutral', external: ['@noble/*', 'better-sqlite3', 'pg', 'node:*'] });
const storeNode = await build({ ...shared, entryPoints: ['build/ts/store/index.js'], outfile: 'dist/store.node.js', platform: 'node' });
writeFileSync('build/bundle-meta.json', JSON.stringify({ outputs: { ...coreNode.metafile.outputs, ...core.metafile.outputs, ...stores.metafile.outputs, ...storeNode.metafile.outputs } }));
// otr4/pool (Node only): dist/pool/index.js and the worker it starts, dist/pool/worker.js (found next to it by
// import.meta.url). Both import the core as '../index.node.js' (the Node build, with the hybrid backend), kept
// external, so the pool, its workers and the app share one core and its error classes.
// Only the core's errors.js (build/ts/errors.js) is the shared one: the pool's own errors.js (OtrPoolError) is
// bundled. (Matching every "…/errors.js" made the pool import OtrPoolError from dist/errors.js, which has none:
// dist/pool/index.js could not be imported at all until session 10.)
const coreErrors = resolve('build/ts/errors.js');
const coreExternal = {
  name: 'core-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: '../index.node.js', external: true }));
    b.onResolve({ filter: /\/errors\.js$/ }, (a) => (resolve(a.resolveDir, a.path) === coreErrors ? { path: '../errors.js', external: true } : undefined));
  },
};
await build({ ...common, entryPoints: ['build/ts/pool/index.js', 'build/ts/pool/worker.js'], outfile: undefined, outdir: 'dist/pool', platform: 'node', plugins: [coreExternal], sourcemap: true });
// keepNames: error classes take their `name` from the class (OtrError, OtrDecodeError...), which minifying
// would otherwise turn into one letter in every message an app shows or logs.
await build({ ...common, outfile: 'dist/otr.browser.js', platform: 'browser', minify: true, keepNames: true });

for (const f of ['dist/index.js', 'dist/otr.browser.js', 'dist/store.js', 'dist/store-indexeddb.js']) {
  if (readFileSync(f, 'utf8').includes('node:crypto')) throw new Error(`${f} must not reference node:crypto`);
}

const sizes = {};
const measure = (label, bytes) => {
  sizes[label] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
for (const f of ['dist/errors.js', 'dist/index.node.js', 'dist/index.js', 'dist/otr.browser.js', ...Object.keys(storeEntries).map((e) => `dist/${e}.js`), 'dist/store.node.js', 'dist/pool/index.js', 'dist/pool/worker.js']) measure(f, readFileSync(f));
for (const f of ['build/otr.wasm', 'build/otr-simd.wasm']) if (existsSync(f)) measure(`${f} (embedded as base64)`, readFileSync(f));

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const [label, s] of Object.entries(sizes)) console.log(`${label}: ${kib(s.raw)} raw, ${kib(s.gzip)} gzip`);
const i = process.argv.indexOf('--json');
if (i > 0 && process.argv[i + 1]) writeFileSync(process.argv[i + 1], `${JSON.stringify(sizes, null, 2)}\n`);
